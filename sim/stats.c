/* SPDX-License-Identifier: MIT */
/* stats.c - tallies, time-weighted averages, quantiles (exact or log-bucket sketch), histograms
 * and Student-t confidence intervals across replications. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "bx/sim.h"

/* ---------------------------------------------------------------- tally */

void bx_tally_reset(struct bx_tally *t)
{
    *t = (struct bx_tally){.min = BX_INF, .max = -BX_INF};
}

double bx_tally_mean(const struct bx_tally *t)
{
    return t->n ? t->shift + t->s1 / (double)t->n : BX_NAN;
}

double bx_tally_var(const struct bx_tally *t)
{
    if (t->n < 2)
        return BX_NAN;
    double n = (double)t->n;
    return fmax(0, (t->s2 - t->s1 * t->s1 / n) / (n - 1));
}

/* ---------------------------------------------------------------- time-weighted averages */

void bx_timeavg_init(struct bx_timeavg *a, double t_s, double v)
{
    *a = (struct bx_timeavg){.t0 = t_s, .t_last = t_s, .v_last = v, .area = 0, .max = v};
}

void bx_timeavg_set(struct bx_timeavg *a, double t_s, double v)
{
    a->area += a->v_last * (t_s - a->t_last);
    a->t_last = t_s;
    a->v_last = v;
    if (v > a->max)
        a->max = v;
}

void bx_timeavg_restart(struct bx_timeavg *a, double t_s)
{
    bx_timeavg_init(a, t_s, a->v_last);
}

double bx_timeavg_area(const struct bx_timeavg *a, double t_s)
{
    return a->area + a->v_last * (t_s - a->t_last);
}

double bx_timeavg_mean(const struct bx_timeavg *a, double t_s)
{
    double span = t_s - a->t0;
    return span > 0 ? bx_timeavg_area(a, t_s) / span : BX_NAN;
}

/* ---------------------------------------------------------------- quantiles */

#define Q_ZERO 1e-9 /* values below count as exactly zero */
#define Q_MAX 1e12  /* values above share the top bucket (31,700 years) */

struct bx_quantiles {
    bool exact;
    bool ok;
    uint64_t n;
    /* exact mode */
    double *v;
    size_t cap;
    bool sorted;
    /* sketch mode: bucket i covers (g^(i-1), g^i], stored at i - i_min */
    double log_gamma, gamma;
    int i_min;
    size_t n_buckets;
    uint64_t zeros;
    uint64_t *counts;
};

struct bx_quantiles *bx_quantiles_alloc(bool exact, double rel_err, struct bx_error *err)
{
    if (!exact && !(rel_err > 1e-5 && rel_err < 0.5)) {
        BX_FAIL(err, BX_EINVAL, "quantile relative error must lie in (1e-5, 0.5), got %g", rel_err);
        return NULL;
    }
    struct bx_quantiles *q = calloc(1, sizeof *q);
    if (q == NULL)
        goto fail;
    q->exact = exact;
    q->ok = true;
    q->sorted = true;
    if (!exact) {
        q->gamma = (1 + rel_err) / (1 - rel_err);
        q->log_gamma = log(q->gamma);
        q->i_min = (int)ceil(log(Q_ZERO) / q->log_gamma);
        int i_max = (int)ceil(log(Q_MAX) / q->log_gamma);
        q->n_buckets = (size_t)(i_max - q->i_min) + 1;
        q->counts = calloc(q->n_buckets, sizeof *q->counts);
        if (q->counts == NULL)
            goto fail_free_q;
    }
    return q;

fail_free_q:
    free(q);
fail:
    BX_FAIL(err, BX_ENOMEM, "cannot allocate quantile estimator");
    return NULL;
}

void bx_quantiles_free(struct bx_quantiles *q)
{
    if (q == NULL)
        return;
    free(q->v);
    free(q->counts);
    free(q);
}

void bx_quantiles_reset(struct bx_quantiles *q)
{
    q->n = 0;
    q->ok = true;
    q->sorted = true;
    q->zeros = 0;
    if (q->counts)
        memset(q->counts, 0, q->n_buckets * sizeof *q->counts);
}

