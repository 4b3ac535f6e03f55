/* SPDX-License-Identifier: MIT */
/* report_internal.h - shared by reports/'s files, never installed. */
#ifndef BX_REPORT_INTERNAL_H
#define BX_REPORT_INTERNAL_H

#include <jansson.h>

#include "bx/common.h"
#include "bx/report.h"

/* Serialise @p root (2-space indent, 12 significant digits, final newline) and write it to
 * @p path atomically. Does not take ownership of @p root. */
enum bx_status bx_rpt__write_json(const char *path, const json_t *root, struct bx_error *err);
/* YYYY-MM-DD of @p days since 1970-01-01. */
void bx_rpt__date(long days, char out[16]);

/* summary.json of a ports run as a JSON object (new reference; NULL with @p err set). */
json_t *bx_rpt__ports_summary(const struct bx_rpt_run_info *info, const struct bx_ports_config *cfg,
                              const struct bx_ports_result *reps, size_t n_reps,
                              struct bx_error *err);

/* The resolved configuration of a ports scenario (every field, defaults filled in). */
json_t *bx_rpt__ports_config(const struct bx_ports_config *cfg);

#endif /* BX_REPORT_INTERNAL_H */
