/* SPDX-License-Identifier: MIT */
/* network.c - the generic station network: sources feed stations of c servers; a customer
 * served at one station moves to its `next` or leaves.
 *
 * Observation rules (warm-up deletion): at t = warmup_s every statistic restarts. A wait is
 * recorded when service begins, a station sojourn and a departure when they end, so a customer
 * that arrived during warm-up but is served after it is counted, as in the usual "reset at the
 * truncation point" estimator (Law, Simulation Modeling and Analysis, 5th ed., section 9.5.1).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/sim.h"

#define BX_NET_MAX_IN_SYSTEM 10000000

struct customer {
    double t_sys;     /* arrival to the network */
    double t_station; /* arrival at the current station */
    int priority;
    uint32_t station;
    uint32_t next_free;
};

struct station_rt {
    const struct bx_net_station *cfg;
    struct bx_resource *res;
    gsl_rng *service, *patience;
    struct bx_tally wait, sojourn;
    struct bx_quantiles *q;
    uint64_t arrivals, served;
    unsigned n_in;
    struct bx_timeavg in_station;
};

struct source_rt {
    const struct bx_net_source *cfg;
    gsl_rng *rng;
    struct model *m;
};

struct model {
    const struct bx_net_config *cfg;
    struct bx_sim *sim;
    struct bx_streams *streams;
    struct station_rt *st;
    struct source_rt *src;
    struct customer *c;
    size_t c_cap;
    uint32_t c_free;
    bool oom;
    bool overload; /* more than max_in_system customers at once */
    uint64_t arrivals, departed;
    uint64_t n_in_system;
    struct bx_tally system_time;
    struct bx_timeavg in_system;
};

void bx_net_config_fini(struct bx_net_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_sources; ++i)
        bx_dist_fini(&cfg->sources[i].interarrival);
    for (size_t i = 0; i < cfg->n_stations; ++i) {
        bx_dist_fini(&cfg->stations[i].service);
        bx_dist_fini(&cfg->stations[i].patience);
        free(cfg->stations[i].schedule);
    }
    free(cfg->sources);
    free(cfg->stations);
    memset(cfg, 0, sizeof *cfg);
}

enum bx_status bx_net_config_check(const struct bx_net_config *cfg, struct bx_error *err)
{
    if (cfg->n_stations == 0 || cfg->n_sources == 0)
        return BX_FAIL(err, BX_EINVAL, "a network needs at least one source and one station");
    if (!(isfinite(cfg->horizon_s) && cfg->horizon_s > 0))
        return BX_FAIL(err, BX_EINVAL, "horizon must be > 0 s");
    if (!(cfg->warmup_s >= 0 && cfg->warmup_s < cfg->horizon_s))
        return BX_FAIL(err, BX_EINVAL, "warm-up (%g s) must lie in [0, horizon = %g s)",
                       cfg->warmup_s, cfg->horizon_s);
    for (size_t i = 0; i < cfg->n_sources; ++i) {
        const struct bx_net_source *s = &cfg->sources[i];
        if (s->to >= cfg->n_stations)
            return BX_FAIL(err, BX_EINVAL, "source '%s' feeds an unknown station", s->name);
        if (!(s->start_s >= 0 && s->stop_s > s->start_s))
            return BX_FAIL(err, BX_EINVAL, "source '%s': need 0 <= start < stop", s->name);
        if (bx_dist_mean(&s->interarrival) <= 0)
            return BX_FAIL(err, BX_EINVAL, "source '%s': mean inter-arrival time must be > 0",
                           s->name);
        for (size_t j = 0; j < i; ++j)
            if (strcmp(cfg->sources[j].name, s->name) == 0)
                return BX_FAIL(err, BX_EINVAL, "two sources are named '%s'", s->name);
    }
    for (size_t i = 0; i < cfg->n_stations; ++i) {
        const struct bx_net_station *s = &cfg->stations[i];
        if (s->next >= (long)cfg->n_stations || s->next < -1)
            return BX_FAIL(err, BX_EINVAL, "station '%s' routes to an unknown station", s->name);
        for (size_t j = 0; j < i; ++j)
            if (strcmp(cfg->stations[j].name, s->name) == 0)
                return BX_FAIL(err, BX_EINVAL, "two stations are named '%s'", s->name);
        /* Follow `next` from here: more steps than stations means a cycle nobody leaves. */
        long k = (long)i;
        for (size_t steps = 0; k >= 0; ++steps) {
            if (steps > cfg->n_stations)
                return BX_FAIL(err, BX_EINVAL,
                               "station '%s' is on a routing cycle: customers would never leave",
                               s->name);
            k = cfg->stations[k].next;
        }
        if (s->servers == 0 && s->n_schedule == 0)
            return BX_FAIL(err, BX_EINVAL, "station '%s' has no servers and no schedule", s->name);
    }
    return BX_OK;
}

