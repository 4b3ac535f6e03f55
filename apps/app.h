/* SPDX-License-Identifier: MIT */
/* app.h - what the bxsim command's files share (app.c, blas.c): exit statuses, versions, option
 * parsing, loading with the error printed. No apps file calls another's functions otherwise. */
#ifndef BX_APP_H
#define BX_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/scn.h"

/* Exit statuses of every subcommand. */
enum {
    BX_EXIT_OK = 0,
    BX_EXIT_RUNTIME = 1,
    BX_EXIT_USAGE = 2,
    BX_EXIT_REGRESSION = 3,
    BX_EXIT_CLAIM = 4 /* audit --fail-on: a claim refuted or not supported */
};

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

/* A one-line progress bar on stderr (the caller checks that stderr is a terminal): @p work of
 * @p total done since @p t_start (bx_wall_s), @p what after it, the time left; coloured unless
 * NO_COLOR is set or TERM=dumb. @p last ends the line. */
void bx_app_bar(double t_start, double work, double total, const char *what, bool last);

/* The subcommands (one file each). */
int bx_cmd_run(int argc, char **argv);      /* cmd_run.c */
int bx_cmd_validate(int argc, char **argv); /* cmd_run.c */
int bx_cmd_report(int argc, char **argv);   /* cmd_run.c */
int bx_cmd_audit(int argc, char **argv);
int bx_cmd_size(int argc, char **argv);
int bx_cmd_bench(int argc, char **argv);
int bx_cmd_gallery(int argc, char **argv);
int bx_cmd_calibrate(int argc, char **argv);
int bx_cmd_compare(int argc, char **argv);

/** Load scenario @p file: 0, or (the error printed) the exit status: 2 for a bad file, 1 when
 *  out of memory. */
int bx_app_load_scenario(const char *file, struct bx_scn *scn);
/* Load a ports scenario's algorithm profile into scn->ports (bx_scn_ports_profile); @p ppath
 * (may be NULL) receives the profile file's path. On failure prints
 * "FILE: profile 'NAME': message" and returns false. */
bool bx_app_ports_profile(struct bx_scn *scn, const char *file, char *ppath, size_t len);
/* Load the algorithm profile NAME (or a path; bx_scn_profile_path): false, the error printed,
 * when it cannot be loaded. */
bool bx_app_load_profile(const char *name, struct bx_profile *p);

/* After a failed write into @p dir: when its file system is (nearly) full, say so on stderr and
 * that the folder keeps its previous outputs (true then). */
bool bx_app_explain_write_failure(const char *cmd, const char *dir);

#endif /* BX_APP_H */
