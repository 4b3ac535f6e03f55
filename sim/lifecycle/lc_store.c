/* SPDX-License-Identifier: MIT */
/* lc_store.c - the false-positive identification rate of a 1:N search of the whole BIMS store.
 *
 * Measured with real searches: a store of N synthetic enrolled entry photos, searched with exit
 * captures of people not in it (non-mated), at the exit threshold; FPIR = probes with any
 * candidate at or above it, with a Clopper-Pearson interval. Beyond the sizes measured, a model
 * with FMR at the threshold from n(n-1) impostor scores of a calibration sample (the empirical
 * fraction where at least 30 scores lie above the threshold, else a generalised Pareto model of
 * the sample's upper tail with a bootstrap interval over its exceedances) and the spread of the
 * per-probe FMR across probes (a gamma distribution of shape k by the method of moments):
 * FPIR(N) = 1 - (1 + N FMR / k)^-k, which is 1 - (1 - FMR)^N (independent comparisons,
 * bx_fpir_expected) when probes do not differ.
 */
#define _POSIX_C_SOURCE 200809L
#include "lc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 256
#define TAIL_K 400
#define BOOT 200

static void store_subject(const struct bx_tplgen *g, int64_t id, struct bx_subject *s)
{
    struct bx_demog_mix mix = bx_demog_mix_default();
    bx_tplgen_subject(g, id, &mix, s);
}

/* Exceedance probability of @p t under a GPD tail (xi, sigma over u, a share p_u above u). */
static double tail_p(double t, double u, double xi, double sigma, double p_u)
{
    if (t <= u)
        return p_u;
    double z = (t - u) / sigma;
    if (fabs(xi) < 1e-9)
        return p_u * exp(-z);
    double b = 1 + xi * z;
    return b <= 0 ? 0 : p_u * pow(b, -1 / xi);
}

/* The gamma shape of the per-probe FMR at the threshold from each probe's count of its n - 1
 * impostor scores at or above it (their sum and sum of squares over the n probes): a binomial
 * count with a varying p has variance m pbar (1 - pbar) + m^2 var(p). INF when the counts vary
 * no more than a binomial's. */
static double gamma_shape(double sum, double sq, size_t n)
{
    double mm = (double)(n - 1), mean = sum / (double)n;
    double var = (sq - sum * sum / (double)n) / (double)(n - 1);
    double pbar = mean / mm, vp = (var - mm * pbar * (1 - pbar)) / (mm * mm);
    return vp > 0 && pbar > 0 ? pbar * pbar / vp : BX_INF;
}

/* One thread's share of the impostor scores: its own heap of the highest, the count of scores
 * and of those at or above the threshold, and the per-probe counts' sum and sum of squares
 * (integers, exact in double in any order: the result does not depend on the split). */
struct fmr_part {
    struct bx_topk heap;
    double threshold;
    size_t n;
    uint64_t total, above;
    double csum, csq;
};

static void count_block(void *ctx, size_t q0, size_t nq, const float *s)
{
    struct fmr_part *p = ctx;
    size_t n = p->n;
    for (size_t i = 0; i < nq; ++i) {
        double c = 0;
        for (size_t j = 0; j < n; ++j)
            if (q0 + i != j && !isnan(s[i * n + j])) {
                p->total++;
                c += (double)s[i * n + j] >= p->threshold;
                bx_topk_push(&p->heap, s[i * n + j]);
            }
        p->above += (uint64_t)c;
        p->csum += c;
        p->csq += c * c;
    }
}

