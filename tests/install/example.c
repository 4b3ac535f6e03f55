/* SPDX-License-Identifier: MIT */
/* example.c - a C program of someone else's that uses the installed matcher and kernel, built
 * with `pkg-config --static --cflags --libs bxsim` (tests/install/check.sh). Prints "ok" when a
 * 1:N search finds each probe's own row and the kernel ran its events in time order; it also
 * links the libraries highest up (size.json from reports/, which needs sizing and par/, and a
 * calibration check from calib/), so that the .pc file's list is shown complete. */
#include <bx/calib.h>
#include <bx/matcher.h>
#include <bx/report.h>
#include <bx/sim.h>
#include <bx/size.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double last = -1;
static int order_ok = 1, events = 0;

static void tick(struct bx_sim *sim, void *obj, int64_t arg)
{
    (void)obj;
    double t = bx_sim_now(sim);
    order_ok &= t >= last;
    last = t;
    ++events;
    if (arg > 0)
        bx_sim_schedule(sim, t + 1.5, 0, tick, NULL, arg - 1);
}

int main(void)
{
    struct bx_error err = {0};
    enum { D = 16, N = 40 };
    struct bx_store *g = bx_store_alloc(D, N, &err);
    float t[N][D];
    int64_t id[N];
    for (int i = 0; i < N; ++i) {
        for (int k = 0; k < D; ++k)
            t[i][k] = (float)(((i + 3) * (k + 5)) % 17) - 8.0f + (k == i % D ? 9.0f : 0.0f);
        id[i] = 1000 + i;
    }
    if (g == NULL || bx_store_add(g, &t[0][0], N, id, NULL, &err) != BX_OK) {
        fprintf(stderr, "store: %s\n", err.msg);
        return 1;
    }
    struct bx_search_opts o = bx_search_opts_default();
    o.k = 1;
    struct bx_hit hits[N];
    size_t nh[N];
    if (bx_match_one_to_n(g, &t[0][0], N, &o, hits, nh, &err) != BX_OK) {
        fprintf(stderr, "search: %s\n", err.msg);
        return 1;
    }
    int found = 0;
    for (int i = 0; i < N; ++i)
        found += nh[i] == 1 && hits[i].subject == id[i];
    bx_store_free(g);
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    bx_sim_schedule(sim, 0.0, 0, tick, NULL, 9);
    if (sim == NULL || bx_sim_run(sim, 100.0, &err) != BX_OK) {
        fprintf(stderr, "sim: %s\n", err.msg);
        return 1;
    }
    bx_sim_free(sim);
    struct bx_size_opts so = {.target_p95_s = 300, .confidence = 0.95, .replications = 2};
    struct bx_rpt_size sz = {.scenario = "example", .scenario_file = "example.yaml", .opts = &so};
    json_t *sj = bx_rpt_size_json(&sz);
    char *text = sj ? json_dumps(sj, 0) : NULL;
    int size_ok = text != NULL && strstr(text, "\"target_p95_wait_s\": 300") != NULL;
    free(text);
    json_decref(sj);
    struct bx_profile_target tg = {.value = 0.01, .tolerance = 0.1};
    struct bx_calib_figure fig = {.value = 0.0101, .lo = 0.009, .hi = 0.011};
    if (!size_ok || !bx_calib_within(&tg, &fig)) {
        fprintf(stderr, "size.json or calibration check failed\n");
        return 1;
    }
    if (found != N || events != 10 || !order_ok) {
        fprintf(stderr, "found %d of %d, %d events, order %d\n", found, N, events, order_ok);
        return 1;
    }
    puts("ok");
    return 0;
}
