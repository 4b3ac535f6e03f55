/* SPDX-License-Identifier: MIT */
/* sim.h - the discrete-event kernel: calendar, distributions, resources, statistics, replications,
 * and the generic station-network model built from them.
 *
 * Usage (an M/M/1 queue in a few lines; see sim/network.c for a complete model):
 *     struct bx_sim *sim = bx_sim_alloc(0, &err);
 *     bx_sim_schedule(sim, 0.0, 0, on_arrival, model, 0);   // callbacks, not coroutines
 *     bx_sim_run(sim, 3600.0, &err);                        // until t = 1 h or no events
 *     bx_sim_free(sim);
 *
 * Time is double seconds from scenario start. Events at equal times run in order of higher
 * priority first, then insertion order, so a run is deterministic. Event records come from a
 * pool owned by the bx_sim: in steady state scheduling allocates nothing.
 *
 * Ownership: `_alloc` objects are freed with the matching `_free` (NULL is a no-op); `_init`
 * objects live in caller storage and are released with `_fini`. Thread safety: none inside one
 * object; independent objects (one bx_sim per replication) may run in parallel threads.
 */
#ifndef BX_SIM_H
#define BX_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "bx/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ event calendar */

struct bx_sim;

/** An event callback. @p obj and @p arg are what was passed to bx_sim_schedule(). */
typedef void bx_event_fn(struct bx_sim *sim, void *obj, int64_t arg);

/** Priorities must lie in [BX_PRIO_MIN, BX_PRIO_MAX]; higher runs first at equal times. */
#define BX_PRIO_MIN (-32767)
#define BX_PRIO_MAX 32767

/** Handle of a scheduled event; 0 is never a valid handle. Stale handles are detected. */
typedef uint64_t bx_event_id;

/** @param capacity_hint expected number of pending events (0: a small default). */
struct bx_sim *bx_sim_alloc(size_t capacity_hint, struct bx_error *err);
void bx_sim_free(struct bx_sim *sim);

/** The current simulated time (s). */
double bx_sim_now(const struct bx_sim *sim);

/**
 * Schedule @p fn at absolute time @p t_s (>= now; NaN is a contract violation).
 * @return the event's handle, or 0 if the pool could not grow: the run then stops with BX_ENOMEM.
 */
bx_event_id bx_sim_schedule(struct bx_sim *sim, double t_s, int priority, bx_event_fn *fn,
                            void *obj, int64_t arg);

/** Cancel a pending event. @return false if it already ran or was cancelled. */
bool bx_sim_cancel(struct bx_sim *sim, bx_event_id id);

/**
 * Move a pending event to time @p t_s (>= now). It is ordered as if inserted now among events
 * of equal time and priority. @return false if the event is no longer pending.
 */
bool bx_sim_reschedule(struct bx_sim *sim, bx_event_id id, double t_s);

/** Whether @p id is still pending, and if so its time. */
bool bx_sim_pending_time(const struct bx_sim *sim, bx_event_id id, double *t_s);

/**
 * Run events in order until the next one would be later than @p t_end_s (the clock is then set
 * to @p t_end_s), the calendar is empty, or bx_sim_stop() is called.
 */
enum bx_status bx_sim_run(struct bx_sim *sim, double t_end_s, struct bx_error *err);

/** Make bx_sim_run() return after the current event. */
void bx_sim_stop(struct bx_sim *sim);

/** Events executed so far, and currently pending. */
uint64_t bx_sim_events(const struct bx_sim *sim);
size_t bx_sim_pending(const struct bx_sim *sim);

/** Capacity of the event pool (for checking that steady state does not allocate). */
size_t bx_sim_pool_capacity(const struct bx_sim *sim);

/* ================================================================ distributions */

enum bx_dist_kind {
    BX_DIST_EXPONENTIAL,
    BX_DIST_DETERMINISTIC,
    BX_DIST_UNIFORM,
    BX_DIST_LOGNORMAL,
    BX_DIST_GAMMA,
    BX_DIST_WEIBULL,
    BX_DIST_TRIANGULAR,
    BX_DIST_EMPIRICAL,
};

