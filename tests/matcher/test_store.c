/* SPDX-License-Identifier: MIT */
/* test_store.c - galleries: normalisation, validation, removal, metadata, thresholds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bx/matcher.h"

Test(matcher_store, templates_are_stored_unit_norm_and_bad_rows_rejected)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(16, 0, &err);
    float v[3 * 16];
    for (int i = 0; i < 48; ++i)
        v[i] = (float)(i % 7) - 2.385f;
    int64_t ids[3] = {5, 6, 7};
    cr_assert_eq(bx_store_add(g, v, 2, ids, NULL, &err), BX_OK);
    double ss = 0;
    for (int i = 0; i < 16; ++i)
        ss += (double)bx_store_row(g, 1)[i] * bx_store_row(g, 1)[i];
    cr_assert_float_eq(ss, 1.0, 1e-6);
    cr_assert_float_eq(bx_match_verify(bx_store_row(g, 0), v, 16), 1.0, 1e-6);
    v[2 * 16 + 3] = BX_INF;
    cr_assert_eq(bx_store_add(g, v, 3, ids, NULL, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "template 2") != NULL && strstr(err.msg, "not finite"), "%s",
              err.msg);
    cr_assert_eq(bx_store_rows(g), 2, "a failed add changes nothing");
    memset(v + 32, 0, 16 * sizeof *v);
    bx_err_clear(&err);
    cr_assert_eq(bx_store_add(g, v, 3, ids, NULL, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "zero norm") != NULL, "%s", err.msg);
    cr_assert_null(bx_store_alloc(2, 0, &err));
    bx_store_free(g);
}

/* A stored row is bx_tpl_normalize of the row given, bit for bit, and zero beyond its
 * dimension up to the row's 64-byte stride (the kernels sum whole strides). */
Test(matcher_store, stored_rows_are_the_normalised_rows_bit_for_bit)
{
    size_t dims[] = {16, 17, 130, 512, 1000};
    for (size_t t = 0; t < sizeof dims / sizeof *dims; ++t) {
        size_t d = dims[t], n = 5, stride = (d + 15) / 16 * 16;
        struct bx_error err = {0};
        struct bx_store *g = bx_store_alloc(d, 0, &err);
        float *v = malloc(n * d * sizeof *v), *want = malloc(d * sizeof *want);
        int64_t ids[5] = {1, 2, 3, 4, 5};
        for (size_t i = 0; i < n * d; ++i)
            v[i] = (float)sin(0.37 * (double)i + (double)d) * (float)(1 + i % 3);
        cr_assert_eq(bx_store_add(g, v + 1, n - 1, ids, NULL, &err), BX_OK, "%s", err.msg);
        for (size_t r = 0; r + 1 < n; ++r) {
            memcpy(want, v + 1 + r * d, d * sizeof *want);
            cr_assert_eq(bx_tpl_normalize(want, d, NULL), BX_OK);
            const float *row = bx_store_row(g, r);
            cr_assert_eq(memcmp(row, want, d * sizeof *want), 0, "d = %zu, row %zu", d, r);
            for (size_t i = d; i < stride; ++i)
                cr_assert(row[i] == 0 && !signbit(row[i]), "d = %zu, padding %zu", d, i);
        }
        free(want);
        free(v);
        bx_store_free(g);
    }
}

Test(matcher_store, retention_deadlines_remove_rows)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(8, 0, &err);
    float v[4 * 8];
    for (int i = 0; i < 32; ++i)
        v[i] = 1.0f + (float)i;
    int64_t ids[4] = {1, 2, 3, 4};
    /* Two U.S. citizens purged 12 h after capture; two non-citizens kept (75 years). */
    struct bx_tpl_meta m[4] = {{0, 12 * 3600.0, BX_RETAIN_US_CITIZEN},
                               {0, 75 * 365.25 * 86400, BX_RETAIN_NONCITIZEN},
                               {3600, 13 * 3600.0, BX_RETAIN_US_CITIZEN},
                               {0, BX_INF, BX_RETAIN_NONCITIZEN}};
    cr_assert_eq(bx_store_add(g, v, 4, ids, m, &err), BX_OK);
    cr_assert_eq(bx_store_remove_expired(g, 12 * 3600.0 - 1), 0);
    cr_assert_eq(bx_store_remove_expired(g, 12 * 3600.0), 1);
    cr_assert_eq(bx_store_remove_expired(g, 13 * 3600.0), 1);
    cr_assert_eq(bx_store_live(g), 2);
    cr_assert_not(bx_store_is_live(g, 0));
    cr_assert_eq(bx_store_meta(g, 2).retention_class, BX_RETAIN_US_CITIZEN);
    cr_assert_eq(bx_store_compact(g), 2);
    cr_assert_eq(bx_store_subject(g, 0), 2);
    cr_assert_eq(bx_store_subject(g, 1), 4);
    cr_assert_eq(bx_store_meta(g, 1).retain_until_s, BX_INF);
    bx_store_free(g);
}

