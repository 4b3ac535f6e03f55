/* SPDX-License-Identifier: MIT */
/* port_equipment.c - equipment that fails and is repaired: gate cameras, e-gates, vehicle lanes
 * and mobile units (the scenario's `equipment`, struct bx_failure_config).
 *
 * The units behind one resource (a gate's camera servers, a land port's lanes or mobile units)
 * form a pool. Each unit alternates between working and broken on its own: it fails after an
 * exponential time with mean mtbf_s and is repaired after a draw of `repair`, independently of
 * the other units and of load. The pool's rollout (camera_rollout, lanes.rollout) says how many
 * units are in service from when; the resource's capacity is the number of units in service that
 * work. A traveller who finds none working is not photographed (port_arrive.c decides where the
 * traveller goes); a unit that fails while busy finishes its traveller.
 *
 * Availability (working units in service over units in service, time-averaged over the horizon),
 * failures and the time with no unit working are recorded in bx_port_equipment. With failures
 * off for a port's device, none of this runs and the rollout is the resource's own schedule.
 */
#define _POSIX_C_SOURCE 200809L
#include "port_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

static void unit_fail(struct bx_sim *sim, void *obj, int64_t arg);
static void unit_repair(struct bx_sim *sim, void *obj, int64_t arg);
static void pool_step(struct bx_sim *sim, void *obj, int64_t arg);

void bx_failure_defaults(enum bx_device device, double *mtbf_h, double *mttr_h)
{
    /* Assumptions (docs/scenarios.md): no failure rates are published for CBP's cameras. A
     * fixed gate camera or e-gate fails about once a month of continuous use and is fixed in a
     * few hours by a technician; a vehicle-lane camera outdoors fails more often and takes
     * longer; a handheld mobile unit fails most often (drops, batteries) and is swapped fast. */
    static const double mtbf[BX_N_DEVICES] = {0, 500, 700, 200, 300, 400};
    static const double mttr[BX_N_DEVICES] = {0, 4, 4, 0.5, 8, 4};
    *mtbf_h = (unsigned)device < BX_N_DEVICES ? mtbf[device] : 0;
    *mttr_h = (unsigned)device < BX_N_DEVICES ? mttr[device] : 0;
}

/* Count the units of @p pl in service that work (when the rollout changes the service). */
static unsigned count_working(const struct run *r, const struct pool *pl)
{
    unsigned up = 0;
    for (uint32_t u = 0; u < pl->nominal && u < pl->n; ++u)
        up += r->units[pl->first + u].up;
    return up;
}

/* Units of @p pl in service that work (kept up to date by failures, repairs and steps: asked at
 * every arrival). */
static unsigned working(const struct run *r, const struct pool *pl)
{
    (void)r;
    return pl->up;
}

/* Add the time since the pool's last change to its port's records (within the horizon). */
static void account(struct run *r, struct pool *pl, double now)
{
    double h = r->cfg->horizon_s, a = fmin(pl->t_last, h), b = fmin(now, h);
    if (b > a) {
        struct bx_port_equipment *e = &r->out->ports[pl->port].equipment;
        unsigned up = working(r, pl);
        e->up_unit_s += (b - a) * up;
        e->service_unit_s += (b - a) * pl->nominal;
        if (pl->nominal > 0 && up == 0)
            e->outage_s += b - a;
    }
    pl->t_last = now;
}

static void set_capacity(struct run *r, struct pool *pl)
{
    bx_resource_set_capacity(pl->res, r->sim, working(r, pl));
}

static void schedule_failure(struct run *r, uint32_t unit, double now)
{
    const struct pool *pl = &r->pools[r->units[unit].pool];
    struct port_rt *p = &r->ports[pl->port];
    const struct bx_failure_config *f = &r->cfg->failures[p->cfg->device];
    gsl_rng *g = r->units[unit].rng;
    double t = now + (bx_dist_mean(&f->up) > 0 ? bx_dist_sample(&f->up, g)
                                               : gsl_ran_exponential(g, f->mtbf_s));
    /* No failure begins after the horizon: the run then only drains its queues. */
    if (t < r->cfg->horizon_s)
        bx_sim_schedule(r->sim, t, 0, unit_fail, r, unit);
}

