/* SPDX-License-Identifier: MIT */
/* port_internal.h - the state of one replication of a port scenario, shared by sim/port's files
 * (never installed): port.c (the traveller's way through a port: events, land lanes, a run),
 * port_match.c (matching ahead in batches, the matching cache, thresholds). */
#ifndef BX_PORT_INTERNAL_H
#define BX_PORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "bx/matcher.h"
#include "bx/port.h"

/* ---------------------------------------------------------------- run state */

enum outcome { OUT_NONE, OUT_BIOMETRIC, OUT_MANUAL, OUT_UNPHOTOGRAPHED };

struct trav {
    struct bx_traveller t;
    struct bx_subject face, doc; /* true identity and the document's holder */
    uint32_t port, dep, row;     /* row: the document's row in the departure gallery */
    double t_arrive, t_capture;
    bool has_photo, accepted, wl_hit, to_manual, land;
    bool in_gallery;  /* a record in the gallery the 1:n search uses (manifest: always) */
    bool leaves;      /* no usable photo and no officer: leaves unphotographed */
    bool no_answer;   /* the matching service gave no answer (an outage): the fallback */
    uint32_t pending; /* land, on a vehicle's first traveller: answers still awaited */
    double t_sent;    /* the request left for the matching service (port_tvs.c) */
    double lat_back;  /* its return trip (s) */
    double answer_s;  /* camera to answer (s) */
    uint8_t outcomes; /* must end at exactly 1 */
    uint32_t group_n; /* land: occupants of the vehicle whose first traveller this is */
    /* Matching, computed ahead in batches (match_batch): the live capture and the galleries do
     * not depend on when the traveller reaches the camera. Used only if the capture succeeds. */
    bool id_ok;          /* the 1:n top candidate over the threshold is the document's holder */
    bool wl_match;       /* a watch-list candidate over its threshold */
    float top;           /* the top 1:n score over the threshold, or NaN */
    float imp;           /* live capture vs one watch-list photo of someone else (NaN: none) */
    int64_t imp_subject; /* whose photo that is (-1: none) */
    double verify;       /* live capture vs the document photo (1:1) */
};

struct dep {
    double t_dep;
    uint32_t first, n; /* travellers [first, first + n) */
    unsigned gate;
};

/* Failing equipment (port_equipment.c): the units behind one resource. */
#define BX_NO_POOL UINT32_MAX
struct pool {
    struct bx_resource *res;
    uint32_t port;
    uint32_t first, n; /* units [first, first + n) of run.units */
    unsigned nominal;  /* units in service now (the rollout) */
    unsigned up;       /* of those, the ones that work */
    double t_last;     /* the last change of nominal or of a unit's state */
    const struct bx_capacity_step *steps;
    size_t n_steps;
};
struct unit {
    uint32_t pool;
    bool up;
    gsl_rng *rng; /* its own failures and repairs: the same whatever the other units do */
};

struct port_rt {
    const struct bx_port_config *cfg;
    gsl_rng *equip;      /* failures and repairs (NULL: this port's device does not fail) */
    uint64_t equip_key;  /* the key of its units' own generators (port_equipment.c) */
    uint32_t *gate_pool; /* per gate, or NULL (no failures) */
    uint32_t lane_pool;  /* land: BX_NO_POOL without failures */
    struct bx_resource **gates, *officers, *secondary;
    struct bx_resource *lanes; /* land */
    struct bx_store *expected; /* land: the expected-traveller gallery */
    struct bx_subject *expected_subjects;
    gsl_rng *pop, *arrivals, *capture, *manual, *service;
    struct dep *deps;
    size_t n_deps;
    double next_arrival; /* land: the first arrival not yet generated (>= horizon: none) */
};

struct run {
    const struct bx_ports_config *cfg;
    struct bx_sim *sim;
    struct bx_streams *streams;
    struct bx_tplgen *gen;
    struct bx_tplgen **gen_doc; /* per port: the generator of impostors' borrowed documents */
    struct port_rt *ports;
    struct trav *tr;
    size_t n_tr, cap_tr;
    size_t finished; /* travellers with their final outcome */
    int64_t next_subject;
    struct bx_store *watchlist;
    struct bx_subject *wl_subjects;
    gsl_rng *wl_rng;
    struct bx_port_threshold *thr; /* per port: 1:n, 1:1, watch list (3 per port) */
    struct bx_ports_result *out;
    uint32_t rep;
    float *live, *doc;            /* MATCH_BATCH templates each: the probes of one batch */
    struct bx_ports_cache *cache; /* matching decisions of earlier runs (may be NULL) */
    struct bx_resource *tvs;      /* the shared matching service (NULL without `tvs`) */
    gsl_rng *tvs_rng;
    unsigned tvs_depth; /* outages in force (fixed and random may overlap) */
    double tvs_since;   /* the last change of tvs_depth */
    struct pool *pools; /* failing equipment (empty without failures) */
    size_t n_pools, cap_pools;
    struct unit *units;
    size_t n_units;
    bool failed; /* an event could not go on: the run stops with `fail` */
    struct bx_error fail;
};

/* ---------------------------------------------------------------- matching ahead */

/* Matching is computed when travellers are drawn (a departure's manifest when it opens, a land
 * port's next block of arrivals), MATCH_BATCH probes per search: the galleries are static while
 * those travellers are in the port, and every template is a pure function of its identity, so
 * the scores are the same as searching each traveller at the camera, while one pass over a
 * large gallery serves the whole batch. What is recorded (samples, counts, retention) happens at
 * the camera, in capture order (judge). */