/* ---------------------------------------------------------------- customers */

static uint32_t customer_new(struct model *m)
{
    size_t limit = m->cfg->max_in_system ? m->cfg->max_in_system : BX_NET_MAX_IN_SYSTEM;
    if (m->n_in_system >= limit) {
        m->overload = true;
        bx_sim_stop(m->sim);
        return UINT32_MAX;
    }
    if (m->c_free == UINT32_MAX) {
        size_t cap = m->c_cap ? 2 * m->c_cap : 256;
        struct customer *c = cap < UINT32_MAX ? realloc(m->c, cap * sizeof *c) : NULL;
        if (c == NULL) {
            m->oom = true;
            bx_sim_stop(m->sim);
            return UINT32_MAX;
        }
        for (size_t i = cap; i-- > m->c_cap;) {
            c[i].next_free = m->c_free;
            m->c_free = (uint32_t)i;
        }
        m->c = c;
        m->c_cap = cap;
    }
    uint32_t id = m->c_free;
    m->c_free = m->c[id].next_free;
    return id;
}

static void customer_leave(struct model *m, uint32_t id, bool departed)
{
    double now = bx_sim_now(m->sim);
    if (departed) {
        m->departed++;
        bx_tally_add(&m->system_time, now - m->c[id].t_sys);
    }
    m->n_in_system--;
    bx_timeavg_set(&m->in_system, now, (double)m->n_in_system);
    m->c[id].next_free = m->c_free;
    m->c_free = id;
}

/* ---------------------------------------------------------------- events */

static void enter_station(struct model *m, uint32_t id, uint32_t station);

static void end_service(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct model *m = obj;
    uint32_t id = (uint32_t)arg;
    struct station_rt *st = &m->st[m->c[id].station];
    double now = bx_sim_now(sim);
    bx_resource_release(st->res, sim);
    st->served++;
    bx_tally_add(&st->sojourn, now - m->c[id].t_station);
    bx_timeavg_set(&st->in_station, now, --st->n_in);
    if (st->cfg->next >= 0)
        enter_station(m, id, (uint32_t)st->cfg->next);
    else
        customer_leave(m, id, true);
}

static void on_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct model *m = obj;
    uint32_t id = (uint32_t)arg;
    struct station_rt *st = &m->st[m->c[id].station];
    bx_tally_add(&st->wait, wait_s);
    bx_quantiles_add(st->q, wait_s);
    double t = bx_sim_now(sim) + bx_dist_sample(&st->cfg->service, st->service);
    bx_sim_schedule(sim, t, 0, end_service, m, arg);
}

static void on_renege(struct bx_sim *sim, void *obj, int64_t arg, double waited_s)
{
    struct model *m = obj;
    uint32_t id = (uint32_t)arg;
    struct station_rt *st = &m->st[m->c[id].station];
    (void)waited_s;
    bx_timeavg_set(&st->in_station, bx_sim_now(sim), --st->n_in);
    customer_leave(m, id, false);
}

static void enter_station(struct model *m, uint32_t id, uint32_t station)
{
    struct station_rt *st = &m->st[station];
    double now = bx_sim_now(m->sim);
    struct customer *c = &m->c[id];
    c->station = station;
    c->t_station = now;
    st->arrivals++;
    bx_timeavg_set(&st->in_station, now, ++st->n_in);
    double patience =
        st->cfg->has_patience ? bx_dist_sample(&st->cfg->patience, st->patience) : BX_INF;
    if (bx_resource_request(st->res, m->sim, c->priority, patience, on_grant, m, id) ==
        BX_REQ_BALKED) {
        bx_timeavg_set(&st->in_station, now, --st->n_in);
        customer_leave(m, id, false);
    }
}

static void arrival(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct source_rt *src = obj;
    struct model *m = src->m;
    double now = bx_sim_now(sim);
    (void)arg;
    double next = now + bx_dist_sample(&src->cfg->interarrival, src->rng);
    if (next < src->cfg->stop_s && next <= m->cfg->horizon_s)
        bx_sim_schedule(sim, next, 0, arrival, src, 0);

    uint32_t id = customer_new(m);
    if (id == UINT32_MAX)
        return;
    m->c[id].t_sys = now;
    m->c[id].priority = src->cfg->priority;
    m->arrivals++;
    bx_timeavg_set(&m->in_system, now, (double)++m->n_in_system);
    enter_station(m, id, (uint32_t)src->cfg->to);
}