enum bx_status bx_port__pool_add(struct run *r, uint32_t pi, struct bx_resource *res,
                                 unsigned initial, const struct bx_capacity_step *steps,
                                 size_t n_steps, uint32_t *pool, struct bx_error *err)
{
    unsigned most = n_steps ? 0 : initial;
    for (size_t k = 0; k < n_steps; ++k)
        most = steps[k].servers > most ? steps[k].servers : most;
    if (r->n_pools == r->cap_pools) {
        size_t cap = r->cap_pools ? 2 * r->cap_pools : 16;
        struct pool *np = realloc(r->pools, cap * sizeof *np);
        if (np == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory for equipment");
        r->pools = np;
        r->cap_pools = cap;
    }
    struct unit *nu = realloc(r->units, (r->n_units + most + 1) * sizeof *nu);
    if (nu == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for equipment");
    r->units = nu;
    uint32_t id = (uint32_t)r->n_pools++;
    if (r->ports[pi].equip_key == 0)
        r->ports[pi].equip_key = gsl_rng_get(r->ports[pi].equip) | 1;
    struct pool *pl = &r->pools[id];
    *pl = (struct pool){.res = res,
                        .port = pi,
                        .first = (uint32_t)r->n_units,
                        .n = most,
                        .nominal = n_steps ? steps[0].servers : initial,
                        .steps = steps,
                        .n_steps = n_steps};
    /* Each unit draws from its own generator, keyed by the port's equipment stream, the pool's
     * place in the port (gate) and the unit's place in the pool: unit k of gate g fails at the
     * same times whatever the number of units (common random numbers across sizing levels). */
    uint32_t place = 0;
    for (size_t k = 0; k < id; ++k)
        place += r->pools[k].port == pi;
    for (uint32_t u = 0; u < most; ++u) {
        gsl_rng *g = gsl_rng_alloc(bx_rng_xoshiro256pp);
        if (g == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory for equipment");
        gsl_rng_set(g, (unsigned long)bx_hash64(r->ports[pi].equip_key ^
                                                bx_hash64(((uint64_t)place << 32) | u)));
        r->units[pl->first + u] = (struct unit){id, true, g};
        r->n_units++;
    }
    r->out->ports[pi].equipment.units += most;
    for (uint32_t u = 0; u < most; ++u)
        schedule_failure(r, pl->first + u, 0);
    pl->up = count_working(r, pl);
    set_capacity(r, pl);
    for (size_t k = 1; k < n_steps; ++k)
        bx_sim_schedule(r->sim, steps[k].t_s, 0, pool_step, r, ((int64_t)id << 16) | (int64_t)k);
    *pool = id;
    return BX_OK;
}

bool bx_port__pool_out(const struct run *r, uint32_t pool)
{
    if (pool == BX_NO_POOL)
        return false;
    const struct pool *pl = &r->pools[pool];
    return pl->nominal > 0 && working(r, pl) == 0;
}

static void unit_fail(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct unit *u = &r->units[arg];
    struct pool *pl = &r->pools[u->pool];
    struct port_rt *p = &r->ports[pl->port];
    account(r, pl, bx_sim_now(sim));
    u->up = false;
    if ((uint32_t)arg - pl->first < pl->nominal) {
        r->out->ports[pl->port].equipment.failures++;
        pl->up--;
    }
    set_capacity(r, pl);
    double repair = bx_dist_sample(&r->cfg->failures[p->cfg->device].repair, u->rng);
    bx_sim_schedule(sim, bx_sim_now(sim) + repair, 0, unit_repair, r, arg);
}

static void unit_repair(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct unit *u = &r->units[arg];
    struct pool *pl = &r->pools[u->pool];
    account(r, pl, bx_sim_now(sim));
    u->up = true;
    pl->up += (uint32_t)arg - pl->first < pl->nominal;
    set_capacity(r, pl);
    schedule_failure(r, (uint32_t)arg, bx_sim_now(sim));
}

static void pool_step(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct pool *pl = &r->pools[arg >> 16];
    account(r, pl, bx_sim_now(sim));
    pl->nominal = pl->steps[arg & 0xffff].servers;
    pl->up = count_working(r, pl);
    set_capacity(r, pl);
}

void bx_port__equipment_fini(struct run *r)
{
    for (size_t k = 0; r->units && k < r->n_units; ++k)
        gsl_rng_free(r->units[k].rng);
    free(r->units);
    free(r->pools);
}

void bx_port__equipment_horizon(struct run *r, double now)
{
    for (size_t k = 0; k < r->n_pools; ++k)
        account(r, &r->pools[k], now);
}
