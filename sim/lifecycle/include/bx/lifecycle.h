/* SPDX-License-Identifier: MIT */
/* lifecycle.h - foreign nationals from entry to exit over months and years: entry processing
 * (capture, 1:1 against the document, 1:N against the watch list and the prior-removal gallery,
 * impostors on another person's document), enrolment in BIMS under its retention rule, exit
 * matched against the gallery TVS would stage from BIMS, biographic departure records, and the
 * overstay report built from what was recorded, set beside the ground truth.
 *
 * Usage:
 *     struct bx_lc_config cfg = ...;            // from a `kind: lifecycle` scenario
 *     struct bx_lc_result res;
 *     bx_lc_run(&cfg, seed, rep, &res, &err);   // one replication of the whole horizon
 *     ... res.counts[...] ...
 *     bx_lc_result_fini(&res);
 *
 * A run is day-stepped: each day's entries (Poisson by class and mode, times the weekly and
 * seasonal profiles and the sample fraction) and exits are processed in a fixed order, with
 * templates from the real generator and scores from the real matcher. Queues are not simulated
 * here (the ports model does that); what a port's operations leave out of the record - travellers
 * not photographed, failures to acquire - enters as the mode's capture settings. With `sample`
 * below 1 a representative fraction of travellers is simulated: record counts scale by 1 / sample,
 * while galleries keep their full size (they are filled with other travellers' photos), so that
 * false matches are those of the real gallery sizes.
 *
 * Thread safety: one bx_lc_run per replication; distinct runs may share a config. Results depend
 * on (config, seed, replication) only, never on config.threads.
 */
#ifndef BX_LIFECYCLE_H
#define BX_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/models.h"
#include "bx/port.h"
#include "bx/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a traveller crosses. Append only. */
enum bx_lc_mode { BX_LC_AIR, BX_LC_SEA, BX_LC_VEHICLE, BX_LC_PEDESTRIAN, BX_LC_N_MODES };
const char *bx_lc_mode_name(enum bx_lc_mode m);
bool bx_lc_mode_parse(const char *name, enum bx_lc_mode *out);

/** A class of admission (visa waiver, B1/B2, border-crossing card, LPR, ...): who enters, how
 *  long they may stay and how they leave. Durations are in days. */
struct bx_lc_class {
    char name[BX_NAME_MAX];
    enum bx_citizenship citizenship;
    double arrivals_per_day[BX_LC_N_MODES]; /**< first entries a day at full scale, by mode */
    bool admitted_until; /**< false: no admit-until date (LPR, U.S. citizens): never overstays */
    struct bx_dist authorised; /**< admission period (days) */
    struct bx_dist trip;       /**< an on-time leaver's stay (days), at most the admission period */
    double overstay_rate;      /**< leaves after the admit-until date (out-of-country overstay) */
    struct bx_dist overstay;   /**< days past the admit-until date such a traveller leaves */
    double never_leave_rate;   /**< never leaves within the horizon */
    /** P(exit mode | entry mode): row = entry mode; a row of an entry mode with no arrivals may
     *  be all zero (then exit by the entry mode). */
    double exit_mode[BX_LC_N_MODES][BX_LC_N_MODES];
    double repeat_rate;        /**< a leaver who enters again (frequent crossers) */
    struct bx_dist repeat_gap; /**< days abroad before that entry */
    double impostor_rate;      /**< entry attempts on another person's document (visa fraud) */
    double watchlist_rate;     /**< entry attempts by watch-listed people */
    double removal_rate;       /**< entry attempts by people with a prior removal order */
    /** Share of this class's departures by each mode with a biographic record, where it differs
     *  from the mode's (NaN: the mode's `biographic`): another country's entry records. */
    double biographic[BX_LC_N_MODES];
};

/** What happens at one mode's entry and exit points. */
struct bx_lc_mode_config {
    enum bx_device entry_device, exit_device;
    double entry_photographed;        /**< share of entrants who face a working camera */
    double exit_photographed;         /**< share of leavers who do (GAO: 80% on air exit, 2019) */
    struct bx_capture_config capture; /**< attempts, failure to acquire, difficulty, exclusions */
    double biographic;     /**< share of departures with a biographic record (manifest) */
    uint32_t gallery_size; /**< photos staged for one exit search (manifest or expected) */
    double staged_rate;    /**< a leaver's own BIMS photo is in that gallery */
    bool stage_document;   /**< the document photo is staged when BIMS has none */
};

