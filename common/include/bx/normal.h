/* SPDX-License-Identifier: MIT */
/* normal.h - fast inline random numbers for the template generator: xoshiro256++ without GSL's
 * function pointers, and standard normal deviates by a 256-layer ziggurat (Marsaglia and Tsang,
 * "The Ziggurat Method for Generating Random Variables", J. Stat. Software 5(8), 2000), whose
 * fast path (about 99% of draws) is one 64-bit draw, a multiply and an integer compare.
 *
 * Usage:
 *     struct bx_xoshiro x;
 *     bx_xoshiro_seed(&x, seed);            // the same state as gsl_rng_set on bx_rng_xoshiro256pp
 *     double u = bx_xoshiro_uniform(&x);   // == gsl_rng_uniform on that generator
 *     double z = bx_normal(&x);            // N(0, 1)
 *
 * A draw is a pure function of the state: the same seed gives the same deviates on any CPU and
 * thread. Thread safety: one state per thread; the tables are read-only (built at load time).
 */
#ifndef BX_NORMAL_H
#define BX_NORMAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bx_xoshiro {
    uint64_t s[4];
};

/** Seed through splitmix64, exactly as bx_rng_xoshiro256pp's gsl_rng_set. */
void bx_xoshiro_seed(struct bx_xoshiro *x, uint64_t seed);

static inline uint64_t bx_xoshiro_next(struct bx_xoshiro *x)
{
    uint64_t *s = x->s;
    uint64_t sum = s[0] + s[3];
    const uint64_t result = ((sum << 23) | (sum >> 41)) + s[0];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/** A uniform in [0, 1) from the top 53 bits (gsl_rng_uniform on bx_rng_xoshiro256pp). */
static inline double bx_xoshiro_uniform(struct bx_xoshiro *x)
{
    return (double)(bx_xoshiro_next(x) >> 11) * 0x1.0p-53;
}

/* The ziggurat's tables (normal.c): layer i of 256 has width x[i]; draws with |j| < k[i] (j the
 * signed top 53 bits) fall inside the curve; w[i] = x[i] / 2^52. */
struct bx_ziggurat {
    double w[256];
    int64_t k[256];
    double x[257], f[257]; /* f = exp(-x^2 / 2) */
};
extern struct bx_ziggurat bx_zig;

/** The rare cases: the wedges and the tail (normal.c). @p u is the draw that missed. */
double bx_normal_slow(struct bx_xoshiro *x, uint64_t u);

/** A standard normal deviate. */
static inline double bx_normal(struct bx_xoshiro *x)
{
    uint64_t u = bx_xoshiro_next(x);
    unsigned i = (unsigned)(u & 255);
    int64_t j = (int64_t)u >> 11; /* signed, in [-2^52, 2^52) */
    int64_t aj = j < 0 ? -j : j;
    if (__builtin_expect(aj < bx_zig.k[i], 1))
        return (double)j * bx_zig.w[i];
    return bx_normal_slow(x, u);
}

/**
 * v[i] = scale x a standard normal deviate for i < n, deviate i drawn from lanes[i mod 8] (its
 * ziggurat draws, rejections included, from that lane only); @return the sum of the deviates'
 * squares (double), lane by lane in order and then ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
 * Vectorised where the CPU has AVX-512 (eight lanes at once), with the same numbers everywhere.
 */
double bx_normal_fill8(struct bx_xoshiro lanes[8], float *v, size_t n, float scale);
/** The same one lane at a time (the definition; tests). */
double bx_normal_fill8_portable(struct bx_xoshiro lanes[8], float *v, size_t n, float scale);

#ifdef __cplusplus
}
#endif
#endif /* BX_NORMAL_H */
