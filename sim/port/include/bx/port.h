/* SPDX-License-Identifier: MIT */
/* port.h - port process models: travellers leave through ports, are captured, matched by the real
 * matcher against the galleries TVS would build, and inspected by officers when matching fails.
 *
 * Usage:
 *     struct bx_ports_config cfg = ...;          // from a `kind: ports` scenario
 *     struct bx_ports_result res;
 *     bx_ports_result_init(&res, cfg.n_ports);
 *     bx_ports_run(&cfg, seed, rep, &res, &err); // one replication
 *     bx_ports_result_fini(&res);
 *
 * Land ports (BX_PORT_LAND): vehicles (several occupants, each captured through the windshield
 * while the vehicle holds its lane) or pedestrians (mobile camera units) arrive as a
 * non-homogeneous Poisson process by hour of day and are searched 1:n against an "expected
 * traveller" gallery of recent entrants; lanes and units follow a rollout schedule.
 *
 * Manifest ports: air departures (boarding window, gate cameras or
 * e-gates, the flight's manifest gallery), sea sailings (terminal waves against the sailing's
 * manifest) and private aircraft (eAPIS manifest of a few travellers, an officer with a handheld
 * unit). The flow of every traveller (the world model, docs/architecture.md): capture with time,
 * failure to acquire and retries (U.S. citizens may opt out) -> 1:n search of the departure's
 * manifest gallery -> on no match 1:1 against the document photo -> manual inspection by an
 * officer; a watch-list 1:N search -> secondary inspection; the departure is recorded against the
 * identity that was confirmed, so overstays are detected or missed and impostors on another
 * person's document are caught or missed. U.S. citizens' photos are purged 12 simulated hours after
 * capture (or as the scenario's purge schedule says; photos held past 12 h are counted);
 * non-citizens' records are kept. Every port has its own operating thresholds, set on its own
 * device's impostor scores (struct bx_port_threshold).
 *
 * Thread safety: one bx_ports_run per replication; distinct runs may share a config.
 * Process-wide effects: operating thresholds are remembered for the life of the process (a small
 * table behind a mutex, keyed by profile, device, sample and target), so that replications and
 * sizing levels compute them once.
 */
#ifndef BX_PORT_H
#define BX_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/models.h"
#include "bx/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One template to generate (bx_port_generate). */
struct bx_tpl_job {
    const struct bx_tplgen *gen;
    struct bx_subject s;
    struct bx_capture c;
    uint64_t sample;
    float *out;
};
/** Generate @p n templates on up to @p threads threads (each a pure function of its job, so
 *  the split changes nothing). */
void bx_port_generate(const struct bx_tpl_job *jobs, size_t n, unsigned threads);

enum bx_port_type { BX_PORT_AIR, BX_PORT_SEA, BX_PORT_PRIVATE, BX_PORT_LAND, BX_N_PORT_TYPES };
const char *bx_port_type_name(enum bx_port_type t);

/** Land lanes: what passes through them (the world model, docs/architecture.md). */
enum bx_lane_kind { BX_LANE_VEHICLE, BX_LANE_PEDESTRIAN };

/** The land part of a port (type BX_PORT_LAND); manifest fields are then unused. */
struct bx_land_config {
    enum bx_lane_kind lane_kind;
    struct bx_arrival_profile arrivals; /**< vehicles or pedestrians per hour, by hour of day */
    unsigned lanes;                    /**< lanes (vehicle) or mobile units (pedestrian) at t = 0 */
    struct bx_capacity_step *schedule; /**< rollout: lanes/units from a date on (owned) */
    size_t n_schedule;
    size_t expected_gallery; /**< enrolled "expected travellers" (recent entrants) */
    double expected_share;   /**< share of crossers who are in that gallery */
};

/** One port. Manifest fields (departures to gates) serve air, sea and private aircraft; `land`
 *  serves land ports. Times in seconds from scenario start. */
