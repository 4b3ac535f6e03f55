/* SPDX-License-Identifier: MIT */
/* fast.c - the int8 short-listing index and its dot-product kernels.
 *
 * Each row is quantised with its own scale, q = round(x / s) with s = max|x| / 127, so that
 * q . q' * s * s' approximates the cosine to about 1e-3 for d = 512 unit vectors; the exact
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

static void i8_portable(const int8_t *p, int32_t p_sum, const struct bx_fast_index *ix, size_t r0,
                        size_t r1, int32_t *out)
{
    (void)p_sum;
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * ix->stride;
        int32_t s = 0;
        for (size_t i = 0; i < ix->stride; ++i)
            s += (int32_t)p[i] * (int32_t)q[i];
        out[r - r0] = s;
    }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void i8_avx2(const int8_t *p, int32_t p_sum,
                                                    const struct bx_fast_index *ix, size_t r0,
                                                    size_t r1, int32_t *out)
{
    (void)p_sum;
    size_t n32 = ix->stride / 32;
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * ix->stride;
        __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
        for (size_t c = 0; c < n32; ++c) {
            __m256i pv = _mm256_load_si256((const __m256i *)(p + 32 * c));
            __m256i qv = _mm256_load_si256((const __m256i *)(q + 32 * c));
            __m256i p_lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(pv));
            __m256i p_hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(pv, 1));
            __m256i q_lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(qv));
            __m256i q_hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(qv, 1));
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(p_lo, q_lo));
            acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(p_hi, q_hi));
        }
        __m256i acc = _mm256_add_epi32(acc0, acc1);
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        out[r - r0] = _mm_cvtsi128_si32(s);
    }
}

/* p here is the probe offset to unsigned (q + 128, stored as bytes); p_sum unused. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
i8_vnni(const int8_t *p, int32_t p_sum, const struct bx_fast_index *ix, size_t r0, size_t r1,
        int32_t *out)
{
    (void)p_sum;
    size_t n64 = ix->stride / 64;
    for (size_t r = r0; r < r1; ++r) {
        const int8_t *q = ix->q + r * ix->stride;
        __m512i acc = _mm512_setzero_si512();
        for (size_t c = 0; c < n64; ++c) {
            __m512i pv = _mm512_load_si512((const void *)(p + 64 * c));
            __m512i qv = _mm512_load_si512((const void *)(q + 64 * c));
            acc = _mm512_dpbusd_epi32(acc, pv, qv);
        }
        out[r - r0] = _mm512_reduce_add_epi32(acc) - 128 * ix->sum[r];
    }
}
#endif

static bool cpu_has(const char *isa)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2");
    if (strcmp(isa, "avx512-vnni") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
#endif
    return strcmp(isa, "portable") == 0;
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
    float scale = amax > 0 ? amax / 127.0f : 1.0f;
    int32_t s = 0;
    for (size_t i = 0; i < dim; ++i) {
        long x = lrintf(v[i] / scale);
        x = x > 127 ? 127 : x < -127 ? -127 : x;
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
