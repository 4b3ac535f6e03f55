/* SPDX-License-Identifier: MIT */
/* audit_internal.h - shared by audit/'s files, never installed. */
#ifndef BX_AUDIT_INTERNAL_H
#define BX_AUDIT_INTERNAL_H

#include "bx/audit.h"

/* The group columns (names, count) of @p o, known only once a file's header is read. */
void bx_audit__set_groups(struct bx_audit *a, const struct bx_audit_opts *o);

/* Failure-to-acquire counts known from elsewhere (a run's summary). */
void bx_audit__set_fta(struct bx_audit *a, uint64_t errors, uint64_t trials);

/* One probe's comparisons with gallery rows of subjects refs[n] (template inputs: subject ids
 * are integers; one subject lookup per row in the second pass). */
enum bx_status bx_audit__add_row(struct bx_audit *a, int64_t probe, const int64_t *refs,
                                 const float *scores, size_t n, struct bx_error *err);

/* A further top-level member of audit.json (new reference taken). */
void bx_audit__set_extra(struct bx_audit *a, const char *key, json_t *value);
/* bx_audit_add judged at @p threshold instead of the audit's one (a run whose ports have their
 * own thresholds): the rates are then summed from the per-subject counts and the audit reports
 * no single threshold. */
enum bx_status bx_audit__add_at(struct bx_audit *a, const char *probe_subject,
                                const char *reference_subject, double score,
                                const char *const *groups, double threshold, struct bx_error *err);

/* A rate object like FMR's (value, intervals, errors, trials). */
json_t *bx_audit__rate(const struct bx_audit *a, uint64_t errors, uint64_t trials);

#endif /* BX_AUDIT_INTERNAL_H */
