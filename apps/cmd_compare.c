/* SPDX-License-Identifier: MIT */
/* cmd_compare.c - `bxsim compare A.yaml B.yaml`: what changes if ... Both ports scenarios run
 * with the same seed and replications (common random numbers), and the paired differences go to
 * DIR/compare.json and compare.html (docs/compare.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx/par.h"
#include "bx/report.h"
#include "bx/scn.h"

#include "app.h"

static const char usage[] =
    "usage: bxsim compare A.yaml B.yaml [--replications N] [--seed S] [--threads T]\n"
    "                     [--out DIR] [--quiet]\n"
    "\n"
    "What changes from plan A to plan B: both ports scenarios run with the same seed and\n"
    "replications, so the same travellers arrive and are captured wherever the scenarios agree\n"
    "(common random numbers), and each figure's difference B - A is paired replication by\n"
    "replication, with a 95% Student-t interval (docs/compare.md). Ports are matched by name.\n"
    "\n"
    "options:\n"
    "  --replications N     replications of each (default: A's)\n"
    "  --seed S             master seed of both (default: A's)\n"
    "  --threads T          worker threads, 0 = one per core (results do not depend on it)\n"
    "  --out DIR            write DIR/compare.json and compare.html (atomically)\n"
    "  --quiet              no table\n"
    "  -h, --help           this text\n";

struct side {
    struct bx_scn scn;
    struct bx_ports_result *reps;
    uint64_t seed; /* both sides': common random numbers */
};

static enum bx_status run_one(void *ctx, uint32_t rep, struct bx_error *err)
{
    struct side *s = ctx;
    return bx_ports_run(&s->scn.ports, s->seed, rep, &s->reps[rep], err);
}

static void pack_one(void *ctx, uint32_t rep, struct bx_buf *b)
{
    struct side *s = ctx;
    bx_ports_result_pack(&s->reps[rep], b);
}

static enum bx_status unpack_one(void *ctx, uint32_t rep, struct bx_reader *r, struct bx_error *err)
{
    struct side *s = ctx;
    return bx_ports_result_unpack(r, &s->reps[rep], err);
}

static int load_side(const char *file, struct side *s)
{
    int rc = bx_app_load_scenario(file, &s->scn);
    if (rc != BX_EXIT_OK)
        return rc;
    if (s->scn.kind != BX_SCN_PORTS) {
        fprintf(stderr, "bxsim compare: %s: compare takes ports scenarios (kind: ports)\n", file);
        return BX_EXIT_USAGE;
    }
    return bx_app_ports_profile(&s->scn, file, NULL, 0) ? BX_EXIT_OK : BX_EXIT_USAGE;
}

static void print_table(json_t *cmp)
{
    json_t *ports = json_object_get(cmp, "ports");
    int w = 4;
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        int l = (int)strlen(json_string_value(json_object_get(json_array_get(ports, i), "name")));
        w = l > w ? l : w;
    }
    printf("%-*s  %-12s %12s %12s %28s\n", w, "port", "figure", "A", "B", "B - A (95% CI)");
    static const char *const figs[] = {"mean_wait_s", "p95_wait_s", "manual"};
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *f = json_object_get(p, "figures");
        const char *name = json_string_value(json_object_get(p, "name"));
        if (f == NULL) {
            printf("%-*s  only in %s\n", w, name,
                   strcmp(json_string_value(json_object_get(p, "in")), "a") == 0 ? "A" : "B");
            continue;
        }
        for (size_t k = 0; k < 3; ++k) {
            json_t *x = json_object_get(f, figs[k]), *d = json_object_get(x, "difference"),
                   *ci = json_object_get(d, "ci95");
            char diff[64];
            double v = json_number_value(json_object_get(d, "value"));
            if (json_is_array(ci))
                snprintf(diff, sizeof diff, "%+.1f [%+.1f, %+.1f]%s", v,
                         json_number_value(json_array_get(ci, 0)),
                         json_number_value(json_array_get(ci, 1)),
                         json_is_true(json_object_get(d, "significant")) ? " *" : "");
            else
                snprintf(diff, sizeof diff, "%+.1f", v);
            printf("%-*s  %-12s %12.1f %12.1f %28s\n", w, k == 0 ? name : "", figs[k],
                   json_number_value(json_object_get(x, "a")),
                   json_number_value(json_object_get(x, "b")), diff);
        }
    }
    puts("(* the interval excludes 0)");
}

