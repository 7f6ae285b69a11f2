// Random numbers for generated code: the counter-based generator Philox4x64-10 (Salmon, Moraes,
// Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), with uniform, normal and
// binomial draws.
//
// A draw is a function of its key and counter, not of the draws before it: the key is
// (seed, epoch), two 64-bit words owned by the network (a NumPy array; the epoch counts the runs
// and one-off calls since seed()), and the counter names the role, the step, the element and the
// draw.  Every element of every role at every step has a stream of its own, so no number depends
// on which thread drew it or on the order the elements were visited: results are the same for
// any number of threads.
#ifndef SPIKEFORGE_RANDOM_NUMBERS_H
#define SPIKEFORGE_RANDOM_NUMBERS_H

#include <stdint.h>
#include <math.h>
#include <string.h>

// The rounds' multipliers and the key schedule's increments of Philox4x64 (from the paper).
#define SPIKEFORGE_PHILOX_M0 UINT64_C(0xD2E7470EE14C6C93)
#define SPIKEFORGE_PHILOX_M1 UINT64_C(0xCA5A826395121157)
#define SPIKEFORGE_PHILOX_W0 UINT64_C(0x9E3779B97F4A7C15)
#define SPIKEFORGE_PHILOX_W1 UINT64_C(0xBB67AE8584CAA73B)

static inline uint64_t spikeforge_mulhilo(uint64_t a, uint64_t b, uint64_t *high) {
    const unsigned __int128 product = (unsigned __int128)a * b;
    *high = (uint64_t)(product >> 64);
    return (uint64_t)product;
}

