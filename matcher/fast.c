/* SPDX-License-Identifier: MIT */
/* fast.c - the int8 short-listing index and its dot-product kernels.
 *
 * Each row (and probe) is quantised with its own scale, q = round(x / s) with s = max|x| / 63
 * (7 bits: BX_I8_LEVELS, which lets the AVX2 kernel add two steps in 16 bits), so that
 * q . q' * s * s' approximates the cosine to about 3e-3 for d = 512 unit vectors; the exact
 * re-scoring in search.c removes that error from the reported scores. Kernels are chosen at run
 * time: AMX-INT8 (tdpbssd on 16 x 64-byte tiles, signed x signed bytes, the index stored in
 * tile order), AVX-512 VNNI (vpdpbusd, unsigned x signed bytes, hence the probe is offset by 128
 * and 128 * sum(q) subtracted), AVX2 (sign-extend to 16 bits, vpmaddwd), or portable C. Every
 * kernel computes the same exact integers.
 */
#define _GNU_SOURCE /* syscall: the AMX permission */
#include "matcher_internal.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* ---------------------------------------------------------------- kernels */

/* Probes per call of the vector kernels (their accumulators stay in registers). */
#define VEC_PROBES 4

static void i8_portable(const int8_t *p, const int32_t *psum, size_t n_p,
                        const struct bx_fast_index *ix, size_t r0, size_t r1, int32_t *out)
{
    (void)psum;
    size_t nb = r1 - r0;
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * ix->stride;
        for (size_t j = 0; j < n_p; ++j) {
            const int8_t *pj = p + j * ix->stride;
            int32_t s = 0;
            for (size_t i = 0; i < ix->stride; ++i)
                s += (int32_t)pj[i] * (int32_t)q[i];
            out[j * nb + (r - r0)] = s;
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static inline int32_t hsum_epi32_avx2(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Rows and probes are quantised to [-63, 63] (BX_I8_LEVELS). vpmaddubsw multiplies unsigned by
 * signed bytes and adds pairs into 16 bits: the row moved to u = q + 64 in [1, 127] times the
 * probe gives pairs of at most 2 * 127 * 63 = 16002 in magnitude, so the pair sums of two
 * 32-byte steps add in 16 bits without saturation (32004 < 2^15); vpmaddwd with ones widens
 * them to 32 bits, and 64 * sum(probe) (psum, computed once per search) is subtracted at
 * the end. Exact integer arithmetic: every kernel gives the portable kernel's numbers. */

#define BX_I8_STEP(acc, pp)                                                                        \
    acc = _mm256_add_epi32(                                                                        \
        acc,                                                                                       \
        _mm256_madd_epi16(                                                                         \
            _mm256_add_epi16(                                                                      \
                _mm256_maddubs_epi16(                                                              \
                    ua, _mm256_loadu_si256((const __m256i *)(const void *)((pp) + 64 * c))),       \
                _mm256_maddubs_epi16(                                                              \
                    ub, _mm256_loadu_si256((const __m256i *)(const void *)((pp) + 64 * c + 32)))), \
            ones))

/* Four probes against each row, the accumulators named so that they stay in registers (a loop
 * over an array of them spills to the stack). */
__attribute__((target("avx2"))) static void i8_avx2_x4(const int8_t *p, const int32_t *psum,
                                                       const struct bx_fast_index *ix, size_t r0,
                                                       size_t r1, int32_t *out)
{
    size_t stride = ix->stride, n64 = stride / 64, nb = r1 - r0;
    const __m256i ones = _mm256_set1_epi16(1), off = _mm256_set1_epi8(64);
    const int8_t *p0 = p, *p1 = p + stride, *p2 = p + 2 * stride, *p3 = p + 3 * stride;
    const int32_t c0 = 64 * psum[0], c1 = 64 * psum[1], c2 = 64 * psum[2], c3 = 64 * psum[3];
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * stride;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t c = 0; c < n64; ++c) {
            __m256i ua = _mm256_add_epi8(
                _mm256_load_si256((const __m256i *)(const void *)(q + 64 * c)), off);
            __m256i ub = _mm256_add_epi8(
                _mm256_load_si256((const __m256i *)(const void *)(q + 64 * c + 32)), off);
            BX_I8_STEP(a0, p0);
            BX_I8_STEP(a1, p1);
            BX_I8_STEP(a2, p2);
            BX_I8_STEP(a3, p3);
        }
        out[r - r0] = hsum_epi32_avx2(a0) - c0;
        out[nb + (r - r0)] = hsum_epi32_avx2(a1) - c1;
        out[2 * nb + (r - r0)] = hsum_epi32_avx2(a2) - c2;
        out[3 * nb + (r - r0)] = hsum_epi32_avx2(a3) - c3;
    }
}

__attribute__((target("avx2"))) static void i8_avx2(const int8_t *p, const int32_t *psum,
                                                    size_t n_p, const struct bx_fast_index *ix,
                                                    size_t r0, size_t r1, int32_t *out)
{
    size_t stride = ix->stride, n64 = stride / 64, nb = r1 - r0;
    BX_REQUIRE(n_p <= VEC_PROBES && stride <= BX_TPL_DIM_MAX);
    if (n_p == 4) {
        i8_avx2_x4(p, psum, ix, r0, r1, out);
        return;
    }
    const __m256i ones = _mm256_set1_epi16(1), off = _mm256_set1_epi8(64);
    int32_t corr[VEC_PROBES];
    for (size_t j = 0; j < n_p; ++j)
        corr[j] = 64 * psum[j];
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * stride;
        __m256i acc[VEC_PROBES];
        for (size_t j = 0; j < n_p; ++j)
            acc[j] = _mm256_setzero_si256();
        for (size_t c = 0; c < n64; ++c) {
            __m256i ua = _mm256_add_epi8(
                _mm256_load_si256((const __m256i *)(const void *)(q + 64 * c)), off);
            __m256i ub = _mm256_add_epi8(
                _mm256_load_si256((const __m256i *)(const void *)(q + 64 * c + 32)), off);
            for (size_t j = 0; j < n_p; ++j)
                BX_I8_STEP(acc[j], p + j * stride);
        }
        for (size_t j = 0; j < n_p; ++j)
            out[j * nb + (r - r0)] = hsum_epi32_avx2(acc[j]) - corr[j];
    }
}
#undef BX_I8_STEP

