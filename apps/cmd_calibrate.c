/* SPDX-License-Identifier: MIT */
/* cmd_calibrate.c - `bxsim calibrate`: an algorithm profile's achieved figures against its
 * published targets (measured by calib/, bx/calib.h), and --fit. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/calib.h"

#include "app.h"

static void fit_progress(unsigned it, double objective, double size, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "\rfit: iteration %u, objective %.4f, simplex size %.3f ", it, objective, size);
}

static int fit_profile(struct bx_profile *p, const struct bx_calib_opts *o, unsigned iterations)
{
    if (p->n_fit == 0) {
        fprintf(stderr, "bxsim calibrate: profile %s lists no `fit` parameters\n", p->name);
        return BX_EXIT_USAGE;
    }
    fprintf(stderr,
            "bxsim calibrate: fitting %zu parameters of %s to %zu targets, %zu subjects x %u "
            "seeds (%llu..%llu) per evaluation\n",
            p->n_fit, p->name, p->n_targets, o->subjects, o->seeds,
            (unsigned long long)o->first_seed, (unsigned long long)(o->first_seed + o->seeds - 1));
    struct bx_error err = {0};
    enum bx_status st = bx_calib_fit(p, o, iterations, fit_progress, NULL, &err);
    fputc('\n', stderr);
    if (st != BX_OK) {
        fprintf(stderr, "bxsim calibrate: %s\n", err.msg);
        return BX_EXIT_RUNTIME;
    }
    printf("fitted parameters (paste into the profile's generator block):\n");
    for (size_t i = 0; i < p->n_fit; ++i)
        printf("  %-28s %.6g\n", p->fit[i], *bx_scn_profile_param(&p->params, p->fit[i]));
    return BX_EXIT_OK;
}

static const char *metric_name(enum bx_target_metric m)
{
    return m == BX_TARGET_FNMR_AT_FMR ? "fnmr@fmr"
           : m == BX_TARGET_FMR_RATIO ? "fmr_ratio"
                                      : "fnir@fpir";
}

static const char *interval_name(enum bx_calib_interval i)
{
    return i == BX_CALIB_SUBJECT_BOOTSTRAP ? "subject-bootstrap"
           : i == BX_CALIB_SEED_SPREAD     ? "seed-spread"
                                           : "clopper-pearson";
}

static void print_table(const struct bx_profile *p, const struct bx_calib_opts *o,
                        const struct bx_calib_figure *f)
{
    printf("%s: %zu subjects per target and seed, %u seeds (%llu..%llu)\n", p->name, o->subjects,
           o->seeds, (unsigned long long)o->first_seed,
           (unsigned long long)(o->first_seed + o->seeds - 1));
    printf("%-17s %-10s %8s %9s %22s %-6s %21s %s\n", "target", "metric", "target", "achieved",
           "95% CI", "by", "range over seeds", "ok");
    for (size_t k = 0; k < p->n_targets; ++k) {
        const struct bx_profile_target *t = &p->targets[k];
        const struct bx_calib_figure *m = &f[k];
        printf("%-17s %-10s %8.4g %9.4g   [%8.3g, %8.3g] %-6s [%8.4g, %8.4g] %s\n", t->name,
               metric_name(t->metric), t->value, m->value, m->lo, m->hi,
               m->interval == BX_CALIB_SUBJECT_BOOTSTRAP ? "boot"
               : m->interval == BX_CALIB_SEED_SPREAD     ? "seeds"
                                                         : "CP",
               m->seed_lo, m->seed_hi, bx_calib_within(t, m) ? "yes" : "NO");
    }
    printf("(CP: Clopper-Pearson over the pooled trials; boot: subject bootstrap, %u replicates;\n"
           " seeds: Student-t over the seeds' values, used where it is wider)\n",
           o->bootstrap);
}

static void print_json(const struct bx_profile *p, const struct bx_calib_opts *o,
                       const struct bx_calib_figure *f)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < p->n_targets; ++k) {
        const struct bx_profile_target *t = &p->targets[k];
        const struct bx_calib_figure *m = &f[k];
        json_array_append_new(arr,
                              json_pack("{sssssfsfsfs[ff]sssIsIs[ff]sb}", "name", t->name, "metric",
                                        metric_name(t->metric), "fmr", t->fmr, "target", t->value,
                                        "achieved", m->value, "ci95", m->lo, m->hi, "interval",
                                        interval_name(m->interval), "errors", (json_int_t)m->errors,
                                        "trials", (json_int_t)m->trials, "seed_range", m->seed_lo,
                                        m->seed_hi, "within_tolerance", bx_calib_within(t, m)));
    }
    json_t *root =
        json_pack("{sssIsIsIsIso}", "profile", p->name, "subjects", (json_int_t)o->subjects,
                  "seeds", (json_int_t)o->seeds, "first_seed", (json_int_t)o->first_seed,
                  "bootstrap", (json_int_t)o->bootstrap, "targets", arr);
    char *text = json_dumps(root, JSON_INDENT(2));
    puts(text);
    free(text);
    json_decref(root);
}

/* The `achieved` lines to record in the profile, one per target. */
static void print_yaml(const struct bx_profile *p, const struct bx_calib_figure *f)
{
    printf("achieved blocks (paste into the profile's targets):\n");
    for (size_t k = 0; k < p->n_targets; ++k)
        printf("  %-17s achieved: {value: %.4g, ci95: [%.4g, %.4g], seed_range: [%.4g, %.4g]}\n",
               p->targets[k].name, f[k].value, f[k].lo, f[k].hi, f[k].seed_lo, f[k].seed_hi);
}

