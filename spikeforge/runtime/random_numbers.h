// Random numbers for generated code: xoshiro256** (Blackman & Vigna 2018).
// The generator state is four 64-bit words owned by the network (a NumPy array), so a run
// continues the stream of the previous run and `seed()` makes results reproducible.
#ifndef SPIKEFORGE_RANDOM_NUMBERS_H
#define SPIKEFORGE_RANDOM_NUMBERS_H

#include <stdint.h>
#include <math.h>

static inline uint64_t spikeforge_rotl(const uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t spikeforge_next(uint64_t *s) {
    const uint64_t result = spikeforge_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = spikeforge_rotl(s[3], 45);
    return result;
}

// Uniform in [0, 1) with 53 random bits.
static inline double spikeforge_rand(uint64_t *s) {
    return (double)(spikeforge_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal by the Box-Muller transform (no cached second value, so the stream position
// depends only on the number of calls).
static inline double spikeforge_randn(uint64_t *s) {
    const double u1 = 1.0 - spikeforge_rand(s);  // in (0, 1]: log is finite
    const double u2 = spikeforge_rand(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
