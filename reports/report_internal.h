/* SPDX-License-Identifier: MIT */
/* report_internal.h - shared by reports/'s files, never installed. */
#ifndef BX_REPORT_INTERNAL_H
#define BX_REPORT_INTERNAL_H

#include <jansson.h>

#include "bx/common.h"
#include "bx/report.h"

/* summary.json of a ports run as a JSON object (new reference; NULL with @p err set). */
json_t *bx_rpt__ports_summary(const struct bx_rpt_run_info *info, const struct bx_ports_config *cfg,
                              const struct bx_ports_result *reps, size_t n_reps,
                              struct bx_error *err);

/* The resolved configuration of a ports scenario (every field, defaults filled in). */
json_t *bx_rpt__ports_config(const struct bx_ports_config *cfg);

#endif /* BX_REPORT_INTERNAL_H */
