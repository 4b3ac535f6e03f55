/* SPDX-License-Identifier: MIT */
/* cmd_calibrate.c - `bxsim calibrate`: an algorithm profile's achieved figures against its
 * published targets (measured by calib/, bx/calib.h), and --fit. */
#include <jansson.h>
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

static int fit_profile(struct bx_profile *p, size_t n, unsigned iterations)
{
    if (p->n_fit == 0) {
        fprintf(stderr, "bxsim calibrate: profile %s lists no `fit` parameters\n", p->name);
        return BX_EXIT_USAGE;
    }
    struct bx_error err = {0};
    enum bx_status st = bx_calib_fit(p, n, iterations, fit_progress, NULL, &err);
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

int bx_cmd_calibrate(int argc, char **argv)
{
    const char *name = NULL;
    uint64_t n = 3000, iterations = 60;
    bool fit = false, json = false;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--profile") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(a, "--subjects") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("calibrate", "--subjects", argv[++i], 20, 20000, &n))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--iterations") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("calibrate", "--iterations", argv[++i], 1, 10000, &iterations))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--fit") == 0) {
            fit = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            puts("usage: bxsim calibrate --profile NAME [--subjects N] [--fit [--iterations K]]\n"
                 "                       [--json]\n\n"
                 "Generate templates with the profile, score them with the matcher and print\n"
                 "achieved versus target figures with Clopper-Pearson 95% intervals. --fit first\n"
                 "moves the profile's `fit` parameters (GSL Nelder-Mead on log parameters, common\n"
                 "random numbers) to minimise the squared log errors. N subjects give N genuine\n"
                 "and N(N-1) impostor comparisons per target (default 3000).");
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
    struct bx_profile p;
    if (!bx_app_load_profile(name, &p))
        return BX_EXIT_USAGE;
    struct bx_error err = {0};
    int rc = BX_EXIT_OK;
    if (fit && (rc = fit_profile(&p, (size_t)n, (unsigned)iterations)) != BX_EXIT_OK)
        goto done;
    struct bx_tplgen *gen = bx_tplgen_alloc(&p.params, &err);
    if (gen == NULL) {
        fprintf(stderr, "bxsim calibrate: %s\n", err.msg);
        rc = BX_EXIT_USAGE;
        goto done;
    }
    json_t *arr = json_array();
    if (!json)
        printf("%-12s %-12s %10s %10s %24s %s\n", "target", "metric", "target", "achieved",
               "95% CI", "ok");
    for (size_t k = 0; k < p.n_targets && rc == BX_EXIT_OK; ++k) {
        const struct bx_profile_target *t = &p.targets[k];
        struct bx_calib_figure m;
        if (bx_calib_measure(gen, &p.mix, t, (size_t)n, &m, &err) != BX_OK) {
            fprintf(stderr, "bxsim calibrate: %s\n", err.msg);
            rc = BX_EXIT_RUNTIME;
            break;
        }
        bool ok = bx_calib_within(t, &m);
        const char *metric = t->metric == BX_TARGET_FNMR_AT_FMR ? "fnmr@fmr"
                             : t->metric == BX_TARGET_FMR_RATIO ? "fmr_ratio"
                                                                : "fnir@fpir";
        if (!json)
            printf("%-12s %-12s %10.4g %10.4g   [%9.3g, %9.3g] %s\n", t->name, metric, t->value,
                   m.value, m.lo, m.hi, ok ? "yes" : "NO");
        json_array_append_new(arr,
                              json_pack("{sssssfsfsfs[ff]sIsIsb}", "name", t->name, "metric",
                                        metric, "fmr", t->fmr, "target", t->value, "achieved",
                                        m.value, "ci95", m.lo, m.hi, "errors", (json_int_t)m.errors,
                                        "trials", (json_int_t)m.trials, "within_tolerance", ok));
    }
    if (json && rc == BX_EXIT_OK) {
        json_t *root =
            json_pack("{sssIso}", "profile", p.name, "subjects", (json_int_t)n, "targets", arr);
        char *text = json_dumps(root, JSON_INDENT(2));
        puts(text);
        free(text);
        json_decref(root);
    } else {
        json_decref(arr);
    }
    bx_tplgen_free(gen);
done:
    bx_scn_profile_fini(&p);
    return rc;
}
