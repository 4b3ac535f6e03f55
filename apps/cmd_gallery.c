/* SPDX-License-Identifier: MIT */
/* cmd_gallery.c - `bxsim gallery info|search|gen|profiles`: template files, 1:N search (sharded
 * over MPI ranks by par/), synthetic galleries (calib/) and the algorithm profiles. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/calib.h"
#include "bx/common.h"
#include "bx/matcher.h"
#include "bx/par.h"
#include "bx/scn.h"

#include "app.h"

static const char gallery_usage[] =
    "usage: bxsim gallery <info|search|gen|profiles> ...  (bxsim gallery SUB --help)\n"
    "\n"
    "  info FILE.h5             describe a template file (docs/templates.md)\n"
    "  search --gallery G.h5 --probes P.h5 --k K --out R.csv [--threshold T]\n"
    "         [--exact|--fast] [--threads N]\n"
    "                           1:N search of every probe; writes the header\n"
    "                           probe_index,rank,gallery_index,subject_id,score and up to K\n"
    "                           rows per probe (rank 1 is the best; scores are cosines).\n"
    "                           Under mpirun -np N each process loads and searches 1/N of\n"
    "                           the gallery; rank 0 merges (the same hits as one process)\n"
    "  gen --profile NAME --subjects N --samples K --out FILE.h5 [--device D]\n"
    "      [--quality Q] [--age-gap-years Y] [--seed S] [--threads T] [--probes-only]\n"
    "                           a synthetic gallery from an algorithm profile: sample 0 of\n"
    "                           each subject is its document photo, the others captures\n"
    "                           (--probes-only: the captures alone); the file records the\n"
    "                           profile, seed and options it was made with\n"
    "  profiles [--json]        the algorithm profiles, their published targets and the\n"
    "                           figures last achieved (models/profiles, $BX_PROFILE_PATH)\n";

static const char info_usage[] =
    "usage: bxsim gallery info FILE.h5\n\n"
    "Describe a template file: format version, templates, dimension,\n"
    "distinct subjects, retention classes, size, metadata ranges and,\n"
    "when the file records it, how it was made (provenance)\n"
    "(docs/templates.md).\n";

static const char profiles_usage[] =
    "usage: bxsim gallery profiles [--json]\n\n"
    "List the algorithm profiles in models/profiles (or $BX_PROFILE_PATH): each profile's\n"
    "published targets and the figures `bxsim calibrate` last achieved. --json: as JSON.\n";

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

static int exit_for(enum bx_status st)
{
    return st == BX_ENOMEM ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The file's provenance: each key of bxsim's JSON object on its own line, other text as it is
 * (control characters shown as '?': the file may come from anywhere). */
/* @p text and a line break, control characters shown as '?'. */
static void put_clean_line(const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; ++c)
        putchar(*c < 0x20 || *c == 0x7f ? '?' : *c);
    putchar('\n');
}

static void print_provenance(const char *text)
{
    if (text == NULL) {
        puts("provenance:      none recorded");
        return;
    }
    json_t *o = json_loads(text, 0, NULL);
    if (json_is_object(o)) {
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            const char *shown = json_is_string(v) ? json_string_value(v) : val ? val : "?";
            printf("provenance/%-6s ", key);
            put_clean_line(shown);
            free(val);
        }
    } else {
        fputs("provenance:      ", stdout);
        put_clean_line(text);
    }
    json_decref(o);
}

static int gallery_info(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(info_usage, stdout);
        return BX_EXIT_OK;
    }
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
    print_provenance(bx_store_provenance(g));
    free(ids);
    bx_store_free(g);
    return BX_EXIT_OK;
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
    struct bx_store *g = bx_par_load_gallery(gpath, &row0, &err), *p = NULL;
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
    size_t total = 0;
    st = bx_par_search(g, row0, probes, n_q, &o, hits, nh, &total, &err);
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

/* ---------------------------------------------------------------- gallery profiles */

