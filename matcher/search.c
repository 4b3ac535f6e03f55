/* SPDX-License-Identifier: MIT */
/* search.c - 1:N identification: blocked SGEMM (or int8) fused with per-probe top-k, then exact
 * re-scoring in double.
 *
 * The gallery is cut into contiguous row ranges, one per thread, and each range into blocks of B
 * rows; a block's probe x row scores live only in a per-thread buffer of n_q * B floats. For
 * each probe a thread keeps (a) a min-heap of the k best approximate scores, which gives a cutoff,
 * and (b) every row whose approximate score reached the cutoff when seen. Exact path: the cutoff
 * is the k-th best float score minus twice the rounding bound of a float32 dot product, so the
 * true top k are always among the candidates; the survivors are re-scored in double and sorted
 * by (score desc, row asc). Because the final order is computed from exact scores, it is the same
 * for any block size or thread count. Fast path: the same with int8 scores, a short list of
 * L = max(4k, k + 32) per probe and no margin.
 */
#include "matcher_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

struct cand {
    float s;
    uint32_t row;
};

/* Approximate-score bookkeeping of one probe in one thread. */
struct pstate {
    float *heap; /* min-heap of the best `keep` approximate scores */
    uint32_t *heap_row;
    size_t heap_n;
    struct cand *c;
    size_t n, cap;
    float cutoff;
};

struct job {
    const struct bx_store *g;
    const struct bx_search_opts *o;
    size_t n_q;
    const float *probes;   /* n_q * stride, normalised, zero padded */
    const int8_t *qprobes; /* fast: n_q * fast.stride (offset by 128 for VNNI) */
    const float *qscale;   /* fast: n_q */
    const int32_t *qsum;   /* fast: n_q sums of the quantised probes */
    const struct bx_match__i8_kernel *i8;
    bx_match__f32_fn *f32;        /* exact with few probes: streaming dot products */
    bx_match__f32_batch_fn *f32b; /* exact, small and middle batches: register-blocked */
    size_t keep;                  /* heap size: k (exact) or L (fast) */
    float margin;                 /* exact: 2 * rounding bound; fast: 0 */
    float thr_cut;                /* threshold lowered by the margin (or -inf) */
    size_t block;
    size_t r0, r1;     /* this thread's rows */
    struct pstate *ps; /* n_q */
    float *buf;        /* n_q * block (exact) or block (fast) */
    int32_t *ibuf;     /* fast: the kernel's max_probes * block */
    uint32_t *sel;     /* fast: block (rows over the cutoff) */
    enum bx_status status;
};

/* Ordering used by the fast path's heaps: a is worse than b. */
static inline bool worse(float sa, uint32_t ra, float sb, uint32_t rb)
{
    return sa < sb || (sa == sb && ra > rb);
}

static void heap_sift_down(float *h, uint32_t *hr, size_t n, size_t i)
{
    float s = h[i];
    uint32_t r = hr[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && worse(h[c + 1], hr[c + 1], h[c], hr[c]))
            ++c;
        if (!worse(h[c], hr[c], s, r))
            break;
        h[i] = h[c];
        hr[i] = hr[c];
        i = c;
    }
    h[i] = s;
    hr[i] = r;
}

static void heap_push(float *h, uint32_t *hr, size_t *n, float s, uint32_t r)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(s, r, h[p], hr[p]))
            break;
        h[i] = h[p];
        hr[i] = hr[p];
        i = p;
    }
    h[i] = s;
    hr[i] = r;
}

static bool cand_push(struct pstate *p, float s, uint32_t row)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct cand *c = realloc(p->c, cap * sizeof *c);
        if (c == NULL)
            return false;
        p->c = c;
        p->cap = cap;
    }
    p->c[p->n++] = (struct cand){s, row};
    return true;
}

