/* SPDX-License-Identifier: MIT */
/* threshold.c - operating thresholds from impostor scores, and 1:N false-positive rates. */
#include "matcher_internal.h"

#include <math.h>
#include <stdlib.h>

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

double bx_fmr_at(const double *impostor, size_t n, double t)
{
    BX_REQUIRE(n >= 1);
    size_t c = 0;
    for (size_t i = 0; i < n; ++i)
        c += impostor[i] >= t;
    return (double)c / (double)n;
}

void bx_scores_sort_desc(double *scores, size_t n)
{
    qsort(scores, n, sizeof *scores, cmp_desc);
}

/* The walk over m sorted scores (no NaN) out of n trials. */
static double threshold_sorted(const double *s, size_t m, size_t n, double target_fmr)
{
    /* Allowed false matches: the largest a with a / n <= target (guarding rounding). */
    size_t allowed = (size_t)floor(target_fmr * (double)n + 1e-9 * (double)n * target_fmr);
    while (allowed > 0 && (double)allowed / (double)n > target_fmr)
        --allowed;
    /* Walk distinct scores from the top: t = s[i] admits every score >= s[i]. The answer is the
     * lowest such t whose count stays within `allowed`. */
    double t = m ? nextafter(s[0], BX_INF) : -BX_INF;
    size_t i = 0;
    while (i < m) {
        size_t j = i;
        while (j < m && s[j] == s[i])
            ++j; /* s[i..j) tie; count(>= s[i]) = j */
        if (j > allowed)
            break;
        t = s[i];
        i = j;
    }
    if (i == m && m < n)
        t = m ? t : -BX_INF; /* only NaN scores: anything passes */
    return t;
}

double bx_threshold_at_fmr_sorted(const double *desc, size_t n, double target_fmr)
{
    BX_REQUIRE(n >= 1 && target_fmr >= 0 && target_fmr < 1);
    return threshold_sorted(desc, n, n, target_fmr);
}

double bx_threshold_at_fmr_top(const double *desc, size_t m, size_t n, double target_fmr)
{
    BX_REQUIRE(m <= n && n >= 1 && target_fmr >= 0 && target_fmr < 1);
    return threshold_sorted(desc, m, n, target_fmr);
}

double bx_threshold_at_fmr(const double *impostor, size_t n, double target_fmr)
{
    BX_REQUIRE(n >= 1 && target_fmr >= 0 && target_fmr < 1);
    double *s = malloc(n * sizeof *s);
    BX_REQUIRE(s != NULL);
    size_t m = 0;
    for (size_t i = 0; i < n; ++i)
        if (!isnan(impostor[i]))
            s[m++] = impostor[i];
    qsort(s, m, sizeof *s, cmp_desc);
    double t = threshold_sorted(s, m, n, target_fmr);
    free(s);
    return t;
}

double bx_fpir_expected(double fmr, size_t n_gallery)
{
    BX_REQUIRE(fmr >= 0 && fmr <= 1);
    if (fmr == 1)
        return n_gallery ? 1 : 0;
    return -expm1((double)n_gallery * log1p(-fmr));
}

/* ---------------------------------------------------------------- the upper tail */

/* Probability-weighted-moment estimates of a generalised Pareto distribution from exceedances
 * y[0..k) sorted in descending order (bx_scores_sort_desc) (Hosking and Wallis 1987): with
 * a0 = mean(y) and a1 = mean((1 - p_j) y_(j)), y_(j) the j-th smallest and p_j = (j - 0.35) / k,
 * the scale is 2 a0 a1 / (a0 - 2 a1) and the shape xi = 2 - a0 / (a0 - 2 a1) (xi < 0: a bounded
 * tail, 0: exponential, > 0: heavy). Summed from the smallest up. */
static bool gpd_pwm(const double *y, size_t k, double *xi, double *sigma)
{
    double a0 = 0, a1 = 0;
    for (size_t j = 0; j < k; ++j) {
        double p = ((double)j + 1 - 0.35) / (double)k, yj = y[k - 1 - j];
        a0 += yj;
        a1 += (1 - p) * yj;
    }
    a0 /= (double)k;
    a1 /= (double)k;
    double den = a0 - 2 * a1;
    if (!(a0 > 0) || !(den > 0))
        return false;
    *sigma = 2 * a0 * a1 / den;
    *xi = 2 - a0 / den;
    return *sigma > 0;
}

/* The score whose exceedance probability is f under the tail P(X > t) = zeta (1 + xi (t - u) /
 * sigma)^(-1 / xi), t >= u. */
static double gpd_quantile(double u, double xi, double sigma, double zeta, double f)
{
    double r = f / zeta;
    if (fabs(xi) < 1e-9)
        return u - sigma * log(r);
    return u + sigma / xi * (pow(r, -xi) - 1);
}

bool bx_threshold_tail(const double *desc, size_t k, size_t n, double target_fmr, unsigned boot,
                       uint64_t seed, struct bx_tail_threshold *out)
{
    BX_REQUIRE(k >= 2 && k < n && target_fmr > 0 && target_fmr < 1);
    *out = (struct bx_tail_threshold){BX_NAN, BX_NAN, BX_NAN, BX_NAN, BX_NAN, desc[k], k};
    double *y = malloc(k * sizeof *y), *yb = malloc(k * sizeof *yb);
    double *t = malloc((boot ? boot : 1) * sizeof *t);
    bool ok = y && yb && t;
    for (size_t j = 0; ok && j < k; ++j)
        y[j] = desc[j] - desc[k]; /* descending, like desc */
    double zeta = (double)k / (double)n;
    ok = ok && gpd_pwm(y, k, &out->xi, &out->sigma);
    if (ok) {
        out->value = gpd_quantile(out->u, out->xi, out->sigma, zeta, target_fmr);
        /* Resampling the exceedances: the spread of the fitted tail, at the same level u. */
        size_t nb = 0;
        for (unsigned b = 0; b < boot; ++b) {
            /* Draw h is the h-th smallest exceedance. */
            for (size_t j = 0; j < k; ++j)
                yb[j] = y[k - 1 - bx_hash64(seed ^ bx_hash64(((uint64_t)b << 32) + j)) % k];
            bx_scores_sort_desc(yb, k);
            double xi, sigma;
            if (gpd_pwm(yb, k, &xi, &sigma))
                t[nb++] = gpd_quantile(out->u, xi, sigma, zeta, target_fmr);
        }
        if (nb >= 20) { /* descending: the q-quantile of nb is t[nb - 1 - q (nb - 1)] */
            bx_scores_sort_desc(t, nb);
            out->lo = t[nb - 1 - (size_t)floor(0.025 * (double)(nb - 1))];
            out->hi = t[nb - 1 - (size_t)ceil(0.975 * (double)(nb - 1))];
        }
    }
    free(t);
    free(yb);
    free(y);
    return ok;
}
