/* SPDX-License-Identifier: MIT */
/* app.c - what the bxsim command's files share (app.h): version strings, option parsing,
 * loading a scenario and its profile with the error printed, explaining a failed write. */
#define _POSIX_C_SOURCE 200809L
#include "app.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <cblas.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <yaml.h>

#include "bx/common.h"
#include "bx/scn.h"

#ifndef BX_VERSION
#define BX_VERSION "0.0.0"
#endif
#include "bx_revision.h" /* BX_GIT_REVISION, written at build time (cmake/BxRevision.cmake) */
#ifndef BX_GIT_REVISION  /* (for checkers that read the sources without the build folder) */
#define BX_GIT_REVISION "unknown"
#endif

const char *bx_app_version(void)
{
    return BX_VERSION " (git " BX_GIT_REVISION ")";
}

bool bx_app_explain_write_failure(const char *cmd, const char *dir)
{
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0 || (double)fs.f_bavail * (double)fs.f_frsize >= 4.0 * 1024 * 1024)
        return false;
    fprintf(stderr,
            "bxsim %s: no space left on the device that holds %s (%.0f KB free); nothing was "
            "changed in %s: its previous outputs are intact\n",
            cmd, dir, (double)fs.f_bavail * (double)fs.f_frsize / 1024, dir);
    return true;
}

const char *bx_app_git_revision(void)
{
    return BX_GIT_REVISION;
}

void bx_app_libraries(char *buf, size_t len)
{
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(buf, len, "GSL %s; HDF5 %u.%u.%u; libyaml %s; jansson %s; OpenBLAS %s (core %s)",
             GSL_VERSION, maj, min, rel, yaml_get_version_string(), JANSSON_VERSION,
             openblas_get_config(), bx_app_blas_core());
}

bool bx_app_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
                      uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s && *s && *s != '-' ? strtoull(s, &end, 10) : 0;
    if (s == NULL || *s == '\0' || *s == '-' || *end != '\0' || errno == ERANGE || v < lo ||
        v > hi) {
        fprintf(stderr, "bxsim %s: %s: expected a whole number in [%llu, %llu], got '%s'\n", cmd,
                opt, (unsigned long long)lo, (unsigned long long)hi, s ? s : "");
        return false;
    }
    *out = v;
    return true;
}

char *bx_app_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

int bx_app_load_scenario(const char *file, struct bx_scn *scn)
{
    struct bx_error err = {0};
    if (bx_scn_load_file(file, scn, &err) == BX_OK)
        return BX_EXIT_OK;
    fprintf(stderr, "%s\n", err.msg);
    return err.code == BX_ENOMEM ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
}

bool bx_app_ports_profile(struct bx_scn *scn, const char *file, char *ppath, size_t len)
{
    struct bx_error err = {0};
    if (bx_scn_ports_profile(scn, ppath, len, &err) == BX_OK)
        return true;
    fprintf(stderr, "%s: %s\n", file, err.msg);
    return false;
}

bool bx_app_load_profile(const char *name, struct bx_profile *p)
{
    char path[1024];
    bx_scn_profile_path(name, path, sizeof path);
    struct bx_error err = {0};
    if (bx_scn_load_profile(path, p, &err) == BX_OK)
        return true;
    fprintf(stderr, "%s\n", err.msg);
    return false;
}

/* Colour only on a terminal and only without NO_COLOR (https://no-color.org: any non-empty
 * value) and TERM=dumb. */
static bool use_colour(void)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    return !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
}

void bx_app_bar(double t_start, double work, double total, const char *what, bool last)
{
    double el = bx_wall_s() - t_start;
    double left = work > 0 ? el / work * (total - work) : BX_NAN;
    int width = 30, fill = total > 0 ? (int)((double)width * work / total) : 0;
    fill = fill < 0 ? 0 : fill > width ? width : fill;
    bool c = use_colour();
    char eta[32];
    if (isfinite(left))
        snprintf(eta, sizeof eta, "%.0f s left", left);
    else
        snprintf(eta, sizeof eta, "estimating");
    /* A shorter line than the last one: blank the rest (spaces, so that NO_COLOR and dumb
     * terminals get no escape sequence at all). */
    static int last_len;
    int len = fprintf(stderr, "\r[%s%.*s%s%*s] %s, %3.0f%%, %s ", c ? "\033[32m" : "", fill,
                      "##############################", c ? "\033[0m" : "", width - fill, "", what,
                      total > 0 ? 100 * work / total : 0, eta);
    if (len < last_len)
        fprintf(stderr, "%*s", last_len - len, "");
    last_len = last ? 0 : len;
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
}
