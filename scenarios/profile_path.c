/* SPDX-License-Identifier: MIT */
/* profile_path.c - where algorithm profiles are found: a name resolves to NAME.yaml in the profile
 * folder ($BX_PROFILE_PATH, else the folder built in), a path is taken as given; the folder is
 * listed with readdir (never through a shell: its name comes from the environment); a ports
 * scenario's `profile:` is loaded into its configuration. */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BX_PROFILE_DIR
#define BX_PROFILE_DIR "models/profiles"
#endif

const char *bx_scn_profile_dir(void)
{
    const char *dir = getenv("BX_PROFILE_PATH");
    return dir ? dir : BX_PROFILE_DIR;
}

void bx_scn_profile_path(const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".yaml") == 0)) {
        snprintf(out, len, "%s", name);
        return;
    }
    snprintf(out, len, "%s/%s.yaml", bx_scn_profile_dir(), name);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void bx_scn_profile_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        free(names[i]);
    free(names);
}

enum bx_status bx_scn_profile_names(const char *dir, char ***names, size_t *n, struct bx_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return BX_FAIL(err, BX_EIO, "%s: %s", dir, strerror(errno));
    char **v = NULL;
    size_t cap = 0, count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0 || e->d_name[0] == '.')
            continue;
        if (count == cap) {
            size_t c = cap ? 2 * cap : 16;
            char **w = realloc(v, c * sizeof *w);
            if (w == NULL)
                goto nomem;
            v = w;
            cap = c;
        }
        if ((v[count] = strdup(e->d_name)) == NULL)
            goto nomem;
        ++count;
    }
    closedir(d);
    if (count > 0)
        qsort(v, count, sizeof *v, cmp_names);
    *names = v;
    *n = count;
    return BX_OK;
nomem:
    closedir(d);
    bx_scn_profile_names_free(v, count);
    return BX_FAIL(err, BX_ENOMEM, "%s: out of memory listing profiles", dir);
}

enum bx_status bx_scn_ports_profile(struct bx_scn *scn, char *ppath, size_t len,
                                    struct bx_error *err)
{
    char buf[1024];
    if (ppath == NULL) {
        ppath = buf;
        len = sizeof buf;
    }
    bx_scn_profile_path(scn->profile_name, ppath, len);
    struct bx_profile prof;
    struct bx_error e = {0};
    if (bx_scn_load_profile(ppath, &prof, &e) != BX_OK)
        return BX_FAIL(err, e.code, "profile '%s': %s", scn->profile_name, e.msg);
    if (scn->kind == BX_SCN_LIFECYCLE) {
        scn->lifecycle.profile = prof.params;
        snprintf(scn->lifecycle.profile_name, sizeof scn->lifecycle.profile_name, "%s", prof.name);
    } else {
        scn->ports.profile = prof.params;
        snprintf(scn->ports.profile_name, sizeof scn->ports.profile_name, "%s", prof.name);
    }
    bx_scn_profile_fini(&prof);
    return BX_OK;
}
