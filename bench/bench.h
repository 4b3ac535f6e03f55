/* SPDX-License-Identifier: MIT */
/* bench.h - the suites of `bxsim bench` (part of the bxsim program; docs/bench.md). Each suite
 * appends its figures to a JSON array; statuses are the program's exit statuses (app.h). */
#ifndef BX_BENCH_H
#define BX_BENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Record one figure (per-repetition values, median, min, max; prints a line) and return its
 * median. @p extra (may be NULL) is merged into the figure's object and released. */
double bx_bench_figure(json_t *results, const char *name, const char *unit, double n,
                       const double *values, size_t reps, json_t *extra);

/* The kernel suite (kernel.c): the hold model and an M/M/4 station. */
void bx_bench_kernel(json_t *results, uint64_t repeat, bool quick);
/* The matcher suite (matcher.c): adds figures to @p results and machine limits to @p env. */
int bx_bench_matcher(json_t *results, json_t *env, unsigned repeat, bool quick);
/* The models suite (models.c). */
int bx_bench_models(json_t *results, unsigned repeat, bool quick);
/* The accuracy suite (models.c): FNMR and FMR counts of the visa-best profile. */
int bx_bench_accuracy(json_t *results, bool quick, uint64_t seed);
/* The e2e suite (models.c): a whole ports scenario. */
int bx_bench_e2e(json_t *results, unsigned repeat, bool quick);

/* The lifecycle suite (lifecycle.c): a national year and the whole-store FPIR. */
int bx_bench_lifecycle(json_t *results, bool quick);

/* Load and check a bench file (gate.c) named by @p option (--baseline, --results): every gated
 * figure must be usable by the gate (numbers, min <= median <= max agreeing with its
 * repetitions, counts with 0 <= errors <= trials > 0), else a message and BX_EXIT_USAGE. */
int bx_bench_load(const char *path, const char *option, json_t **out);
/* The run of the loaded bench file @p file measured on the machine described by @p env (the same
 * processor, features and compiler): the file itself, or one of its "baselines"; NULL with a
 * message naming both machines when there is none. */
json_t *bx_bench_select(json_t *file, json_t *env, const char *path, const char *option);
/* Its first run, whatever the machine (accuracy counts). */
json_t *bx_bench_select_any(json_t *file);
/* Compare @p results with the loaded bench file @p base: prints the table, sets *table;
 * BX_EXIT_REGRESSION when a gated figure got worse by more than @p tolerance plus the noise
 * band. */
int bx_bench_compare(json_t *results, json_t *base, double tolerance, json_t **table);

#endif /* BX_BENCH_H */
