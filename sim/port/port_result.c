/* SPDX-License-Identifier: MIT */
/* port_result.c - what one replication of a port scenario returns (bx_ports_result): its
 * allocation, release, and packing into a byte string for distributed runs (par/). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/port.h"
#include "bx/sim.h"

enum bx_status bx_ports_result_init(struct bx_ports_result *r, size_t n_ports, struct bx_error *err)
{
    memset(r, 0, sizeof *r);
    r->ports = calloc(n_ports ? n_ports : 1, sizeof *r->ports);
    if (r->ports == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    r->n_ports = n_ports;
    bx_tally_reset(&r->tvs.response);
    if ((r->tvs.response_q = bx_quantiles_alloc(false, 0.005, err)) == NULL)
        return BX_ENOMEM;
    for (size_t i = 0; i < n_ports; ++i) {
        bx_tally_reset(&r->ports[i].wait);
        bx_tally_reset(&r->ports[i].ops.answer_s);
        r->ports[i].wait_q = bx_quantiles_alloc(false, 0.005, err);
        r->ports[i].lane_wait_q = bx_quantiles_alloc(false, 0.005, err);
        r->ports[i].officer_wait_q = bx_quantiles_alloc(false, 0.005, err);
        if (r->ports[i].wait_q == NULL || r->ports[i].lane_wait_q == NULL ||
            r->ports[i].officer_wait_q == NULL)
            return BX_ENOMEM;
    }
    return BX_OK;
}

size_t bx_ports_hours(const struct bx_ports_config *cfg)
{
    return (size_t)ceil(cfg->horizon_s / 3600);
}

void bx_ports_result_fini(struct bx_ports_result *r)
{
    if (r == NULL || r->ports == NULL)
        return;
    free(r->samples);
    bx_quantiles_free(r->tvs.response_q);
    free(r->tvs.hourly);
    for (size_t i = 0; r->stream_names && i < r->n_streams; ++i)
        free(r->stream_names[i]);
    free(r->stream_names);
    free(r->stream_seeds);
    for (size_t i = 0; i < r->n_ports; ++i) {
        bx_quantiles_free(r->ports[i].wait_q);
        bx_quantiles_free(r->ports[i].lane_wait_q);
        bx_quantiles_free(r->ports[i].officer_wait_q);
        free(r->ports[i].hourly);
    }
    free(r->ports);
    memset(r, 0, sizeof *r);
}

/* Field by field: no struct is sent whole, so no pointer crosses a process and a field added
 * to a struct without being added here shows up as a difference in the mpirun tests. */
static void put_count(struct bx_buf *b, struct bx_count c)
{
    bx_buf_put_u64(b, c.errors);
    bx_buf_put_u64(b, c.trials);
}

static struct bx_count get_count(struct bx_reader *rd)
{
    struct bx_count c;
    c.errors = bx_reader_u64(rd);
    c.trials = bx_reader_u64(rd);
    return c;
}

static void put_tally(struct bx_buf *b, const struct bx_tally *t)
{
    bx_buf_put_u64(b, t->n);
    const double x[5] = {t->shift, t->s1, t->s2, t->min, t->max};
    for (int k = 0; k < 5; ++k)
        bx_buf_put_f64(b, x[k]);
}

static void get_tally(struct bx_reader *rd, struct bx_tally *t)
{
    t->n = bx_reader_u64(rd);
    t->shift = bx_reader_f64(rd);
    t->s1 = bx_reader_f64(rd);
    t->s2 = bx_reader_f64(rd);
    t->min = bx_reader_f64(rd);
    t->max = bx_reader_f64(rd);
}

static void put_ops(struct bx_buf *b, const struct bx_port_ops *o)
{
    const uint64_t c[12] = {o->in_scope,
                            o->photographed,
                            o->excluded,
                            o->not_acquired,
                            o->outage,
                            o->no_answer,
                            o->answered,
                            o->matched,
                            o->with_record,
                            o->matched_gallery,
                            o->left_unphotographed,
                            o->exempt};
    for (int k = 0; k < 12; ++k)
        bx_buf_put_u64(b, c[k]);
    put_tally(b, &o->answer_s);
}