bool bx_quantiles_add(struct bx_quantiles *q, double x)
{
    BX_REQUIRE(!isnan(x) && x >= 0);
    if (q->exact) {
        if (q->n == q->cap) {
            size_t cap = q->cap ? 2 * q->cap : 1024;
            double *v = realloc(q->v, cap * sizeof *v);
            if (v == NULL) {
                q->ok = false;
                return false;
            }
            q->v = v;
            q->cap = cap;
        }
        q->v[q->n++] = x;
        q->sorted = false;
        return true;
    }
    q->n++;
    if (x < Q_ZERO) {
        q->zeros++;
        return true;
    }
    int i = (int)ceil(log(fmin(x, Q_MAX)) / q->log_gamma);
    if (i < q->i_min)
        i = q->i_min;
    size_t b = (size_t)(i - q->i_min);
    if (b >= q->n_buckets)
        b = q->n_buckets - 1;
    q->counts[b]++;
    return true;
}

void bx_quantiles_pack(const struct bx_quantiles *q, struct bx_buf *b)
{
    unsigned char flags[3] = {q->exact, q->ok, q->sorted};
    bx_buf_put(b, flags, sizeof flags);
    bx_buf_put_u64(b, q->n);
    if (q->exact) {
        bx_buf_put(b, q->v, q->n * sizeof *q->v);
        return;
    }
    /* Only the buckets between the first and the last non-empty one. */
    size_t lo = 0, hi = q->n_buckets;
    while (lo < hi && q->counts[lo] == 0)
        ++lo;
    while (hi > lo && q->counts[hi - 1] == 0)
        --hi;
    bx_buf_put_f64(b, q->gamma);
    bx_buf_put_f64(b, q->log_gamma);
    bx_buf_put_u64(b, (uint64_t)(int64_t)q->i_min);
    bx_buf_put_u64(b, q->n_buckets);
    bx_buf_put_u64(b, q->zeros);
    bx_buf_put_u64(b, lo);
    bx_buf_put_u64(b, hi);
    bx_buf_put(b, q->counts + lo, (hi - lo) * sizeof *q->counts);
}

struct bx_quantiles *bx_quantiles_unpack(struct bx_reader *r, struct bx_error *err)
{
    unsigned char flags[3];
    bx_reader_get(r, flags, sizeof flags);
    uint64_t n = bx_reader_u64(r);
    struct bx_quantiles *q = calloc(1, sizeof *q);
    if (q == NULL) {
        BX_FAIL(err, BX_ENOMEM, "cannot allocate quantile estimator");
        return NULL;
    }
    *q = (struct bx_quantiles){.exact = flags[0], .ok = flags[1], .sorted = flags[2], .n = n};
    if (q->exact) {
        q->v = bx_reader_array(r, (size_t)n, sizeof *q->v);
        q->cap = (size_t)n;
    } else {
        q->gamma = bx_reader_f64(r);
        q->log_gamma = bx_reader_f64(r);
        q->i_min = (int)(int64_t)bx_reader_u64(r);
        q->n_buckets = (size_t)bx_reader_u64(r);
        q->zeros = bx_reader_u64(r);
        uint64_t lo = bx_reader_u64(r), hi = bx_reader_u64(r);
        if (!r->failed &&
            (q->n_buckets == 0 || q->n_buckets > (1u << 24) || lo > hi || hi > q->n_buckets))
            r->failed = true;
        if (!r->failed)
            q->counts = calloc(q->n_buckets, sizeof *q->counts);
        if (q->counts != NULL)
            bx_reader_get(r, q->counts + lo, (size_t)(hi - lo) * sizeof *q->counts);
        else
            r->failed = true;
    }
    if (r->failed) {
        bx_quantiles_free(q);
        BX_FAIL(err, BX_EFORMAT, "truncated or malformed quantile estimator");
        return NULL;
    }
    return q;
}

bool bx_quantiles_ok(const struct bx_quantiles *q)
{
    return q->ok;
}