static int gallery_profiles(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(profiles_usage, stdout);
        return BX_EXIT_OK;
    }
    bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fputs(profiles_usage, stderr);
        return BX_EXIT_USAGE;
    }
    const char *dir = bx_scn_profile_dir();
    size_t n_files = 0;
    char **files = NULL;
    struct bx_error lerr = {0};
    if (bx_scn_profile_names(dir, &files, &n_files, &lerr) != BX_OK) {
        fprintf(stderr, "BX_PROFILE_PATH=%s\n", lerr.msg);
        return BX_EXIT_USAGE;
    }
    json_t *arr = json_array();
    int rc = BX_EXIT_OK;
    for (size_t fi = 0; fi < n_files; ++fi) {
        const char *file = files[fi];
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
            fprintf(stderr, "BX_PROFILE_PATH=%s: path too long\n", dir);
            rc = BX_EXIT_USAGE;
            continue;
        }
        struct bx_profile p;
        struct bx_error err = {0};
        if (bx_scn_load_profile(path, &p, &err) != BX_OK) {
            fprintf(stderr, "%s\n", err.msg);
            rc = BX_EXIT_USAGE;
            continue;
        }
        json_t *targets = json_array();
        if (!json)
            printf("%s (d = %zu): %s\n", p.name, p.params.dim, p.description ? p.description : "");
        for (size_t k = 0; k < p.n_targets; ++k) {
            const struct bx_profile_target *t = &p.targets[k];
            const char *metric = t->metric == BX_TARGET_FNMR_AT_FMR ? "fnmr_at_fmr"
                                 : t->metric == BX_TARGET_FMR_RATIO ? "fmr_ratio"
                                                                    : "fnir_at_fpir";
            json_t *o =
                json_pack("{sssssfsfsfss}", "name", t->name, "metric", metric, "fmr", t->fmr,
                          "target", t->value, "tolerance", t->tolerance, "source", t->source);
            if (t->has_achieved) {
                json_object_set_new(o, "achieved", json_real(t->achieved));
                if (isfinite(t->achieved_lo))
                    json_object_set_new(o, "ci95",
                                        json_pack("[ff]", t->achieved_lo, t->achieved_hi));
                if (isfinite(t->achieved_seed_lo))
                    json_object_set_new(
                        o, "seed_range",
                        json_pack("[ff]", t->achieved_seed_lo, t->achieved_seed_hi));
            }
            json_array_append_new(targets, o);
            if (!json) {
                char ach[128] = "not recorded";
                if (t->has_achieved)
                    snprintf(ach, sizeof ach, "%.4g [%.3g, %.3g]", t->achieved, t->achieved_lo,
                             t->achieved_hi);
                if (t->has_achieved && isfinite(t->achieved_seed_lo))
                    snprintf(ach + strlen(ach), sizeof ach - strlen(ach), ", seeds %.4g..%.4g",
                             t->achieved_seed_lo, t->achieved_seed_hi);
                printf("  %-16s %-12s at %s %-7g target %-8.4g achieved %s\n", t->name, metric,
                       t->metric == BX_TARGET_FNIR_AT_FPIR ? "FPIR" : "FMR ", t->fmr, t->value,
                       ach);
            }
        }
        json_array_append_new(arr, json_pack("{sssssIso}", "name", p.name, "description",
                                             p.description ? p.description : "", "dim",
                                             (json_int_t)p.params.dim, "targets", targets));
        bx_scn_profile_fini(&p);
    }
    bx_scn_profile_names_free(files, n_files);
    if (json) {
        char *text = json_dumps(arr, JSON_INDENT(2));
        puts(text);
        free(text);
    }
    json_decref(arr);
    return rc;
}

/* ---------------------------------------------------------------- gallery gen */

