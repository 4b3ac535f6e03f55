/* SPDX-License-Identifier: MIT */
/* dist.c - service and inter-arrival time distributions, by natural parameters or by mean and
 * standard deviation (moment matching), with their exact first two moments.
 *
 * Moment matching: lognormal sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2; gamma
 * shape = 1 / cv^2, scale = var / mean; Weibull cv^2 = G(1 + 2/k) / G(1 + 1/k)^2 - 1 solved for
 * the shape k with GSL's Brent solver (it falls monotonically in k); uniform and triangular are
 * taken symmetric about the mean (half-widths sd * sqrt(3) and sd * sqrt(6)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_gamma.h>

#include "bx/sim.h"

static const char *const names[] = {
    [BX_DIST_EXPONENTIAL] = "exponential",
    [BX_DIST_DETERMINISTIC] = "deterministic",
    [BX_DIST_UNIFORM] = "uniform",
    [BX_DIST_LOGNORMAL] = "lognormal",
    [BX_DIST_GAMMA] = "gamma",
    [BX_DIST_WEIBULL] = "weibull",
    [BX_DIST_TRIANGULAR] = "triangular",
    [BX_DIST_EMPIRICAL] = "empirical",
};

const char *bx_dist_name(enum bx_dist_kind kind)
{
    return (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

bool bx_dist_kind_parse(const char *name, enum bx_dist_kind *kind)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        if (strcmp(name, names[i]) == 0) {
            *kind = (enum bx_dist_kind)i;
            return true;
        }
    }
    return false;
}

static enum bx_status set(struct bx_dist *d, enum bx_dist_kind kind, double a, double b, double c)
{
    *d = (struct bx_dist){.kind = kind, .a = a, .b = b, .c = c};
    return BX_OK;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return BX_FAIL(err, BX_EINVAL, __VA_ARGS__);                                           \
    } while (0)

enum bx_status bx_dist_exponential(struct bx_dist *d, double mean_s, struct bx_error *err)
{
    CHECK(isfinite(mean_s) && mean_s > 0, "exponential mean must be > 0 (got %g)", mean_s);
    return set(d, BX_DIST_EXPONENTIAL, mean_s, 0, 0);
}

enum bx_status bx_dist_deterministic(struct bx_dist *d, double value_s, struct bx_error *err)
{
    CHECK(isfinite(value_s) && value_s >= 0, "deterministic value must be >= 0 (got %g)", value_s);
    return set(d, BX_DIST_DETERMINISTIC, value_s, 0, 0);
}

enum bx_status bx_dist_uniform(struct bx_dist *d, double min_s, double max_s, struct bx_error *err)
{
    CHECK(isfinite(min_s) && isfinite(max_s) && min_s >= 0 && max_s > min_s,
          "uniform needs 0 <= min < max (got min %g, max %g)", min_s, max_s);
    return set(d, BX_DIST_UNIFORM, min_s, max_s, 0);
}

enum bx_status bx_dist_lognormal(struct bx_dist *d, double mu, double sigma, struct bx_error *err)
{
    CHECK(isfinite(mu) && isfinite(sigma) && sigma > 0 && sigma < 20,
          "lognormal needs finite mu and 0 < sigma < 20 (got mu %g, sigma %g)", mu, sigma);
    return set(d, BX_DIST_LOGNORMAL, mu, sigma, 0);
}

enum bx_status bx_dist_gamma(struct bx_dist *d, double shape, double scale_s, struct bx_error *err)
{
    CHECK(isfinite(shape) && isfinite(scale_s) && shape > 0 && scale_s > 0,
          "gamma needs shape > 0 and scale > 0 (got %g, %g)", shape, scale_s);
    return set(d, BX_DIST_GAMMA, shape, scale_s, 0);
}

enum bx_status bx_dist_weibull(struct bx_dist *d, double shape, double scale_s,
                               struct bx_error *err)
{
    CHECK(isfinite(shape) && isfinite(scale_s) && shape >= 0.05 && scale_s > 0,
          "weibull needs shape >= 0.05 and scale > 0 (got %g, %g)", shape, scale_s);
    return set(d, BX_DIST_WEIBULL, shape, scale_s, 0);
}

enum bx_status bx_dist_triangular(struct bx_dist *d, double min_s, double mode_s, double max_s,
                                  struct bx_error *err)
{
    CHECK(isfinite(min_s) && isfinite(mode_s) && isfinite(max_s) && min_s >= 0 && min_s <= mode_s &&
              mode_s <= max_s && min_s < max_s,
          "triangular needs 0 <= min <= mode <= max and min < max (got %g, %g, %g)", min_s, mode_s,
          max_s);
    return set(d, BX_DIST_TRIANGULAR, min_s, mode_s, max_s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum bx_status bx_dist_empirical(struct bx_dist *d, const double *values, size_t n,
                                 bool interpolate, struct bx_error *err)
{
    CHECK(n >= 1, "empirical distribution needs at least one value");
    for (size_t i = 0; i < n; ++i)
        CHECK(isfinite(values[i]) && values[i] >= 0,
              "empirical value %zu must be finite and >= 0 (got %g)", i + 1, values[i]);
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return BX_FAIL(err, BX_ENOMEM, "cannot allocate %zu empirical values", n);
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    *d = (struct bx_dist){
        .kind = BX_DIST_EMPIRICAL, .values = v, .n_values = n, .interpolate = interpolate};
    return BX_OK;
}

/* cv^2 of a Weibull with shape k, minus the target. */
static double weibull_cv2_gap(double k, void *target)
{
    double l1 = gsl_sf_lngamma(1 + 1 / k), l2 = gsl_sf_lngamma(1 + 2 / k);
    return expm1(l2 - 2 * l1) - *(double *)target;
}