/* The sums of the sixteen 32-bit lanes of a, b, c and d, as one vector of four (the integer
 * twin of sum4_avx512). */
__attribute__((target("avx512f"), always_inline)) static inline __m128i
sum4_epi32(__m512i a, __m512i b, __m512i c, __m512i d)
{
    __m512i ab =
        _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, 0x44), _mm512_shuffle_i32x4(a, b, 0xee));
    __m512i cd =
        _mm512_add_epi32(_mm512_shuffle_i32x4(c, d, 0x44), _mm512_shuffle_i32x4(c, d, 0xee));
    __m512i v =
        _mm512_add_epi32(_mm512_shuffle_i32x4(ab, cd, 0x88), _mm512_shuffle_i32x4(ab, cd, 0xdd));
    v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x4e));
    v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0xb1));
    const __m512i idx = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    return _mm512_castsi512_si128(_mm512_permutexvar_epi32(idx, v));
}

/* Four probes (offset to unsigned in u) against four rows at once: sixteen named accumulators
 * (an array over a run-time probe count was kept on the stack), each probe's four rows summed
 * and stored together; rows [r, r1) left over are returned for the general loop. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static size_t
i8_vnni_x4(const uint8_t *u, const struct bx_fast_index *ix, size_t r0, size_t r1, int32_t *out)
{
    size_t stride = ix->stride, n64 = stride / 64, nb = r1 - r0, r = r0;
    const uint8_t *u0 = u, *u1 = u + stride, *u2 = u + 2 * stride, *u3 = u + 3 * stride;
    for (; r + 4 <= r1; r += 4) {
        const int8_t *q = ix->q + r * stride;
        __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00,
                a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00,
                a31 = a00, a32 = a00, a33 = a00;
        for (size_t c = 0; c < n64; ++c) {
            __m512i q0 = _mm512_load_si512((const void *)(q + 64 * c)),
                    q1 = _mm512_load_si512((const void *)(q + stride + 64 * c)),
                    q2 = _mm512_load_si512((const void *)(q + 2 * stride + 64 * c)),
                    q3 = _mm512_load_si512((const void *)(q + 3 * stride + 64 * c));
/* probe P's chunk against the four rows' chunks */
#define BX_VNNI_ROW(P, u)                                                                          \
    do {                                                                                           \
        __m512i v_ = _mm512_load_si512((const void *)((u) + 64 * c));                              \
        a##P##0 = _mm512_dpbusd_epi32(a##P##0, v_, q0);                                            \
        a##P##1 = _mm512_dpbusd_epi32(a##P##1, v_, q1);                                            \
        a##P##2 = _mm512_dpbusd_epi32(a##P##2, v_, q2);                                            \
        a##P##3 = _mm512_dpbusd_epi32(a##P##3, v_, q3);                                            \
    } while (0)
            BX_VNNI_ROW(0, u0);
            BX_VNNI_ROW(1, u1);
            BX_VNNI_ROW(2, u2);
            BX_VNNI_ROW(3, u3);
#undef BX_VNNI_ROW
        }
        /* 128 * sum(row) of the four rows, subtracted from every probe's four sums */
        __m128i corr =
            _mm_slli_epi32(_mm_loadu_si128((const __m128i *)(const void *)(ix->sum + r)), 7);
        int32_t *o = out + (r - r0);
        _mm_storeu_si128((__m128i *)(void *)o, _mm_sub_epi32(sum4_epi32(a00, a01, a02, a03), corr));
        _mm_storeu_si128((__m128i *)(void *)(o + nb),
                         _mm_sub_epi32(sum4_epi32(a10, a11, a12, a13), corr));
        _mm_storeu_si128((__m128i *)(void *)(o + 2 * nb),
                         _mm_sub_epi32(sum4_epi32(a20, a21, a22, a23), corr));
        _mm_storeu_si128((__m128i *)(void *)(o + 3 * nb),
                         _mm_sub_epi32(sum4_epi32(a30, a31, a32, a33), corr));
    }
    return r;
}

/* vpdpbusd multiplies unsigned by signed bytes: probes are offset by 128 once per call and
 * 128 * sum(q_row) is subtracted. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
i8_vnni(const int8_t *p, const int32_t *psum, size_t n_p, const struct bx_fast_index *ix, size_t r0,
        size_t r1, int32_t *out)
{
    (void)psum; /* the offset is on the probe here: 128 * sum(row) is subtracted */
    size_t stride = ix->stride, n64 = stride / 64, nb = r1 - r0;
    _Alignas(64) uint8_t u[VEC_PROBES * BX_TPL_DIM_MAX];
    BX_REQUIRE(n_p <= VEC_PROBES && stride <= BX_TPL_DIM_MAX);
    for (size_t i = 0; i < n_p * stride; ++i)
        u[i] = (uint8_t)(p[i] + 128);
    size_t r = r0;
    if (n_p == 4)
        r = i8_vnni_x4(u, ix, r0, r1, out);
    for (; r < r1; ++r) {
        const int8_t *q = ix->q + r * stride;
        __m512i acc[VEC_PROBES];
        for (size_t j = 0; j < n_p; ++j)
            acc[j] = _mm512_setzero_si512();
        for (size_t c = 0; c < n64; ++c) {
            __m512i qv = _mm512_load_si512((const void *)(q + 64 * c));
            for (size_t j = 0; j < n_p; ++j)
                acc[j] = _mm512_dpbusd_epi32(
                    acc[j], _mm512_load_si512((const void *)(u + j * stride + 64 * c)), qv);
        }
        for (size_t j = 0; j < n_p; ++j)
            out[j * nb + (r - r0)] = _mm512_reduce_add_epi32(acc[j]) - 128 * ix->sum[r];
    }
}