#define MATCH_BATCH 256 /* a land block in one search: 8 AMX passes over each L2-resident block */
#define LAND_BLOCK 256  /* land: travellers drawn ahead per block of arrivals */

/* ---------------------------------------------------------------- port_match.c */

/* Threads for template generation in this run. */
unsigned bx_port__gen_threads(const struct run *r);
/* The 1:n, 1:1 and watch-list decisions of travellers [i0, i1) against @p gallery (their
 * manifest or expected-traveller gallery), MATCH_BATCH probes per search, from the cache when it
 * holds them. */
enum bx_status bx_port__match_batch(struct run *r, const struct bx_store *gallery, size_t i0,
                                    size_t i1, struct bx_error *err);
/* At a run's start: keep the cache's entries only for the same replication and thresholds. */
void bx_port__cache_begin(struct run *r, uint64_t seed, uint32_t rep);
/* ---------------------------------------------------------------- port_thresholds.c */

/* Every port's operating thresholds: thr[3 i + BX_THR_ONE_TO_N / VERIFY / WATCHLIST]. Targets
 * that need the same impostor sample share one computation of it, on cfg->search_threads
 * threads; every threshold is the one it would get alone, on one thread. */
enum bx_status bx_port__thresholds(const struct bx_ports_config *cfg, const struct bx_tplgen *gen,
                                   struct bx_port_threshold *thr, struct bx_error *err);
/* Forget the remembered thresholds (tests: compute them again). */
void bx_port__threshold_memo_clear(void);

/* ---------------------------------------------------------------- port_flow.c */

/* An event cannot go on (out of memory, a search that failed): keep the reason (NULL: out of
 * memory) and stop the run. */
void bx_port__fail(struct run *r, const struct bx_error *e);
/* Whether a traveller who arrived at @p t_s counts in the sizing window. */
bool bx_port__in_window(const struct run *r, double t_s);
/* Set up traveller @p idx of port @p pi (land: a crossing, else a passenger of a departure). */
void bx_port__new_traveller(struct run *r, uint32_t pi, uint32_t idx, bool land);
/* Seconds the capture of traveller @p t at port @p p takes (its attempts drawn). */
double bx_port__capture(struct run *r, struct port_rt *p, struct trav *t);
/* No working camera or lane for traveller @p i (port_equipment.c): board unphotographed
 * (manifest ports) or go to an officer (land); the resource's renege callback does the same for
 * a passenger still waiting when the departure leaves. */
void bx_port__no_camera(struct run *r, uint32_t i);
void bx_port__camera_renege(struct bx_sim *sim, void *obj, int64_t arg, double waited_s);
/* A gate camera, e-gate or mobile unit became free for the traveller @p arg (resource grant). */
void bx_port__camera_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s);
/* The decision on traveller @p i after capture, and where the traveller goes next. */
void bx_port__judge(struct run *r, uint32_t i);
/* bx_port__judge for a photographed traveller with an answer; the fallback without one. */
void bx_port__decide(struct run *r, uint32_t i);
void bx_port__route(struct run *r, uint32_t i);

/* ---------------------------------------------------------------- port_equipment.c */

/* Make the units behind @p res fail and be repaired: @p initial units in service from t = 0,
 * or the rollout @p steps (borrowed; the first at t = 0); *pool receives the pool's index. */
enum bx_status bx_port__pool_add(struct run *r, uint32_t pi, struct bx_resource *res,
                                 unsigned initial, const struct bx_capacity_step *steps,
                                 size_t n_steps, uint32_t *pool, struct bx_error *err);
/* Units in service but none working (false for BX_NO_POOL). */
bool bx_port__pool_out(const struct run *r, uint32_t pool);
/* Release the pools and units. */
void bx_port__equipment_fini(struct run *r);
/* Close the equipment records at the horizon. */
void bx_port__equipment_horizon(struct run *r, double now);

/* ---------------------------------------------------------------- port_tvs.c */

/* The matching service of the run (nothing without `tvs`): its workers, outage events. */
enum bx_status bx_port__tvs_init(struct run *r, struct bx_error *err);
void bx_port__tvs_fini(struct run *r);
/* Send photographed traveller @p i's request; bx_port__answered(r, i) follows with the answer
 * (or with no_answer set: the fallback). */
void bx_port__tvs_send(struct run *r, uint32_t i);
/* Utilisation, outage time and peak rate at the horizon. */
void bx_port__tvs_horizon(struct run *r, double now);
/* The answer for traveller @p i reached the camera or lane (port_flow.c). */
void bx_port__answered(struct run *r, uint32_t i);
/* Land: occupant @p i's answer; the lane is freed when the vehicle's last answer comes
 * (port_arrive.c). */
void bx_port__lane_answered(struct run *r, uint32_t i);

/* ---------------------------------------------------------------- port_arrive.c */

/* Events: open departure @p arg (port in the high 32 bits) and draw land port @p arg's next
 * block of arrivals. */
void bx_port__open_departure(struct bx_sim *sim, void *obj, int64_t arg);
void bx_port__land_block(struct bx_sim *sim, void *obj, int64_t arg);

#endif /* BX_PORT_INTERNAL_H */
