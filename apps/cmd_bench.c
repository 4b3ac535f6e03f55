/* SPDX-License-Identifier: MIT */
/* cmd_bench.c - `bxsim bench`: speed of the kernel, as events/s and customers/s.
 *
 * kernel suite:
 *   hold-N   the classic hold model (Vaucher and Duval 1975): N events pending; each event
 *            schedules one successor at now + Exp(1), so the calendar size stays N. Reported as
 *            events/s over 2 max(N, 10^6) events after the N initial insertions.
 *   mm4      an M/M/4 station at utilisation 0.9 serving 10^6 customers through the real
 *            network model (sources, resource queue, tallies, quantile sketch), one core.
 *            Reference on this kind of machine (issue #2): cimba 3.0 about 1.1-1.3 M
 *            customers/s, SimPy 4 about 0.09 M; target >= 2 M.
 * Each figure is repeated (--repeat, default 5) and reported as median, min and max.
 */
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

struct hold {
    gsl_rng *r;
    uint64_t left;
};

static void hold_event(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct hold *h = obj;
    (void)arg;
    if (h->left == 0) {
        bx_sim_stop(sim);
        return;
    }
    h->left--;
    bx_sim_schedule(sim, bx_sim_now(sim) + gsl_rng_uniform_pos(h->r) * 2.0, 0, hold_event, h, 0);
}

/* Events per second of the hold model with n pending events. */
static double bench_hold(size_t n, uint64_t n_events, uint32_t rep, double *items)
{
    struct bx_error err = {0};
    struct bx_streams *rs = bx_streams_alloc(12345, rep, NULL, &err);
    struct bx_sim *sim = bx_sim_alloc(n + 1, &err);
    struct hold h = {bx_streams_get(rs, "hold", &err), n_events};
    for (size_t i = 0; i < n; ++i)
        bx_sim_schedule(sim, gsl_rng_uniform_pos(h.r) * 2.0, 0, hold_event, &h, 0);
    double t0 = bx_wall_s();
    bx_sim_run(sim, BX_INF, &err);
    double dt = bx_wall_s() - t0;
    *items = (double)(n_events - h.left);
    bx_sim_free(sim);
    bx_streams_free(rs);
    return dt;
}