/**
 * A non-negative random duration in seconds. A value type: copy freely, except that an empirical
 * distribution owns its data (bx_dist_fini releases it, bx_dist_copy duplicates it).
 * Fields a, b, c hold the natural parameters:
 *   exponential: a = mean;           deterministic: a = value;
 *   uniform: a = min, b = max;       lognormal: a = mu, b = sigma (of log seconds);
 *   gamma: a = shape, b = scale;     weibull: a = shape, b = scale;
 *   triangular: a = min, b = mode, c = max;
 *   empirical: values[n] sorted; `interpolate` draws from the piecewise-linear ECDF.
 */
struct bx_dist {
    enum bx_dist_kind kind;
    double a, b, c;
    double *values;
    size_t n_values;
    bool interpolate;
};

const char *bx_dist_name(enum bx_dist_kind kind);
/** Parse "exponential", "lognormal", ...; false if unknown. */
bool bx_dist_kind_parse(const char *name, enum bx_dist_kind *kind);

/** Natural-parameter constructors; each validates and fails with BX_EINVAL naming the problem. */
enum bx_status bx_dist_exponential(struct bx_dist *d, double mean_s, struct bx_error *err);
enum bx_status bx_dist_deterministic(struct bx_dist *d, double value_s, struct bx_error *err);
enum bx_status bx_dist_uniform(struct bx_dist *d, double min_s, double max_s, struct bx_error *err);
enum bx_status bx_dist_lognormal(struct bx_dist *d, double mu, double sigma, struct bx_error *err);
enum bx_status bx_dist_gamma(struct bx_dist *d, double shape, double scale_s, struct bx_error *err);
enum bx_status bx_dist_weibull(struct bx_dist *d, double shape, double scale_s,
                               struct bx_error *err);
enum bx_status bx_dist_triangular(struct bx_dist *d, double min_s, double mode_s, double max_s,
                                  struct bx_error *err);
/** Copies @p values (n >= 1, finite, >= 0). */
enum bx_status bx_dist_empirical(struct bx_dist *d, const double *values, size_t n,
                                 bool interpolate, struct bx_error *err);

/**
 * Build a distribution of @p kind with the given mean and standard deviation (moment matching).
 * Exponential requires sd == mean or sd < 0 (meaning "not given"); deterministic requires sd 0
 * or not given; uniform and triangular are made symmetric; Weibull's shape is solved numerically.
 */
enum bx_status bx_dist_from_moments(struct bx_dist *d, enum bx_dist_kind kind, double mean_s,
                                    double sd_s, struct bx_error *err);

void bx_dist_fini(struct bx_dist *d);
enum bx_status bx_dist_copy(struct bx_dist *dst, const struct bx_dist *src, struct bx_error *err);

/** Draw one value (seconds, >= 0). */
double bx_dist_sample(const struct bx_dist *d, gsl_rng *r);
/** Exact mean and variance of the distribution (for queueing formulas and reports). */
double bx_dist_mean(const struct bx_dist *d);
double bx_dist_var(const struct bx_dist *d);
/** The smallest value @p d can draw (0 for the unbounded-below-free kinds: exponential,
 *  lognormal, gamma, Weibull). */
double bx_dist_min(const struct bx_dist *d);

/* ================================================================ statistics */

/**
 * Per-entity observations: count, mean, variance, min, max. Sums are kept about a shift (the
 * first observation), which is as accurate as Welford's update for data near that value and
 * needs no division per observation (Chan, Golub and LeVeque, Am. Stat. 37, 1983).
 */
struct bx_tally {
    uint64_t n;
    double shift, s1, s2, min, max;
};
void bx_tally_reset(struct bx_tally *t);
static inline void bx_tally_add(struct bx_tally *t, double x)
{
    if (t->n++ == 0)
        t->shift = x;
    double d = x - t->shift;
    t->s1 += d;
    t->s2 += d * d;
    t->min = x < t->min ? x : t->min;
    t->max = x > t->max ? x : t->max;
}
double bx_tally_mean(const struct bx_tally *t); /* NaN when empty */
double bx_tally_var(const struct bx_tally *t);  /* sample variance; NaN when n < 2 */