/** Retention and the 75-year store. */
struct bx_lc_bims {
    double retention_years;    /**< non-citizens' records (DHS: 75) */
    double bytes_per_record;   /**< storage per enrolled encounter (photo, template, data) */
    uint32_t projection_years; /**< years of growth to project (>= retention to see it level) */
    uint64_t measure_sizes[8]; /**< whole-store FPIR measured by real searches at these sizes */
    size_t n_measure;
    uint32_t measure_probes; /**< non-mated probes per measured size */
};

/** A lifecycle scenario (docs/scenarios.md, `kind: lifecycle`). Owns its classes' data. */
struct bx_lc_config {
    long start_day;                /**< days since 1970-01-01 of the first reported day */
    double horizon_days;           /**< days simulated from start_day */
    double warmup_days;            /**< days simulated before start_day, outside every report */
    double report_from, report_to; /**< days from start_day: admit-until dates in the report */
    double sample;                 /**< (0, 1]: the fraction of travellers simulated */
    double weekly[7];              /**< arrival factors Monday..Sunday (mean 1) */
    double monthly[12];            /**< arrival factors January..December (mean 1) */
    struct bx_lc_class *classes;
    size_t n_classes;
    struct bx_lc_mode_config modes[BX_LC_N_MODES];
    struct bx_pop_config population; /**< sex, age and region mixes by citizenship */
    struct bx_lc_bims bims;
    /* matching */
    struct bx_tplgen_params profile; /**< filled by the caller from profile_name */
    char profile_name[256];
    double verify_fmr;       /**< entry 1:1 threshold */
    double exit_fpir;        /**< exit 1:n threshold: FPIR over the mode's gallery size */
    double watchlist_fpir;   /**< entry 1:N threshold, watch list and prior removals */
    uint32_t watchlist_size; /**< people on the watch list */
    uint32_t removal_size;   /**< the prior-removal gallery's size */
    size_t calibration_subjects;
    bool records;     /**< keep every entry, exit, link and flag of replication 0 (records) */
    unsigned threads; /**< template generation and search within a run (results do not depend) */
    void (*progress)(void *ctx, uint32_t rep, double fraction); /**< NULL: none */
    void *progress_ctx;
};

/** Defaults for everything but classes (documented in docs/lifecycle.md). */
void bx_lc_config_default(struct bx_lc_config *c);
enum bx_status bx_lc_config_check(const struct bx_lc_config *c, struct bx_error *err);
void bx_lc_config_fini(struct bx_lc_config *c);

/* ---------------------------------------------------------------- results */

/** Why a traveller who left has no recorded departure (a false suspected overstay). */
enum bx_lc_cause {
    BX_LC_NOT_PHOTOGRAPHED, /**< no camera met (coverage, equipment, staff exclusion) */
    BX_LC_FTA,              /**< the camera failed to acquire a usable photo */
    BX_LC_NOT_STAGED,       /**< nothing of the traveller's in the staged gallery */
    BX_LC_FALSE_NON_MATCH,  /**< the own photo was staged but did not match */
    BX_LC_WRONG_LINK,       /**< the exit photo matched someone else */
    BX_LC_NO_RECORD,        /**< left by a mode with neither camera nor manifest */
    BX_LC_N_CAUSES
};
const char *bx_lc_cause_name(enum bx_lc_cause c);

/** Overstay report figures (DHS Entry/Exit Overstay Report), per class and mode. */
enum bx_lc_count {
    BX_LC_EXPECTED,         /**< admit-until in the report window */
    BX_LC_ON_TIME,          /**< recorded departure by the admit-until date */
    BX_LC_OUT_OF_COUNTRY,   /**< recorded departure after it */
    BX_LC_IN_COUNTRY,       /**< no recorded departure at the evaluation date (suspected) */
    BX_LC_IN_COUNTRY_TRUE,  /**< ... and truly still in the country */
    BX_LC_IN_COUNTRY_FALSE, /**< ... but truly gone */
    BX_LC_OUT_TRUE,         /**< out-of-country overstays that truly overstayed */
    BX_LC_OUT_FALSE,        /**< recorded late but left on time (a late or wrong link) */
    BX_LC_TRUE_OVERSTAY,    /**< truth: left after the admit-until date or not at all */
    BX_LC_TRUE_IN_COUNTRY,  /**< truth: still in the country at the evaluation date */
    BX_LC_MISSED,           /**< still in the country but recorded as gone (someone's wrong link) */
    BX_LC_RESOLVED,         /**< flagged, later closed by a re-entry before the evaluation date */
    BX_LC_CAUSE0,           /**< false suspected in-country overstays by cause: CAUSE0 + cause */
    BX_LC_N_COUNTS = BX_LC_CAUSE0 + BX_LC_N_CAUSES
};
const char *bx_lc_count_name(enum bx_lc_count c);

