/* SPDX-License-Identifier: MIT */
/* port_match.c - the biometric part of a port run: travellers' templates generated and matched
 * ahead in batches (MATCH_BATCH probes per 1:N search), the matching cache that sizing runs
 * share, and the operating thresholds calibrated on the profile's impostor scores. */
#define _POSIX_C_SOURCE 200809L
#include "port_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

struct tpl_part {
    const struct bx_tpl_job *jobs;
    size_t n;
};

static void *tpl_worker(void *arg)
{
    const struct tpl_part *part = arg;
    for (size_t i = 0; i < part->n; ++i) {
        const struct bx_tpl_job *j = &part->jobs[i];
        bx_tplgen_capture(j->gen, &j->s, &j->c, j->sample, j->out);
    }
    return NULL;
}

/* Generate jobs[0..n) on up to @p threads threads (templates are pure functions of their keys:
 * the split changes nothing). */
void bx_port_generate(const struct bx_tpl_job *jobs, size_t n, unsigned threads)
{
    struct tpl_part parts[16];
    unsigned nt = threads < 1 ? 1 : threads > 16 ? 16 : threads;
    if (n < 16 * (size_t)nt)
        nt = 1;
    size_t per = (n + nt - 1) / nt;
    for (unsigned t = 0; t < nt; ++t) {
        size_t a = (size_t)t * per, b = a + per < n ? a + per : n;
        parts[t] = (struct tpl_part){jobs + a, a < b ? b - a : 0};
    }
    if (nt == 1)
        tpl_worker(&parts[0]);
    else
        bx_fork_join(nt, tpl_worker, parts, sizeof parts[0]);
}

/* A search splits its gallery over the threads only where the scan (about 1 ms per 2^16
 * comparisons) dwarfs starting them; the hits do not depend on the split (matcher/search.c). */
static unsigned search_threads(const struct run *r, const struct bx_store *gallery, size_t n_q)
{
    return r->cfg->search_threads > 1 && (double)bx_store_rows(gallery) * (double)n_q >= 65536.0
               ? r->cfg->search_threads
               : 1;
}

unsigned bx_port__gen_threads(const struct run *r)
{
    return r->cfg->search_threads > 1 ? r->cfg->search_threads : 1;
}

/* A zero-effort impostor comparison for traveller i's live capture: a watch-list photo chosen by
 * the traveller's index (never the traveller's own). */
static float impostor_score(const struct run *r, size_t i, const float *live, size_t dim,
                            int64_t *whom)
{
    size_t W = bx_store_rows(r->watchlist);
    *whom = -1;
    if (W == 0)
        return (float)BX_NAN;
    size_t w = (size_t)(bx_hash64((uint64_t)i) % W);
    if (r->wl_subjects[w].id == r->tr[i].face.id) {
        if (W == 1)
            return (float)BX_NAN;
        w = (w + 1) % W;
    }
    *whom = r->wl_subjects[w].id;
    return (float)bx_match_verify(live, bx_store_row(r->watchlist, w), dim);
}

/* Match travellers [i0, i1) of one port: all land (against the expected travellers, with their
 * document photos generated here) or all of one departure (against its manifest gallery, whose
 * row t->row is the document). 1:n with k = 1, the 1:1 score, the watch-list search. */
/* ---------------------------------------------------------------- matching cache */

/* What match_batch decided for traveller i, with what identifies the traveller (a later run
 * uses an entry only for the same draw). */
struct cached {
    int64_t face, doc, imp_subject;
    double photo_age, verify;
    float top, imp;
    uint32_t port;
    bool valid, id_ok, wl_match;
};

struct bx_ports_cache {
    uint64_t seed;
    uint32_t rep;
    double *thr; /* the thresholds' values, 3 per port */
    size_t n_ports;
    struct cached *e;
    size_t n, cap;
    uint64_t hits, misses;
};

struct bx_ports_cache *bx_ports_cache_alloc(void)
{
    return calloc(1, sizeof(struct bx_ports_cache));
}

void bx_ports_cache_free(struct bx_ports_cache *c)
{
    if (c == NULL)
        return;
    free(c->e);
    free(c->thr);
    free(c);
}

void bx_ports_cache_stats(const struct bx_ports_cache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c->hits;
    *misses = c->misses;
}

/* At a run's start: keep the entries only for the same replication and thresholds. */
void bx_port__cache_begin(struct run *r, uint64_t seed, uint32_t rep)
{
    struct bx_ports_cache *c = r->cache;
    if (c == NULL)
        return;
    size_t np = r->cfg->n_ports;
    /* the very same thresholds, value for value (bit for bit: == on finite values) */
    bool same = c->n_ports == np && c->seed == seed && c->rep == rep;
    for (size_t i = 0; same && i < 3 * np; ++i)
        same = c->thr[i] == r->thr[i].value;
    if (same)
        return;
    double *tp = realloc(c->thr, (np ? 3 * np : 1) * sizeof *tp);
    if (tp == NULL) {
        r->cache = NULL; /* run without it */
        return;
    }
    c->thr = tp;
    for (size_t i = 0; i < 3 * np; ++i)
        tp[i] = r->thr[i].value;
    c->n_ports = np;
    c->seed = seed;
    c->rep = rep;
    c->n = 0;
}

static bool cache_matches(const struct cached *e, const struct trav *t)
{
    return e->valid && e->face == t->face.id && e->doc == t->doc.id && e->port == t->port &&
           e->photo_age == t->t.photo_age_years;
}

