/* SPDX-License-Identifier: MIT */
/* port_arrive.c - how travellers come to a port: land crossings (vehicle lanes and pedestrian
 * mobile units: blocks of arrivals drawn ahead and matched in batches, each crossing through a
 * lane) and departures at manifest ports (air, sea, private aircraft: a manifest per departure,
 * enrolled as the departure's gallery, its passengers' arrivals scheduled before boarding).
 * From the camera on, port_flow.c takes over. */
#define _POSIX_C_SOURCE 200809L
#include "port_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "bx/matcher.h"

static void arrive(struct bx_sim *sim, void *obj, int64_t arg);
static bool grow_travellers(struct run *r, size_t more);
static void land_arrival(struct bx_sim *sim, void *obj, int64_t arg);
static void lane_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s);
static void lane_done(struct bx_sim *sim, void *obj, int64_t arg);

/* ---------------------------------------------------------------- departures */

/* Board departure arg (port in the high 32 bits): draw its passengers, enrol the manifest,
 * schedule their arrivals. */
void bx_port__open_departure(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    uint32_t pi = (uint32_t)(arg >> 32), di = (uint32_t)(arg & 0xffffffff);
    struct port_rt *p = &r->ports[pi];
    const struct bx_port_config *c = p->cfg;
    struct dep *d = &p->deps[di];
    unsigned n = gsl_ran_poisson(p->pop, c->passengers_mean - 1) + 1;
    if (!grow_travellers(r, n)) {
        bx_port__fail(r, NULL);
        return;
    }
    d->first = (uint32_t)r->n_tr;
    d->n = n;
    size_t dim = bx_tplgen_dim(r->gen);
    struct bx_error err = {0};
    struct bx_store *gallery = bx_store_alloc(dim, n, &err);
    float *docs = malloc((size_t)n * dim * sizeof *docs);
    int64_t *ids = malloc(n * sizeof *ids);
    double *times = malloc(n * sizeof *times);
    struct bx_tpl_job *jobs = malloc(n * sizeof *jobs);
    if (gallery == NULL || docs == NULL || ids == NULL || times == NULL || jobs == NULL) {
        bx_store_free(gallery);
        free(docs);
        free(ids);
        free(times);
        free(jobs);
        bx_port__fail(r, NULL);
        return;
    }
    struct bx_capture doc_cap = {BX_DEVICE_DOCUMENT, 1.0, 0.0};
    for (unsigned k = 0; k < n; ++k) {
        struct trav *t = &r->tr[r->n_tr + k];
        bx_port__new_traveller(r, pi, (uint32_t)(r->n_tr + k), false);
        t->dep = di;
        t->row = k;
        jobs[k] = (struct bx_tpl_job){t->t.impostor ? r->gen_doc[pi] : r->gen, t->doc, doc_cap, 0,
                                      docs + (size_t)k * dim};
        ids[k] = t->doc.id;
    }
    r->n_tr += n;
    double t0 = bx_wall_s();
    bx_port_generate(jobs, n, bx_port__gen_threads(r));
    r->out->match_wall_s += bx_wall_s() - t0;
    /* The manifest gallery lives only while its passengers are matched (ahead, here). */
    if (bx_store_add(gallery, docs, n, ids, NULL, &err) != BX_OK ||
        bx_port__match_batch(r, gallery, d->first, d->first + n, &err) != BX_OK)
        bx_port__fail(r, &err);
    bx_store_free(gallery);
    free(jobs);
    bx_arrival_wave(p->arrivals, n, d->t_dep - c->open_s, d->t_dep - c->peak_s,
                    d->t_dep - c->close_s, times);
    for (unsigned k = 0; k < n; ++k)
        bx_sim_schedule(sim, fmax(times[k], bx_sim_now(sim)), 0, arrive, r,
                        (int64_t)d->first + (int64_t)k);
    free(times);
    free(ids);
    free(docs);
}

/* A passenger reaches the departure gate and queues for its camera or e-gate. */
static void arrive(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct trav *t = &r->tr[arg];
    struct port_rt *p = &r->ports[t->port];
    t->t_arrive = bx_sim_now(sim);
    unsigned g = p->deps[t->dep].gate;
    if (p->gate_pool && bx_port__pool_out(r, p->gate_pool[g])) {
        bx_port__no_camera(r, (uint32_t)arg); /* every camera of the gate is broken */
        return;
    }
    /* With failing cameras a passenger waits for one at most until the departure leaves. */
    double patience = p->gate_pool ? fmax(0, p->deps[t->dep].t_dep - t->t_arrive) : BX_INF;
    bx_resource_request(p->gates[g], sim, 0, patience, bx_port__camera_grant, r, arg);
}

/* ---------------------------------------------------------------- land crossings */

