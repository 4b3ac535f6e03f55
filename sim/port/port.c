/* SPDX-License-Identifier: MIT */
/* port.c - one replication of a ports scenario (bx_ports_run, bx/port.h): the run's state set up
 * (ports, resources, galleries, thresholds, random streams), the first departures and land
 * blocks scheduled (port_arrive.c), the travellers' way through the ports (port_flow.c), hourly
 * snapshots and the statistics of the sizing window and the horizon. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "port_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "bx/matcher.h"

/* Snapshot queues, busy and open cameras or lanes of every port at the start of each hour. */
static void hourly_snapshot(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    size_t h = (size_t)arg;
    for (size_t i = 0; i < r->cfg->n_ports; ++i) {
        struct port_rt *p = &r->ports[i];
        struct bx_port_result *pr = &r->out->ports[i];
        if (pr->hourly == NULL || h >= pr->n_hours)
            continue;
        double q = 0, b = 0, c = 0;
        if (p->lanes) {
            q = (double)bx_resource_queue_len(p->lanes);
            b = bx_resource_busy(p->lanes);
            c = bx_resource_capacity(p->lanes);
        }
        for (unsigned g = 0; p->gates && g < p->cfg->gates; ++g) {
            q += (double)bx_resource_queue_len(p->gates[g]);
            b += bx_resource_busy(p->gates[g]);
            c += bx_resource_capacity(p->gates[g]);
        }
        pr->hourly[h].queue = q;
        pr->hourly[h].busy = b;
        pr->hourly[h].capacity = c;
    }
    if (r->cfg->progress)
        r->cfg->progress(r->cfg->progress_ctx, r->rep,
                         fmin(1.0, (double)h * 3600 / r->cfg->horizon_s));
    if (h + 1 < r->out->ports[0].n_hours && (double)(h + 1) * 3600 <= r->cfg->horizon_s)
        bx_sim_schedule(sim, (double)(h + 1) * 3600, BX_PRIO_MIN, hourly_snapshot, r,
                        (int64_t)(h + 1));
}

/* ---------------------------------------------------------------- one replication */

static void run_fini(struct run *r)
{
    if (r->ports) {
        for (size_t i = 0; i < r->cfg->n_ports; ++i) {
            struct port_rt *p = &r->ports[i];
            if (p->cfg == NULL)
                continue;
            if (p->gates)
                for (unsigned g = 0; g < p->cfg->gates; ++g)
                    bx_resource_free(p->gates[g]);
            free(p->gates);
            free(p->gate_pool);
            bx_resource_free(p->officers);
            bx_resource_free(p->secondary);
            bx_resource_free(p->lanes);
            bx_store_free(p->expected);
            free(p->expected_subjects);
            free(p->deps);
        }
    }
    free(r->ports);
    bx_port__equipment_fini(r);
    bx_port__tvs_fini(r);
    for (size_t i = 0; r->gen_doc && i < r->cfg->n_ports; ++i)
        bx_tplgen_free(r->gen_doc[i]);
    free(r->gen_doc);
    free(r->tr);
    free(r->wl_subjects);
    bx_store_free(r->watchlist);
    bx_tplgen_free(r->gen);
    bx_streams_free(r->streams);
    bx_sim_free(r->sim);
    free(r->thr);
    bx_free_aligned(r->doc);
    bx_free_aligned(r->live);
}

/* A land port: the expected-traveller gallery (document photos of people drawn from the
 * port's population), the lanes with their rollout schedule, the first arrival. */