static int gallery_gen(int argc, char **argv)
{
    const char *name = NULL, *out = NULL, *device_name = "gate_camera";
    uint64_t subjects = 0, samples = 1, seed = 0, threads_opt = 0;
    double quality = 1.0, gap = 0.0;
    bool has_seed = false, probes_only = false;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        char *end;
        if (strcmp(a, "--probes-only") == 0) {
            probes_only = true;
        } else if (strcmp(a, "--profile") == 0 && v) {
            name = argv[++i];
        } else if (strcmp(a, "--out") == 0 && v) {
            out = argv[++i];
        } else if (strcmp(a, "--device") == 0 && v) {
            device_name = argv[++i];
        } else if (strcmp(a, "--subjects") == 0 && v) {
            if (!bx_app_parse_u64("gallery gen", "--subjects", argv[++i], 1, 100000000, &subjects))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--samples") == 0 && v) {
            if (!bx_app_parse_u64("gallery gen", "--samples", argv[++i], 1, 1000, &samples))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--threads") == 0 && v) {
            if (!bx_app_parse_u64("gallery gen", "--threads", argv[++i], 0, 64, &threads_opt))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--seed") == 0 && v) {
            if (!bx_app_parse_u64("gallery gen", "--seed", argv[++i], 0, INT64_MAX, &seed))
                return BX_EXIT_USAGE;
            has_seed = true;
        } else if ((strcmp(a, "--quality") == 0 || strcmp(a, "--age-gap-years") == 0) && v) {
            const char *s = argv[++i];
            double x = strtod(s, &end);
            bool q = a[2] == 'q';
            if (end == s || *end || !(q ? x > 0 && x <= 1 : x >= 0 && x <= 80)) {
                fprintf(stderr, "bxsim gallery gen: %s: expected a number in %s, got '%s'\n", a,
                        q ? "(0, 1]" : "[0, 80]", s);
                return BX_EXIT_USAGE;
            }
            *(q ? &quality : &gap) = x;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            puts("usage: bxsim gallery gen --profile NAME --subjects N --samples K --out FILE.h5\n"
                 "                         [--device D] [--quality Q] [--age-gap-years Y]\n"
                 "                         [--seed S] [--threads T] [--probes-only]\n\n"
                 "Sample 0 of each subject is its document (enrolment) photo; samples 1..K-1 are\n"
                 "captures by device D (default gate_camera) at quality Q, Y years later.\n"
                 "--probes-only writes samples 1..K-1 alone (K >= 2): a probe file for a gallery\n"
                 "made with the same profile and seed (--samples 1), each template the same as in\n"
                 "the full file. --seed replaces the profile's seed.\n"
                 "Metadata under /meta/: sex, age_years, age_band, region, device, quality,\n"
                 "years_since_enrolment, sample, lookalike_of, hard. The root attribute\n"
                 "`provenance` records the profile, seed and these options (gallery info).");
            return BX_EXIT_OK;
        } else {
            fprintf(stderr, "bxsim gallery gen: unknown or incomplete option '%s'\n", a);
            return BX_EXIT_USAGE;
        }
    }
    if (!name || !out || !subjects) {
        fprintf(stderr, "bxsim gallery gen: %s is required\n",
                !name       ? "--profile"
                : !subjects ? "--subjects"
                            : "--out");
        return BX_EXIT_USAGE;
    }
    struct bx_error oerr = {0};
    if (bx_out_file_check(out, "--out", &oerr) != BX_OK) {
        fprintf(stderr, "bxsim gallery gen: %s\n", oerr.msg);
        return BX_EXIT_USAGE;
    }
    enum bx_device device;
    if (!bx_device_parse(device_name, &device)) {
        fprintf(stderr,
                "bxsim gallery gen: --device: unknown device '%s' (document, egate, "
                "gate_camera, mobile, vehicle, kiosk)\n",
                device_name);
        return BX_EXIT_USAGE;
    }
    struct bx_profile p;
    if (!bx_app_load_profile(name, &p))
        return BX_EXIT_USAGE;
    struct bx_error err = {0};
    if (has_seed)
        p.params.seed = seed;
    int rc = BX_EXIT_OK;
    if (probes_only && samples < 2) {
        fprintf(stderr, "bxsim gallery gen: --probes-only needs --samples 2 or more (sample 0, "
                        "the document photo, is left out)\n");
        bx_scn_profile_fini(&p);
        return BX_EXIT_USAGE;
    }
    struct bx_calib_gallery_opts o = {.subjects = subjects,
                                      .samples = samples,
                                      .device = device,
                                      .quality = quality,
                                      .years_gap = gap,
                                      .threads = (unsigned)threads_opt,
                                      .first_sample = probes_only ? 1 : 0};
    double t0 = bx_wall_s();
    struct bx_store *g = bx_calib_gallery(&p, &o, &err);
    double dt = bx_wall_s() - t0;
    /* How it was made: enough to make it again (the profile's file may change: its name and
     * the seed used, with bxsim's version). */
    json_t *prov =
        json_pack("{sssssssIsIsIsIsssfsfsb}", "generator", "bxsim gallery gen", "version",
                  bx_app_version(), "profile", p.name, "seed", (json_int_t)p.params.seed,
                  "subjects", (json_int_t)subjects, "samples", (json_int_t)samples, "first_sample",
                  (json_int_t)o.first_sample, "device", bx_device_name(device), "quality", quality,
                  "age_gap_years", gap, "probes_only", probes_only);
    char *ptext = prov ? json_dumps(prov, JSON_COMPACT) : NULL;
    json_decref(prov);
    if (g == NULL) {
        fprintf(stderr, "bxsim gallery gen: %s\n", err.msg);
        rc = err.code == BX_EINVAL ? BX_EXIT_USAGE : BX_EXIT_RUNTIME;
    } else if (ptext == NULL || bx_store_set_provenance(g, ptext, &err) != BX_OK) {
        fprintf(stderr, "bxsim gallery gen: %s\n", ptext ? err.msg : "out of memory");
        rc = BX_EXIT_RUNTIME;
    } else if (bx_store_save_h5(g, out, &err) != BX_OK) {
        fprintf(stderr, "bxsim gallery gen: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    } else {
        fprintf(stderr,
                "bxsim gallery gen: %zu templates (%llu subjects x %llu%s) from %s in "
                "%.2f s (%.0f templates/s); wrote %s\n",
                bx_store_rows(g), (unsigned long long)subjects,
                (unsigned long long)(samples - o.first_sample),
                probes_only ? " captures, no document photo" : "", p.name, dt,
                (double)bx_store_rows(g) / dt, out);
    }
    free(ptext);
    bx_store_free(g);
    bx_scn_profile_fini(&p);
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
        return gallery_gen(argc - 1, argv + 1);
    if (strcmp(argv[1], "profiles") == 0)
        return gallery_profiles(argc - 1, argv + 1);
    fprintf(stderr, "bxsim gallery: unknown subcommand '%s'\n%s", argv[1], gallery_usage);
    return BX_EXIT_USAGE;
}
