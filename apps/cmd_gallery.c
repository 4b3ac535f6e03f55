/* SPDX-License-Identifier: MIT */
/* cmd_gallery.c - `bxsim gallery info` and `bxsim gallery search`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"
#include "bx/matcher.h"
#include "bx/par.h"

#include "app.h"

static const char gallery_usage[] =
    "usage: bxsim gallery <info|search> ...\n"
    "\n"
    "  info FILE.h5             describe a template file (docs/templates.md)\n"
    "  search --gallery G.h5 --probes P.h5 --k K --out R.csv [--threshold T]\n"
    "         [--exact|--fast] [--threads N]\n"
    "                           1:N search of every probe; writes the header\n"
    "                           probe_index,rank,gallery_index,subject_id,score and up to K\n"
    "                           rows per probe (rank 1 is the best; scores are cosines).\n"
    "                           Under mpirun -np N each process loads and searches 1/N of\n"
    "                           the gallery; rank 0 merges (the same hits as one process)\n";

static int exit_for(enum bx_status st)
{
    return st == BX_ENOMEM ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int gallery_info(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fputs("bxsim gallery info: expected one FILE.h5\n", stderr);
        return BX_EXIT_USAGE;
    }
    struct bx_error err = {0};
    struct bx_store *g = bx_store_load_h5(argv[1], &err);
    if (g == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return exit_for(err.code);
    }
    size_t n = bx_store_rows(g), d = bx_store_dim(g);
    int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    size_t citizens = 0, distinct = 0;
    for (size_t r = 0; r < n; ++r) {
        if (ids)
            ids[r] = bx_store_subject(g, r);
        citizens += bx_store_meta(g, r).retention_class == BX_RETAIN_US_CITIZEN;
    }
    if (ids) {
        qsort(ids, n, sizeof *ids, cmp_i64);
        for (size_t r = 0; r < n; ++r)
            distinct += r == 0 || ids[r] != ids[r - 1];
    }
    printf("file:            %s\n", argv[1]);
    printf("format_version:  %d\n", BX_TPL_FORMAT_VERSION);
    printf("templates:       %zu\n", n);
    printf("dim:             %zu\n", d);
    printf("subjects:        %zu distinct\n", distinct);
    printf("retention:       %zu U.S. citizen, %zu non-citizen\n", citizens, n - citizens);
    printf("size:            %.1f MB of float32 templates\n", (double)n * (double)d * 4 / 1e6);
    for (size_t j = 0; j < bx_store_columns(g); ++j) {
        const char *name;
        enum bx_column_type type;
        const double *v = bx_store_column(g, j, &name, &type);
        double lo = BX_INF, hi = -BX_INF;
        for (size_t r = 0; r < n; ++r) {
            lo = fmin(lo, v[r]);
            hi = fmax(hi, v[r]);
        }
        printf("meta/%-11s %s, range [%g, %g]\n", name,
               type == BX_COLUMN_INT64 ? "int64" : "float64", lo, hi);
    }
    free(ids);
    bx_store_free(g);
    return BX_EXIT_OK;
}

/* Under mpirun: search this rank's shard, gather every shard's candidates on rank 0 and merge
 * them there into hits[n_q * k] and nh[n_q]; *total is the whole gallery's live rows. */