/* Warm-up deletion: every statistic restarts now. */
static void end_warmup(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct model *m = obj;
    double now = bx_sim_now(sim);
    (void)arg;
    for (size_t i = 0; i < m->cfg->n_stations; ++i) {
        struct station_rt *st = &m->st[i];
        bx_tally_reset(&st->wait);
        bx_tally_reset(&st->sojourn);
        bx_quantiles_reset(st->q);
        st->arrivals = st->served = 0;
        bx_timeavg_restart(&st->in_station, now);
        bx_resource_reset_stats(st->res, now);
    }
    m->arrivals = m->departed = 0;
    bx_tally_reset(&m->system_time);
    bx_timeavg_restart(&m->in_system, now);
}

/* ---------------------------------------------------------------- one replication */

static void model_fini(struct model *m)
{
    if (m->st) {
        for (size_t i = 0; i < m->cfg->n_stations; ++i) {
            bx_resource_free(m->st[i].res);
            bx_quantiles_free(m->st[i].q);
        }
    }
    free(m->st);
    free(m->src);
    free(m->c);
    bx_streams_free(m->streams);
    bx_sim_free(m->sim);
}

static enum bx_status model_init(struct model *m, const struct bx_net_config *cfg, uint64_t seed,
                                 uint32_t rep, struct bx_error *err)
{
    char name[BX_NAME_MAX + 16];
    memset(m, 0, sizeof *m);
    m->cfg = cfg;
    m->c_free = UINT32_MAX;
    m->sim = bx_sim_alloc(256, err);
    m->streams = bx_streams_alloc(seed, rep, NULL, err);
    m->st = calloc(cfg->n_stations, sizeof *m->st);
    m->src = calloc(cfg->n_sources, sizeof *m->src);
    if (m->sim == NULL || m->streams == NULL || m->st == NULL || m->src == NULL)
        return BX_FAIL(err, BX_ENOMEM, "cannot allocate the network model");
    bx_tally_reset(&m->system_time);
    bx_timeavg_init(&m->in_system, 0, 0);

    for (size_t i = 0; i < cfg->n_stations; ++i) {
        const struct bx_net_station *sc = &cfg->stations[i];
        struct station_rt *st = &m->st[i];
        st->cfg = sc;
        snprintf(name, sizeof name, "service/%s", sc->name);
        st->service = bx_streams_get(m->streams, name, err);
        snprintf(name, sizeof name, "patience/%s", sc->name);
        st->patience = sc->has_patience ? bx_streams_get(m->streams, name, err) : NULL;
        snprintf(name, sizeof name, "balk/%s", sc->name);
        gsl_rng *balk =
            sc->balk_prob > 0 && sc->balk_prob < 1 ? bx_streams_get(m->streams, name, err) : NULL;
        if (st->service == NULL || (sc->has_patience && st->patience == NULL) ||
            (sc->balk_prob > 0 && sc->balk_prob < 1 && balk == NULL))
            return bx_err_code(err, BX_ESEED);
        struct bx_resource_config rc = bx_resource_config_default();
        rc.name = sc->name;
        rc.servers = sc->n_schedule ? 0 : sc->servers;
        rc.discipline = sc->discipline;
        rc.balk_queue_len = sc->balk_queue_len;
        rc.balk_prob = sc->balk_prob;
        rc.balk_rng = balk;
        rc.on_renege = on_renege;
        st->res = bx_resource_alloc(&rc, err);
        st->q = bx_quantiles_alloc(cfg->exact_quantiles, 0.005, err);
        if (st->res == NULL || st->q == NULL)
            return bx_err_code(err, BX_ENOMEM);
        if (sc->n_schedule &&
            bx_resource_schedule_capacity(st->res, m->sim, sc->schedule, sc->n_schedule,
                                          sc->schedule_period_s, err) != BX_OK)
            return bx_err_code(err, BX_EINVAL);
        bx_tally_reset(&st->wait);
        bx_tally_reset(&st->sojourn);
        bx_timeavg_init(&st->in_station, 0, 0);
    }
    for (size_t i = 0; i < cfg->n_sources; ++i) {
        struct source_rt *src = &m->src[i];
        src->cfg = &cfg->sources[i];
        src->m = m;
        snprintf(name, sizeof name, "arrivals/%s", src->cfg->name);
        src->rng = bx_streams_get(m->streams, name, err);
        if (src->rng == NULL)
            return bx_err_code(err, BX_ESEED);
        /* The first arrival comes one inter-arrival time after the source opens. */
        double t = src->cfg->start_s + bx_dist_sample(&src->cfg->interarrival, src->rng);
        if (t < src->cfg->stop_s && t <= cfg->horizon_s)
            bx_sim_schedule(m->sim, t, 0, arrival, src, 0);
    }
    if (cfg->warmup_s > 0)
        bx_sim_schedule(m->sim, cfg->warmup_s, BX_PRIO_MAX, end_warmup, m, 0);
    return BX_OK;
}