static enum bx_status land_init(struct run *r, size_t i, struct bx_error *err)
{
    struct port_rt *p = &r->ports[i];
    const struct bx_port_config *c = p->cfg;
    size_t G = c->land.expected_gallery, dim = bx_tplgen_dim(r->gen), slab = 4096;
    p->expected = bx_store_alloc(dim, G, err);
    p->expected_subjects = calloc(G, sizeof *p->expected_subjects);
    float *buf = malloc(slab * dim * sizeof *buf);
    int64_t *ids = malloc(slab * sizeof *ids);
    struct bx_tpl_job *jobs = malloc(slab * sizeof *jobs);
    enum bx_status st = BX_OK;
    if (!p->expected || !p->expected_subjects || !buf || !ids || !jobs) {
        st = BX_FAIL(err, BX_ENOMEM, "port '%s': cannot allocate the expected gallery", c->name);
        goto done;
    }
    struct bx_capture dc = {BX_DEVICE_DOCUMENT, 1.0, 0.0};
    for (size_t g0 = 0; g0 < G && st == BX_OK; g0 += slab) {
        size_t m = G - g0 < slab ? G - g0 : slab;
        for (size_t k = 0; k < m; ++k) {
            struct bx_traveller t;
            bx_pop_draw(&c->pop, p->pop, -1 - (int64_t)(g0 + k), &t);
            double enrol_age = fmax(0, t.age_years - t.photo_age_years);
            struct bx_subject *s = &p->expected_subjects[g0 + k];
            *s = (struct bx_subject){r->next_subject++,         t.sex,     t.region,
                                     bx_age_band_of(enrol_age), enrol_age, -1};
            jobs[k] = (struct bx_tpl_job){r->gen, *s, dc, 0, buf + k * dim};
            ids[k] = s->id;
        }
        bx_port_generate(jobs, m, bx_port__gen_threads(r));
        st = bx_store_add(p->expected, buf, m, ids, NULL, err);
    }
    if (st != BX_OK)
        goto done;
    struct bx_resource_config rc = bx_resource_config_default();
    rc.name = c->name;
    rc.servers = c->land.n_schedule || p->equip ? 0 : c->land.lanes;
    if ((p->lanes = bx_resource_alloc(&rc, err)) == NULL) {
        st = bx_err_code(err, BX_ENOMEM);
        goto done;
    }
    /* Lanes or mobile units: fixed, following the rollout, and failing where the device does. */
    if (p->equip)
        st = bx_port__pool_add(r, (uint32_t)i, p->lanes, c->land.lanes, c->land.schedule,
                               c->land.n_schedule, &p->lane_pool, err);
    else if (c->land.n_schedule)
        st = bx_resource_schedule_capacity(p->lanes, r->sim, c->land.schedule, c->land.n_schedule,
                                           0, err);
    if (st != BX_OK)
        goto done;
    p->next_arrival = bx_arrival_next(&c->land.arrivals, p->arrivals, 0);
    if (p->next_arrival < r->cfg->horizon_s)
        bx_sim_schedule(r->sim, 0, 0, bx_port__land_block, r, (int64_t)i);
done:
    free(jobs);
    free(ids);
    free(buf);
    return st;
}