/* AMX-INT8. The probes are the tiles A (up to 16 probes x 64 bytes, read in place: a probe is a
 * row of `stride` bytes), the index's blocks of 16 rows the tiles B (the tiled layout: a block's
 * 64-byte chunk is 16 rows of four-byte groups, one column per index row), so C = A B holds
 * probe x index-row dot products in the output's own order and is stored in place. Two probe
 * groups x two row blocks: C in tmm0-3, A in tmm4-5, B in tmm6-7. A block only partly in
 * [r0, r1) goes through a scratch tile. tdpbssd is signed x signed: no offset. */
struct amx_cfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

/* Store C tile @p t (probes p0.. of a group of @p m, block @p b) into out, only its rows in
 * [r0, r1). */
#define BX_AMX_STORE(t, p0, m, b)                                                                  \
    do {                                                                                           \
        size_t lo_ = 16 * (b) > r0 ? 16 * (b) : r0, hi_ = 16 * (b) + 16 < r1 ? 16 * (b) + 16 : r1; \
        if (lo_ == 16 * (b) && hi_ == 16 * (b) + 16) {                                             \
            _tile_stored(t, out + (p0)*nb + (lo_ - r0), (long)(nb * 4));                           \
        } else {                                                                                   \
            _tile_stored(t, tmp, 64);                                                              \
            for (size_t m_ = 0; m_ < (m); ++m_)                                                    \
                for (size_t r_ = lo_; r_ < hi_; ++r_)                                              \
                    out[((p0) + m_) * nb + (r_ - r0)] = tmp[m_ * 16 + (r_ - 16 * (b))];            \
        }                                                                                          \
    } while (0)

__attribute__((target("amx-tile,amx-int8"))) static void i8_amx(const int8_t *p,
                                                                const int32_t *psum, size_t n_p,
                                                                const struct bx_fast_index *ix,
                                                                size_t r0, size_t r1, int32_t *out)
{
    (void)psum;
    BX_REQUIRE(ix->tiled && n_p >= 1 && n_p <= 32 && r0 < r1);
    size_t stride = ix->stride, nc = stride / 64, nb = r1 - r0;
    size_t g0 = n_p < 16 ? n_p : 16, g1 = n_p - g0; /* probes in each group */
    _Alignas(64) struct amx_cfg cfg = {.palette = 1};
    _Alignas(64) int32_t tmp[16 * 16];
    for (int t = 0; t < 8; ++t) {
        size_t rows = t == 0 || t == 1 || t == 4 ? g0 : t == 2 || t == 3 || t == 5 ? g1 : 16;
        cfg.rows[t] = (uint8_t)rows;
        cfg.colsb[t] = rows ? 64 : 0;
    }
    _tile_loadconfig(&cfg);
    const int8_t *p1 = g1 ? p + 16 * stride : p; /* the second group, when there is one */
    size_t b_end = (r1 + 15) / 16;
    for (size_t b = r0 / 16; b < b_end; b += 2) {
        bool two = b + 1 < b_end;
        const int8_t *t0 = ix->q + b * nc * 1024, *t1 = t0 + nc * 1024;
        _tile_zero(0);
        _tile_zero(1);
        if (g1) {
            _tile_zero(2);
            _tile_zero(3);
        }
        /* The pair of blocks after next (32 KB ahead at d = 512) on its way from memory into L2
         * while this pair is multiplied, 32 cache lines per chunk: an index larger than the
         * caches streams from memory (32 probes, N = 10^6, 2 threads: median 4.6 -> 5.3 x 10^8
         * comparisons/s over six alternating runs; no change where the index is in cache). */
        const int8_t *pf = b + 5 < b_end ? t0 + 4 * nc * 1024 : NULL;
        for (size_t c = 0; c < nc; ++c) {
            if (pf != NULL)
                for (size_t l = 0; l < 2048; l += 64)
                    _mm_prefetch((const char *)(pf + c * 2048 + l), _MM_HINT_T1);
            _tile_loadd(4, p + 64 * c, (long)stride);
            _tile_loadd(6, t0 + c * 1024, 64);
            _tile_dpbssd(0, 4, 6);
            if (two) {
                _tile_loadd(7, t1 + c * 1024, 64);
                _tile_dpbssd(1, 4, 7);
            }
            if (g1) {
                _tile_loadd(5, p1 + 64 * c, (long)stride);
                _tile_dpbssd(2, 5, 6);
                if (two)
                    _tile_dpbssd(3, 5, 7);
            }
        }
        BX_AMX_STORE(0, 0, g0, b);
        if (two)
            BX_AMX_STORE(1, 0, g0, b + 1);
        if (g1) {
            BX_AMX_STORE(2, 16, g1, b);
            if (two)
                BX_AMX_STORE(3, 16, g1, b + 1);
        }
    }
    _tile_release();
}
#undef BX_AMX_STORE

__attribute__((target("avx2,fma"))) static void
f32_avx2(const float *p, const float *rows, size_t stride, size_t dim, size_t n, float *out)
{
    (void)dim; /* padding is zero: the whole stride can be summed */
    size_t n16 = stride / 16, r = 0;
    for (; r + 2 <= n; r += 2) {
        const float *a = rows + r * stride, *b = a + stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        for (size_t c = 0; c < n16; ++c) {
            __m256 p0 = _mm256_load_ps(p + 16 * c), p1 = _mm256_load_ps(p + 16 * c + 8);
            a0 = _mm256_fmadd_ps(p0, _mm256_load_ps(a + 16 * c), a0);
            a1 = _mm256_fmadd_ps(p1, _mm256_load_ps(a + 16 * c + 8), a1);
            b0 = _mm256_fmadd_ps(p0, _mm256_load_ps(b + 16 * c), b0);
            b1 = _mm256_fmadd_ps(p1, _mm256_load_ps(b + 16 * c + 8), b1);
        }
        __m256 sa = _mm256_add_ps(a0, a1), sb = _mm256_add_ps(b0, b1);
        /* Horizontal sums of both rows at once. */
        __m256 h = _mm256_hadd_ps(sa, sb);
        __m128 x = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        x = _mm_hadd_ps(x, x);
        out[r] = _mm_cvtss_f32(x);
        out[r + 1] = _mm_cvtss_f32(_mm_shuffle_ps(x, x, 1));
    }
    for (; r < n; ++r) {
        const float *a = rows + r * stride;
        __m256 a0 = _mm256_setzero_ps();
        for (size_t c = 0; c < stride / 8; ++c)
            a0 = _mm256_fmadd_ps(_mm256_load_ps(p + 8 * c), _mm256_load_ps(a + 8 * c), a0);
        __m128 x = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
        x = _mm_hadd_ps(x, x);
        x = _mm_hadd_ps(x, x);
        out[r] = _mm_cvtss_f32(x);
    }
}
#endif

