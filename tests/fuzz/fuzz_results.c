/* SPDX-License-Identifier: MIT */
/* fuzz_results.c - the results.h5 reader and the audit of a run on arbitrary bytes
 * (mutations of files bxsim wrote): a damaged file is refused, never a crash or a leak. */
#include <stdio.h>
#include <stdlib.h>

#include "bx/audit.h"
#include "bx/report.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = bx_fuzz_file("results.h5", data, size);
    if (path == NULL)
        return 0;
    struct bx_error err = {0};
    struct bx_rpt_results d;
    if (bx_rpt_results_read(path, &d, &err) == BX_OK)
        bx_rpt_results_fini(&d);
    else if (err.msg[0] == '\0')
        abort();
    struct bx_audit_opts o = bx_audit_opts_default();
    o.bootstrap = 0;
    struct bx_audit *a = NULL;
    struct bx_error aerr = {0};
    if (bx_audit_read_run(bx_fuzz_dir(), &o, &a, &aerr) == BX_OK) {
        json_decref(bx_audit_finish(a, &aerr));
        bx_audit_free(a);
    } else if (aerr.msg[0] == '\0') {
        abort();
    }
    return 0;
}
