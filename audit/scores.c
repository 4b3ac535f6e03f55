/* SPDX-License-Identifier: MIT */
/* scores.c - score distributions in bounded memory (bx/audit.h).
 *
 * Values are float32, ordered by an order-preserving 32-bit key (sign bit flipped for positive
 * numbers, every bit for negative ones). Up to BX_AUDIT_EXACT_MAX values are kept in an array
 * (sorted on demand): every query is exact. Beyond that the array is folded into a histogram
 * over the key's top 24 bits (bins of 256 adjacent float32 values; directory of 2^14 leaves of
 * 1024 bins, allocated when first touched, at most 128 MB whatever the count) and the
 * BX_AUDIT_TAIL highest and lowest values are kept exactly in two heaps, so that FMR down to
 * BX_AUDIT_TAIL / n and FNMR at the other end stay exact; inside the bulk a count is exact at
 * bin edges and interpolated within a bin.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bx/audit.h"

#define LEAF_BITS 10
#define LEAF_SIZE (1u << LEAF_BITS)
#define N_LEAVES (1u << (24 - LEAF_BITS))

struct bx_audit_scores {
    uint64_t n;
    /* exact mode */
    float *v;
    size_t nv, cap;
    bool sorted;
    /* histogram mode */
    bool hist;
    uint64_t *leaf[N_LEAVES];
    uint64_t leaf_total[N_LEAVES];
    /* the highest BX_AUDIT_TAIL values, and the lowest (negated: the highest of -x) */
    struct bx_topk hi, lo;
    float *hs, *ls; /* sorted copies of the tails (ascending), made when queried */
    bool tails_sorted;
};

static uint32_t key_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static float value_of(uint32_t k)
{
    uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

struct bx_audit_scores *bx_audit_scores_alloc(struct bx_error *err)
{
    struct bx_audit_scores *s = calloc(1, sizeof *s);
    if (s == NULL)
        BX_FAIL(err, BX_ENOMEM, "out of memory for a score distribution");
    return s;
}

void bx_audit_scores_free(struct bx_audit_scores *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < N_LEAVES; ++i)
        free(s->leaf[i]);
    free(s->v);
    free(s->hi.v);
    free(s->lo.v);
    free(s->hs);
    free(s->ls);
    free(s);
}

uint64_t bx_audit_scores_n(const struct bx_audit_scores *s)
{
    return s->n;
}

bool bx_audit_scores_exact(const struct bx_audit_scores *s)
{
    return !s->hist;
}

static void tails_offer(struct bx_audit_scores *s, float x)
{
    bx_topk_push(&s->hi, x);
    bx_topk_push(&s->lo, -(double)x);
    s->tails_sorted = false;
}

