/* SPDX-License-Identifier: MIT */
/* test_stats.c - tallies, time averages, quantiles, histograms, confidence intervals. */
#include <math.h>
#include <stdlib.h>

#include <criterion/criterion.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bx/sim.h"

Test(sim_stats, tally_matches_a_two_pass_computation)
{
    double x[] = {2.385, 7.1, 0.0, 13.25, 4.4, 4.4, 9.75};
    size_t n = sizeof x / sizeof x[0];
    struct bx_tally t;
    bx_tally_reset(&t);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
        bx_tally_add(&t, x[i]);
        sum += x[i];
    }
    double mean = sum / n, ss = 0;
    for (size_t i = 0; i < n; ++i)
        ss += (x[i] - mean) * (x[i] - mean);
    cr_assert_eq(t.n, n);
    cr_assert_float_eq(bx_tally_mean(&t), mean, 1e-12);
    cr_assert_float_eq(bx_tally_var(&t), ss / (n - 1), 1e-12);
    cr_assert_eq(t.min, 0.0);
    cr_assert_eq(t.max, 13.25);
    bx_tally_reset(&t);
    bx_tally_add(&t, 1.0);
    cr_assert(isnan(bx_tally_var(&t)));
}

Test(sim_stats, time_average_of_a_step_function)
{
    struct bx_timeavg a;
    bx_timeavg_init(&a, 0.0, 0.0);
    bx_timeavg_set(&a, 2.0, 3.0); /* 0 on [0,2), 3 on [2,5), 1 on [5,10] */
    bx_timeavg_set(&a, 5.0, 1.0);
    cr_assert_float_eq(bx_timeavg_area(&a, 10.0), 9.0 + 5.0, 1e-12);
    cr_assert_float_eq(bx_timeavg_mean(&a, 10.0), 1.4, 1e-12);
    cr_assert_eq(a.max, 3.0);
    bx_timeavg_restart(&a, 6.0); /* warm-up deletion keeps the current value */
    cr_assert_float_eq(bx_timeavg_mean(&a, 10.0), 1.0, 1e-12);
    cr_assert(isnan(bx_timeavg_mean(&a, 6.0)));
}

