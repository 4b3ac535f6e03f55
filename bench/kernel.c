/* SPDX-License-Identifier: MIT */
/* kernel.c - `bxsim bench --suite kernel`: speed of the kernel, as events/s and customers/s.
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bx/common.h"
#include "bx/sim.h"

#include "bench.h"

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

void bx_bench_kernel(json_t *results, uint64_t repeat, bool quick)
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
