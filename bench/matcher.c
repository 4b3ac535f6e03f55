/* SPDX-License-Identifier: MIT */
/* matcher.c - `bxsim bench --suite matcher`: 1:N comparisons per second against this
 * machine's own limits.
 *
 * Limits are measured here, in the same run: memory read bandwidth (a threaded sum over 1 GiB)
 * bounds one-probe calls, which must stream the whole gallery once per probe (d * 4 bytes per
 * comparison exact, d bytes fast); OpenBLAS SGEMM on large square matrices bounds batched calls
 * (2 d flops per comparison). Each figure reports comparisons/s = probes x gallery rows / time,
 * with its fraction of the relevant limit.
 */
#define _POSIX_C_SOURCE 200809L
#include "bx/matcher.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cblas.h>

#include "bx/common.h"

#include "app.h"
#include "bench.h"

#define DIM 512

static volatile double sink;

struct sum_job {
    const float *v;
    size_t n;
    double out;
};

static void *sum_worker(void *arg)
{
    struct sum_job *j = arg;
    /* Sixteen independent accumulators so that the loop is limited by memory, not latency. */
    float acc[16] = {0};
    for (size_t i = 0; i + 16 <= j->n; i += 16)
        for (int k = 0; k < 16; ++k)
            acc[k] += j->v[i + (size_t)k];
    double s = 0;
    for (int k = 0; k < 16; ++k)
        s += (double)acc[k];
    j->out = s;
    return NULL;
}

/* Best-of-5 read bandwidth in bytes/s with `threads` threads over `n` floats. */
static double read_bandwidth(const float *v, size_t n, unsigned threads)
{
    double best = 0;
    threads = threads < 1 ? 1 : threads > 8 ? 8 : threads;
    for (int rep = 0; rep < 5; ++rep) {
        struct sum_job jobs[8] = {{0}};
        pthread_t th[8];
        size_t per = n / threads;
        double t0 = bx_wall_s();
        for (unsigned t = 0; t < threads; ++t) {
            jobs[t] = (struct sum_job){v + t * per, per, 0};
            if (t > 0)
                pthread_create(&th[t], NULL, sum_worker, &jobs[t]);
        }
        sum_worker(&jobs[0]);
        for (unsigned t = 1; t < threads; ++t)
            pthread_join(th[t], NULL);
        double dt = bx_wall_s() - t0;
        for (unsigned t = 0; t < threads; ++t)
            sink += jobs[t].out; /* the sums are used: the loops cannot be optimised away */
        best = fmax(best, (double)(per * threads) * sizeof(float) / dt);
    }
    return best;
}

struct gemm_job {
    const float *a, *b;
    float *c;
    double flops;
};

/* Repeat a 2048^3 single-threaded product for at least 1 s. */
static void *gemm_worker(void *arg)
{
    struct gemm_job *j = arg;
    double t0 = bx_wall_s();
    j->flops = 0;
    do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2048, 2048, 2048, 1.0f, j->a, 2048,
                    j->b, 2048, 0.0f, j->c, 2048);
        j->flops += 2.0 * 2048 * 2048 * 2048;
    } while (bx_wall_s() - t0 < 1.0);
    return NULL;
}

/* SGEMM rate in flop/s on `threads` threads, each running single-threaded OpenBLAS on its own
 * matrices for at least a second: the way the matcher uses it. */
static double sgemm_peak(unsigned threads)
{
    const size_t nn = 2048 * 2048;
    float *m = bx_alloc_aligned(3 * threads * nn * sizeof(float));
    if (m == NULL)
        return BX_NAN;
    for (size_t i = 0; i < 3 * threads * nn; ++i)
        m[i] = (float)(i % 13) * 0.01f;
    openblas_set_num_threads(1);
    struct gemm_job jobs[8];
    pthread_t th[8];
    double t0 = bx_wall_s();
    for (unsigned t = 0; t < threads; ++t) {
        jobs[t] = (struct gemm_job){m + 3 * t * nn, m + (3 * t + 1) * nn, m + (3 * t + 2) * nn, 0};
        if (t > 0)
            pthread_create(&th[t], NULL, gemm_worker, &jobs[t]);
    }
    gemm_worker(&jobs[0]);
    for (unsigned t = 1; t < threads; ++t)
        pthread_join(th[t], NULL);
    double dt = bx_wall_s() - t0, flops = 0;
    for (unsigned t = 0; t < threads; ++t)
        flops += jobs[t].flops;
    sink += (double)m[2 * nn + 5];
    bx_free_aligned(m);
    return flops / dt;
}

