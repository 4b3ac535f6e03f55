/* SPDX-License-Identifier: MIT */
/* report_internal.h - shared by reports/'s files, never installed. */
#ifndef BX_REPORT_INTERNAL_H
#define BX_REPORT_INTERNAL_H

#include <jansson.h>

#include "bx/common.h"

/* Serialise @p root (2-space indent, 12 significant digits, final newline) and write it to
 * @p path atomically. Does not take ownership of @p root. */
enum bx_status bx_rpt__write_json(const char *path, const json_t *root, struct bx_error *err);

#endif /* BX_REPORT_INTERNAL_H */
