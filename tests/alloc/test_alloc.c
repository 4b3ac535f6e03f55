/* SPDX-License-Identifier: MIT */
/* test_alloc.c - out of memory: bxsim's own allocations (malloc, calloc, realloc and
 * posix_memalign in every bx_ library, wrapped at link time with --wrap) fail at the Nth call,
 * for every N until the operation no longer allocates that many: the loaders, the readers and a
 * ports run must refuse with a message, never crash, and - under AddressSanitizer (asan-ubsan
 * preset) - leak nothing. Allocations inside third-party libraries are not wrapped. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bx/audit.h"
#include "bx/matcher.h"
#include "bx/port.h"
#include "bx/report.h"
#include "bx/scn.h"

#include "../support/port_fixture.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAKS() __lsan_do_recoverable_leak_check()
#else
#define LEAKS() 0
#endif

/* ---------------------------------------------------------------- the hook */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);

static long fail_at = -1; /* the call that fails (0-based); -1: none */
static long calls;        /* calls since the count was reset */
static bool failed;       /* the planned failure happened */

static bool fail_now(void)
{
    if (fail_at < 0)
        return false;
    long c = __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    if (c != fail_at)
        return false;
    failed = true;
    return true;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}
int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    return fail_now() ? 12 /* ENOMEM */ : __real_posix_memalign(p, a, n);
}

/* Run @p op with the Nth allocation failing, for N = 0, 1, ... (every N up to 400, then every
 * step-th) until @p op makes fewer allocations than N; each failure must be reported with a
 * message, and nothing may leak. @return the number of runs. */
typedef enum bx_status (*op_fn)(void *ctx, struct bx_error *err);
static long sweep(const char *what, op_fn op, void *ctx, long step)
{
    long runs = 0;
    for (long n = 0;; n += n < 400 ? 1 : step) {
        struct bx_error err = {0};
        calls = 0;
        failed = false;
        fail_at = n;
        enum bx_status st = op(ctx, &err);
        fail_at = -1;
        ++runs;
        if (st != BX_OK)
            cr_assert(err.msg[0] != '\0', "%s: allocation %ld failed without a message", what, n);
        cr_assert(failed || st == BX_OK, "%s: status %d with no failed allocation (%ld)", what, st,
                  n);
        cr_assert_eq(LEAKS(), 0, "%s: a leak after allocation %ld failed", what, n);
        if (!failed)
            break; /* the operation made fewer than n + 1 allocations: every one was failed */
    }
    cr_log_info("%s: %ld runs", what, runs);
    return runs;
}

/* ---------------------------------------------------------------- operations */

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/bx-alloc-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    bx_rm_tree(dir);
}

TestSuite(alloc, .init = setup, .fini = teardown, .timeout = 600);

static enum bx_status load_scenario(void *ctx, struct bx_error *err)
{
    struct bx_scn scn;
    enum bx_status st = bx_scn_load_file(ctx, &scn, err);
    if (st == BX_OK)
        bx_scn_fini(&scn);
    return st;
}

Test(alloc, the_scenario_loader_survives_every_failed_allocation)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/national.yaml", BX_SOURCE_DIR);
    sweep("national.yaml", load_scenario, path, 7);
    snprintf(path, sizeof path, "%s/scenarios/pedestrian-network.yaml", BX_SOURCE_DIR);
    sweep("pedestrian-network.yaml", load_scenario, path, 1);
}

static enum bx_status load_profile(void *ctx, struct bx_error *err)
{
    struct bx_profile p;
    enum bx_status st = bx_scn_load_profile(ctx, &p, err);
    if (st == BX_OK)
        bx_scn_profile_fini(&p);
    return st;
}

Test(alloc, the_profile_loader_survives_every_failed_allocation)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/profiles/visa-best.yaml", BX_SOURCE_DIR);
    sweep("visa-best.yaml", load_profile, path, 1);
}

static enum bx_status audit_scores(void *ctx, struct bx_error *err)
{
    struct bx_audit_opts o = bx_audit_opts_default();
    o.bootstrap = 10;
    struct bx_audit *a = NULL;
    enum bx_status st = bx_audit_read_scores(ctx, &o, &a, err);
    if (st != BX_OK)
        return st;
    json_t *r = bx_audit_finish(a, err);
    bx_audit_free(a);
    if (r == NULL)
        return err->code ? err->code : BX_ENOMEM;
    json_decref(r);
    return BX_OK;
}