#ifdef BX_FAISS_BENCH
/* Run the FAISS reference (bench/faiss_flat.cpp) for gallery size n and record its figures; each
 * gets the ratio of bxsim's exact median to FAISS's. `ours` holds bxsim's exact medians indexed
 * [probe count index][threads - 1]. */
static void faiss_compare(json_t *results, size_t n, const size_t *nqs, size_t n_nq,
                          unsigned repeat, double ours[3][2])
{
    /* The reference program is run directly (no shell): its arguments are the gallery size,
     * the repeat count and the probe counts. */
    char args[8][32];
    char *argv[12];
    size_t na = 0;
    argv[na++] = (char *)BX_FAISS_BENCH;
    snprintf(args[0], sizeof args[0], "%zu", n);
    snprintf(args[1], sizeof args[1], "%u", repeat);
    argv[na++] = args[0];
    argv[na++] = args[1];
    for (size_t i = 0; i < n_nq && i < 6; ++i) {
        snprintf(args[2 + i], sizeof args[2 + i], "%zu", nqs[i]);
        argv[na++] = args[2 + i];
    }
    argv[na] = NULL;
    int fd[2];
    if (pipe(fd) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDOUT_FILENO);
        setenv("OMP_WAIT_POLICY", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "PASSIVE",
               1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    FILE *p = pid > 0 ? fdopen(fd[0], "r") : NULL;
    if (p == NULL) {
        close(fd[0]);
        return;
    }
    double v[3][2][16];
    size_t cnt[3][2] = {{0}};
    size_t nq;
    unsigned t;
    double rate;
    while (fscanf(p, "%zu %u %lf", &nq, &t, &rate) == 3) {
        for (size_t i = 0; i < n_nq; ++i)
            if (nqs[i] == nq && t >= 1 && t <= 2 && cnt[i][t - 1] < 16)
                v[i][t - 1][cnt[i][t - 1]++] = rate;
    }
    fclose(p);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < n_nq; ++i) {
        for (unsigned th = 1; th <= 2; ++th) {
            if (cnt[i][th - 1] == 0)
                continue;
            char name[96];
            snprintf(name, sizeof name, "faiss-flatip/N=%zu/q=%zu/t=%u", n, nqs[i], th);
            json_t *extra = json_pack("{sIsIsI}", "gallery", (json_int_t)n, "probes",
                                      (json_int_t)nqs[i], "threads", (json_int_t)th);
            double med = bx_bench_figure(results, name, "comparisons/s", (double)n, v[i][th - 1],
                                         cnt[i][th - 1], extra);
            double ratio = ours[i][th - 1] / med;
            json_object_set_new(json_array_get(results, json_array_size(results) - 1),
                                "bxsim_exact_ratio", json_real(ratio));
            printf("%34s bxsim exact / FAISS = %.2f\n", "", ratio);
        }
    }
}
#endif

/* ---------------------------------------------------------------- int8 ceilings */

struct peak_job {
    const char *name;
    double out;
};

static void *peak_worker(void *arg)
{
    struct peak_job *j = arg;
    j->out = bx_match_i8_peak(j->name, 0.5);
    return NULL;
}

/* Int8 multiply-adds per second of kernel @p name on @p threads threads at once (each thread its
 * own core's ceiling: AMX units and vector ports are per core). */