static void get_ops(struct bx_reader *rd, struct bx_port_ops *o)
{
    uint64_t *c[12] = {&o->in_scope,
                       &o->photographed,
                       &o->excluded,
                       &o->not_acquired,
                       &o->outage,
                       &o->no_answer,
                       &o->answered,
                       &o->matched,
                       &o->with_record,
                       &o->matched_gallery,
                       &o->left_unphotographed,
                       &o->exempt};
    for (int k = 0; k < 12; ++k)
        *c[k] = bx_reader_u64(rd);
    get_tally(rd, &o->answer_s);
}

static void put_equipment(struct bx_buf *b, const struct bx_port_equipment *e)
{
    bx_buf_put_u64(b, e->units);
    bx_buf_put_u64(b, e->failures);
    bx_buf_put_f64(b, e->up_unit_s);
    bx_buf_put_f64(b, e->service_unit_s);
    bx_buf_put_f64(b, e->outage_s);
    bx_buf_put_u64(b, e->outage_travellers);
}

static void get_equipment(struct bx_reader *rd, struct bx_port_equipment *e)
{
    e->units = bx_reader_u64(rd);
    e->failures = bx_reader_u64(rd);
    e->up_unit_s = bx_reader_f64(rd);
    e->service_unit_s = bx_reader_f64(rd);
    e->outage_s = bx_reader_f64(rd);
    e->outage_travellers = bx_reader_u64(rd);
}

static void put_port(struct bx_buf *b, const struct bx_port_result *p)
{
    for (int k = 0; k < 3; ++k) {
        bx_buf_put_f64(b, p->thr[k].value);
        bx_buf_put_f64(b, p->thr[k].target_fmr);
        bx_buf_put_f64(b, p->thr[k].expected_above);
        bx_buf_put_u64(b, p->thr[k].subjects);
        bx_buf_put_u64(b, p->thr[k].resolved);
        bx_buf_put_u64(b, (uint64_t)p->thr[k].method);
        bx_buf_put_f64(b, p->thr[k].lo);
        bx_buf_put_f64(b, p->thr[k].hi);
        bx_buf_put_f64(b, p->thr[k].tail_xi);
        bx_buf_put_f64(b, p->thr[k].tail_sigma);
    }
    put_ops(b, &p->ops);
    put_equipment(b, &p->equipment);
    bx_buf_put_u64(b, p->travellers);
    bx_buf_put_u64(b, p->departures);
    put_tally(b, &p->wait);
    bx_buf_put_f64(b, p->camera_utilization);
    bx_buf_put_f64(b, p->officer_utilization);
    bx_buf_put_f64(b, p->camera_queue_mean);
    bx_buf_put_u64(b, p->manual);
    bx_buf_put_u64(b, p->secondary);
    bx_buf_put_u64(b, p->opt_outs);
    bx_quantiles_pack(p->wait_q, b);
    bx_quantiles_pack(p->lane_wait_q, b);
    bx_quantiles_pack(p->officer_wait_q, b);
    size_t H = p->hourly ? p->n_hours : 0;
    bx_buf_put_u64(b, H);
    for (size_t h = 0; h < H; ++h) {
        const struct bx_port_hourly *x = &p->hourly[h];
        bx_buf_put_f64(b, x->arrivals);
        bx_buf_put_f64(b, x->wait_sum_s);
        bx_buf_put_f64(b, x->queue);
        bx_buf_put_f64(b, x->busy);
        bx_buf_put_f64(b, x->capacity);
    }
}