enum bx_status bx_lc_fmr_at(const struct bx_lc_config *cfg, double threshold, size_t subjects,
                            struct bx_lc_fmr *out, struct bx_error *err)
{
    struct bx_tplgen *gen = bx_tplgen_alloc(&cfg->profile, err);
    if (gen == NULL)
        return err && err->code ? err->code : BX_ENOMEM;
    size_t n = subjects < 100 ? 100 : subjects, d = bx_tplgen_dim(gen);
    unsigned nt = cfg->threads < 1 ? 1 : cfg->threads > 64 ? 64 : cfg->threads;
    enum bx_device enrol = cfg->modes[BX_LC_AIR].entry_device,
                   probe = cfg->modes[BX_LC_AIR].exit_device;
    float *e = malloc(n * d * sizeof *e), *q = malloc(n * d * sizeof *q);
    int64_t *ids = malloc(n * sizeof *ids);
    struct bx_tpl_job *jobs = malloc(2 * n * sizeof *jobs);
    struct fmr_part *parts = calloc(nt, sizeof *parts);
    double *heaps = malloc((size_t)nt * (TAIL_K + 1) * sizeof *heaps);
    double *top = malloc((TAIL_K + 1) * sizeof *top);
    struct bx_store *g = bx_store_alloc(d, n, err);
    enum bx_status st = BX_OK;
    if (!e || !q || !ids || !jobs || !parts || !heaps || !top || !g) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for the store's FMR (%zu subjects)", n);
        goto done;
    }
    for (size_t i = 0; i < n; ++i) {
        struct bx_subject sub;
        store_subject(gen, LC_ID_STORE + 2000000000LL + (int64_t)i, &sub);
        jobs[2 * i] = (struct bx_tpl_job){gen, sub, {enrol, 1, 0}, 1, e + i * d};
        jobs[2 * i + 1] = (struct bx_tpl_job){gen, sub, {probe, 1, 0.5}, 2, q + i * d};
        ids[i] = sub.id;
    }
    bx_port_generate(jobs, 2 * n, nt);
    if ((st = bx_store_add(g, e, n, ids, NULL, err)) != BX_OK)
        goto done;
    for (unsigned t = 0; t < nt; ++t) {
        parts[t] = (struct fmr_part){.threshold = threshold, .n = n};
        bx_topk_init(&parts[t].heap, heaps + (size_t)t * (TAIL_K + 1), TAIL_K + 1);
    }
    if ((st = bx_match_score_blocks(g, q, n, BLOCK, nt, count_block, parts, sizeof *parts, err)) !=
        BX_OK)
        goto done;
    struct bx_topk heap;
    bx_topk_init(&heap, top, TAIL_K + 1);
    uint64_t total = 0, above = 0;
    double csum = 0, csq = 0; /* per-probe counts above the threshold */
    for (unsigned t = 0; t < nt; ++t) {
        for (size_t i = 0; i < parts[t].heap.n; ++i)
            bx_topk_push(&heap, parts[t].heap.v[i]);
        total += parts[t].total;
        above += parts[t].above;
        csum += parts[t].csum;
        csq += parts[t].csq;
    }
    size_t m = heap.n;
    bx_scores_sort_desc(top, m);
    out->threshold = threshold;
    double shape = gamma_shape(csum, csq, n);
    if (above >= 30 || m <= TAIL_K) {
        struct bx_ci ci = bx_ci_binomial(above, total, 0.95);
        *out = (struct bx_lc_fmr){
            threshold,        (double)above / (double)total, ci.lo, ci.hi, "empirical", shape,
            "impostor counts"};
        goto done;
    }
    struct bx_tail_threshold t;
    if (!bx_threshold_tail(top, TAIL_K, total, 1e-9, 0, 1, &t)) {
        st = BX_FAIL(err, BX_EINVAL, "the store's FMR: the tail model could not be fitted");
        goto done;
    }
    double p_u = (double)TAIL_K / (double)total;
    out->fmr = tail_p(threshold, t.u, t.xi, t.sigma, p_u);
    out->method = "tail model";
    out->shape = shape;
    snprintf(out->shape_from, sizeof out->shape_from, "impostor counts");
    /* bootstrap over the exceedances: refit, evaluate at the threshold */
    double *bs = malloc(BOOT * sizeof *bs), *res = malloc((TAIL_K + 1) * sizeof *res);
    if (bs == NULL || res == NULL) {
        free(bs);
        free(res);
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t state = 0x5eed;
    size_t nb = 0;
    for (size_t b = 0; b < BOOT; ++b) {
        for (size_t i = 0; i < TAIL_K; ++i) {
            state = bx_hash64(state + 0x9e3779b97f4a7c15ULL);
            res[i] = top[state % TAIL_K];
        }
        bx_scores_sort_desc(res, TAIL_K);
        res[TAIL_K] = top[TAIL_K];
        struct bx_tail_threshold tb;
        if (bx_threshold_tail(res, TAIL_K, total, 1e-9, 0, 1, &tb))
            bs[nb++] = tail_p(threshold, tb.u, tb.xi, tb.sigma, p_u);
    }
    if (nb >= 20) {
        bx_scores_sort_desc(bs, nb);
        out->hi = bs[(size_t)(0.025 * (double)nb)];
        out->lo = bs[(size_t)(0.975 * (double)(nb - 1))];
    } else {
        out->lo = out->hi = BX_NAN;
    }
    free(bs);
    free(res);
done:
    bx_store_free(g);
    free(top);
    free(heaps);
    free(parts);
    free(jobs);
    free(ids);
    free(q);
    free(e);
    bx_tplgen_free(gen);
    return st;
}