struct bx_port_config {
    char name[BX_NAME_MAX];
    enum bx_port_type type;
    /* departures: `per_day` spread evenly over [first_s, last_s) of each day */
    double departures_per_day, first_s, last_s;
    double passengers_mean;                   /**< per departure (Poisson), at least 1 */
    double open_s, peak_s, close_s;           /**< boarding window: seconds before departure */
    unsigned gates;                           /**< departures use gates round robin */
    unsigned cameras_per_gate;                /**< capture servers per gate (from t = 0) */
    struct bx_capacity_step *camera_schedule; /**< rollout: cameras per gate from a date on,
                                                   the first step at t = 0 (owned; may be NULL) */
    size_t n_camera_schedule;
    enum bx_device device;
    double match_time_s; /**< TVS response added to the camera's time per traveller */
    /** Travellers left without a usable photo: false: to an officer (manual inspection);
     *  true: they leave unphotographed (air: board on the manifest's biographic record, as
     *  GAO found; land: pass without an exit record). Staff exclusions always leave. */
    bool unphotographed_board;
    unsigned officers;                       /**< manual inspection (when no shifts are given) */
    struct bx_capacity_step *officer_shifts; /**< daily roster: officers on duty from an hour
                                                  of the day on (owned; may be NULL) */
    size_t n_officer_shifts;
    struct bx_dist manual_service;
    unsigned secondary_booths;                 /**< when no shifts are given */
    struct bx_capacity_step *secondary_shifts; /**< daily roster of open booths (owned; may be
                                                    NULL) */
    size_t n_secondary_shifts;
    struct bx_dist secondary_service;
    double officer_catch;       /**< P(an officer spots an impostor at manual inspection) */
    double impostor_similarity; /**< cosine between an impostor's face and the document
                                     holder's (identity centres): how alike a borrowed
                                     document is; an assumption, 0.3 by default */
    struct bx_pop_config pop;
    struct bx_capture_config capture;
    struct bx_land_config land; /**< type BX_PORT_LAND only */
};

/** A port of @p type with every default of docs/scenarios.md (the one source of them: the
 *  scenario loader starts from it, and so do the tests): boarding windows, gates and devices by
 *  type; 2 officers, 1 secondary booth, lognormal manual inspection (mean 60 s, sd 30 s),
 *  exponential secondary (mean 600 s), the default population and capture. The name is empty;
 *  its distributions are released by bx_ports_config_fini with the rest of the scenario. */
struct bx_port_config bx_port_config_default(enum bx_port_type type);

struct bx_ports_config {
    struct bx_port_config *ports; /**< owned */
    size_t n_ports;
    struct bx_tplgen_params profile; /**< the algorithm profile's generator */
    char profile_name[BX_NAME_MAX];
    double horizon_s;
    bool dated;            /**< the scenario gives a `start_date` */
    long start_day;        /**< days since 1970-01-01 of t = 0 (`start_date`), when dated */
    double one_to_n_fpir;  /**< 1:n threshold set for this FPIR on a manifest of ~mean size */
    double verify_fmr;     /**< 1:1 threshold */
    double watchlist_fpir; /**< watch-list 1:N threshold */
    size_t watchlist_size;
    size_t calibration_subjects; /**< impostor sample for thresholds (n^2 comparisons) */
    /** U.S. citizens' photos: deleted purge_after_s after capture (0 in a zeroed config: 12 h),
     *  each at its own time (purge_every_s 0) or by a job running every purge_every_s seconds
     *  from t = 0 that deletes the photos then due. */
    double purge_after_s, purge_every_s;
    /** Threads for one search of a large gallery (land expected travellers, the watch list;
     *  0 or 1 = the calling thread only). Not part of the scenario: `bxsim run` sets it from
     *  --threads when there are fewer replications than threads. Results do not depend on it. */
    unsigned search_threads;
    /** Progress within a replication (may be NULL): called from the replication's thread at
     *  every simulated hour with the share of the horizon done (0..1). Not part of the scenario;
     *  changes no number. */
    void (*progress)(void *ctx, uint32_t rep, double fraction);
    void *progress_ctx;
    /** The period whose queue waits bx_port_result's lane_wait_q and officer_wait_q hold
     *  (travellers arriving in [window_from_s, window_to_s)); both 0: the whole run. Sizing
     *  sets it to the busiest hours (and the horizon to its end). Utilisations and
     *  camera_queue_mean are then time averages from window_from_s to the horizon. */
    double window_from_s, window_to_s;
    /** Equipment that fails, by device type (the scenario's `equipment`): every camera server
     *  at a gate, e-gate, vehicle lane or mobile unit of a port with that device runs until it
     *  fails (exponential, mean mtbf_s) and is repaired (`repair`), independently of the
     *  others. Off (on = false) for a device the scenario does not list. */
    struct bx_failure_config {
        bool on;
        double mtbf_s;         /**< mean time between failures (exponential unless `up`) */
        struct bx_dist up;     /**< time to failure (owned); with a mean of 0 (zeroed), an
                                    exponential with mean mtbf_s */
        struct bx_dist repair; /**< time to repair (owned) */
    } failures[BX_N_DEVICES];
    /** The shared matching service (the scenario's `tvs`; off: each port answers after its own
     *  match_time_s, as before). Every 1:n/1:1/watch-list request of every port travels to it
     *  (half the port type's round trip), queues for one of `workers`, is served, and travels
     *  back; the traveller holds the camera or lane until the answer. During an outage (fixed
     *  windows, or random with mean times between and to the end of outages) the service
     *  answers nothing: a request then goes to the port's officers at once (fallback manual) or
     *  waits up to hold_timeout_s for the service to return (fallback hold), then goes to them. */
    struct bx_tvs_config {
        bool on;
        unsigned workers;
        struct bx_dist service;                  /**< time per request (owned) */
        struct bx_dist latency[BX_N_PORT_TYPES]; /**< network round trip by port type (owned) */
        struct bx_tvs_window {
            double from_s, to_s;
        } * outages; /**< fixed outage windows, sorted, disjoint (owned) */
        size_t n_outages;
        double outage_mtbf_s, outage_mttr_s; /**< random outages (0: none) */
        bool fallback_hold;                  /**< false: manual at once; true: wait, then manual */
        double hold_timeout_s;
    } tvs;
};
/** Documented assumptions (docs/scenarios.md): mean hours between failures and to repair, by
 *  device, for a device the scenario lists without its own figures. */