static enum bx_status weibull_shape(double cv2, double *shape, struct bx_error *err)
{
    const double lo = 0.05, hi = 1000;
    if (!(weibull_cv2_gap(lo, &cv2) > 0 && weibull_cv2_gap(hi, &cv2) < 0))
        return BX_FAIL(err, BX_EINVAL,
                       "weibull: no shape gives coefficient of variation %g (supported: "
                       "%.3g to %.3g)",
                       sqrt(cv2), sqrt(weibull_cv2_gap(hi, &(double){0})),
                       sqrt(weibull_cv2_gap(lo, &(double){0})));
    gsl_function f = {weibull_cv2_gap, &cv2};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (s == NULL)
        return BX_FAIL(err, BX_ENOMEM, "weibull: cannot allocate root solver");
    gsl_root_fsolver_set(s, &f, lo, hi);
    int status = GSL_CONTINUE;
    for (int it = 0; it < 200 && status == GSL_CONTINUE; ++it) {
        gsl_root_fsolver_iterate(s);
        status = gsl_root_test_interval(gsl_root_fsolver_x_lower(s), gsl_root_fsolver_x_upper(s), 0,
                                        1e-13);
    }
    *shape = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    if (status != GSL_SUCCESS)
        return BX_FAIL(err, BX_EINVAL, "weibull: shape for cv %g did not converge", sqrt(cv2));
    return BX_OK;
}