/* Travellers [i0, i1) from the cache, when it holds every one of them. */
static bool cache_get(struct run *r, size_t i0, size_t i1)
{
    struct bx_ports_cache *c = r->cache;
    if (c == NULL || i1 > c->n)
        return false;
    for (size_t i = i0; i < i1; ++i)
        if (!cache_matches(&c->e[i], &r->tr[i]))
            return false;
    for (size_t i = i0; i < i1; ++i) {
        const struct cached *e = &c->e[i];
        struct trav *t = &r->tr[i];
        t->id_ok = e->id_ok;
        t->wl_match = e->wl_match;
        t->top = e->top;
        t->imp = e->imp;
        t->imp_subject = e->imp_subject;
        t->verify = e->verify;
    }
    c->hits += i1 - i0;
    return true;
}

static void cache_put(struct run *r, size_t i0, size_t i1)
{
    struct bx_ports_cache *c = r->cache;
    if (c == NULL)
        return;
    if (i1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < i1)
            cap *= 2;
        struct cached *e = realloc(c->e, cap * sizeof *e);
        if (e == NULL)
            return; /* not cached: a later run computes them again */
        c->e = e;
        c->cap = cap;
    }
    for (size_t i = c->n; i < i0; ++i)
        c->e[i].valid = false;
    for (size_t i = i0; i < i1; ++i) {
        const struct trav *t = &r->tr[i];
        c->e[i] = (struct cached){.face = t->face.id,
                                  .doc = t->doc.id,
                                  .imp_subject = t->imp_subject,
                                  .photo_age = t->t.photo_age_years,
                                  .verify = t->verify,
                                  .top = t->top,
                                  .imp = t->imp,
                                  .port = t->port,
                                  .valid = true,
                                  .id_ok = t->id_ok,
                                  .wl_match = t->wl_match};
    }
    if (i1 > c->n)
        c->n = i1;
    c->misses += i1 - i0;
}

enum bx_status bx_port__match_batch(struct run *r, const struct bx_store *gallery, size_t i0,
                                    size_t i1, struct bx_error *err)
{
    double t0 = bx_wall_s();
    size_t dim = bx_tplgen_dim(r->gen);
    struct bx_tpl_job jobs[2 * MATCH_BATCH];
    struct bx_hit hit[MATCH_BATCH], wl[MATCH_BATCH];
    size_t nh[MATCH_BATCH], nw[MATCH_BATCH];
    enum bx_status st = BX_OK;
    for (size_t b0 = i0; b0 < i1 && st == BX_OK; b0 += MATCH_BATCH) {
        size_t m = i1 - b0 < MATCH_BATCH ? i1 - b0 : MATCH_BATCH, nj = 0;
        if (cache_get(r, b0, b0 + m))
            continue;
        const float *doc[MATCH_BATCH];
        for (size_t j = 0; j < m; ++j) {
            const struct trav *t = &r->tr[b0 + j];
            const struct port_rt *p = &r->ports[t->port];
            jobs[nj++] = (struct bx_tpl_job){
                r->gen, t->face,
                (struct bx_capture){p->cfg->device, bx_capture_quality(&p->cfg->capture, &t->t),
                                    t->t.photo_age_years},
                1, r->live + j * dim};
            if (t->land) {
                jobs[nj++] = (struct bx_tpl_job){
                    t->doc.id != t->face.id ? r->gen_doc[t->port] : r->gen, t->doc,
                    (struct bx_capture){BX_DEVICE_DOCUMENT, 1.0, 0.0}, 0, r->doc + j * dim};
                doc[j] = r->doc + j * dim;
            } else {
                doc[j] = bx_store_row(gallery, t->row);
            }
        }
        bx_port_generate(jobs, nj, bx_port__gen_threads(r));
        struct bx_search_opts so = bx_search_opts_default();
        so.k = 1;
        size_t pi = r->tr[b0].port; /* a batch is one departure's or land block's: one port */
        so.threshold = r->thr[3 * pi + BX_THR_ONE_TO_N].value;
        so.threads = search_threads(r, gallery, m);
        so.fast = bx_store_rows(gallery) > 1024; /* int8 short list, exact re-scoring */
        if ((st = bx_match_one_to_n(gallery, r->live, m, &so, hit, nh, err)) != BX_OK)
            break;
        so.threshold = r->thr[3 * pi + BX_THR_WATCHLIST].value;
        so.threads = search_threads(r, r->watchlist, m);
        so.fast = bx_store_rows(r->watchlist) > 1024;
        if ((st = bx_match_one_to_n(r->watchlist, r->live, m, &so, wl, nw, err)) != BX_OK)
            break;
        for (size_t j = 0; j < m; ++j) {
            struct trav *t = &r->tr[b0 + j];
            t->id_ok = nh[j] == 1 && hit[j].subject == t->doc.id;
            t->top = nh[j] == 1 ? (float)hit[j].score : (float)BX_NAN;
            t->verify = bx_match_verify(r->live + j * dim, doc[j], dim);
            t->wl_match = nw[j] == 1;
            t->imp = impostor_score(r, b0 + j, r->live + j * dim, dim, &t->imp_subject);
        }
        cache_put(r, b0, b0 + m);
    }
    r->out->match_wall_s += bx_wall_s() - t0;
    return st;
}
