/* SPDX-License-Identifier: MIT */
/* fuzz_results.c - the results.h5 readers (the report's and the audit's) on arbitrary bytes
 * (mutations of files bxsim wrote): a damaged file is refused, never a crash or a leak. */
#include <stdio.h>
#include <stdlib.h>

#include "bx/audit.h"

#include "fuzz.h"
#include "report_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = bx_fuzz_file("results.h5", data, size);
    if (path == NULL)
        return 0;
    struct bx_error err = {0};
    struct rpt_data d;
    if (bx_rpt__read_results(path, &d, &err) == BX_OK)
        bx_rpt__data_free(&d);
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