/* ---------------------------------------------------------------- candidate selection */

/* Rows [i, n) one at a time: the portable path, and the vector paths' tails. */
static size_t select_from(size_t i, const int32_t *d, size_t n, float sp, const float *scale,
                          float cutoff, uint32_t *idx, size_t m)
{
    for (; i < n; ++i)
        if ((float)d[i] * sp * scale[i] >= cutoff)
            idx[m++] = (uint32_t)i;
    return m;
}

#if defined(__x86_64__) || defined(__i386__)
/* Eight rows at a time; the products are the scalar ones (same operations, same order). */
__attribute__((target("avx2"))) static size_t
select_avx2(const int32_t *d, size_t n, float sp, const float *scale, float cutoff, uint32_t *idx)
{
    size_t m = 0, i = 0;
    const __m256 vsp = _mm256_set1_ps(sp), vcut = _mm256_set1_ps(cutoff);
    for (; i + 8 <= n; i += 8) {
        __m256 s = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256(
                                                   (const __m256i *)(const void *)(d + i))),
                                               vsp),
                                 _mm256_loadu_ps(scale + i));
        unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s, vcut, _CMP_GE_OQ));
        while (mask) {
            idx[m++] = (uint32_t)(i + (size_t)__builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
    return select_from(i, d, n, sp, scale, cutoff, idx, m);
}
#endif

/* Sixteen rows at a time: the AMX kernel's output comes fast enough for selection to matter. */
__attribute__((target("avx512f"))) static size_t
select_avx512(const int32_t *d, size_t n, float sp, const float *scale, float cutoff, uint32_t *idx)
{
    size_t m = 0, i = 0;
    const __m512 vsp = _mm512_set1_ps(sp), vcut = _mm512_set1_ps(cutoff);
    for (; i + 16 <= n; i += 16) {
        __m512 s = _mm512_mul_ps(
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(d + i))), vsp),
            _mm512_loadu_ps(scale + i));
        unsigned mask = (unsigned)_mm512_cmp_ps_mask(s, vcut, _CMP_GE_OQ);
        while (mask) {
            idx[m++] = (uint32_t)(i + (size_t)__builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
    return select_from(i, d, n, sp, scale, cutoff, idx, m);
}

/* What this CPU has, detected once (pthread_once: the search threads ask concurrently). */
struct cpu_isa {
    bool avx2, fma, avx512f, avx512bw, avx512_vnni, amx_int8;
    bool microkernel; /* the exact micro-kernel (BX_MATCH_NO_MICROKERNEL unset at start) */
};
static struct cpu_isa isa;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void detect_isa(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    isa.avx2 = __builtin_cpu_supports("avx2");
    isa.fma = __builtin_cpu_supports("fma");
    isa.avx512f = __builtin_cpu_supports("avx512f");
    isa.avx512bw = isa.avx512f && __builtin_cpu_supports("avx512bw");
    isa.avx512_vnni = isa.avx512bw && __builtin_cpu_supports("avx512vnni");
    isa.microkernel = isa.avx512f && getenv("BX_MATCH_NO_MICROKERNEL") == NULL;
#endif
#if defined(__x86_64__)
    /* AMX: the CPU has it, and Linux lets this process use the tile data (a permission asked
     * once, for the whole process; refused on kernels before 5.16 or where the admin forbids
     * it: then the kernel is not offered). */
    unsigned a, b, c, d; /* CPUID leaf 7: EDX bit 24 AMX-TILE, bit 25 AMX-INT8 */
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) && (d >> 25 & 1)) {
        enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
        isa.amx_int8 = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
    }
#endif
}

static const struct cpu_isa *cpu(void)
{
    pthread_once(&isa_once, detect_isa);
    return &isa;
}

size_t bx_match__i8_select(const int32_t *d, size_t n, float sp, const float *scale, float cutoff,
                           uint32_t *idx)
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->avx512f)
        return select_avx512(d, n, sp, scale, cutoff, idx);
    if (cpu()->avx2)
        return select_avx2(d, n, sp, scale, cutoff, idx);
#endif
    return select_from(0, d, n, sp, scale, cutoff, idx, 0);
}

static void f32_portable(const float *p, const float *rows, size_t stride, size_t dim, size_t n,
                         float *out)
{
    for (size_t r = 0; r < n; ++r) {
        const float *a = rows + r * stride;
        float s = 0;
        for (size_t i = 0; i < dim; ++i)
            s += p[i] * a[i];
        out[r] = s;
    }
}

#if defined(__x86_64__) || defined(__i386__)
/* The sums of the sixteen lanes of a, b, c and d, as one vector of four: two rounds of 128-bit
 * shuffles and adds, then the four lanes within each 128 bits (far fewer shuffles than four
 * separate reductions). */
__attribute__((target("avx512f"), always_inline)) static inline __m128
sum4_avx512(__m512 a, __m512 b, __m512 c, __m512 d)
{
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xee));
    /* 128-bit lane k: four partial sums of a, b, c, d (k = 0..3) */
    __m512 v =
        _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xdd));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, 0x4e)); /* swap the pairs */
    v = _mm512_add_ps(v, _mm512_permute_ps(v, 0xb1)); /* swap within the pairs */
    /* element 0 of each 128-bit lane holds its total: gather lanes 0, 4, 8, 12 */
    const __m512i idx = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(idx, v));
}