enum bx_status bx_dist_from_moments(struct bx_dist *d, enum bx_dist_kind kind, double mean_s,
                                    double sd_s, struct bx_error *err)
{
    const char *name = bx_dist_name(kind);
    bool has_sd = !(sd_s < 0);
    CHECK(isfinite(mean_s) && mean_s >= 0, "%s mean must be finite and >= 0 (got %g)", name,
          mean_s);
    CHECK(!has_sd || isfinite(sd_s), "%s sd must be finite (got %g)", name, sd_s);
    double cv = has_sd && mean_s > 0 ? sd_s / mean_s : BX_NAN;
    switch (kind) {
    case BX_DIST_EXPONENTIAL:
        CHECK(!has_sd || fabs(sd_s - mean_s) <= 1e-9 * mean_s,
              "exponential sd equals its mean; give mean_s only (got sd %g for mean %g)", sd_s,
              mean_s);
        return bx_dist_exponential(d, mean_s, err);
    case BX_DIST_DETERMINISTIC:
        CHECK(!has_sd || sd_s == 0, "deterministic sd must be 0 (got %g)", sd_s);
        return bx_dist_deterministic(d, mean_s, err);
    case BX_DIST_UNIFORM:
        CHECK(has_sd && sd_s > 0, "uniform from moments needs sd_s > 0");
        return bx_dist_uniform(d, mean_s - sd_s * sqrt(3.0), mean_s + sd_s * sqrt(3.0), err);
    case BX_DIST_TRIANGULAR:
        CHECK(has_sd && sd_s > 0, "triangular from moments needs sd_s > 0");
        return bx_dist_triangular(d, mean_s - sd_s * sqrt(6.0), mean_s, mean_s + sd_s * sqrt(6.0),
                                  err);
    case BX_DIST_LOGNORMAL: {
        CHECK(mean_s > 0 && has_sd && sd_s > 0, "lognormal needs mean_s > 0 and sd_s > 0");
        double s2 = log1p(cv * cv);
        return bx_dist_lognormal(d, log(mean_s) - s2 / 2, sqrt(s2), err);
    }
    case BX_DIST_GAMMA:
        CHECK(mean_s > 0 && has_sd && sd_s > 0, "gamma needs mean_s > 0 and sd_s > 0");
        return bx_dist_gamma(d, 1 / (cv * cv), sd_s * sd_s / mean_s, err);
    case BX_DIST_WEIBULL: {
        CHECK(mean_s > 0 && has_sd && sd_s > 0, "weibull needs mean_s > 0 and sd_s > 0");
        double k = 0;
        enum bx_status st = weibull_shape(cv * cv, &k, err);
        if (st != BX_OK)
            return st;
        return bx_dist_weibull(d, k, mean_s / exp(gsl_sf_lngamma(1 + 1 / k)), err);
    }
    case BX_DIST_EMPIRICAL:
        break;
    }
    return BX_FAIL(err, BX_EINVAL, "%s distribution cannot be given by mean and sd", name);
}

void bx_dist_fini(struct bx_dist *d)
{
    if (d == NULL)
        return;
    free(d->values);
    d->values = NULL;
    d->n_values = 0;
}

enum bx_status bx_dist_copy(struct bx_dist *dst, const struct bx_dist *src, struct bx_error *err)
{
    if (src->kind == BX_DIST_EMPIRICAL)
        return bx_dist_empirical(dst, src->values, src->n_values, src->interpolate, err);
    *dst = *src;
    return BX_OK;
}

double bx_dist_sample(const struct bx_dist *d, gsl_rng *r)
{
    switch (d->kind) {
    case BX_DIST_EXPONENTIAL:
        return gsl_ran_exponential(r, d->a);
    case BX_DIST_DETERMINISTIC:
        return d->a;
    case BX_DIST_UNIFORM:
        return gsl_ran_flat(r, d->a, d->b);
    case BX_DIST_LOGNORMAL:
        return gsl_ran_lognormal(r, d->a, d->b);
    case BX_DIST_GAMMA:
        return gsl_ran_gamma(r, d->a, d->b);
    case BX_DIST_WEIBULL:
        return gsl_ran_weibull(r, d->b, d->a);
    case BX_DIST_TRIANGULAR: {
        double lo = d->a, mode = d->b, hi = d->c, u = gsl_rng_uniform(r);
        double f = (mode - lo) / (hi - lo);
        return u < f ? lo + sqrt(u * (hi - lo) * (mode - lo))
                     : hi - sqrt((1 - u) * (hi - lo) * (hi - mode));
    }
    case BX_DIST_EMPIRICAL: {
        size_t n = d->n_values;
        if (!d->interpolate || n == 1)
            return d->values[gsl_rng_uniform_int(r, n)];
        double pos = gsl_rng_uniform(r) * (double)(n - 1);
        size_t i = (size_t)pos;
        double frac = pos - (double)i;
        return d->values[i] + frac * (d->values[i + 1] - d->values[i]);
    }
    }
    BX_REQUIRE(!"unknown distribution kind");
    return BX_NAN;
}