/* Offer row `row` with approximate score s to probe state p. */
static inline bool offer(struct job *j, struct pstate *p, float s, uint32_t row)
{
    if (!(s >= p->cutoff))
        return true;
    if (p->heap_n < j->keep) {
        heap_push(p->heap, p->heap_row, &p->heap_n, s, row);
    } else if (worse(p->heap[0], p->heap_row[0], s, row)) {
        p->heap[0] = s;
        p->heap_row[0] = row;
        heap_sift_down(p->heap, p->heap_row, p->heap_n, 0);
    } else if (j->margin == 0) {
        return true; /* fast path: not in the short list */
    }
    if (p->heap_n == j->keep) {
        float c = p->heap[0] - j->margin;
        p->cutoff = c > j->thr_cut ? c : j->thr_cut;
    }
    if (j->margin == 0)
        return true; /* fast path keeps its heap only */
    if (!cand_push(p, s, row))
        return false;
    if (p->n > 4 * j->keep + 256) {
        size_t w = 0;
        for (size_t i = 0; i < p->n; ++i)
            if (p->c[i].s >= p->cutoff)
                p->c[w++] = p->c[i];
        p->n = w;
    }
    return true;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    const struct bx_store *g = j->g;
    for (size_t b0 = j->r0; b0 < j->r1; b0 += j->block) {
        size_t nb = j->r1 - b0 < j->block ? j->r1 - b0 : j->block;
        if (j->i8 == NULL) {
            const float *gb = g->tpl + b0 * g->stride;
            if (j->f32 != NULL) {
                for (size_t q = 0; q < j->n_q; ++q)
                    j->f32(j->probes + q * g->stride, gb, g->stride, g->dim, nb, j->buf + q * nb);
            } else if (j->f32b != NULL) {
                j->f32b(j->probes, j->n_q, gb, g->stride, nb, j->buf);
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->n_q, (int)nb,
                            (int)g->dim, 1.0f, j->probes, (int)g->stride, gb, (int)g->stride, 0.0f,
                            j->buf, (int)nb);
            }
            for (size_t q = 0; q < j->n_q; ++q) {
                const float *s = j->buf + q * nb;
                struct pstate *p = &j->ps[q];
                for (size_t i = 0; i < nb; ++i) {
                    float v = s[i];
                    if (v >= p->cutoff && g->live[b0 + i] && !offer(j, p, v, (uint32_t)(b0 + i))) {
                        j->status = BX_ENOMEM;
                        return NULL;
                    }
                }
            }
        } else {
            const struct bx_fast_index *ix = &g->fast;
            size_t mp = j->i8->max_probes;
            for (size_t q0 = 0; q0 < j->n_q; q0 += mp) {
                size_t n_p = j->n_q - q0 < mp ? j->n_q - q0 : mp;
                j->i8->fn(j->qprobes + q0 * ix->stride, j->qsum + q0, n_p, ix, b0, b0 + nb,
                          j->ibuf);
                for (size_t pj = 0; pj < n_p; ++pj) {
                    struct pstate *p = &j->ps[q0 + pj];
                    float sp = j->qscale[q0 + pj];
                    const int32_t *d = j->ibuf + pj * nb;
                    size_t ns = bx_match__i8_select(d, nb, sp, ix->scale + b0, p->cutoff, j->sel);
                    for (size_t k = 0; k < ns; ++k) {
                        size_t i = j->sel[k];
                        float s = (float)d[i] * sp * ix->scale[b0 + i];
                        if (s >= p->cutoff && g->live[b0 + i])
                            offer(j, p, s, (uint32_t)(b0 + i));
                    }
                }
            }
        }
    }
    return NULL;
}

