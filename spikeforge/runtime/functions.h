// Small numeric functions that generated code calls; each mirrors the meaning the function has
// in a model's equations (Brian2's conventions).
#ifndef SPIKEFORGE_FUNCTIONS_H
#define SPIKEFORGE_FUNCTIONS_H

#include <math.h>
#include <stdint.h>

// Fast-math mode (run(..., fast_math=True), docs/equations.md): the element loops call the vector
// versions of exp, log, pow, sin and cos (and, from glibc 2.35, of expm1, log1p, tanh, tan,
// sinh, cosh, asin, acos and atan) from glibc's libmvec, four or eight elements at a time.
// They are accurate to a few units in the last place, where the scalar functions are correctly
// rounded nearly always: results change in their last bits.  Nothing else changes (no
// -ffast-math: the arithmetic and its order stay those of the equations).  Only with glibc on
// x86-64, where libmvec exists; elsewhere the mode changes nothing.
#if defined(SPIKEFORGE_FAST_MATH) && defined(__x86_64__) && defined(__GLIBC__)
#ifdef __cplusplus
extern "C" {
#endif
#pragma omp declare simd notinbranch
double exp(double) __THROW;
#pragma omp declare simd notinbranch
double log(double) __THROW;
#pragma omp declare simd notinbranch
double pow(double, double) __THROW;
#pragma omp declare simd notinbranch
double sin(double) __THROW;
#pragma omp declare simd notinbranch
double cos(double) __THROW;
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)  // libmvec's second set
#pragma omp declare simd notinbranch
double expm1(double) __THROW;
#pragma omp declare simd notinbranch
double log1p(double) __THROW;
#pragma omp declare simd notinbranch
double tanh(double) __THROW;
#pragma omp declare simd notinbranch
double tan(double) __THROW;
#pragma omp declare simd notinbranch
double sinh(double) __THROW;
#pragma omp declare simd notinbranch
double cosh(double) __THROW;
#pragma omp declare simd notinbranch
double asin(double) __THROW;
#pragma omp declare simd notinbranch
double acos(double) __THROW;
#pragma omp declare simd notinbranch
double atan(double) __THROW;
#endif
#ifdef __cplusplus
}
#endif
#endif

// A fault met inside the loop: 0 while there is none, else the code of the first one (a site
// registered by the code generator, which knows the object and the statement).  The loop ends
// at the end of the step in which it happened and Python raises the site's error.  One per
// module (a static variable of the module's only translation unit).
static int64_t spikeforge_fault = 0;

static inline void spikeforge_set_fault(int64_t site) {
    if (spikeforge_fault == 0) spikeforge_fault = site;
}

#ifdef __cplusplus
#include <new>
#include <stdexcept>
#include <vector>
// Appends x to a recording, or records a fault at `site` when memory runs out (std::bad_alloc
// would otherwise end the process: generated loops cannot pass C++ exceptions on).  Returns
// whether it was appended.
template <class T>
static inline bool spikeforge_push_back(std::vector<T>* v, T x, int64_t site) {
    try {
        v->push_back(x);
        return true;
    } catch (const std::bad_alloc&) {
        spikeforge_set_fault(site);
        return false;
    }
}

// Reserves room for n elements; false (and nothing changed) when memory runs out.
template <class T>
static inline bool spikeforge_reserve(std::vector<T>* v, size_t n) {
    try {
        v->reserve(n);
        return true;
    } catch (const std::bad_alloc&) {
        return false;
    } catch (const std::length_error&) {
        return false;
    }
}
#endif

// The integer a value assigned to an integer variable becomes (truncated toward zero, as in
// Brian2), or 0 and a fault at `site` if it has none: NaN, an infinity, or out of the range of
// the variable (`k // 0`, `k % 0`, an overflow), where the plain conversion is undefined.
static inline int64_t spikeforge_to_integer(double x, double low, double high, int64_t site) {
    if (!(x >= low && x < high + 1.0)) {  // NaN fails every comparison
        spikeforge_set_fault(site);
        return 0;
    }
    return (int64_t)x;
}

// Python's `//` and `%` for integer operands: the quotient rounded towards minus infinity, the
// remainder with the sign of the divisor.  A zero divisor (undefined in C: SIGFPE, or garbage)
// gives 0 and records a fault at `site`.  Generated code calls these for integer operands whose
// divisor is not a number written in the code (and declares them only in modules that do).
static inline int64_t spikeforge_floordiv_int(int64_t a, int64_t b, int64_t site) {
    if (b == 0) {
        spikeforge_set_fault(site);
        return 0;
    }
    if (b == -1) return (int64_t)(0 - (uint64_t)a);  // INT64_MIN / -1 would trap: it wraps
    int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0))) --q;
    return q;
}

static inline int64_t spikeforge_mod_int(int64_t a, int64_t b, int64_t site) {
    if (b == 0) {
        spikeforge_set_fault(site);
        return 0;
    }
    if (b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

// Floored modulo, as Python's `%` (the result has the sign of the divisor).
static inline double spikeforge_mod(double a, double b) {
    double r = fmod(a, b);
    if (r != 0.0 && ((r < 0.0) != (b < 0.0))) r += b;
    return r;
}

static inline double spikeforge_sign(double x) {
    return (double)((x > 0.0) - (x < 0.0));
}

static inline double spikeforge_clip(double x, double low, double high) {
    return x < low ? low : (x > high ? high : x);
}

// (exp(x) - 1)/x, continuous at 0 and precise for small x.
// One call and a choice of its argument, with no branch around the call, so that a loop calling
// it can be vectorised: below 1e-16 in magnitude (where the value is 1.0, 0 included), the
// argument becomes 1e-16, whose expm1 is 1e-16 exactly; above 717 (+inf included) it becomes
// 717, whose expm1 overflows to infinity, the value there; NaN stays NaN.
static inline double spikeforge_exprel(double x) {
    double y = fabs(x) < 1e-16 ? 1e-16 : x;
    y = y > 717.0 ? 717.0 : y;
    return expm1(y) / y;
}

// The integer time step of t for the step size dt, robust to rounding of t.
static inline int64_t spikeforge_timestep(double t, double dt) {
    return (int64_t)((t + 1e-3 * dt) / dt);
}

#endif
