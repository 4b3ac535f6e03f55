/* SPDX-License-Identifier: MIT */
/* test_size.c - sizing: the queueing approximations, the confirmed search, and a port that is an
 * M/M/c queue sized to the smallest c whose Erlang-C p95 wait meets the target. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/size.h"

#include "../support/port_fixture.h"

Test(sizing, erlang_c_and_the_mmc_wait_quantile)
{
    /* The closed form C = (a^c / c! c / (c - a)) / (sum_{k<c} a^k / k! + a^c / c! c / (c - a)):
     * C(5, 3) = 0.236151603, C(10, 8) = 0.409180151, C(2, 1) = 1/3. */
    cr_assert_float_eq(bx_size_erlang_c(5, 3.0), 0.23615160349854228, 1e-12);
    cr_assert_float_eq(bx_size_erlang_c(10, 8.0), 0.4091801507964435, 1e-12);
    cr_assert_float_eq(bx_size_erlang_c(2, 1.0), 1.0 / 3, 1e-12);
    cr_assert_eq(bx_size_erlang_c(3, 3.0), 1.0, "unstable: everyone waits");
    /* M/M/c: P(W > t) = C exp(-(c mu - lambda) t), so the p95 solves C exp(-r t) = 0.05. */
    double lambda = 0.1, mean = 30, C = bx_size_erlang_c(5, 3.0);
    double t = bx_size_wait_quantile(5, lambda, mean, 1, 1, 0.95);
    cr_assert_float_eq(C * exp(-(5.0 / mean - lambda) * t), 0.05, 1e-12);
    cr_assert_eq(bx_size_wait_quantile(10, lambda, mean, 1, 1, 0.95), 0.0, "P(wait) < 5%");
    cr_assert(isinf(bx_size_wait_quantile(3, lambda, mean, 1, 1, 0.95)));
    /* Allen-Cunneen: deterministic service (cs2 = 0) halves the exponential scale. */
    cr_assert_float_eq(bx_size_wait_quantile(5, lambda, mean, 1, 0, 0.95), t / 2, 1e-12);
    cr_assert_eq(bx_size_approx_level(lambda, mean, 1, 1, 0.95, 40), 5);
    cr_assert_eq(bx_size_approx_level(lambda, mean, 1, 1, 0.95, 100), 4);
}

/* A monotone "simulation": p95 = 100 / level, interval +-1. */
static unsigned calls;
static enum bx_status fake(void *ctx, unsigned level, struct bx_size_point *out,
                           struct bx_error *err)
{
    (void)ctx;
    (void)err;
    ++calls;
    out->value = 100.0 / level;
    out->lo = out->value - 1;
    out->hi = out->value + 1;
    out->utilization = 1.0 / level;
    return BX_OK;
}

Test(sizing, the_search_reports_only_confirmed_levels)
{
    /* 100 / L + 1 <= 12 first at L = 10. From below, from above, and from the answer. */
    const unsigned starts[] = {1, 3, 10, 30, 200};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; ++i) {
        struct bx_size_result r;
        calls = 0;
        cr_assert_eq(bx_size_search(starts[i], 1, 500, 12, fake, NULL, &r, NULL), BX_OK);
        cr_assert(r.found);
        cr_assert_eq(r.level, 10, "from %u: %u", starts[i], r.level);
        /* Confirmed: 10 meets, 9 was simulated and fails. */
        bool saw9 = false, saw10 = false;
        for (size_t k = 0; k < r.n_curve; ++k) {
            saw9 |= r.curve[k].level == 9 && !bx_size_meets(&r.curve[k], 12);
            saw10 |= r.curve[k].level == 10 && bx_size_meets(&r.curve[k], 12);
            if (k)
                cr_assert_lt(r.curve[k - 1].level, r.curve[k].level, "curve ascending");
        }
        cr_assert(saw9 && saw10);
        cr_assert_eq(calls, r.n_curve, "each level simulated once");
        bx_size_result_fini(&r);
    }
    /* Nothing up to the maximum meets: not found, never a guess. */
    struct bx_size_result r;
    cr_assert_eq(bx_size_search(2, 1, 8, 12, fake, NULL, &r, NULL), BX_OK);
    cr_assert_not(r.found);
    bx_size_result_fini(&r);
    /* The minimum meeting the target is confirmed without a level below it. */
    cr_assert_eq(bx_size_search(3, 1, 50, 200, fake, NULL, &r, NULL), BX_OK);
    cr_assert(r.found && r.level == 1);
    bx_size_result_fini(&r);
}

/* One pedestrian crossing that is an M/M/c queue: Poisson arrivals at 360/h, exponential 30 s
 * captures, no failures, opt-outs or match time. */
static struct bx_ports_config mmc_port(void)
{
    struct bx_ports_config cfg = bx_test_ports(1, 128, 100, 300);
    cfg.verify_fmr = 1e-3;
    struct bx_port_config *p = &cfg.ports[0];
    bx_test_port_common(p, "walk", BX_PORT_LAND);
    p->device = BX_DEVICE_MOBILE;
    p->land.lane_kind = BX_LANE_PEDESTRIAN;
    p->land.lanes = 4;
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = 360;
    p->land.expected_gallery = 300;
    p->land.expected_share = 0.5;
    p->match_time_s = 0;
    p->pop.impostor_rate = p->pop.watchlist_rate = 0;
    p->capture.exponential_time = true;
    p->capture.time_mean_s[BX_DEVICE_MOBILE] = 30;
    for (int d = 0; d < BX_N_DEVICES; ++d)
        p->capture.fta[d] = 0;
    p->capture.max_attempts = 1;
    p->capture.us_optout = 0;
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    return cfg;
}

