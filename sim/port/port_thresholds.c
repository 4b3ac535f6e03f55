/* SPDX-License-Identifier: MIT */
/* port_thresholds.c - each port's operating thresholds from the profile's own impostor
 * distribution for the port's own device (document photo against that device's capture), at
 * the per-comparison FMR each target asks: 1:n FPIR / gallery size (FPIR ~ N FMR, sources.md
 * section 6), 1:1 verify_fmr, watch list FPIR / watch-list size.
 *
 * A target is resolved when at least RESOLVE_MIN impostor scores of the sample are expected
 * above it. The configured sample (calibration_subjects, n: n(n-1) scores) is grown for a
 * target it cannot resolve, to the n that resolves it, at most BX_PORT_CAL_MAX subjects; the
 * scores are streamed block by block through a top-k heap, so the memory is that of the
 * templates and one block, not of n^2 scores. A target still unresolved at the limit takes its
 * threshold from a generalised Pareto model of that sample's BX_PORT_TAIL_K highest scores
 * (bx_threshold_tail: probability-weighted moments, bootstrap interval) and is reported as
 * unresolved, with the model, its interval and the expected count.
 *
 * Thresholds are the same in every replication and depend only on the profile, the device, the
 * sample and the target: they are computed once per process and remembered (a small table
 * behind a mutex; the only process-wide state of this module).
 */
#define _POSIX_C_SOURCE 200809L
#include "port_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bx/matcher.h"

#define RESOLVE_MIN 30.0
#define BLOCK 256
#define TIE_MARGIN 64

/* ---------------------------------------------------------------- remembered thresholds */

struct memo {
    struct bx_tplgen_params params;
    enum bx_device device;
    size_t n0;
    double fmr;
    struct bx_port_threshold thr;
};
static struct memo memo[128];
static size_t n_memo;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static bool memo_get(const struct bx_tplgen_params *p, enum bx_device dev, size_t n0, double f,
                     struct bx_port_threshold *out)
{
    bool hit = false;
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < n_memo && !hit; ++i)
        if (memo[i].device == dev && memo[i].n0 == n0 && memo[i].fmr == f &&
            /* bytes, padding included: a miss only computes the threshold again */
            memcmp(&memo[i].params, p, sizeof *p) == 0) { /* NOLINT */
            *out = memo[i].thr;
            hit = true;
        }
    pthread_mutex_unlock(&memo_lock);
    return hit;
}

static void memo_put(const struct bx_tplgen_params *p, enum bx_device dev, size_t n0, double f,
                     const struct bx_port_threshold *thr)
{
    pthread_mutex_lock(&memo_lock);
    if (n_memo < sizeof memo / sizeof memo[0]) {
        struct memo *m = &memo[n_memo++];
        memset(m, 0, sizeof *m);
        memcpy(&m->params, p, sizeof *p);
        m->device = dev;
        m->n0 = n0;
        m->fmr = f;
        m->thr = *thr;
    }
    pthread_mutex_unlock(&memo_lock);
}

/* The impostor samples computed so far, by their highest scores: a later target that needs the
 * same sample (profile, device, size) and no more of its highest scores than are kept takes
 * them from here (the first keep of a longer list of the highest scores are the keep highest).
 * Under memo_lock. */
struct sample {
    struct bx_tplgen_params params;
    enum bx_device dev;
    size_t n, keep, m, k;
    double *top;
};
static struct sample samples[32];
static size_t n_samples;

static struct sample *sample_find(const struct bx_tplgen_params *p, enum bx_device dev, size_t n)
{
    for (size_t i = 0; i < n_samples; ++i)
        if (samples[i].dev == dev && samples[i].n == n &&
            memcmp(&samples[i].params, p, sizeof *p) == 0) /* NOLINT: bytes, as memo_get */
            return &samples[i];
    return NULL;
}

/* Sample (p, dev, n)'s @p keep highest scores into top (m of them) and its count k, when
 * remembered with at least that many kept. */
static bool sample_get(const struct bx_tplgen_params *p, enum bx_device dev, size_t n, size_t keep,
                       double *top, size_t *m, size_t *k)
{
    pthread_mutex_lock(&memo_lock);
    const struct sample *s = sample_find(p, dev, n);
    bool hit = s != NULL && s->keep >= keep;
    if (hit) {
        *m = s->m < keep ? s->m : keep;
        *k = s->k;
        memcpy(top, s->top, *m * sizeof *top);
    }
    pthread_mutex_unlock(&memo_lock);
    return hit;
}

