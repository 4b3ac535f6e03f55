/* SPDX-License-Identifier: MIT */
/* test_search.c - 1:N search against a double-precision brute force; the fast path. */
#define _POSIX_C_SOURCE 200809L
#include "matcher_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bx/matcher.h"

static gsl_rng *rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

static float *random_vectors(gsl_rng *r, size_t n, size_t d)
{
    float *v = malloc(n * d * sizeof *v);
    for (size_t i = 0; i < n * d; ++i)
        v[i] = (float)gsl_ran_gaussian(r, 1.0);
    return v;
}

struct ref_hit {
    double s;
    int64_t row;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref_hit *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Brute force in double over the stored rows with the probe normalised as the matcher does. */
static size_t brute(const struct bx_store *g, const float *probe, size_t k, double thr,
                    struct ref_hit *out)
{
    size_t d = bx_store_dim(g), n = bx_store_rows(g), m = 0;
    float *p = malloc(d * sizeof *p);
    memcpy(p, probe, d * sizeof *p);
    cr_assert_eq(bx_tpl_normalize(p, d, NULL), BX_OK);
    struct ref_hit *all = malloc((n ? n : 1) * sizeof *all);
    for (size_t r = 0; r < n; ++r) {
        if (!bx_store_is_live(g, r))
            continue;
        /* The documented score: eight interleaved double partial sums, combined pairwise. */
        double ps[8] = {0};
        const float *row = bx_store_row(g, r);
        for (size_t i = 0; i < d; ++i)
            ps[i % 8] += (double)p[i] * (double)row[i];
        double s = ((ps[0] + ps[1]) + (ps[2] + ps[3])) + ((ps[4] + ps[5]) + (ps[6] + ps[7]));
        all[m++] = (struct ref_hit){s, (int64_t)r};
    }
    qsort(all, m, sizeof *all, cmp_ref);
    size_t c = 0;
    while (c < m && c < k && all[c].s >= thr) {
        out[c] = all[c];
        ++c;
    }
    free(all);
    free(p);
    return c;
}

static struct bx_store *gallery(gsl_rng *r, size_t n, size_t d)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(d, n, &err);
    float *v = random_vectors(r, n, d);
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; ++i)
        ids[i] = 1000 + (int64_t)i;
    cr_assert_eq(bx_store_add(g, v, n, ids, NULL, &err), BX_OK, "%s", err.msg);
    free(v);
    free(ids);
    return g;
}

/* Search and compare every probe with the brute force: same rows, same order, same scores. */
static void check_exact(const struct bx_store *g, const float *probes, size_t n_q, size_t k,
                        double thr, unsigned threads)
{
    struct bx_search_opts o = bx_search_opts_default();
    o.k = k;
    o.threshold = thr;
    o.threads = threads;
    struct bx_hit *hits = malloc(n_q * k * sizeof *hits);
    size_t *nh = malloc(n_q * sizeof *nh);
    struct ref_hit *ref = malloc(k * sizeof *ref);
    struct bx_error err = {0};
    cr_assert_eq(bx_match_one_to_n(g, probes, n_q, &o, hits, nh, &err), BX_OK, "%s", err.msg);
    size_t d = bx_store_dim(g);
    for (size_t q = 0; q < n_q; ++q) {
        size_t m = brute(g, probes + q * d, k, thr, ref);
        cr_assert_eq(nh[q], m, "probe %zu: %zu hits, reference %zu", q, nh[q], m);
        for (size_t i = 0; i < m; ++i) {
            cr_assert_eq(hits[q * k + i].row, ref[i].row, "probe %zu rank %zu: row %lld vs %lld", q,
                         i, (long long)hits[q * k + i].row, (long long)ref[i].row);
            cr_assert_eq(hits[q * k + i].score, ref[i].s, "probe %zu rank %zu", q, i);
            cr_assert_eq(hits[q * k + i].subject, bx_store_subject(g, (size_t)ref[i].row));
        }
        for (size_t i = m; i < k; ++i)
            cr_assert_eq(hits[q * k + i].row, -1, "padding");
    }
    free(ref);
    free(nh);
    free(hits);
}

Test(matcher_search, exact_top_k_equals_double_brute_force)
{
    gsl_rng *r = rng(1);
    size_t dims[] = {130, 512, 8, 1000};
    for (size_t t = 0; t < 4; ++t) {
        size_t d = dims[t];
        struct bx_store *g = gallery(r, 3000, d);
        float *p = random_vectors(r, 40, d);
        check_exact(g, p, 1, 10, -BX_INF, 1);
        check_exact(g, p, 40, 10, -BX_INF, 1);
        check_exact(g, p, 40, 1, -BX_INF, 2);
        check_exact(g, p, 7, 50, -BX_INF, 3);
        free(p);
        bx_store_free(g);
    }
    gsl_rng_free(r);
}

