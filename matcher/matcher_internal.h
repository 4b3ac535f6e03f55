/* SPDX-License-Identifier: MIT */
/* matcher_internal.h - shared by matcher/'s files, never installed. */
#ifndef BX_MATCHER_INTERNAL_H
#define BX_MATCHER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/matcher.h"

struct bx_column {
    char name[64];
    enum bx_column_type type;
    double *v; /* cap entries */
};

/* The int8 short-listing index (fast path). */
struct bx_fast_index {
    size_t rows;   /* rows covered (== store rows when fresh) */
    size_t stride; /* bytes per row, a multiple of 64, zero padded */
    /* rows * stride; or, `tiled` (the AMX kernel's layout), rows padded with zeros to a
     * multiple of 16 and stored by blocks of 16 rows and 64-byte chunks: chunk c of block b is
     * the 1,024 bytes at (b * stride / 64 + c) * 1024, byte 64 kk + 4 n + t holding
     * q[16 b + n][64 c + 4 kk + t] (a tile operand B: 16 rows of 4-byte groups). */
    int8_t *q;
    size_t cap; /* rows q, scale and sum have room for (a multiple of 16) */
    bool tiled;
    float *scale; /* per row: value = q * scale */
    int32_t *sum; /* per row: sum of q (for the unsigned-times-signed VNNI trick) */
};

struct bx_store {
    size_t dim;
    size_t stride; /* floats per row: dim rounded up to 16 (64 bytes), zero padded */
    size_t n, cap, n_live;
    float *tpl; /* cap * stride, 64-byte aligned */
    int64_t *subject;
    struct bx_tpl_meta *meta;
    uint8_t *live;
    struct bx_column *cols;
    size_t n_cols;
    char *provenance; /* how the rows were made (root attribute `provenance`), or NULL */
    /* Built on first fast search; extended when rows were only appended since (rows are only
     * ever appended, or moved by a compaction, which counts in `layout_version`), rebuilt
     * otherwise. */
    pthread_mutex_t fast_mu;
    struct bx_fast_index fast;
    uint64_t layout_version, fast_layout_version;
};

/* Rigorous bound on |float32 dot - exact dot| for unit vectors of dimension dim accumulated in
 * any order (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5, with the
 * sum of |a_i b_i| <= 1 by Cauchy-Schwarz), plus the input rounding of the probe. */
static inline double bx_match__float_dot_bound(size_t dim)
{
    double u = 0x1.0p-24, nu = (double)(dim + 2) * u;
    return nu / (1 - nu) + 1e-7;
}

/* Double-precision dot product in a fixed order (docs/templates.md): the reported score. */
double bx_match__dot(const float *a, const float *b, size_t dim);
/* bx_match__dot of @p a with four rows at once (the same four numbers, faster: the exact
 * re-scoring of a probe's candidates). */
void bx_match__dot4(const float *a, const float *const b[4], size_t dim, double out[4]);
/* The same on the portable path (tests: every path gives its numbers). */
double bx_match__dot_portable(const float *a, const float *b, size_t dim);
/* The path named "avx512", "avx2" or "portable"; NaN where the CPU lacks it (tests). */
double bx_match__dot_with(const char *path, const float *a, const float *b, size_t dim);

/* Quantisation levels of the int8 index: values in [-BX_I8_LEVELS, BX_I8_LEVELS] (fast.c). */
#define BX_I8_LEVELS 63

/* Quantise v[dim] into q[stride] (zero padded), its sum into *sum; @return the scale. */
float bx_match__quantize(const float *v, size_t dim, size_t stride, int8_t *q, int32_t *sum);
void bx_match__fast_free(struct bx_fast_index *ix);

/* Build or refresh g's int8 index under its mutex, in the layout a kernel reads (`tiled`: the
 * AMX kernel's; a change of kernel rebuilds it). */
enum bx_status bx_match__fast_prepare(struct bx_store *g, bool tiled, struct bx_error *err);

/* int8 dot products of n_p (1 to the kernel's max_probes) quantised probes, each padded like a
 * row, consecutive, against rows [r0, r1) of the index: out[j * (r1 - r0) + (r - r0)] =
 * q_probe_j . q_row. psum[j] is the sum of probe j's quantised values (bx_match__quantize's
 * *sum), computed once per search rather than once per block. */
#define BX_I8_MAX_PROBES 32 /* the most any kernel takes per call */
typedef void bx_match__i8_fn(const int8_t *probes, const int32_t *psum, size_t n_p,
                             const struct bx_fast_index *ix, size_t r0, size_t r1, int32_t *out);
struct bx_match__i8_kernel {
    const char *name; /* amx-int8, avx512-vnni, avx2, portable (BX_MATCH_ISA) */
    bx_match__i8_fn *fn;
    size_t max_probes; /* probes per call */
    bool tiled;        /* reads the index in the tiled layout */
};
/* The kernel to use: BX_MATCH_ISA's when this CPU runs it, else the best it runs. */
const struct bx_match__i8_kernel *bx_match__i8_kernel(void);
/* The kernel of that name, or NULL when this CPU (or its kernel: AMX needs the permission to use
 * tiles) cannot run it. */
const struct bx_match__i8_kernel *bx_match__i8_kernel_named(const char *name);

/* Rows i < n of a kernel's output whose approximate score (float)d[i] * sp * scale[i] reaches
 * @p cutoff, into idx (ascending); @return how many. */
size_t bx_match__i8_select(const int32_t *d, size_t n, float sp, const float *scale, float cutoff,
                           uint32_t *idx);

/* float32 dot products of one probe with n rows of `stride` floats (stride a multiple of 16):
 * out[r] = probe . row_r, accumulated in float (within bx_match__float_dot_bound). */
typedef void bx_match__f32_fn(const float *probe, const float *rows, size_t stride, size_t dim,
                              size_t n, float *out);
bx_match__f32_fn *bx_match__f32_kernel(void);

/* float32 dot products of n_q probes (rows of `stride` floats, zero padded, stride a multiple of
 * 16) with n rows: out[q * n + r] = probe_q . row_r, accumulated in float with fused
 * multiply-adds in some fixed order (within bx_match__float_dot_bound, which holds for any
 * order). A register-blocked micro-kernel for the small and middle batches where SGEMM's
 * packing dominates; NULL where the CPU has no AVX-512. */
typedef void bx_match__f32_batch_fn(const float *probes, size_t n_q, const float *rows,
                                    size_t stride, size_t n, float *out);
bx_match__f32_batch_fn *bx_match__f32_batch_kernel(void);

#endif /* BX_MATCHER_INTERNAL_H */
