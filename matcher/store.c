/* SPDX-License-Identifier: MIT */
/* store.c - template galleries: flat 64-byte aligned float32 rows, tombstones, compaction,
 * metadata columns. */
#define _POSIX_C_SOURCE 200809L
#include "matcher_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtin_columns[] = {"enrol_time_s", "retain_until_s", "retention_class",
                                              NULL};

static enum bx_status reserve_exact(struct bx_store *g, size_t cap, struct bx_error *err);

double bx_match_verify(const float *a, const float *b, size_t dim)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < dim; ++i) {
        ab += (double)a[i] * (double)b[i];
        aa += (double)a[i] * (double)a[i];
        bb += (double)b[i] * (double)b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : BX_NAN;
}

/* What keeps a template from being normalised: 0 none, 1 a component that is not finite, 2 all
 * zero. One pass of exponent and magnitude tests, no branch per component. For finite floats
 * the double sum of squares is finite, and positive as soon as one component is not zero (the
 * smallest subnormal squared is about 2e-90), so this decides what a norm check would. */
static int row_fault(const float *v, size_t n)
{
    uint32_t bad = 0, nonzero = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t b;
        memcpy(&b, v + i, sizeof b);
        bad |= (b & 0x7f800000u) == 0x7f800000u;
        nonzero |= b & 0x7fffffffu;
    }
    return bad ? 1 : nonzero ? 0 : 2;
}

/* The first component that is not finite (a fault of kind 1). */
static size_t first_nonfinite(const float *v, size_t n)
{
    size_t i = 0;
    while (i < n && isfinite(v[i]))
        ++i;
    return i;
}

/* dst = src / |src|: the sum of squares in the exact score's fixed order (bx_match__dot), each
 * element scaled in double and rounded once (BX_TARGET_CLONES: the same numbers on any CPU).
 * dst may be src. */
BX_TARGET_CLONES
static void normalise_into(float *dst, const float *src, size_t dim)
{
    double inv = 1 / sqrt(bx_match__dot(src, src, dim));
    for (size_t i = 0; i < dim; ++i)
        dst[i] = (float)((double)src[i] * inv);
}

enum bx_status bx_tpl_normalize(float *v, size_t dim, struct bx_error *err)
{
    int fault = row_fault(v, dim);
    if (fault == 1)
        return BX_FAIL(err, BX_EINVAL, "component %zu is not finite", first_nonfinite(v, dim));
    if (fault == 2)
        return BX_FAIL(err, BX_EINVAL, "zero or overflowing norm: cannot be normalised");
    normalise_into(v, v, dim);
    return BX_OK;
}

struct bx_store *bx_store_alloc(size_t dim, size_t capacity_hint, struct bx_error *err)
{
    if (dim < BX_TPL_DIM_MIN || dim > BX_TPL_DIM_MAX) {
        BX_FAIL(err, BX_EDIM, "template dimension %zu outside [%d, %d]", dim, BX_TPL_DIM_MIN,
                BX_TPL_DIM_MAX);
        return NULL;
    }
    struct bx_store *g = calloc(1, sizeof *g);
    if (g == NULL) {
        BX_FAIL(err, BX_ENOMEM, "cannot allocate a gallery");
        return NULL;
    }
    g->dim = dim;
    g->stride = (dim + 15) / 16 * 16;
    pthread_mutex_init(&g->fast_mu, NULL);
    /* An exact reservation: a gallery of known size never holds a second copy while growing. */
    if (capacity_hint && reserve_exact(g, capacity_hint, err) != BX_OK) {
        bx_store_free(g);
        return NULL;
    }
    return g;
}

void bx_store_free(struct bx_store *g)
{
    if (g == NULL)
        return;
    bx_free_aligned(g->tpl);
    free(g->subject);
    free(g->meta);
    free(g->live);
    for (size_t j = 0; j < g->n_cols; ++j)
        free(g->cols[j].v);
    free(g->cols);
    free(g->provenance);
    bx_match__fast_free(&g->fast);
    pthread_mutex_destroy(&g->fast_mu);
    free(g);
}

/* Grow every per-row array to hold at least @p want rows (doubling). */
static enum bx_status reserve(struct bx_store *g, size_t want, struct bx_error *err)
{
    if (want <= g->cap)
        return BX_OK;
    size_t cap = g->cap ? g->cap : 1024;
    while (cap < want)
        cap *= 2;
    return reserve_exact(g, cap, err);
}