static double i8_peak(const char *name, unsigned threads)
{
    struct peak_job jobs[8] = {{0}};
    pthread_t th[8];
    threads = threads < 1 ? 1 : threads > 8 ? 8 : threads;
    for (unsigned t = 0; t < threads; ++t) {
        jobs[t] = (struct peak_job){name, 0};
        if (t > 0)
            pthread_create(&th[t], NULL, peak_worker, &jobs[t]);
    }
    peak_worker(&jobs[0]);
    double sum = jobs[0].out;
    for (unsigned t = 1; t < threads; ++t) {
        pthread_join(th[t], NULL);
        sum += jobs[t].out;
    }
    return sum;
}

/* The ceiling that bounds a fast search of @p nq probes on @p t threads with kernel @p k: its
 * compute ceiling (DIM multiply-adds a comparison), or memory, which must deliver DIM bytes of
 * the index per row once per search (the search cuts the index into blocks that stay in cache
 * while every probe group of the kernel passes over them). */
static double fast_limit(double macs, double bw, size_t nq, const char **which)
{
    double compute = macs / DIM;
    double memory = bw / DIM * (double)nq;
    *which = memory < compute ? "memory read bandwidth" : "int8 compute ceiling";
    return fmin(compute, memory);
}

/* Record figure @p name (comparisons/s of @p repeat runs in v) with its engine, sizes and the
 * limit that bounds it, and print its fraction of that limit; @return the median. */
static double record(json_t *results, const char *name, bool fast, size_t n, size_t nq, unsigned t,
                     const double *v, unsigned repeat, double limit, const char *what,
                     const char *engine)
{
    json_t *extra = json_pack("{sssssIsIsIsfss}", "path", fast ? "fast" : "exact", "engine", engine,
                              "gallery", (json_int_t)n, "probes", (json_int_t)nq, "threads",
                              (json_int_t)t, "limit_comparisons_per_s", limit, "limit", what);
    double med = bx_bench_figure(results, name, "comparisons/s", (double)n, v, repeat, extra);
    json_object_set_new(json_array_get(results, json_array_size(results) - 1), "fraction_of_limit",
                        json_real(med / limit));
    printf("%34s %.2f of the %s (%s)\n", "", med / limit, what, engine);
    return med;
}

/* Uniform random vectors in [-0.5, 0.5)^d from a named stream. */
static void fill(gsl_rng *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        v[i] = (float)(gsl_rng_uniform(r) - 0.5);
}

static struct bx_store *make_gallery(gsl_rng *r, size_t n, struct bx_error *err)
{
    struct bx_store *g = bx_store_alloc(DIM, n, err);
    const size_t chunk = 65536;
    float *v = malloc(chunk * DIM * sizeof *v);
    int64_t *ids = malloc(chunk * sizeof *ids);
    if (g == NULL || v == NULL || ids == NULL) {
        free(v);
        free(ids);
        bx_store_free(g);
        return NULL;
    }
    for (size_t r0 = 0; r0 < n; r0 += chunk) {
        size_t m = n - r0 < chunk ? n - r0 : chunk;
        fill(r, v, m * DIM);
        for (size_t i = 0; i < m; ++i)
            ids[i] = (int64_t)(r0 + i);
        if (bx_store_add(g, v, m, ids, NULL, err) != BX_OK) {
            bx_store_free(g);
            g = NULL;
            break;
        }
    }
    free(v);
    free(ids);
    return g;
}

/* Comparisons per second of repeated calls, timed over at least 0.3 s. */
static double rate(const struct bx_store *g, const float *probes, size_t n_q,
                   const struct bx_search_opts *o, struct bx_hit *hits, size_t *nh)
{
    struct bx_error err = {0};
    size_t calls = 0;
    double t0 = bx_wall_s(), dt;
    do {
        if (bx_match_one_to_n(g, probes, n_q, o, hits, nh, &err) != BX_OK) {
            fprintf(stderr, "bxsim bench: matcher: %s\n", err.msg);
            return BX_NAN;
        }
        ++calls;
        dt = bx_wall_s() - t0;
    } while (dt < 0.3);
    return (double)calls * (double)n_q * (double)bx_store_live(g) / dt;
}

