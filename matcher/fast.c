/* SPDX-License-Identifier: MIT */
/* fast.c - the int8 short-listing index and its dot-product kernels.
 *
 * Each row (and probe) is quantised with its own scale, q = round(x / s) with s = max|x| / 63
 * (7 bits: BX_I8_LEVELS, which lets the AVX2 kernel add two steps in 16 bits), so that
 * q . q' * s * s' approximates the cosine to about 3e-3 for d = 512 unit vectors; the exact
 * re-scoring in search.c removes that error from the reported scores. Kernels are chosen at run
 * time: AVX-512 VNNI (vpdpbusd, unsigned x signed bytes, hence the probe is offset by 128 and
 * 128 * sum(q) subtracted), AVX2 (sign-extend to 16 bits, vpmaddwd), or portable C.
 */
#include "matcher_internal.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- kernels */

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
    BX_REQUIRE(n_p <= BX_I8_MAX_PROBES && stride <= BX_TPL_DIM_MAX);
    if (n_p == 4) {
        i8_avx2_x4(p, psum, ix, r0, r1, out);
        return;
    }
    const __m256i ones = _mm256_set1_epi16(1), off = _mm256_set1_epi8(64);
    int32_t corr[BX_I8_MAX_PROBES];
    for (size_t j = 0; j < n_p; ++j)
        corr[j] = 64 * psum[j];
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * stride;
        __m256i acc[BX_I8_MAX_PROBES];
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

/* vpdpbusd multiplies unsigned by signed bytes: probes are offset by 128 once per call and
 * 128 * sum(q_row) is subtracted. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
i8_vnni(const int8_t *p, const int32_t *psum, size_t n_p, const struct bx_fast_index *ix, size_t r0,
        size_t r1, int32_t *out)
{
    (void)psum; /* the offset is on the probe here: 128 * sum(row) is subtracted */
    size_t stride = ix->stride, n64 = stride / 64, nb = r1 - r0;
    _Alignas(64) uint8_t u[BX_I8_MAX_PROBES * BX_TPL_DIM_MAX];
    BX_REQUIRE(n_p <= BX_I8_MAX_PROBES && stride <= BX_TPL_DIM_MAX);
    for (size_t i = 0; i < n_p * stride; ++i)
        u[i] = (uint8_t)(p[i] + 128);
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * stride;
        __m512i acc[BX_I8_MAX_PROBES];
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

static size_t select_portable(const int32_t *d, size_t n, float sp, const float *scale,
                              float cutoff, uint32_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; ++i)
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
    for (; i < n; ++i)
        if ((float)d[i] * sp * scale[i] >= cutoff)
            idx[m++] = (uint32_t)i;
    return m;
}
#endif

/* What this CPU has, detected once (pthread_once: the search threads ask concurrently). */
struct cpu_isa {
    bool avx2, fma, avx512_vnni;
};
static struct cpu_isa isa;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void detect_isa(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    isa.avx2 = __builtin_cpu_supports("avx2");
    isa.fma = __builtin_cpu_supports("fma");
    isa.avx512_vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vnni");
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
    if (cpu()->avx2)
        return select_avx2(d, n, sp, scale, cutoff, idx);
#endif
    return select_portable(d, n, sp, scale, cutoff, idx);
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

bx_match__f32_fn *bx_match__f32_kernel(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (cpu()->avx2 && cpu()->fma)
        return f32_avx2;
#endif
    return f32_portable;
}

static bool cpu_has(const char *name)
{
    if (strcmp(name, "avx2") == 0)
        return cpu()->avx2;
    if (strcmp(name, "avx512-vnni") == 0)
        return cpu()->avx512_vnni;
    return strcmp(name, "portable") == 0;
}

bx_match__i8_fn *bx_match__i8_kernel_named(const char *name)
{
    if (!cpu_has(name))
        return NULL;
#if defined(__x86_64__) || defined(__i386__)
    if (strcmp(name, "avx512-vnni") == 0)
        return i8_vnni;
    if (strcmp(name, "avx2") == 0)
        return i8_avx2;
#endif
    return i8_portable;
}

bx_match__i8_fn *bx_match__i8_kernel(const char **name)
{
    static const char *const order[] = {"avx512-vnni", "avx2", "portable"};
    const char *forced = getenv("BX_MATCH_ISA");
    if (forced && bx_match__i8_kernel_named(forced)) {
        for (size_t i = 0; i < 3; ++i)
            if (strcmp(order[i], forced) == 0)
                *name = order[i];
        return bx_match__i8_kernel_named(forced);
    }
    for (size_t i = 0; i < 3; ++i) {
        bx_match__i8_fn *fn = bx_match__i8_kernel_named(order[i]);
        if (fn) {
            *name = order[i];
            return fn;
        }
    }
    *name = "portable";
    return i8_portable;
}

const char *bx_match_fast_isa(void)
{
    const char *name = "portable";
    bx_match__i8_kernel(&name);
    return name;
}

/* ---------------------------------------------------------------- the index */

void bx_match__fast_free(struct bx_fast_index *ix)
{
    bx_free_aligned(ix->q);
    free(ix->scale);
    free(ix->sum);
    memset(ix, 0, sizeof *ix);
}

float bx_match__quantize(const float *v, size_t dim, size_t stride, int8_t *q, int32_t *sum)
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

enum bx_status bx_match__fast_prepare(struct bx_store *g, struct bx_error *err)
{
    enum bx_status st = BX_OK;
    pthread_mutex_lock(&g->fast_mu);
    if (g->fast.q != NULL && g->fast_version == g->version && g->fast.rows == g->n)
        goto done;
    struct bx_fast_index ix = {.rows = g->n, .stride = (g->dim + 63) / 64 * 64};
    size_t bytes;
    if (!bx_size_mul(g->n ? g->n : 1, ix.stride, &bytes)) {
        st = BX_FAIL(err, BX_ENOMEM, "int8 index too large");
        goto done;
    }
    ix.q = bx_alloc_aligned(bytes);
    ix.scale = malloc((g->n ? g->n : 1) * sizeof *ix.scale);
    ix.sum = malloc((g->n ? g->n : 1) * sizeof *ix.sum);
    if (ix.q == NULL || ix.scale == NULL || ix.sum == NULL) {
        bx_match__fast_free(&ix);
        st = BX_FAIL(err, BX_ENOMEM, "cannot allocate the int8 index (%zu rows)", g->n);
        goto done;
    }
    for (size_t r = 0; r < g->n; ++r)
        ix.scale[r] = bx_match__quantize(g->tpl + r * g->stride, g->dim, ix.stride,
                                         ix.q + r * ix.stride, &ix.sum[r]);
    bx_match__fast_free(&g->fast);
    g->fast = ix;
    g->fast_version = g->version;
done:
    pthread_mutex_unlock(&g->fast_mu);
    return st;
}
