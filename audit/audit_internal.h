/* SPDX-License-Identifier: MIT */
/* audit_internal.h - shared by audit/'s files, never installed. */
#ifndef BX_AUDIT_INTERNAL_H
#define BX_AUDIT_INTERNAL_H

#include "bx/audit.h"

/* Failure-to-acquire counts known from elsewhere (a run's summary). */
void bx_audit__set_fta(struct bx_audit *a, uint64_t errors, uint64_t trials);

#endif /* BX_AUDIT_INTERNAL_H */
