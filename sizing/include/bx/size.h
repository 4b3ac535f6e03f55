/* SPDX-License-Identifier: MIT */
/* size.h - capacity sizing: the smallest number of servers (lanes, mobile units, cameras,
 * officers) whose simulated p95 queue wait meets a target, bracketed by queueing approximations
 * (Erlang C; Allen-Cunneen for general inter-arrival and service times) and confirmed by
 * simulation: a level is reported only when simulation shows that it meets the target (upper
 * confidence bound) and that one server fewer does not.
 *
 * Usage:
 *     unsigned c0 = bx_size_approx_level(lambda, mean_s, 1.0, cs2, 0.95, target_s);
 *     struct bx_size_result res;
 *     bx_size_search(c0, 1, 10000, target_s, simulate, ctx, &res, &err);  // simulate(level)
 *     ... res.level, res.curve[0..n_curve) ...
 *     bx_size_result_fini(&res);
 *
 * Thread safety: none needed (no state between calls); `simulate` may use threads itself.
 */
#ifndef BX_SIZE_H
#define BX_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Erlang C: the probability that an arrival waits in M/M/c with offered load a = lambda/mu
 *  (1 when a >= c). */
double bx_size_erlang_c(unsigned c, double a);

/**
 * The @p p quantile of the queue wait (s) with @p c servers, Poisson-like arrivals at @p lambda
 * per second with squared coefficient of variation @p ca2, service times of mean @p mean_s and
 * SCV @p cs2: P(W > t) = C(c, a) exp(-t (c mu - lambda) 2 / (ca2 + cs2)) (exact for M/M/c,
 * ca2 = cs2 = 1; Allen-Cunneen's scaling otherwise). +inf when the queue is unstable.
 */
double bx_size_wait_quantile(unsigned c, double lambda, double mean_s, double ca2, double cs2,
                             double p);

/** The smallest c whose approximate @p p quantile wait is at most @p target_s. */
unsigned bx_size_approx_level(double lambda, double mean_s, double ca2, double cs2, double p,
                              double target_s);

/** One simulated level: the p95 wait with its interval, and utilisation. */
struct bx_size_point {
    unsigned level;
    double value, lo, hi; /**< p95 queue wait (s), mean over replications, Student-t interval */
    double utilization;
    bool failed; /**< the simulation could not clear its queues (overloaded) */
};

/** Simulate @p level; fill @p out (out->level is set by the caller). */
typedef enum bx_status bx_size_sim_fn(void *ctx, unsigned level, struct bx_size_point *out,
                                      struct bx_error *err);

struct bx_size_result {
    bool found;     /**< a level in [min, max] met the target */
    unsigned level; /**< the smallest confirmed level */
    unsigned approx;
    struct bx_size_point *curve; /**< every simulated level, ascending (the capacity curve) */
    size_t n_curve;
};
void bx_size_result_fini(struct bx_size_result *r);
/** The curve's point at the confirmed level, or NULL when none was found. */
const struct bx_size_point *bx_size_best(const struct bx_size_result *r);

/** Whether a point meets the target: simulated, not overloaded, upper bound <= target. */
bool bx_size_meets(const struct bx_size_point *p, double target_s);

/**
 * Search [min_level, max_level] from @p approx: down while levels meet the target, else up
 * (doubling steps, then bisection), assuming that more servers never wait longer. The result is
 * confirmed: res.level meets the target and res.level - 1 (when >= min_level) was simulated and
 * does not.
 */
enum bx_status bx_size_search(unsigned approx, unsigned min_level, unsigned max_level,
                              double target_s, bx_size_sim_fn *fn, void *ctx,
                              struct bx_size_result *res, struct bx_error *err);

/* ---------------------------------------------------------------- ports */

/** What is sized at a port: land lanes (vehicle lanes or pedestrian mobile units), cameras per
 *  gate (air, sea, private), officers (manual inspection). */
enum bx_size_resource { BX_SIZE_LANES, BX_SIZE_CAMERAS, BX_SIZE_OFFICERS };
const char *bx_size_resource_name(enum bx_size_resource r);

struct bx_size_opts {
    double target_p95_s;   /**< the p95 queue wait to meet (upper confidence bound) */
    double confidence;     /**< of the Student-t interval across replications (0.95) */
    uint32_t replications; /**< per level, >= 2 */
    unsigned threads;      /**< replications in parallel (0: one per core); results do not
                                depend on it */
    uint64_t seed;
    unsigned window_hours; /**< the busiest period: this many consecutive hours (3) */
    unsigned max_level;
    /** Under mpirun (bx/par.h): spread each level's replications over the ranks, every rank
     *  receiving all of them and running the same search (a collective call then). Results do
     *  not depend on it. */
    bool spread;
    /** Optional: `replications` caches (bx_ports_cache_alloc, kept by the caller) shared by the
     *  calls for one port (its resources, its weekly waits), whose runs then match each
     *  traveller once. NULL: each call keeps its own across its levels. Results do not depend
     *  on it. */
    struct bx_ports_cache **caches;
    /** Optional: called after each level or week is simulated, from the thread that called
     *  bx_size_port / bx_size_weekly (@p what: the resource's name, or "week"; @p level: the
     *  level, or the week's unit count). For a progress display; results do not depend on it. */
    void (*progress)(void *ctx, const char *port, const char *what, unsigned level);
    void *progress_ctx;
};

