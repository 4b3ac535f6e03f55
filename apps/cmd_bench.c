/* SPDX-License-Identifier: MIT */
/* cmd_bench.c - `bxsim bench`: options, the machine's description, and the suites of bench/
 * (kernel, matcher, models, e2e, accuracy) with the regression gate (docs/bench.md). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bx/common.h"
#include "bx/sim.h"

#include "app.h"
#include "bench.h"

static json_t *environment(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    __builtin_cpu_init();
    char flags[128] = "";
    const char *feats[] = {"avx2", "fma", "avx512f", "avx512vnni", "avx512bf16"};
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; ++i) {
        bool has = false;
        switch (i) {
        case 0:
            has = __builtin_cpu_supports("avx2");
            break;
        case 1:
            has = __builtin_cpu_supports("fma");
            break;
        case 2:
            has = __builtin_cpu_supports("avx512f");
            break;
        case 3:
            has = __builtin_cpu_supports("avx512vnni");
            break;
        default:
            has = __builtin_cpu_supports("avx512bf16");
            break;
        }
        if (has) {
            strncat(flags, feats[i], sizeof flags - strlen(flags) - 2);
            strcat(flags, " ");
        }
    }
    return json_pack("{sssssssssssssssI}", "cpu", model, "cpu_features", flags, "machine",
                     u.machine, "compiler", "gcc " __VERSION__, "bxsim", bx_app_version(),
                     "git_revision", bx_app_git_revision(), "openblas_core", bx_app_blas_core(),
                     "cores", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN));
}

int bx_cmd_bench(int argc, char **argv)
{
    const char *suite = "kernel", *json_path = NULL, *baseline = NULL, *stored = NULL;
    double tolerance = 0.10;
    uint64_t seed = 1;
    uint64_t repeat = 0;
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            puts(
                "usage: bxsim bench [--suite kernel|matcher|models|e2e|accuracy|lifecycle|all]\n"
                "                   [--json FILE] [--seed S]\n"
                "                   [--repeat N] [--quick]\n"
                "                   [--baseline FILE [--tolerance 0.10]] [--results FILE]\n"
                "accuracy: FNMR and FMR counts of visa-best at FMR 1e-3 (subjects keyed by "
                "--seed).\n"
                "--baseline: compare with a stored `--json` file; exit 3 when a figure got worse\n"
                "by more than the tolerance beyond the measured noise (docs/bench.md).\n"
                "--results FILE: compare a stored run with --baseline instead of measuring.\n"
                "models: templates/s of the generator and its memory for 10^6 templates.\n"
                "e2e: travellers/s of scenarios/national.yaml (one day, one thread, then all\n"
                "cores splitting the large searches) and the share of time in matching.\n"
                "lifecycle: one year of scenarios/national-year.yaml at sample 0.01 (every core)\n"
                "and the whole-store FPIR searched up to 10^6 templates (--quick: 30 days, 10^5).\n"
                "\nkernel: events/s of the hold model (10^3, 10^5, 10^6 pending events) and\n"
                "customers/s of M/M/4 at utilisation 0.9 (10^6 customers), one core.\n"
                "matcher: comparisons/s of 1:N search, d = 512, galleries of 10^3, 10^5, 10^6,\n"
                "1, 32 and 1024 probes per call, 1 and 2 threads, exact and fast, each also as a\n"
                "fraction of this machine's memory bandwidth or SGEMM peak (measured here).\n"
                "--repeat: repetitions per figure (default 5 kernel, 3 matcher);\n"
                "--quick: small sizes (for tests).");
            return BX_EXIT_OK;
        } else if (strcmp(a, "--suite") == 0 && i + 1 < argc) {
            suite = argv[++i];
        } else if (strcmp(a, "--json") == 0 && i + 1 < argc) {
            json_path = argv[++i];
        } else if (strcmp(a, "--repeat") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("bench", "--repeat", argv[++i], 1, 1000, &repeat))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--quick") == 0) {
            quick = true;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (!bx_app_parse_u64("bench", "--seed", argv[++i], 0, INT64_MAX, &seed))
                return BX_EXIT_USAGE;
        } else if (strcmp(a, "--results") == 0 && i + 1 < argc) {
            stored = argv[++i];
        } else if (strcmp(a, "--baseline") == 0 && i + 1 < argc) {
            baseline = argv[++i];
        } else if (strcmp(a, "--tolerance") == 0 && i + 1 < argc) {
            char *end;
            tolerance = strtod(argv[++i], &end);
            if (*end != '\0' || !(tolerance >= 0 && tolerance < 10)) {
                fprintf(stderr,
                        "bxsim bench: --tolerance: expected a fraction such as 0.10, got "
                        "'%s'\n",
                        argv[i]);
                return BX_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "bxsim bench: unknown or incomplete option '%s'\n", a);
            return BX_EXIT_USAGE;
        }
    }
    /* The baseline is checked before anything is measured: a file the gate cannot use is an
     * error (exit 2), never a silently disabled gate. */
    json_t *base = NULL;
    struct bx_error oerr = {0};
    if (json_path && bx_out_file_check(json_path, "--json", &oerr) != BX_OK) {
        fprintf(stderr, "bxsim bench: %s\n", oerr.msg);
        return BX_EXIT_USAGE;
    }
    if (baseline && bx_bench_load(baseline, "--baseline", &base) != BX_EXIT_OK)
        return BX_EXIT_USAGE;
    if (stored) {
        /* Compare two stored runs: nothing is measured. */
        if (baseline == NULL) {
            fprintf(stderr, "bxsim bench: --results needs --baseline\n");
            return BX_EXIT_USAGE;
        }
        json_t *cur;
        if (bx_bench_load(stored, "--results", &cur) != BX_EXIT_OK) {
            json_decref(base);
            return BX_EXIT_USAGE;
        }
        /* the two runs must come from the same machine (accuracy counts compare anywhere) */
        const char *cs = json_string_value(json_object_get(cur, "suite"));
        json_t *sel = cs && strcmp(cs, "accuracy") == 0
                          ? bx_bench_select_any(base)
                          : bx_bench_select(base, json_object_get(cur, "environment"), baseline,
                                            "--baseline");
        if (sel == NULL) {
            json_decref(cur);
            json_decref(base);
            return BX_EXIT_USAGE;
        }
        json_t *table = NULL;
        int gate = bx_bench_compare(json_object_get(cur, "results"), sel, tolerance, &table);
        json_decref(table);
        json_decref(cur);
        json_decref(base);
        return gate;
    }
    bool kernel = strcmp(suite, "kernel") == 0 || strcmp(suite, "all") == 0;
    bool matcher = strcmp(suite, "matcher") == 0 || strcmp(suite, "all") == 0;
    bool models = strcmp(suite, "models") == 0 || strcmp(suite, "all") == 0;
    bool e2e = strcmp(suite, "e2e") == 0 || strcmp(suite, "all") == 0;
    bool accuracy = strcmp(suite, "accuracy") == 0 || strcmp(suite, "all") == 0;
    bool lifecycle = strcmp(suite, "lifecycle") == 0 || strcmp(suite, "all") == 0;
    if (!kernel && !matcher && !models && !e2e && !accuracy && !lifecycle) {
        json_decref(base);
        fprintf(stderr,
                "bxsim bench: --suite: unknown suite '%s' (available: kernel, matcher, models, "
                "e2e, accuracy, lifecycle, all)\n",
                suite);
        return BX_EXIT_USAGE;
    }
    json_t *results = json_array(), *env = environment();
    /* A baseline from another machine is refused before anything is measured (speeds do not
     * compare across processors or compilers); accuracy counts compare anywhere. */
    json_t *sel = NULL;
    if (base) {
        sel = strcmp(suite, "accuracy") == 0 ? bx_bench_select_any(base)
                                             : bx_bench_select(base, env, baseline, "--baseline");
        if (sel == NULL) {
            json_decref(base);
            json_decref(results);
            json_decref(env);
            return BX_EXIT_USAGE;
        }
    }
    int rc = BX_EXIT_OK;
    if (kernel)
        bx_bench_kernel(results, repeat ? repeat : 5, quick);
    if (matcher)
        rc = bx_bench_matcher(results, env, (unsigned)(repeat ? repeat : 3), quick);
    if (models && rc == BX_EXIT_OK)
        rc = bx_bench_models(results, (unsigned)(repeat ? repeat : 3), quick);
    if (e2e && rc == BX_EXIT_OK)
        rc = bx_bench_e2e(results, (unsigned)(repeat ? repeat : 1), quick);
    if (accuracy && rc == BX_EXIT_OK)
        rc = bx_bench_accuracy(results, quick, seed);
    if (lifecycle && rc == BX_EXIT_OK)
        rc = bx_bench_lifecycle(results, quick);
    json_t *table = NULL;
    int gate = BX_EXIT_OK;
    if (sel && rc == BX_EXIT_OK)
        gate = bx_bench_compare(results, sel, tolerance, &table);
    json_decref(base);
    if (json_path && rc == BX_EXIT_OK) {
        json_t *root =
            json_pack("{sssoso}", "suite", suite, "environment", env, "results", results);
        if (table) {
            json_object_set_new(root, "comparison", table);
            json_object_set_new(root, "baseline", json_string(baseline));
            json_object_set_new(root, "tolerance", json_real(tolerance));
            table = NULL;
        }
        char *text = json_dumps(root, JSON_INDENT(2));
        struct bx_error err = {0};
        if (text == NULL || bx_file_write_atomic(json_path, text, strlen(text), &err) != BX_OK) {
            fprintf(stderr, "bxsim bench: --json %s: %s\n", json_path,
                    err.code ? err.msg : "cannot serialise");
            rc = BX_EXIT_RUNTIME;
        }
        free(text);
        json_decref(root);
    } else {
        json_decref(results);
        json_decref(env);
    }
    json_decref(table);
    return rc != BX_EXIT_OK ? rc : gate;
}