static void sample_put(const struct bx_tplgen_params *p, enum bx_device dev, size_t n, size_t keep,
                       const double *top, size_t m, size_t k)
{
    double *copy = malloc((m ? m : 1) * sizeof *copy);
    if (copy == NULL)
        return; /* only not remembered */
    memcpy(copy, top, m * sizeof *copy);
    pthread_mutex_lock(&memo_lock);
    struct sample *s = sample_find(p, dev, n);
    if (s == NULL && n_samples < sizeof samples / sizeof samples[0]) {
        s = &samples[n_samples++];
        memset(s, 0, sizeof *s);
        memcpy(&s->params, p, sizeof *p);
        s->dev = dev;
        s->n = n;
    }
    if (s != NULL && (s->top == NULL || s->keep < keep)) {
        free(s->top);
        s->top = copy;
        s->keep = keep;
        s->m = m;
        s->k = k;
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&memo_lock);
}

void bx_port__threshold_memo_clear(void)
{
    pthread_mutex_lock(&memo_lock);
    n_memo = 0;
    for (size_t i = 0; i < n_samples; ++i)
        free(samples[i].top);
    n_samples = 0;
    pthread_mutex_unlock(&memo_lock);
}

/* ---------------------------------------------------------------- one sample */

/* One thread's share of a sample's scores: its own top-k heap and count (the k highest scores of
 * a set are those of the union of its parts' k highest: the result does not depend on the
 * split). */
struct part {
    struct bx_topk heap;
    size_t n, k;
};

static void score_part(void *ctx, size_t q0, size_t nq, const float *s)
{
    struct part *p = ctx;
    size_t n = p->n;
    for (size_t i = 0; i < nq; ++i)
        for (size_t j = 0; j < n; ++j)
            if (q0 + i != j && !isnan(s[i * n + j])) {
                bx_topk_push(&p->heap, s[i * n + j]);
                ++p->k;
            }
}

/* The @p keep highest of the n(n-1) impostor scores of n subjects (document photo against a
 * capture by @p dev), descending, in @p top; *k receives the number of impostor scores (NaN
 * left out). Subjects are keyed 10^9 + i, so a larger sample extends a smaller one. The
 * captures and the probe blocks are shared among @p threads threads; the numbers do not depend
 * on how many. */
static enum bx_status impostor_top(const struct bx_tplgen *gen, enum bx_device dev, size_t n,
                                   size_t keep, unsigned threads, double *top, size_t *m, size_t *k,
                                   struct bx_error *err)
{
    size_t d = bx_tplgen_dim(gen);
    unsigned nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    struct bx_demog_mix mix = bx_demog_mix_default();
    float *e = malloc(n * d * sizeof *e), *q = malloc(n * d * sizeof *q);
    int64_t *ids = malloc(n * sizeof *ids);
    struct bx_tpl_job *jobs = malloc(2 * n * sizeof *jobs);
    struct part *parts = calloc(nt, sizeof *parts);
    double *heaps = malloc((size_t)nt * (keep ? keep : 1) * sizeof *heaps);
    struct bx_store *g = bx_store_alloc(d, n, err);
    enum bx_status st = BX_OK;
    if (!e || !q || !ids || !jobs || !parts || !heaps || !g) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for threshold calibration (%zu subjects)", n);
        goto done;
    }
    for (size_t i = 0; i < n; ++i) {
        struct bx_subject sub;
        bx_tplgen_subject(gen, (int64_t)(1000000000 + i), &mix, &sub);
        jobs[2 * i] = (struct bx_tpl_job){gen, sub, {BX_DEVICE_DOCUMENT, 1, 0}, 0, e + i * d};
        jobs[2 * i + 1] = (struct bx_tpl_job){gen, sub, {dev, 1, 0}, 1, q + i * d};
        ids[i] = sub.id;
    }
    bx_port_generate(jobs, 2 * n, nt);
    if ((st = bx_store_add(g, e, n, ids, NULL, err)) != BX_OK)
        goto done;
    for (unsigned t = 0; t < nt; ++t) {
        parts[t].n = n;
        bx_topk_init(&parts[t].heap, heaps + (size_t)t * keep, keep);
    }
    st = bx_match_score_blocks(g, q, n, BLOCK, nt, score_part, parts, sizeof *parts, err);
    struct bx_topk heap;
    bx_topk_init(&heap, top, keep);
    *k = 0;
    for (unsigned t = 0; t < nt && st == BX_OK; ++t) {
        for (size_t i = 0; i < parts[t].heap.n; ++i)
            bx_topk_push(&heap, parts[t].heap.v[i]);
        *k += parts[t].k;
    }
    *m = heap.n;
    bx_scores_sort_desc(top, *m);
done:
    bx_store_free(g);
    free(heaps);
    free(parts);
    free(jobs);
    free(ids);
    free(q);
    free(e);
    return st;
}