int bx_cmd_compare(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL}, *out = NULL;
    uint64_t reps = 0, seed = 0, threads = 0;
    bool has_reps = false, has_seed = false, quiet = false, bad = false;
    size_t nf = 0;
    for (int i = 1; i < argc && !bad; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return BX_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--replications") == 0 && v) {
            bad = !bx_app_parse_u64("compare", a, v, 2, 100000, &reps);
            has_reps = true;
            ++i;
        } else if (strcmp(a, "--seed") == 0 && v) {
            bad = !bx_app_parse_u64("compare", a, v, 0, INT64_MAX, &seed);
            has_seed = true;
            ++i;
        } else if (strcmp(a, "--threads") == 0 && v) {
            bad = !bx_app_parse_u64("compare", a, v, 0, 1024, &threads);
            ++i;
        } else if (strcmp(a, "--out") == 0 && v) {
            out = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "bxsim compare: unknown or incomplete option '%s' (try --help)\n", a);
            bad = true;
        } else if (nf < 2) {
            files[nf++] = a;
        } else {
            fprintf(stderr, "bxsim compare: unexpected argument '%s' (two scenario files)\n", a);
            bad = true;
        }
    }
    if (!bad && nf != 2) {
        fprintf(stderr, "bxsim compare: two scenario files are needed\n%s", usage);
        bad = true;
    }
    if (bad)
        return BX_EXIT_USAGE;
    struct bx_error err = {0};
    struct bx_outdir od = {.slot = -1};
    bool out_ok =
        bx_par_rank() != 0 || out == NULL || bx_outdir_open(&od, out, "--out", &err) == BX_OK;
    if (!bx_par_all_ok(out_ok)) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim compare: %s\n", err.code ? err.msg : "--out: another rank");
        return err.code == BX_EIO ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    struct side s[2];
    memset(s, 0, sizeof s);
    int rc = load_side(files[0], &s[0]);
    if (rc == BX_EXIT_OK)
        rc = load_side(files[1], &s[1]);
    uint32_t n = rc == BX_EXIT_OK ? (has_reps ? (uint32_t)reps : s[0].scn.replications) : 0;
    if (rc == BX_EXIT_OK && n < 2) {
        fprintf(stderr,
                "bxsim compare: %s has 1 replication; paired intervals need at least 2 "
                "(--replications N)\n",
                files[0]);
        rc = BX_EXIT_USAGE;
    }
    s[0].seed = s[1].seed = has_seed ? seed : s[0].scn.seed;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned total = threads ? (unsigned)threads : cores > 0 ? (unsigned)cores : 1;
    for (int k = 0; k < 2 && rc == BX_EXIT_OK; ++k) {
        s[k].scn.ports.search_threads = total > n ? total / n : 1;
        s[k].reps = calloc(n, sizeof *s[k].reps);
        for (uint32_t r = 0; s[k].reps && r < n && rc == BX_EXIT_OK; ++r)
            if (bx_ports_result_init(&s[k].reps[r], s[k].scn.ports.n_ports, &err) != BX_OK)
                rc = BX_EXIT_RUNTIME;
        if (s[k].reps == NULL)
            rc = BX_EXIT_RUNTIME;
    }
    if (rc == BX_EXIT_OK && !quiet && bx_par_rank() == 0)
        fprintf(stderr, "bxsim compare: %s vs %s, seed %llu, %u replications each\n", s[0].scn.name,
                s[1].scn.name, (unsigned long long)s[0].seed, n);
    for (int k = 0; k < 2 && rc == BX_EXIT_OK; ++k) {
        if (bx_par_replicate(n, (unsigned)threads, run_one, &s[k], pack_one, unpack_one, false,
                             NULL, &err) != BX_OK) {
            if (bx_par_rank() == 0)
                fprintf(stderr, "bxsim compare: %s: %s\n", files[k], err.msg);
            rc = BX_EXIT_RUNTIME;
        }
    }
    json_t *cmp = NULL;
    if (rc == BX_EXIT_OK && bx_par_rank() == 0) {
        struct bx_rpt_compare c = {
            s[0].scn.name,   files[0],        s[1].scn.name, files[1],  s[0].seed,
            &s[0].scn.ports, &s[1].scn.ports, s[0].reps,     s[1].reps, n};
        cmp = bx_rpt_compare_json(&c);
        if (cmp == NULL)
            rc = BX_EXIT_RUNTIME;
    }
    if (rc == BX_EXIT_OK && cmp && out) {
        char path[4096];
        struct bx_rpt_report_result rep = {0};
        if (bx_outdir_path(&od, "compare.json", path, sizeof path, &err) != BX_OK ||
            bx_rpt_write_json(path, cmp, &err) != BX_OK ||
            bx_rpt_write_compare_report(od.stage, cmp, NULL, &rep, &err) != BX_OK ||
            bx_outdir_commit(&od, &err) != BX_OK) {
            fprintf(stderr, "bxsim compare: --out %s: %s\n", out, err.msg);
            rc = BX_EXIT_RUNTIME;
        }
    }
    if (rc == BX_EXIT_OK && cmp && !quiet) {
        print_table(cmp);
        if (out)
            printf("wrote %s/compare.json and compare.html\n", out);
    }
    json_decref(cmp);
    bx_outdir_abort(&od);
    for (int k = 0; k < 2; ++k) {
        for (uint32_t r = 0; s[k].reps && r < n; ++r)
            bx_ports_result_fini(&s[k].reps[r]);
        free(s[k].reps);
        bx_scn_fini(&s[k].scn);
    }
    return rc;
}
