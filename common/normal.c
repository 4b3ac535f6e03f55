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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
#if defined(__x86_64__)
    __builtin_cpu_init(); /* before bx_normal_fill8's __builtin_cpu_supports, in any thread */
#endif
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

static double sum8(const double s[8])
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

double bx_normal_fill8_portable(struct bx_xoshiro lanes[8], float *v, size_t n, float scale)
{
    double ss[8] = {0};
    for (size_t i = 0; i < n; ++i) {
        double x = bx_normal(&lanes[i & 7]);
        v[i] = scale * (float)x;
        ss[i & 7] += x * x;
    }
    return sum8(ss);
}

#if defined(__x86_64__)
/* Eight lanes in the 64-bit elements of four registers (s[0..3] of each lane): one draw per lane
 * per step, the ziggurat's fast path on all eight (two gathers from the tables), and any lane
 * that misses finished by the scalar slow path on that lane's own state. */
__attribute__((target("avx512f,avx512dq"))) static double
fill8_avx512(struct bx_xoshiro lanes[8], float *v, size_t n, float scale)
{
    _Alignas(64) uint64_t st[4][8];
    for (int k = 0; k < 8; ++k)
        for (int w = 0; w < 4; ++w)
            st[w][k] = lanes[k].s[w];
    __m512i s0 = _mm512_load_si512(st[0]), s1 = _mm512_load_si512(st[1]),
            s2 = _mm512_load_si512(st[2]), s3 = _mm512_load_si512(st[3]);
    const __m512i m255 = _mm512_set1_epi64(255);
    __m512d acc = _mm512_setzero_pd();
    const __m512d vs = _mm512_set1_pd((double)scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512i u = _mm512_add_epi64(_mm512_rol_epi64(_mm512_add_epi64(s0, s3), 23), s0);
        __m512i t = _mm512_slli_epi64(s1, 17);
        s2 = _mm512_xor_si512(s2, s0);
        s3 = _mm512_xor_si512(s3, s1);
        s1 = _mm512_xor_si512(s1, s2);
        s0 = _mm512_xor_si512(s0, s3);
        s2 = _mm512_xor_si512(s2, t);
        s3 = _mm512_rol_epi64(s3, 45);
        __m512i idx = _mm512_and_si512(u, m255);
        __m512i j = _mm512_srai_epi64(u, 11);
        __m512i kk = _mm512_i64gather_epi64(idx, (const void *)bx_zig.k, 8);
        __mmask8 ok = _mm512_cmplt_epi64_mask(_mm512_abs_epi64(j), kk);
        __m512d x = _mm512_mul_pd(_mm512_cvtepi64_pd(j),
                                  _mm512_i64gather_pd(idx, (const void *)bx_zig.w, 8));
        if (ok != 0xff) { /* rare: finish the missing lanes one by one */
            _Alignas(64) uint64_t us[8], l0[8], l1[8], l2[8], l3[8];
            _mm512_store_si512(us, u);
            _mm512_store_si512(l0, s0);
            _mm512_store_si512(l1, s1);
            _mm512_store_si512(l2, s2);
            _mm512_store_si512(l3, s3);
            for (unsigned miss = (unsigned)(uint8_t)~ok; miss; miss &= miss - 1) {
                int k = __builtin_ctz(miss);
                struct bx_xoshiro lane = {{l0[k], l1[k], l2[k], l3[k]}};
                double xk = bx_normal_slow(&lane, us[k]);
                /* back into lane k alone: masked broadcasts, not a vector load over freshly
                 * written scalars (which stalls store forwarding) */
                __mmask8 m = (__mmask8)(1u << k);
                x = _mm512_mask_broadcastsd_pd(x, m, _mm_set_sd(xk));
                s0 = _mm512_mask_set1_epi64(s0, m, (long long)lane.s[0]);
                s1 = _mm512_mask_set1_epi64(s1, m, (long long)lane.s[1]);
                s2 = _mm512_mask_set1_epi64(s2, m, (long long)lane.s[2]);
                s3 = _mm512_mask_set1_epi64(s3, m, (long long)lane.s[3]);
            }
        }
        acc = _mm512_add_pd(acc, _mm512_mul_pd(x, x));
        /* (float)x, then times scale in float: as the portable code */
        _mm256_storeu_ps(v + i, _mm256_mul_ps(_mm512_cvtpd_ps(x), _mm512_cvtpd_ps(vs)));
    }
    _mm512_store_si512(st[0], s0);
    _mm512_store_si512(st[1], s1);
    _mm512_store_si512(st[2], s2);
    _mm512_store_si512(st[3], s3);
    for (int k = 0; k < 8; ++k)
        for (int w = 0; w < 4; ++w)
            lanes[k].s[w] = st[w][k];
    _Alignas(64) double ss[8];
    _mm512_store_pd(ss, acc);
    for (; i < n; ++i) {
        double x = bx_normal(&lanes[i & 7]);
        v[i] = scale * (float)x;
        ss[i & 7] += x * x;
    }
    return sum8(ss);
}
#endif

double bx_normal_fill8(struct bx_xoshiro lanes[8], float *v, size_t n, float scale)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
        return fill8_avx512(lanes, v, n, scale);
#endif
    return bx_normal_fill8_portable(lanes, v, n, scale);
}