Test(sim_stats, exact_quantiles_use_the_nearest_rank_rule)
{
    struct bx_error err = {0};
    struct bx_quantiles *q = bx_quantiles_alloc(true, 0, &err);
    cr_assert(isnan(bx_quantiles_get(q, 0.5)));
    for (int i = 20; i >= 1; --i) /* 1..20, inserted backwards */
        bx_quantiles_add(q, (double)i);
    cr_assert_eq(bx_quantiles_get(q, 0.0), 1.0);
    cr_assert_eq(bx_quantiles_get(q, 0.5), 10.0);
    cr_assert_eq(bx_quantiles_get(q, 0.95), 19.0);
    cr_assert_eq(bx_quantiles_get(q, 0.951), 20.0);
    cr_assert_eq(bx_quantiles_get(q, 1.0), 20.0);
    cr_assert_eq(bx_quantiles_count(q), 20);
    bx_quantiles_reset(q);
    cr_assert_eq(bx_quantiles_count(q), 0);
    bx_quantiles_free(q);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(sim_stats, sketch_quantiles_stay_within_their_relative_error)
{
    enum { N = 200000 };
    static double x[N];
    struct bx_error err = {0};
    struct bx_quantiles *q = bx_quantiles_alloc(false, 0.005, &err);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    for (int i = 0; i < N; ++i) {
        /* A third are exact zeros (no wait), the rest heavy-tailed. */
        x[i] = i % 3 == 0 ? 0.0 : gsl_ran_lognormal(r, 2.0, 1.5);
        bx_quantiles_add(q, x[i]);
    }
    qsort(x, N, sizeof x[0], cmp_double);
    double ps[] = {0.0, 0.2, 0.34, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; ++k) {
        size_t rank = (size_t)ceil(ps[k] * N);
        double exact = x[rank ? rank - 1 : 0], got = bx_quantiles_get(q, ps[k]);
        if (exact == 0)
            cr_assert_eq(got, 0.0, "p = %g", ps[k]);
        else
            cr_assert_leq(fabs(got - exact) / exact, 0.005 + 1e-12, "p = %g: %g vs exact %g", ps[k],
                          got, exact);
    }
    cr_assert_null(bx_quantiles_alloc(false, 0.9, &err));
    cr_assert_eq(err.code, BX_EINVAL);
    gsl_rng_free(r);
    bx_quantiles_free(q);
}

Test(sim_stats, histogram_counts_bins_and_outliers)
{
    struct bx_error err = {0};
    struct bx_hist h;
    cr_assert_eq(bx_hist_init(&h, 0.0, 10.0, 5, &err), BX_OK);
    double x[] = {-1.0, 0.0, 1.99, 2.0, 9.999, 10.0, 55.0};
    for (size_t i = 0; i < 7; ++i)
        bx_hist_add(&h, x[i]);
    cr_assert_eq(h.under, 1);
    cr_assert_eq(h.over, 2);
    cr_assert_eq(h.counts[0], 2);
    cr_assert_eq(h.counts[1], 1);
    cr_assert_eq(h.counts[4], 1);
    cr_assert_eq(h.n, 7);
    bx_hist_reset(&h);
    cr_assert_eq(h.n + h.counts[0], 0);
    bx_hist_fini(&h);
    cr_assert_eq(bx_hist_init(&h, 1.0, 1.0, 5, &err), BX_EINVAL);
}

Test(sim_stats, student_t_interval_matches_tables)
{
    double x[] = {1, 2, 3, 4, 5, BX_NAN};
    struct bx_ci ci = bx_ci_student(x, 6, 0.95);
    /* t(0.975, 4) = 2.776445; s = sqrt(2.5). */
    double half = 2.776445105 * sqrt(2.5) / sqrt(5.0);
    cr_assert_eq(ci.n, 5, "non-finite values are skipped");
    cr_assert_float_eq(ci.value, 3.0, 1e-12);
    cr_assert_float_eq(ci.lo, 3.0 - half, 1e-6);
    cr_assert_float_eq(ci.hi, 3.0 + half, 1e-6);
    struct bx_ci one = bx_ci_student(x, 1, 0.95);
    cr_assert_eq(one.value, 1.0);
    cr_assert(isnan(one.lo) && isnan(one.hi));
}

/* Reference values: scipy.stats.beta.ppf(0.025, x, n - x + 1) and beta.ppf(0.975, x + 1, n - x)
 * (scipy 1.10, Debian 12). The first case is one where GSL's own gsl_cdf_beta_Pinv gives NaN. */
Test(sim_stats, clopper_pearson_bounds_equal_scipy_beta_quantiles)
{
    static const struct {
        uint64_t x, n;
        double lo, hi;
    } ref[] = {
        {193, 22583, 0.0073871494778325955, 0.0098343677856107346},
        {0, 100, 0, 0.036216692645176407},
        {3, 100000000, 6.1867212716854653e-09, 8.7672728229068758e-08},
        {500000, 1000000, 0.49901951919531184, 0.50098048080468816},
        {7, 7, 0.59038360277499657, 1},
        {1, 10, 0.0025285785444617848, 0.44501611702819538},
        {40, 22623, 0.0012634563816421287, 0.0024068967638234073},
        {5000, 10000000, 0.00048623924128543853, 0.0005140512819271488},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; ++i) {
        struct bx_ci ci = bx_ci_binomial(ref[i].x, ref[i].n, 0.95);
        cr_assert_float_eq(ci.value, (double)ref[i].x / (double)ref[i].n, 1e-15);
        cr_assert(fabs(ci.lo - ref[i].lo) <= 1e-9 * ref[i].lo + 1e-300,
                  "case %zu lo %.17g vs %.17g", i, ci.lo, ref[i].lo);
        cr_assert(fabs(ci.hi - ref[i].hi) <= 1e-9 * ref[i].hi, "case %zu hi %.17g vs %.17g", i,
                  ci.hi, ref[i].hi);
    }
    struct bx_ci none = bx_ci_binomial(0, 0, 0.95);
    cr_assert(isnan(none.value) && isnan(none.lo) && isnan(none.hi));
}

Test(stats, quantiles_pack_and_unpack_to_an_equal_estimator)
{
    struct bx_error err = {0};
    for (int exact = 0; exact < 2; ++exact) {
        struct bx_quantiles *q = bx_quantiles_alloc(exact, 0.005, &err);
        for (int i = 0; i < 5000; ++i)
            bx_quantiles_add(q, i % 7 == 0 ? 0 : 0.01 * (double)((i * 7919) % 100000));
        bx_quantiles_get(q, 0.5); /* exact: sorted before packing */
        bx_quantiles_add(q, 3.25);
        struct bx_buf b = {0};
        bx_quantiles_pack(q, &b);
        struct bx_reader r = {.p = b.data, .len = b.len};
        struct bx_quantiles *u = bx_quantiles_unpack(&r, &err);
        cr_assert_not_null(u, "%s", err.msg);
        cr_assert_eq(r.pos, b.len);
        cr_assert_eq(bx_quantiles_count(u), bx_quantiles_count(q));
        for (double p = 0; p <= 1; p += 0.01)
            cr_assert_eq(bx_quantiles_get(u, p), bx_quantiles_get(q, p), "p = %g", p);
        if (!exact)
            cr_assert_lt(b.len, 8 * 4000, "only the non-empty range of buckets travels");
        struct bx_reader s = {.p = b.data, .len = b.len - 1};
        cr_assert_null(bx_quantiles_unpack(&s, &err), "a short buffer is refused");
        bx_quantiles_free(u);
        bx_quantiles_free(q);
        bx_buf_fini(&b);
    }
}