void bx_failure_defaults(enum bx_device device, double *mtbf_h, double *mttr_h);
void bx_ports_config_fini(struct bx_ports_config *cfg);

/** A rate with its raw counts (intervals are computed when results are summarised). */
struct bx_count {
    uint64_t errors, trials;
};

/** Hourly series of a port (hour h covers [h, h + 1) hours from the start). */
struct bx_port_hourly {
    double arrivals;   /**< travellers who arrived in the hour */
    double wait_sum_s; /**< sum of their waits (mean = wait_sum_s / arrivals) */
    double queue;      /**< travellers waiting for a camera or lane at the hour's start */
    double busy;       /**< cameras or lanes busy at the hour's start */
    double capacity;   /**< cameras or lanes open at the hour's start */
};

/** How an operating threshold was obtained. */
enum bx_thr_method {
    BX_THR_EMPIRICAL, /**< the smallest sample score with at most target_fmr of them at or above */
    BX_THR_TAIL_MODEL /**< a generalised Pareto model of the upper tail (bx_threshold_tail) */
};

/** An operating threshold and how it was obtained: from the impostor scores of the port's own
 *  device against document photos (n subjects: n(n-1) scores), at the per-comparison FMR its
 *  target asks (1:n: FPIR / gallery size; 1:1: verify_fmr; watch list: FPIR / watch-list
 *  size). A target is resolved when at least 30 impostor scores of the sample are expected
 *  above it; when the configured sample cannot resolve it, the sample is grown (up to
 *  BX_PORT_CAL_MAX subjects); beyond that the threshold comes from a generalised Pareto model of
 *  the largest sample's BX_PORT_TAIL_K highest scores, with a bootstrap interval, and is marked
 *  unresolved: never silently the highest score. */
struct bx_port_threshold {
    double value;          /**< a score >= value accepts */
    double target_fmr;     /**< the per-comparison FMR it is set for */
    double expected_above; /**< target_fmr x impostor scores of the sample */
    uint64_t subjects;     /**< calibration subjects used */
    bool resolved;         /**< expected_above >= 30 */
    enum bx_thr_method method;
    double lo, hi; /**< 95% interval: order statistics (empirical) or bootstrap (tail) */
    double tail_xi, tail_sigma; /**< the tail model's shape and scale (NaN for empirical) */
};

/** The operating threshold at per-comparison FMR @p fmr for captures by @p dev against document
 *  photos under @p params, set as every port's are (a sample of @p subjects, 0: 1500, grown or
 *  extended by the tail model as needed); remembered like theirs. The sample is computed on
 *  @p threads threads (0 or 1: the calling one); the threshold does not depend on it. */
enum bx_status bx_port_threshold_for(const struct bx_tplgen_params *params, enum bx_device dev,
                                     size_t subjects, double fmr, unsigned threads,
                                     struct bx_port_threshold *out, struct bx_error *err);
