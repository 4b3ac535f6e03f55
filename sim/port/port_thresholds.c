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

/* ---------------------------------------------------------------- one sample */

/* The @p keep highest of the n(n-1) impostor scores of n subjects (document photo against a
 * capture by @p dev), descending, in @p top; *k receives the number of impostor scores (NaN
 * left out). Subjects are keyed 10^9 + i, so a larger sample extends a smaller one. */
static enum bx_status impostor_top(const struct bx_tplgen *gen, enum bx_device dev, size_t n,
                                   size_t keep, double *top, size_t *m, size_t *k,
                                   struct bx_error *err)
{
    size_t d = bx_tplgen_dim(gen);
    struct bx_demog_mix mix = bx_demog_mix_default();
    float *e = malloc(n * d * sizeof *e), *q = malloc(n * d * sizeof *q);
    float *s = malloc(BLOCK * n * sizeof *s);
    int64_t *ids = malloc(n * sizeof *ids);
    struct bx_store *g = bx_store_alloc(d, n, err);
    enum bx_status st = BX_OK;
    if (!e || !q || !s || !ids || !g) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for threshold calibration (%zu subjects)", n);
        goto done;
    }
    for (size_t i = 0; i < n; ++i) {
        struct bx_subject sub;
        bx_tplgen_subject(gen, (int64_t)(1000000000 + i), &mix, &sub);
        struct bx_capture ce = {BX_DEVICE_DOCUMENT, 1, 0}, cp = {dev, 1, 0};
        bx_tplgen_capture(gen, &sub, &ce, 0, e + i * d);
        bx_tplgen_capture(gen, &sub, &cp, 1, q + i * d);
        ids[i] = sub.id;
    }
    if ((st = bx_store_add(g, e, n, ids, NULL, err)) != BX_OK)
        goto done;
    struct bx_topk heap;
    bx_topk_init(&heap, top, keep);
    *k = 0;
    for (size_t b = 0; b < n && st == BX_OK; b += BLOCK) {
        size_t nb = n - b < BLOCK ? n - b : BLOCK;
        if ((st = bx_match_scores(g, q + b * d, nb, s, err)) != BX_OK)
            break;
        for (size_t i = 0; i < nb; ++i)
            for (size_t j = 0; j < n; ++j)
                if (b + i != j && !isnan(s[i * n + j])) {
                    bx_topk_push(&heap, s[i * n + j]);
                    ++*k;
                }
    }
    *m = heap.n;
    bx_scores_sort_desc(top, *m);
done:
    bx_store_free(g);
    free(ids);
    free(s);
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

/* The threshold at FMR @p f for device @p dev: from the configured sample of @p n0 subjects
 * when it resolves f, else from a sample grown for f alone (so that a threshold depends on its
 * own target only, never on which other ports or targets came first); at the limit, from the
 * tail model of that sample. */
static enum bx_status one_threshold(const struct bx_tplgen *gen, enum bx_device dev, size_t n0,
                                    double f, struct bx_port_threshold *out, struct bx_error *err)
{
    size_t want = subjects_for(f), n = n0;
    if (want > n)
        n = want < BX_PORT_CAL_MAX ? want : BX_PORT_CAL_MAX;
    double k_est = (double)n * (double)(n - 1), m_est = f * k_est;
    double keep_d = floor(m_est) + 1 + fmax(TIE_MARGIN, 2 * sqrt(m_est) + 2);
    if (m_est < RESOLVE_MIN) /* the tail model's exceedances and level */
        keep_d = fmax(keep_d, BX_PORT_TAIL_K + 1);
    keep_d = fmin(k_est, keep_d);
    size_t keep = (size_t)keep_d;
    double *top = malloc((keep ? keep : 1) * sizeof *top);
    if (top == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for threshold calibration");
    size_t m = 0, k = 0;
    enum bx_status st = impostor_top(gen, dev, n, keep, top, &m, &k, err);
    if (st == BX_OK && k == 0)
        st = BX_FAIL(err, BX_EINVAL, "threshold calibration: no impostor scores");
    if (st == BX_OK) {
        double expect = f * (double)k;
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
    }
    free(top);
    return st;
}

enum bx_status bx_port__thresholds(const struct bx_ports_config *cfg, const struct bx_tplgen *gen,
                                   struct bx_port_threshold *thr, struct bx_error *err)
{
    size_t n0 = cfg->calibration_subjects ? cfg->calibration_subjects : 1500;
    const struct bx_tplgen_params *params = &cfg->profile;
    enum bx_status st = BX_OK;
    for (size_t i = 0; i < cfg->n_ports && st == BX_OK; ++i) {
        const struct bx_port_config *pc = &cfg->ports[i];
        double size =
            pc->type == BX_PORT_LAND ? (double)pc->land.expected_gallery : pc->passengers_mean;
        double f[3] = {fmin(0.5, cfg->one_to_n_fpir / fmax(1, size)), cfg->verify_fmr,
                       cfg->watchlist_fpir /
                           (double)(cfg->watchlist_size ? cfg->watchlist_size : 1)};
        for (size_t t = 0; t < 3 && st == BX_OK; ++t) {
            struct bx_port_threshold *o = &thr[3 * i + t];
            if (memo_get(params, pc->device, n0, f[t], o))
                continue;
            if ((st = one_threshold(gen, pc->device, n0, f[t], o, err)) == BX_OK)
                memo_put(params, pc->device, n0, f[t], o);
        }
    }
    return st;
}

enum bx_status bx_port_threshold_for(const struct bx_tplgen_params *params, enum bx_device dev,
                                     size_t subjects, double fmr, struct bx_port_threshold *out,
                                     struct bx_error *err)
{
    size_t n0 = subjects ? subjects : 1500;
    if (memo_get(params, dev, n0, fmr, out))
        return BX_OK;
    struct bx_tplgen *gen = bx_tplgen_alloc(params, err);
    if (gen == NULL)
        return err && err->code != BX_OK ? err->code : BX_ENOMEM;
    enum bx_status st = one_threshold(gen, dev, n0, fmr, out, err);
    bx_tplgen_free(gen);
    if (st == BX_OK)
        memo_put(params, dev, n0, fmr, out);
    return st;
}