/* Subjects whose n(n-1) impostor scores put RESOLVE_MIN above FMR @p f. */
static size_t subjects_for(double f)
{
    double need = RESOLVE_MIN / f;
    double n = ceil((1 + sqrt(1 + 4 * need)) / 2);
    return n > 1e9 ? (size_t)1e9 : (size_t)n;
}

/* The 95% interval of an empirical threshold: the scores with about m -+ 1.96 sqrt(m) above
 * them (m = f k expected; the count above a fixed score is binomial, nearly Poisson), clamped to
 * the kept scores. */
static void order_interval(const double *top, size_t m_kept, double m, double *lo, double *hi)
{
    double h = 1.96 * sqrt(fmax(m, 1.0));
    size_t r_hi = m > h ? (size_t)floor(m - h) : 0, r_lo = (size_t)ceil(m + h);
    *hi = top[r_hi < m_kept ? r_hi : m_kept - 1];
    *lo = top[r_lo < m_kept ? r_lo : m_kept - 1];
}

/* What FMR @p f needs: the sample (the configured @p n0 subjects when they resolve f, else a
 * sample grown for f alone, so that a threshold depends on its own target only, never on which
 * other ports or targets came first) and how many of its highest scores to keep. */
struct need {
    double f;
    size_t n, keep;
};

static struct need need_for(size_t n0, double f)
{
    size_t want = subjects_for(f), n = n0;
    if (want > n)
        n = want < BX_PORT_CAL_MAX ? want : BX_PORT_CAL_MAX;
    double k_est = (double)n * (double)(n - 1), m_est = f * k_est;
    double keep_d = floor(m_est) + 1 + fmax(TIE_MARGIN, 2 * sqrt(m_est) + 2);
    if (m_est < RESOLVE_MIN) /* the tail model's exceedances and level */
        keep_d = fmax(keep_d, BX_PORT_TAIL_K + 1);
    keep_d = fmin(k_est, keep_d);
    return (struct need){f, n, (size_t)keep_d};
}

/* The threshold at FMR @p nd.f from the sample's @p m_all highest scores (descending, at least
 * nd.keep of them unless the sample has fewer) of its @p k: the same as from its own nd.keep
 * (the first nd.keep of a longer list of the highest scores are the nd.keep highest); at the
 * limit, from the tail model. */
static enum bx_status threshold_from(const double *top, size_t m_all, size_t k, struct need nd,
                                     enum bx_device dev, struct bx_port_threshold *out,
                                     struct bx_error *err)
{
    if (k == 0)
        return BX_FAIL(err, BX_EINVAL, "threshold calibration: no impostor scores");
    size_t m = m_all < nd.keep ? m_all : nd.keep, n = nd.n;
    double f = nd.f, expect = f * (double)k;
    *out = (struct bx_port_threshold){.value = bx_threshold_at_fmr_top(top, m, k, f),
                                      .target_fmr = f,
                                      .expected_above = expect,
                                      .subjects = n,
                                      .resolved = expect >= RESOLVE_MIN,
                                      .method = BX_THR_EMPIRICAL,
                                      .tail_xi = BX_NAN,
                                      .tail_sigma = BX_NAN};
    order_interval(top, m, expect, &out->lo, &out->hi);
    struct bx_tail_threshold t;
    if (!out->resolved && m > BX_PORT_TAIL_K &&
        bx_threshold_tail(top, BX_PORT_TAIL_K, k, f, 400, bx_hash64(n + (uint64_t)dev), &t) &&
        isfinite(t.lo)) {
        out->value = t.value;
        out->lo = t.lo;
        out->hi = t.hi;
        out->tail_xi = t.xi;
        out->tail_sigma = t.sigma;
        out->method = BX_THR_TAIL_MODEL;
    }
    return BX_OK;
}

/* Thresholds for @p n_t targets (FMR f[i] for captures by dev[i]), each not yet remembered: the
 * targets that need the same sample (device and size) share one computation of it, kept to the
 * largest number of highest scores any of them needs. */
