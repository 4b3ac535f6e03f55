/* SPDX-License-Identifier: MIT */
/* lc_internal.h - what the lifecycle module's files share. */
#ifndef BX_LC_INTERNAL_H
#define BX_LC_INTERNAL_H

#include "bx/lifecycle.h"
#include "bx/matcher.h"

#define BX_LC_MAX_CLASSES 32

/* Index of count @p c of class @p k, mode @p m in bx_lc_result.counts. */
static inline size_t bx_lc__at(size_t k, int m, enum bx_lc_count c)
{
    return (k * BX_LC_N_MODES + (size_t)m) * BX_LC_N_COUNTS + (size_t)c;
}
#define BX_LC_GALLERY_MAX 200000

/* Identity key ranges of the template generator (disjoint, so no two roles share a face). */
#define LC_ID_PERSON 1LL            /* person i's own face and document: 1 + i */
#define LC_ID_IMPOSTOR 2000000000LL /* the face behind a stolen document */
#define LC_ID_WATCH 3000000000LL    /* watch-list entries */
#define LC_ID_REMOVAL 4000000000LL  /* prior-removal gallery */
#define LC_ID_FILLER 5000000000LL   /* other travellers in a staged gallery */
#define LC_ID_STORE 6000000000LL    /* whole-store FPIR searches */

#endif