/* R rows x P probes (R <= 4, P <= 6: 24 accumulators of 16 lanes, four row registers and one
 * probe register fit the 32 vector registers), over the whole stride, then each accumulator's
 * lanes summed; the R rows at @p next are prefetched into L1 on the way (the rows come from L2,
 * and their loads were half the time). Inlined with constant R and P, so the arrays become
 * registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
f32_tile(int R, int P, const float *probes, const float *rows, const float *next, size_t stride,
         size_t n, float *out)
{
    __m512 acc[4][6];
    for (int r = 0; r < R; ++r)
        for (int q = 0; q < P; ++q)
            acc[r][q] = _mm512_setzero_ps();
    for (size_t c = 0; c < stride; c += 16) {
        __m512 rv[4];
        for (int r = 0; r < R; ++r) {
            rv[r] = _mm512_load_ps(rows + (size_t)r * stride + c);
            _mm_prefetch((const char *)(next + (size_t)r * stride + c), _MM_HINT_T0);
        }
        for (int q = 0; q < P; ++q) {
            __m512 pv = _mm512_load_ps(probes + (size_t)q * stride + c);
            for (int r = 0; r < R; ++r)
                acc[r][q] = _mm512_fmadd_ps(rv[r], pv, acc[r][q]);
        }
    }
    for (int q = 0; q < P; ++q) {
        if (R == 4) { /* four rows' sums at once, stored together */
            _mm_storeu_ps(out + (size_t)q * n,
                          sum4_avx512(acc[0][q], acc[1][q], acc[2][q], acc[3][q]));
            continue;
        }
        for (int r = 0; r < R; ++r)
            out[(size_t)q * n + (size_t)r] = _mm512_reduce_add_ps(acc[r][q]);
    }
}

/* Rows in blocks of 256 (in L2 while every probe group passes over them), then groups of six
 * probes and four rows. */
__attribute__((target("avx512f"))) static void f32_batch_avx512(const float *probes, size_t n_q,
                                                                const float *rows, size_t stride,
                                                                size_t n, float *out)
{
    for (size_t b0 = 0; b0 < n; b0 += 256) {
        size_t b1 = b0 + 256 < n ? b0 + 256 : n;
        /* The next block on its way from memory into L2 while this one is multiplied, spread
         * evenly over this block's tiles. */
        const char *pf = (const char *)(rows + b1 * stride),
                   *pf_end = (const char *)(rows + (b1 + 256 < n ? b1 + 256 : n) * stride);
        size_t tiles = (n_q + 5) / 6 * ((b1 - b0 + 3) / 4),
               per_tile = ((size_t)(pf_end - pf) / 64 + tiles - 1) / tiles;
        for (size_t q0 = 0; q0 < n_q; q0 += 6) {
            int P = n_q - q0 < 6 ? (int)(n_q - q0) : 6;
            const float *pq = probes + q0 * stride;
            for (size_t r0 = b0; r0 < b1; r0 += 4) {
                for (size_t l = 0; l < per_tile && pf < pf_end; ++l, pf += 64)
                    _mm_prefetch(pf, _MM_HINT_T1);
                int R = b1 - r0 < 4 ? (int)(b1 - r0) : 4;
                const float *rr = rows + r0 * stride;
                /* the next four rows, fetched into L1 while these are multiplied */
                const float *nx = r0 + 8 <= n ? rr + 4 * stride : rr;
                float *o = out + q0 * n + r0;
#define BX_TILE(RR)                                                                                \
    switch (P) {                                                                                   \
    case 1:                                                                                        \
        f32_tile(RR, 1, pq, rr, nx, stride, n, o);                                                 \
        break;                                                                                     \
    case 2:                                                                                        \
        f32_tile(RR, 2, pq, rr, nx, stride, n, o);                                                 \
        break;                                                                                     \
    case 3:                                                                                        \
        f32_tile(RR, 3, pq, rr, nx, stride, n, o);                                                 \
        break;                                                                                     \
    case 4:                                                                                        \
        f32_tile(RR, 4, pq, rr, nx, stride, n, o);                                                 \
        break;                                                                                     \
    case 5:                                                                                        \
        f32_tile(RR, 5, pq, rr, nx, stride, n, o);                                                 \
        break;                                                                                     \
    default:                                                                                       \
        f32_tile(RR, 6, pq, rr, nx, stride, n, o);                                                 \
        break;                                                                                     \
    }
                switch (R) {
                case 1:
                    BX_TILE(1);
                    break;
                case 2:
                    BX_TILE(2);
                    break;
                case 3:
                    BX_TILE(3);
                    break;
                default:
                    BX_TILE(4);
                    break;
                }
#undef BX_TILE
            }
        }
    }
}
#endif

bx_match__f32_batch_fn *bx_match__f32_batch_kernel(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->microkernel)
        return f32_batch_avx512;
#endif
    return NULL;
}

bx_match__f32_fn *bx_match__f32_kernel(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->avx2 && cpu()->fma)
        return f32_avx2;
#endif
    return f32_portable;
}

/* The kernels, best first: probes per call (what a kernel's registers or tiles hold), and the
 * index layout each reads. */
static const struct bx_match__i8_kernel kernels[] = {
#if defined(__x86_64__)
    {"amx-int8", i8_amx, 32, true},
#endif
#if defined(__x86_64__) || defined(__i386__)
    {"avx512-vnni", i8_vnni, VEC_PROBES, false},
    {"avx2", i8_avx2, VEC_PROBES, false},
#endif
    {"portable", i8_portable, VEC_PROBES, false},
};
#define N_KERNELS (sizeof kernels / sizeof kernels[0])

static bool cpu_runs(const char *name)
{
    if (strcmp(name, "amx-int8") == 0)
        return cpu()->amx_int8;
    if (strcmp(name, "avx512-vnni") == 0)
        return cpu()->avx512_vnni;
    if (strcmp(name, "avx2") == 0)
        return cpu()->avx2;
    return strcmp(name, "portable") == 0;
}

const struct bx_match__i8_kernel *bx_match__i8_kernel_named(const char *name)
{
    for (size_t i = 0; i < N_KERNELS; ++i)
        if (strcmp(kernels[i].name, name) == 0)
            return cpu_runs(name) ? &kernels[i] : NULL;
    return NULL;
}