/* E[X] and E[X^2] of an empirical distribution. */
static void empirical_moments(const struct bx_dist *d, double *m1, double *m2)
{
    size_t n = d->n_values;
    const double *v = d->values;
    double s1 = 0, s2 = 0;
    if (!d->interpolate || n == 1) {
        for (size_t i = 0; i < n; ++i) {
            s1 += v[i];
            s2 += v[i] * v[i];
        }
        *m1 = s1 / (double)n;
        *m2 = s2 / (double)n;
        return;
    }
    /* Mixture of n - 1 uniform segments of equal weight. */
    for (size_t i = 0; i + 1 < n; ++i) {
        s1 += (v[i] + v[i + 1]) / 2;
        s2 += (v[i] * v[i] + v[i] * v[i + 1] + v[i + 1] * v[i + 1]) / 3;
    }
    *m1 = s1 / (double)(n - 1);
    *m2 = s2 / (double)(n - 1);
}

double bx_dist_mean(const struct bx_dist *d)
{
    switch (d->kind) {
    case BX_DIST_EXPONENTIAL:
    case BX_DIST_DETERMINISTIC:
        return d->a;
    case BX_DIST_UNIFORM:
        return (d->a + d->b) / 2;
    case BX_DIST_LOGNORMAL:
        return exp(d->a + d->b * d->b / 2);
    case BX_DIST_GAMMA:
        return d->a * d->b;
    case BX_DIST_WEIBULL:
        return d->b * exp(gsl_sf_lngamma(1 + 1 / d->a));
    case BX_DIST_TRIANGULAR:
        return (d->a + d->b + d->c) / 3;
    case BX_DIST_EMPIRICAL: {
        double m1, m2;
        empirical_moments(d, &m1, &m2);
        return m1;
    }
    }
    return BX_NAN;
}

double bx_dist_var(const struct bx_dist *d)
{
    switch (d->kind) {
    case BX_DIST_EXPONENTIAL:
        return d->a * d->a;
    case BX_DIST_DETERMINISTIC:
        return 0;
    case BX_DIST_UNIFORM:
        return (d->b - d->a) * (d->b - d->a) / 12;
    case BX_DIST_LOGNORMAL:
        return expm1(d->b * d->b) * exp(2 * d->a + d->b * d->b);
    case BX_DIST_GAMMA:
        return d->a * d->b * d->b;
    case BX_DIST_WEIBULL: {
        double g1 = exp(gsl_sf_lngamma(1 + 1 / d->a)), g2 = exp(gsl_sf_lngamma(1 + 2 / d->a));
        return d->b * d->b * (g2 - g1 * g1);
    }
    case BX_DIST_TRIANGULAR: {
        double a = d->a, b = d->b, c = d->c;
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18;
    }
    case BX_DIST_EMPIRICAL: {
        double m1, m2;
        empirical_moments(d, &m1, &m2);
        return fmax(0, m2 - m1 * m1);
    }
    }
    return BX_NAN;
}

double bx_dist_min(const struct bx_dist *d)
{
    switch (d->kind) {
    case BX_DIST_DETERMINISTIC:
    case BX_DIST_UNIFORM:
    case BX_DIST_TRIANGULAR:
        return d->a;
    case BX_DIST_EMPIRICAL:
        return d->n_values ? d->values[0] : 0;
    default:
        return 0;
    }
}