static enum bx_status sharded_search(const struct bx_store *g, size_t row0, const float *probes,
                                     size_t n_q, const struct bx_search_opts *o,
                                     struct bx_hit *hits, size_t *nh, size_t *total,
                                     struct bx_error *err)
{
    size_t cap = bx_match_shard_cap(o), ranks = (size_t)bx_par_size();
    struct bx_shard_hit *cand = malloc((n_q ? n_q : 1) * cap * sizeof *cand);
    size_t *nc = malloc((n_q ? n_q : 1) * sizeof *nc);
    struct bx_buf mine = {0}, *all = bx_par_rank() == 0 ? calloc(ranks, sizeof *all) : NULL;
    struct bx_shard_hit *merged = malloc(ranks * cap * sizeof *merged);
    enum bx_status st = BX_OK;
    if (!cand || !nc || !merged || (bx_par_rank() == 0 && !all))
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    else
        st = bx_match_shard(g, row0, probes, n_q, o, cand, nc, err);
    if (st == BX_OK) {
        bx_buf_put_u64(&mine, bx_store_live(g));
        for (size_t q = 0; q < n_q; ++q) {
            bx_buf_put_u64(&mine, nc[q]);
            bx_buf_put(&mine, cand + q * cap, nc[q] * sizeof *cand);
        }
    }
    if ((st = bx_par_agree(st, err)) != BX_OK || (st = bx_par_gather(&mine, all, err)) != BX_OK)
        goto done;
    if (bx_par_rank() == 0) {
        struct bx_reader *rd = calloc(ranks, sizeof *rd);
        if (rd == NULL) {
            st = BX_FAIL(err, BX_ENOMEM, "out of memory");
            goto done;
        }
        *total = 0;
        for (size_t r = 0; r < ranks; ++r) {
            rd[r] = (struct bx_reader){.p = all[r].data, .len = all[r].len};
            *total += (size_t)bx_reader_u64(&rd[r]);
        }
        for (size_t q = 0; q < n_q && st == BX_OK; ++q) {
            size_t n = 0;
            for (size_t r = 0; r < ranks; ++r) {
                uint64_t c = bx_reader_u64(&rd[r]);
                if (c > cap || rd[r].failed) {
                    st = BX_FAIL(err, BX_EFORMAT, "malformed candidates from rank %zu", r);
                    break;
                }
                bx_reader_get(&rd[r], merged + n, (size_t)c * sizeof *merged);
                n += (size_t)c;
            }
            nh[q] = bx_match_merge(o, merged, n, hits + q * o->k);
        }
        free(rd);
    }
done:
    for (size_t r = 0; all && r < ranks; ++r)
        bx_buf_fini(&all[r]);
    free(all);
    bx_buf_fini(&mine);
    free(merged);
    free(nc);
    free(cand);
    return st;
}