Test(matcher_search, k_larger_than_gallery_and_single_row_gallery)
{
    gsl_rng *r = rng(2);
    struct bx_store *g = gallery(r, 5, 128);
    float *p = random_vectors(r, 3, 128);
    check_exact(g, p, 3, 10, -BX_INF, 1);
    bx_store_free(g);
    g = gallery(r, 1, 128);
    check_exact(g, p, 3, 4, -BX_INF, 2);
    bx_store_free(g);
    free(p);
    gsl_rng_free(r);
}

Test(matcher_search, ties_are_broken_by_lower_row)
{
    /* 6 copies of one vector among random rows: a probe equal to it ties six ways. */
    gsl_rng *r = rng(3);
    size_t d = 144, n = 400;
    float *v = random_vectors(r, n, d);
    int rows[] = {17, 3, 250, 399, 100, 0};
    for (int i = 1; i < 6; ++i)
        memcpy(v + rows[i] * d, v + rows[0] * d, d * sizeof *v);
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; ++i)
        ids[i] = (int64_t)i;
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(d, 0, &err);
    bx_store_add(g, v, n, ids, NULL, &err);
    struct bx_search_opts o = bx_search_opts_default();
    o.k = 8;
    struct bx_hit hits[8];
    size_t nh;
    cr_assert_eq(bx_match_one_to_n(g, v + 17 * d, 1, &o, hits, &nh, &err), BX_OK);
    int64_t want[] = {0, 3, 17, 100, 250, 399};
    for (int i = 0; i < 6; ++i) {
        cr_assert_eq(hits[i].row, want[i], "rank %d: row %lld", i, (long long)hits[i].row);
        cr_assert_float_eq(hits[i].score, 1.0, 1e-6);
    }
    check_exact(g, v, 20, 8, -BX_INF, 2);
    free(ids);
    free(v);
    bx_store_free(g);
    gsl_rng_free(r);
}

Test(matcher_search, threshold_cuts_hits)
{
    gsl_rng *r = rng(4);
    struct bx_store *g = gallery(r, 2000, 256);
    float *p = random_vectors(r, 10, 256);
    /* Random 256-d vectors score about N(0, 1/256): 0.12 keeps a few per probe. */
    check_exact(g, p, 10, 20, 0.12, 1);
    check_exact(g, p, 10, 20, 0.12, 2);
    check_exact(g, p, 10, 20, 2.0, 1);
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

/* bx_match_score_blocks: each thread's callback sees its blocks' scores, which are
 * bx_match_scores' own for that block (whatever the thread count); every probe is seen once, in
 * a block of at most the block size, by the thread the block belongs to. */
struct seen {
    float *all; /* n_q x rows, shared: each probe written by one block */
    size_t rows, block, nt, t, calls;
    bool wrong_thread;
};

static void note_block(void *ctx, size_t q0, size_t nq, const float *s)
{
    struct seen *x = ctx;
    x->calls++;
    x->wrong_thread |= q0 % x->block != 0 || (q0 / x->block) % x->nt != x->t || nq > x->block;
    memcpy(x->all + q0 * x->rows, s, nq * x->rows * sizeof *s);
}

Test(matcher_search, score_blocks_are_the_scores_split_over_threads)
{
    gsl_rng *r = rng(31);
    const size_t n = 150, n_q = 53, d = 40;
    float *rows = random_vectors(r, n, d), *probes = random_vectors(r, n_q, d);
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(d, n, &err);
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; ++i)
        ids[i] = (int64_t)i;
    cr_assert_eq(bx_store_add(g, rows, n, ids, NULL, &err), BX_OK, "%s", err.msg);
    float *want = malloc(n_q * n * sizeof *want), *got = malloc(n_q * n * sizeof *got);
    static const size_t blocks[] = {1, 7, 16, 100};
    for (size_t bi = 0; bi < 4; ++bi) {
        /* SGEMM's rounding depends on the batch's shape: the reference is block by block */
        for (size_t q0 = 0; q0 < n_q; q0 += blocks[bi]) {
            size_t m = n_q - q0 < blocks[bi] ? n_q - q0 : blocks[bi];
            cr_assert_eq(bx_match_scores(g, probes + q0 * d, m, want + q0 * n, &err), BX_OK);
        }
        for (unsigned threads = 1; threads <= 4; ++threads) {
            struct seen ctx[4];
            size_t nb = (n_q + blocks[bi] - 1) / blocks[bi];
            unsigned nt = threads < nb ? threads : (unsigned)nb;
            for (unsigned t = 0; t < 4; ++t)
                ctx[t] = (struct seen){got, n, blocks[bi], nt, t, 0, false};
            memset(got, 0xff, n_q * n * sizeof *got); /* NaN everywhere */
            cr_assert_eq(bx_match_score_blocks(g, probes, n_q, blocks[bi], threads, note_block, ctx,
                                               sizeof *ctx, &err),
                         BX_OK, "%s", err.msg);
            size_t calls = 0;
            for (unsigned t = 0; t < 4; ++t) {
                cr_assert_not(ctx[t].wrong_thread, "block %zu, %u threads", blocks[bi], threads);
                calls += ctx[t].calls;
            }
            cr_assert_eq(calls, nb, "block %zu, %u threads", blocks[bi], threads);
            cr_assert_eq(memcmp(got, want, n_q * n * sizeof *got), 0, "block %zu, %u threads",
                         blocks[bi], threads);
        }
    }
    cr_assert_eq(bx_match_score_blocks(g, probes, n_q, 0, 2, note_block, NULL, 0, &err), BX_EINVAL);
    free(got);
    free(want);
    free(ids);
    bx_store_free(g);
    free(probes);
    free(rows);
    gsl_rng_free(r);
}