struct bx_size_port_result {
    double window_from_h, window_to_h; /**< the busiest hours the waits are measured over */
    double lambda_per_s, service_mean_s, service_scv; /**< the approximation's inputs */
    struct bx_size_result search;
};

/**
 * Size @p res at port @p port of @p cfg: the queue wait for that resource (cameras or lanes:
 * arrival to the camera or lane; officers: the wait of travellers sent to manual inspection)
 * of travellers arriving in the busiest @p o->window_hours, p95 per replication, Student-t
 * interval across replications; every level replays the same random streams (common random
 * numbers). The port is simulated alone, with the resource fixed (rollouts and rosters of the
 * sized resource are replaced by the level).
 */
enum bx_status bx_size_port(const struct bx_ports_config *cfg, size_t port,
                            enum bx_size_resource res, const struct bx_size_opts *o,
                            struct bx_size_port_result *out, struct bx_error *err);

/** Lanes or mobile units in effect at @p t_s at land port @p p (its count, then its rollout's
 *  steps up to t_s). */
unsigned bx_size_units_at(const struct bx_port_config *p, double t_s);

/** One week of a land port's rollout: the units in effect at the week's start and the waits of
 *  a representative day with them (the port's daily profile). */
struct bx_size_week {
    unsigned week;            /**< 1-based */
    double t_s;               /**< its start, from the scenario's start */
    unsigned units;           /**< lanes or mobile units in effect */
    struct bx_size_point p95; /**< p95 queue wait over the day (failed: overloaded or none) */
    double mean_wait_s;       /**< mean wait (queue, capture, officers) over the day */
};

/**
 * The first @p weeks weeks of land port @p port as its rollout delivers units (lanes.rollout,
 * by date or hour): each week simulated as one day with the units in effect at its start
 * (@p o->replications replications, common random numbers; a unit count already simulated is
 * reused). *out: @p weeks entries (free()).
 */
enum bx_status bx_size_weekly(const struct bx_ports_config *cfg, size_t port,
                              const struct bx_size_opts *o, unsigned weeks,
                              struct bx_size_week **out, struct bx_error *err);

/** One port's sizing job (bx_size_tasks): the resources to size and, for a land port, whether
 *  its weekly rollout waits are wanted; the results land in r[] and w. */
struct bx_size_task {
    size_t port;
    int n_kinds;
    enum bx_size_resource kinds[2];
    struct bx_size_port_result r[2];
    bool weekly;
    struct bx_size_week *w; /**< the weeks' waits (bx_size_weekly) */
};

/**
 * Collective under mpirun (bx/par.h): run the @p n tasks, each port's calls sharing one
 * matching cache per replication. Ports are spread over the ranks, or, with fewer tasks than
 * ranks, each level's replications are; rank 0 ends with every result (packed field by field).
 * Results do not depend on the rank or thread count. Errors name the port. Release the results
 * with bx_size_tasks_fini.
 */
enum bx_status bx_size_tasks(const struct bx_ports_config *cfg, const struct bx_size_opts *o,
                             unsigned weeks, struct bx_size_task *t, size_t n,
                             struct bx_error *err);
void bx_size_tasks_fini(struct bx_size_task *t, size_t n);

/** The shared matching service's workers (bx_size_tvs). */
struct bx_size_tvs_result {
    double peak_per_s;            /**< requests per second in the busiest hour (baseline run) */
    double service_mean_s;        /**< mean service time per request */
    struct bx_size_result search; /**< levels are workers; values p95 camera-to-answer (s) */
};

/**
 * The fewest workers of the scenario's shared matching service (`tvs`) whose p95 camera-to-answer
 * time (network both ways, queue, service; the upper bound of its Student-t interval across
 * @p o->replications replications of a day) meets @p o->target_p95_s, with every port sending
 * requests (failures and outages as the scenario has them). Starts from an M/M/c approximation
 * at the busiest hour's request rate and confirms by simulation with common random numbers.
 * BX_EINVAL when the scenario has no `tvs`.
 */
enum bx_status bx_size_tvs(const struct bx_ports_config *cfg, const struct bx_size_opts *o,
                           struct bx_size_tvs_result *out, struct bx_error *err);

/** One phase of a rollout: from @p t_s (from the scenario's start) on, @p units lanes or mobile
 *  units in all the selected land ports together. */
struct bx_size_phase {
    double t_s;
    long units;
};
/** The phases of the land ports' rollouts (all land ports, or only @p port when not NULL): time
 *  0 and every distinct rollout step, ascending, at most @p max. @return how many. */
size_t bx_size_rollout_phases(const struct bx_ports_config *cfg, const char *port,
                              struct bx_size_phase *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif /* BX_SIZE_H */
