/* SPDX-License-Identifier: MIT */
/* bench_gate.c - `bxsim bench --baseline FILE`: compare this run's figures with a stored run and
 * call a regression only when a figure moved against us by more than the tolerance beyond the
 * measured noise (docs/bench.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

#include "app.h"

/* +1: higher is better (rates), -1: lower is better (times, sizes), 0: not gated. */
static int direction(const char *unit)
{
    size_t n = strlen(unit);
    if (n >= 2 && strcmp(unit + n - 2, "/s") == 0)
        return 1;
    if (strcmp(unit, "s") == 0 || strcmp(unit, "ms") == 0 || strcmp(unit, "MB") == 0 ||
        strcmp(unit, "bytes") == 0)
        return -1;
    return 0;
}

/* Half the relative range of a figure's repetitions: its noise band. */
static double noise(json_t *fig)
{
    double med = json_number_value(json_object_get(fig, "median")),
           lo = json_number_value(json_object_get(fig, "min")),
           hi = json_number_value(json_object_get(fig, "max"));
    return med > 0 && isfinite(lo) && isfinite(hi) ? (hi - lo) / med / 2 : 0;
}

/* The k-th figure named @p name in @p arr (names may repeat). */
static json_t *find(json_t *arr, const char *name, size_t k)
{
    for (size_t i = 0; i < json_array_size(arr); ++i) {
        json_t *f = json_array_get(arr, i);
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0 && k-- == 0)
            return f;
    }
    return NULL;
}

int bx_bench_compare(json_t *results, const char *baseline, double tolerance, json_t **table)
{
    json_error_t jerr;
    json_t *base = json_load_file(baseline, 0, &jerr);
    *table = NULL;
    if (base == NULL) {
        fprintf(stderr, "bxsim bench: --baseline %s:%d:%d: %s\n", baseline, jerr.line, jerr.column,
                jerr.text);
        return BX_EXIT_USAGE;
    }
    json_t *bres = json_object_get(base, "results");
    if (!json_is_array(bres)) {
        fprintf(stderr,
                "bxsim bench: --baseline %s: no \"results\" array (a `bxsim bench --json` "
                "file expected)\n",
                baseline);
        json_decref(base);
        return BX_EXIT_USAGE;
    }
    json_t *tab = json_array();
    size_t regressions = 0;
    printf("\n%-40s %12s %12s %9s %8s  %s\n", "figure", "baseline", "now", "change", "noise/z",
           "verdict");
    for (size_t i = 0; i < json_array_size(results); ++i) {
        json_t *f = json_array_get(results, i);
        const char *name = json_string_value(json_object_get(f, "name")),
                   *unit = json_string_value(json_object_get(f, "unit"));
        if (name == NULL || unit == NULL)
            continue;
        size_t k = 0; /* the occurrence of this name among the results so far */
        for (size_t j = 0; j < i; ++j) {
            const char *nj = json_string_value(json_object_get(json_array_get(results, j), "name"));
            k += nj && strcmp(nj, name) == 0;
        }
        json_t *b = find(bres, name, k);
        const char *bu = b ? json_string_value(json_object_get(b, "unit")) : NULL;
        int dir = direction(unit);
        const char *verdict;
        double m1 = json_number_value(json_object_get(f, "median")), m0 = BX_NAN, change = BX_NAN,
               band = BX_NAN;
        bool is_z = false;
        if (b == NULL || bu == NULL || strcmp(bu, unit) != 0) {
            verdict = "new";
        } else if (json_is_integer(json_object_get(f, "trials")) &&
                   json_is_integer(json_object_get(b, "trials"))) {
            /* An error rate with its counts: a one-sided two-proportion z test at 99%: a drift
             * is caught, sampling noise is not. */
            double x1 = (double)json_integer_value(json_object_get(f, "errors")),
                   n1 = (double)json_integer_value(json_object_get(f, "trials")),
                   x0 = (double)json_integer_value(json_object_get(b, "errors")),
                   n0 = (double)json_integer_value(json_object_get(b, "trials"));
            m0 = x0 / n0;
            double pool = (x0 + x1) / (n0 + n1), se = sqrt(pool * (1 - pool) * (1 / n0 + 1 / n1));
            double z = se > 0 ? (x1 / n1 - x0 / n0) / se : 0;
            change = m0 > 0 ? (m1 - m0) / m0 : BX_NAN;
            band = z; /* in the noise column: the z score */
            is_z = true;
            verdict = z > 2.326 ? "REGRESSION" : z < -2.326 ? "improved" : "ok";
        } else {
            m0 = json_number_value(json_object_get(b, "median"));
            change = m0 != 0 ? (m1 - m0) / m0 : BX_NAN;
            band = fmax(noise(f), noise(b));
            double worse = dir * -change; /* > 0: moved against us */
            if (dir == 0 || !isfinite(change))
                verdict = "not gated";
            else if (worse > tolerance + band)
                verdict = "REGRESSION";
            else if (-worse > tolerance + band)
                verdict = "improved";
            else
                verdict = "ok";
        }
        regressions += strcmp(verdict, "REGRESSION") == 0;
        if (is_z)
            printf("%-40s %12.4g %12.4g %8.1f%% z %5.2f  %s\n", name, m0, m1, 100 * change, band,
                   verdict);
        else
            printf("%-40s %12.4g %12.4g %8.1f%% %7.1f%%  %s\n", name, m0, m1, 100 * change,
                   100 * band, verdict);
        json_array_append_new(
            tab, json_pack("{sssssosfsosososs}", "name", name, "unit", unit, "baseline",
                           isfinite(m0) ? json_real(m0) : json_null(), "now", m1, "change",
                           isfinite(change) ? json_real(change) : json_null(), "noise",
                           !is_z && isfinite(band) ? json_real(band) : json_null(), "z",
                           is_z ? json_real(band) : json_null(), "verdict", verdict));
    }
    printf("%zu regression%s beyond the tolerance of %.0f%% plus the noise band\n", regressions,
           regressions == 1 ? "" : "s", 100 * tolerance);
    json_decref(base);
    *table = tab;
    return regressions ? BX_EXIT_REGRESSION : BX_EXIT_OK;
}
