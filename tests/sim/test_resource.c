/* SPDX-License-Identifier: MIT */
/* test_resource.c - queue disciplines, capacity schedules, balking, reneging. */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/sim.h"

/* A scripted customer: requests at t_req with a priority, holds a server for hold_s. */
struct world {
    struct bx_sim *sim;
    struct bx_resource *res;
    double hold_s;
    int64_t granted[64];
    double t_granted[64], wait[64];
    size_t n_granted;
    int64_t reneged[64];
    size_t n_reneged;
    enum bx_request_result result[64];
};

static void release_ev(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct world *w = obj;
    (void)arg;
    bx_resource_release(w->res, sim);
}

static void on_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct world *w = obj;
    w->granted[w->n_granted] = arg;
    w->wait[w->n_granted] = wait_s;
    w->t_granted[w->n_granted++] = bx_sim_now(sim);
    if (w->hold_s == 0)
        bx_resource_release(w->res, sim); /* re-entrant release from inside a grant */
    else
        bx_sim_schedule(sim, bx_sim_now(sim) + w->hold_s, 0, release_ev, w, arg);
}

static void on_renege(struct bx_sim *sim, void *obj, int64_t arg, double waited_s)
{
    struct world *w = obj;
    (void)sim;
    (void)waited_s;
    w->reneged[w->n_reneged++] = arg;
}

/* arg encodes the customer id (low 16 bits) and priority + 1000 (bits 16..); patience comes
 * from a table. */
static double patience_of[64];
static void request_ev(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct world *w = obj;
    int64_t id = arg & 0xffff;
    int prio = (int)(arg >> 16) - 1000;
    double pat = patience_of[id] > 0 ? patience_of[id] : BX_INF;
    w->result[id] = bx_resource_request(w->res, sim, prio, pat, on_grant, w, id);
}

static void setup(struct world *w, unsigned servers, enum bx_queue_discipline disc, double hold)
{
    struct bx_error err = {0};
    memset(w, 0, sizeof *w);
    memset(patience_of, 0, sizeof patience_of);
    w->sim = bx_sim_alloc(0, &err);
    struct bx_resource_config rc = bx_resource_config_default();
    rc.name = "booth";
    rc.servers = servers;
    rc.discipline = disc;
    rc.on_renege = on_renege;
    w->res = bx_resource_alloc(&rc, &err);
    w->hold_s = hold;
    cr_assert(w->sim && w->res);
}

static void teardown(struct world *w)
{
    bx_resource_free(w->res);
    bx_sim_free(w->sim);
}

static void at(struct world *w, double t, int64_t id, int prio)
{
    bx_sim_schedule(w->sim, t, 0, request_ev, w, id | ((int64_t)(prio + 1000) << 16));
}

Test(sim_resource, fifo_serves_in_arrival_order_with_exact_waits)
{
    struct world w;
    setup(&w, 1, BX_QUEUE_FIFO, 10.0);
    for (int i = 0; i < 4; ++i)
        at(&w, (double)i, i, 3 - i); /* priorities ignored under FIFO */
    struct bx_error err = {0};
    bx_sim_run(w.sim, 100, &err);
    cr_assert_eq(w.n_granted, 4);
    for (int i = 0; i < 4; ++i) {
        cr_assert_eq(w.granted[i], i);
        cr_assert_float_eq(w.t_granted[i], 10.0 * i, 1e-12);
        cr_assert_float_eq(w.wait[i], 10.0 * i - i, 1e-12);
    }
    struct bx_resource_stats st;
    bx_resource_stats(w.res, 100, &st);
    cr_assert_float_eq(st.utilization, 0.4, 1e-12);
    /* queue: 1 waiting on [1,2), 2 on [2,3), 3 on [3,10), 2 on [10,20), 1 on [20,30) */
    cr_assert_float_eq(st.queue_len_mean, (1 + 2 + 21 + 20 + 10) / 100.0, 1e-12);
    cr_assert_eq(w.result[0], BX_REQ_GRANTED);
    cr_assert_eq(w.result[1], BX_REQ_QUEUED);
    teardown(&w);
}

Test(sim_resource, priority_queue_serves_higher_priority_first_then_fifo)
{
    struct world w;
    setup(&w, 1, BX_QUEUE_PRIORITY, 10.0);
    at(&w, 0.0, 0, 0);
    at(&w, 1.0, 1, 1);
    at(&w, 2.0, 2, 5);
    at(&w, 3.0, 3, 3);
    at(&w, 4.0, 4, 5);
    at(&w, 5.0, 5, -2);
    struct bx_error err = {0};
    bx_sim_run(w.sim, 1000, &err);
    int64_t want[] = {0, 2, 4, 3, 1, 5};
    for (int i = 0; i < 6; ++i)
        cr_assert_eq(w.granted[i], want[i], "position %d got %lld", i, (long long)w.granted[i]);
    teardown(&w);
}

