/* SPDX-License-Identifier: MIT */
/* fuzz_scores.c - the score-file reader of bxsim audit (CSV and bob's formats) on arbitrary
 * bytes: refused with a position or read, then audited, never a crash or a leak. */
#include <stdlib.h>

#include "bx/audit.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = bx_fuzz_file("scores.csv", data, size);
    if (path == NULL)
        return 0;
    struct bx_audit_opts o = bx_audit_opts_default();
    o.bootstrap = 20;
    struct bx_audit *a = NULL;
    struct bx_error err = {0};
    if (bx_audit_read_scores(path, &o, &a, &err) != BX_OK) {
        if (err.msg[0] == '\0' || a != NULL)
            abort();
        return 0;
    }
    json_t *res = bx_audit_finish(a, &err);
    json_decref(res);
    bx_audit_free(a);
    return 0;
}