/* Resize every per-row array to exactly @p cap rows (cap >= n). */
static enum bx_status reserve_exact(struct bx_store *g, size_t cap, struct bx_error *err)
{
    size_t bytes;
    if (!bx_size_mul(cap, g->stride * sizeof(float), &bytes))
        return BX_FAIL(err, BX_ENOMEM, "gallery of %zu rows is too large", cap);
    float *tpl = bx_alloc_aligned(bytes);
    int64_t *subject = realloc(g->subject, cap * sizeof *subject);
    if (subject)
        g->subject = subject;
    struct bx_tpl_meta *meta = realloc(g->meta, cap * sizeof *meta);
    if (meta)
        g->meta = meta;
    uint8_t *live = realloc(g->live, cap);
    if (live)
        g->live = live;
    bool ok = tpl && subject && meta && live;
    for (size_t j = 0; ok && j < g->n_cols; ++j) {
        double *v = realloc(g->cols[j].v, cap * sizeof *v);
        if (v)
            g->cols[j].v = v;
        ok = v != NULL;
    }
    if (!ok) {
        bx_free_aligned(tpl);
        return BX_FAIL(err, BX_ENOMEM, "cannot grow the gallery to %zu rows", cap);
    }
    if (g->n)
        memcpy(tpl, g->tpl, g->n * g->stride * sizeof(float));
    bx_free_aligned(g->tpl);
    g->tpl = tpl;
    g->cap = cap;
    return BX_OK;
}

enum bx_status bx_store_add(struct bx_store *g, const float *tpl, size_t n,
                            const int64_t *subject_ids, const struct bx_tpl_meta *meta,
                            struct bx_error *err)
{
    if (n == 0)
        return BX_OK;
    BX_REQUIRE(tpl != NULL && subject_ids != NULL);
    /* Check every row first, so that a bad row leaves the gallery unchanged. */
    for (size_t i = 0; i < n; ++i) {
        const float *v = tpl + i * g->dim;
        int fault = row_fault(v, g->dim);
        if (fault == 1)
            return BX_FAIL(err, BX_EINVAL, "template %zu: component %zu is not finite", i,
                           first_nonfinite(v, g->dim));
        if (fault == 2)
            return BX_FAIL(err, BX_EINVAL, "template %zu has zero norm: cannot be normalised", i);
        if (meta && (isnan(meta[i].enrol_time_s) || isnan(meta[i].retain_until_s)))
            return BX_FAIL(err, BX_EINVAL, "template %zu: metadata times must not be NaN", i);
    }
    enum bx_status st = reserve(g, g->n + n, err);
    if (st != BX_OK)
        return st;
    for (size_t i = 0; i < n; ++i) {
        size_t r = g->n + i;
        float *dst = g->tpl + r * g->stride;
        /* bx_tpl_normalize's numbers (the rows were checked above), written straight into
         * place: one pass over the row fewer than a copy normalised there */
        normalise_into(dst, tpl + i * g->dim, g->dim);
        memset(dst + g->dim, 0, (g->stride - g->dim) * sizeof(float));
        g->subject[r] = subject_ids[i];
        g->meta[r] = meta ? meta[i] : (struct bx_tpl_meta){0, BX_INF, BX_RETAIN_NONCITIZEN};
        g->live[r] = 1;
        for (size_t j = 0; j < g->n_cols; ++j)
            g->cols[j].v[r] = 0;
    }
    g->n += n;
    g->n_live += n;
    return BX_OK;
}

size_t bx_store_remove_subject(struct bx_store *g, int64_t subject_id)
{
    size_t removed = 0;
    for (size_t r = 0; r < g->n; ++r) {
        if (g->live[r] && g->subject[r] == subject_id) {
            g->live[r] = 0;
            removed++;
        }
    }
    g->n_live -= removed;
    return removed;
}

size_t bx_store_remove_expired(struct bx_store *g, double now_s)
{
    size_t removed = 0;
    for (size_t r = 0; r < g->n; ++r) {
        if (g->live[r] && g->meta[r].retain_until_s <= now_s) {
            g->live[r] = 0;
            removed++;
        }
    }
    g->n_live -= removed;
    return removed;
}