static enum bx_status run_init(struct run *r, const struct bx_ports_config *cfg, uint64_t seed,
                               uint32_t rep, struct bx_ports_result *out, struct bx_error *err)
{
    char name[BX_NAME_MAX + 32];
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->out = out;
    r->rep = rep;
    r->sim = bx_sim_alloc(1024, err);
    r->streams = bx_streams_alloc(seed, rep, NULL, err);
    /* Templates: the profile's world, re-keyed by the run's seed and replication. */
    struct bx_tplgen_params tp = cfg->profile;
    tp.seed = bx_rng_seed(cfg->profile.seed ^ seed, rep, "ports/templates");
    r->gen = bx_tplgen_alloc(&tp, err);
    r->ports = calloc(cfg->n_ports, sizeof *r->ports);
    r->live = bx_alloc_aligned(MATCH_BATCH * tp.dim * sizeof(float));
    r->doc = bx_alloc_aligned(MATCH_BATCH * tp.dim * sizeof(float));
    r->gen_doc = calloc(cfg->n_ports, sizeof *r->gen_doc);
    r->thr = calloc(3 * cfg->n_ports, sizeof *r->thr);
    if (!r->sim || !r->streams || !r->gen || !r->ports || !r->live || !r->gen_doc || !r->doc ||
        !r->thr)
        return err && err->code ? err->code : BX_FAIL(err, BX_ENOMEM, "out of memory");
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        /* Same world (seed, axes, centres); only the look-alike cosine differs. */
        struct bx_tplgen_params dp = tp;
        dp.lookalike_cosine = cfg->ports[i].impostor_similarity;
        if ((r->gen_doc[i] = bx_tplgen_alloc(&dp, err)) == NULL)
            return bx_err_code(err, BX_ENOMEM);
    }
    /* Thresholds from the profile's own world (not re-keyed), identical in every replication. */
    struct bx_tplgen *cal = bx_tplgen_alloc(&cfg->profile, err);
    enum bx_status st = cal ? bx_port__thresholds(cfg, cal, r->thr, err) : BX_ENOMEM;
    bx_tplgen_free(cal);
    if (st != BX_OK)
        return st;
    /* Each port's own; the run-level triple is the first port's (results.h5 /matching, kept for
     * older readers). */
    for (size_t i = 0; i < cfg->n_ports; ++i)
        memcpy(out->ports[i].thr, &r->thr[3 * i], sizeof out->ports[i].thr);
    for (int k = 0; k < 3; ++k)
        out->thresholds[k] = r->thr[k].value;
    size_t hours = bx_ports_hours(cfg);
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        out->ports[i].hourly = calloc(hours, sizeof *out->ports[i].hourly);
        if (out->ports[i].hourly == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        out->ports[i].n_hours = hours;
    }
    if ((st = bx_port__tvs_init(r, err)) != BX_OK)
        return st;
    /* The watch list. */
    r->wl_rng = bx_streams_get(r->streams, "ports/watchlist", err);
    size_t W = cfg->watchlist_size;
    r->watchlist = bx_store_alloc(tp.dim, W, err);
    r->wl_subjects = calloc(W ? W : 1, sizeof *r->wl_subjects);
    float *wv = malloc((W ? W : 1) * tp.dim * sizeof *wv);
    int64_t *wid = malloc((W ? W : 1) * sizeof *wid);
    if (!r->wl_rng || !r->watchlist || !r->wl_subjects || !wv || !wid) {
        free(wv);
        free(wid);
        return err && err->code ? err->code : BX_FAIL(err, BX_ENOMEM, "out of memory");
    }
    struct bx_demog_mix mix = bx_demog_mix_default();
    struct bx_capture mug = {BX_DEVICE_DOCUMENT, 1.0, 0.0};
    r->next_subject = 1;
    for (size_t w = 0; w < W; ++w) {
        bx_tplgen_subject(r->gen, r->next_subject++, &mix, &r->wl_subjects[w]);
        r->wl_subjects[w].lookalike_of = -1;
        bx_tplgen_capture(r->gen, &r->wl_subjects[w], &mug, 7, wv + w * tp.dim);
        wid[w] = r->wl_subjects[w].id;
    }
    st = bx_store_add(r->watchlist, wv, W, wid, NULL, err);
    free(wv);
    free(wid);
    if (st != BX_OK)
        return st;
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        struct port_rt *p = &r->ports[i];
        const struct bx_port_config *c = &cfg->ports[i];
        p->cfg = c;
        p->lane_pool = BX_NO_POOL;
        const char *kinds[] = {"pop", "arrivals", "capture", "manual", "service", "equipment"};
        gsl_rng **dst[] = {&p->pop, &p->arrivals, &p->capture, &p->manual, &p->service, &p->equip};
        /* The equipment stream exists only where the port's device fails. */
        int n_kinds = cfg->failures[c->device].on ? 6 : 5;
        for (int k = 0; k < n_kinds; ++k) {
            snprintf(name, sizeof name, "ports/%s/%s", c->name, kinds[k]);
            if ((*dst[k] = bx_streams_get(r->streams, name, err)) == NULL)
                return bx_err_code(err, BX_ENOMEM);
        }
        struct bx_resource_config rc = bx_resource_config_default();
        rc.name = c->name;
        rc.servers = c->n_officer_shifts ? 0 : c->officers;
        p->officers = bx_resource_alloc(&rc, err);
        if (p->officers && c->n_officer_shifts &&
            (st = bx_resource_schedule_capacity(p->officers, r->sim, c->officer_shifts,
                                                c->n_officer_shifts, 86400, err)) != BX_OK)
            return st;
        rc.servers = c->n_secondary_shifts ? 0 : c->secondary_booths;
        p->secondary = bx_resource_alloc(&rc, err);
        if (!p->officers || !p->secondary)
            return bx_err_code(err, BX_ENOMEM);
        if (c->n_secondary_shifts &&
            (st = bx_resource_schedule_capacity(p->secondary, r->sim, c->secondary_shifts,
                                                c->n_secondary_shifts, 86400, err)) != BX_OK)
            return st;
        if (c->type == BX_PORT_LAND) {
            if ((st = land_init(r, i, err)) != BX_OK)
                return st;
            continue;
        }
        /* Cameras per gate: fixed, or following the equipment rollout (one-off steps), and
         * failing where the device does. A traveller still waiting for a camera when the
         * departure leaves boards unphotographed. */
        rc.servers = c->n_camera_schedule || p->equip ? 0 : c->cameras_per_gate;
        if (p->equip)
            rc.on_renege = bx_port__camera_renege;
        p->gates = calloc(c->gates, sizeof *p->gates);
        p->gate_pool = p->equip ? calloc(c->gates, sizeof *p->gate_pool) : NULL;
        if (p->gates == NULL || (p->equip && p->gate_pool == NULL))
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        for (unsigned g = 0; g < c->gates; ++g) {
            if ((p->gates[g] = bx_resource_alloc(&rc, err)) == NULL)
                return bx_err_code(err, BX_ENOMEM);
            if (p->equip)
                st = bx_port__pool_add(r, (uint32_t)i, p->gates[g], c->cameras_per_gate,
                                       c->camera_schedule, c->n_camera_schedule, &p->gate_pool[g],
                                       err);
            else if (c->n_camera_schedule)
                st = bx_resource_schedule_capacity(p->gates[g], r->sim, c->camera_schedule,
                                                   c->n_camera_schedule, 0, err);
            if (st != BX_OK)
                return st;
        }
        /* Departures: per_day evenly spaced over [first, last) of each day of the horizon. */
        size_t days = (size_t)ceil(cfg->horizon_s / 86400);
        size_t per_day = (size_t)llround(c->departures_per_day);
        p->deps = calloc(days * per_day + 1, sizeof *p->deps);
        if (p->deps == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        double step = (c->last_s - c->first_s) / (double)per_day;
        for (size_t day = 0; day < days; ++day)
            for (size_t k = 0; k < per_day; ++k) {
                double t_dep = (double)day * 86400 + c->first_s + ((double)k + 0.5) * step;
                if (t_dep - c->open_s < 0 || t_dep > cfg->horizon_s)
                    continue;
                struct dep *d = &p->deps[p->n_deps];
                d->t_dep = t_dep;
                d->gate = (unsigned)(p->n_deps % c->gates);
                bx_sim_schedule(r->sim, t_dep - c->open_s, 1, bx_port__open_departure, r,
                                ((int64_t)i << 32) | (int64_t)p->n_deps);
                p->n_deps++;
            }
        out->ports[i].departures = p->n_deps;
    }
    return BX_OK;
}

