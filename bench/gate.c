/* SPDX-License-Identifier: MIT */
/* gate.c - `bxsim bench --baseline FILE`: compare this run's figures with a stored run and
 * call a regression only when a figure moved against us by more than the tolerance beyond the
 * measured noise (docs/bench.md). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

#include "app.h"
#include "bench.h"

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

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

/* What is wrong with figure @p f of a bench file, or NULL. A gated figure needs a positive
 * finite median inside [min, max] with min > 0 and a noise band of at most 100% (min 0 and max
 * 1e300 would make every change "noise"), agreeing with its repetitions where they are stored;
 * an error rate needs integer counts with 0 <= errors <= trials and trials > 0. */
static const char *bad_figure(json_t *f, char *why, size_t len)
{
    if (!json_is_object(f))
        return "is not an object";
    const char *name = json_string_value(json_object_get(f, "name")),
               *unit = json_string_value(json_object_get(f, "unit"));
    if (name == NULL || *name == '\0')
        return "needs a \"name\" string";
    if (unit == NULL)
        return "needs a \"unit\" string";
    json_t *med = json_object_get(f, "median"), *tr = json_object_get(f, "trials"),
           *er = json_object_get(f, "errors");
    if (tr || er) {
        if (!json_is_integer(tr) || !json_is_integer(er) || json_integer_value(tr) <= 0 ||
            json_integer_value(er) < 0 || json_integer_value(er) > json_integer_value(tr))
            return "needs integer \"errors\" and \"trials\" with 0 <= errors <= trials and "
                   "trials > 0";
        if (!json_is_number(med) || !isfinite(json_number_value(med)))
            return "needs a numeric \"median\" (the rate)";
        return NULL;
    }
    if (direction(unit) == 0)
        return NULL; /* not gated: informative only */
    json_t *mn = json_object_get(f, "min"), *mx = json_object_get(f, "max");
    if (!json_is_number(med) || !json_is_number(mn) || !json_is_number(mx))
        return "needs numbers \"median\", \"min\" and \"max\"";
    double m = json_number_value(med), lo = json_number_value(mn), hi = json_number_value(mx);
    if (!(isfinite(m) && isfinite(lo) && isfinite(hi) && lo > 0 && lo <= m && m <= hi)) {
        snprintf(why, len, "needs 0 < min <= median <= max, all finite (got %g, %g, %g)", lo, m,
                 hi);
        return why;
    }
    if ((hi - lo) / m / 2 > 1) {
        snprintf(why, len, "has a noise band of %.0f%% (min %g, max %g): more than 100%%",
                 100 * (hi - lo) / m / 2, lo, hi);
        return why;
    }
    json_t *reps = json_object_get(f, "repetitions");
    if (reps == NULL)
        return NULL;
    size_t n = json_array_size(reps);
    if (!json_is_array(reps) || n == 0 || n > 100000)
        return "has a \"repetitions\" that is not a non-empty array";
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return "is too large";
    for (size_t i = 0; i < n; ++i) {
        json_t *x = json_array_get(reps, i);
        v[i] = json_is_number(x) ? json_number_value(x) : BX_NAN;
        if (!isfinite(v[i])) {
            free(v);
            return "has a repetition that is not a finite number";
        }
    }
    qsort(v, n, sizeof *v, cmp_dbl);
    double vm = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    bool ok =
        close_to(v[0], lo) && close_to(v[n - 1], hi) &&
        (close_to(vm, m) || close_to(v[n / 2], m) || (n % 2 == 0 && close_to(v[n / 2 - 1], m)));
    if (!ok)
        snprintf(why, len, "disagrees with its repetitions (min %g, median %g, max %g there)", v[0],
                 vm, v[n - 1]);
    free(v);
    return ok ? NULL : why;
}

