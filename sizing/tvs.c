/* SPDX-License-Identifier: MIT */
/* tvs.c - sizing the shared matching service (bx_size_tvs, bx/size.h): its workers for a p95
 * camera-to-answer target, with every port of the scenario sending it requests. A baseline run
 * gives the busiest hour's request rate; an M/M/c approximation gives the starting level; the
 * confirmed search simulates whole days with common random numbers (matching decisions are
 * reused between levels: only the service's workers change). */
#include "size_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bx/par.h"
#include "bx/port.h"
#include "bx/sim.h"
#include "bx/size.h"

struct tvs_ctx {
    struct bx_size__runs run; /* the scenario, one day, workers set per level */
    double *p95, *util;
};

/* One level: every replication of a day with @p level workers; the p95 answer time per
 * replication, its Student-t interval, and the service's utilisation. */
static enum bx_status simulate(void *vctx, unsigned level, struct bx_size_point *out,
                               struct bx_error *err)
{
    struct tvs_ctx *c = vctx;
    uint32_t n = c->run.o->replications;
    c->run.cfg.tvs.workers = level;
    enum bx_status st = bx_size__run_all(&c->run, err);
    if (st != BX_OK)
        return st;
    out->failed = false;
    for (uint32_t rep = 0; rep < n; ++rep) {
        const struct bx_ports_result *r = &c->run.reps[rep];
        out->failed |= r->overloaded;
        c->p95[rep] = r->tvs.response.n ? bx_quantiles_get(r->tvs.response_q, 0.95) : 0;
        c->util[rep] = r->tvs.utilization;
    }
    if (out->failed)
        return BX_OK;
    struct bx_ci ci = bx_ci_student(c->p95, n, c->run.o->confidence);
    struct bx_ci u = bx_ci_student(c->util, n, c->run.o->confidence);
    out->value = ci.value;
    out->lo = isfinite(ci.lo) ? fmax(0, ci.lo) : ci.lo;
    out->hi = ci.hi;
    out->utilization = u.value;
    return BX_OK;
}

enum bx_status bx_size_tvs(const struct bx_ports_config *cfg, const struct bx_size_opts *o,
                           struct bx_size_tvs_result *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    if (!cfg->tvs.on)
        return BX_FAIL(err, BX_EINVAL, "the scenario has no `tvs` to size");
    if (o->replications < 2)
        return BX_FAIL(err, BX_EINVAL, "sizing needs at least 2 replications");
    struct tvs_ctx c = {.run = {.cfg = *cfg, .o = o}};
    c.run.cfg.progress = NULL;
    c.run.cfg.window_from_s = c.run.cfg.window_to_s = 0;
    c.run.cfg.horizon_s = fmin(cfg->horizon_s, 86400); /* arrivals repeat daily */
    c.run.reps = calloc(o->replications, sizeof *c.run.reps);
    c.p95 = calloc(o->replications, sizeof *c.p95);
    c.util = calloc(o->replications, sizeof *c.util);
    c.run.cache = calloc(o->replications, sizeof *c.run.cache);
    enum bx_status st = BX_OK;
    for (uint32_t r = 0; c.run.cache && r < o->replications; ++r)
        if ((c.run.cache[r] = bx_ports_cache_alloc()) == NULL)
            st = BX_ENOMEM;
    if (st != BX_OK || !c.run.reps || !c.p95 || !c.util || !c.run.cache) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    /* Baseline: the scenario's own workers; the busiest hour's rate and the service time give
     * the M/M/c starting level for the p95 queue wait left after the network and the service. */
    struct bx_size_point base;
    if ((st = simulate(&c, cfg->tvs.workers, &base, err)) != BX_OK)
        goto done;
    double peak = 0;
    for (uint32_t r = 0; r < o->replications; ++r)
        peak = fmax(peak, c.run.reps[r].tvs.peak_per_s);
    double mean_s = bx_dist_mean(&cfg->tvs.service), lat = 0;
    for (int t = 0; t < BX_N_PORT_TYPES; ++t)
        lat = fmax(lat, bx_dist_mean(&cfg->tvs.latency[t]));
    double left = o->target_p95_s - lat - 3 * mean_s; /* the service's own p95, roughly */
    out->peak_per_s = peak;
    out->service_mean_s = mean_s;
    unsigned approx = peak > 0 && left > 0 ? bx_size_approx_level(peak, mean_s, 1, 1, 0.95, left)
                                           : (unsigned)ceil(fmax(1, peak * mean_s / 0.7));
    st = bx_size_search(approx, 1, o->max_level, o->target_p95_s, simulate, &c, &out->search, err);
done:
    for (uint32_t r = 0; c.run.reps && r < o->replications; ++r)
        bx_ports_result_fini(&c.run.reps[r]);
    for (uint32_t r = 0; c.run.cache && r < o->replications; ++r)
        bx_ports_cache_free(c.run.cache[r]);
    free(c.run.cache);
    free(c.run.reps);
    free(c.p95);
    free(c.util);
    return st;
}