static int gallery_search(int argc, char **argv)
{
    const char *gpath = NULL, *ppath = NULL, *out = NULL;
    uint64_t k = 0, threads = 0;
    double threshold = -BX_INF;
    bool fast = false, exact = false;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--gallery") == 0 && has_val) {
            gpath = argv[++i];
        } else if (strcmp(a, "--probes") == 0 && has_val) {
            ppath = argv[++i];
        } else if (strcmp(a, "--out") == 0 && has_val) {
            out = argv[++i];
        } else if (strcmp(a, "--k") == 0 && has_val) {
            if (!bx_app_parse_u64("gallery search", "--k", argv[++i], 1, 100000, &k))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--threads") == 0 && has_val) {
            if (!bx_app_parse_u64("gallery search", "--threads", argv[++i], 0, 256, &threads))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--threshold") == 0 && has_val) {
            char *end;
            const char *s = argv[++i];
            threshold = strtod(s, &end);
            if (end == s || *end != '\0' || isnan(threshold)) {
                fprintf(stderr, "bxsim gallery search: --threshold: expected a number, got '%s'\n",
                        s);
                return BX_EXIT_USAGE;
            }
        } else if (strcmp(a, "--fast") == 0) {
            fast = true;
        } else if (strcmp(a, "--exact") == 0) {
            exact = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(gallery_usage, stdout);
            return BX_EXIT_OK;
        } else {
            fprintf(stderr, "bxsim gallery search: unknown or incomplete option '%s'\n", a);
            return BX_EXIT_USAGE;
        }
    }
    const char *missing = !gpath   ? "--gallery"
                          : !ppath ? "--probes"
                          : !k     ? "--k"
                          : !out   ? "--out"
                                   : NULL;
    if (missing) {
        fprintf(stderr, "bxsim gallery search: %s is required\n", missing);
        return BX_EXIT_USAGE;
    }
    if (fast && exact) {
        fputs("bxsim gallery search: --fast and --exact exclude each other\n", stderr);
        return BX_EXIT_USAGE;
    }
    struct bx_error oerr = {0};
    if (bx_par_rank() == 0 && bx_out_file_check(out, "--out", &oerr) != BX_OK) {
        fprintf(stderr, "bxsim gallery search: %s\n", oerr.msg);
        return BX_EXIT_USAGE;
    }

    int rc = BX_EXIT_OK;
    struct bx_error err = {0};
    /* Under mpirun each rank holds one shard of the gallery (and every probe). */
    size_t row0 = 0;
    struct bx_store *g = bx_par_size() > 1
                             ? bx_store_load_h5_shard(gpath, (size_t)bx_par_rank(),
                                                      (size_t)bx_par_size(), &row0, &err)
                             : bx_store_load_h5(gpath, &err),
                    *p = NULL;
    struct bx_hit *hits = NULL;
    size_t *nh = NULL;
    float *probes = NULL;
    char *csv = NULL;
    enum bx_status st = BX_OK;
    if (g == NULL || (p = bx_store_load_h5(ppath, &err)) == NULL)
        st = err.code;
    else if (bx_store_dim(g) != bx_store_dim(p))
        st = BX_FAIL(&err, BX_EDIM, "bxsim gallery search: %s has dimension %zu but %s has %zu",
                     ppath, bx_store_dim(p), gpath, bx_store_dim(g));
    if (bx_par_agree(st, &err) != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "%s\n", err.msg);
        rc = exit_for(err.code);
        goto done;
    }
    size_t n_q = bx_store_rows(p), d = bx_store_dim(p);
    probes = malloc((n_q ? n_q : 1) * d * sizeof *probes);
    hits = malloc((n_q ? n_q : 1) * k * sizeof *hits);
    nh = malloc((n_q ? n_q : 1) * sizeof *nh);
    size_t cap = 64 + (n_q ? n_q : 1) * k * 72;
    csv = bx_par_rank() == 0 ? malloc(cap) : NULL; /* rank 0 writes the hits */
    if (!bx_par_all_ok(probes && hits && nh && (csv || bx_par_rank() != 0))) {
        fputs("bxsim gallery search: out of memory\n", stderr);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    for (size_t q = 0; q < n_q; ++q)
        memcpy(probes + q * d, bx_store_row(p, q), d * sizeof *probes);
    struct bx_search_opts o = bx_search_opts_default();
    o.k = k;
    o.threshold = threshold;
    o.fast = fast;
    o.threads = (unsigned)threads;
    double t0 = bx_wall_s();
    size_t total = bx_store_live(g);
    st = bx_par_size() > 1 ? sharded_search(g, row0, probes, n_q, &o, hits, nh, &total, &err)
                           : bx_match_one_to_n(g, probes, n_q, &o, hits, nh, &err);
    if (st != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim gallery search: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    double dt = bx_wall_s() - t0;
    if (bx_par_rank() != 0)
        goto done;
    size_t len = (size_t)snprintf(csv, cap, "probe_index,rank,gallery_index,subject_id,score\n");
    for (size_t q = 0; q < n_q; ++q)
        for (size_t i = 0; i < nh[q]; ++i) {
            const struct bx_hit *h = &hits[q * k + i];
            len += (size_t)snprintf(csv + len, cap - len, "%zu,%zu,%lld,%lld,%.10f\n", q, i + 1,
                                    (long long)h->row, (long long)h->subject, h->score);
        }
    if (bx_file_write_atomic(out, csv, len, &err) != BX_OK) {
        fprintf(stderr, "bxsim gallery search: --out: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    fprintf(stderr,
            "bxsim gallery search: %zu probes x %zu templates (%s, k = %llu%s) in %.3f s; "
            "wrote %s\n",
            n_q, total, fast ? "fast" : "exact", (unsigned long long)k,
            bx_par_size() > 1 ? ", sharded over MPI ranks" : "", dt, out);
done:
    free(csv);
    free(nh);
    free(hits);
    free(probes);
    bx_store_free(p);
    bx_store_free(g);
    return rc;
}

int bx_cmd_gallery(int argc, char **argv)
{
    if (argc < 2) {
        fputs(gallery_usage, stderr);
        return BX_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(gallery_usage, stdout);
        return BX_EXIT_OK;
    }
    if (strcmp(argv[1], "info") == 0)
        return gallery_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "search") == 0)
        return gallery_search(argc - 1, argv + 1);
    if (strcmp(argv[1], "gen") == 0)
        return bx_gallery_gen(argc - 1, argv + 1);
    if (strcmp(argv[1], "profiles") == 0)
        return bx_gallery_profiles(argc - 1, argv + 1);
    fprintf(stderr, "bxsim gallery: unknown subcommand '%s'\n%s", argv[1], gallery_usage);
    return BX_EXIT_USAGE;
}