uint64_t bx_quantiles_count(const struct bx_quantiles *q)
{
    return q->n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bx_quantiles_get(struct bx_quantiles *q, double p)
{
    BX_REQUIRE(p >= 0 && p <= 1);
    if (q->n == 0)
        return BX_NAN;
    /* Nearest rank: the k-th smallest with k = ceil(p n), at least 1. */
    uint64_t k = (uint64_t)ceil(p * (double)q->n);
    if (k < 1)
        k = 1;
    if (k > q->n)
        k = q->n;
    if (q->exact) {
        if (!q->sorted) {
            qsort(q->v, q->n, sizeof *q->v, cmp_double);
            q->sorted = true;
        }
        return q->v[k - 1];
    }
    uint64_t seen = q->zeros;
    if (seen >= k)
        return 0;
    for (size_t b = 0; b < q->n_buckets; ++b) {
        seen += q->counts[b];
        if (seen >= k) {
            /* The midpoint (in relative terms) of (g^(i-1), g^i]. */
            double upper = exp((double)((int)b + q->i_min) * q->log_gamma);
            return 2 * upper / (q->gamma + 1);
        }
    }
    return BX_NAN; /* unreachable: counts sum to n */
}

/* ---------------------------------------------------------------- histograms */

enum bx_status bx_hist_init(struct bx_hist *h, double lo, double hi, size_t n_bins,
                            struct bx_error *err)
{
    memset(h, 0, sizeof *h);
    if (!(isfinite(lo) && isfinite(hi) && hi > lo && n_bins > 0))
        return BX_FAIL(err, BX_EINVAL, "histogram needs lo < hi and at least one bin");
    h->counts = calloc(n_bins, sizeof *h->counts);
    if (h->counts == NULL)
        return BX_FAIL(err, BX_ENOMEM, "cannot allocate a %zu-bin histogram", n_bins);
    h->lo = lo;
    h->hi = hi;
    h->n_bins = n_bins;
    return BX_OK;
}

void bx_hist_fini(struct bx_hist *h)
{
    free(h->counts);
    memset(h, 0, sizeof *h);
}

void bx_hist_add(struct bx_hist *h, double x)
{
    h->n++;
    if (x < h->lo) {
        h->under++;
        return;
    }
    if (!(x < h->hi)) {
        h->over++;
        return;
    }
    size_t b = (size_t)((x - h->lo) / (h->hi - h->lo) * (double)h->n_bins);
    h->counts[b < h->n_bins ? b : h->n_bins - 1]++;
}

void bx_hist_reset(struct bx_hist *h)
{
    memset(h->counts, 0, h->n_bins * sizeof *h->counts);
    h->under = h->over = h->n = 0;
}

/* ---------------------------------------------------------------- confidence intervals */

struct bx_ci bx_ci_student(const double *x, size_t n, double level)
{
    BX_REQUIRE(level > 0 && level < 1);
    struct bx_tally t;
    bx_tally_reset(&t);
    for (size_t i = 0; i < n; ++i)
        if (isfinite(x[i]))
            bx_tally_add(&t, x[i]);
    struct bx_ci ci = {.value = bx_tally_mean(&t), .lo = BX_NAN, .hi = BX_NAN, .n = (size_t)t.n};
    if (t.n >= 2) {
        double q = gsl_cdf_tdist_Pinv(0.5 + level / 2, (double)(t.n - 1));
        double half = q * sqrt(bx_tally_var(&t) / (double)t.n);
        ci.lo = ci.value - half;
        ci.hi = ci.value + half;
    }
    return ci;
}

/* The p-quantile of Beta(a, b) by bisection on the regularised incomplete beta function. GSL's
 * gsl_cdf_beta_Pinv (2.7) returns NaN for some large parameters (e.g. 0.975, 194, 22390), so it
 * is not used; bisection on the CDF, which GSL evaluates well, always converges. The search runs
 * on log(x) below 1e-3 so that tiny quantiles (1e-9 at 10^8 trials) keep their relative
 * precision. */
double bx_beta_quantile(double p, double a, double b)
{
    /* Bracket by decades down from 1 (CDF increasing): lo has CDF < p <= CDF(hi). */
    double lo = 0, hi = 1;
    for (double x = 0.1; x > 1e-300; x *= 0.1) { /* NOLINT(cert-flp30-c): decades, bounded */
        if (gsl_cdf_beta_P(x, a, b) < p) {
            lo = x;
            break;
        }
        hi = x;
    }
    for (int it = 0; it < 400 && hi - lo > 1e-15 * hi; ++it) {
        /* Geometric midpoints while the bracket spans a factor > 2, then arithmetic. */
        double mid = lo > 0 && hi > 2 * lo ? sqrt(lo * hi) : 0.5 * (lo + hi);
        if (gsl_cdf_beta_P(mid, a, b) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

struct bx_ci bx_ci_binomial(uint64_t x, uint64_t n, double level)
{
    BX_REQUIRE(x <= n && level > 0 && level < 1);
    struct bx_ci ci = {BX_NAN, BX_NAN, BX_NAN, (size_t)n};
    if (n == 0)
        return ci;
    double a = (1 - level) / 2, dn = (double)n, dx = (double)x;
    ci.value = dx / dn;
    ci.lo = x == 0 ? 0 : bx_beta_quantile(a, dx, dn - dx + 1);
    ci.hi = x == n ? 1 : bx_beta_quantile(1 - a, dx + 1, dn - dx);
    return ci;
}
