/* SPDX-License-Identifier: MIT */
/* audit.h - test a claimed error rate with honest statistics (docs/sources.md
 * sections 6 and 8): rates with exact (Clopper-Pearson), Wilson, rule-of-3 and subject-level
 * bootstrap intervals, thresholds, EER, FNMR at fixed FMR, claim verdicts with the trials a
 * claim needs, and breakdowns by group at one global threshold.
 *
 * Usage:
 *     struct bx_audit_opts o = bx_audit_opts_default();
 *     o.at_fmr = 1e-3; o.claim_fmr = 1e-3;
 *     struct bx_audit *a = bx_audit_alloc(&o, &err);
 *     for (int pass = 0; pass < 2; ++pass) {                    // every comparison, twice
 *         bx_audit_add(a, "alice", "alice", 0.71, groups, &err); // genuine (same subject)
 *         bx_audit_add(a, "alice", "bob", 0.02, groups, &err);   // impostor
 *         if (pass == 0) bx_audit_second_pass(a);
 *     }
 *     json_t *result = bx_audit_finish(a, &err);                // audit.json (docs/audit.md)
 *     bx_audit_free(a);
 *
 * A comparison is genuine when its two subjects are equal. A NaN score is a failed comparison:
 * counted as an error of its kind (a genuine comparison that failed is a false non-match, a
 * failed impostor comparison is not a false match), never dropped. Scores are compared as
 * float32. Memory is bounded: score distributions are kept exactly up to BX_AUDIT_EXACT_MAX
 * values per class, then as exact counts over bins of 256 adjacent float32 values with the
 * BX_AUDIT_TAIL most extreme values of each end kept exactly (the tails that FMR 10^-6 and
 * FNMR at high thresholds need). Not thread-safe; one audit per thread. Reading results.h5 or
 * template files switches off HDF5's automatic error printing (process-wide, H5Eset_auto2).
 */
#ifndef BX_AUDIT_H
#define BX_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BX_AUDIT_EXACT_MAX (1u << 22)
#define BX_AUDIT_TAIL (1u << 16)
#define BX_AUDIT_MAX_GROUPS 8

/* ---------------------------------------------------------------- score distributions */

struct bx_audit_scores;
struct bx_audit_scores *bx_audit_scores_alloc(struct bx_error *err);
void bx_audit_scores_free(struct bx_audit_scores *s);
enum bx_status bx_audit_scores_add(struct bx_audit_scores *s, double x, struct bx_error *err);
uint64_t bx_audit_scores_n(const struct bx_audit_scores *s);
/** Values >= t (exact while every value is kept or t lies in a kept tail; otherwise within one
 *  bin of 256 float32 values, interpolated). */
uint64_t bx_audit_scores_ge(struct bx_audit_scores *s, double t);
/** Whether every value is kept (all queries exact). */
bool bx_audit_scores_exact(const struct bx_audit_scores *s);
/** The k-th highest value (k >= 1). */
double bx_audit_scores_kth_highest(struct bx_audit_scores *s, uint64_t k);
/** The smallest value > x, or +inf if none. */
double bx_audit_scores_above(struct bx_audit_scores *s, double x);
/** Distinct values in decreasing order (histogram mode: bin edges), for sweeps: calls fn for
 *  each until it returns false. */
void bx_audit_scores_sweep(struct bx_audit_scores *s, bool (*fn)(void *ctx, double t), void *ctx);

/* ---------------------------------------------------------------- rates and claims */

/** Two-sided exact (Clopper-Pearson) interval of x errors in n trials at @p confidence. */
void bx_audit_cp(uint64_t x, uint64_t n, double confidence, double *lo, double *hi);
/** Two-sided Wilson score interval. */
void bx_audit_wilson(uint64_t x, uint64_t n, double confidence, double *lo, double *hi);
/** One-sided exact upper bound: P(X <= x; n, p) = 1 - confidence (x = 0: 1 - (1 - c)^(1/n),
 *  about 3/n at 95%: the rule of 3). */
double bx_audit_cp_upper(uint64_t x, uint64_t n, double confidence);
/** One-sided exact lower bound: P(X >= x; n, p) = 1 - confidence (0 when x = 0). */
double bx_audit_cp_lower(uint64_t x, uint64_t n, double confidence);
/** The smallest number of independent trials with which @p x errors would support "rate <
 *  claim" at @p confidence (one-sided exact upper bound below the claim); sources.md 6.4:
 *  0 errors -> 2,995 for 0.1% at 95%. */
uint64_t bx_audit_trials_needed(uint64_t x, double claim, double confidence);
/** The trials n at which ceil(rate n) errors would give an upper bound below @p claim (the
 *  observed rate kept): UINT64_MAX when @p rate is not below the claim (more data would not
 *  support it) or beyond 2^53. */
