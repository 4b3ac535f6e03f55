/* SPDX-License-Identifier: MIT */
/* test_dist.c - every distribution: moments as specified, samples that follow them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "bx/sim.h"

static gsl_rng *rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

/* Sample mean within 5 standard errors of the exact mean, sample variance within 5% (or 0). */
static void check_samples(const struct bx_dist *d, const char *what)
{
    gsl_rng *r = rng(99);
    const int n = 400000;
    struct bx_tally t;
    bx_tally_reset(&t);
    for (int i = 0; i < n; ++i) {
        double x = bx_dist_sample(d, r);
        cr_assert(x >= 0 && isfinite(x), "%s: sample %g", what, x);
        bx_tally_add(&t, x);
    }
    double mean = bx_dist_mean(d), var = bx_dist_var(d);
    if (var == 0) {
        cr_assert_eq(t.min, mean, "%s", what);
        cr_assert_eq(t.max, mean, "%s", what);
    } else {
        double z = (bx_tally_mean(&t) - mean) / sqrt(var / n);
        cr_assert_lt(fabs(z), 5.0, "%s: sample mean %g vs %g (z = %g)", what, bx_tally_mean(&t),
                     mean, z);
        cr_assert_lt(fabs(bx_tally_var(&t) / var - 1), 0.05, "%s: variance %g vs %g", what,
                     bx_tally_var(&t), var);
    }
    gsl_rng_free(r);
}

Test(sim_dist, moment_matching_reproduces_mean_and_sd_exactly)
{
    enum bx_dist_kind kinds[] = {BX_DIST_UNIFORM, BX_DIST_LOGNORMAL, BX_DIST_GAMMA, BX_DIST_WEIBULL,
                                 BX_DIST_TRIANGULAR};
    double cases[][2] = {{25.0, 10.0}, {34.0, 34.0}, {3.7, 0.4}, {120.0, 300.0}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
        for (size_t c = 0; c < 4; ++c) {
            struct bx_error err = {0};
            struct bx_dist d;
            double m = cases[c][0], s = cases[c][1];
            enum bx_status st = bx_dist_from_moments(&d, kinds[k], m, s, &err);
            bool symmetric = kinds[k] == BX_DIST_UNIFORM || kinds[k] == BX_DIST_TRIANGULAR;
            if (symmetric && m - s * sqrt(kinds[k] == BX_DIST_UNIFORM ? 3.0 : 6.0) < 0) {
                cr_assert_eq(st, BX_EINVAL, "%s %g/%g must be refused (negative times)",
                             bx_dist_name(kinds[k]), m, s);
                continue;
            }
            cr_assert_eq(st, BX_OK, "%s %g/%g: %s", bx_dist_name(kinds[k]), m, s, err.msg);
            cr_assert_float_eq(bx_dist_mean(&d), m, 1e-9 * m, "%s mean", bx_dist_name(kinds[k]));
            cr_assert_float_eq(sqrt(bx_dist_var(&d)), s, 1e-7 * s, "%s sd (got %.12g)",
                               bx_dist_name(kinds[k]), sqrt(bx_dist_var(&d)));
        }
    }
}

Test(sim_dist, samples_follow_each_distribution, .timeout = 60)
{
    struct bx_error err = {0};
    struct bx_dist d;
    cr_assert_eq(bx_dist_exponential(&d, 25.0, &err), BX_OK);
    check_samples(&d, "exponential");
    cr_assert_eq(bx_dist_deterministic(&d, 34.0, &err), BX_OK);
    check_samples(&d, "deterministic");
    cr_assert_eq(bx_dist_uniform(&d, 2.0, 9.5, &err), BX_OK);
    check_samples(&d, "uniform");
    cr_assert_eq(bx_dist_from_moments(&d, BX_DIST_LOGNORMAL, 45.0, 20.0, &err), BX_OK);
    check_samples(&d, "lognormal");
    cr_assert_eq(bx_dist_gamma(&d, 2.5, 4.0, &err), BX_OK);
    check_samples(&d, "gamma");
    cr_assert_eq(bx_dist_weibull(&d, 1.7, 30.0, &err), BX_OK);
    check_samples(&d, "weibull");
    cr_assert_eq(bx_dist_triangular(&d, 10.0, 12.0, 40.0, &err), BX_OK);
    check_samples(&d, "triangular");
    double v[] = {3.0, 1.0, 8.0, 2.0, 2.0};
    cr_assert_eq(bx_dist_empirical(&d, v, 5, false, &err), BX_OK);
    check_samples(&d, "empirical");
    bx_dist_fini(&d);
    cr_assert_eq(bx_dist_empirical(&d, v, 5, true, &err), BX_OK);
    check_samples(&d, "empirical interpolated");
    bx_dist_fini(&d);
}