const struct bx_match__i8_kernel *bx_match__i8_kernel(void)
{
    const char *forced = getenv("BX_MATCH_ISA");
    const struct bx_match__i8_kernel *k = forced ? bx_match__i8_kernel_named(forced) : NULL;
    for (size_t i = 0; k == NULL && i < N_KERNELS; ++i)
        k = bx_match__i8_kernel_named(kernels[i].name);
    return k;
}

const char *bx_match_fast_isa(void)
{
    return bx_match__i8_kernel()->name;
}

size_t bx_match_i8_kernels(const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < N_KERNELS && n < max; ++i)
        if (cpu_runs(kernels[i].name))
            names[n++] = kernels[i].name;
    return n;
}

size_t bx_match_i8_probes_per_pass(const char *name)
{
    for (size_t i = 0; i < N_KERNELS; ++i)
        if (strcmp(kernels[i].name, name) == 0)
            return kernels[i].max_probes;
    return 0;
}

/* ---------------------------------------------------------------- compute ceilings */

static volatile int32_t peak_sink;

#if defined(__x86_64__)
/* tdpbssd into six tiles from one A and one B tile that never change: 6 x 16 x 16 x 64
 * multiply-adds per iteration (six chains hide the instruction's latency). */
__attribute__((target("amx-tile,amx-int8"))) static double peak_amx(double seconds)
{
    _Alignas(64) struct amx_cfg cfg = {.palette = 1};
    for (int t = 0; t < 8; ++t) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _Alignas(64) int8_t src[1024];
    _Alignas(64) int32_t dst[256];
    for (int i = 0; i < 1024; ++i)
        src[i] = (int8_t)(i % 7 - 3);
    _tile_loadconfig(&cfg);
    _tile_loadd(6, src, 64);
    _tile_loadd(7, src, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_zero(4);
    _tile_zero(5);
    double t0 = bx_wall_s(), dt, macs = 0;
    do {
        for (int k = 0; k < 4096; ++k) {
            _tile_dpbssd(0, 6, 7);
            _tile_dpbssd(1, 6, 7);
            _tile_dpbssd(2, 6, 7);
            _tile_dpbssd(3, 6, 7);
            _tile_dpbssd(4, 6, 7);
            _tile_dpbssd(5, 6, 7);
        }
        macs += 4096.0 * 6 * 16 * 16 * 64;
        dt = bx_wall_s() - t0;
    } while (dt < seconds);
    _tile_stored(0, dst, 64);
    _tile_release();
    peak_sink = peak_sink + dst[0];
    return macs / dt;
}
#endif

#if defined(__x86_64__) || defined(__i386__)
/* vpdpbusd into twelve independent accumulators: 12 x 64 multiply-adds per iteration. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double peak_vnni(double seconds)
{
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
            c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    double t0 = bx_wall_s(), dt, macs = 0;
    do {
        for (int k = 0; k < 65536; ++k) {
            c0 = _mm512_dpbusd_epi32(c0, a, b);
            c1 = _mm512_dpbusd_epi32(c1, a, b);
            c2 = _mm512_dpbusd_epi32(c2, a, b);
            c3 = _mm512_dpbusd_epi32(c3, a, b);
            c4 = _mm512_dpbusd_epi32(c4, a, b);
            c5 = _mm512_dpbusd_epi32(c5, a, b);
            c6 = _mm512_dpbusd_epi32(c6, a, b);
            c7 = _mm512_dpbusd_epi32(c7, a, b);
            c8 = _mm512_dpbusd_epi32(c8, a, b);
            c9 = _mm512_dpbusd_epi32(c9, a, b);
            c10 = _mm512_dpbusd_epi32(c10, a, b);
            c11 = _mm512_dpbusd_epi32(c11, a, b);
            __asm__ volatile("" : "+v"(a), "+v"(b)); /* no hoisting of the sums */
        }
        macs += 65536.0 * 12 * 64;
        dt = bx_wall_s() - t0;
    } while (dt < seconds);
    __m512i s = _mm512_add_epi32(
        _mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)),
                         _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11))));
    peak_sink = peak_sink + _mm512_reduce_add_epi32(s);
    return macs / dt;
}

/* The AVX2 kernel's step (two vpmaddubsw, vpaddw, vpmaddwd, vpaddd: 64 multiply-adds) into
 * four independent accumulators, each from its own operands (with shared operands the compiler
 * computed the step once for all four and the ceiling came out four times too high). */
__attribute__((target("avx2"))) static double peak_avx2(double seconds)
{
    __m256i a0 = _mm256_set1_epi8(3), a1 = _mm256_set1_epi8(5), a2 = _mm256_set1_epi8(7),
            a3 = _mm256_set1_epi8(9), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
#define STEP(c, a)                                                                                 \
    c = _mm256_add_epi32(                                                                          \
        c, _mm256_madd_epi16(                                                                      \
               _mm256_add_epi16(_mm256_maddubs_epi16(a, b), _mm256_maddubs_epi16(b, a)), ones))
    double t0 = bx_wall_s(), dt, macs = 0;
    do {
        for (int k = 0; k < 65536; ++k) {
            STEP(c0, a0);
            STEP(c1, a1);
            STEP(c2, a2);
            STEP(c3, a3);
            __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(b));
        }
        macs += 65536.0 * 4 * 64;
        dt = bx_wall_s() - t0;
    } while (dt < seconds);
#undef STEP
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3));
    peak_sink = peak_sink + _mm256_extract_epi32(s, 0);
    return macs / dt;
}
#endif

/* The portable kernel on 64 rows of d = 512 in L1, four probes. */
static double peak_portable(double seconds)
{
    enum { ROWS = 64, D = 512 };
    int8_t *q = bx_alloc_aligned(ROWS * D + 4 * D);
    if (q == NULL)
        return BX_NAN;
    for (int i = 0; i < ROWS * D + 4 * D; ++i)
        q[i] = (int8_t)(i % 11 - 5);
    struct bx_fast_index ix = {.rows = ROWS, .stride = D, .q = q};
    int32_t out[4 * ROWS], psum[4] = {0};
    double t0 = bx_wall_s(), dt, macs = 0;
    do {
        i8_portable(q + ROWS * D, psum, 4, &ix, 0, ROWS, out);
        peak_sink = peak_sink + out[0];
        macs += 4.0 * ROWS * D;
        dt = bx_wall_s() - t0;
    } while (dt < seconds);
    bx_free_aligned(q);
    return macs / dt;
}