static enum bx_status thresholds_for(const struct bx_tplgen *gen, const struct bx_tplgen_params *p,
                                     size_t n0, const enum bx_device *dev, const double *f,
                                     size_t n_t, unsigned threads, struct bx_port_threshold *out,
                                     struct bx_error *err)
{
    struct need *nd = malloc((n_t ? n_t : 1) * sizeof *nd);
    bool *done = calloc(n_t ? n_t : 1, sizeof *done);
    enum bx_status st = nd && done ? BX_OK : BX_FAIL(err, BX_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_t && st == BX_OK; ++i)
        nd[i] = need_for(n0, f[i]);
    for (size_t i = 0; i < n_t && st == BX_OK; ++i) {
        if (done[i])
            continue;
        size_t keep = 0;
        for (size_t j = i; j < n_t; ++j)
            if (!done[j] && dev[j] == dev[i] && nd[j].n == nd[i].n && nd[j].keep > keep)
                keep = nd[j].keep;
        double *top = malloc((keep ? keep : 1) * sizeof *top);
        size_t m = 0, k = 0;
        if (top == NULL)
            st = BX_FAIL(err, BX_ENOMEM, "out of memory for threshold calibration");
        else if (!sample_get(p, dev[i], nd[i].n, keep, top, &m, &k) &&
                 (st = impostor_top(gen, dev[i], nd[i].n, keep, threads, top, &m, &k, err)) ==
                     BX_OK)
            sample_put(p, dev[i], nd[i].n, keep, top, m, k);
        for (size_t j = i; j < n_t && st == BX_OK; ++j)
            if (!done[j] && dev[j] == dev[i] && nd[j].n == nd[i].n) {
                if ((st = threshold_from(top, m, k, nd[j], dev[j], &out[j], err)) != BX_OK)
                    break;
                memo_put(p, dev[j], n0, f[j], &out[j]);
                done[j] = true;
            }
        free(top);
    }
    free(done);
    free(nd);
    return st;
}

/* Port @p i's three targets: 1:n FPIR / gallery size, 1:1 verify FMR, watch list FPIR / size. */
static void targets_of(const struct bx_ports_config *cfg, size_t i, double f[3])
{
    const struct bx_port_config *pc = &cfg->ports[i];
    double size =
        pc->type == BX_PORT_LAND ? (double)pc->land.expected_gallery : pc->passengers_mean;
    f[0] = fmin(0.5, cfg->one_to_n_fpir / fmax(1, size));
    f[1] = cfg->verify_fmr;
    f[2] = cfg->watchlist_fpir / (double)(cfg->watchlist_size ? cfg->watchlist_size : 1);
}

enum bx_status bx_port__thresholds(const struct bx_ports_config *cfg, const struct bx_tplgen *gen,
                                   struct bx_port_threshold *thr, struct bx_error *err)
{
    size_t n0 = cfg->calibration_subjects ? cfg->calibration_subjects : 1500;
    const struct bx_tplgen_params *params = &cfg->profile;
    size_t n_t = cfg->n_ports > 0 ? 3 * cfg->n_ports : 1, miss = 0;
    enum bx_device *dev = malloc(n_t * sizeof *dev);
    double *f = malloc(n_t * sizeof *f);
    struct bx_port_threshold *got = malloc(n_t * sizeof *got);
    enum bx_status st = dev && f && got ? BX_OK : BX_FAIL(err, BX_ENOMEM, "out of memory");
    /* the targets not remembered yet, each once */
    for (size_t i = 0; i < cfg->n_ports && st == BX_OK; ++i) {
        double fi[3];
        targets_of(cfg, i, fi);
        for (size_t t = 0; t < 3; ++t) {
            enum bx_device d = cfg->ports[i].device;
            bool known = memo_get(params, d, n0, fi[t], &thr[3 * i + t]);
            for (size_t j = 0; j < miss && !known; ++j)
                known = dev[j] == d && f[j] == fi[t];
            if (!known) {
                dev[miss] = d;
                f[miss++] = fi[t];
            }
        }
    }
    unsigned threads = cfg->search_threads > 1 ? cfg->search_threads : 1;
    if (st == BX_OK && miss > 0)
        st = thresholds_for(gen, params, n0, dev, f, miss, threads, got, err);
    for (size_t i = 0; i < cfg->n_ports && st == BX_OK; ++i) {
        double fi[3];
        targets_of(cfg, i, fi);
        for (size_t t = 0; t < 3; ++t)
            for (size_t j = 0; j < miss; ++j)
                if (dev[j] == cfg->ports[i].device && f[j] == fi[t])
                    thr[3 * i + t] = got[j];
    }
    free(dev);
    free(f);
    free(got);
    return st;
}

enum bx_status bx_port_threshold_for(const struct bx_tplgen_params *params, enum bx_device dev,
                                     size_t subjects, double fmr, unsigned threads,
                                     struct bx_port_threshold *out, struct bx_error *err)
{
    size_t n0 = subjects ? subjects : 1500;
    if (memo_get(params, dev, n0, fmr, out))
        return BX_OK;
    struct bx_tplgen *gen = bx_tplgen_alloc(params, err);
    if (gen == NULL)
        return err && err->code != BX_OK ? err->code : BX_ENOMEM;
    enum bx_status st = thresholds_for(gen, params, n0, &dev, &fmr, 1, threads, out, err);
    bx_tplgen_free(gen);
    return st;
}