static int cmp_hit(const void *a, const void *b)
{
    const struct bx_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cmp_cand_desc(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* int8 pays where memory is the limit (few probes: a quarter of the bytes per row), for
 * batches of up to a few hundred probes (AVX2, Zen 3: 65 M comparisons/s per core at 32 probes
 * against 43 M for SGEMM, whose packing dominates small batches), and wherever the CPU multiplies
 * bytes much faster than floats (VNNI). Large batches go through SGEMM (78 M/s at 1024 probes
 * against 72 M). BX_MATCH_ISA forces the int8 kernel (tests, benchmarks). */
static bool uses_int8(const char *isa, size_t n_q)
{
    return n_q < 512 || strcmp(isa, "avx512-vnni") == 0 || strcmp(isa, "amx-int8") == 0 ||
           getenv("BX_MATCH_ISA") != NULL;
}

const char *bx_match_engine(bool fast, size_t n_q)
{
    if (fast) {
        const char *isa = bx_match__i8_kernel()->name;
        if (uses_int8(isa, n_q))
            return strcmp(isa, "amx-int8") == 0      ? "int8-amx"
                   : strcmp(isa, "avx512-vnni") == 0 ? "int8-avx512-vnni"
                   : strcmp(isa, "avx2") == 0        ? "int8-avx2"
                                                     : "int8-portable";
    }
    if (n_q < 4)
        return "f32-stream";
    return n_q <= 64 && bx_match__f32_batch_kernel() ? "f32-microkernel" : "sgemm";
}

struct bx_search_opts bx_search_opts_default(void)
{
    return (struct bx_search_opts){.k = 10, .threshold = -BX_INF, .fast = false, .threads = 0};
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single(void)
{
    /* We parallelise over gallery ranges ourselves; OpenBLAS runs in the calling thread. */
    openblas_set_num_threads(1);
}

static void pstate_free(struct pstate *ps, size_t n)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < n; ++i) {
        free(ps[i].heap);
        free(ps[i].heap_row);
        free(ps[i].c);
    }
    free(ps);
}

/* Collect probe q's candidates from every job into `all`; for the exact path keep those within
 * the margin of the global k-th float score, for the fast path the global top L. */
static size_t gather(struct job *jobs, unsigned nt, size_t q, bool fast, size_t keep, float margin,
                     float thr_cut, struct cand *all)
{
    size_t n = 0;
    for (unsigned t = 0; t < nt; ++t) {
        struct pstate *p = &jobs[t].ps[q];
        if (fast) {
            for (size_t i = 0; i < p->heap_n; ++i)
                all[n++] = (struct cand){p->heap[i], p->heap_row[i]};
        } else {
            if (p->n)
                memcpy(all + n, p->c, p->n * sizeof *all);
            n += p->n;
        }
    }
    qsort(all, n, sizeof *all, cmp_cand_desc);
    if (fast)
        return n < keep ? n : keep;
    float cut = thr_cut;
    if (n >= keep && all[keep - 1].s - margin > cut)
        cut = all[keep - 1].s - margin;
    size_t w = 0;
    while (w < n && all[w].s >= cut)
        ++w;
    return w;
}

struct merge {
    struct job *jobs;
    unsigned nt;
    const struct bx_store *g;
    const struct bx_search_opts *o;
    const float *P;
    struct bx_hit *hits;
    size_t *n_hits;
    bool fast;
    size_t keep;
    float margin, thr_cut;
    struct bx_shard_hit *shard; /* bx_match_shard: candidates instead of hits */
    size_t row0, shard_cap;
};

struct merge_part {
    const struct merge *m;
    size_t q0, q1;
    enum bx_status status;
};

static void *merge_worker(void *arg)
{
    struct merge_part *part = arg;
    const struct merge *m = part->m;
    const struct bx_store *g = m->g;
    size_t max_c = 0;
    for (size_t q = part->q0; q < part->q1; ++q) {
        size_t c = 0;
        for (unsigned t = 0; t < m->nt; ++t)
            c += m->fast ? m->jobs[t].ps[q].heap_n : m->jobs[t].ps[q].n;
        max_c = c > max_c ? c : max_c;
    }
    struct cand *all = malloc((max_c ? max_c : 1) * sizeof *all);
    struct bx_hit *tmp = malloc((max_c ? max_c : 1) * sizeof *tmp);
    if (all == NULL || tmp == NULL) {
        part->status = BX_ENOMEM;
        goto done;
    }
    for (size_t q = part->q0; q < part->q1; ++q) {
        size_t n = gather(m->jobs, m->nt, q, m->fast, m->keep, m->margin, m->thr_cut, all);
        const float *pq = m->P + q * g->stride;
        for (size_t c0 = 0; c0 < n; c0 += 4) { /* four candidates at once: independent sums */
            size_t nc = n - c0 < 4 ? n - c0 : 4;
            const float *rows[4];
            double sc[4];
            for (size_t c = 0; c < nc; ++c)
                rows[c] = g->tpl + all[c0 + c].row * g->stride;
            /* the next four candidates' rows on their way while these are scored (gallery rows
             * in no order: each a cache miss otherwise) */
            for (size_t c = c0 + 4; c < c0 + 8 && c < n; ++c)
                for (size_t l = 0; l < g->dim; l += 16)
                    __builtin_prefetch(g->tpl + all[c].row * g->stride + l);
            if (nc == 4)
                bx_match__dot4(pq, rows, g->dim, sc);
            else
                for (size_t c = 0; c < nc; ++c)
                    sc[c] = bx_match__dot(pq, rows[c], g->dim);
            for (size_t c = 0; c < nc; ++c) {
                uint32_t r = all[c0 + c].row;
                tmp[c0 + c] = (struct bx_hit){sc[c], r, g->subject[r]};
            }
        }
        if (m->shard != NULL) {
            /* A shard's candidates: the short list with its int8 scores, or the top k. */
            struct bx_shard_hit *out = m->shard + q * m->shard_cap;
            size_t c = 0;
            if (!m->fast)
                qsort(tmp, n, sizeof *tmp, cmp_hit);
            for (size_t i = 0; i < n && c < m->shard_cap; ++i) {
                if (!m->fast && !(tmp[i].score >= m->o->threshold))
                    break;
                out[c] = (struct bx_shard_hit){tmp[i], m->fast ? all[i].s : (float)BX_NAN};
                out[c++].hit.row += (int64_t)m->row0;
            }
            m->n_hits[q] = c;
            continue;
        }
        qsort(tmp, n, sizeof *tmp, cmp_hit);
        size_t k = m->o->k, h = 0;
        while (h < n && h < k && tmp[h].score >= m->o->threshold) {
            m->hits[q * k + h] = tmp[h];
            ++h;
        }
        m->n_hits[q] = h;
    }
done:
    free(tmp);
    free(all);
    return NULL;
}

/* bx_match_one_to_n, or with @p shard a shard's candidates (bx_match_shard). */
static enum bx_status search(const struct bx_store *g, const float *probes, size_t n_q,
                             const struct bx_search_opts *o, struct bx_hit *hits, size_t *n_hits,
                             struct bx_shard_hit *shard, size_t row0, struct bx_error *err)
{
    if (o->k == 0)
        return BX_FAIL(err, BX_EINVAL, "k must be at least 1");
    if (isnan(o->threshold))
        return BX_FAIL(err, BX_EINVAL, "threshold must not be NaN");
    if (g->n >= UINT32_MAX)
        return BX_FAIL(err, BX_EINVAL, "gallery of %zu rows exceeds 2^32 - 1", g->n);
    for (size_t i = 0; hits && i < n_q * o->k; ++i)
        hits[i] = (struct bx_hit){BX_NAN, -1, -1};
    for (size_t q = 0; q < n_q; ++q)
        n_hits[q] = 0;
    if (n_q == 0)
        return BX_OK;
    pthread_once(&blas_once, blas_single);

    enum bx_status st = BX_OK;
    const size_t dim = g->dim, stride = g->stride;
    float *P = bx_alloc_aligned(n_q * stride * sizeof(float));
    int8_t *QP = NULL;
    float *qscale = NULL;
    int32_t *qsum = NULL;
    struct job *jobs = NULL;
    unsigned nt = 0;
    if (P == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "cannot copy %zu probes", n_q);
        goto done;
    }
    for (size_t q = 0; q < n_q; ++q) {
        memcpy(P + q * stride, probes + q * dim, dim * sizeof(float));
        struct bx_error perr = {0};
        if (bx_tpl_normalize(P + q * stride, dim, &perr) != BX_OK) {
            st = BX_FAIL(err, BX_EINVAL, "probe %zu: %s", q, perr.msg);
            goto done;
        }
    }

    const struct bx_match__i8_kernel *i8 = NULL;
    const struct bx_match__i8_kernel *kernel = o->fast ? bx_match__i8_kernel() : NULL;
    if (o->fast && g->n > 0 && uses_int8(kernel->name, n_q)) {
        i8 = kernel;
        /* The index is logically part of the const gallery: built once, under its mutex. */
        st = bx_match__fast_prepare((struct bx_store *)(uintptr_t)g, i8->tiled, err);
        if (st != BX_OK)
            goto done;
        size_t qs = g->fast.stride;
        QP = bx_alloc_aligned(n_q * qs);
        qscale = malloc(n_q * sizeof *qscale);
        qsum = malloc(n_q * sizeof *qsum);
        if (QP == NULL || qscale == NULL || qsum == NULL) {
            st = BX_FAIL(err, BX_ENOMEM, "cannot quantise %zu probes", n_q);
            goto done;
        }
        for (size_t q = 0; q < n_q; ++q)
            qscale[q] = bx_match__quantize(P + q * stride, dim, qs, QP + q * qs, &qsum[q]);
    }

    /* Threads: one per core when there are at least ~4 M comparisons; results do not depend on
     * it. */
    nt = o->threads;
    if (nt == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        nt = (double)n_q * (double)g->n >= 4e6 && cores > 1 ? (unsigned)cores : 1;
    }
    if (nt > 256)
        nt = 256;
    size_t per = (g->n + nt - 1) / (nt ? nt : 1);
    if (i8 && i8->tiled) /* threads start on a block of 16 rows */
        per = (per + 15) / 16 * 16;
    /* Blocks: SGEMM's scores of a block fill about 4 MB; the int8 kernel passes over a block
     * once per BX_I8_MAX_PROBES probes, so a batch's block (256 KB) stays in L2 between passes.
     * With one pass per block, short blocks keep the index streaming: the selection after each
     * kernel call issues no loads from memory (32 probes, N = 10^6, 2 threads, AMX: 8192-row
     * blocks 4.8-5.4 x 10^8 comparisons/s, 1024-row blocks 6.6-7.1 x 10^8, medians of
     * alternating runs). */
    /* 4-64 probes, exact: the micro-kernel, where SGEMM would spend its time packing; its
     * scores (at most 512 KB a block) stay in L2 with the rows (32 probes, N = 4 x 10^4, 2
     * threads, medians of five alternating runs: 32768-row blocks 9.4 x 10^7, 2048-row blocks
     * 1.11 x 10^8 comparisons/s). */
    bx_match__f32_batch_fn *f32b =
        !i8 && n_q >= 4 && n_q <= 64 ? bx_match__f32_batch_kernel() : NULL;
    size_t block = n_q == 1 ? 8192 : (size_t)fmax(256.0, (double)(1u << 20) / (double)n_q);
    if (i8 != NULL)
        block = n_q <= i8->max_probes || i8->tiled ? 1024 : 512;
    else if (f32b != NULL)
        block = 2048;
    size_t keep = i8 ? bx_match_shard_cap(o) : o->k; /* fast: the short list */
    float margin = i8 ? 0.0f : (float)(2 * bx_match__float_dot_bound(dim));
    float thr_cut = -HUGE_VALF;
    if (isfinite(o->threshold))
        thr_cut = (float)o->threshold - (i8 ? 0.05f : margin);
    else if (o->threshold > 0)
        thr_cut = HUGE_VALF;
    jobs = calloc(nt, sizeof *jobs);
    if (jobs == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    for (unsigned t = 0; t < nt; ++t) {
        struct job *j = &jobs[t];
        *j = (struct job){.g = g,
                          .o = o,
                          .n_q = n_q,
                          .probes = P,
                          .qprobes = QP,
                          .qscale = qscale,
                          .qsum = qsum,
                          .i8 = i8,
                          .keep = keep,
                          .margin = margin,
                          .thr_cut = thr_cut,
                          .block = block};
        j->r0 = t * per < g->n ? t * per : g->n;
        j->r1 = (t + 1) * per < g->n ? (t + 1) * per : g->n;
        j->ps = calloc(n_q, sizeof *j->ps);
        j->buf = i8 ? NULL : malloc(n_q * block * sizeof(float));
        j->ibuf = i8 ? malloc(i8->max_probes * block * sizeof(int32_t)) : NULL;
        j->sel = i8 ? malloc(block * sizeof(uint32_t)) : NULL;
        j->f32 = !i8 && n_q < 4 ? bx_match__f32_kernel() : NULL;
        j->f32b = f32b;
        if (j->ps == NULL || (!i8 && j->buf == NULL) ||
            (i8 && (j->ibuf == NULL || j->sel == NULL))) {
            st = BX_FAIL(err, BX_ENOMEM, "cannot allocate search workspace");
            goto done;
        }
        for (size_t q = 0; q < n_q; ++q) {
            j->ps[q].heap = malloc(keep * sizeof(float));
            j->ps[q].heap_row = malloc(keep * sizeof(uint32_t));
            j->ps[q].cutoff = thr_cut;
            if (j->ps[q].heap == NULL || j->ps[q].heap_row == NULL) {
                st = BX_FAIL(err, BX_ENOMEM, "cannot allocate search workspace");
                goto done;
            }
        }
    }
    bx_fork_join(nt, worker, jobs, sizeof *jobs);
    for (unsigned t = 0; t < nt; ++t)
        if (jobs[t].status != BX_OK) {
            st = BX_FAIL(err, jobs[t].status, "out of memory during search");
            goto done;
        }

    /* Merge, re-score in double, order exactly: probes split over the same threads. */
    struct merge m = {.jobs = jobs,
                      .nt = nt,
                      .g = g,
                      .o = o,
                      .P = P,
                      .hits = hits,
                      .n_hits = n_hits,
                      .fast = i8 != NULL,
                      .keep = keep,
                      .margin = margin,
                      .thr_cut = thr_cut,
                      .shard = shard,
                      .row0 = row0,
                      .shard_cap = bx_match_shard_cap(o)};
    struct merge_part parts[256];
    unsigned mt = nt < n_q ? nt : (unsigned)n_q;
    for (unsigned t = 0; t < mt; ++t)
        parts[t] = (struct merge_part){&m, n_q * t / mt, n_q * (t + 1) / mt, BX_OK};
    bx_fork_join(mt, merge_worker, parts, sizeof *parts);
    for (unsigned t = 0; t < mt; ++t)
        if (parts[t].status != BX_OK) {
            st = BX_FAIL(err, parts[t].status, "out of memory while merging candidates");
            goto done;
        }

done:
    if (jobs) {
        for (unsigned t = 0; t < nt; ++t) {
            pstate_free(jobs[t].ps, n_q);
            free(jobs[t].buf);
            free(jobs[t].ibuf);
            free(jobs[t].sel);
        }
    }
    free(jobs);
    free(qscale);
    free(qsum);
    bx_free_aligned(QP);
    bx_free_aligned(P);
    return st;
}

enum bx_status bx_match_one_to_n(const struct bx_store *g, const float *probes, size_t n_q,
                                 const struct bx_search_opts *o, struct bx_hit *hits,
                                 size_t *n_hits, struct bx_error *err)
{
    return search(g, probes, n_q, o, hits, n_hits, NULL, 0, err);
}

size_t bx_match_shard_cap(const struct bx_search_opts *o)
{
    return o->fast ? (4 * o->k > o->k + 32 ? 4 * o->k : o->k + 32) : o->k;
}

enum bx_status bx_match_shard(const struct bx_store *g, size_t row0, const float *probes,
                              size_t n_q, const struct bx_search_opts *o, struct bx_shard_hit *out,
                              size_t *n_out, struct bx_error *err)
{
    if (o->k == 0)
        return BX_FAIL(err, BX_EINVAL, "k must be at least 1");
    return search(g, probes, n_q, o, NULL, n_out, out, row0, err);
}

static int cmp_shard_approx(const void *a, const void *b)
{
    const struct bx_shard_hit *x = a, *y = b;
    if (x->approx != y->approx)
        return x->approx > y->approx ? -1 : 1;
    return (x->hit.row > y->hit.row) - (x->hit.row < y->hit.row);
}

static int cmp_shard_exact(const void *a, const void *b)
{
    return cmp_hit(&((const struct bx_shard_hit *)a)->hit, &((const struct bx_shard_hit *)b)->hit);
}

size_t bx_match_merge(const struct bx_search_opts *o, struct bx_shard_hit *cand, size_t n,
                      struct bx_hit *hits)
{
    bool fast = false;
    for (size_t i = 0; i < n; ++i)
        fast |= !isnan(cand[i].approx);
    if (fast) {
        /* The whole gallery's short list: the best int8 scores over every shard. */
        qsort(cand, n, sizeof *cand, cmp_shard_approx);
        size_t cap = bx_match_shard_cap(o);
        n = n < cap ? n : cap;
    }
    qsort(cand, n, sizeof *cand, cmp_shard_exact);
    size_t h = 0;
    while (h < n && h < o->k && cand[h].hit.score >= o->threshold) {
        hits[h] = cand[h].hit;
        ++h;
    }
    return h;
}

enum bx_status bx_match_scores(const struct bx_store *g, const float *probes, size_t n_q,
                               float *out, struct bx_error *err)
{
    if (n_q == 0 || g->n == 0)
        return BX_OK;
    pthread_once(&blas_once, blas_single);
    size_t stride = g->stride;
    float *P = bx_alloc_aligned(n_q * stride * sizeof(float));
    if (P == NULL)
        return BX_FAIL(err, BX_ENOMEM, "cannot copy %zu probes", n_q);
    enum bx_status st = BX_OK;
    for (size_t q = 0; q < n_q && st == BX_OK; ++q) {
        memcpy(P + q * stride, probes + q * g->dim, g->dim * sizeof(float));
        struct bx_error perr = {0};
        if (bx_tpl_normalize(P + q * stride, g->dim, &perr) != BX_OK)
            st = BX_FAIL(err, BX_EINVAL, "probe %zu: %s", q, perr.msg);
    }
    if (st == BX_OK)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_q, (int)g->n, (int)g->dim, 1.0f,
                    P, (int)stride, g->tpl, (int)stride, 0.0f, out, (int)g->n);
    bx_free_aligned(P);
    return st;
}

