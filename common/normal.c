/* SPDX-License-Identifier: MIT */
/* normal.c - the ziggurat's tables and its slow paths (bx/normal.h).
 *
 * 256 layers of equal area v under f(x) = exp(-x^2 / 2) (the unnormalised half normal), with
 * Marsaglia and Tsang's constants for 256 layers: r = 3.6541528853610088 (the base layer's
 * edge) and v = 0.00492867323399. x[0] = v / f(r) is the base layer's width (the rectangle
 * below f(r) and the tail beyond r have area v together), x[1] = r and x[i + 1] =
 * f^-1(f(x[i]) + v / x[i]); x[256] = 0. A draw picks a layer i and a point x uniformly in
 * (-x[i], x[i]): inside |x| < x[i + 1] it is under the curve; otherwise layer 0 samples the tail
 * (Marsaglia's method) and the others test the wedge between f(x[i]) and f(x[i + 1]). */
#include "bx/normal.h"

#include <math.h>

struct bx_ziggurat bx_zig;

void bx_xoshiro_seed(struct bx_xoshiro *x, uint64_t seed)
{
    uint64_t z = seed;
    for (int i = 0; i < 4; ++i) {
        uint64_t v = (z += 0x9e3779b97f4a7c15ULL);
        v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
        v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
        x->s[i] = v ^ (v >> 31);
    }
}

__attribute__((constructor)) static void build_tables(void)
{
    const double r = 3.6541528853610088, v = 0.00492867323399, m = 0x1.0p52;
    double *x = bx_zig.x, *f = bx_zig.f;
    x[0] = v / exp(-0.5 * r * r);
    x[1] = r;
    for (int i = 1; i < 255; ++i)
        x[i + 1] = sqrt(-2 * log(exp(-0.5 * x[i] * x[i]) + v / x[i]));
    x[256] = 0;
    for (int i = 0; i <= 256; ++i)
        f[i] = exp(-0.5 * x[i] * x[i]);
    for (int i = 0; i < 256; ++i) {
        bx_zig.w[i] = x[i] / m;
        bx_zig.k[i] = (int64_t)(x[i + 1] / x[i] * m);
    }
}

/* A uniform in (0, 1]: never 0, for logarithms. */
static double open_uniform(struct bx_xoshiro *x)
{
    return (double)((bx_xoshiro_next(x) >> 11) + 1) * 0x1.0p-53;
}

double bx_normal_slow(struct bx_xoshiro *x, uint64_t u)
{
    const double r = bx_zig.x[1];
    for (;;) {
        unsigned i = (unsigned)(u & 255);
        int64_t j = (int64_t)u >> 11;
        int64_t aj = j < 0 ? -j : j;
        double z = (double)j * bx_zig.w[i];
        if (aj < bx_zig.k[i])
            return z;
        if (i == 0) {
            /* The tail beyond r: Marsaglia (1964). */
            double a, b;
            do {
                a = -log(open_uniform(x)) / r;
                b = -log(open_uniform(x));
            } while (b + b < a * a);
            return j < 0 ? -(r + a) : r + a;
        }
        /* The wedge between f(x[i]) and f(x[i + 1]) at z. */
        double y = bx_zig.f[i] + bx_xoshiro_uniform(x) * (bx_zig.f[i + 1] - bx_zig.f[i]);
        if (y < exp(-0.5 * z * z))
            return z;
        u = bx_xoshiro_next(x);
    }
}