uint64_t bx_audit_trials_needed_at_rate(double rate, double claim, double confidence);

enum bx_audit_verdict { BX_AUDIT_SUPPORTED, BX_AUDIT_REFUTED, BX_AUDIT_NOT_ENOUGH_DATA };
const char *bx_audit_verdict_name(enum bx_audit_verdict v);
/** Supported: the one-sided upper bound is below the claim; refuted: the one-sided lower bound
 *  is above it; otherwise not enough data. */
enum bx_audit_verdict bx_audit_claim(uint64_t x, uint64_t n, double claim, double confidence);

/* ---------------------------------------------------------------- the audit */

struct bx_audit_opts {
    double threshold;       /**< decision threshold (score >= t accepts); NaN: use at_fmr */
    double at_fmr;          /**< threshold = the smallest score with empirical FMR <= at_fmr */
    double claim_fmr;       /**< NaN: no FMR claim */
    double claim_fnmr;      /**< NaN: no FNMR claim */
    double confidence;      /**< 0.95 */
    unsigned bootstrap;     /**< subject-level bootstrap resamples (0: none) */
    uint64_t seed;          /**< bootstrap seed */
    double volume_per_year; /**< expected false matches per year for this many searches */
    double gallery_size;    /**< ... against galleries of this size (FPIR ~ 1 - (1 - FMR)^N) */
    size_t n_groups;        /**< group columns */
    char group_names[BX_AUDIT_MAX_GROUPS][64];
    /** A subject-disjoint split (0: none): this fraction of subjects, drawn by a seeded hash of
     *  their names, chooses the threshold at `at_fmr`; the others are counted at it (rates,
     *  claims, groups). Comparisons across the two parts are left out. */
    double holdout;
    /** Reading a run (bx_audit_read_run): use the run's own 1:1 operating threshold when no
     *  threshold is given (default true; false: the threshold at `at_fmr`). */
    bool run_threshold;
    /** Set by a reader that supplies `threshold` (e.g. "the run's 1:1 operating threshold"):
     *  reported as the rule, and the threshold is compared as it is, not rounded to float32. */
    char threshold_source[96];
};
struct bx_audit_opts bx_audit_opts_default(void);

struct bx_audit;
struct bx_audit *bx_audit_alloc(const struct bx_audit_opts *o, struct bx_error *err);
void bx_audit_free(struct bx_audit *a);
/** One comparison; @p groups holds o->n_groups values (of the probe) or is NULL. */
enum bx_status bx_audit_add(struct bx_audit *a, const char *probe_subject,
                            const char *reference_subject, double score, const char *const *groups,
                            struct bx_error *err);
/** Comparisons so far (genuine, impostor). */
void bx_audit_counts(const struct bx_audit *a, uint64_t *genuine, uint64_t *impostor);

/** End the first pass: the threshold is fixed from the distributions; feed every comparison
 *  again (same order not needed) for the counts at it per subject (bootstrap) and per group.
 *  The readers below do both passes. */
void bx_audit_second_pass(struct bx_audit *a);

/** The threshold the audit uses: the given one, or the one at the target FMR. */
double bx_audit_threshold(struct bx_audit *a);

/** Everything computed, as audit.json's object (docs/audit.md); NULL with @p err on failure. */
json_t *bx_audit_finish(struct bx_audit *a, struct bx_error *err);

/* ---------------------------------------------------------------- inputs */

/** Feed every comparison of a score file: CSV with a header naming at least probe_subject,
 *  reference_subject and score (other columns are groups), or bob's 4-column ("claimed real
 *  label score") or 5-column ("claimed model real label score") whitespace format. Errors as
 *  FILE:LINE:COL with BX_EPARSE. @p o receives the group names (CSV). */
enum bx_status bx_audit_read_scores(const char *path, struct bx_audit_opts *o,
                                    struct bx_audit **out, struct bx_error *err);

/** The matching samples of a `bxsim run` (DIR/results.h5, docs/results.md): genuine = the
 *  live capture against the traveller's own document, impostor = the zero-effort comparison;
 *  groups port_type, sex, age_band, region. */
enum bx_status bx_audit_read_run(const char *dir, struct bx_audit_opts *o, struct bx_audit **out,
                                 struct bx_error *err);

/** Template files (docs/templates.md): every probe scored against every gallery row by the
 *  matcher (1:1 rates, genuine when subject ids are equal), and 1:N identification with ground
 *  truth (one_to_n: FPIR, FNIR at the threshold, rank-1 and rank-@p rank miss rates). */
enum bx_status bx_audit_read_templates(const char *gallery, const char *probes,
                                       struct bx_audit_opts *o, unsigned rank,
                                       struct bx_audit **out, struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_AUDIT_H */
