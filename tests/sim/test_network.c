/* SPDX-License-Identifier: MIT */
/* test_network.c - the station network: routing, conservation, warm-up, thread independence. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "bx/sim.h"

static struct bx_net_station station(const char *name, unsigned c, double mean_s, long next)
{
    struct bx_net_station s = {
        .servers = c, .next = next, .balk_queue_len = SIZE_MAX, .balk_prob = 1};
    snprintf(s.name, sizeof s.name, "%s", name);
    struct bx_error err = {0};
    cr_assert_eq(bx_dist_exponential(&s.service, mean_s, &err), BX_OK);
    return s;
}

static struct bx_net_source source(const char *name, size_t to, double mean_s, double stop)
{
    struct bx_net_source s = {.to = to, .stop_s = stop};
    snprintf(s.name, sizeof s.name, "%s", name);
    struct bx_error err = {0};
    cr_assert_eq(bx_dist_exponential(&s.interarrival, mean_s, &err), BX_OK);
    return s;
}

struct rep_ctx {
    const struct bx_net_config *cfg;
    struct bx_net_rep_result *out;
};

static enum bx_status run_rep(void *vctx, uint32_t rep, struct bx_error *err)
{
    struct rep_ctx *c = vctx;
    return bx_net_run(c->cfg, 2024, rep, &c->out[rep], err);
}

Test(sim_network, replications_are_identical_with_one_or_two_threads)
{
    struct bx_net_station st[2] = {station("a", 2, 9.0, 1), station("b", 1, 4.0, -1)};
    struct bx_net_source src = source("in", 0, 5.0, 36000);
    struct bx_net_config cfg = {&src, 1, st, 2, 36000, 3600, false, 0};
    enum { R = 6 };
    struct bx_net_station_result s1[R][2], s2[R][2];
    struct bx_net_rep_result r1[R], r2[R];
    for (int i = 0; i < R; ++i) {
        r1[i].stations = s1[i];
        r2[i].stations = s2[i];
    }
    struct bx_error err = {0};
    struct rep_ctx c1 = {&cfg, r1}, c2 = {&cfg, r2};
    cr_assert_eq(bx_replicate(R, 1, run_rep, &c1, NULL, &err), BX_OK);
    cr_assert_eq(bx_replicate(R, 2, run_rep, &c2, NULL, &err), BX_OK);
    for (int i = 0; i < R; ++i) {
        cr_assert_eq(memcmp(s1[i], s2[i], sizeof s1[i]), 0, "replication %d differs", i);
        cr_assert_eq(r1[i].events, r2[i].events);
        cr_assert_eq(memcmp(&r1[i].system_time_mean_s, &r2[i].system_time_mean_s, sizeof(double)),
                     0);
    }
    cr_assert_neq(s1[0][0].wait_mean_s, s1[1][0].wait_mean_s, "replications use distinct streams");
}

Test(sim_network, customers_are_conserved_through_a_tandem)
{
    struct bx_net_station st[2] = {station("a", 1, 3.0, 1), station("b", 1, 2.0, -1)};
    struct bx_net_source src = source("in", 0, 4.0, 10000);
    struct bx_net_config cfg = {&src, 1, st, 2, 20000, 0, false, 0};
    struct bx_net_station_result sr[2];
    struct bx_net_rep_result r = {.stations = sr};
    struct bx_error err = {0};
    cr_assert_eq(bx_net_run(&cfg, 1, 0, &r, &err), BX_OK);
    /* Arrivals stop at 10,000 s; by 20,000 s everyone has left. */
    cr_assert_gt(sr[0].arrivals, 2000);
    cr_assert_eq(sr[0].served, sr[0].arrivals);
    cr_assert_eq(sr[1].arrivals, sr[0].served);
    cr_assert_eq(sr[1].served, sr[1].arrivals);
    cr_assert_eq(r.departed, sr[1].served);
}