Test(matcher_store, metadata_columns_follow_rows)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(8, 0, &err);
    float v[3 * 8];
    for (int i = 0; i < 24; ++i)
        v[i] = (float)(i + 1);
    int64_t ids[3] = {1, 2, 3};
    bx_store_add(g, v, 3, ids, NULL, &err);
    double age[3] = {34, 71, 9}, q[3] = {0.9, 0.25, 0.5};
    cr_assert_eq(bx_store_set_column(g, "age", BX_COLUMN_INT64, age, &err), BX_OK);
    cr_assert_eq(bx_store_set_column(g, "quality", BX_COLUMN_FLOAT64, q, &err), BX_OK);
    cr_assert_eq(bx_store_set_column(g, "bad name", BX_COLUMN_INT64, age, &err), BX_EINVAL);
    cr_assert_eq(bx_store_set_column(g, "enrol_time_s", BX_COLUMN_FLOAT64, q, &err), BX_EINVAL);
    cr_assert_eq(bx_store_set_column(g, "frac", BX_COLUMN_INT64, q, &err), BX_EINVAL);
    bx_store_remove_subject(g, 2);
    bx_store_compact(g);
    const char *name;
    enum bx_column_type type;
    const double *a = bx_store_column(g, 0, &name, &type);
    cr_assert_str_eq(name, "age");
    cr_assert_eq(type, BX_COLUMN_INT64);
    cr_assert_eq(a[0], 34);
    cr_assert_eq(a[1], 9);
    cr_assert_eq(bx_store_columns(g), 2);
    bx_store_free(g);
}

Test(matcher_threshold, threshold_at_fmr_is_the_smallest_score_meeting_the_target)
{
    double s[10] = {0.1, 0.9, 0.5, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6};
    /* FMR <= 0.2 allows 2 of 10 at or above t: t = 0.8 (0.9, 0.8). */
    cr_assert_eq(bx_threshold_at_fmr(s, 10, 0.2), 0.8);
    cr_assert_eq(bx_fmr_at(s, 10, 0.8), 0.2);
    /* 0.4 allows 4: 0.6 admits 4, 0.5 would admit 6 (a tie), so t = 0.6. */
    cr_assert_eq(bx_threshold_at_fmr(s, 10, 0.4), 0.6);
    /* 0: nothing may pass: just above the maximum. */
    double t0 = bx_threshold_at_fmr(s, 10, 0.0);
    cr_assert(t0 > 0.9 && t0 < 0.9000001);
    cr_assert_eq(bx_fmr_at(s, 10, t0), 0.0);
    cr_assert_eq(bx_threshold_at_fmr(s, 10, 0.95), 0.2);
    /* Brute force over random data: the returned t meets the target and the next lower
     * observed score does not. */
    double x[1000];
    for (int i = 0; i < 1000; ++i)
        x[i] = sin(i * 12.9898) * 43758.5453 - floor(sin(i * 12.9898) * 43758.5453);
    double targets[] = {1e-3, 0.01, 0.05, 0.5};
    for (int k = 0; k < 4; ++k) {
        double t = bx_threshold_at_fmr(x, 1000, targets[k]);
        cr_assert_leq(bx_fmr_at(x, 1000, t), targets[k]);
        double below = -1;
        for (int i = 0; i < 1000; ++i)
            if (x[i] < t && x[i] > below)
                below = x[i];
        cr_assert_gt(bx_fmr_at(x, 1000, below), targets[k]);
    }
    /* Sorted once, the same thresholds (ties included: every score repeated). */
    double y[2000];
    for (int i = 0; i < 2000; ++i)
        y[i] = x[i / 2];
    double expect[5];
    double more[] = {1e-3, 0.01, 0.05, 0.5, 0.0};
    for (int k = 0; k < 5; ++k)
        expect[k] = bx_threshold_at_fmr(y, 2000, more[k]);
    bx_scores_sort_desc(y, 2000);
    for (int i = 1; i < 2000; ++i)
        cr_assert_geq(y[i - 1], y[i]);
    for (int k = 0; k < 5; ++k)
        cr_assert_eq(bx_threshold_at_fmr_sorted(y, 2000, more[k]), expect[k], "target %g", more[k]);
}