int bx_cmd_calibrate(int argc, char **argv)
{
    const char *name = NULL;
    uint64_t n = 3000, iterations = 60, seeds = BX_CALIB_SEEDS, first_seed = 0;
    bool fit = false, json = false, yaml = false, has_first = false;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--profile") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(a, "--subjects") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("calibrate", "--subjects", argv[++i], 20, 20000, &n))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--seeds") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("calibrate", "--seeds", argv[++i], 1, 64, &seeds))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--first-seed") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("calibrate", "--first-seed", argv[++i], 0, INT64_MAX - 64,
                                  &first_seed))
                return BX_EXIT_USAGE;
            has_first = true;
        } else if (strcmp(a, "--iterations") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("calibrate", "--iterations", argv[++i], 1, 10000, &iterations))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--fit") == 0) {
            fit = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--yaml") == 0) {
            yaml = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            puts("usage: bxsim calibrate --profile NAME [--subjects N] [--seeds K]\n"
                 "                       [--first-seed S] [--fit [--iterations I]] [--json | "
                 "--yaml]\n\n"
                 "Generate templates with the profile, score them with the matcher and print\n"
                 "achieved versus target figures over K generator seeds S..S+K-1 (default 4\n"
                 "seeds from the profile's own seed): FNMR and FNIR pool every seed's trials\n"
                 "(Clopper-Pearson 95% interval); an FMR ratio is the mean of the seeds' ratios\n"
                 "with a subject-bootstrap 95% interval (1000 replicates); with 3 seeds or more\n"
                 "a Student-t interval over the seeds' values is used where it is wider. The\n"
                 "range over seeds shows how far one seed can stray. --fit first moves the "
                 "profile's `fit`\n"
                 "parameters (GSL Nelder-Mead on log parameters, common random numbers: the same\n"
                 "seeds and subjects at every step) to minimise the squared log errors of the\n"
                 "multi-seed figures. --yaml prints the `achieved` blocks to record. N subjects\n"
                 "give N genuine and N(N-1) impostor comparisons per target and seed (default\n"
                 "3000).");
            return BX_EXIT_OK;
        } else {
            fprintf(stderr, "bxsim calibrate: unknown or incomplete option '%s'\n", a);
            return BX_EXIT_USAGE;
        }
    }
    if (name == NULL) {
        fputs("bxsim calibrate: --profile NAME is required\n", stderr);
        return BX_EXIT_USAGE;
    }
    if (json && yaml) {
        fputs("bxsim calibrate: --json and --yaml exclude each other\n", stderr);
        return BX_EXIT_USAGE;
    }
    struct bx_profile p;
    if (!bx_app_load_profile(name, &p))
        return BX_EXIT_USAGE;
    struct bx_calib_opts o = bx_calib_opts_default(&p);
    o.subjects = (size_t)n;
    o.seeds = (unsigned)seeds;
    if (has_first)
        o.first_seed = first_seed;
    struct bx_error err = {0};
    int rc = BX_EXIT_OK;
    struct bx_calib_figure *f = NULL;
    if (fit && (rc = fit_profile(&p, &o, (unsigned)iterations)) != BX_EXIT_OK)
        goto done;
    if ((f = calloc(p.n_targets ? p.n_targets : 1, sizeof *f)) == NULL) {
        fputs("bxsim calibrate: out of memory\n", stderr);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    if (bx_calib_measure_profile(&p, &o, f, &err) != BX_OK) {
        fprintf(stderr, "bxsim calibrate: %s\n", err.msg);
        rc = err.code == BX_EINVAL ? BX_EXIT_USAGE : BX_EXIT_RUNTIME;
        goto done;
    }
    if (json)
        print_json(&p, &o, f);
    else if (yaml)
        print_yaml(&p, f);
    else
        print_table(&p, &o, f);
done:
    free(f);
    bx_scn_profile_fini(&p);
    return rc;
}
