/* SPDX-License-Identifier: MIT */
/* ports.c - sizing one resource of one port of a ports scenario (bx/size.h): the busiest hours
 * from a baseline run, a queueing approximation for the starting level, then the confirmed
 * search by simulation with common random numbers (every level replays the same streams). */
#include "size_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bx/par.h"
#include "bx/port.h"
#include "bx/sim.h"
#include "bx/size.h"

const char *bx_size_resource_name(enum bx_size_resource r)
{
    static const char *const names[] = {"lanes", "cameras", "officers"};
    return (unsigned)r < 3 ? names[r] : "?";
}

struct sim_ctx {
    struct bx_size__runs run; /* one port: a shallow copy of the scenario's (cache: per
                                 replication, o->caches or this call's own) */
    struct bx_port_config port;
    enum bx_size_resource res;
    double *p95, *util;
    bool *failed;
    bool weekly; /* simulating a rollout's weeks (for progress) */
};

/* The port alone: a shallow copy of the scenario whose one port (*work) is set to each level in
 * turn from the pristine c->port; buffers for the replications. */
static enum bx_status ctx_init(struct sim_ctx *c, const struct bx_ports_config *cfg, size_t port,
                               enum bx_size_resource res, const struct bx_size_opts *o,
                               struct bx_port_config *work, struct bx_error *err)
{
    *c = (struct sim_ctx){.run = {.cfg = *cfg, .o = o}, .port = cfg->ports[port], .res = res};
    *work = cfg->ports[port];
    c->run.cfg.ports = work;
    c->run.cfg.n_ports = 1;
    c->run.cfg.progress = NULL;
    c->run.cfg.search_threads = 1;
    c->run.cfg.window_from_s = c->run.cfg.window_to_s = 0;
    /* Arrivals and departures repeat daily: one day is simulated (the other resources as the
     * scenario has them on its first day). */
    c->run.cfg.horizon_s = fmin(cfg->horizon_s, 86400);
    c->run.reps = calloc(o->replications, sizeof *c->run.reps);
    c->p95 = calloc(o->replications, sizeof *c->p95);
    c->util = calloc(o->replications, sizeof *c->util);
    c->failed = calloc(o->replications, sizeof *c->failed);
    c->run.cache = o->caches ? o->caches : calloc(o->replications, sizeof *c->run.cache);
    for (uint32_t r = 0; !o->caches && c->run.cache && r < o->replications; ++r)
        if ((c->run.cache[r] = bx_ports_cache_alloc()) == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
    if (!c->run.reps || !c->p95 || !c->util || !c->failed || !c->run.cache)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    return BX_OK;
}

static void ctx_fini(struct sim_ctx *c)
{
    for (uint32_t r = 0; c->run.reps && r < c->run.o->replications; ++r)
        bx_ports_result_fini(&c->run.reps[r]);
    if (c->run.o->caches == NULL) { /* this call's own */
        for (uint32_t r = 0; c->run.cache && r < c->run.o->replications; ++r)
            bx_ports_cache_free(c->run.cache[r]);
        free(c->run.cache);
    }
    free(c->run.reps);
    free(c->p95);
    free(c->util);
    free(c->failed);
}

/* Every replication of the current level: on threads, or over mpirun's ranks (o->spread, every
 * rank receiving every replication); then each one's p95, utilisation and overload. */
static enum bx_status replicate(struct sim_ctx *c, struct bx_error *err)
{
    uint32_t n = c->run.o->replications;
    enum bx_status st = bx_size__run_all(&c->run, err);
    for (uint32_t rep = 0; st == BX_OK && rep < n; ++rep) {
        const struct bx_ports_result *r = &c->run.reps[rep];
        c->failed[rep] = r->overloaded; /* this level cannot clear its queues */
        if (r->overloaded)
            continue;
        struct bx_quantiles *q =
            c->res == BX_SIZE_OFFICERS ? r->ports[0].officer_wait_q : r->ports[0].lane_wait_q;
        c->p95[rep] = bx_quantiles_count(q) ? bx_quantiles_get(q, 0.95) : 0;
        c->util[rep] = c->res == BX_SIZE_OFFICERS ? r->ports[0].officer_utilization
                                                  : r->ports[0].camera_utilization;
    }
    return st;
}

static enum bx_status simulate(void *vctx, unsigned level, struct bx_size_point *out,
                               struct bx_error *err)
{
    struct sim_ctx *c = vctx;
    struct bx_port_config *p = &c->run.cfg.ports[0];
    *p = c->port;
    switch (c->res) {
    case BX_SIZE_LANES:
        p->land.lanes = level;
        p->land.n_schedule = 0; /* a fixed level: no rollout */
        break;
    case BX_SIZE_CAMERAS:
        p->cameras_per_gate = level;
        p->n_camera_schedule = 0;
        break;
    case BX_SIZE_OFFICERS:
        p->officers = level;
        p->n_officer_shifts = 0;
        break;
    }
    enum bx_status st = replicate(c, err);
    *p = c->port;
    if (st != BX_OK)
        return st;
    if (c->run.o->progress)
        c->run.o->progress(c->run.o->progress_ctx, c->port.name,
                           c->weekly ? "week" : bx_size_resource_name(c->res), level);
    bool failed = false;
    for (uint32_t r = 0; r < c->run.o->replications; ++r)
        failed |= c->failed[r];
    out->failed = failed;
    if (failed)
        return BX_OK;
    struct bx_ci ci = bx_ci_student(c->p95, c->run.o->replications, c->run.o->confidence);
    struct bx_ci u = bx_ci_student(c->util, c->run.o->replications, c->run.o->confidence);
    out->value = ci.value;
    out->lo = isfinite(ci.lo) ? fmax(0, ci.lo) : ci.lo;
    out->hi = ci.hi;
    out->utilization = u.value;
    return BX_OK;
}

/* Capture time of one traveller at @p device: mean and variance (retries included; U.S.
 * opt-outs take no camera time). */
static void capture_moments(const struct bx_port_config *p, double *mean, double *var)
{
    const struct bx_capture_config *c = &p->capture;
    double m = c->time_mean_s[p->device], sd = c->exponential_time ? m : c->time_sd_s[p->device];
    double f = c->fta[p->device], ea = 0, ea2 = 0, pa = 1;
    for (unsigned a = 1; a <= c->max_attempts; ++a) {
        /* P(A >= a) = f^(a-1) */
        double pexact = pa * (a < c->max_attempts ? 1 - f : 1);
        ea += (double)a * pexact;
        ea2 += (double)a * a * pexact;
        pa *= f;
    }
    double acquired = 1 - pow(f, c->max_attempts);
    double us = p->pop.citizenship[BX_CIT_US] * c->us_optout;
    double t = ea * m + acquired * p->match_time_s;
    double vt = ea * sd * sd + (ea2 - ea * ea) * m * m;
    *mean = (1 - us) * t;
    *var = (1 - us) * (vt + t * t) - *mean * *mean;
}

enum bx_status bx_size_port(const struct bx_ports_config *cfg, size_t port,
                            enum bx_size_resource res, const struct bx_size_opts *o,
                            struct bx_size_port_result *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    BX_REQUIRE(port < cfg->n_ports && o->replications >= 2);
    const struct bx_port_config *pc = &cfg->ports[port];
    if (res == BX_SIZE_LANES && pc->type != BX_PORT_LAND)
        return BX_FAIL(err, BX_EINVAL, "port '%s' (%s) has no lanes: size cameras or officers",
                       pc->name, bx_port_type_name(pc->type));
    if (res == BX_SIZE_CAMERAS && pc->type == BX_PORT_LAND)
        return BX_FAIL(err, BX_EINVAL, "port '%s' is a land port: size lanes or officers",
                       pc->name);
    struct sim_ctx c;
    struct bx_port_config work;
    enum bx_status st = ctx_init(&c, cfg, port, res, o, &work, err);
    if (st != BX_OK)
        goto done;
    /* Baseline at the scenario's own levels: the busiest hours, their rate, the manual share. */
    if ((st = replicate(&c, err)) != BX_OK)
        goto done;
    size_t H = (size_t)ceil(c.run.cfg.horizon_s / 3600), W = o->window_hours;
    if (W > H)
        W = H;
    double best = -1, manual = 0, trav = 0;
    size_t h0 = 0;
    for (size_t h = 0; h + W <= H; ++h) {
        double s = 0;
        for (uint32_t r = 0; r < o->replications; ++r)
            for (size_t k = h; k < h + W && c.run.reps[r].ports[0].hourly; ++k)
                s += c.run.reps[r].ports[0].hourly[k].arrivals;
        if (s >= best) { /* ties: the latest window, whose queues have built up longest */
            best = s;
            h0 = h;
        }
    }
    for (uint32_t r = 0; r < o->replications; ++r) {
        manual += (double)c.run.reps[r].ports[0].manual;
        trav += (double)c.run.reps[r].ports[0].travellers;
    }
    c.run.cfg.window_from_s = (double)h0 * 3600;
    c.run.cfg.window_to_s = (double)(h0 + W) * 3600;
    /* Nothing after the window matters to its waits: arrivals stop there (the run still
     * serves everyone who arrived). */
    c.run.cfg.horizon_s = fmin(c.run.cfg.horizon_s, c.run.cfg.window_to_s);
    out->window_from_h = (double)h0;
    out->window_to_h = (double)(h0 + W);
    /* Arrivals per second in the window (travellers; vehicles at vehicle lanes). */
    double lambda = best / (double)o->replications / ((double)W * 3600);
    double sm, sv;
    capture_moments(pc, &sm, &sv);
    double mean_s, cs2;
    if (res == BX_SIZE_OFFICERS) {
        lambda *= trav > 0 ? manual / trav : 0;
        mean_s = bx_dist_mean(&pc->manual_service);
        cs2 = 1; /* the lognormal default's SCV is 0.25; 1 errs on the side of more officers */
    } else if (pc->type == BX_PORT_LAND && pc->land.lane_kind == BX_LANE_VEHICLE) {
        double en = 0, en2 = 0;
        for (int k = 0; k < BX_PARTY_MAX; ++k) {
            en += (k + 1) * pc->pop.party_size[k];
            en2 += (double)(k + 1) * (k + 1) * pc->pop.party_size[k];
        }
        lambda /= en > 0 ? en : 1;
        mean_s = en * sm;
        double var = en * sv + (en2 - en * en) * sm * sm;
        cs2 = mean_s > 0 ? var / (mean_s * mean_s) : 1;
    } else if (res == BX_SIZE_CAMERAS) {
        /* Per gate: a departure's passengers arrive over its boarding window, peaking at twice
         * the average rate (triangular). */
        lambda = 2 * pc->passengers_mean / (pc->open_s - pc->close_s);
        mean_s = sm;
        cs2 = sm > 0 ? sv / (sm * sm) : 1;
    } else {
        mean_s = sm;
        cs2 = sm > 0 ? sv / (sm * sm) : 1;
    }
    unsigned approx = mean_s > 0 && lambda > 0
                          ? bx_size_approx_level(lambda, mean_s, 1.0, cs2, 0.95, o->target_p95_s)
                          : 1;
    out->lambda_per_s = lambda;
    out->service_mean_s = mean_s;
    out->service_scv = cs2;
    st = bx_size_search(approx, 1, o->max_level, o->target_p95_s, simulate, &c, &out->search, err);
done:
    ctx_fini(&c);
    return st;
}

unsigned bx_size_units_at(const struct bx_port_config *p, double t_s)
{
    unsigned u = p->land.lanes;
    for (size_t k = 0; k < p->land.n_schedule; ++k)
        if (p->land.schedule[k].t_s <= t_s)
            u = p->land.schedule[k].servers;
    return u;
}

size_t bx_size_rollout_phases(const struct bx_ports_config *cfg, const char *port,
                              struct bx_size_phase *out, size_t max)
{
    if (max == 0)
        return 0;
    /* Phase times: 0 and every distinct rollout step time of the selected land ports. */
    size_t n = 0;
    out[n++] = (struct bx_size_phase){0, 0};
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        const struct bx_port_config *pc = &cfg->ports[i];
        if (pc->type != BX_PORT_LAND || (port && strcmp(pc->name, port) != 0))
            continue;
        for (size_t k = 0; k < pc->land.n_schedule && n < max; ++k) {
            bool seen = false;
            for (size_t j = 0; j < n; ++j)
                seen |= out[j].t_s == pc->land.schedule[k].t_s;
            if (!seen)
                out[n++] = (struct bx_size_phase){pc->land.schedule[k].t_s, 0};
        }
    }
    for (size_t a = 1; a < n; ++a) /* insertion sort: a handful of phases */
        for (size_t b = a; b > 0 && out[b - 1].t_s > out[b].t_s; --b) {
            struct bx_size_phase t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        const struct bx_port_config *pc = &cfg->ports[i];
        if (pc->type != BX_PORT_LAND || (port && strcmp(pc->name, port) != 0))
            continue;
        for (size_t k = 0; k < n; ++k)
            out[k].units += bx_size_units_at(pc, out[k].t_s);
    }
    return n;
}

