/* SPDX-License-Identifier: MIT */
/* test_common.c - errors, random streams, atomic files. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bx/common.h"
#include "bx/normal.h"

Test(common_error, first_failure_wins_and_null_is_allowed)
{
    struct bx_error err = {0};
    cr_assert_eq(BX_FAIL(&err, BX_EIO, "first %d", 1), BX_EIO);
    cr_assert_eq(BX_FAIL(&err, BX_EINVAL, "second"), BX_EINVAL);
    cr_assert_eq(err.code, BX_EIO);
    cr_assert_str_eq(err.msg, "first 1");
    cr_assert_gt(err.line, 0);
    cr_assert_eq(BX_FAIL(NULL, BX_ENOMEM, "ignored"), BX_ENOMEM);
    bx_err_clear(&err);
    cr_assert_eq(err.code, BX_OK);
    cr_assert_str_eq(bx_status_str(BX_ESEED), "random stream seed collision");
}

Test(common_error, require_aborts_on_contract_violation, .signal = SIGABRT)
{
    int x = 1;
    BX_REQUIRE(x == 2);
}

Test(common_rng, seed_is_a_pure_function_of_master_replication_and_name)
{
    uint64_t s = bx_rng_seed(11, 3, "arrivals/gate");
    cr_assert_eq(s, bx_rng_seed(11, 3, "arrivals/gate"));
    cr_assert_neq(s, bx_rng_seed(12, 3, "arrivals/gate"));
    cr_assert_neq(s, bx_rng_seed(11, 4, "arrivals/gate"));
    cr_assert_neq(s, bx_rng_seed(11, 3, "arrivals/gatf"));
    cr_assert_neq(bx_rng_seed(0, 0, "a"), bx_rng_seed(0, 0, "b"));
}

Test(common_rng, adding_a_stream_leaves_other_streams_unchanged)
{
    struct bx_error err = {0};
    struct bx_streams *a = bx_streams_alloc(7, 0, NULL, &err);
    struct bx_streams *b = bx_streams_alloc(7, 0, NULL, &err);
    cr_assert_not_null(a);
    /* Variant b creates an extra stream first: common random numbers must survive. */
    gsl_rng *extra = bx_streams_get(b, "service/new-kiosk", &err);
    gsl_rng *ra = bx_streams_get(a, "arrivals/x", &err);
    gsl_rng *rb = bx_streams_get(b, "arrivals/x", &err);
    cr_assert(extra && ra && rb);
    cr_assert_eq(bx_streams_get(a, "arrivals/x", &err), ra, "same name, same generator");
    for (int i = 0; i < 1000; ++i)
        cr_assert_eq(gsl_rng_get(ra), gsl_rng_get(rb), "draw %d", i);
    cr_assert_eq(bx_streams_count(b), 2);
    uint64_t seed;
    cr_assert_str_eq(bx_streams_name(b, 1, &seed), "arrivals/x");
    cr_assert_eq(seed, bx_rng_seed(7, 0, "arrivals/x"));
    bx_streams_free(a);
    bx_streams_free(b);
}

struct fj_item {
    int runs;
    long pad[7]; /* items of more than one word: the stride is item_size */
};

static void *fj_run(void *arg)
{
    ((struct fj_item *)arg)->runs++;
    return NULL;
}

Test(common_util, fork_join_runs_every_item_once)
{
    struct fj_item items[9];
    for (unsigned n = 0; n <= 9; ++n) {
        memset(items, 0, sizeof items);
        bx_fork_join(n, fj_run, items, sizeof *items);
        for (unsigned t = 0; t < 9; ++t)
            cr_assert_eq(items[t].runs, t < n ? 1 : 0, "n = %u, item %u", n, t);
    }
}

