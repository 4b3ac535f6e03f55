/* SPDX-License-Identifier: MIT */
/* figure.c - one benchmark figure: per-repetition values, median, min, max and spread. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bx_bench_figure(json_t *results, const char *name, const char *unit, double n,
                       const double *values, size_t reps, json_t *extra)
{
    double *s = malloc(reps * sizeof *s), *v = malloc(reps * sizeof *v);
    if (s == NULL || v == NULL) {
        free(s);
        free(v);
        return BX_NAN;
    }
    /* Test-only knob (docs/bench.md): BX_BENCH_INJECT_SLOWDOWN=F makes every rate F times
     * lower and every time F times longer, so that the regression gate can be tested. */
    const char *knob = getenv("BX_BENCH_INJECT_SLOWDOWN");
    double slow = knob ? atof(knob) : 1;
    size_t ul = strlen(unit);
    bool rate_unit = ul >= 2 && strcmp(unit + ul - 2, "/s") == 0;
    for (size_t i = 0; i < reps; ++i)
        v[i] = !(slow > 0) || slow == 1 ? values[i]
               : rate_unit              ? values[i] / slow
               : strcmp(unit, "s") == 0 ? values[i] * slow
                                        : values[i];
    values = v;
    memcpy(s, values, reps * sizeof *s);
    qsort(s, reps, sizeof *s, cmp_double);
    double med = reps % 2 ? s[reps / 2] : (s[reps / 2 - 1] + s[reps / 2]) / 2;
    json_t *arr = json_array();
    for (size_t i = 0; i < reps; ++i)
        json_array_append_new(arr, json_real(values[i]));
    json_t *fig = json_pack("{sssssfsfsfsfso}", "name", name, "unit", unit, "n", n, "median", med,
                            "min", s[0], "max", s[reps - 1], "repetitions", arr);
    /* The spread: half the relative range of the repetitions (the gate's noise band). */
    json_object_set_new(fig, "spread", json_real(med != 0 ? (s[reps - 1] - s[0]) / med / 2 : 0));
    if (extra) {
        json_object_update(fig, extra);
        json_decref(extra);
    }
    json_array_append_new(results, fig);
    printf("%-34s %14.4g %-14s (min %.4g, max %.4g, %zu runs)\n", name, med, unit, s[0],
           s[reps - 1], reps);
    fflush(stdout);
    free(s);
    free(v);
    return med;
}