// The 4 x 64 random bits of `counter` under `key` (ten rounds).
static inline void spikeforge_philox4x64(const uint64_t counter[4], const uint64_t key[2],
                                         uint64_t out[4]) {
    uint64_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint64_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
        uint64_t high0, high1;
        const uint64_t low0 = spikeforge_mulhilo(SPIKEFORGE_PHILOX_M0, c0, &high0);
        const uint64_t low1 = spikeforge_mulhilo(SPIKEFORGE_PHILOX_M1, c2, &high1);
        c0 = high1 ^ c1 ^ k0;
        c1 = low1;
        c2 = high0 ^ c3 ^ k1;
        c3 = low0;
        k0 += SPIKEFORGE_PHILOX_W0;
        k1 += SPIKEFORGE_PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

// The numbers of one role at one step.  Element e's stream is:
//   - its first two numbers: word (e mod 4) of the blocks (d, e div 4, step, role), d = 0, 1,
//     shared by four neighbouring elements and computed once for them (`shared` keeps the
//     last group's blocks): a role that draws one or two numbers per element costs a quarter
//     of a block each;
//   - the rest: the words of blocks of its own, (n, e + 2^63, step, role), n = 0, 1, ...
// Element numbers are below 2^62; SPIKEFORGE_SCALAR_ELEMENT is the one of the draws a role makes
// once per step, outside its element loop.  Each thread keeps a cache of its own.
#define SPIKEFORGE_SCALAR_ELEMENT ((UINT64_C(1) << 62) - 1)
#define SPIKEFORGE_SHARED_DRAWS 2

typedef struct {
    uint64_t key[2];
    uint64_t role;
    uint64_t step;
    uint64_t group[SPIKEFORGE_SHARED_DRAWS];  // whose blocks `shared` holds (UINT64_MAX: none)
    uint64_t shared[SPIKEFORGE_SHARED_DRAWS][4];
} spikeforge_random_cache;

typedef struct {
    spikeforge_random_cache *cache;
    uint64_t element;
    uint64_t drawn;     // numbers drawn so far
    uint64_t block[4];  // the element's own block of the numbers being drawn
} spikeforge_stream;

static inline spikeforge_random_cache spikeforge_random_cache_for(const uint64_t *random_key,
                                                                  uint64_t role, uint64_t step) {
    spikeforge_random_cache c;
    c.key[0] = random_key[0];
    c.key[1] = random_key[1];
    c.role = role;
    c.step = step;
    for (int d = 0; d < SPIKEFORGE_SHARED_DRAWS; ++d) {
        c.group[d] = UINT64_MAX;
    }
    return c;
}

static inline spikeforge_stream spikeforge_stream_for(spikeforge_random_cache *cache,
                                                      uint64_t element) {
    spikeforge_stream s;
    s.cache = cache;
    s.element = element;
    s.drawn = 0;
    return s;
}

static inline uint64_t spikeforge_next(spikeforge_stream *s) {
    spikeforge_random_cache *c = s->cache;
    const uint64_t d = s->drawn++;
    if (d < SPIKEFORGE_SHARED_DRAWS) {
        const uint64_t group = s->element >> 2;
        if (c->group[d] != group) {
            const uint64_t counter[4] = {d, group, c->step, c->role};
            spikeforge_philox4x64(counter, c->key, c->shared[d]);
            c->group[d] = group;
        }
        return c->shared[d][s->element & 3];
    }
    const uint64_t own = d - SPIKEFORGE_SHARED_DRAWS;
    if ((own & 3) == 0) {
        const uint64_t counter[4] = {own >> 2, s->element | (UINT64_C(1) << 63), c->step, c->role};
        spikeforge_philox4x64(counter, c->key, s->block);
    }
    return s->block[own & 3];
}

// Uniform in [0, 1) with 53 random bits.
static inline double spikeforge_rand(spikeforge_stream *s) {
    return (double)(spikeforge_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal by the Box-Muller transform (no cached second value, so the stream position
// depends only on the number of calls).
static inline double spikeforge_randn(spikeforge_stream *s) {
    const double u1 = 1.0 - spikeforge_rand(s);  // in (0, 1]: log is finite
    const double u2 = spikeforge_rand(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

// Binomial random numbers ------------------------------------------------------------------------
// Exact sampling of Binomial(n, p) for PoissonInput.  The parameters are prepared once per time
// step by spikeforge_binomial_setup(), then spikeforge_binomial_draw() is called for each target
// neuron.  With P = min(p, 1 - p) (a draw for 1 - p is mirrored as n - k):
//   - n*P < 10: inversion of one uniform number u: k is the number of values of the cumulative
//     distribution function P(X <= j) that are below u.  The setup tabulates those values for
//     j < table_size (enough that the rest is below 1e-9 of the probability, at most
//     SPIKEFORGE_BINOMIAL_TABLE), and a draw counts them without a branch or a division (the loop
//     vectorises); a u beyond the table walks on up the probabilities by their recursion;
//   - n*P >= 10: BTRD, the transformed rejection with decomposition of W. Hormann, "The generation
//     of binomial random variates", J. Statist. Comput. Simul. 46 (1993) 101-110 (about 2-3
//     uniform numbers per draw, independent of n).
// p == 0, p == 1 and n == 0 give constants and draw no random numbers.

#define SPIKEFORGE_BINOMIAL_TABLE 64

typedef struct {
    int mode;      // 0: constant, 1: inversion, 2: BTRD
    int mirrored;  // the draw is for 1 - p: return n - k
    int64_t n;
    int64_t constant;
    double p;      // min(p, 1 - p)
    // inversion
    double q;      // 1 - p
    double q_n;    // q^n, the probability of 0
    double odds;   // p/q
    int64_t table_size;  // cdf[j] = P(X <= j) for j < table_size; cdf[j] = 2 beyond, up to
                         // table_size rounded up to a multiple of 8
    double tail;         // P(X = table_size): where the walk beyond the table starts
    double cdf[SPIKEFORGE_BINOMIAL_TABLE];
    // BTRD
    double m, nr, npq, a, b, c, alpha, v_r, u_rv_r, h;
} spikeforge_binomial;

// log(k!) minus its Stirling approximation (k + 1/2) log(k + 1) - (k + 1) + log(2 pi)/2:
// tabulated for k < 10, the first three terms of the asymptotic series beyond.
static inline double spikeforge_stirling_correction(double k) {
    static const double table[10] = {
        0.081061466795327258, 0.041340695955409294, 0.027677925684998339,
        0.020790672103765093, 0.016644691189821192, 0.013876128823070748,
        0.011896709945891770, 0.010411265261972096, 0.0092554621827127329,
        0.0083305634333628713};
    if (k < 10.0) {
        return table[(int)k];
    }
    const double inverse = 1.0 / (k + 1.0);
    const double inverse2 = inverse * inverse;
    return (1.0 / 12.0 - (1.0 / 360.0 - inverse2 / 1260.0) * inverse2) * inverse;
}

// Prepare draws from Binomial(n, p); the inversion tabulates at most `table_limit` (<=
// SPIKEFORGE_BINOMIAL_TABLE) values of the distribution function (tests lower it to check the
// walk beyond the table).
static inline void spikeforge_binomial_setup_table(spikeforge_binomial *b, int64_t n, double p,
                                                   int64_t table_limit) {
    memset(b, 0, sizeof *b);  // every field defined, whatever the mode
    b->n = n;
    b->mirrored = p > 0.5;
    b->p = b->mirrored ? 1.0 - p : p;
    b->q = 1.0 - b->p;
    if (n <= 0 || !(p > 0.0) || p >= 1.0) {  // also NaN: no draw (callers check 0 <= p <= 1)
        b->mode = 0;
        b->constant = (n > 0 && p >= 1.0) ? n : 0;
        return;
    }
    const double nd = (double)n;
    if (nd * b->p < 10.0) {
        b->mode = 1;
        b->q_n = exp(nd * log1p(-b->p));
        b->odds = b->p / b->q;
        // the mean plus 7 standard deviations plus 8: beyond it lies less than 1e-9 of the
        // probability for any n*P < 10
        const double mean = nd * b->p;
        int64_t size = (int64_t)ceil(mean + 7.0 * sqrt(mean) + 8.0);
        if (size > n + 1) size = n + 1;
        if (size > table_limit) size = table_limit;
        if (size < 1) size = 1;
        b->table_size = size;
        double probability = b->q_n, cumulative = 0.0;
        for (int64_t j = 0; j < size; ++j) {
            cumulative += probability;
            b->cdf[j] = cumulative;
            probability *= ((double)(n - j) * b->odds) / (double)(j + 1);
        }
        b->tail = probability;
        for (int64_t j = size; j < SPIKEFORGE_BINOMIAL_TABLE; ++j) {
            b->cdf[j] = 2.0;  // above every u: counts nothing
        }
        return;
    }
    b->mode = 2;
    const double spread = sqrt(nd * b->p * b->q);
    b->m = floor((nd + 1.0) * b->p);  // the mode
    b->odds = b->p / b->q;
    b->nr = (nd + 1.0) * b->odds;
    b->npq = nd * b->p * b->q;
    b->b = 1.15 + 2.53 * spread;
    b->a = -0.0873 + 0.0248 * b->b + 0.01 * b->p;
    b->c = nd * b->p + 0.5;
    b->alpha = (2.83 + 5.1 / b->b) * spread;
    b->v_r = 0.92 - 4.2 / b->b;
    b->u_rv_r = 0.86 * b->v_r;
    const double nm = nd - b->m + 1.0;
    b->h = (b->m + 0.5) * log((b->m + 1.0) / (b->odds * nm))
           + spikeforge_stirling_correction(b->m) + spikeforge_stirling_correction(nd - b->m);
}

static inline void spikeforge_binomial_setup(spikeforge_binomial *b, int64_t n, double p) {
    spikeforge_binomial_setup_table(b, n, p, SPIKEFORGE_BINOMIAL_TABLE);
}

static inline int64_t spikeforge_binomial_inversion(const spikeforge_binomial *b, spikeforge_stream *s) {
    const int64_t size = b->table_size;
    const int64_t padded = (size + 7) & ~(int64_t)7;  // whole vectors; the padding counts 0
    for (;;) {
        double u = spikeforge_rand(s);
        int64_t k = 0;
        for (int64_t j = 0; j < padded; ++j) {
            k += u > b->cdf[j];
        }
        if (k < size) {
            return k;
        }
        // beyond the table: walk on from k = size, as P(X = k) = P(X = k-1) (n-k+1)/k p/q
        u -= b->cdf[size - 1];
        double probability = b->tail;
        while (u > probability) {
            u -= probability;
            k += 1;
            if (k > b->n) {
                break;  // u was beyond the rounded total probability: draw again
            }
            probability *= ((double)(b->n - k + 1) * b->odds) / (double)k;
        }
        if (k <= b->n) {
            return k;
        }
    }
}

static inline int64_t spikeforge_binomial_btrd(const spikeforge_binomial *b, spikeforge_stream *s) {
    const double nd = (double)b->n;
    for (;;) {
        double v = spikeforge_rand(s);
        double u;
        // the central box: accepted at once
        if (v <= b->u_rv_r) {
            u = v / b->v_r - 0.43;
            const double k = floor((2.0 * b->a / (0.5 - fabs(u)) + b->b) * u + b->c);
            if (k >= 0.0 && k <= nd) {
                return (int64_t)k;
            }
            continue;
        }
        if (v >= b->v_r) {
            u = spikeforge_rand(s) - 0.5;
        } else {  // the two thin strips beside the box
            u = v / b->v_r - 0.93;
            u = (u < 0.0 ? -0.5 : 0.5) - u;
            v = spikeforge_rand(s) * b->v_r;
        }
        const double us = 0.5 - fabs(u);
        const double k = floor((2.0 * b->a / us + b->b) * u + b->c);
        if (k < 0.0 || k > nd) {
            continue;
        }
        v = v * b->alpha / (b->a / (us * us) + b->b);
        const double km = fabs(k - b->m);
        if (km <= 15.0) {
            // f(k)/f(m) by the recursion f(i)/f(i-1) = (n + 1)p/(i q) - p/q
            double f = 1.0;
            if (b->m < k) {
                for (double i = b->m + 1.0; i <= k; i += 1.0) {
                    f *= b->nr / i - b->odds;
                }
            } else if (b->m > k) {
                for (double i = k + 1.0; i <= b->m; i += 1.0) {
                    v *= b->nr / i - b->odds;
                }
            }
            if (v <= f) {
                return (int64_t)k;
            }
            continue;
        }
        // squeeze with bounds of log(f(k)/f(m)), then the exact test through Stirling's formula
        v = log(v);
        const double rho =
            (km / b->npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / b->npq + 0.5);
        const double t = -km * km / (2.0 * b->npq);
        if (v < t - rho) {
            return (int64_t)k;
        }
        if (v > t + rho) {
            continue;
        }
        const double nm = nd - b->m + 1.0;
        const double nk = nd - k + 1.0;
        const double bound = b->h + (nd + 1.0) * log(nm / nk)
                             + (k + 0.5) * log(nk * b->odds / (k + 1.0))
                             - spikeforge_stirling_correction(k)
                             - spikeforge_stirling_correction(nd - k);
        if (v <= bound) {
            return (int64_t)k;
        }
    }
}

// One draw from the binomial distribution prepared in `b`.
static inline int64_t spikeforge_binomial_draw(const spikeforge_binomial *b, spikeforge_stream *s) {
    int64_t k;
    if (b->mode == 0) {
        return b->constant;
    }
    k = b->mode == 1 ? spikeforge_binomial_inversion(b, s) : spikeforge_binomial_btrd(b, s);
    return b->mirrored ? b->n - k : k;
}

#endif