/* Seconds to serve n customers in M/M/4 at rho = 0.9; events reported through *events. */
static double bench_mm4(uint64_t n_customers, uint32_t rep, double *customers, double *events)
{
    struct bx_error err = {0};
    struct bx_net_station st = {
        .name = "booth", .servers = 4, .next = -1, .balk_queue_len = SIZE_MAX, .balk_prob = 1};
    struct bx_net_source src = {.name = "arrivals", .to = 0};
    bx_dist_exponential(&st.service, 1.0, &err);
    bx_dist_exponential(&src.interarrival, 1.0 / 3.6, &err);
    struct bx_net_config cfg = {.sources = &src, .n_sources = 1, .stations = &st, .n_stations = 1};
    cfg.horizon_s = (double)n_customers / 3.6;
    src.stop_s = cfg.horizon_s;
    struct bx_net_station_result sr = {0};
    struct bx_net_rep_result res = {.stations = &sr};
    double t0 = bx_wall_s();
    enum bx_status st_run = bx_net_run(&cfg, 777, rep, &res, &err);
    double dt = bx_wall_s() - t0;
    if (st_run != BX_OK) {
        fprintf(stderr, "bxsim bench: mm4: %s\n", err.msg);
        return BX_NAN;
    }
    *customers = (double)sr.served;
    *events = (double)res.events;
    return dt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bx_bench_figure(json_t *results, const char *name, const char *unit, double n,
                       const double *values, size_t reps, json_t *extra)
{
    double *s = malloc(reps * sizeof *s), *v = malloc(reps * sizeof *v);
    if (s == NULL || v == NULL) {
        free(s);
        free(v);
        return BX_NAN;
    }
    /* Test-only knob (docs/bench.md): BX_BENCH_INJECT_SLOWDOWN=F makes every rate F times
     * lower and every time F times longer, so that the regression gate can be tested. */
    const char *knob = getenv("BX_BENCH_INJECT_SLOWDOWN");
    double slow = knob ? atof(knob) : 1;
    size_t ul = strlen(unit);
    bool rate_unit = ul >= 2 && strcmp(unit + ul - 2, "/s") == 0;
    for (size_t i = 0; i < reps; ++i)
        v[i] = !(slow > 0) || slow == 1 ? values[i]
               : rate_unit              ? values[i] / slow
               : strcmp(unit, "s") == 0 ? values[i] * slow
                                        : values[i];
    values = v;
    memcpy(s, values, reps * sizeof *s);
    qsort(s, reps, sizeof *s, cmp_double);
    double med = reps % 2 ? s[reps / 2] : (s[reps / 2 - 1] + s[reps / 2]) / 2;
    json_t *arr = json_array();
    for (size_t i = 0; i < reps; ++i)
        json_array_append_new(arr, json_real(values[i]));
    json_t *fig = json_pack("{sssssfsfsfsfso}", "name", name, "unit", unit, "n", n, "median", med,
                            "min", s[0], "max", s[reps - 1], "repetitions", arr);
    /* The spread: half the relative range of the repetitions (the gate's noise band). */
    json_object_set_new(fig, "spread", json_real(med != 0 ? (s[reps - 1] - s[0]) / med / 2 : 0));
    if (extra) {
        json_object_update(fig, extra);
        json_decref(extra);
    }
    json_array_append_new(results, fig);
    printf("%-34s %14.4g %-14s (min %.4g, max %.4g, %zu runs)\n", name, med, unit, s[0],
           s[reps - 1], reps);
    fflush(stdout);
    free(s);
    free(v);
    return med;
}

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

static void bench_kernel(json_t *results, uint64_t repeat, bool quick)
{
    double scale = quick ? 0.1 : 1.0;
    double *rate = calloc(repeat, sizeof *rate), *ev_rate = calloc(repeat, sizeof *ev_rate);
    if (rate == NULL || ev_rate == NULL)
        goto done;
    static const size_t holds[] = {1000, 100000, 1000000};
    for (size_t k = 0; k < 3; ++k) {
        size_t n = (size_t)((double)holds[k] * (k == 2 && quick ? 0.3 : 1.0));
        uint64_t ev = (uint64_t)(2 * fmax((double)n, 1e6 * scale));
        for (uint64_t r = 0; r < repeat; ++r) {
            double items, dt = bench_hold(n, ev, (uint32_t)r, &items);
            rate[r] = items / dt;
        }
        char name[32];
        snprintf(name, sizeof name, "hold-%zu", n);
        bx_bench_figure(results, name, "events/s", (double)n, rate, repeat, NULL);
    }
    uint64_t n_cust = (uint64_t)(1e6 * scale);
    for (uint64_t r = 0; r < repeat; ++r) {
        double c = 0, e = 0, dt = bench_mm4(n_cust, (uint32_t)r, &c, &e);
        rate[r] = c / dt;
        ev_rate[r] = e / dt;
    }
    bx_bench_figure(results, "mm4-customers", "customers/s", (double)n_cust, rate, repeat, NULL);
    bx_bench_figure(results, "mm4-events", "events/s", (double)n_cust, ev_rate, repeat, NULL);
done:
    free(ev_rate);
    free(rate);
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
            puts("usage: bxsim bench [--suite kernel|matcher|models|e2e|accuracy|all]\n"
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
        json_t *table = NULL;
        int gate = bx_bench_compare(json_object_get(cur, "results"), base, tolerance, &table);
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
    if (!kernel && !matcher && !models && !e2e && !accuracy) {
        json_decref(base);
        fprintf(stderr,
                "bxsim bench: --suite: unknown suite '%s' (available: kernel, matcher, models, "
                "e2e, accuracy, all)\n",
                suite);
        return BX_EXIT_USAGE;
    }
    json_t *results = json_array(), *env = environment();
    int rc = BX_EXIT_OK;
    if (kernel)
        bench_kernel(results, repeat ? repeat : 5, quick);
    if (matcher)
        rc = bx_bench_matcher(results, env, (unsigned)(repeat ? repeat : 3), quick);
    if (models && rc == BX_EXIT_OK)
        rc = bx_bench_models(results, (unsigned)(repeat ? repeat : 3), quick);
    if (e2e && rc == BX_EXIT_OK)
        rc = bx_bench_e2e(results, (unsigned)(repeat ? repeat : 1), quick);
    if (accuracy && rc == BX_EXIT_OK)
        rc = bx_bench_accuracy(results, quick, seed);
    json_t *table = NULL;
    int gate = BX_EXIT_OK;
    if (base && rc == BX_EXIT_OK)
        gate = bx_bench_compare(results, base, tolerance, &table);
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