Test(sim_resource, capacity_schedule_opens_and_closes_lanes)
{
    struct world w;
    setup(&w, 0, BX_QUEUE_FIFO, 50.0);
    struct bx_capacity_step steps[] = {{100.0, 2}, {300.0, 1}};
    struct bx_error err = {0};
    cr_assert_eq(bx_resource_schedule_capacity(w.res, w.sim, steps, 2, 0, &err), BX_OK);
    for (int i = 0; i < 3; ++i)
        at(&w, 10.0, i, 0);
    at(&w, 290.0, 3, 0);
    at(&w, 295.0, 4, 0);
    at(&w, 301.0, 5, 0);
    bx_sim_run(w.sim, 1000, &err);
    /* Nobody before t = 100; two at 100, the third at 150; at 300 capacity drops to 1: the two
     * in service (from 290, 295) finish, and customer 5 waits until both have left. */
    cr_assert_float_eq(w.t_granted[0], 100.0, 1e-12);
    cr_assert_float_eq(w.t_granted[1], 100.0, 1e-12);
    cr_assert_float_eq(w.t_granted[2], 150.0, 1e-12);
    cr_assert_float_eq(w.t_granted[3], 290.0, 1e-12);
    cr_assert_float_eq(w.t_granted[4], 295.0, 1e-12);
    cr_assert_float_eq(w.t_granted[5], 345.0, 1e-12);
    cr_assert_eq(bx_resource_capacity(w.res), 1);
    teardown(&w);
}

Test(sim_resource, periodic_schedule_repeats_every_period)
{
    struct world w;
    setup(&w, 0, BX_QUEUE_FIFO, 1.0);
    struct bx_capacity_step steps[] = {{6 * 3600.0, 3}, {22 * 3600.0, 0}};
    struct bx_error err = {0};
    cr_assert_eq(bx_resource_schedule_capacity(w.res, w.sim, steps, 2, 86400, &err), BX_OK);
    unsigned want[][2] = {{5, 0},      {7, 3},       {23, 0},     {24 + 5, 0},
                          {24 + 7, 3}, {48 + 21, 3}, {48 + 23, 0}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i) {
        bx_sim_run(w.sim, want[i][0] * 3600.0, &err);
        cr_assert_eq(bx_resource_capacity(w.res), want[i][1], "hour %u", want[i][0]);
    }
    struct bx_capacity_step bad[] = {{90000.0, 1}};
    cr_assert_eq(bx_resource_schedule_capacity(w.res, w.sim, bad, 1, 86400, &err), BX_EINVAL);
    teardown(&w);
}

Test(sim_resource, arrivals_balk_when_the_queue_is_too_long)
{
    struct world w;
    struct bx_error err = {0};
    setup(&w, 1, BX_QUEUE_FIFO, 100.0);
    bx_resource_free(w.res);
    struct bx_resource_config rc = bx_resource_config_default();
    rc.balk_queue_len = 2;
    w.res = bx_resource_alloc(&rc, &err);
    for (int i = 0; i < 5; ++i)
        at(&w, (double)i, i, 0);
    bx_sim_run(w.sim, 1000, &err);
    cr_assert_eq(w.result[0], BX_REQ_GRANTED);
    cr_assert_eq(w.result[2], BX_REQ_QUEUED);
    cr_assert_eq(w.result[3], BX_REQ_BALKED);
    cr_assert_eq(w.result[4], BX_REQ_BALKED);
    cr_assert_eq(w.n_granted, 3);
    struct bx_resource_stats st;
    bx_resource_stats(w.res, 1000, &st);
    cr_assert_eq(st.balked, 2);
    rc.balk_prob = 0.5;
    cr_assert_null(bx_resource_alloc(&rc, &err), "a fractional probability needs an RNG");
    teardown(&w);
}

Test(sim_resource, impatient_waiters_renege_and_are_never_served)
{
    struct world w;
    setup(&w, 1, BX_QUEUE_FIFO, 10.0);
    at(&w, 0.0, 0, 0);
    patience_of[1] = 5.0;  /* would start at 10: leaves at 6 */
    patience_of[2] = 30.0; /* starts at 10 (after 1 left): its renege is cancelled */
    at(&w, 1.0, 1, 0);
    at(&w, 2.0, 2, 0);
    struct bx_error err = {0};
    bx_sim_run(w.sim, 1000, &err);
    cr_assert_eq(w.n_reneged, 1);
    cr_assert_eq(w.reneged[0], 1);
    cr_assert_eq(w.n_granted, 2);
    cr_assert_eq(w.granted[1], 2);
    cr_assert_float_eq(w.t_granted[1], 10.0, 1e-12);
    cr_assert_eq(bx_sim_pending(w.sim), 0, "the granted waiter's renege event was cancelled");
    struct bx_resource_stats st;
    bx_resource_stats(w.res, 1000, &st);
    cr_assert_eq(st.reneged, 1);
    teardown(&w);
}

Test(sim_resource, zero_service_released_from_the_grant_callback)
{
    struct world w;
    setup(&w, 1, BX_QUEUE_FIFO, 0.0);
    for (int i = 0; i < 10; ++i)
        at(&w, 5.0, i, 0);
    struct bx_error err = {0};
    bx_sim_run(w.sim, 10, &err);
    cr_assert_eq(w.n_granted, 10);
    cr_assert_eq(bx_resource_busy(w.res), 0);
    cr_assert_eq(bx_resource_queue_len(w.res), 0);
    teardown(&w);
}