/** A time-weighted average of a piecewise-constant quantity (queue length, busy servers). */
struct bx_timeavg {
    double t0, t_last, v_last, area, max;
};
void bx_timeavg_init(struct bx_timeavg *a, double t_s, double v);
/** The quantity changes to @p v at time @p t_s (>= last change). */
void bx_timeavg_set(struct bx_timeavg *a, double t_s, double v);
/** Restart averaging at @p t_s keeping the current value (warm-up deletion). */
void bx_timeavg_restart(struct bx_timeavg *a, double t_s);
/** Average over [t0, t_s]; NaN for an empty interval. */
double bx_timeavg_mean(const struct bx_timeavg *a, double t_s);
/** Integral over [t0, t_s]. */
double bx_timeavg_area(const struct bx_timeavg *a, double t_s);

/**
 * Quantiles of non-negative observations. Exact mode keeps every value (memory grows with n);
 * sketch mode keeps log-spaced counts (DDSketch, Masson et al., VLDB 2019) so that every
 * reported quantile lies within relative error `rel_err` of an observed value of that rank.
 * Values below 1e-9 count as zero exactly (most waits in a lightly loaded queue are 0).
 */
struct bx_quantiles;
struct bx_quantiles *bx_quantiles_alloc(bool exact, double rel_err, struct bx_error *err);
void bx_quantiles_free(struct bx_quantiles *q);
void bx_quantiles_reset(struct bx_quantiles *q);
/** @return false only if exact mode could not grow its buffer (then the value is dropped and
 *  bx_quantiles_ok() turns false). */
bool bx_quantiles_add(struct bx_quantiles *q, double x);
bool bx_quantiles_ok(const struct bx_quantiles *q);
uint64_t bx_quantiles_count(const struct bx_quantiles *q);
/** The p-quantile (0 <= p <= 1) by the lower "nearest rank" rule: the smallest x with
 *  F(x) >= p. NaN when empty. Exact mode sorts on demand (not const). */
double bx_quantiles_get(struct bx_quantiles *q, double p);

/** Append @p q to @p b (only its non-empty sketch buckets); bx_quantiles_unpack() reads it back
 *  as an equal estimator (same count, same quantiles, further adds alike). */
void bx_quantiles_pack(const struct bx_quantiles *q, struct bx_buf *b);
/** @return NULL with BX_EFORMAT for a truncated or malformed buffer, or BX_ENOMEM. */
struct bx_quantiles *bx_quantiles_unpack(struct bx_reader *r, struct bx_error *err);

/** A fixed-bin histogram on [lo, hi) with underflow and overflow counts. */
struct bx_hist {
    double lo, hi;
    size_t n_bins;
    uint64_t *counts; /* n_bins */
    uint64_t under, over, n;
};
enum bx_status bx_hist_init(struct bx_hist *h, double lo, double hi, size_t n_bins,
                            struct bx_error *err);
void bx_hist_fini(struct bx_hist *h);
void bx_hist_add(struct bx_hist *h, double x);
void bx_hist_reset(struct bx_hist *h);

/** A mean across replications with a Student-t confidence interval. */
struct bx_ci {
    double value, lo, hi;
    size_t n; /* replications that produced a finite value */
};
/** Mean of the finite entries of @p x[n] with a two-sided @p level (e.g. 0.95) Student-t
 *  interval. With fewer than two finite values the bounds are NaN (no interval can be given). */
struct bx_ci bx_ci_student(const double *x, size_t n, double level);

/**
 * A binomial proportion x / n with its exact two-sided Clopper-Pearson interval at @p level
 * (beta quantiles found by bisection on the incomplete beta function, to ~1e-15 relative, for
 * any n up to 2^53). n = 0 gives NaNs; x = 0 gives lo = 0, x = n gives hi = 1.
 */