/** Entry and exit processing, per mode. */
enum bx_lc_flow {
    BX_LC_ENTRIES,        /**< admitted entries */
    BX_LC_ENTRY_ATTEMPTS, /**< attempts, refused ones included */
    BX_LC_ENTRY_PHOTOGRAPHED,
    BX_LC_ENROLLED,       /**< entry photos enrolled in BIMS */
    BX_LC_VERIFY_REJECTS, /**< genuine 1:1 no-match at entry (to an officer) */
    BX_LC_IMPOSTORS,      /**< attempts on another person's document */
    BX_LC_IMPOSTORS_CAUGHT,
    BX_LC_WATCHLISTED,
    BX_LC_WATCHLIST_CAUGHT,
    BX_LC_REMOVALS, /**< prior removals attempting entry */
    BX_LC_REMOVALS_CAUGHT,
    BX_LC_FALSE_ALERTS, /**< people on neither list who hit one (to secondary) */
    BX_LC_EXITS,        /**< true departures */
    BX_LC_EXIT_PHOTOGRAPHED,
    BX_LC_EXIT_ACQUIRED,
    BX_LC_LINK_RIGHT, /**< exit photo linked to the right person */
    BX_LC_LINK_WRONG, /**< ... to someone else */
    BX_LC_LINK_NONE,  /**< photographed, no link */
    BX_LC_BIOGRAPHIC, /**< departures with a biographic record */
    BX_LC_RECORDED,   /**< departures recorded (biometric or biographic) */
    BX_LC_N_FLOWS
};
const char *bx_lc_flow_name(enum bx_lc_flow f);

/** One record of the run (with config.records), for records.sqlite. */
struct bx_lc_record {
    uint64_t person; /**< simulated traveller */
    uint64_t stay;   /**< this entry's number (entry records), or the stay an exit belongs to */
    uint8_t kind;    /**< 0 entry, 1 exit, 2 overstay flag */
    uint8_t klass, mode;
    uint8_t outcome;    /**< entry: 0 admitted, 1 refused; exit: bx_lc_link; flag: 0 in-country,
                             1 out-of-country */
    uint8_t truth;      /**< flags: 1 true, 0 false; exits: 1 photographed */
    uint8_t cause;      /**< false in-country flags: enum bx_lc_cause; else 255 */
    uint8_t flags;      /**< entry: 1 impostor, 2 watch-listed, 4 prior removal, 8 caught, 16
                             photographed, 32 enrolled */
    double day;         /**< days from start_day (negative in the warm-up) */
    double admit_until; /**< the stay's admit-until day (NaN: none) */
    double score;       /**< the deciding score (NaN: none) */
    uint64_t linked;    /**< exits: the person linked to (UINT64_MAX: none) */
};

/** How an exit was linked. */
enum bx_lc_link { BX_LC_LINKED_RIGHT, BX_LC_LINKED_WRONG, BX_LC_LINKED_NONE, BX_LC_UNPHOTOGRAPHED };

/** BIMS at the end of the run and projected over the years. */
struct bx_lc_store {
    uint64_t enrolled; /**< encounters enrolled during the horizon (sampled) */
    uint64_t live;     /**< of those, the records still held at its end */
    uint64_t expired;  /**< tombstoned by the retention rule */
};

/** One replication's result: counts by class and mode, flows by mode. */
struct bx_lc_result {
    size_t n_classes;
    uint64_t *counts; /**< [class][mode][BX_LC_N_COUNTS], sampled travellers */
    uint64_t flows[BX_LC_N_MODES][BX_LC_N_FLOWS];
    double delay_sum[BX_LC_N_MODES]; /**< out-of-country overstays: days past admit-until */
    double delay_sq[BX_LC_N_MODES];
    double resolve_sum; /**< days from flag to the re-entry that closed it */
    struct bx_lc_store store;
    double enrolled_per_day;             /**< in the reported horizon, at full scale */
    double thresholds[BX_LC_N_MODES][3]; /**< per mode: entry 1:1, exit 1:n, entry watch list */
    struct bx_lc_record *records;
    size_t n_records, cap_records;
    double wall_s;
};