Test(alloc, the_score_reader_and_audit_survive_every_failed_allocation)
{
    char path[128];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("probe_subject,reference_subject,score,region\n", f);
    for (int s = 0; s < 40; ++s)
        for (int k = 0; k < 5; ++k)
            fprintf(f, "p%d,p%d,%.3f,%s\n", s, (s + k) % 40, k ? 0.01 * k : 0.8, s % 2 ? "a" : "b");
    fclose(f);
    sweep("audit of s.csv", audit_scores, path, 3);
}

static enum bx_status load_gallery(void *ctx, struct bx_error *err)
{
    struct bx_store *g = bx_store_load_h5(ctx, err);
    bx_store_free(g);
    return g ? BX_OK : err->code ? err->code : BX_ENOMEM;
}

Test(alloc, the_template_reader_survives_every_failed_allocation)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(64, 30, &err);
    cr_assert_not_null(g);
    float t[64];
    for (int i = 0; i < 30; ++i) {
        for (int k = 0; k < 64; ++k)
            t[k] = (float)((i * 7 + k * 3) % 11) - 5.0f;
        int64_t id = i;
        cr_assert_eq(bx_store_add(g, t, 1, &id, NULL, &err), BX_OK, "%s", err.msg);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/g.h5", dir);
    cr_assert_eq(bx_store_save_h5(g, path, &err), BX_OK, "%s", err.msg);
    bx_store_free(g);
    sweep("g.h5", load_gallery, path, 1);
}

static struct bx_ports_config small_ports(void)
{
    struct bx_ports_config cfg = bx_test_ports(2, 64, 50, 120);
    bx_test_port_common(&cfg.ports[0], "gate", BX_PORT_AIR);
    cfg.ports[0].departures_per_day = 3;
    cfg.ports[0].first_s = 1 * 3600;
    cfg.ports[0].last_s = 3 * 3600;
    cfg.ports[0].passengers_mean = 20;
    cfg.ports[0].open_s = 45 * 60;
    cfg.ports[0].peak_s = 30 * 60;
    cfg.ports[0].close_s = 15 * 60;
    cfg.ports[0].gates = 1;
    cfg.ports[0].cameras_per_gate = 1;
    cfg.ports[0].device = BX_DEVICE_GATE_CAMERA;
    bx_test_port_common(&cfg.ports[1], "walk", BX_PORT_LAND);
    cfg.ports[1].device = BX_DEVICE_MOBILE;
    cfg.ports[1].land.lane_kind = BX_LANE_PEDESTRIAN;
    cfg.ports[1].land.lanes = 1;
    for (int h = 0; h < 4; ++h)
        cfg.ports[1].land.arrivals.rate_per_h[h] = 10;
    cfg.ports[1].land.expected_gallery = 100;
    cfg.ports[1].land.expected_share = 0.5;
    cfg.horizon_s = 4 * 3600;
    return cfg;
}

static enum bx_status ports_run(void *ctx, struct bx_error *err)
{
    const struct bx_ports_config *cfg = ctx;
    struct bx_ports_result r;
    enum bx_status st = bx_ports_result_init(&r, cfg->n_ports, err);
    if (st != BX_OK)
        return st;
    st = bx_ports_run(cfg, 3, 0, &r, err);
    bx_ports_result_fini(&r);
    return st;
}

Test(alloc, a_ports_run_survives_failed_allocations)
{
    struct bx_ports_config cfg = small_ports();
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    /* Every allocation of the first 400, then every 37th: a run makes thousands. */
    sweep("ports run", ports_run, &cfg, 37);
    bx_ports_config_fini(&cfg);
}

static enum bx_status read_results(void *ctx, struct bx_error *err)
{
    struct bx_rpt_results d;
    enum bx_status st = bx_rpt_results_read(ctx, &d, err);
    if (st == BX_OK)
        bx_rpt_results_fini(&d);
    return st;
}

Test(alloc, the_results_reader_survives_every_failed_allocation)
{
    struct bx_ports_config cfg = small_ports();
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    struct bx_ports_result r;
    cr_assert_eq(bx_ports_result_init(&r, cfg.n_ports, &err), BX_OK);
    cr_assert_eq(bx_ports_run(&cfg, 3, 0, &r, &err), BX_OK, "%s", err.msg);
    struct bx_rpt_run_info info = {.scenario = "alloc",
                                   .scenario_file = "alloc.yaml",
                                   .version = "test",
                                   .seed = 3,
                                   .wall_s = 0,
                                   .git_revision = "test",
                                   .libraries = "none",
                                   .scenario_text = "name: x\n",
                                   .profile_text = "name: y\n"};
    char path[128];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    cr_assert_eq(bx_rpt_write_results_h5(path, &info, &cfg, &r, 1, &err), BX_OK, "%s", err.msg);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
    sweep("results.h5", read_results, path, 1);
}