int bx_bench_matcher(json_t *results, json_t *env, unsigned repeat, bool quick)
{
    struct bx_error err = {0};
    struct bx_streams *rs = bx_streams_alloc(2027, 0, NULL, &err);
    gsl_rng *r = rs ? bx_streams_get(rs, "bench/matcher", &err) : NULL;
    if (r == NULL) {
        fprintf(stderr, "bxsim bench: %s\n", err.msg);
        bx_streams_free(rs);
        return BX_EXIT_RUNTIME;
    }

    /* Limits. */
    size_t nbw = (size_t)(quick ? 32 : 256) << 20; /* floats: 128 MiB or 1 GiB */
    float *big = bx_alloc_aligned(nbw * sizeof(float));
    if (big == NULL)
        return BX_EXIT_RUNTIME;
    for (size_t i = 0; i < nbw; ++i)
        big[i] = (float)(i & 255);
    double bw[3] = {0, read_bandwidth(big, nbw, 1), read_bandwidth(big, nbw, 2)};
    bx_free_aligned(big);
    double peak[3] = {0, sgemm_peak(1), sgemm_peak(2)};
    printf("limits: read bandwidth %.1f GB/s (1 thread), %.1f GB/s (2); SGEMM %.1f GFLOP/s (1), "
           "%.1f GFLOP/s (2); int8 kernel %s\n",
           bw[1] / 1e9, bw[2] / 1e9, peak[1] / 1e9, peak[2] / 1e9, bx_match_fast_isa());
    /* Every int8 kernel this CPU runs, with its own compute ceiling (1 and 2 threads). */
    const char *kn[4];
    size_t n_kn = bx_match_i8_kernels(kn, 4), in_use = 0; /* the kernel the fast path uses */
    for (size_t k = 0; k < n_kn; ++k)
        if (strcmp(kn[k], bx_match_fast_isa()) == 0)
            in_use = k;
    double kpeak[4][3] = {{0}};
    json_t *jk = json_object();
    for (size_t k = 0; k < n_kn; ++k) {
        kpeak[k][1] = i8_peak(kn[k], 1);
        kpeak[k][2] = i8_peak(kn[k], 2);
        printf("        int8 ceiling %-12s %.3g multiply-adds/s (1 thread), %.3g (2): %.2f G "
               "comparisons/s at d = %d on 2 threads (%zu probes per pass)\n",
               kn[k], kpeak[k][1], kpeak[k][2], kpeak[k][2] / DIM / 1e9, DIM,
               bx_match_i8_probes_per_pass(kn[k]));
        json_object_set_new(jk, kn[k],
                            json_pack("{sfsf}", "int8_macs_per_s_1t", kpeak[k][1],
                                      "int8_macs_per_s_2t", kpeak[k][2]));
    }
    json_object_set_new(env, "matcher_limits",
                        json_pack("{sfsfsfsfssso}", "read_bandwidth_bytes_per_s_1t", bw[1],
                                  "read_bandwidth_bytes_per_s_2t", bw[2], "sgemm_flops_1t", peak[1],
                                  "sgemm_flops_2t", peak[2], "int8_kernel", bx_match_fast_isa(),
                                  "int8_ceilings", jk));

    static const size_t sizes_full[] = {1000, 100000, 1000000}, sizes_quick[] = {1000, 10000};
    static const size_t nq_full[] = {1, 32, 1024}, nq_quick[] = {1, 32};
    const size_t *sizes = quick ? sizes_quick : sizes_full, *nqs = quick ? nq_quick : nq_full;
    size_t n_sizes = quick ? 2 : 3, n_nq = quick ? 2 : 3;
    float *probes = malloc(1024 * DIM * sizeof *probes);
    struct bx_hit *hits = malloc(1024 * 10 * sizeof *hits);
    size_t *nh = malloc(1024 * sizeof *nh);
    double *v = calloc(repeat, sizeof *v);
    if (!probes || !hits || !nh || !v)
        return BX_EXIT_RUNTIME;
    fill(r, probes, 1024 * DIM);
    int rc = BX_EXIT_OK;
    for (size_t si = 0; si < n_sizes && rc == BX_EXIT_OK; ++si) {
        struct bx_store *g = make_gallery(r, sizes[si], &err);
        if (g == NULL) {
            fprintf(stderr, "bxsim bench: cannot build a gallery of %zu: %s\n", sizes[si], err.msg);
            rc = BX_EXIT_RUNTIME;
            break;
        }
        double ours[3][2] = {{0}};
        struct bx_search_opts o = bx_search_opts_default();
        o.fast = true;
        bx_match_one_to_n(g, probes, 1, &o, hits, nh, &err); /* builds the int8 index */
        for (size_t qi = 0; qi < n_nq; ++qi) {
            for (unsigned t = 1; t <= 2; ++t) {
                for (int fast = 0; fast < 2; ++fast) {
                    o.fast = fast;
                    o.threads = t;
                    for (unsigned rep = 0; rep < repeat; ++rep)
                        v[rep] = rate(g, probes, nqs[qi], &o, hits, nh);
                    bool one = nqs[qi] == 1;
                    const char *what = one ? "memory read bandwidth" : "sgemm peak";
                    double limit = one ? bw[t] / (fast ? DIM : DIM * 4.0) : peak[t] / (2.0 * DIM);
                    /* Several probes: SGEMM's rate, or memory, which must deliver each float row
                     * once per search (the blocks are reused by every probe). */
                    double mem = bw[t] / (DIM * 4.0) * (double)nqs[qi];
                    if (!one && mem < limit) {
                        limit = mem;
                        what = "memory read bandwidth";
                    }
                    const char *eng = bx_match_engine(fast, nqs[qi]);
                    if (fast && strncmp(eng, "int8", 4) == 0 && n_kn > 0)
                        /* the int8 path: its kernel's own ceiling, or memory */
                        limit = fast_limit(kpeak[in_use][t], bw[t], nqs[qi], &what);
                    char name[96];
                    snprintf(name, sizeof name, "matcher/%s/N=%zu/q=%zu/t=%u",
                             fast ? "fast" : "exact", sizes[si], nqs[qi], t);
                    double med = record(results, name, fast, sizes[si], nqs[qi], t, v, repeat,
                                        limit, what, eng);
                    if (!fast)
                        ours[qi][t - 1] = med;
                }
            }
        }
        bx_store_free(g);
#ifdef BX_FAISS_BENCH
        faiss_compare(results, sizes[si], nqs, n_nq, repeat, ours);
#else
        (void)ours;
#endif
    }
    /* Each int8 kernel this CPU runs (BX_MATCH_ISA), 2 threads, against its own ceiling. */
    const char *forced = getenv("BX_MATCH_ISA");
    char saved[32] = "";
    if (forced)
        snprintf(saved, sizeof saved, "%s", forced);
    size_t nk = quick ? 10000 : 100000;
    struct bx_store *g = rc == BX_EXIT_OK ? make_gallery(r, nk, &err) : NULL;
    for (size_t k = 0; g && k < n_kn; ++k) {
        setenv("BX_MATCH_ISA", kn[k], 1);
        struct bx_search_opts o = bx_search_opts_default();
        o.fast = true;
        o.threads = 2;
        for (size_t qi = 0; qi < n_nq; ++qi) {
            for (unsigned rep = 0; rep < repeat; ++rep)
                v[rep] = rate(g, probes, nqs[qi], &o, hits, nh);
            const char *what;
            double limit = fast_limit(kpeak[k][2], bw[2], nqs[qi], &what);
            char name[96];
            snprintf(name, sizeof name, "matcher/kernel/%s/N=%zu/q=%zu/t=2", kn[k], nk, nqs[qi]);
            record(results, name, true, nk, nqs[qi], 2, v, repeat, limit, what,
                   bx_match_engine(true, nqs[qi]));
        }
    }
    bx_store_free(g);
    if (saved[0])
        setenv("BX_MATCH_ISA", saved, 1);
    else
        unsetenv("BX_MATCH_ISA");
    free(v);
    free(nh);
    free(hits);
    free(probes);
    bx_streams_free(rs);
    return rc;
}