/* Resource statistics over the horizon (the run goes on after it until everyone has left and
 * every photo has been purged; those hours must not dilute utilisation and queues). */
/* The config's window opens: utilisation and queue means are taken over the window (to the
 * horizon, which sizing sets to the window's end). */
static void window_stats_start(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    double now = bx_sim_now(sim);
    (void)arg;
    for (size_t i = 0; i < r->cfg->n_ports; ++i) {
        struct port_rt *p = &r->ports[i];
        if (p->lanes)
            bx_resource_reset_stats(p->lanes, now);
        for (unsigned g = 0; p->gates && g < p->cfg->gates; ++g)
            bx_resource_reset_stats(p->gates[g], now);
        bx_resource_reset_stats(p->officers, now);
    }
}

static void horizon_stats(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    const struct bx_ports_config *cfg = r->cfg;
    struct bx_ports_result *out = r->out;
    (void)arg;
    double now = bx_sim_now(sim);
    bx_port__equipment_horizon(r, now);
    bx_port__tvs_horizon(r, now);
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        struct port_rt *p = &r->ports[i];
        struct bx_resource_stats rs;
        double cam = 0;
        double queue = 0;
        if (p->lanes) {
            bx_resource_stats(p->lanes, now, &rs);
            cam = rs.utilization;
            queue = rs.queue_len_mean;
        }
        for (unsigned g = 0; p->gates && g < p->cfg->gates; ++g) {
            bx_resource_stats(p->gates[g], now, &rs);
            cam += rs.utilization / p->cfg->gates;
            queue += rs.queue_len_mean;
        }
        out->ports[i].camera_queue_mean = queue;
        out->ports[i].camera_utilization = cam;
        bx_resource_stats(p->officers, now, &rs);
        out->ports[i].officer_utilization = rs.utilization;
    }
}