enum { BX_THR_ONE_TO_N, BX_THR_VERIFY, BX_THR_WATCHLIST };
#define BX_PORT_CAL_MAX 8000
/** Highest scores of the largest sample that the tail model is fitted to. */
#define BX_PORT_TAIL_K 1000

/** The operational counts CBP and GAO report, over in-scope travellers (every non-U.S.
 *  traveller who reached the camera or lane): docs/summary.md `operations`. */
struct bx_port_ops {
    uint64_t in_scope;
    uint64_t photographed;    /**< in scope, with a usable photo */
    uint64_t excluded;        /**< in scope, waved past the camera by staff */
    uint64_t not_acquired;    /**< in scope, no usable photo after every attempt */
    uint64_t no_answer;       /**< photographed, but the matching service gave no answer (an outage:
                                   the traveller went to the fallback) */
    uint64_t answered;        /**< photographed, with an answer from the matcher (all photographed
                                   travellers without a shared service) */
    uint64_t matched;         /**< photographed and confirmed biometrically (1:n or 1:1) */
    uint64_t with_record;     /**< photographed, with a record in the gallery searched (the
                                   manifest; land: the expected-traveller gallery) */
    uint64_t matched_gallery; /**< with_record and found by the 1:n search */
    uint64_t outage;          /**< in scope, no camera working (all of the gate's or port's
                                   units down, or still waiting at departure) */
    uint64_t left_unphotographed; /**< every traveller who left without a photo and without an
                                       officer (excluded, exempt, an outage at a manifest port,
                                       or `unphotographed: board`) */
    uint64_t exempt;              /**< not in scope: exempt under capture.exempt (the exemptions
                                       before the 2025 rule), walked past the camera */
    struct bx_tally answer_s;     /**< camera to answer (s) of photographed in-scope travellers */
};

/** A port's failing equipment over the horizon (all zero when its device does not fail). */
struct bx_port_equipment {
    uint64_t units;             /**< camera servers, e-gates, lanes or mobile units that can fail */
    uint64_t failures;          /**< failures that began within the horizon */
    double up_unit_s;           /**< integral over the horizon of units in service and working */
    double service_unit_s;      /**< integral over the horizon of units in service (availability =
                                     up_unit_s / service_unit_s) */
    double outage_s;            /**< time within the horizon with units in service but none working
                                     (summed over gates) */
    uint64_t outage_travellers; /**< travellers (all) who met no working unit */
};

struct bx_port_result {
    struct bx_port_threshold thr[3]; /**< this port's 1:n, 1:1 and watch-list thresholds */
    struct bx_port_ops ops;
    struct bx_port_equipment equipment;
    uint64_t travellers, departures;
    struct bx_tally wait; /**< arrival at the camera queue to leaving processing (s) */
    struct bx_quantiles *wait_q;
    double camera_utilization, officer_utilization;
    double camera_queue_mean; /**< time-average travellers (land: vehicles) waiting for a camera
                                   or lane, over the whole run */
    uint64_t manual, secondary, opt_outs;
    /** Queue waits of travellers arriving in the config's window: for a camera or lane (per
     *  vehicle at vehicle lanes) and, for those sent to manual inspection, for an officer. */
    struct bx_quantiles *lane_wait_q, *officer_wait_q;
    struct bx_port_hourly *hourly; /**< n_hours entries */
    size_t n_hours;
};

/** One captured traveller's matching, for audits (results.h5 /matching). */
struct bx_match_sample {
    float verify_score;   /**< live capture vs the document photo (1:1) */
    float top_score;      /**< best 1:n candidate's score, or NaN when none passed the threshold */
    float impostor_score; /**< a zero-effort impostor comparison of the same live capture: against
                               one watch-list photo of someone else (NaN if there is none); the
                               non-mated scores of DET curves and audits */
    int64_t subject;      /**< the traveller's true identity */
    int64_t impostor_subject; /**< whose watch-list photo impostor_score compares with (-1) */
    uint16_t port;
    uint8_t mated;    /**< 1: the document is the traveller's own; 0: an impostor */
    uint8_t accepted; /**< the biometric pipeline accepted the traveller */
    uint8_t watchlisted, watchlist_hit;
    uint8_t citizenship, sex, region, age_band, device;
};

