/* SPDX-License-Identifier: MIT */
/* lifecycle.c - `bxsim bench --suite lifecycle` (docs/bench.md): one simulated year of national
 * entries and exits (scenarios/national-year.yaml, sample 0.01, every core), and the whole-store
 * FPIR measured by real searches up to 10^6 templates. Issue targets: the year in under 300 s on
 * 2 cores; the store measurement to 10^6 in under 60 s. --quick: 30 days and 10^5. */
#define _POSIX_C_SOURCE 200809L
#include "bx/lifecycle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bx/scn.h"

#include "app.h"
#include "bench.h"

int bx_bench_lifecycle(json_t *results, bool quick)
{
    const char *file = BX_SCENARIO_DIR "/national-year.yaml";
    struct bx_scn scn;
    struct bx_error err = {0};
    if (bx_app_load_scenario(file, &scn) != BX_EXIT_OK)
        return BX_EXIT_RUNTIME;
    if (!bx_app_ports_profile(&scn, file, NULL, 0)) {
        bx_scn_fini(&scn);
        return BX_EXIT_RUNTIME;
    }
    struct bx_lc_config *c = &scn.lifecycle;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cores > 0 ? (unsigned)cores : 1;
    if (quick) {
        c->horizon_days = 30;
        c->warmup_days = 0;
        c->report_from = 0;
        c->report_to = 30;
    }
    struct bx_lc_result r;
    int rc = BX_EXIT_OK;
    if (bx_lc_result_init(&r, c->n_classes, &err) != BX_OK) {
        bx_scn_fini(&scn);
        return BX_EXIT_RUNTIME;
    }
    double t0 = bx_wall_s();
    if (bx_lc_run(c, scn.seed, 0, &r, &err) != BX_OK) {
        fprintf(stderr, "bxsim bench: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    double wall = bx_wall_s() - t0;
    if (rc == BX_EXIT_OK) {
        uint64_t moves = 0;
        for (int m = 0; m < BX_LC_N_MODES; ++m)
            moves += r.flows[m][BX_LC_ENTRY_ATTEMPTS] + r.flows[m][BX_LC_EXITS];
        char name[64];
        snprintf(name, sizeof name, "lifecycle/national-%s-wall", quick ? "30-days" : "year");
        bx_bench_figure(results, name, "s", (double)moves, &wall, 1,
                        json_pack("{sfsfsI}", "sample", c->sample, "days",
                                  c->horizon_days + c->warmup_days, "threads",
                                  (json_int_t)c->threads));
        double rate = (double)moves / wall;
        snprintf(name, sizeof name, "lifecycle/national-%s-rate", quick ? "30-days" : "year");
        bx_bench_figure(results, name, "entries+exits/s", 1, &rate, 1, NULL);
    }
    /* the whole store, at the air exit threshold */
    struct bx_lc_fmr fmr;
    double thr = r.thresholds[BX_LC_AIR][1];
    c->bims.n_measure = 3;
    c->bims.measure_sizes[0] = 10000;
    c->bims.measure_sizes[1] = 100000;
    c->bims.measure_sizes[2] = quick ? 100000 : 1000000;
    c->bims.measure_probes = 1000;
    double sizes[3] = {1e4, 1e5, quick ? 1e5 : 1e6};
    struct bx_lc_fpir_point pts[3];
    if (rc == BX_EXIT_OK && isfinite(thr)) {
        t0 = bx_wall_s();
        if (bx_lc_fmr_at(c, thr, 10000, &fmr, &err) != BX_OK ||
            bx_lc_store_fpir(c, &fmr, sizes, 3, c->threads, NULL, pts, &err) != BX_OK) {
            fprintf(stderr, "bxsim bench: %s\n", err.msg);
            rc = BX_EXIT_RUNTIME;
        }
        double sw = bx_wall_s() - t0;
        if (rc == BX_EXIT_OK) {
            char name[64];
            snprintf(name, sizeof name, "lifecycle/store-fpir-to-%.0e-wall", sizes[2]);
            bx_bench_figure(results, name, "s", sizes[2], &sw, 1,
                            json_pack("{sfsfsfsf}", "fmr", fmr.fmr, "fpir_measured_largest",
                                      pts[2].measured_fpir, "fpir_model_largest", pts[2].fpir,
                                      "threshold", thr));
        }
    }
    bx_lc_result_fini(&r);
    bx_scn_fini(&scn);
    return rc;
}