enum bx_status bx_size_weekly(const struct bx_ports_config *cfg, size_t port,
                              const struct bx_size_opts *o, unsigned weeks,
                              struct bx_size_week **out, struct bx_error *err)
{
    *out = NULL;
    BX_REQUIRE(port < cfg->n_ports && o->replications >= 2);
    const struct bx_port_config *pc = &cfg->ports[port];
    if (pc->type != BX_PORT_LAND)
        return BX_FAIL(err, BX_EINVAL, "port '%s' is not a land port", pc->name);
    struct bx_size_week *w = calloc(weeks ? weeks : 1, sizeof *w);
    struct sim_ctx c;
    struct bx_port_config work;
    enum bx_status st = ctx_init(&c, cfg, port, BX_SIZE_LANES, o, &work, err);
    c.weekly = true;
    if (st == BX_OK && w == NULL)
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    if (st != BX_OK)
        goto done;
    for (unsigned k = 0; k < weeks && st == BX_OK; ++k) {
        w[k].week = k + 1;
        w[k].t_s = (double)k * 7 * 86400;
        w[k].units = bx_size_units_at(pc, w[k].t_s);
        /* A level already simulated is reused: the same day, the same streams. */
        bool done_before = false;
        for (unsigned j = 0; j < k && !done_before; ++j)
            if (w[j].units == w[k].units) {
                unsigned week = w[k].week;
                double t = w[k].t_s;
                w[k] = w[j];
                w[k].week = week;
                w[k].t_s = t;
                done_before = true;
            }
        if (done_before)
            continue;
        if (w[k].units == 0) {
            w[k].p95.failed = true;
            continue;
        }
        struct bx_size_point pt = {.level = w[k].units};
        if ((st = simulate(&c, w[k].units, &pt, err)) != BX_OK)
            break;
        w[k].p95 = pt;
        double mean = 0;
        for (uint32_t r = 0; r < o->replications && !pt.failed; ++r)
            mean += bx_tally_mean(&c.run.reps[r].ports[0].wait) / o->replications;
        w[k].mean_wait_s = pt.failed ? BX_NAN : mean;
    }
done:
    ctx_fini(&c);
    if (st != BX_OK)
        free(w);
    else
        *out = w;
    return st;
}