enum bx_status bx_net_run(const struct bx_net_config *cfg, uint64_t master_seed, uint32_t rep,
                          struct bx_net_rep_result *out, struct bx_error *err)
{
    struct model m;
    enum bx_status st = model_init(&m, cfg, master_seed, rep, err);
    if (st != BX_OK)
        goto done;
    st = bx_sim_run(m.sim, cfg->horizon_s, err);
    if (st != BX_OK)
        goto done;
    if (m.overload) {
        size_t worst = 0;
        for (size_t i = 1; i < cfg->n_stations; ++i)
            if (m.st[i].n_in > m.st[worst].n_in)
                worst = i;
        st = BX_FAIL(err, BX_EINVAL,
                     "replication %u: %llu customers in the system at t = %.0f s (%u at station "
                     "'%s'): the network is overloaded, arrivals exceed capacity",
                     rep, (unsigned long long)m.n_in_system, bx_sim_now(m.sim), m.st[worst].n_in,
                     cfg->stations[worst].name);
        goto done;
    }
    if (m.oom) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for customers (%zu in the system)", m.c_cap);
        goto done;
    }
    double now = cfg->horizon_s, window_h = (cfg->horizon_s - cfg->warmup_s) / 3600;
    for (size_t i = 0; i < cfg->n_stations; ++i) {
        struct station_rt *s = &m.st[i];
        struct bx_resource_stats rs;
        bx_resource_stats(s->res, now, &rs);
        if (!bx_quantiles_ok(s->q)) {
            st = BX_FAIL(err, BX_ENOMEM, "out of memory for exact quantiles");
            goto done;
        }
        out->stations[i] = (struct bx_net_station_result){
            .arrivals = s->arrivals,
            .served = s->served,
            .balked = rs.balked,
            .reneged = rs.reneged,
            .wait_mean_s = bx_tally_mean(&s->wait),
            .wait_p50_s = bx_quantiles_get(s->q, 0.50),
            .wait_p95_s = bx_quantiles_get(s->q, 0.95),
            .wait_p99_s = bx_quantiles_get(s->q, 0.99),
            .wait_max_s = s->wait.n ? s->wait.max : BX_NAN,
            .sojourn_mean_s = bx_tally_mean(&s->sojourn),
            .queue_len_mean = rs.queue_len_mean,
            .in_station_mean = bx_timeavg_mean(&s->in_station, now),
            .utilization = rs.utilization,
            .throughput_per_h = (double)s->served / window_h,
        };
    }
    out->events = bx_sim_events(m.sim);
    out->departed = m.departed;
    out->system_time_mean_s = bx_tally_mean(&m.system_time);
    out->in_system_mean = bx_timeavg_mean(&m.in_system, now);
    out->arrival_rate_per_s = (double)m.arrivals / (cfg->horizon_s - cfg->warmup_s);
done:
    model_fini(&m);
    return st;
}

void bx_net_rep_pack(const struct bx_net_rep_result *r, size_t n_stations, struct bx_buf *b)
{
    struct bx_net_rep_result head = *r;
    head.stations = NULL;
    bx_buf_put_u64(b, n_stations);
    bx_buf_put(b, &head, sizeof head);
    bx_buf_put(b, r->stations, n_stations * sizeof *r->stations);
}

enum bx_status bx_net_rep_unpack(struct bx_reader *r, size_t n_stations,
                                 struct bx_net_rep_result *out, struct bx_error *err)
{
    if (bx_reader_u64(r) != n_stations)
        return BX_FAIL(err, BX_EFORMAT, "network results packed for another station count");
    struct bx_net_station_result *st = out->stations;
    bx_reader_get(r, out, sizeof *out);
    out->stations = st;
    bx_reader_get(r, st, n_stations * sizeof *st);
    return r->failed ? BX_FAIL(err, BX_EFORMAT, "truncated network results") : BX_OK;
}