double bx_match_i8_peak(const char *name, double seconds)
{
    if (!cpu_runs(name))
        return BX_NAN;
#if defined(__x86_64__)
    if (strcmp(name, "amx-int8") == 0)
        return peak_amx(seconds);
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (strcmp(name, "avx512-vnni") == 0)
        return peak_vnni(seconds);
    if (strcmp(name, "avx2") == 0)
        return peak_avx2(seconds);
#endif
    return peak_portable(seconds);
}

/* ---------------------------------------------------------------- exact re-scoring */

/* Eight interleaved partial sums (term i into sum i mod 8), combined pairwise in a fixed order:
 * as deterministic as a sequential sum (and at least as accurate), but without its
 * 4-cycle-per-term dependency chain. The vector versions keep the eight sums in lanes and give
 * the same numbers: each product and each sum rounded once, never fused. */
static double combine8(const double s[8])
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* The terms from @p i on (fewer than eight: the tail past the vector loop) into s, then
 * combine8: every path's last step. */
static double finish8(double s[8], const float *a, const float *b, size_t i, size_t dim)
{
    for (size_t j = 0; i < dim; ++i, ++j)
        s[j] += (double)a[i] * (double)b[i];
    return combine8(s);
}

double bx_match__dot_portable(const float *a, const float *b, size_t dim)
{
    double s[8] = {0};
    size_t i = 0;
    for (; i + 8 <= dim; i += 8)
        for (size_t j = 0; j < 8; ++j)
            s[j] += (double)a[i + j] * (double)b[i + j];
    return finish8(s, a, b, i, dim);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) static double dot_avx512(const float *a, const float *b,
                                                            size_t dim)
{
    __m512d acc = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= dim; i += 8)
        acc = _mm512_add_pd(acc, _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i)),
                                               _mm512_cvtps_pd(_mm256_loadu_ps(b + i))));
    _Alignas(64) double s[8];
    _mm512_store_pd(s, acc);
    return finish8(s, a, b, i, dim);
}

__attribute__((target("avx2"))) static double dot_avx2(const float *a, const float *b, size_t dim)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        lo = _mm256_add_pd(lo, _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + i)),
                                             _mm256_cvtps_pd(_mm_loadu_ps(b + i))));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + i + 4)),
                                             _mm256_cvtps_pd(_mm_loadu_ps(b + i + 4))));
    }
    _Alignas(32) double s[8];
    _mm256_store_pd(s, lo);
    _mm256_store_pd(s + 4, hi);
    return finish8(s, a, b, i, dim);
}
#endif

#if defined(__x86_64__) || defined(__i386__)
/* dot_avx512 of @p a with four rows at once: four independent chains of additions instead of
 * one (each row's sums are dot_avx512's, in its order: the same numbers). */
__attribute__((target("avx512f"))) static void dot4_avx512(const float *a, const float *const b[4],
                                                           size_t dim, double out[4])
{
    __m512d c0 = _mm512_setzero_pd(), c1 = c0, c2 = c0, c3 = c0;
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        __m512d x = _mm512_cvtps_pd(_mm256_loadu_ps(a + i));
        c0 = _mm512_add_pd(c0, _mm512_mul_pd(x, _mm512_cvtps_pd(_mm256_loadu_ps(b[0] + i))));
        c1 = _mm512_add_pd(c1, _mm512_mul_pd(x, _mm512_cvtps_pd(_mm256_loadu_ps(b[1] + i))));
        c2 = _mm512_add_pd(c2, _mm512_mul_pd(x, _mm512_cvtps_pd(_mm256_loadu_ps(b[2] + i))));
        c3 = _mm512_add_pd(c3, _mm512_mul_pd(x, _mm512_cvtps_pd(_mm256_loadu_ps(b[3] + i))));
    }
    _Alignas(64) double s[4][8];
    _mm512_store_pd(s[0], c0);
    _mm512_store_pd(s[1], c1);
    _mm512_store_pd(s[2], c2);
    _mm512_store_pd(s[3], c3);
    for (int r = 0; r < 4; ++r)
        out[r] = finish8(s[r], a, b[r], i, dim);
}
#endif

void bx_match__dot4(const float *a, const float *const b[4], size_t dim, double out[4])
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->avx512f) {
        dot4_avx512(a, b, dim, out);
        return;
    }
#endif
    for (int r = 0; r < 4; ++r)
        out[r] = bx_match__dot(a, b[r], dim);
}

double bx_match__dot_with(const char *path, const float *a, const float *b, size_t dim)
{
#if defined(__x86_64__) || defined(__i386__)
    if (strcmp(path, "avx512") == 0)
        return cpu()->avx512f ? dot_avx512(a, b, dim) : BX_NAN;
    if (strcmp(path, "avx2") == 0)
        return cpu()->avx2 ? dot_avx2(a, b, dim) : BX_NAN;
#endif
    return strcmp(path, "portable") == 0 ? bx_match__dot_portable(a, b, dim) : BX_NAN;
}

double bx_match__dot(const float *a, const float *b, size_t dim)
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->avx512f)
        return dot_avx512(a, b, dim);
    if (cpu()->avx2)
        return dot_avx2(a, b, dim);
#endif
    return bx_match__dot_portable(a, b, dim);
}

/* ---------------------------------------------------------------- the index */

void bx_match__fast_free(struct bx_fast_index *ix)
{
    bx_free_aligned(ix->q);
    free(ix->scale);
    free(ix->sum);
    memset(ix, 0, sizeof *ix);
}

#if defined(__x86_64__) || defined(__i386__)
/* The same numbers as the portable code: the largest magnitude is exact in any order, the
 * division is IEEE's, vcvtps2dq rounds to nearest even as lrintf does in the default rounding
 * mode, and the sum is of integers. */