/* Check one run's "results" (BX_EXIT_OK, or a message and BX_EXIT_USAGE). */
static int check_run(json_t *run, const char *path, const char *option, const char *where)
{
    json_t *res = json_object_get(run, "results");
    if (!json_is_array(res)) {
        fprintf(stderr,
                "bxsim bench: %s %s%s: no \"results\" array (a `bxsim bench --json` "
                "file expected)\n",
                option, path, where);
        return BX_EXIT_USAGE;
    }
    for (size_t i = 0; i < json_array_size(res); ++i) {
        char why[200];
        const char *bad = bad_figure(json_array_get(res, i), why, sizeof why);
        if (bad) {
            const char *name = json_string_value(json_object_get(json_array_get(res, i), "name"));
            fprintf(stderr, "bxsim bench: %s %s%s: results[%zu]%s%s%s %s\n", option, path, where, i,
                    name ? " (\"" : "", name ? name : "", name ? "\")" : "", bad);
            return BX_EXIT_USAGE;
        }
    }
    return BX_EXIT_OK;
}

int bx_bench_load(const char *path, const char *option, json_t **out)
{
    json_error_t jerr;
    *out = NULL;
    json_t *base = json_load_file(path, 0, &jerr);
    if (base == NULL) {
        fprintf(stderr, "bxsim bench: %s %s:%d:%d: %s\n", option, path, jerr.line, jerr.column,
                jerr.text);
        return BX_EXIT_USAGE;
    }
    /* one run, or {"baselines": [run, ...]}: one per machine */
    json_t *many = json_object_get(base, "baselines");
    int rc = BX_EXIT_OK;
    if (json_is_array(many) && json_array_size(many) > 0) {
        for (size_t k = 0; k < json_array_size(many) && rc == BX_EXIT_OK; ++k) {
            char where[48];
            snprintf(where, sizeof where, " baselines[%zu]", k);
            rc = check_run(json_array_get(many, k), path, option, where);
        }
    } else {
        rc = check_run(base, path, option, "");
    }
    if (rc != BX_EXIT_OK) {
        json_decref(base);
        return rc;
    }
    *out = base;
    return BX_EXIT_OK;
}

/* The environment fields that decide whether speeds compare: the processor, its features and
 * the compiler. */
static const char *const same_machine[] = {"cpu", "cpu_features", "compiler"};

static bool env_matches(json_t *a, json_t *b)
{
    for (size_t i = 0; i < sizeof same_machine / sizeof *same_machine; ++i) {
        const char *x = json_string_value(json_object_get(a, same_machine[i]));
        const char *y = json_string_value(json_object_get(b, same_machine[i]));
        if (x == NULL || y == NULL || strcmp(x, y) != 0)
            return false;
    }
    return true;
}

static void env_line(json_t *e, char *buf, size_t len)
{
    const char *c = json_string_value(json_object_get(e, "cpu"));
    const char *f = json_string_value(json_object_get(e, "cpu_features"));
    const char *k = json_string_value(json_object_get(e, "compiler"));
    if (c == NULL && f == NULL && k == NULL)
        snprintf(buf, len, "no environment recorded");
    else
        snprintf(buf, len, "%s; %s; %s", c ? c : "?", f && *f ? f : "no listed features",
                 k ? k : "?");
}

json_t *bx_bench_select(json_t *file, json_t *env, const char *path, const char *option)
{
    json_t *many = json_object_get(file, "baselines");
    size_t n = json_is_array(many) ? json_array_size(many) : 0;
    for (size_t k = 0; k < n; ++k)
        if (env_matches(json_object_get(json_array_get(many, k), "environment"), env))
            return json_array_get(many, k);
    if (n == 0 && env_matches(json_object_get(file, "environment"), env))
        return file;
    char here[300], there[300];
    env_line(env, here, sizeof here);
    env_line(json_object_get(n ? json_array_get(many, 0) : file, "environment"), there,
             sizeof there);
    fprintf(stderr,
            "bxsim bench: %s %s was measured on another machine (%s%s), this is %s: speeds do "
            "not compare across machines. Measure a baseline here (bxsim bench --json FILE) or "
            "add one for this machine to the file's \"baselines\" list (docs/bench.md)\n",
            option, path, there, n > 1 ? ", and others" : "", here);
    return NULL;
}

int bx_bench_compare(json_t *results, json_t *base, double tolerance, json_t **table)
{
    *table = NULL;
    json_t *bres = json_object_get(base, "results");
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
    *table = tab;
    return regressions ? BX_EXIT_REGRESSION : BX_EXIT_OK;
}

json_t *bx_bench_select_any(json_t *file)
{
    json_t *many = json_object_get(file, "baselines");
    return json_is_array(many) && json_array_size(many) > 0 ? json_array_get(many, 0) : file;
}