Test(matcher_threshold, fpir_grows_with_gallery_size)
{
    cr_assert_float_eq(bx_fpir_expected(1e-6, 1), 1e-6, 1e-15);
    cr_assert_float_eq(bx_fpir_expected(1e-6, 420), 1 - pow(1 - 1e-6, 420), 1e-12);
    cr_assert_float_eq(bx_fpir_expected(1e-6, 1000000), 1 - exp(-1.0), 1e-6);
    cr_assert_eq(bx_fpir_expected(0, 1000), 0);
    cr_assert_eq(bx_fpir_expected(1, 3), 1);
    cr_assert_lt(bx_fpir_expected(1e-6, 1000), bx_fpir_expected(1e-6, 100000));
}

/* A threshold beyond the sample, from the generalised Pareto tail: Gaussian impostor scores
 * (sd 0.045, about what a 512-dimensional cosine gives), 4 million of them, the 1,000 highest
 * modelled, and a target FMR of 5e-7, which 4 million scores cannot resolve (2 expected above):
 * 500 times beyond the tail's level, as far as a port's 1:n target lies beyond its largest
 * calibration sample (64 million scores, 1,000 modelled, FMR 3e-8). The true threshold is
 * 0.045 Q^-1(5e-7). Over 10 samples the model's root-mean-square error must stay within 3% of
 * it and below that of the empirical threshold on 2 expected scores, and its 95% interval must
 * hold the truth in at least 8 (a 1-in-100 chance for a true 95% interval; 40 samples gave
 * 38). */
Test(matcher_threshold, the_tail_model_extrapolates_a_gaussian_tail_beyond_the_sample,
     .timeout = 120)
{
    const size_t n = 4000000, k = 1000;
    const double sd = 0.045, f = 5e-7, truth = sd * gsl_cdf_ugaussian_Qinv(f);
    const unsigned samples = 10;
    double *s = malloc(n * sizeof *s);
    cr_assert_not_null(s);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double se_tail = 0, se_emp = 0;
    unsigned cover = 0;
    for (unsigned seed = 1; seed <= samples; ++seed) {
        gsl_rng_set(r, seed);
        for (size_t i = 0; i < n; ++i)
            s[i] = gsl_ran_gaussian_ziggurat(r, sd);
        bx_scores_sort_desc(s, n);
        struct bx_tail_threshold t;
        cr_assert(bx_threshold_tail(s, k, n, f, 400, seed, &t));
        cr_assert_eq(t.u, s[k]);
        cr_assert_eq(t.exceedances, k);
        cr_assert(t.lo <= t.value && t.value <= t.hi, "%g outside its own [%g, %g]", t.value, t.lo,
                  t.hi);
        double emp = bx_threshold_at_fmr_sorted(s, n, f);
        se_tail += (t.value - truth) * (t.value - truth) / samples;
        se_emp += (emp - truth) * (emp - truth) / samples;
        cover += t.lo <= truth && truth <= t.hi;
    }
    cr_assert_lt(sqrt(se_tail), 0.03 * truth, "rms error %g, truth %g", sqrt(se_tail), truth);
    cr_assert_lt(se_tail, se_emp, "rms error %g, empirical %g", sqrt(se_tail), sqrt(se_emp));
    cr_assert_geq(cover, 8, "the interval held the truth in %u of %u", cover, samples);
    gsl_rng_free(r);
    free(s);
}

/* Exceedances drawn from a known generalised Pareto distribution: the fit recovers its shape
 * and scale, and the quantile it gives is the distribution's own. */
Test(matcher_threshold, the_tail_model_recovers_a_known_generalised_pareto_tail)
{
    const size_t k = 4000, n = 400000;
    const double xi = -0.2, sigma = 0.02, u = 0.3, f = 1e-6;
    double *s = malloc((k + 1) * sizeof *s);
    cr_assert_not_null(s);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    for (size_t i = 0; i < k; ++i) /* inverse CDF of the GPD */
        s[i] = u + sigma / xi * (pow(gsl_rng_uniform_pos(r), -xi) - 1);
    s[k] = u;
    bx_scores_sort_desc(s, k);
    struct bx_tail_threshold t;
    cr_assert(bx_threshold_tail(s, k, n, f, 200, 3, &t));
    cr_assert_float_eq(t.xi, xi, 0.05, "xi %g", t.xi);
    cr_assert_float_eq(t.sigma, sigma, 0.002, "sigma %g", t.sigma);
    double want = u + sigma / xi * (pow(f * (double)n / (double)k, -xi) - 1);
    cr_assert_float_eq(t.value, want, 0.03 * want, "quantile %g, want %g", t.value, want);
    cr_assert(t.lo <= want && want <= t.hi, "want %g outside [%g, %g]", want, t.lo, t.hi);
    gsl_rng_free(r);
    free(s);
}
