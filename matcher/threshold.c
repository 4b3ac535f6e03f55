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