/* ---------------------------------------------------------------- replications of a level */

/* One replication (bx_replicate's callback); an overloaded level is a result, not a failure. */
static enum bx_status one_rep(void *vctx, uint32_t rep, struct bx_error *err)
{
    struct bx_size__runs *c = vctx;
    struct bx_ports_result *r = &c->reps[rep];
    bx_ports_result_fini(r);
    enum bx_status st = bx_ports_result_init(r, c->cfg.n_ports, err);
    if (st != BX_OK)
        return st;
    struct bx_error rerr = {0};
    if (bx_ports_run_cached(&c->cfg, c->o->seed, rep, c->cache[rep], r, &rerr) != BX_OK &&
        !r->overloaded)
        return BX_FAIL(err, rerr.code, "%s", rerr.msg);
    return BX_OK;
}

static void pack_rep(void *vctx, uint32_t rep, struct bx_buf *b)
{
    struct bx_size__runs *c = vctx;
    bx_ports_result_pack(&c->reps[rep], b);
}

static enum bx_status unpack_rep(void *vctx, uint32_t rep, struct bx_reader *r,
                                 struct bx_error *err)
{
    struct bx_size__runs *c = vctx;
    return bx_ports_result_unpack(r, &c->reps[rep], err);
}

enum bx_status bx_size__run_all(struct bx_size__runs *c, struct bx_error *err)
{
    uint32_t n = c->o->replications;
    return c->o->spread ? bx_par_replicate(n, c->o->threads, one_rep, c, pack_rep, unpack_rep, true,
                                           NULL, err)
                        : bx_replicate(n, c->o->threads, one_rep, c, NULL, err);
}