struct bx_ci bx_ci_binomial(uint64_t x, uint64_t n, double level);

/** The @p p quantile of the Beta(a, b) distribution (a, b > 0), by bisection on the incomplete
 *  beta function to ~1e-15 relative (also for the tiny quantiles of 10^8 trials). */
double bx_beta_quantile(double p, double a, double b);

/* ================================================================ resources */

enum bx_queue_discipline { BX_QUEUE_FIFO, BX_QUEUE_PRIORITY };

struct bx_resource;

/** Called when a request is granted a server; @p wait_s is the time it spent queued. */
typedef void bx_grant_fn(struct bx_sim *sim, void *obj, int64_t arg, double wait_s);
/** Called when a queued request leaves because its patience ran out (reneging). */
typedef void bx_renege_fn(struct bx_sim *sim, void *obj, int64_t arg, double waited_s);

struct bx_resource_config {
    const char *name; /**< copied; for messages */
    unsigned servers; /**< initial capacity (may be 0 when a schedule opens it later) */
    enum bx_queue_discipline discipline;
    size_t balk_queue_len; /**< arrivals that find this many waiting may balk; SIZE_MAX = never */
    double balk_prob;      /**< probability that such an arrival balks (1 = always) */
    gsl_rng *balk_rng;     /**< needed when 0 < balk_prob < 1; borrowed */
    bx_renege_fn *on_renege;
};
struct bx_resource_config bx_resource_config_default(void);

struct bx_resource *bx_resource_alloc(const struct bx_resource_config *cfg, struct bx_error *err);
void bx_resource_free(struct bx_resource *res);

enum bx_request_result { BX_REQ_GRANTED, BX_REQ_QUEUED, BX_REQ_BALKED };

/**
 * Ask for one server at the current time. If one is free and nobody waits, @p fn runs before
 * this returns (BX_REQ_GRANTED); otherwise the request waits (BX_REQ_QUEUED) and @p fn runs at the
 * release that serves it, or the request balks (BX_REQ_BALKED; nothing will be called).
 * @param priority higher is served first under BX_QUEUE_PRIORITY; ties by arrival order.
 * @param patience_s BX_INF, or the wait after which the request reneges (on_renege is called).
 */
enum bx_request_result bx_resource_request(struct bx_resource *res, struct bx_sim *sim,
                                           int priority, double patience_s, bx_grant_fn *fn,
                                           void *obj, int64_t arg);

/** Give back one server; the next waiter (if capacity allows) is granted at once. */
void bx_resource_release(struct bx_resource *res, struct bx_sim *sim);

/** Change capacity now. Busy servers above a lowered capacity finish their current service. */
void bx_resource_set_capacity(struct bx_resource *res, struct bx_sim *sim, unsigned servers);

/** One step of a capacity schedule: from time t_s on, the resource has `servers` servers. */
struct bx_capacity_step {
    double t_s;
    unsigned servers;
};
/**
 * Apply @p steps (sorted by t_s, copied) as events. With @p period_s > 0 the schedule repeats
 * every period (steps must then lie in [0, period_s)): lanes opening by hour of day. With 0 it
 * runs once: equipment arriving on a date.
 */
enum bx_status bx_resource_schedule_capacity(struct bx_resource *res, struct bx_sim *sim,
                                             const struct bx_capacity_step *steps, size_t n,
                                             double period_s, struct bx_error *err);

/** Counts and time-weighted statistics since the last bx_resource_reset_stats(). */
struct bx_resource_stats {
    uint64_t requests, granted, balked, reneged;
    double queue_len_mean, busy_mean, capacity_mean, utilization; /* busy area / capacity area */
};
void bx_resource_stats(const struct bx_resource *res, double now_s, struct bx_resource_stats *out);
void bx_resource_reset_stats(struct bx_resource *res, double now_s);
size_t bx_resource_queue_len(const struct bx_resource *res);
unsigned bx_resource_busy(const struct bx_resource *res);
unsigned bx_resource_capacity(const struct bx_resource *res);

/* ================================================================ replications */