/* Kolmogorov-Smirnov against GSL's CDFs: sqrt(n) D below its 0.001 critical value 1.95. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ks_stat(const struct bx_dist *d, double (*cdf)(const struct bx_dist *, double))
{
    enum { N = 20000 };
    static double x[N];
    gsl_rng *r = rng(7);
    for (int i = 0; i < N; ++i)
        x[i] = bx_dist_sample(d, r);
    gsl_rng_free(r);
    qsort(x, N, sizeof x[0], cmp_double);
    double dmax = 0;
    for (int i = 0; i < N; ++i) {
        double f = cdf(d, x[i]);
        dmax = fmax(dmax, fmax(fabs(f - (double)i / N), fabs((double)(i + 1) / N - f)));
    }
    return dmax * sqrt((double)N);
}

static double cdf_lognormal(const struct bx_dist *d, double x)
{
    return gsl_cdf_lognormal_P(x, d->a, d->b);
}
static double cdf_gamma(const struct bx_dist *d, double x)
{
    return gsl_cdf_gamma_P(x, d->a, d->b);
}
static double cdf_weibull(const struct bx_dist *d, double x)
{
    return gsl_cdf_weibull_P(x, d->b, d->a);
}
static double cdf_triangular(const struct bx_dist *d, double x)
{
    double a = d->a, b = d->b, c = d->c;
    return x <= b ? (x - a) * (x - a) / ((c - a) * (b - a))
                  : 1 - (c - x) * (c - x) / ((c - a) * (c - b));
}
static double cdf_exponential(const struct bx_dist *d, double x)
{
    return gsl_cdf_exponential_P(x, d->a);
}

Test(sim_dist, samples_pass_kolmogorov_smirnov_against_the_exact_cdf)
{
    struct bx_error err = {0};
    struct bx_dist d;
    bx_dist_from_moments(&d, BX_DIST_LOGNORMAL, 45.0, 60.0, &err);
    cr_assert_lt(ks_stat(&d, cdf_lognormal), 1.95, "lognormal");
    bx_dist_from_moments(&d, BX_DIST_GAMMA, 20.0, 9.0, &err);
    cr_assert_lt(ks_stat(&d, cdf_gamma), 1.95, "gamma");
    bx_dist_from_moments(&d, BX_DIST_WEIBULL, 20.0, 9.0, &err);
    cr_assert_lt(ks_stat(&d, cdf_weibull), 1.95, "weibull");
    bx_dist_triangular(&d, 5.0, 7.0, 30.0, &err);
    cr_assert_lt(ks_stat(&d, cdf_triangular), 1.95, "triangular");
    bx_dist_exponential(&d, 3.3, &err);
    cr_assert_lt(ks_stat(&d, cdf_exponential), 1.95, "exponential");
    /* The test has power: the same samples fail against a gamma with another shape. */
    bx_dist_from_moments(&d, BX_DIST_GAMMA, 20.0, 9.0, &err);
    struct bx_dist other = d;
    other.a = d.a * 1.5;
    gsl_rng *r = rng(7);
    enum { N = 20000 };
    static double x[N];
    for (int i = 0; i < N; ++i)
        x[i] = bx_dist_sample(&d, r);
    gsl_rng_free(r);
    qsort(x, N, sizeof x[0], cmp_double);
    double dmax = 0;
    for (int i = 0; i < N; ++i)
        dmax = fmax(dmax, fabs(cdf_gamma(&other, x[i]) - (double)i / N));
    cr_assert_gt(dmax * sqrt((double)N), 1.95);
}

Test(sim_dist, empirical_draws_only_given_values_or_within_their_range)
{
    struct bx_error err = {0};
    struct bx_dist d, copy;
    double v[] = {40.0, 10.0, 25.0};
    cr_assert_eq(bx_dist_empirical(&d, v, 3, false, &err), BX_OK);
    cr_assert_eq(bx_dist_copy(&copy, &d, &err), BX_OK);
    cr_assert_neq(copy.values, d.values, "a copy owns its data");
    bx_dist_fini(&d);
    gsl_rng *r = rng(3);
    int seen[3] = {0};
    for (int i = 0; i < 3000; ++i) {
        double x = bx_dist_sample(&copy, r);
        cr_assert(x == 10.0 || x == 25.0 || x == 40.0, "got %g", x);
        seen[x == 10.0 ? 0 : x == 25.0 ? 1 : 2]++;
    }
    for (int k = 0; k < 3; ++k)
        cr_assert_gt(seen[k], 800);
    bx_dist_fini(&copy);
    cr_assert_eq(bx_dist_empirical(&d, v, 3, true, &err), BX_OK);
    cr_assert_float_eq(bx_dist_mean(&d), (17.5 + 32.5) / 2, 1e-12);
    for (int i = 0; i < 3000; ++i) {
        double x = bx_dist_sample(&d, r);
        cr_assert(x >= 10.0 && x <= 40.0);
    }
    bx_dist_fini(&d);
    gsl_rng_free(r);
}

Test(sim_dist, invalid_parameters_are_rejected_with_a_message)
{
    struct bx_error err = {0};
    struct bx_dist d;
    cr_assert_eq(bx_dist_exponential(&d, 0.0, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "exponential mean") != NULL, "%s", err.msg);
    bx_err_clear(&err);
    cr_assert_eq(bx_dist_exponential(&d, BX_NAN, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_uniform(&d, 5.0, 5.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_uniform(&d, -1.0, 5.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_lognormal(&d, 1.0, 0.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_gamma(&d, -1.0, 1.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_weibull(&d, 1.0, 0.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_triangular(&d, 5.0, 4.0, 9.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_empirical(&d, NULL, 0, false, &err), BX_EINVAL);
    double bad[] = {1.0, -2.0};
    cr_assert_eq(bx_dist_empirical(&d, bad, 2, false, &err), BX_EINVAL);
    bx_err_clear(&err);
    cr_assert_eq(bx_dist_from_moments(&d, BX_DIST_EXPONENTIAL, 10.0, 3.0, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "sd") != NULL, "%s", err.msg);
    cr_assert_eq(bx_dist_from_moments(&d, BX_DIST_DETERMINISTIC, 10.0, 1.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_from_moments(&d, BX_DIST_WEIBULL, 1.0, 1e6, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_from_moments(&d, BX_DIST_GAMMA, 10.0, -1.0, &err), BX_EINVAL);
    cr_assert_eq(bx_dist_from_moments(&d, BX_DIST_EMPIRICAL, 10.0, 1.0, &err), BX_EINVAL);
    enum bx_dist_kind k;
    cr_assert(bx_dist_kind_parse("weibull", &k) && k == BX_DIST_WEIBULL);
    cr_assert_not(bx_dist_kind_parse("pareto", &k));
}
