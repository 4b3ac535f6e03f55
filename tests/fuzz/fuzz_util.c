/* SPDX-License-Identifier: MIT */
/* fuzz_util.c - the scratch folder of the fuzz targets. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

#include "fuzz.h"

static char folder[256];

static void remove_folder(void)
{
    if (folder[0])
        bx_rm_tree(folder);
}

const char *bx_fuzz_dir(void)
{
    if (folder[0] == '\0') {
        const char *t = getenv("TMPDIR");
        snprintf(folder, sizeof folder, "%s/bx-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(folder) == NULL)
            folder[0] = '\0';
        else
            atexit(remove_folder);
    }
    return folder[0] ? folder : NULL;
}

const char *bx_fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[512];
    const char *d = bx_fuzz_dir();
    if (d == NULL)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", d, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return NULL;
    bool ok = fwrite(data, 1, size, f) == size;
    ok = fclose(f) == 0 && ok;
    return ok ? path : NULL;
}