enum bx_status bx_lc_result_init(struct bx_lc_result *r, size_t n_classes, struct bx_error *err);
void bx_lc_result_fini(struct bx_lc_result *r);
/** The count @p c of class @p k, mode @p m. */
uint64_t bx_lc_count(const struct bx_lc_result *r, size_t k, enum bx_lc_mode m, enum bx_lc_count c);
/** The same summed over classes (k = SIZE_MAX) and/or modes (m = BX_LC_N_MODES). */
uint64_t bx_lc_count_sum(const struct bx_lc_result *r, size_t k, int m, enum bx_lc_count c);

/** One replication of the whole horizon. */
enum bx_status bx_lc_run(const struct bx_lc_config *cfg, uint64_t seed, uint32_t rep,
                         struct bx_lc_result *out, struct bx_error *err);

/** Results travel between MPI ranks (bx/par.h) field by field. */
void bx_lc_result_pack(const struct bx_lc_result *r, struct bx_buf *b);
enum bx_status bx_lc_result_unpack(struct bx_reader *rd, struct bx_lc_result *r,
                                   struct bx_error *err);

/* ---------------------------------------------------------------- the whole store */

/** The false-positive identification rate of a 1:N search of the whole store. */
struct bx_lc_fpir_point {
    double size;         /**< templates searched */
    double fpir, lo, hi; /**< model: 1 - (1 + N FMR / k)^-k, with the FMR interval */
    double independent;  /**< 1 - (1 - FMR)^N: every comparison independent */
    double candidates;   /**< expected false candidates per search: N x FMR */
    bool measured;       /**< a real search at this size */
    uint64_t probes, hits;
    double measured_fpir, measured_lo, measured_hi; /**< Clopper-Pearson */
    double wall_s;
};

/** The model's per-comparison FMR at the threshold and its interval. */
struct bx_lc_fmr {
    double threshold;
    double fmr, lo, hi;
    const char *method; /**< "empirical" or "tail model" */
    /** Heterogeneity: the shape k of a gamma distribution of the per-probe FMR (method of
     *  moments on each probe's count of impostor scores at or above the threshold); INF when
     *  the counts show none (as at thresholds too high for the sample to count). A search of N
     *  then misses every impostor with probability E[(1 - p)^N] ~ (1 + N FMR / k)^-k, below
     *  the independent 1 - (1 - FMR)^N when some probes attract false matches more than others. */
    double shape;
    char shape_from[32]; /**< "impostor counts", or "search of N" (bx_lc_store_fpir) */
};

/** FMR at @p threshold for an exit capture against enrolled entry photos, measured on
 *  @p subjects synthetic people (n(n-1) impostor scores), with a generalised Pareto tail beyond
 *  the sample. */
enum bx_status bx_lc_fmr_at(const struct bx_lc_config *cfg, double threshold, size_t subjects,
                            struct bx_lc_fmr *out, struct bx_error *err);

/** How the whole store is searched when it is split over processes (mpirun): this process is
 *  @p rank of @p size and holds rows [N rank / size, N (rank + 1) / size) of a store of N;
 *  @p search (collective, e.g. bx_par_search) returns on rank 0 the hits one process searching
 *  the whole store would return. NULL: one process, bx_match_one_to_n. */
struct bx_store;
struct bx_search_opts;
struct bx_hit;
struct bx_lc_searcher {
    unsigned rank, size;
    enum bx_status (*search)(void *ctx, const struct bx_store *shard, size_t row0,
                             const float *probes, size_t n_q, const struct bx_search_opts *o,
                             struct bx_hit *hits, size_t *n_hits, struct bx_error *err);
    void *ctx;
};

/** Search stores of the configured sizes (bims.measure_sizes) with non-mated probes at
 *  fmr->threshold (split over processes by @p sh, NULL: one), and extend the model to
 *  @p n_sizes sizes in @p sizes; the measured figures are valid on rank 0. Where a store was
 *  searched, the spread k is refitted so that the model passes through the largest measured FPIR
 *  (fmr->shape and fmr->shape_from updated): the model then extrapolates from what was measured. */
enum bx_status bx_lc_store_fpir(const struct bx_lc_config *cfg, struct bx_lc_fmr *fmr,
                                const double *sizes, size_t n_sizes, unsigned threads,
                                const struct bx_lc_searcher *sh, struct bx_lc_fpir_point *out,
                                struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_LIFECYCLE_H */