/* The stream map: the template generator's key, then every named stream in creation order. */
static enum bx_status record_streams(const struct run *r, const struct bx_ports_config *cfg,
                                     uint64_t seed, uint32_t rep, struct bx_ports_result *out,
                                     struct bx_error *err)
{
    size_t n = bx_streams_count(r->streams) + 1;
    out->stream_names = calloc(n, sizeof *out->stream_names);
    out->stream_seeds = calloc(n, sizeof *out->stream_seeds);
    if (out->stream_names == NULL || out->stream_seeds == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for the stream map");
    out->stream_names[0] = strdup("ports/templates");
    out->stream_seeds[0] = bx_rng_seed(cfg->profile.seed ^ seed, rep, "ports/templates");
    out->n_streams = 1;
    for (size_t i = 0; i + 1 < n; ++i) {
        uint64_t s;
        const char *name = bx_streams_name(r->streams, i, &s);
        out->stream_names[out->n_streams] = strdup(name ? name : "?");
        out->stream_seeds[out->n_streams] = s;
        if (out->stream_names[out->n_streams++] == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory for the stream map");
    }
    if (out->stream_names[0] == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for the stream map");
    return BX_OK;
}

enum bx_status bx_ports_run(const struct bx_ports_config *cfg, uint64_t seed, uint32_t rep,
                            struct bx_ports_result *out, struct bx_error *err)
{
    return bx_ports_run_cached(cfg, seed, rep, NULL, out, err);
}

enum bx_status bx_ports_run_cached(const struct bx_ports_config *cfg, uint64_t seed, uint32_t rep,
                                   struct bx_ports_cache *cache, struct bx_ports_result *out,
                                   struct bx_error *err)
{
    struct run r;
    enum bx_status st = run_init(&r, cfg, seed, rep, out, err);
    if (st != BX_OK)
        goto done;
    r.cache = cache;
    bx_port__cache_begin(&r, seed, rep);
    /* Lowest priority: the snapshot sees capacity changes scheduled for the same instant. */
    bx_sim_schedule(r.sim, 0, BX_PRIO_MIN, hourly_snapshot, &r, 0);
    bx_sim_schedule(r.sim, cfg->horizon_s, BX_PRIO_MIN, horizon_stats, &r, 0);
    if (cfg->window_from_s > 0 && cfg->window_from_s < cfg->horizon_s)
        bx_sim_schedule(r.sim, cfg->window_from_s, BX_PRIO_MIN, window_stats_start, &r, 0);
    /* Run past the horizon until everyone who arrived has left and every purge has happened
     * (periodic rosters keep scheduling events forever, so the calendar never empties). A
     * port that cannot clear its queues within 30 days after the horizon is overloaded. */
    double t_end = cfg->horizon_s;
    st = bx_sim_run(r.sim, t_end, err);
    while (st == BX_OK && !r.failed &&
           (r.finished < r.n_tr || r.out->citizen_purged < r.out->citizen_photos)) {
        if (t_end > cfg->horizon_s + 30 * 86400.0) {
            out->overloaded = true;
            st = BX_FAIL(err, BX_EINVAL,
                         "%zu travellers still in the ports 30 days after the horizon: the "
                         "scenario is overloaded (too few cameras, lanes or officers)",
                         r.n_tr - r.finished);
            break;
        }
        t_end += 3600;
        st = bx_sim_run(r.sim, t_end, err);
    }
    if (st == BX_OK && r.failed)
        st = BX_FAIL(err, r.fail.code, "%s", r.fail.msg);
    if (st != BX_OK)
        goto done;
    for (size_t i = 0; i < r.n_tr; ++i)
        out->conservation_violations += r.tr[i].outcomes != 1;
    /* Retention invariant: every citizen photo purged, none held beyond 12 h. */
    if (out->citizen_purged != out->citizen_photos)
        out->conservation_violations++;
    out->events = bx_sim_events(r.sim);
    st = record_streams(&r, cfg, seed, rep, out, err);
done:
    run_fini(&r);
    return st;
}