/* FPIR of a search of @p size templates at per-comparison FMR @p fmr with gamma shape @p k. */
static double fpir_of(double fmr, double k, double size)
{
    size_t n = size >= 1e18 ? (size_t)1e18 : (size_t)size;
    if (!isfinite(fmr))
        return BX_NAN;
    if (!isfinite(k))
        return bx_fpir_expected(fmr, n);
    return 1 - exp(-k * log1p(size * fmr / k));
}

static void model_point(const struct bx_lc_fmr *f, double size, struct bx_lc_fpir_point *p)
{
    p->size = size;
    p->fpir = fpir_of(f->fmr, f->shape, size);
    p->lo = fpir_of(f->lo, f->shape, size);
    p->hi = fpir_of(f->hi, f->shape, size);
    p->independent = fpir_of(f->fmr, BX_INF, size);
    p->candidates = size * f->fmr;
}

/* The spread k that makes the model pass through the largest measured FPIR with hits strictly
 * between none and every probe (FPIR grows with k: bisection on log k), then the model points
 * again. Without such a point the counts' k stays. */
static void refit_shape(struct bx_lc_fmr *f, struct bx_lc_fpir_point *pts, size_t n)
{
    const struct bx_lc_fpir_point *best = NULL;
    for (size_t i = 0; i < n; ++i)
        if (pts[i].measured && pts[i].hits > 0 && pts[i].hits < pts[i].probes &&
            (best == NULL || pts[i].size > best->size))
            best = &pts[i];
    if (best == NULL || !(f->fmr > 0))
        return;
    double want = best->measured_fpir, lo = log(1e-3), hi = log(1e6);
    if (want >= fpir_of(f->fmr, exp(hi), best->size)) {
        f->shape = BX_INF;
    } else if (want <= fpir_of(f->fmr, exp(lo), best->size)) {
        f->shape = exp(lo);
    } else {
        for (int it = 0; it < 100; ++it) {
            double mid = 0.5 * (lo + hi);
            if (fpir_of(f->fmr, exp(mid), best->size) < want)
                lo = mid;
            else
                hi = mid;
        }
        f->shape = exp(0.5 * (lo + hi));
    }
    snprintf(f->shape_from, sizeof f->shape_from, "search of %.0f", best->size);
    for (size_t i = 0; i < n; ++i)
        model_point(f, pts[i].size, &pts[i]);
}