Test(sim_network, warmup_deletes_early_observations)
{
    struct bx_net_station st = station("a", 1, 3.0, -1);
    struct bx_net_source src = source("in", 0, 4.0, 40000);
    struct bx_net_config all = {&src, 1, &st, 1, 40000, 0, false, 0};
    struct bx_net_config late = {&src, 1, &st, 1, 40000, 30000, false, 0};
    struct bx_net_station_result a, b;
    struct bx_net_rep_result ra = {.stations = &a}, rb = {.stations = &b};
    struct bx_error err = {0};
    bx_net_run(&all, 3, 0, &ra, &err);
    bx_net_run(&late, 3, 0, &rb, &err);
    /* Same streams, same sample path (plus the warm-up event): the second run saw only the
     * last quarter. */
    cr_assert_eq(ra.events + 1, rb.events);
    double frac = (double)b.arrivals / (double)a.arrivals;
    cr_assert(frac > 0.2 && frac < 0.3, "fraction after warm-up %g", frac);
    cr_assert_float_eq(b.throughput_per_h, (double)b.served / (10000.0 / 3600), 1e-9);
}

Test(sim_network, balking_and_reneging_are_counted_and_customers_leave)
{
    struct bx_net_station st = station("a", 1, 10.0, -1);
    st.balk_queue_len = 3;
    st.has_patience = true;
    struct bx_error err = {0};
    cr_assert_eq(bx_dist_deterministic(&st.patience, 15.0, &err), BX_OK);
    struct bx_net_source src = source("in", 0, 5.0, 36000);
    struct bx_net_config cfg = {&src, 1, &st, 1, 40000, 0, true, 0};
    struct bx_net_station_result sr;
    struct bx_net_rep_result r = {.stations = &sr};
    cr_assert_eq(bx_net_run(&cfg, 9, 0, &r, &err), BX_OK);
    cr_assert_gt(sr.balked, 100);
    cr_assert_gt(sr.reneged, 100);
    cr_assert_eq(sr.arrivals, sr.served + sr.balked + sr.reneged);
    cr_assert_leq(sr.wait_max_s, 15.0, "nobody waits longer than the patience");
    cr_assert_eq(r.departed, sr.served);
}

Test(sim_network, config_check_rejects_cycles_and_bad_indices)
{
    struct bx_net_station st[2] = {station("a", 1, 1.0, 1), station("b", 1, 1.0, 0)};
    struct bx_net_source src = source("in", 0, 5.0, 100);
    struct bx_net_config cfg = {&src, 1, st, 2, 100, 0, false, 0};
    struct bx_error err = {0};
    cr_assert_eq(bx_net_config_check(&cfg, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "cycle") != NULL, "%s", err.msg);
    st[1].next = -1;
    bx_err_clear(&err);
    cr_assert_eq(bx_net_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    src.to = 7;
    cr_assert_eq(bx_net_config_check(&cfg, &err), BX_EINVAL);
    src.to = 0;
    cfg.warmup_s = 100;
    cr_assert_eq(bx_net_config_check(&cfg, &err), BX_EINVAL);
}

Test(sim_network, an_overloaded_station_stops_with_a_clear_error)
{
    /* Arrivals every second, one server taking 2 s: the queue grows without bound. */
    struct bx_net_station st = station("jammed", 1, 2.0, -1);
    struct bx_net_source src = source("flood", 0, 1.0, 1e9);
    struct bx_net_config cfg = {&src, 1, &st, 1, 1e7, 0, false, 5000};
    struct bx_net_station_result sr;
    struct bx_net_rep_result r = {.stations = &sr};
    struct bx_error err = {0};
    cr_assert_eq(bx_net_run(&cfg, 1, 0, &r, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "overloaded") != NULL && strstr(err.msg, "'jammed'") != NULL, "%s",
              err.msg);
}

/* bx_replicate reports progress up to the last replication, also when replications finish
 * while the progress callback runs: the callback here takes 20 ms, long enough for the other
 * thread to finish every remaining replication meanwhile (the final "n of n" was lost that way,
 * and with it the progress bar's last line). */
static enum bx_status quick_rep(void *ctx, uint32_t rep, struct bx_error *err)
{
    (void)ctx;
    (void)rep;
    (void)err;
    return BX_OK;
}

static void slow_progress(void *ctx, uint32_t done, uint32_t total)
{
    uint32_t *last = ctx;
    cr_assert_geq(done, *last, "progress never goes back");
    cr_assert_leq(done, total);
    *last = done;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

Test(sim_replicate, progress_reaches_the_last_replication)
{
    for (int trial = 0; trial < 5; ++trial) {
        uint32_t last = 0;
        struct bx_error err = {0};
        cr_assert_eq(bx_replicate(6, 2, quick_rep, &last, slow_progress, &err), BX_OK);
        cr_assert_eq(last, 6, "trial %d: the last report said %u of 6", trial, last);
    }
}