Test(matcher_search, results_do_not_depend_on_thread_count)
{
    gsl_rng *r = rng(5);
    struct bx_store *g = gallery(r, 20000, 512);
    float *p = random_vectors(r, 33, 512);
    struct bx_search_opts o = bx_search_opts_default();
    struct bx_hit a[33 * 10], b[33 * 10];
    size_t na[33], nb[33];
    struct bx_error err = {0};
    /* 3 probes take the streaming kernels (float and int8), 33 the micro-kernel (exact) and the
     * batch int8 kernel (fast). */
    size_t counts[] = {3, 33};
    for (int c = 0; c < 2; ++c) {
        size_t nq = counts[c];
        for (int fast = 0; fast < 2; ++fast) {
            o.fast = fast;
            o.threads = 1;
            bx_match_one_to_n(g, p, nq, &o, a, na, &err);
            for (unsigned t = 2; t <= 5; ++t) {
                o.threads = t;
                cr_assert_eq(bx_match_one_to_n(g, p, nq, &o, b, nb, &err), BX_OK);
                cr_assert_eq(memcmp(a, b, nq * 10 * sizeof a[0]), 0,
                             "%zu probes, fast=%d threads=%u differ", nq, fast, t);
                cr_assert_eq(memcmp(na, nb, nq * sizeof na[0]), 0);
            }
        }
    }
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

Test(matcher_search, tombstones_are_never_returned_and_compaction_renumbers)
{
    gsl_rng *r = rng(6);
    struct bx_store *g = gallery(r, 500, 128);
    float *p = malloc(3 * 128 * sizeof *p);
    memcpy(p, bx_store_row(g, 10), 128 * sizeof *p);
    memcpy(p + 128, bx_store_row(g, 20), 128 * sizeof *p);
    memcpy(p + 256, bx_store_row(g, 499), 128 * sizeof *p);
    cr_assert_eq(bx_store_remove_subject(g, 1010), 1);
    cr_assert_eq(bx_store_remove_subject(g, 1010), 0);
    cr_assert_eq(bx_store_live(g), 499);
    check_exact(g, p, 3, 5, -BX_INF, 2);
    struct bx_search_opts o = bx_search_opts_default();
    struct bx_hit hits[30];
    size_t nh[3];
    struct bx_error err = {0};
    bx_match_one_to_n(g, p, 3, &o, hits, nh, &err);
    cr_assert_neq(hits[0].row, 10, "the removed row is not found");
    cr_assert_eq(hits[10].row, 20);
    o.fast = true;
    bx_match_one_to_n(g, p, 3, &o, hits, nh, &err);
    cr_assert_neq(hits[0].row, 10, "nor by the fast path");
    cr_assert_eq(bx_store_compact(g), 1);
    cr_assert_eq(bx_store_rows(g), 499);
    o.fast = false;
    bx_match_one_to_n(g, p, 3, &o, hits, nh, &err);
    cr_assert_eq(hits[10].row, 19, "rows after the removed one moved down");
    cr_assert_eq(hits[10].subject, 1020);
    cr_assert_eq(hits[20].row, 498);
    o.fast = true; /* the int8 index is rebuilt after compaction */
    bx_match_one_to_n(g, p, 3, &o, hits, nh, &err);
    cr_assert_eq(hits[10].row, 19);
    cr_assert_eq(hits[20].row, 498);
    check_exact(g, p, 3, 5, -BX_INF, 1);
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

Test(matcher_search, bad_probes_are_rejected)
{
    gsl_rng *r = rng(7);
    struct bx_store *g = gallery(r, 50, 128);
    float *p = random_vectors(r, 3, 128);
    p[128 + 5] = BX_NAN;
    struct bx_search_opts o = bx_search_opts_default();
    struct bx_hit hits[30];
    size_t nh[3];
    struct bx_error err = {0};
    cr_assert_eq(bx_match_one_to_n(g, p, 3, &o, hits, nh, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "probe 1") != NULL, "%s", err.msg);
    memset(p + 128, 0, 128 * sizeof *p);
    bx_err_clear(&err);
    cr_assert_eq(bx_match_one_to_n(g, p, 3, &o, hits, nh, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "zero") != NULL, "%s", err.msg);
    o.k = 0;
    cr_assert_eq(bx_match_one_to_n(g, p, 1, &o, hits, nh, &err), BX_EINVAL);
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

/* Realistic data: identities on the sphere, probes are noisy later captures of members. */
static void noisy_copies(gsl_rng *r, const struct bx_store *g, size_t n_q, double noise, float *p,
                         size_t *truth)
{
    size_t d = bx_store_dim(g);
    for (size_t q = 0; q < n_q; ++q) {
        truth[q] = gsl_rng_uniform_int(r, bx_store_rows(g));
        const float *row = bx_store_row(g, truth[q]);
        for (size_t i = 0; i < d; ++i)
            p[q * d + i] = row[i] + (float)gsl_ran_gaussian(r, noise / sqrt((double)d));
    }
}

Test(matcher_fast, top1_agrees_with_exact_search_on_noisy_copies, .timeout = 120)
{
    gsl_rng *r = rng(8);
#ifdef __SANITIZE_ADDRESS__
    size_t n_q = 1000, d = 512, n = 10000; /* the sanitized kernels are ~20x slower */
#else
    size_t n_q = 2000, d = 512, n = 50000;
#endif
    struct bx_store *g = gallery(r, n, d);
    float *p = malloc(n_q * d * sizeof *p);
    size_t *truth = malloc(n_q * sizeof *truth);
    /* noise 1.2 gives genuine cosines around 0.64, close to what face matchers see. */
    noisy_copies(r, g, n_q, 1.2, p, truth);
    struct bx_search_opts o = bx_search_opts_default();
    o.k = 5;
    struct bx_hit *ex = malloc(n_q * 5 * sizeof *ex), *fa = malloc(n_q * 5 * sizeof *fa);
    size_t *nx = malloc(n_q * sizeof *nx), *nf = malloc(n_q * sizeof *nf);
    struct bx_error err = {0};
    cr_assert_eq(bx_match_one_to_n(g, p, n_q, &o, ex, nx, &err), BX_OK);
    const char *isas[] = {"portable", "avx2", "avx512-vnni", "amx-int8"};
    for (size_t k = 0; k < 4; ++k) {
        if (bx_match__i8_kernel_named(isas[k]) == NULL) {
            cr_log_warn("int8 kernel %s skipped: this CPU (or its kernel) cannot run it", isas[k]);
            continue;
        }
        setenv("BX_MATCH_ISA", isas[k], 1);
        cr_assert_str_eq(bx_match_fast_isa(), isas[k]);
        o.fast = true;
        cr_assert_eq(bx_match_one_to_n(g, p, n_q, &o, fa, nf, &err), BX_OK);
        size_t agree = 0, same_scores = 0;
        for (size_t q = 0; q < n_q; ++q) {
            agree += fa[q * 5].row == ex[q * 5].row;
            same_scores += fa[q * 5].score == ex[q * 5].score;
        }
        cr_assert_geq(agree, n_q * 999 / 1000, "%s: top-1 agreement %zu / %zu", isas[k], agree,
                      n_q);
        cr_assert_geq(same_scores, agree, "fast scores are exact re-scores");
        size_t correct = 0;
        for (size_t q = 0; q < n_q; ++q)
            correct += (size_t)fa[q * 5].row == truth[q];
        cr_assert_geq(correct, n_q * 99 / 100, "%s: identification rate %zu / %zu", isas[k],
                      correct, n_q);
    }
    unsetenv("BX_MATCH_ISA");
    free(nf);
    free(nx);
    free(fa);
    free(ex);
    free(truth);
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

Test(matcher_fast, every_int8_kernel_matches_the_portable_one)
{
    gsl_rng *r = rng(9);
    size_t dims[] = {128, 130, 512, 1000};
    enum { N = 300, P = 32 };
    const char *names[] = {"avx2", "avx512-vnni", "amx-int8"};
    for (int k = 0; k < 3; ++k)
        if (bx_match__i8_kernel_named(names[k]) == NULL)
            cr_log_warn("int8 kernel %s skipped: this CPU (or its kernel) cannot run it", names[k]);
    for (size_t t = 0; t < 4; ++t) {
        struct bx_store *g = gallery(r, N, dims[t]);
        struct bx_error err = {0};
        cr_assert_eq(bx_match__fast_prepare(g, false, &err), BX_OK);
        size_t stride = g->fast.stride;
        int8_t *q = bx_alloc_aligned(P * stride);
        float *p = random_vectors(r, P, dims[t]);
        float sp = 0;
        int32_t psum[P];
        for (int j = 0; j < P; ++j) {
            bx_tpl_normalize(p + j * dims[t], dims[t], NULL);
            float s =
                bx_match__quantize(p + j * dims[t], dims[t], stride, q + j * stride, &psum[j]);
            sp = j == 0 ? s : sp;
        }
        static int32_t ref[P * N], got[P * N];
        const struct bx_match__i8_kernel *portable = bx_match__i8_kernel_named("portable");
        /* the portable kernel, four probes at a time, is the reference */
        for (size_t j0 = 0; j0 < P; j0 += 4) {
            static int32_t part[4 * N];
            portable->fn(q + j0 * stride, psum + j0, 4, &g->fast, 0, N, part);
            for (size_t j = 0; j < 4; ++j)
                memcpy(ref + (j0 + j) * N, part + j * N, N * sizeof *ref);
        }
        for (int k = 0; k < 3; ++k) {
            const struct bx_match__i8_kernel *kn = bx_match__i8_kernel_named(names[k]);
            if (kn == NULL)
                continue;
            cr_assert_eq(bx_match__fast_prepare(g, kn->tiled, &err), BX_OK);
            /* every probe count the kernel takes; rows 7..300 and 32..288 (an unaligned start
             * and end exercise partial blocks; an aligned range the direct stores) */
            size_t ranges[2][2] = {{7, N}, {32, 288}};
            for (size_t n_p = 1; n_p <= kn->max_probes; ++n_p)
                for (int rg = 0; rg < 2; ++rg) {
                    size_t r0 = ranges[rg][0], r1 = ranges[rg][1], nb = r1 - r0;
                    memset(got, 0x55, sizeof got);
                    kn->fn(q, psum, n_p, &g->fast, r0, r1, got);
                    for (size_t j = 0; j < n_p; ++j)
                        cr_assert_eq(memcmp(ref + j * N + r0, got + j * nb, nb * sizeof *ref), 0,
                                     "%s, d = %zu, %zu probes, probe %zu, rows %zu-%zu", names[k],
                                     dims[t], n_p, j, r0, r1);
                }
        }
        /* The int8 score approximates the cosine to about 1e-3. */
        for (size_t row = 0; row < N; ++row) {
            double approx = ref[row] * (double)sp * (double)g->fast.scale[row];
            double exact = bx_match_verify(p, bx_store_row(g, row), dims[t]);
            cr_assert_lt(fabs(approx - exact), 0.01, "row %zu: %g vs %g", row, approx, exact);
        }
        free(p);
        bx_free_aligned(q);
        bx_store_free(g);
    }
    gsl_rng_free(r);
}

/* The port model searches a vehicle's occupants together: a probe's fast (int8 short list) hits
 * must be the same in a batch of 2 or 3 as alone, threshold cut and thread split included. */
Test(matcher_fast, batch_hits_equal_single_probe_hits, .timeout = 60)
{
    gsl_rng *r = rng(11);
    size_t n_q = 60, d = 256;
    struct bx_store *g = gallery(r, 9000, d);
    float *p = malloc(n_q * d * sizeof *p);
    size_t *truth = malloc(n_q * sizeof *truth);
    noisy_copies(r, g, n_q, 1.2, p, truth);
    struct bx_search_opts o = bx_search_opts_default();
    o.k = 2;
    o.fast = true;
    o.threshold = 0.3;
    struct bx_error err = {0};
    size_t found = 0;
    for (size_t b = 2; b <= 3; ++b)
        for (unsigned th = 1; th <= 2; ++th) {
            o.threads = th;
            for (size_t q0 = 0; q0 + b <= n_q; q0 += b) {
                struct bx_hit hb[6], h1[2];
                size_t nb[3], n1;
                cr_assert_eq(bx_match_one_to_n(g, p + q0 * d, b, &o, hb, nb, &err), BX_OK);
                for (size_t j = 0; j < b; ++j) {
                    cr_assert_eq(bx_match_one_to_n(g, p + (q0 + j) * d, 1, &o, h1, &n1, &err),
                                 BX_OK);
                    cr_assert_eq(nb[j], n1, "probe %zu of a batch of %zu", q0 + j, b);
                    found += n1;
                    for (size_t h = 0; h < n1; ++h) {
                        cr_assert_eq(hb[j * 2 + h].row, h1[h].row);
                        cr_assert_eq(hb[j * 2 + h].score, h1[h].score);
                    }
                }
            }
        }
    cr_assert_gt(found, n_q, "most probes have hits above the threshold");
    free(truth);
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

/* ---------------------------------------------------------------- shards (bx/par.h) */

/* The gallery's rows [a, b) as a store of their own. */
static struct bx_store *rows_of(const struct bx_store *g, size_t a, size_t b)
{
    struct bx_error err = {0};
    size_t d = bx_store_dim(g);
    struct bx_store *s = bx_store_alloc(d, b - a, &err);
    for (size_t r = a; r < b; ++r) {
        int64_t id = bx_store_subject(g, r);
        cr_assert_eq(bx_store_add(s, bx_store_row(g, r), 1, &id, NULL, &err), BX_OK, "%s", err.msg);
    }
    return s;
}

/* Search the gallery cut at @p cuts (n_cuts interior points) shard by shard, merge, and compare
 * with one search of the whole: the same rows, scores and order for every probe. */
static void check_shards(const struct bx_store *g, const float *probes, size_t n_q,
                         const struct bx_search_opts *o, const size_t *cuts, size_t n_cuts)
{
    struct bx_error err = {0};
    size_t k = o->k, cap = bx_match_shard_cap(o), n_sh = n_cuts + 1;
    struct bx_hit *want = malloc(n_q * k * sizeof *want), got[64];
    size_t *nw = malloc(n_q * sizeof *nw);
    cr_assert_eq(bx_match_one_to_n(g, probes, n_q, o, want, nw, &err), BX_OK, "%s", err.msg);
    struct bx_shard_hit *cand = malloc(n_sh * n_q * cap * sizeof *cand);
    size_t *nc = malloc(n_sh * n_q * sizeof *nc);
    for (size_t s = 0; s < n_sh; ++s) {
        size_t a = s ? cuts[s - 1] : 0, b = s < n_cuts ? cuts[s] : bx_store_rows(g);
        struct bx_store *sh = rows_of(g, a, b);
        cr_assert_eq(
            bx_match_shard(sh, a, probes, n_q, o, cand + s * n_q * cap, nc + s * n_q, &err), BX_OK,
            "%s", err.msg);
        bx_store_free(sh);
    }
    struct bx_shard_hit *merged = malloc(n_sh * cap * sizeof *merged);
    for (size_t q = 0; q < n_q; ++q) {
        size_t n = 0;
        for (size_t s = n_sh; s-- > 0;) /* any order */
            for (size_t i = 0; i < nc[s * n_q + q]; ++i)
                merged[n++] = cand[(s * n_q + q) * cap + i];
        size_t h = bx_match_merge(o, merged, n, got);
        cr_assert_eq(h, nw[q], "probe %zu: %zu hits, whole gallery %zu", q, h, nw[q]);
        for (size_t i = 0; i < h; ++i) {
            cr_assert_eq(got[i].row, want[q * k + i].row, "probe %zu rank %zu", q, i);
            cr_assert_eq(got[i].subject, want[q * k + i].subject);
            cr_assert_eq(got[i].score, want[q * k + i].score);
        }
    }
    free(merged);
    free(nc);
    free(cand);
    free(nw);
    free(want);
}

Test(matcher_shard, merged_shards_equal_one_search_exact_and_fast, .timeout = 120)
{
    gsl_rng *r = rng(41);
    size_t d = 128, n = 3000, n_q = 40;
    struct bx_store *g = gallery(r, n, d);
    /* Probes near gallery rows, and duplicated rows across shard boundaries: ties. */
    float *p = random_vectors(r, n_q, d);
    for (size_t q = 0; q < n_q; ++q)
        for (size_t j = 0; j < d; ++j)
            p[q * d + j] = bx_store_row(g, q * 70)[j] + 0.4f * p[q * d + j];
    size_t cuts[][3] = {{1500, 0, 0}, {1, 2999, 0}, {700, 701, 2000}, {0, 3000, 0}};
    size_t n_cuts[] = {1, 2, 3, 2};
    for (int fast = 0; fast < 2; ++fast)
        for (int thr = 0; thr < 2; ++thr) {
            struct bx_search_opts o = bx_search_opts_default();
            o.k = fast ? 7 : 10;
            o.fast = fast;
            o.threshold = thr ? 0.3 : -BX_INF;
            for (size_t c = 0; c < 4; ++c)
                check_shards(g, p, n_q, &o, cuts[c], n_cuts[c]);
        }
    /* Ties: six copies of one row, two in each of three shards; the probe is that row. */
    float *v = random_vectors(r, 600, d);
    int copies[] = {5, 150, 201, 390, 450, 599};
    for (int i = 1; i < 6; ++i)
        memcpy(v + (size_t)copies[i] * d, v + 5 * d, d * sizeof *v);
    int64_t ids[600];
    for (int i = 0; i < 600; ++i)
        ids[i] = i;
    struct bx_error err = {0};
    struct bx_store *t = bx_store_alloc(d, 600, &err);
    bx_store_add(t, v, 600, ids, NULL, &err);
    size_t tc[] = {200, 400};
    for (int fast = 0; fast < 2; ++fast) {
        struct bx_search_opts o = bx_search_opts_default();
        o.k = 4;
        o.fast = fast;
        check_shards(t, v + 5 * d, 1, &o, tc, 2);
    }
    /* Near-duplicates: 900 rows within noise of one face, so that int8 rounding reorders them
     * and a shard's short list holds rows the whole gallery's does not; the merge must keep
     * only the whole gallery's. */
    float *nd = random_vectors(r, 900, d);
    for (size_t i = 1; i < 900; ++i)
        for (size_t j = 0; j < d; ++j)
            nd[i * d + j] = nd[j] + 0.02f * nd[i * d + j];
    int64_t nid[900];
    for (int i = 0; i < 900; ++i)
        nid[i] = i;
    struct bx_store *u = bx_store_alloc(d, 900, &err);
    bx_store_add(u, nd, 900, nid, NULL, &err);
    size_t uc[] = {300, 600};
    struct bx_search_opts o = bx_search_opts_default();
    o.k = 1;
    o.fast = true;
    check_shards(u, nd, 20, &o, uc, 2);
    bx_store_free(u);
    free(nd);
    bx_store_free(t);
    free(v);
    free(p);
    bx_store_free(g);
    gsl_rng_free(r);
}

/* Quantisation (vectorised where the CPU allows) gives the scalar definition's numbers: scale
 * max|x| / 63, round to nearest even, clamp, sum; zero padding. */
Test(matcher_fast, quantisation_matches_its_scalar_definition)
{
    gsl_rng *r = rng(21);
    size_t dims[] = {8, 15, 16, 17, 130, 512, 1000};
    for (size_t t = 0; t < sizeof dims / sizeof *dims; ++t) {
        size_t d = dims[t], stride = (d + 63) / 64 * 64;
        float *v = random_vectors(r, 50, d);
        int8_t *q = malloc(stride);
        for (size_t k = 0; k < 50; ++k) {
            const float *x = v + k * d;
            if (k == 7) /* halves exactly between two levels: round to even */
                for (size_t i = 0; i < d; ++i)
                    ((float *)x)[i] = i == 0 ? 63.0f : (float)(i % 5) + 0.5f;
            int32_t sum = 0;
            memset(q, 0x77, stride);
            float s = bx_match__quantize(x, d, stride, q, &sum);
            float amax = 0;
            for (size_t i = 0; i < d; ++i)
                amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
            cr_assert_eq(s, amax / 63.0f, "d = %zu: scale", d);
            int32_t want = 0;
            for (size_t i = 0; i < d; ++i) {
                long y = lrintf(x[i] / s);
                y = y > 63 ? 63 : y < -63 ? -63 : y;
                cr_assert_eq(q[i], (int8_t)y, "d = %zu, vector %zu, component %zu", d, k, i);
                want += (int32_t)y;
            }
            cr_assert_eq(sum, want);
            for (size_t i = d; i < stride; ++i)
                cr_assert_eq(q[i], 0, "padding");
        }
        free(q);
        free(v);
    }
    gsl_rng_free(r);
}

/* The int8 index follows its gallery: rows appended after a search are quantised and found
 * (the index extended in place), and a compaction rebuilds it; the hits equal those of a
 * gallery built from scratch with the same rows, in either index layout. */
Test(matcher_fast, the_index_follows_appends_and_compaction, .timeout = 60)
{
    gsl_rng *r = rng(22);
    size_t d = 128, n0 = 1000, n1 = 537, nq = 40;
    float *rows = random_vectors(r, n0 + n1, d), *probes = random_vectors(r, nq, d);
    int64_t *ids = malloc((n0 + n1) * sizeof *ids);
    for (size_t i = 0; i < n0 + n1; ++i)
        ids[i] = (int64_t)i;
    struct bx_search_opts o = bx_search_opts_default();
    o.fast = true;
    o.k = 5;
    struct bx_hit *a = malloc(nq * 5 * sizeof *a), *b = malloc(nq * 5 * sizeof *b);
    size_t *na = malloc(nq * sizeof *na), *nb = malloc(nq * sizeof *nb);
    struct bx_error err = {0};
    const char *isas[] = {"amx-int8", "avx512-vnni", "portable"};
    for (int k = 0; k < 3; ++k) {
        if (bx_match__i8_kernel_named(isas[k]) == NULL) {
            cr_log_warn("int8 kernel %s skipped: this CPU (or its kernel) cannot run it", isas[k]);
            continue;
        }
        setenv("BX_MATCH_ISA", isas[k], 1);
        struct bx_store *g = bx_store_alloc(d, 16, &err), *h = bx_store_alloc(d, 16, &err);
        cr_assert_eq(bx_store_add(g, rows, n0, ids, NULL, &err), BX_OK);
        cr_assert_eq(bx_match_one_to_n(g, probes, nq, &o, a, na, &err), BX_OK); /* builds it */
        cr_assert_eq(bx_store_add(g, rows + n0 * d, n1, ids + n0, NULL, &err), BX_OK);
        cr_assert_eq(bx_match_one_to_n(g, probes, nq, &o, a, na, &err), BX_OK); /* extends it */
        cr_assert_eq(bx_store_add(h, rows, n0 + n1, ids, NULL, &err), BX_OK);
        cr_assert_eq(bx_match_one_to_n(h, probes, nq, &o, b, nb, &err), BX_OK);
        for (size_t q = 0; q < nq; ++q) {
            cr_assert_eq(na[q], nb[q]);
            for (size_t i = 0; i < na[q]; ++i)
                cr_assert(a[q * 5 + i].row == b[q * 5 + i].row &&
                              a[q * 5 + i].score == b[q * 5 + i].score,
                          "%s: appended rows, probe %zu hit %zu", isas[k], q, i);
        }
        /* every third subject removed and the gallery compacted: rows move */
        for (size_t i = 0; i < n0 + n1; i += 3) {
            bx_store_remove_subject(g, (int64_t)i);
            bx_store_remove_subject(h, (int64_t)i);
        }
        bx_store_compact(g);
        struct bx_store *c = bx_store_alloc(d, 16, &err);
        for (size_t i = 0; i < n0 + n1; ++i)
            if (i % 3 != 0)
                cr_assert_eq(bx_store_add(c, rows + i * d, 1, ids + i, NULL, &err), BX_OK);
        cr_assert_eq(bx_match_one_to_n(g, probes, nq, &o, a, na, &err), BX_OK);
        cr_assert_eq(bx_match_one_to_n(c, probes, nq, &o, b, nb, &err), BX_OK);
        for (size_t q = 0; q < nq; ++q)
            for (size_t i = 0; i < na[q]; ++i)
                cr_assert(a[q * 5 + i].row == b[q * 5 + i].row &&
                              a[q * 5 + i].score == b[q * 5 + i].score,
                          "%s: after compaction, probe %zu hit %zu", isas[k], q, i);
        bx_store_free(c);
        bx_store_free(h);
        bx_store_free(g);
    }
    unsetenv("BX_MATCH_ISA");
    free(nb);
    free(na);
    free(b);
    free(a);
    free(ids);
    free(probes);
    free(rows);
    gsl_rng_free(r);
}

/* The exact score's vectorised paths give the portable path's numbers, to the last bit. */
Test(matcher_search, the_exact_dot_product_is_the_same_on_every_path)
{
    gsl_rng *r = rng(23);
    size_t dims[] = {1, 7, 8, 9, 130, 512, 1001};
    for (size_t t = 0; t < sizeof dims / sizeof *dims; ++t) {
        float *v = random_vectors(r, 20, dims[t]);
        for (size_t k = 0; k + 1 < 20; ++k) {
            const float *a = v + k * dims[t], *b = v + (k + 1) * dims[t];
            double y = bx_match__dot_portable(a, b, dims[t]);
            cr_assert(bx_match__dot(a, b, dims[t]) == y, "d = %zu", dims[t]);
            /* four rows at once (the re-scoring's path): each the single product */
            const float *four[4] = {b, a, v + ((k + 5) % 20) * dims[t], b};
            double got[4];
            bx_match__dot4(a, four, dims[t], got);
            for (int c = 0; c < 4; ++c)
                cr_assert(got[c] == bx_match__dot_portable(a, four[c], dims[t]),
                          "dot4 row %d, d = %zu: %.17g", c, dims[t], got[c]);
            const char *paths[] = {"avx512", "avx2"};
            for (int p = 0; p < 2; ++p) {
                double x = bx_match__dot_with(paths[p], a, b, dims[t]);
                if (isnan(x)) {
                    if (t == 0 && k == 0)
                        cr_log_warn("dot product path %s skipped: not on this CPU", paths[p]);
                    continue;
                }
                cr_assert(x == y, "%s, d = %zu: %.17g vs %.17g", paths[p], dims[t], x, y);
            }
        }
        free(v);
    }
    gsl_rng_free(r);
}

/* The exact path's micro-kernel: every probe x row dot product within the float rounding bound
 * of the double one, for probe counts and row counts that leave partial tiles. */
Test(matcher_search, the_exact_micro_kernel_computes_every_dot_product)
{
    bx_match__f32_batch_fn *fn = bx_match__f32_batch_kernel();
    if (fn == NULL) {
        cr_log_warn("exact micro-kernel skipped: this CPU has no AVX-512");
        return;
    }
    gsl_rng *r = rng(24);
    size_t d = 130, stride = 144, nqs[] = {4, 5, 6, 7, 13, 32, 64}, ns[] = {1, 3, 4, 5, 259};
    for (size_t a = 0; a < sizeof nqs / sizeof *nqs; ++a)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; ++b) {
            size_t nq = nqs[a], n = ns[b];
            float *v = random_vectors(r, nq + n, d);
            float *p = bx_alloc_aligned((nq + n) * stride * sizeof *p), *out = malloc(nq * n * 4);
            memset(p, 0, (nq + n) * stride * sizeof *p);
            for (size_t i = 0; i < nq + n; ++i) {
                bx_tpl_normalize(v + i * d, d, NULL);
                memcpy(p + i * stride, v + i * d, d * sizeof *p);
            }
            fn(p, nq, p + nq * stride, stride, n, out);
            for (size_t q = 0; q < nq; ++q)
                for (size_t i = 0; i < n; ++i) {
                    double want = bx_match__dot_portable(p + q * stride, p + (nq + i) * stride, d);
                    cr_assert_leq(fabs(out[q * n + i] - want), bx_match__float_dot_bound(d),
                                  "%zu probes, %zu rows: probe %zu row %zu: %g vs %g", nq, n, q, i,
                                  out[q * n + i], want);
                }
            free(out);
            bx_free_aligned(p);
            free(v);
        }
    gsl_rng_free(r);
}