enum bx_status bx_lc_store_fpir(const struct bx_lc_config *cfg, struct bx_lc_fmr *fmr,
                                const double *sizes, size_t n_sizes, unsigned threads,
                                const struct bx_lc_searcher *sh, struct bx_lc_fpir_point *out,
                                struct bx_error *err)
{
    const struct bx_lc_bims *b = &cfg->bims;
    for (size_t i = 0; i < n_sizes; ++i) {
        memset(&out[i], 0, sizeof out[i]);
        model_point(fmr, sizes[i], &out[i]);
    }
    size_t nm = b->n_measure;
    if (nm == 0)
        return BX_OK;
    unsigned rank = sh ? sh->rank : 0, size = sh && sh->size > 0 ? sh->size : 1;
    uint64_t largest = 0;
    for (size_t i = 0; i < nm; ++i)
        largest = b->measure_sizes[i] > largest ? b->measure_sizes[i] : largest;
    struct bx_tplgen *gen = bx_tplgen_alloc(&cfg->profile, err);
    if (gen == NULL)
        return err && err->code ? err->code : BX_ENOMEM;
    size_t d = bx_tplgen_dim(gen), np = b->measure_probes, slab = 65536;
    enum bx_device enrol = cfg->modes[BX_LC_AIR].entry_device,
                   probe = cfg->modes[BX_LC_AIR].exit_device;
    float *q = malloc(np * d * sizeof *q), *t = malloc(slab * d * sizeof *t);
    int64_t *ids = malloc(slab * sizeof *ids);
    struct bx_tpl_job *jobs = malloc((slab > np ? slab : np) * sizeof *jobs);
    struct bx_hit *hit = malloc(np * sizeof *hit);
    size_t *nh = malloc(np * sizeof *nh);
    struct bx_store *g = NULL;
    enum bx_status st = BX_OK;
    if (!q || !t || !ids || !jobs || !hit || !nh) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for a store of %llu templates",
                     (unsigned long long)largest);
        goto done;
    }
    struct bx_demog_mix mix = bx_demog_mix_default();
    for (size_t j = 0; j < np; ++j) {
        struct bx_subject s;
        bx_tplgen_subject(gen, LC_ID_STORE + 1000000000LL + (int64_t)j, &mix, &s);
        jobs[j] = (struct bx_tpl_job){gen, s, (struct bx_capture){probe, 1, 0.5}, 2, q + j * d};
    }
    bx_port_generate(jobs, np, threads);
    /* Sizes in increasing order; for each, this rank's rows [N rank / size, N (rank + 1) /
     * size) of the store (templates are pure functions of their row: no rank needs another's) */
    uint64_t done_sizes = 0;
    for (size_t step = 0; step < nm && st == BX_OK; ++step) {
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < nm; ++i)
            if (b->measure_sizes[i] > done_sizes && b->measure_sizes[i] < next)
                next = b->measure_sizes[i];
        if (next == UINT64_MAX)
            break;
        double t0 = bx_wall_s();
        size_t r0 = (size_t)(next * rank / size), r1 = (size_t)(next * (rank + 1) / size);
        bx_store_free(g);
        if ((g = bx_store_alloc(d, r1 - r0, err)) == NULL) {
            st = err && err->code ? err->code : BX_ENOMEM;
            break;
        }
        for (size_t have = r0; have < r1 && st == BX_OK;) {
            size_t m = r1 - have < slab ? r1 - have : slab;
            for (size_t j = 0; j < m; ++j) {
                struct bx_subject s;
                ids[j] = LC_ID_STORE + (int64_t)(have + j);
                bx_tplgen_subject(gen, ids[j], &mix, &s);
                jobs[j] =
                    (struct bx_tpl_job){gen, s, (struct bx_capture){enrol, 1, 0}, 1, t + j * d};
            }
            bx_port_generate(jobs, m, threads);
            st = bx_store_add(g, t, m, ids, NULL, err);
            have += m;
        }
        if (st != BX_OK)
            break;
        struct bx_search_opts so = bx_search_opts_default();
        so.k = 1;
        so.threshold = fmr->threshold;
        so.threads = threads;
        so.fast = next > 1024;
        st = sh && sh->search ? sh->search(sh->ctx, g, r0, q, np, &so, hit, nh, err)
                              : bx_match_one_to_n(g, q, np, &so, hit, nh, err);
        if (st != BX_OK)
            break;
        uint64_t hits = 0;
        for (size_t j = 0; j < np; ++j)
            hits += nh[j] > 0;
        struct bx_ci ci = bx_ci_binomial(hits, np, 0.95);
        for (size_t i = 0; i < n_sizes; ++i)
            if ((uint64_t)sizes[i] == next) {
                out[i].measured = true;
                out[i].probes = np;
                out[i].hits = hits;
                out[i].measured_fpir = (double)hits / (double)np;
                out[i].measured_lo = ci.lo;
                out[i].measured_hi = ci.hi;
                out[i].wall_s = bx_wall_s() - t0;
            }
        done_sizes = next;
    }
    if (st == BX_OK)
        refit_shape(fmr, out, n_sizes);
done:
    bx_store_free(g);
    free(nh);
    free(hit);
    free(jobs);
    free(ids);
    free(t);
    free(q);
    bx_tplgen_free(gen);
    return st;
}