/** Run one replication @p rep (0-based); write its results into caller storage by index. */
typedef enum bx_status bx_rep_fn(void *ctx, uint32_t rep, struct bx_error *err);

/**
 * Run replications 0..n_reps-1 on @p n_threads threads (0: one per core). Each replication must
 * touch only its own results slot, so the outcome does not depend on the thread count. On failure
 * the error of the lowest-numbered failing replication is reported.
 * @param progress optional; called from the calling thread as replications finish.
 */
enum bx_status bx_replicate(uint32_t n_reps, unsigned n_threads, bx_rep_fn *fn, void *ctx,
                            void (*progress)(void *ctx, uint32_t done, uint32_t total),
                            struct bx_error *err);

/* ================================================================ station network model */

#define BX_NAME_MAX 64

struct bx_net_source {
    char name[BX_NAME_MAX];
    size_t to; /**< index of the first station */
    struct bx_dist interarrival;
    int priority;           /**< queue priority of its customers */
    double start_s, stop_s; /**< arrivals only within [start_s, stop_s) */
};

struct bx_net_station {
    char name[BX_NAME_MAX];
    unsigned servers;
    struct bx_dist service;
    enum bx_queue_discipline discipline;
    long next;             /**< index of the next station, or -1: leave the system */
    size_t balk_queue_len; /**< SIZE_MAX: no balking */
    double balk_prob;
    bool has_patience; /**< reneging with patience drawn from `patience` */
    struct bx_dist patience;
    struct bx_capacity_step *schedule; /**< owned; may be NULL */
    size_t n_schedule;
    double schedule_period_s;
};

struct bx_net_config {
    struct bx_net_source *sources; /**< owned */
    size_t n_sources;
    struct bx_net_station *stations; /**< owned */
    size_t n_stations;
    double horizon_s, warmup_s;
    bool exact_quantiles; /**< keep every wait (memory ~ customers); else 0.5% sketch */
    size_t max_in_system; /**< stop with an error beyond this many customers (0: 10^7); an
                               overloaded station must not exhaust memory */
};
void bx_net_config_fini(struct bx_net_config *cfg);
/** Check indices, ranges and routing (no cycles that never leave); BX_EINVAL with a message. */
enum bx_status bx_net_config_check(const struct bx_net_config *cfg, struct bx_error *err);

/** Results of one replication for one station (observations after warm-up). */
struct bx_net_station_result {
    uint64_t arrivals, served, balked, reneged;
    double wait_mean_s, wait_p50_s, wait_p95_s, wait_p99_s, wait_max_s;
    double sojourn_mean_s; /**< wait + service at this station */
    double queue_len_mean, in_station_mean, utilization;
    double throughput_per_h; /**< served per hour of the observation window */
};

struct bx_net_rep_result {
    struct bx_net_station_result *stations; /**< n_stations, owned by the caller */
    uint64_t events;
    uint64_t departed;         /**< customers that left the system after warm-up */
    double system_time_mean_s; /**< arrival to departure, customers that left */
    double in_system_mean;     /**< time-average number in the network */
    double arrival_rate_per_s; /**< arrivals to the network per second after warm-up */
};

/** Append one replication's results (@p n_stations stations) to @p b. */
void bx_net_rep_pack(const struct bx_net_rep_result *r, size_t n_stations, struct bx_buf *b);
/** Read them back into @p out, whose `stations` holds @p n_stations entries; BX_EFORMAT when
 *  @p r is short or was packed for another number of stations. */
enum bx_status bx_net_rep_unpack(struct bx_reader *r, size_t n_stations,
                                 struct bx_net_rep_result *out, struct bx_error *err);

/**
 * Run one replication of the network. Streams: "arrivals/<source>", "service/<station>",
 * "patience/<station>", "balk/<station>", all from (master_seed, rep).
 * @param[out] out its `stations` array must hold cfg->n_stations entries.
 */
enum bx_status bx_net_run(const struct bx_net_config *cfg, uint64_t master_seed, uint32_t rep,
                          struct bx_net_rep_result *out, struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_SIM_H */