static void get_port(struct bx_reader *rd, struct bx_port_result *p, struct bx_error *err)
{
    for (int k = 0; k < 3; ++k) {
        p->thr[k].value = bx_reader_f64(rd);
        p->thr[k].target_fmr = bx_reader_f64(rd);
        p->thr[k].expected_above = bx_reader_f64(rd);
        p->thr[k].subjects = bx_reader_u64(rd);
        p->thr[k].resolved = bx_reader_u64(rd) != 0;
        p->thr[k].method =
            bx_reader_u64(rd) == BX_THR_TAIL_MODEL ? BX_THR_TAIL_MODEL : BX_THR_EMPIRICAL;
        p->thr[k].lo = bx_reader_f64(rd);
        p->thr[k].hi = bx_reader_f64(rd);
        p->thr[k].tail_xi = bx_reader_f64(rd);
        p->thr[k].tail_sigma = bx_reader_f64(rd);
    }
    get_ops(rd, &p->ops);
    get_equipment(rd, &p->equipment);
    p->travellers = bx_reader_u64(rd);
    p->departures = bx_reader_u64(rd);
    get_tally(rd, &p->wait);
    p->camera_utilization = bx_reader_f64(rd);
    p->officer_utilization = bx_reader_f64(rd);
    p->camera_queue_mean = bx_reader_f64(rd);
    p->manual = bx_reader_u64(rd);
    p->secondary = bx_reader_u64(rd);
    p->opt_outs = bx_reader_u64(rd);
    if (rd->failed)
        return;
    p->wait_q = bx_quantiles_unpack(rd, err);
    p->lane_wait_q = p->wait_q ? bx_quantiles_unpack(rd, err) : NULL;
    p->officer_wait_q = p->lane_wait_q ? bx_quantiles_unpack(rd, err) : NULL;
    uint64_t H = p->officer_wait_q ? bx_reader_u64(rd) : 0;
    if (p->officer_wait_q == NULL || rd->failed || H > (rd->len - rd->pos) / (5 * 8)) {
        rd->failed = true;
        return;
    }
    p->hourly = calloc(H ? H : 1, sizeof *p->hourly);
    if (p->hourly == NULL) {
        rd->failed = true;
        return;
    }
    p->n_hours = (size_t)H;
    for (size_t h = 0; h < p->n_hours; ++h) {
        struct bx_port_hourly *x = &p->hourly[h];
        x->arrivals = bx_reader_f64(rd);
        x->wait_sum_s = bx_reader_f64(rd);
        x->queue = bx_reader_f64(rd);
        x->busy = bx_reader_f64(rd);
        x->capacity = bx_reader_f64(rd);
    }
}

void bx_ports_result_pack(const struct bx_ports_result *r, struct bx_buf *b)
{
    bx_buf_put_u64(b, r->n_ports);
    const struct bx_count counts[5] = {r->fnmr, r->fmr, r->fpir, r->fnir, r->fta};
    for (int k = 0; k < 5; ++k)
        put_count(b, counts[k]);
    const uint64_t u[] = {r->overstays,
                          r->overstays_detected,
                          r->impostors,
                          r->impostors_caught,
                          r->wl_true,
                          r->wl_false,
                          r->wl_missed,
                          r->manual,
                          r->opt_outs,
                          r->citizen_held_over_12h,
                          r->citizen_photos,
                          r->citizen_purged,
                          r->noncitizen_records,
                          r->noncitizen_bytes,
                          r->events,
                          r->conservation_violations,
                          r->overloaded};
    for (size_t k = 0; k < sizeof u / sizeof u[0]; ++k)
        bx_buf_put_u64(b, u[k]);
    bx_buf_put_f64(b, r->citizen_max_retained_h);
    for (int k = 0; k < 3; ++k)
        bx_buf_put_f64(b, r->thresholds[k]);
    bx_buf_put_f64(b, r->match_wall_s);
    const struct bx_tvs_result *v = &r->tvs;
    bx_buf_put_u64(b, v->requests);
    bx_buf_put_u64(b, v->fallback_manual);
    bx_buf_put_u64(b, v->fallback_timeout);
    bx_buf_put_f64(b, v->utilization);
    bx_buf_put_f64(b, v->outage_s);
    bx_buf_put_f64(b, v->peak_per_s);
    put_tally(b, &v->response);
    bx_quantiles_pack(v->response_q, b);
    size_t nh = v->hourly ? v->n_hours : 0;
    bx_buf_put_u64(b, nh);
    bx_buf_put(b, v->hourly, nh * sizeof *v->hourly);
    for (size_t i = 0; i < r->n_ports; ++i)
        put_port(b, &r->ports[i]);
    /* Samples and stream seeds are plain values (no pointers): sent as arrays. */
    size_t n_samples = r->samples ? r->n_samples : 0;
    bx_buf_put_u64(b, n_samples);
    bx_buf_put(b, r->samples, n_samples * sizeof *r->samples);
    size_t n_streams = r->stream_names && r->stream_seeds ? r->n_streams : 0;
    bx_buf_put_u64(b, n_streams);
    for (size_t i = 0; i < n_streams; ++i)
        bx_buf_put_str(b, r->stream_names[i]);
    bx_buf_put(b, r->stream_seeds, n_streams * sizeof *r->stream_seeds);
}