/** The shared matching service over one replication (all zero without `tvs`). */
struct bx_tvs_result {
    uint64_t requests;         /**< requests that reached the service */
    uint64_t fallback_manual;  /**< requests met by an outage (fallback manual, at once) */
    uint64_t fallback_timeout; /**< requests that waited hold_timeout_s in vain (fallback hold) */
    double utilization;        /**< busy workers over workers, time-averaged over the horizon */
    double outage_s;           /**< time within the horizon with the service down */
    double peak_per_s;         /**< requests per second in the busiest hour */
    struct bx_quantiles *response_q; /**< camera to answer (s): latency, queue and service */
    struct bx_tally response;
    uint64_t *hourly; /**< requests reaching the service, by hour of the horizon (n_hours) */
    size_t n_hours;
};

struct bx_ports_result {
    struct bx_port_result *ports; /**< n_ports */
    struct bx_tvs_result tvs;
    size_t n_ports;
    struct bx_count fnmr, fmr, fpir, fnir, fta;
    uint64_t overstays, overstays_detected, impostors, impostors_caught;
    uint64_t wl_true, wl_false, wl_missed;
    uint64_t manual, opt_outs;
    double citizen_max_retained_h;  /**< the longest any U.S. citizen photo was held */
    uint64_t citizen_held_over_12h; /**< photos deleted more than 12 h after capture (the rule) */
    uint64_t citizen_photos, citizen_purged, noncitizen_records, noncitizen_bytes;
    double thresholds[3]; /**< 1:n, 1:1, watch-list */
    uint64_t events;
    double match_wall_s; /**< wall-clock seconds spent generating probes and matching (timing
                              only; never written to summary.json) */
    struct bx_match_sample *samples; /**< one per captured traveller, in capture order */
    size_t n_samples, cap_samples;
    uint64_t conservation_violations; /**< travellers without exactly one final outcome */
    bool overloaded; /**< the run failed because queues did not clear within 30 days */
    /** The stream map of the replication: every random stream's name and seed (results.h5);
     *  "ports/templates" keys the template generator. */
    char **stream_names;
    uint64_t *stream_seeds;
    size_t n_streams;
};
enum bx_status bx_ports_result_init(struct bx_ports_result *r, size_t n_ports,
                                    struct bx_error *err);
/** Hours of series a run of @p cfg records: one per simulated hour (every traveller arrives
 *  within the horizon). */
size_t bx_ports_hours(const struct bx_ports_config *cfg);
void bx_ports_result_fini(struct bx_ports_result *r);

/**
 * Matching decisions of one replication, kept for later runs of the same replication: runs
 * that differ only in capacities (lanes, units, cameras, officers, booths, their rollouts and
 * rosters) draw the same travellers with the same captures (common random numbers), so their
 * 1:n, 1:1 and watch-list outcomes are the same and need not be searched again. An entry is
 * used only for the same traveller (identity, document, port, photo age) and the same seed,
 * replication and thresholds; anything else is matched afresh, so results are identical with
 * or without a cache. One cache per replication (not shared between threads).
 */
struct bx_ports_cache;
struct bx_ports_cache *bx_ports_cache_alloc(void); /* NULL when out of memory */
void bx_ports_cache_free(struct bx_ports_cache *c);
/** Travellers taken from the cache, and matched and stored, over the cache's life. */
void bx_ports_cache_stats(const struct bx_ports_cache *c, uint64_t *hits, uint64_t *misses);

/** bx_ports_run reusing and extending @p cache (may be NULL: bx_ports_run). */
enum bx_status bx_ports_run_cached(const struct bx_ports_config *cfg, uint64_t seed, uint32_t rep,
                                   struct bx_ports_cache *cache, struct bx_ports_result *out,
                                   struct bx_error *err);

/** Append everything of @p r (ports, sketches, hourly series, samples, stream map) to @p b, for
 *  another process (bx/par.h). */
void bx_ports_result_pack(const struct bx_ports_result *r, struct bx_buf *b);
/** Read a packed result into @p out (an initialised result, whose contents are replaced): equal
 *  to the packed one in every field. BX_EFORMAT when @p rd is short or malformed. */
enum bx_status bx_ports_result_unpack(struct bx_reader *rd, struct bx_ports_result *out,
                                      struct bx_error *err);

/** Check a configuration (ranges, devices, windows); BX_EINVAL with the port named. */
enum bx_status bx_ports_config_check(const struct bx_ports_config *cfg, struct bx_error *err);

/** Run replication @p rep. Streams: "ports/<port>/..." from (seed, rep). */
enum bx_status bx_ports_run(const struct bx_ports_config *cfg, uint64_t seed, uint32_t rep,
                            struct bx_ports_result *out, struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_PORT_H */