size_t bx_store_compact(struct bx_store *g)
{
    size_t w = 0;
    for (size_t r = 0; r < g->n; ++r) {
        if (!g->live[r])
            continue;
        if (w != r) {
            memcpy(g->tpl + w * g->stride, g->tpl + r * g->stride, g->stride * sizeof(float));
            g->subject[w] = g->subject[r];
            g->meta[w] = g->meta[r];
            g->live[w] = 1;
            for (size_t j = 0; j < g->n_cols; ++j)
                g->cols[j].v[w] = g->cols[j].v[r];
        }
        w++;
    }
    size_t dropped = g->n - w;
    g->n = w;
    if (dropped)
        g->layout_version++; /* rows moved: the int8 index is rebuilt */
    return dropped;
}

size_t bx_store_dim(const struct bx_store *g)
{
    return g->dim;
}

size_t bx_store_rows(const struct bx_store *g)
{
    return g->n;
}

size_t bx_store_live(const struct bx_store *g)
{
    return g->n_live;
}

bool bx_store_is_live(const struct bx_store *g, size_t row)
{
    BX_REQUIRE(row < g->n);
    return g->live[row] != 0;
}

const float *bx_store_row(const struct bx_store *g, size_t row)
{
    BX_REQUIRE(row < g->n);
    return g->tpl + row * g->stride;
}

int64_t bx_store_subject(const struct bx_store *g, size_t row)
{
    BX_REQUIRE(row < g->n);
    return g->subject[row];
}

struct bx_tpl_meta bx_store_meta(const struct bx_store *g, size_t row)
{
    BX_REQUIRE(row < g->n);
    return g->meta[row];
}

static bool valid_column_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= 64)
        return false;
    for (const char *p = name; *p; ++p)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    for (const char *const *b = builtin_columns; *b; ++b)
        if (strcmp(*b, name) == 0)
            return false;
    return true;
}

enum bx_status bx_store_set_column(struct bx_store *g, const char *name, enum bx_column_type type,
                                   const double *values, struct bx_error *err)
{
    if (!valid_column_name(name))
        return BX_FAIL(err, BX_EINVAL,
                       "metadata column name '%s' must use letters, digits and '_' (1-63) and "
                       "not be a built-in name",
                       name);
    for (size_t r = 0; r < g->n; ++r) {
        if (!isfinite(values[r]) && type == BX_COLUMN_INT64)
            return BX_FAIL(err, BX_EINVAL, "column '%s' row %zu: not an integer", name, r);
        if (type == BX_COLUMN_INT64 && (values[r] != floor(values[r]) || fabs(values[r]) > 0x1p53))
            return BX_FAIL(err, BX_EINVAL, "column '%s' row %zu: %g is not an exact integer", name,
                           r, values[r]);
    }
    size_t j = 0;
    while (j < g->n_cols && strcmp(g->cols[j].name, name) != 0)
        ++j;
    if (j == g->n_cols) {
        struct bx_column *c = realloc(g->cols, (g->n_cols + 1) * sizeof *c);
        if (c == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        g->cols = c;
        memset(&c[j], 0, sizeof c[j]);
        c[j].v = calloc(g->cap ? g->cap : 1, sizeof(double));
        if (c[j].v == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        snprintf(c[j].name, sizeof c[j].name, "%s", name);
        g->n_cols++;
    }
    g->cols[j].type = type;
    if (g->n)
        memcpy(g->cols[j].v, values, g->n * sizeof(double));
    return BX_OK;
}

size_t bx_store_columns(const struct bx_store *g)
{
    return g->n_cols;
}

const double *bx_store_column(const struct bx_store *g, size_t j, const char **name,
                              enum bx_column_type *type)
{
    BX_REQUIRE(j < g->n_cols);
    if (name)
        *name = g->cols[j].name;
    if (type)
        *type = g->cols[j].type;
    return g->cols[j].v;
}

enum bx_status bx_store_set_provenance(struct bx_store *g, const char *text, struct bx_error *err)
{
    BX_REQUIRE(g != NULL);
    if (text && strlen(text) > BX_TPL_PROVENANCE_MAX)
        return BX_FAIL(err, BX_EINVAL, "provenance longer than %d bytes", BX_TPL_PROVENANCE_MAX);
    char *copy = text ? strdup(text) : NULL;
    if (text && copy == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    free(g->provenance);
    g->provenance = copy;
    return BX_OK;
}

const char *bx_store_provenance(const struct bx_store *g)
{
    return g->provenance;
}
