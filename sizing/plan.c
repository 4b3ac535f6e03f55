/* SPDX-License-Identifier: MIT */
/* plan.c - the sizing tasks of a scenario (bx_size_tasks): each selected port's resources and
 * weekly rollout waits, sharing one matching cache per replication so that each traveller is
 * matched once. Under mpirun the ports are spread over the ranks (or, with fewer ports than
 * ranks, each level's replications are) and their results gathered on rank 0, packed field by
 * field. */
#include <stdio.h>
#include <stdlib.h>

#include "bx/par.h"
#include "bx/size.h"

struct plan {
    const struct bx_ports_config *cfg;
    const struct bx_size_opts *o;
    unsigned weeks;
    struct bx_size_task *t;
};

static enum bx_status run_task(void *vctx, uint32_t i, struct bx_error *err)
{
    struct plan *pl = vctx;
    struct bx_size_task *t = &pl->t[i];
    struct bx_size_opts o = *pl->o;
    enum bx_status st = BX_OK;
    o.caches = calloc(o.replications, sizeof *o.caches);
    for (uint32_t r = 0; o.caches && r < o.replications && st == BX_OK; ++r)
        if ((o.caches[r] = bx_ports_cache_alloc()) == NULL)
            st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    if (o.caches == NULL)
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    for (int k = 0; k < t->n_kinds && st == BX_OK; ++k)
        st = bx_size_port(pl->cfg, t->port, t->kinds[k], &o, &t->r[k], err);
    if (st == BX_OK && t->weekly)
        st = bx_size_weekly(pl->cfg, t->port, &o, pl->weeks, &t->w, err);
    for (uint32_t r = 0; o.caches && r < o.replications; ++r)
        bx_ports_cache_free(o.caches[r]);
    free(o.caches);
    if (st != BX_OK) { /* name the port in the error */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "%s: %.400s", pl->cfg->ports[t->port].name, msg);
    }
    return st;
}

static void put_point(struct bx_buf *b, const struct bx_size_point *p)
{
    bx_buf_put_u64(b, p->level);
    bx_buf_put_f64(b, p->value);
    bx_buf_put_f64(b, p->lo);
    bx_buf_put_f64(b, p->hi);
    bx_buf_put_f64(b, p->utilization);
    bx_buf_put_u64(b, p->failed);
}

static void get_point(struct bx_reader *r, struct bx_size_point *p)
{
    p->level = (unsigned)bx_reader_u64(r);
    p->value = bx_reader_f64(r);
    p->lo = bx_reader_f64(r);
    p->hi = bx_reader_f64(r);
    p->utilization = bx_reader_f64(r);
    p->failed = bx_reader_u64(r) != 0;
}

static void pack_task(void *vctx, uint32_t i, struct bx_buf *b)
{
    struct plan *pl = vctx;
    const struct bx_size_task *t = &pl->t[i];
    for (int k = 0; k < t->n_kinds; ++k) {
        const struct bx_size_port_result *p = &t->r[k];
        bx_buf_put_f64(b, p->window_from_h);
        bx_buf_put_f64(b, p->window_to_h);
        bx_buf_put_f64(b, p->lambda_per_s);
        bx_buf_put_f64(b, p->service_mean_s);
        bx_buf_put_f64(b, p->service_scv);
        bx_buf_put_u64(b, p->search.found);
        bx_buf_put_u64(b, p->search.level);
        bx_buf_put_u64(b, p->search.approx);
        bx_buf_put_u64(b, p->search.n_curve);
        for (size_t j = 0; j < p->search.n_curve; ++j)
            put_point(b, &p->search.curve[j]);
    }
    for (unsigned k = 0; t->weekly && k < pl->weeks; ++k) {
        const struct bx_size_week *w = &t->w[k];
        bx_buf_put_u64(b, w->week);
        bx_buf_put_f64(b, w->t_s);
        bx_buf_put_u64(b, w->units);
        put_point(b, &w->p95);
        bx_buf_put_f64(b, w->mean_wait_s);
    }
}

static enum bx_status unpack_task(void *vctx, uint32_t i, struct bx_reader *r, struct bx_error *err)
{
    struct plan *pl = vctx;
    struct bx_size_task *t = &pl->t[i];
    for (int k = 0; k < t->n_kinds && !r->failed; ++k) {
        struct bx_size_port_result *p = &t->r[k];
        p->window_from_h = bx_reader_f64(r);
        p->window_to_h = bx_reader_f64(r);
        p->lambda_per_s = bx_reader_f64(r);
        p->service_mean_s = bx_reader_f64(r);
        p->service_scv = bx_reader_f64(r);
        p->search.found = bx_reader_u64(r) != 0;
        p->search.level = (unsigned)bx_reader_u64(r);
        p->search.approx = (unsigned)bx_reader_u64(r);
        uint64_t n = bx_reader_u64(r);
        /* a count is trusted only as far as the bytes left could hold it */
        if (r->failed || n > (r->len - r->pos) / 8) {
            r->failed = true;
            break;
        }
        p->search.curve = calloc(n ? n : 1, sizeof *p->search.curve);
        if (p->search.curve == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        p->search.n_curve = (size_t)n;
        for (size_t j = 0; j < p->search.n_curve; ++j)
            get_point(r, &p->search.curve[j]);
    }
    if (t->weekly && !r->failed) {
        t->w = calloc(pl->weeks ? pl->weeks : 1, sizeof *t->w);
        if (t->w == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        for (unsigned k = 0; k < pl->weeks; ++k) {
            struct bx_size_week *w = &t->w[k];
            w->week = (unsigned)bx_reader_u64(r);
            w->t_s = bx_reader_f64(r);
            w->units = (unsigned)bx_reader_u64(r);
            get_point(r, &w->p95);
            w->mean_wait_s = bx_reader_f64(r);
        }
    }
    return r->failed ? BX_FAIL(err, BX_EFORMAT, "truncated sizing results") : BX_OK;
}

enum bx_status bx_size_tasks(const struct bx_ports_config *cfg, const struct bx_size_opts *o,
                             unsigned weeks, struct bx_size_task *t, size_t n, struct bx_error *err)
{
    struct plan pl = {cfg, o, weeks, t};
    struct bx_size_opts oo = *o;
    /* Fewer tasks than ranks: every rank runs every task, each level's replications spread. */
    oo.spread = bx_par_size() > 1 && n < (size_t)bx_par_size();
    pl.o = &oo;
    if (!oo.spread)
        return bx_par_replicate((uint32_t)n, 1, run_task, &pl, pack_task, unpack_task, false, NULL,
                                err);
    enum bx_status st = BX_OK;
    for (uint32_t i = 0; i < n && st == BX_OK; ++i)
        st = run_task(&pl, i, err);
    return st;
}

void bx_size_tasks_fini(struct bx_size_task *t, size_t n)
{
    for (size_t i = 0; t && i < n; ++i) {
        for (int k = 0; k < t[i].n_kinds; ++k)
            bx_size_result_fini(&t[i].r[k].search);
        free(t[i].w);
        t[i].w = NULL;
    }
}
