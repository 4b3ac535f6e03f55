/* SPDX-License-Identifier: MIT */
/* app.h - shared by the bxsim command's files (the composition root; nothing includes it). */
#ifndef BX_APP_H
#define BX_APP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/scn.h"

/* Exit statuses of every subcommand. */
enum { BX_EXIT_OK = 0, BX_EXIT_RUNTIME = 1, BX_EXIT_USAGE = 2, BX_EXIT_REGRESSION = 3 };

/* Version string "0.1.0 (git abc123)". */
const char *bx_app_version(void);
const char *bx_app_git_revision(void);
/* One line of library versions (GSL, HDF5, libyaml, jansson, OpenBLAS and its core). */
void bx_app_libraries(char *buf, size_t len);
/* The whole of a (small) text file, NUL-terminated, or NULL; free() it. */
char *bx_app_read_text(const char *path);

/* OpenBLAS core selection (blas.c): called first thing in main; may re-execute the program. */
void bx_app_blas_setup(char **argv);
/* One line describing the OpenBLAS build, the core in use and how it was chosen. */
void bx_app_blas_describe(char *buf, size_t len);
const char *bx_app_blas_core(void);
/* The core type to switch to when OpenBLAS chose @p have on a CPU whose best vector level is
 * @p cpu_level (0 SSE, 1 AVX, 2 AVX2+FMA, 3 AVX-512); NULL when @p have is already as good. */
const char *bx_app_blas_better_core(const char *have, int cpu_level);

/* Strict option parsing: false (and a message on stderr naming the option) if @p s is not a
 * whole number in [lo, hi]. */
bool bx_app_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
                      uint64_t *out);

int bx_cmd_run(int argc, char **argv);
int bx_cmd_validate(int argc, char **argv);
int bx_cmd_report(int argc, char **argv);
int bx_cmd_audit(int argc, char **argv);
int bx_cmd_size(int argc, char **argv);
int bx_cmd_bench(int argc, char **argv);
int bx_cmd_gallery(int argc, char **argv);
int bx_cmd_calibrate(int argc, char **argv);
int bx_gallery_gen(int argc, char **argv);
int bx_gallery_profiles(int argc, char **argv);

/* Resolve a profile NAME (or a path) to a file (cmd_calibrate.c). */
void bx_app_profile_path(const char *name, char *out, size_t len);
/* Load a ports scenario's algorithm profile into scn->ports (generator parameters and name);
 * @p ppath (may be NULL) receives the profile file's path. On failure prints
 * "FILE: profile 'NAME': message" and returns false. */
/** Load scenario @p file: 0, or (the error printed) the exit status: 2 for a bad file, 1 when
 *  out of memory. */
int bx_app_load_scenario(const char *file, struct bx_scn *scn);
bool bx_app_ports_profile(struct bx_scn *scn, const char *file, char *ppath, size_t len);
/* Enrol subjects first..first+n-1 of @p mix with target @p t's enrolment device and score
 * probes of them taken with its probe device, quality and years: s[i * n + j] = probe i vs
 * enrolment j (cmd_calibrate.c). */
enum bx_status bx_app_score_matrix(const struct bx_tplgen *gen, const struct bx_demog_mix *mix,
                                   const struct bx_profile_target *t, int64_t first, size_t n,
                                   float *s, struct bx_error *err);

/* After a failed write into @p dir: when its file system is (nearly) full, say so on stderr and
 * that the folder keeps its previous outputs (true then). */
bool bx_app_explain_write_failure(const char *cmd, const char *dir);

/* Benchmarks: record one figure (per-repetition values, median, min, max; prints a line) and
 * return its median. @p extra (may be NULL) is merged into the figure's object and released. */
double bx_bench_figure(json_t *results, const char *name, const char *unit, double n,
                       const double *values, size_t reps, json_t *extra);
/* Load and check a bench file (bench_gate.c) named by @p option (--baseline, --results): every
 * gated figure must be usable by the gate (numbers, min <= median <= max agreeing with its
 * repetitions, counts with 0 <= errors <= trials > 0), else a message and BX_EXIT_USAGE. */
int bx_bench_load(const char *path, const char *option, json_t **out);
/* Compare @p results with the loaded bench file @p base: prints the table, sets *table;
 * BX_EXIT_REGRESSION when a gated figure got worse by more than @p tolerance plus the noise
 * band. */
int bx_bench_compare(json_t *results, json_t *base, double tolerance, json_t **table);
/* The matcher suite (bench_matcher.c): adds figures to @p results and machine limits to @p env. */
int bx_bench_matcher(json_t *results, json_t *env, unsigned repeat, bool quick);
/* The models suite (bench_models.c). */
int bx_bench_models(json_t *results, unsigned repeat, bool quick);
/* The accuracy suite (bench_models.c): FNMR and FMR counts of the visa-best profile. */
int bx_bench_accuracy(json_t *results, bool quick, uint64_t seed);
/* The e2e suite (bench_models.c): a whole ports scenario. */
int bx_bench_e2e(json_t *results, unsigned repeat, bool quick);

#endif /* BX_APP_H */