enum bx_status bx_ports_result_unpack(struct bx_reader *rd, struct bx_ports_result *out,
                                      struct bx_error *err)
{
    bx_ports_result_fini(out);
    uint64_t n_ports = bx_reader_u64(rd);
    if (rd->failed || n_ports == 0 || n_ports > 65536)
        return BX_FAIL(err, BX_EFORMAT, "truncated or malformed port results");
    out->ports = calloc(n_ports, sizeof *out->ports);
    if (out->ports == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    out->n_ports = (size_t)n_ports;
    struct bx_count *counts[5] = {&out->fnmr, &out->fmr, &out->fpir, &out->fnir, &out->fta};
    for (int k = 0; k < 5; ++k)
        *counts[k] = get_count(rd);
    uint64_t *u[] = {&out->overstays,
                     &out->overstays_detected,
                     &out->impostors,
                     &out->impostors_caught,
                     &out->wl_true,
                     &out->wl_false,
                     &out->wl_missed,
                     &out->manual,
                     &out->opt_outs,
                     &out->citizen_held_over_12h,
                     &out->citizen_photos,
                     &out->citizen_purged,
                     &out->noncitizen_records,
                     &out->noncitizen_bytes,
                     &out->events,
                     &out->conservation_violations};
    for (size_t k = 0; k < sizeof u / sizeof u[0]; ++k)
        *u[k] = bx_reader_u64(rd);
    out->overloaded = bx_reader_u64(rd) != 0;
    out->citizen_max_retained_h = bx_reader_f64(rd);
    for (int k = 0; k < 3; ++k)
        out->thresholds[k] = bx_reader_f64(rd);
    out->match_wall_s = bx_reader_f64(rd);
    struct bx_tvs_result *v = &out->tvs;
    v->requests = bx_reader_u64(rd);
    v->fallback_manual = bx_reader_u64(rd);
    v->fallback_timeout = bx_reader_u64(rd);
    v->utilization = bx_reader_f64(rd);
    v->outage_s = bx_reader_f64(rd);
    v->peak_per_s = bx_reader_f64(rd);
    get_tally(rd, &v->response);
    if (!rd->failed && (v->response_q = bx_quantiles_unpack(rd, err)) == NULL)
        rd->failed = true;
    v->n_hours = rd->failed ? 0 : (size_t)bx_reader_u64(rd);
    if (!rd->failed && v->n_hours > 0) {
        v->hourly = bx_reader_array(rd, v->n_hours, sizeof *v->hourly);
        if (v->hourly == NULL)
            v->n_hours = 0;
    }
    for (size_t i = 0; i < out->n_ports && !rd->failed; ++i)
        get_port(rd, &out->ports[i], err);
    out->n_samples = rd->failed ? 0 : (size_t)bx_reader_u64(rd);
    if (!rd->failed) {
        out->samples = bx_reader_array(rd, out->n_samples, sizeof *out->samples);
        out->cap_samples = out->samples ? out->n_samples : 0;
        if (out->samples == NULL)
            out->n_samples = 0;
    }
    size_t n_streams = rd->failed ? 0 : (size_t)bx_reader_u64(rd);
    if (!rd->failed && n_streams > (rd->len - rd->pos) / sizeof(uint64_t))
        rd->failed = true; /* each stream takes at least its name's length word */
    if (!rd->failed && n_streams > 0) {
        out->stream_names = calloc(n_streams, sizeof *out->stream_names);
        if (out->stream_names == NULL)
            rd->failed = true;
        for (size_t i = 0; i < n_streams && !rd->failed; ++i) {
            out->stream_names[i] = bx_reader_str(rd);
            out->n_streams = i + 1;
        }
        out->stream_seeds = bx_reader_array(rd, n_streams, sizeof *out->stream_seeds);
    }
    if (rd->failed) {
        bx_ports_result_fini(out);
        return BX_FAIL(err, BX_EFORMAT, "truncated or malformed port results");
    }
    return BX_OK;
}