static bool grow_travellers(struct run *r, size_t more)
{
    if (r->n_tr + more <= r->cap_tr)
        return true;
    size_t cap = r->cap_tr ? r->cap_tr : 4096;
    while (cap < r->n_tr + more)
        cap *= 2;
    struct trav *tr = realloc(r->tr, cap * sizeof *tr);
    if (tr == NULL)
        return false;
    r->tr = tr;
    r->cap_tr = cap;
    return true;
}

/* Draw land port arg's next block of arrivals (about LAND_BLOCK travellers), schedule them and
 * match them; the next block is drawn when the block's last arrival comes. Each stream is drawn
 * in the same order as arrival by arrival. */
void bx_port__land_block(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    uint32_t pi = (uint32_t)arg;
    struct port_rt *p = &r->ports[pi];
    const struct bx_port_config *c = p->cfg;
    size_t i0 = r->n_tr;
    double last = bx_sim_now(sim);
    while (p->next_arrival < r->cfg->horizon_s && r->n_tr - i0 < LAND_BLOCK) {
        unsigned n = c->land.lane_kind == BX_LANE_VEHICLE ? bx_pop_party_size(&c->pop, p->pop) : 1;
        if (!grow_travellers(r, n)) {
            bx_port__fail(r, NULL);
            return;
        }
        uint32_t first = (uint32_t)r->n_tr;
        for (unsigned k = 0; k < n; ++k) {
            bx_port__new_traveller(r, pi, first + k, true);
            r->tr[first + k].t_arrive = p->next_arrival;
            r->tr[first + k].dep = first; /* land: the vehicle's first traveller */
        }
        r->tr[first].group_n = n;
        r->n_tr += n;
        bx_sim_schedule(sim, p->next_arrival, 0, land_arrival, r, first);
        last = p->next_arrival;
        p->next_arrival = bx_arrival_next(&c->land.arrivals, p->arrivals, p->next_arrival);
    }
    struct bx_error err = {0};
    if (bx_port__match_batch(r, p->expected, i0, r->n_tr, &err) != BX_OK) {
        bx_port__fail(r, &err);
        return;
    }
    if (p->next_arrival < r->cfg->horizon_s)
        bx_sim_schedule(sim, last, 0, bx_port__land_block, r, arg);
}

/* A vehicle or a pedestrian (traveller arg and its occupants) arrives at its land port. */
static void land_arrival(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct port_rt *p = &r->ports[r->tr[arg].port];
    if (bx_port__pool_out(r, p->lane_pool)) {
        /* Every lane camera or mobile unit is broken: the occupants go to the officers. */
        for (uint32_t k = 0; k < r->tr[arg].group_n; ++k)
            bx_port__no_camera(r, (uint32_t)arg + k);
        return;
    }
    bx_resource_request(p->lanes, sim, 0, BX_INF, lane_grant, r, arg);
}

/* A lane is free: capture each occupant in turn (time, FTA, retries, opt-out). */
static void lane_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct run *r = obj;
    uint32_t first = (uint32_t)arg, n = r->tr[first].group_n;
    struct port_rt *p = &r->ports[r->tr[first].port];
    if (bx_port__in_window(r, r->tr[first].t_arrive))
        bx_quantiles_add(r->out->ports[r->tr[first].port].lane_wait_q, wait_s);
    double busy = 0;
    for (uint32_t k = 0; k < n; ++k)
        busy += bx_port__capture(r, p, &r->tr[first + k]);
    bx_sim_schedule(sim, bx_sim_now(sim) + busy, 0, lane_done, r, arg);
}

/* Every occupant's answer is in: the vehicle (or pedestrian) leaves its lane; every occupant is
 * decided, then routed. */
static void lane_leave(struct run *r, uint32_t first)
{
    uint32_t n = r->tr[first].group_n;
    bx_resource_release(r->ports[r->tr[first].port].lanes, r->sim);
    for (uint32_t k = 0; k < n && !r->failed; ++k)
        bx_port__decide(r, first + k);
    for (uint32_t k = 0; k < n; ++k)
        bx_port__route(r, first + k);
}

/* The captures are done: without a shared matching service the answers came with them; with
 * one, each photographed occupant's request goes to it and the lane waits for the last answer. */
static void lane_done(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    uint32_t first = (uint32_t)arg, n = r->tr[first].group_n, sent = 0;
    (void)sim;
    if (r->cfg->tvs.on)
        for (uint32_t k = 0; k < n; ++k)
            sent += r->tr[first + k].has_photo;
    if (sent == 0) {
        lane_leave(r, first);
        return;
    }
    r->tr[first].pending = sent;
    for (uint32_t k = 0; k < n; ++k)
        if (r->tr[first + k].has_photo)
            bx_port__tvs_send(r, first + k);
}

void bx_port__lane_answered(struct run *r, uint32_t i)
{
    uint32_t first = r->tr[i].dep;
    if (--r->tr[first].pending == 0)
        lane_leave(r, first);
}