__attribute__((target("avx512f,avx512bw"))) static float
quantize_avx512(const float *v, size_t dim, size_t stride, int8_t *q, int32_t *sum)
{
    __m512 m = _mm512_setzero_ps();
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff);
    for (size_t i = 0; i < dim; i += 16) {
        __mmask16 k = dim - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (dim - i)) - 1);
        m = _mm512_max_ps(m, _mm512_castsi512_ps(_mm512_and_si512(
                                 _mm512_castps_si512(_mm512_maskz_loadu_ps(k, v + i)), absmask)));
    }
    float amax = _mm512_reduce_max_ps(m);
    float scale = amax > 0 ? amax / (float)BX_I8_LEVELS : 1.0f;
    const __m512 vs = _mm512_set1_ps(scale);
    const __m512i hi = _mm512_set1_epi32(BX_I8_LEVELS), lo = _mm512_set1_epi32(-BX_I8_LEVELS);
    __m512i acc = _mm512_setzero_si512();
    for (size_t i = 0; i < dim; i += 16) {
        __mmask16 k = dim - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (dim - i)) - 1);
        __m512i x = _mm512_cvtps_epi32(_mm512_div_ps(_mm512_maskz_loadu_ps(k, v + i), vs));
        x = _mm512_min_epi32(_mm512_max_epi32(x, lo), hi);
        x = _mm512_maskz_mov_epi32(k, x);
        acc = _mm512_add_epi32(acc, x);
        _mm512_mask_cvtepi32_storeu_epi8(q + i, k, x);
    }
    memset(q + dim, 0, stride - dim);
    if (sum)
        *sum = _mm512_reduce_add_epi32(acc);
    return scale;
}
#endif

static float quantize_portable(const float *v, size_t dim, size_t stride, int8_t *q, int32_t *sum)
{
    float amax = 0;
    for (size_t i = 0; i < dim; ++i)
        amax = fmaxf(amax, fabsf(v[i]));
    float scale = amax > 0 ? amax / (float)BX_I8_LEVELS : 1.0f;
    int32_t s = 0;
    for (size_t i = 0; i < dim; ++i) {
        long x = lrintf(v[i] / scale);
        x = x > BX_I8_LEVELS ? BX_I8_LEVELS : x < -BX_I8_LEVELS ? -BX_I8_LEVELS : x;
        q[i] = (int8_t)x;
        s += (int32_t)x;
    }
    memset(q + dim, 0, stride - dim);
    if (sum)
        *sum = s;
    return scale;
}

float bx_match__quantize(const float *v, size_t dim, size_t stride, int8_t *q, int32_t *sum)
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->avx512bw)
        return quantize_avx512(v, dim, stride, q, sum);
#endif
    return quantize_portable(v, dim, stride, q, sum);
}

/* Row r's quantised bytes (a natural row of `stride` bytes) into the tiled layout. */
static void put_tiled(struct bx_fast_index *ix, size_t r, const int8_t *row)
{
    size_t nc = ix->stride / 64, b = r / 16, n = r % 16;
    int8_t *blk = ix->q + b * nc * 1024;
    for (size_t c = 0; c < nc; ++c)
        for (size_t kk = 0; kk < 16; ++kk)
            memcpy(blk + c * 1024 + kk * 64 + n * 4, row + c * 64 + kk * 4, 4);
}

/* Room for @p rows in @p ix (capacity doubling, a multiple of 16 rows), the rows held kept. */
static enum bx_status grow(struct bx_fast_index *ix, size_t rows, struct bx_error *err)
{
    if (rows <= ix->cap && ix->q != NULL)
        return BX_OK;
    size_t cap = ix->cap * 2 > rows ? ix->cap * 2 : rows;
    cap = (cap + 15) / 16 * 16;
    size_t bytes, old = ix->cap * ix->stride;
    if (!bx_size_mul(cap ? cap : 16, ix->stride, &bytes))
        return BX_FAIL(err, BX_ENOMEM, "int8 index too large");
    int8_t *q = bx_alloc_aligned(bytes);
    float *scale = realloc(ix->scale, (cap ? cap : 16) * sizeof *scale);
    if (scale)
        ix->scale = scale;
    int32_t *sum = realloc(ix->sum, (cap ? cap : 16) * sizeof *sum);
    if (sum)
        ix->sum = sum;
    if (q == NULL || scale == NULL || sum == NULL) {
        bx_free_aligned(q);
        return BX_FAIL(err, BX_ENOMEM, "cannot allocate the int8 index (%zu rows)", rows);
    }
    if (ix->q && old)
        memcpy(q, ix->q, old);
    memset(q + old, 0, bytes - old); /* the tiled layout's padding rows are zero */
    bx_free_aligned(ix->q);
    ix->q = q;
    ix->cap = cap;
    return BX_OK;
}

enum bx_status bx_match__fast_prepare(struct bx_store *g, bool tiled, struct bx_error *err)
{
    enum bx_status st = BX_OK;
    pthread_mutex_lock(&g->fast_mu);
    struct bx_fast_index *ix = &g->fast;
    size_t stride = (g->dim + 63) / 64 * 64;
    /* Up to date; or only rows appended since: quantise those. Else start again. */
    bool keep = ix->q != NULL && ix->tiled == tiled && ix->stride == stride &&
                g->fast_layout_version == g->layout_version && ix->rows <= g->n;
    if (keep && ix->rows == g->n)
        goto done;
    if (!keep) {
        bx_match__fast_free(ix);
        *ix = (struct bx_fast_index){.stride = stride, .tiled = tiled};
    }
    int8_t *row = tiled ? bx_alloc_aligned(stride) : NULL;
    if ((tiled && row == NULL) || (st = grow(ix, g->n, err)) != BX_OK) {
        bx_free_aligned(row);
        bx_match__fast_free(ix);
        st = st != BX_OK ? st : BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t r = ix->rows; r < g->n; ++r) {
        int8_t *dst = tiled ? row : ix->q + r * stride;
        ix->scale[r] = bx_match__quantize(g->tpl + r * g->stride, g->dim, stride, dst, &ix->sum[r]);
        if (tiled)
            put_tiled(ix, r, row);
    }
    bx_free_aligned(row);
    ix->rows = g->n;
    g->fast_layout_version = g->layout_version;
done:
    pthread_mutex_unlock(&g->fast_mu);
    return st;
}