static unsigned size_for(struct bx_ports_config *cfg, double target)
{
    struct bx_size_opts o = {.target_p95_s = target,
                             .confidence = 0.95,
                             .replications = 5,
                             .threads = 2,
                             .seed = 11,
                             .window_hours = 20,
                             .max_level = 50};
    struct bx_size_port_result r;
    struct bx_error err = {0};
    cr_assert_eq(bx_size_port(cfg, 0, BX_SIZE_LANES, &o, &r, &err), BX_OK, "%s", err.msg);
    cr_assert(r.search.found, "target %g", target);
    unsigned level = r.search.level;
    for (size_t k = 0; k < r.search.n_curve; ++k)
        cr_log_info("target %g: level %u p95 %.1f [%.1f, %.1f]", target, r.search.curve[k].level,
                    r.search.curve[k].value, r.search.curve[k].lo, r.search.curve[k].hi);
    bx_size_result_fini(&r.search);
    return level;
}

Test(sizing, an_mmc_port_gets_the_smallest_c_whose_erlang_c_p95_wait_meets_the_target,
     .timeout = 300)
{
    struct bx_ports_config cfg = mmc_port();
    /* Erlang C p95 waits at 0.1/s, 30 s: c = 4: 69.6 s, 5: 23.3 s, 6: 6.8 s, 7: 0 s. Targets
     * well between them, so that sampling noise cannot flip the answer. */
    const double targets[] = {110, 40, 14, 3};
    unsigned last = 0;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; ++i) {
        unsigned want = 1;
        while (bx_size_wait_quantile(want, 0.1, 30, 1, 1, 0.95) > targets[i])
            ++want;
        unsigned got = size_for(&cfg, targets[i]);
        cr_assert_eq(got, want, "target %g s: sized %u, Erlang C %u", targets[i], got, want);
        /* A tighter target never needs fewer lanes. */
        cr_assert_geq(got, last, "target %g", targets[i]);
        last = got;
    }
    bx_ports_config_fini(&cfg);
}

/* The shared matching service as M/M/c: pedestrians at 1 a second on 1000 mobile units (no
 * queue before the service), one exponential capture that never fails, no opt-outs, no network
 * delay, exponential service with mean 1.5 s. M/M/c's p95 answer (sojourn) time is 9.7 s with 2
 * workers, 5.0 s with 3 and 4.6 s with 4, so for a 7 s target bx_size_tvs must answer 3 and
 * show 2 failing (the confirmed search). */
Test(size, tvs_workers_are_sized_like_mmc, .timeout = 300)
{
    struct bx_ports_config cfg = mmc_port();
    struct bx_port_config *p = &cfg.ports[0];
    p->land.lanes = 1000;
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = 3600;
    p->capture.time_mean_s[BX_DEVICE_MOBILE] = 5;
    struct bx_error err = {0};
    cfg.tvs.on = true;
    cfg.tvs.workers = 8;
    cfg.tvs.hold_timeout_s = 60;
    cr_assert_eq(bx_dist_exponential(&cfg.tvs.service, 1.5, &err), BX_OK);
    for (int t = 0; t < BX_N_PORT_TYPES; ++t)
        cr_assert_eq(bx_dist_deterministic(&cfg.tvs.latency[t], 0, &err), BX_OK);
    struct bx_size_opts o = {.target_p95_s = 7,
                             .confidence = 0.95,
                             .replications = 2,
                             .threads = 2,
                             .seed = 5,
                             .window_hours = 3,
                             .max_level = 50};
    struct bx_size_tvs_result r;
    cr_assert_eq(bx_size_tvs(&cfg, &o, &r, &err), BX_OK, "%s", err.msg);
    cr_assert(r.search.found);
    cr_assert_eq(r.search.level, 3);
    bool two_fails = false;
    for (size_t k = 0; k < r.search.n_curve; ++k) {
        const struct bx_size_point *q = &r.search.curve[k];
        cr_log_info("workers %u: p95 %.2f [%.2f, %.2f]", q->level, q->value, q->lo, q->hi);
        if (q->level == 2)
            two_fails = !bx_size_meets(q, 7);
        if (q->level == 3)
            cr_assert_float_eq(q->value, 4.98, 0.4, "p95 with 3 workers %g", q->value);
    }
    cr_assert(two_fails, "2 workers must have been simulated and fail");
    cr_assert_float_eq(r.peak_per_s, 1.0, 0.1);
    bx_size_result_fini(&r.search);
    cr_assert_eq(bx_size_tvs(&(struct bx_ports_config){.n_ports = 0}, &o, &r, &err), BX_EINVAL);
    bx_ports_config_fini(&cfg);
}

/* A sized level meets the target with the equipment's failures in effect: mobile units that
 * are down a sixth of the time (MTBF 5 h, MTTR 1 h) need at least as many units as perfect ones
 * for the same target, and the level found, simulated on its own with failures, meets it. */
Test(sizing, failing_units_are_sized_with_their_failures, .timeout = 300)
{
    struct bx_ports_config cfg = mmc_port();
    unsigned perfect = size_for(&cfg, 14);
    bx_test_failures(&cfg, BX_DEVICE_MOBILE, 5, 1);
    unsigned failing = size_for(&cfg, 14);
    cr_assert_geq(failing, perfect, "perfect units %u, failing %u", perfect, failing);
    cr_assert_gt(failing, perfect, "a sixth of the time down costs at least a unit (%u)", perfect);
    bx_ports_config_fini(&cfg);
}
