/* SPDX-License-Identifier: MIT */
/* port_tvs.c - the shared matching service (CBP's Traveler Verification Service) that every
 * port's requests go through when the scenario declares `tvs` (struct bx_tvs_config).
 *
 * A photographed traveller's request travels to the service (half the port type's network round
 * trip, drawn once per request), queues for one of the service's workers, is served (a draw of
 * `service`), and its answer travels back; the traveller holds the camera or lane meanwhile. The
 * decision itself was computed ahead (port_match.c): the service decides when the answer comes,
 * not what it says. While the service is down (fixed windows, or random outages) it answers
 * nothing: a request that reaches it then goes to the fallback at once (manual) or waits up to
 * hold_timeout_s for it to return (hold), as does one already queued when it goes down.
 */
#define _POSIX_C_SOURCE 200809L
#include "port_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

static void tvs_arrive(struct bx_sim *sim, void *obj, int64_t arg);
static void tvs_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s);
static void tvs_done(struct bx_sim *sim, void *obj, int64_t arg);
static void tvs_reply(struct bx_sim *sim, void *obj, int64_t arg);
static void tvs_renege(struct bx_sim *sim, void *obj, int64_t arg, double waited_s);
static void tvs_down(struct bx_sim *sim, void *obj, int64_t arg);
static void tvs_up(struct bx_sim *sim, void *obj, int64_t arg);

#define RANDOM_OUTAGE 1 /* event arg of a random outage (fixed windows use 0) */

/* Outage time within the horizon up to @p now. */
static void account(struct run *r, double now)
{
    double h = r->cfg->horizon_s;
    if (r->tvs_depth > 0 && fmin(now, h) > fmin(r->tvs_since, h))
        r->out->tvs.outage_s += fmin(now, h) - fmin(r->tvs_since, h);
    r->tvs_since = now;
}

static void schedule_random_outage(struct run *r, double now)
{
    const struct bx_tvs_config *c = &r->cfg->tvs;
    if (!(c->outage_mtbf_s > 0))
        return;
    double t = now + gsl_ran_exponential(r->tvs_rng, c->outage_mtbf_s);
    if (t < r->cfg->horizon_s)
        bx_sim_schedule(r->sim, t, 0, tvs_down, r, RANDOM_OUTAGE);
}

enum bx_status bx_port__tvs_init(struct run *r, struct bx_error *err)
{
    const struct bx_tvs_config *c = &r->cfg->tvs;
    if (!c->on)
        return BX_OK;
    struct bx_resource_config rc = bx_resource_config_default();
    rc.name = "tvs";
    rc.servers = c->workers;
    rc.on_renege = tvs_renege;
    size_t hours = bx_ports_hours(r->cfg);
    r->tvs = bx_resource_alloc(&rc, err);
    r->out->tvs.hourly = calloc(hours ? hours : 1, sizeof *r->out->tvs.hourly);
    r->out->tvs.n_hours = hours;
    r->tvs_rng = bx_streams_get(r->streams, "tvs", err);
    if (r->tvs == NULL || r->out->tvs.hourly == NULL || r->tvs_rng == NULL)
        return bx_err_code(err, BX_ENOMEM);
    for (size_t k = 0; k < c->n_outages; ++k) {
        bx_sim_schedule(r->sim, c->outages[k].from_s, 0, tvs_down, r, 0);
        bx_sim_schedule(r->sim, c->outages[k].to_s, 0, tvs_up, r, 0);
    }
    schedule_random_outage(r, 0);
    return BX_OK;
}

void bx_port__tvs_fini(struct run *r)
{
    bx_resource_free(r->tvs);
}

void bx_port__tvs_send(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    const struct bx_port_config *pc = r->ports[t->port].cfg;
    double lat = bx_dist_sample(&r->cfg->tvs.latency[pc->type], r->tvs_rng);
    t->t_sent = bx_sim_now(r->sim);
    t->lat_back = lat / 2;
    bx_sim_schedule(r->sim, t->t_sent + lat / 2, 0, tvs_arrive, r, i);
}

static void tvs_arrive(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    const struct bx_tvs_config *c = &r->cfg->tvs;
    double now = bx_sim_now(sim);
    size_t h = (size_t)(now / 3600);
    if (h < r->out->tvs.n_hours)
        r->out->tvs.hourly[h]++;
    r->out->tvs.requests++;
    if (r->tvs_depth > 0 && !c->fallback_hold) {
        r->out->tvs.fallback_manual++;
        r->tr[arg].no_answer = true;
        bx_sim_schedule(sim, now + r->tr[arg].lat_back, 0, tvs_reply, r, arg);
        return;
    }
    bx_resource_request(r->tvs, sim, 0, c->fallback_hold ? c->hold_timeout_s : BX_INF, tvs_grant, r,
                        arg);
}

static void tvs_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct run *r = obj;
    (void)wait_s;
    bx_sim_schedule(sim, bx_sim_now(sim) + bx_dist_sample(&r->cfg->tvs.service, r->tvs_rng), 0,
                    tvs_done, r, arg);
}

static void tvs_done(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    bx_resource_release(r->tvs, sim);
    bx_sim_schedule(sim, bx_sim_now(sim) + r->tr[arg].lat_back, 0, tvs_reply, r, arg);
}

/* A request that waited hold_timeout_s for a service that stayed down: the fallback. */
static void tvs_renege(struct bx_sim *sim, void *obj, int64_t arg, double waited_s)
{
    struct run *r = obj;
    (void)waited_s;
    r->out->tvs.fallback_timeout++;
    r->tr[arg].no_answer = true;
    bx_sim_schedule(sim, bx_sim_now(sim) + r->tr[arg].lat_back, 0, tvs_reply, r, arg);
}

static void tvs_reply(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct trav *t = &r->tr[arg];
    t->answer_s = bx_sim_now(sim) - t->t_sent;
    if (!t->no_answer) {
        bx_tally_add(&r->out->tvs.response, t->answer_s);
        bx_quantiles_add(r->out->tvs.response_q, t->answer_s);
    }
    bx_port__answered(r, (uint32_t)arg);
}

static void tvs_down(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    const struct bx_tvs_config *c = &r->cfg->tvs;
    account(r, bx_sim_now(sim));
    if (r->tvs_depth++ == 0)
        bx_resource_set_capacity(r->tvs, sim, 0);
    if (arg == RANDOM_OUTAGE)
        bx_sim_schedule(sim, bx_sim_now(sim) + gsl_ran_exponential(r->tvs_rng, c->outage_mttr_s), 0,
                        tvs_up, r, RANDOM_OUTAGE);
}

static void tvs_up(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    account(r, bx_sim_now(sim));
    if (--r->tvs_depth == 0)
        bx_resource_set_capacity(r->tvs, sim, r->cfg->tvs.workers);
    if (arg == RANDOM_OUTAGE)
        schedule_random_outage(r, bx_sim_now(sim));
}

void bx_port__tvs_horizon(struct run *r, double now)
{
    if (r->tvs == NULL)
        return;
    account(r, now);
    struct bx_resource_stats rs;
    bx_resource_stats(r->tvs, now, &rs);
    /* Busy workers over the service's full strength (an outage counts as idle capacity). */
    r->out->tvs.utilization = rs.busy_mean / r->cfg->tvs.workers;
    uint64_t peak = 0;
    for (size_t h = 0; h < r->out->tvs.n_hours; ++h)
        peak = r->out->tvs.hourly[h] > peak ? r->out->tvs.hourly[h] : peak;
    r->out->tvs.peak_per_s = (double)peak / 3600;
}