Test(common_rng, pick_selects_by_cumulative_probability)
{
    const double p[] = {0.2, 0.5, 0.3};
    cr_assert_eq(bx_pick(0.0, p, 3), 0);
    cr_assert_eq(bx_pick(0.19, p, 3), 0);
    cr_assert_eq(bx_pick(0.2, p, 3), 1);
    cr_assert_eq(bx_pick(0.69, p, 3), 1);
    cr_assert_eq(bx_pick(0.7, p, 3), 2);
    cr_assert_eq(bx_pick(0.999, p, 3), 2);
    const double short_sum[] = {0.1, 0.1}; /* the last index takes the remainder */
    cr_assert_eq(bx_pick(0.9, short_sum, 2), 1);
    cr_assert_eq(bx_pick(0.5, p, 1), 0);
}

Test(common_rng, xoshiro_uniforms_have_the_right_moments_and_range)
{
    struct bx_error err = {0};
    struct bx_streams *s = bx_streams_alloc(2024, 1, NULL, &err);
    gsl_rng *r = bx_streams_get(s, "u", &err);
    cr_assert_str_eq(gsl_rng_name(r), "bx-xoshiro256++");
    const int n = 1000000;
    double sum = 0, sum2 = 0;
    unsigned long hits[10] = {0};
    for (int i = 0; i < n; ++i) {
        double u = gsl_rng_uniform(r);
        cr_assert(u >= 0 && u < 1);
        sum += u;
        sum2 += u * u;
        hits[gsl_rng_uniform_int(r, 10)]++;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    cr_assert_lt(fabs(mean - 0.5) / sqrt(1.0 / 12 / n), 5.0);
    cr_assert_lt(fabs(var - 1.0 / 12), 0.002);
    double chi2 = 0;
    for (int k = 0; k < 10; ++k)
        chi2 += (hits[k] - n / 10.0) * (hits[k] - n / 10.0) / (n / 10.0);
    cr_assert_lt(chi2, 27.9, "chi-square(9) = %g exceeds its 0.001 point", chi2);
    bx_streams_free(s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

Test(common_rng, narrow_generators_detect_seed_collisions, .timeout = 60)
{
    /* With GSL's mt19937 only 32 seed bits are used: among 300,000 names two share a seed
     * (birthday bound), and a stream set must refuse to hand out both. */
    const uint64_t n = 300000;
    uint64_t *key = malloc(n * sizeof *key);
    struct bx_error err = {0};
    struct bx_streams *probe = bx_streams_alloc(5, 0, gsl_rng_mt19937, &err);
    char name[32];
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t seed =
            bx_rng_seed(5, 0, (snprintf(name, sizeof name, "s%llu", (unsigned long long)i), name));
        uint64_t folded = ((seed ^ (seed >> 32)) & 0xffffffffULL) % 0xffffffffULL + 1;
        cr_assert(folded >= 1 && folded <= 0xffffffffULL);
        key[i] = folded << 20 | i; /* i < 2^20 */
    }
    qsort(key, n, sizeof *key, cmp_u64);
    uint64_t a = 0, b = 0;
    bool found = false;
    for (uint64_t i = 1; i < n && !found; ++i) {
        if (key[i] >> 20 == key[i - 1] >> 20) {
            a = key[i - 1] & 0xfffff;
            b = key[i] & 0xfffff;
            found = true;
        }
    }
    cr_assert(found, "no colliding pair among %llu names", (unsigned long long)n);
    snprintf(name, sizeof name, "s%llu", (unsigned long long)a);
    cr_assert_not_null(bx_streams_get(probe, name, &err));
    snprintf(name, sizeof name, "s%llu", (unsigned long long)b);
    cr_assert_null(bx_streams_get(probe, name, &err));
    cr_assert_eq(err.code, BX_ESEED);
    cr_assert(strstr(err.msg, "would share seed") != NULL, "%s", err.msg);
    bx_streams_free(probe);
    free(key);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/bx-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

Test(common_file, atomic_write_replaces_content_and_leaves_no_temporary, .init = make_tmpdir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/out.json", tmpdir);
    struct bx_error err = {0};
    cr_assert_eq(bx_file_write_atomic(path, "first", 5, &err), BX_OK);
    cr_assert_eq(bx_file_write_atomic(path, "second!", 7, &err), BX_OK);
    cr_assert_str_eq(slurp(path), "second!");
    cr_assert_eq(count_entries(tmpdir), 1);
}

Test(common_file, failed_atomic_write_keeps_the_old_file, .init = make_tmpdir)
{
    char path[128], sub[128];
    snprintf(path, sizeof path, "%s/keep.txt", tmpdir);
    struct bx_error err = {0};
    cr_assert_eq(bx_file_write_atomic(path, "old", 3, &err), BX_OK);
    /* Renaming a file over a non-empty directory fails after the temporary was written. */
    snprintf(sub, sizeof sub, "%s/dir", tmpdir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/dir/x", tmpdir);
    cr_assert_eq(bx_file_write_atomic(path, "x", 1, &err), BX_OK);
    cr_assert_eq(bx_file_write_atomic(sub, "new", 3, &err), BX_EIO);
    cr_assert(strstr(err.msg, "rename") != NULL, "%s", err.msg);
    snprintf(path, sizeof path, "%s/keep.txt", tmpdir);
    cr_assert_str_eq(slurp(path), "old");
    cr_assert_eq(count_entries(tmpdir), 2, "no temporary left behind");
    bx_err_clear(&err);
    cr_assert_eq(bx_file_write_atomic("/nonexistent-dir/x.json", "x", 1, &err), BX_EIO);
}

Test(common_file, mkdir_p_creates_parents_and_rejects_files, .init = make_tmpdir)
{
    char path[128];
    struct bx_error err = {0};
    snprintf(path, sizeof path, "%s/a/b/c", tmpdir);
    cr_assert_eq(bx_mkdir_p(path, &err), BX_OK);
    cr_assert_eq(bx_mkdir_p(path, &err), BX_OK, "existing directories are fine");
    snprintf(path, sizeof path, "%s/f", tmpdir);
    cr_assert_eq(bx_file_write_atomic(path, "x", 1, &err), BX_OK);
    cr_assert_eq(bx_mkdir_p(path, &err), BX_EIO);
}

Test(common_memory, aligned_allocation_and_overflow_checks)
{
    float *p = bx_alloc_aligned(1000 * sizeof(float));
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq(p[999], 0.0f);
    bx_free_aligned(p);
    size_t out;
    cr_assert(bx_size_mul(1 << 20, 1 << 20, &out) && out == (size_t)1 << 40);
    cr_assert_not(bx_size_mul(SIZE_MAX / 2, 3, &out));
}

Test(common_buf, values_strings_and_arrays_round_trip_and_reads_past_the_end_fail)
{
    struct bx_buf b = {0};
    bx_buf_put_u64(&b, 0x0123456789abcdefULL);
    bx_buf_put_f64(&b, -2.5);
    bx_buf_put_str(&b, "port");
    bx_buf_put_str(&b, "");
    bx_buf_put_str(&b, NULL);
    int arr[1000];
    for (int i = 0; i < 1000; ++i)
        arr[i] = i * i;
    bx_buf_put(&b, arr, sizeof arr);
    cr_assert(!b.failed);
    struct bx_reader r = {.p = b.data, .len = b.len};
    cr_assert_eq(bx_reader_u64(&r), 0x0123456789abcdefULL);
    cr_assert_eq(bx_reader_f64(&r), -2.5);
    char *s1 = bx_reader_str(&r), *s2 = bx_reader_str(&r), *s3 = bx_reader_str(&r);
    cr_assert_str_eq(s1, "port");
    cr_assert_str_eq(s2, "");
    cr_assert_null(s3, "NULL is kept apart from the empty string");
    int *back = bx_reader_array(&r, 1000, sizeof *back);
    cr_assert_not_null(back);
    cr_assert_eq(memcmp(back, arr, sizeof arr), 0);
    cr_assert(!r.failed && r.pos == r.len);
    cr_assert_eq(bx_reader_u64(&r), 0, "past the end: zero");
    cr_assert(r.failed);
    struct bx_reader t = {.p = b.data, .len = 20}; /* the string's length, not its bytes */
    bx_reader_u64(&t);
    bx_reader_f64(&t);
    cr_assert_null(bx_reader_str(&t));
    cr_assert(t.failed);
    free(s1);
    free(s2);
    free(back);
    bx_buf_fini(&b);
    cr_assert(b.data == NULL && b.len == 0);
}

/* ---------------------------------------------------------------- output folders */

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

Test(common_outdir, commit_publishes_everything_and_abort_nothing)
{
    char root[] = "/tmp/bx-outdir-XXXXXX", dir[64], p[8192];
    cr_assert_not_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/out", root);
    struct bx_error err = {0};
    /* A first set: a file, a folder with a file, a JSON summary. */
    struct bx_outdir o;
    cr_assert_eq(bx_outdir_open(&o, dir, "--out", &err), BX_OK, "%s", err.msg);
    cr_assert(o.created);
    cr_assert_eq(bx_outdir_path(&o, "a.txt", p, sizeof p, &err), BX_OK);
    put(p, "a1");
    snprintf(p, sizeof p, "%s/plots", o.stage);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/plots/x.png", o.stage);
    put(p, "x1");
    snprintf(p, sizeof p, "%s/plots/old-only.png", o.stage);
    put(p, "gone later");
    cr_assert_eq(bx_outdir_path(&o, "s.json", p, sizeof p, &err), BX_OK);
    put(p, "s1");
    cr_assert_eq(bx_outdir_commit(&o, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(entries(dir), 3, "a.txt, plots/, s.json and no staging folder");
    snprintf(p, sizeof p, "%s/plots/x.png", dir);
    cr_assert_str_eq(get(p), "x1");
    /* A second set replaces the first whole: the folder is exchanged, not merged. */
    cr_assert_eq(bx_outdir_open(&o, dir, "--out", &err), BX_OK, "%s", err.msg);
    cr_assert_not(o.created);
    snprintf(p, sizeof p, "%s/plots", o.stage);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/plots/x.png", o.stage);
    put(p, "x2");
    bx_outdir_path(&o, "s.json", p, sizeof p, &err);
    put(p, "s2");
    cr_assert_eq(bx_outdir_commit(&o, &err), BX_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/plots/x.png", dir);
    cr_assert_str_eq(get(p), "x2");
    snprintf(p, sizeof p, "%s/plots/old-only.png", dir);
    cr_assert_null(get(p), "the old folder's files went with it");
    snprintf(p, sizeof p, "%s/a.txt", dir);
    cr_assert_str_eq(get(p), "a1", "a file the new set lacks stays");
    /* An aborted third set changes nothing and leaves no staging folder. */
    cr_assert_eq(bx_outdir_open(&o, dir, "--out", &err), BX_OK, "%s", err.msg);
    bx_outdir_path(&o, "s.json", p, sizeof p, &err);
    put(p, "s3");
    bx_outdir_abort(&o);
    snprintf(p, sizeof p, "%s/s.json", dir);
    cr_assert_str_eq(get(p), "s2");
    cr_assert_eq(entries(dir), 3);
    /* A folder made for an aborted set is removed again; a file is not a folder. */
    snprintf(p, sizeof p, "%s/new/deeper", root);
    cr_assert_eq(bx_outdir_open(&o, p, "--out", &err), BX_OK, "%s", err.msg);
    bx_outdir_abort(&o);
    cr_assert_neq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/a.txt", dir);
    memset(&err, 0, sizeof err);
    cr_assert_eq(bx_outdir_open(&o, p, "--out", &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "--out") && strstr(err.msg, "not a folder"), "%s", err.msg);
    memset(&err, 0, sizeof err);
    cr_assert_eq(bx_out_file_check(dir, "--json", &err), BX_EINVAL);
    memset(&err, 0, sizeof err);
    snprintf(p, sizeof p, "%s/none/f.json", root);
    cr_assert_eq(bx_out_file_check(p, "--json", &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
    bx_rm_tree(root);
    cr_assert_neq(access(root, F_OK), 0, "bx_rm_tree removes folders and files");
}

Test(common_outdir, the_signal_registry_holds_sixteen_paths)
{
    int slot[17];
    for (int i = 0; i < 17; ++i)
        slot[i] = bx_temp_register("/tmp/bx-none");
    for (int i = 0; i < 16; ++i)
        cr_assert_eq(slot[i], i, "distinct slots");
    cr_assert_eq(slot[16], -1, "full");
    bx_temp_unregister(slot[3]);
    cr_assert_eq(bx_temp_register("/tmp/bx-none"), 3, "a freed slot is reused");
    for (int i = 0; i < 16; ++i)
        bx_temp_unregister(i);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

Test(common_topk, the_kth_largest_equals_a_full_sort)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    double v[2000], heap[64], sorted[2000];
    for (size_t k = 1; k <= 64; k += 7) {
        for (size_t n = 0; n < 2000; ++n)
            v[n] = n % 13 == 0 ? 0.5 : gsl_rng_uniform(r); /* ties too */
        struct bx_topk t;
        bx_topk_init(&t, heap, k);
        for (size_t n = 0; n < 2000; ++n) {
            if (n + 1 < k)
                cr_assert(isinf(bx_topk_min(&t)), "fewer than k values: -inf");
            bx_topk_push(&t, v[n]);
        }
        memcpy(sorted, v, sizeof v);
        qsort(sorted, 2000, sizeof *sorted, cmp_desc);
        cr_assert_eq(bx_topk_min(&t), sorted[k - 1], "k = %zu", k);
    }
    gsl_rng_free(r);
}

/* ---------------------------------------------------------------- fast normals (bx/normal.h) */

/* xoshiro256++ seeded through splitmix64 gives the reference algorithm's numbers (computed
 * independently from Blackman and Vigna's definition), inline and as a gsl_rng; uniforms are its
 * top 53 bits. */
Test(common_normal, the_generator_is_xoshiro256pp_inline_and_as_gsl_rng)
{
    static const uint64_t want[4] = {0x6d4ff0619c339b97ULL, 0x9d34f4497825b7a7ULL,
                                     0xb8d25ad967770acdULL, 0xdd36bb1af6b6f104ULL};
    struct bx_xoshiro x;
    bx_xoshiro_seed(&x, 2026);
    for (int i = 0; i < 4; ++i)
        cr_assert_eq(bx_xoshiro_next(&x), want[i], "draw %d", i);
    gsl_rng *r = gsl_rng_alloc(bx_rng_xoshiro256pp);
    gsl_rng_set(r, 2026);
    for (int i = 0; i < 4; ++i)
        cr_assert_eq((uint64_t)gsl_rng_get(r), want[i], "gsl_rng draw %d", i);
    gsl_rng_set(r, 2026);
    bx_xoshiro_seed(&x, 2026);
    cr_assert_eq(bx_xoshiro_uniform(&x), (double)(want[0] >> 11) * 0x1.0p-53);
    cr_assert_eq(gsl_rng_uniform(r), (double)(want[0] >> 11) * 0x1.0p-53);
    gsl_rng_free(r);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The ziggurat's deviates against the normal law (moments, tails beyond the base layer's edge,
 * Kolmogorov-Smirnov) and against GSL's own sampler (two-sample Kolmogorov-Smirnov). */
Test(common_normal, ziggurat_deviates_are_standard_normal, .timeout = 120)
{
    enum { N = 2000000 };
    double *z = malloc(N * sizeof *z), *g = malloc(N * sizeof *g);
    cr_assert(z && g);
    struct bx_xoshiro x;
    bx_xoshiro_seed(&x, 2026);
    double s1 = 0, s2 = 0, s4 = 0;
    size_t t2 = 0, t3 = 0, tr = 0, t4 = 0;
    for (size_t i = 0; i < N; ++i) {
        double v = bx_normal(&x);
        z[i] = v;
        s1 += v;
        s2 += v * v;
        s4 += v * v * v * v;
        t2 += fabs(v) > 2;
        t3 += fabs(v) > 3;
        tr += fabs(v) > 3.6541528853610088; /* the tail path */
        t4 += fabs(v) > 4;
    }
    double n = N, mean = s1 / n, var = s2 / n - mean * mean;
    cr_assert_lt(fabs(mean), 5 / sqrt(n), "mean %g", mean);
    cr_assert_lt(fabs(var - 1), 5 * sqrt(2 / n), "variance %g", var);
    cr_assert_lt(fabs(s4 / n - 3), 5 * sqrt(96 / n), "fourth moment %g", s4 / n);
    double lim[4] = {2, 3, 3.6541528853610088, 4};
    size_t cnt[4] = {t2, t3, tr, t4};
    for (int k = 0; k < 4; ++k) {
        double p = 2 * gsl_cdf_ugaussian_Q(lim[k]), e = n * p, sd = sqrt(n * p * (1 - p));
        cr_assert_lt(fabs((double)cnt[k] - e), 5 * sd + 1, "P(|z| > %g): %zu drawn, %.1f expected",
                     lim[k], cnt[k], e);
    }
    qsort(z, N, sizeof *z, cmp_d);
    double d = 0;
    for (size_t i = 0; i < N; ++i) {
        double c = gsl_cdf_ugaussian_P(z[i]);
        d = fmax(d, fmax(fabs(c - (double)i / n), fabs((double)(i + 1) / n - c)));
    }
    cr_assert_lt(d, 1.95 / sqrt(n), "Kolmogorov-Smirnov D = %g", d); /* 99.9% */
    gsl_rng *r = gsl_rng_alloc(bx_rng_xoshiro256pp);
    gsl_rng_set(r, 7);
    for (size_t i = 0; i < N; ++i)
        g[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    qsort(g, N, sizeof *g, cmp_d);
    double d2 = 0;
    for (size_t i = 0, j = 0; i < N && j < N;) {
        if (z[i] <= g[j])
            ++i;
        else
            ++j;
        d2 = fmax(d2, fabs((double)i - (double)j) / n);
    }
    cr_assert_lt(d2, 1.95 * sqrt(2 / n), "two-sample D against GSL = %g", d2);
    gsl_rng_free(r);
    free(g);
    free(z);
}

/* Eight lanes at once (AVX-512 where the CPU has it) give the one-lane definition's deviates,
 * sums and final states, rejections (wedges and tails) included. */
Test(common_normal, the_vector_fill_is_the_scalar_definition)
{
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq")) {
        cr_log_warn("vector normal fill skipped: this CPU has no AVX-512 (the fill is scalar)");
        return;
    }
#else
    cr_log_warn("vector normal fill skipped: not an x86-64 CPU");
    return;
#endif
    size_t ns[] = {1, 7, 8, 9, 512, 1000, 20000};
    for (size_t t = 0; t < sizeof ns / sizeof *ns; ++t) {
        size_t n = ns[t];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        for (uint64_t seed = 1; seed < 40; ++seed) {
            struct bx_xoshiro la[8], lb[8];
            for (int k = 0; k < 8; ++k) {
                bx_xoshiro_seed(&la[k], bx_hash64(seed * 8 + (uint64_t)k));
                lb[k] = la[k];
            }
            double sa = bx_normal_fill8(la, a, n, 0.37f);
            double sb = bx_normal_fill8_portable(lb, b, n, 0.37f);
            cr_assert(sa == sb, "n = %zu, seed %llu: sums %.17g vs %.17g", n,
                      (unsigned long long)seed, sa, sb);
            cr_assert_eq(memcmp(a, b, n * sizeof *a), 0, "n = %zu, seed %llu", n,
                         (unsigned long long)seed);
            cr_assert_eq(memcmp(la, lb, sizeof la), 0, "states after, n = %zu", n);
        }
        free(b);
        free(a);
    }
}
