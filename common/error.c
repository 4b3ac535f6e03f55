/* SPDX-License-Identifier: MIT */
/* error.c - caller-owned error reports (first failure wins) and the contract-violation abort. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

enum bx_status bx_err_set(struct bx_error *err, enum bx_status code, const char *file, int line,
                          const char *fmt, ...)
{
    if (err == NULL || err->code != BX_OK)
        return code;
    err->code = code;
    err->file = file;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void bx_err_clear(struct bx_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

const char *bx_status_str(enum bx_status code)
{
    switch (code) {
    case BX_OK:
        return "ok";
    case BX_EINVAL:
        return "invalid argument";
    case BX_ENOMEM:
        return "out of memory";
    case BX_EIO:
        return "input/output error";
    case BX_EFORMAT:
        return "malformed file";
    case BX_EPARSE:
        return "syntax error";
    case BX_ESCHEMA:
        return "schema error";
    case BX_EDIM:
        return "dimension mismatch";
    case BX_ESEED:
        return "random stream seed collision";
    case BX_ELIB:
        return "library failure";
    }
    return "unknown status";
}

_Noreturn void bx__require_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "bxsim: internal error: %s:%d: requirement failed: %s\n", file, line, expr);
    abort();
}

enum bx_status bx_err_code(const struct bx_error *err, enum bx_status fallback)
{
    return err && err->code != BX_OK ? err->code : fallback;
}