static enum bx_status hist_add(struct bx_audit_scores *s, float x, struct bx_error *err)
{
    uint32_t b = key_of(x) >> 8, l = b >> LEAF_BITS;
    if (s->leaf[l] == NULL && (s->leaf[l] = calloc(LEAF_SIZE, sizeof(uint64_t))) == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for a score histogram");
    s->leaf[l][b & (LEAF_SIZE - 1)]++;
    s->leaf_total[l]++;
    tails_offer(s, x);
    return BX_OK;
}

static enum bx_status to_histogram(struct bx_audit_scores *s, struct bx_error *err)
{
    double *hi = malloc(BX_AUDIT_TAIL * sizeof *hi), *lo = malloc(BX_AUDIT_TAIL * sizeof *lo);
    bx_topk_init(&s->hi, hi, BX_AUDIT_TAIL);
    bx_topk_init(&s->lo, lo, BX_AUDIT_TAIL);
    s->hs = malloc(BX_AUDIT_TAIL * sizeof *s->hs);
    s->ls = malloc(BX_AUDIT_TAIL * sizeof *s->ls);
    if (hi == NULL || lo == NULL || s->hs == NULL || s->ls == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for score tails");
    s->hist = true;
    for (size_t i = 0; i < s->nv; ++i)
        if (hist_add(s, s->v[i], err) != BX_OK)
            return BX_ENOMEM;
    free(s->v);
    s->v = NULL;
    s->nv = s->cap = 0;
    return BX_OK;
}

enum bx_status bx_audit_scores_add(struct bx_audit_scores *s, double x, struct bx_error *err)
{
    BX_REQUIRE(isfinite(x));
    float f = (float)x;
    s->n++;
    if (s->hist)
        return hist_add(s, f, err);
    if (s->nv == s->cap) {
        if (s->cap == BX_AUDIT_EXACT_MAX) {
            if (to_histogram(s, err) != BX_OK)
                return BX_ENOMEM;
            return hist_add(s, f, err);
        }
        size_t cap = s->cap ? 2 * s->cap : 1024;
        float *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory for scores");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->nv++] = f;
    s->sorted = false;
    return BX_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void prepare(struct bx_audit_scores *s)
{
    if (!s->hist && !s->sorted) {
        if (s->nv > 1)
            qsort(s->v, s->nv, sizeof *s->v, cmp_float);
        s->sorted = true;
    }
    if (s->hist && !s->tails_sorted) {
        for (size_t i = 0; i < s->hi.n; ++i) /* floats kept as doubles: exact */
            s->hs[i] = (float)s->hi.v[i];
        if (s->hi.n > 1)
            qsort(s->hs, s->hi.n, sizeof *s->hs, cmp_float); /* ascending: hs[n - 1] = max */
        for (size_t i = 0; i < s->lo.n; ++i)
            s->ls[i] = (float)-s->lo.v[i];
        if (s->lo.n > 1)
            qsort(s->ls, s->lo.n, sizeof *s->ls, cmp_float); /* ascending: ls[0] = min */
        s->tails_sorted = true;
    }
}

/* Entries of sorted v[n] below x. */
static size_t lower_bound(const float *v, size_t n, float x)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (v[m] < x)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Histogram: values with key >= k (exact at bin edges, interpolated inside t's bin). */
static double hist_ge_key(const struct bx_audit_scores *s, uint32_t k)
{
    uint32_t b = k >> 8, l = b >> LEAF_BITS;
    double c = 0;
    for (uint32_t j = l + 1; j < N_LEAVES; ++j)
        c += (double)s->leaf_total[j];
    if (s->leaf[l]) {
        for (uint32_t j = (b & (LEAF_SIZE - 1)) + 1; j < LEAF_SIZE; ++j)
            c += (double)s->leaf[l][j];
        c += (double)s->leaf[l][b & (LEAF_SIZE - 1)] * (256.0 - (double)(k & 0xff)) / 256.0;
    }
    return c;
}

uint64_t bx_audit_scores_ge(struct bx_audit_scores *s, double t)
{
    if (isnan(t))
        return 0;
    if (t == -BX_INF)
        return s->n;
    if (t > (double)FLT_MAX)
        return 0;
    prepare(s);
    float f = (float)t;
    if ((double)f < t)
        f = nextafterf(f, INFINITY); /* the smallest float >= t */
    if (!s->hist)
        return s->nv - lower_bound(s->v, s->nv, f);
    /* In a kept tail: exact. */
    if (s->hi.n && f >= s->hs[0])
        return s->hi.n - lower_bound(s->hs, s->hi.n, f);
    if (s->lo.n && f <= s->ls[s->lo.n - 1])
        return s->n - lower_bound(s->ls, s->lo.n, f);
    return (uint64_t)llround(hist_ge_key(s, key_of(f)));
}

double bx_audit_scores_kth_highest(struct bx_audit_scores *s, uint64_t k)
{
    BX_REQUIRE(k >= 1 && k <= s->n);
    prepare(s);
    if (!s->hist)
        return s->v[s->nv - k];
    if (k <= s->hi.n)
        return s->hs[s->hi.n - k];
    if (s->n - k < s->lo.n)
        return s->ls[s->n - k];
    /* The bulk: the lower edge of the bin holding the k-th highest. */
    double c = 0;
    for (uint32_t l = N_LEAVES; l-- > 0;) {
        if (c + (double)s->leaf_total[l] < (double)k) {
            c += (double)s->leaf_total[l];
            continue;
        }
        for (uint32_t j = LEAF_SIZE; j-- > 0;) {
            c += (double)s->leaf[l][j];
            if (c >= (double)k)
                return value_of(((l << LEAF_BITS) | j) << 8);
        }
    }
    return -BX_INF;
}

double bx_audit_scores_above(struct bx_audit_scores *s, double x)
{
    prepare(s);
    float f = (float)x;
    if ((double)f > x)
        f = nextafterf(f, -INFINITY); /* the largest float <= x */
    if (!s->hist) {
        size_t i = lower_bound(s->v, s->nv, nextafterf(f, INFINITY));
        return i < s->nv ? (double)s->v[i] : BX_INF;
    }
    if (s->hi.n && f >= s->hs[0]) {
        size_t i = lower_bound(s->hs, s->hi.n, nextafterf(f, INFINITY));
        return i < s->hi.n ? (double)s->hs[i] : BX_INF;
    }
    if (s->lo.n && f < s->ls[s->lo.n - 1]) {
        size_t i = lower_bound(s->ls, s->lo.n, nextafterf(f, INFINITY));
        return s->ls[i];
    }
    /* The bulk: the next bin edge above x. */
    uint32_t b = (key_of(f) >> 8) + 1;
    return value_of(b << 8);
}

void bx_audit_scores_sweep(struct bx_audit_scores *s, bool (*fn)(void *ctx, double t), void *ctx)
{
    prepare(s);
    if (!s->hist) {
        for (size_t i = s->nv; i-- > 0;) {
            if (i + 1 < s->nv && s->v[i] == s->v[i + 1])
                continue;
            if (!fn(ctx, s->v[i]))
                return;
        }
        return;
    }
    for (size_t i = s->hi.n; i-- > 0;)
        if ((i + 1 == s->hi.n || s->hs[i] != s->hs[i + 1]) && !fn(ctx, s->hs[i]))
            return;
    for (uint32_t l = N_LEAVES; l-- > 0;) {
        if (s->leaf_total[l] == 0)
            continue;
        for (uint32_t j = LEAF_SIZE; j-- > 0;)
            if (s->leaf[l][j]) {
                double t = value_of(((l << LEAF_BITS) | j) << 8);
                if (s->hi.n && t >= (double)s->hs[0])
                    continue;
                if (!fn(ctx, t))
                    return;
            }
    }
}