/* One thread's share of bx_match_score_blocks. */
struct block_part {
    const struct bx_store *g;
    const float *probes;
    size_t n_q, block, t, nt;
    void (*fn)(void *, size_t, size_t, const float *);
    void *ctx;
    enum bx_status st;
    struct bx_error err;
};

static void *block_worker(void *arg)
{
    struct block_part *p = arg;
    size_t rows = bx_store_rows(p->g);
    float *s = malloc(p->block * (rows ? rows : 1) * sizeof *s);
    if (s == NULL) {
        p->st = BX_FAIL(&p->err, BX_ENOMEM, "out of memory for a block of %zu x %zu scores",
                        p->block, rows);
        return NULL;
    }
    for (size_t q0 = p->t * p->block; q0 < p->n_q && p->st == BX_OK; q0 += p->nt * p->block) {
        size_t nb = p->n_q - q0 < p->block ? p->n_q - q0 : p->block;
        p->st = bx_match_scores(p->g, p->probes + q0 * p->g->dim, nb, s, &p->err);
        if (p->st == BX_OK)
            p->fn(p->ctx, q0, nb, s);
    }
    free(s);
    return NULL;
}

enum bx_status bx_match_score_blocks(const struct bx_store *g, const float *probes, size_t n_q,
                                     size_t block, unsigned threads,
                                     void (*fn)(void *ctx, size_t q0, size_t nq,
                                                const float *scores),
                                     void *ctx, size_t ctx_size, struct bx_error *err)
{
    if (block == 0)
        return BX_FAIL(err, BX_EINVAL, "block must be at least 1");
    size_t n_blocks = (n_q + block - 1) / block;
    unsigned nt = threads < 1 ? 1 : threads > 256 ? 256 : threads;
    if (nt > n_blocks)
        nt = n_blocks ? (unsigned)n_blocks : 1;
    struct block_part *parts = calloc(nt, sizeof *parts);
    if (parts == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    for (unsigned t = 0; t < nt; ++t)
        parts[t] = (struct block_part){.g = g,
                                       .probes = probes,
                                       .n_q = n_q,
                                       .block = block,
                                       .t = t,
                                       .nt = nt,
                                       .fn = fn,
                                       .ctx = (char *)ctx + (size_t)t * ctx_size};
    bx_fork_join(nt, block_worker, parts, sizeof *parts);
    enum bx_status st = BX_OK;
    for (unsigned t = 0; t < nt && st == BX_OK; ++t)
        if (parts[t].st != BX_OK) {
            st = parts[t].st;
            if (err)
                *err = parts[t].err;
        }
    free(parts);
    return st;
}
