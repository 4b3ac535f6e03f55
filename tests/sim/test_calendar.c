/* SPDX-License-Identifier: MIT */
/* test_calendar.c - event order, cancel, reschedule, pooling. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "bx/sim.h"

struct log {
    int64_t order[4096];
    double when[4096];
    size_t n;
};

static void record(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct log *l = obj;
    l->when[l->n] = bx_sim_now(sim);
    l->order[l->n++] = arg;
}

Test(sim_calendar, events_run_by_time_then_priority_then_insertion)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct log l = {0};
    bx_sim_schedule(sim, 5.0, 0, record, &l, 1);
    bx_sim_schedule(sim, 2.5, 0, record, &l, 2);
    bx_sim_schedule(sim, 5.0, 0, record, &l, 3);
    bx_sim_schedule(sim, 5.0, 7, record, &l, 4);  /* higher priority first */
    bx_sim_schedule(sim, 5.0, -3, record, &l, 5); /* lower priority last */
    bx_sim_schedule(sim, 5.0, 7, record, &l, 6);
    cr_assert_eq(bx_sim_run(sim, 100, &err), BX_OK);
    int64_t want[] = {2, 4, 6, 1, 3, 5};
    cr_assert_eq(l.n, 6);
    for (size_t i = 0; i < 6; ++i)
        cr_assert_eq(l.order[i], want[i], "position %zu: got %lld", i, (long long)l.order[i]);
    cr_assert_eq(bx_sim_now(sim), 100.0, "clock advances to the end time");
    cr_assert_eq(bx_sim_events(sim), 6);
    bx_sim_free(sim);
}

Test(sim_calendar, cancel_and_stale_handles)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct log l = {0};
    bx_event_id a = bx_sim_schedule(sim, 1.0, 0, record, &l, 1);
    bx_event_id b = bx_sim_schedule(sim, 2.0, 0, record, &l, 2);
    cr_assert_neq(a, 0);
    cr_assert(bx_sim_cancel(sim, b));
    cr_assert_not(bx_sim_cancel(sim, b), "cancelling twice fails");
    cr_assert_eq(bx_sim_pending(sim), 1);
    /* b's slot is reused by c: b's handle must not reach c. */
    bx_event_id c = bx_sim_schedule(sim, 3.0, 0, record, &l, 3);
    cr_assert_not(bx_sim_cancel(sim, b));
    cr_assert_not(bx_sim_reschedule(sim, b, 9.0));
    bx_sim_run(sim, 10, &err);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.order[0], 1);
    cr_assert_eq(l.order[1], 3);
    cr_assert_not(bx_sim_cancel(sim, a), "an event that ran cannot be cancelled");
    cr_assert_not(bx_sim_cancel(sim, c));
    cr_assert_not(bx_sim_cancel(sim, 0));
    cr_assert_not(bx_sim_cancel(sim, ((uint64_t)1 << 32) | 999999));
    bx_sim_free(sim);
}

Test(sim_calendar, reschedule_moves_and_orders_as_if_inserted_now)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct log l = {0};
    bx_event_id a = bx_sim_schedule(sim, 1.0, 0, record, &l, 1);
    bx_sim_schedule(sim, 4.0, 0, record, &l, 2);
    bx_event_id c = bx_sim_schedule(sim, 9.0, 0, record, &l, 3);
    cr_assert(bx_sim_reschedule(sim, a, 4.0)); /* ties with 2, now inserted after it */
    cr_assert(bx_sim_reschedule(sim, c, 0.5));
    double t;
    cr_assert(bx_sim_pending_time(sim, c, &t));
    cr_assert_eq(t, 0.5);
    bx_sim_run(sim, 10, &err);
    int64_t want[] = {3, 2, 1};
    for (size_t i = 0; i < 3; ++i)
        cr_assert_eq(l.order[i], want[i]);
    cr_assert_eq(l.when[2], 4.0);
    bx_sim_free(sim);
}

Test(sim_calendar, run_stops_at_end_time_and_resumes)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct log l = {0};
    bx_sim_schedule(sim, 1.0, 0, record, &l, 1);
    bx_sim_schedule(sim, 10.0, 0, record, &l, 2);
    bx_sim_schedule(sim, 10.0 + 1e-9, 0, record, &l, 3);
    bx_sim_run(sim, 10.0, &err);
    cr_assert_eq(l.n, 2, "events at exactly the end time run");
    cr_assert_eq(bx_sim_pending(sim), 1);
    bx_sim_run(sim, BX_INF, &err);
    cr_assert_eq(l.n, 3);
    bx_sim_free(sim);
}

struct random_ops {
    gsl_rng *r;
    struct log *l;
};

/* Reference: schedule 2000 random events (ties frequent), cancel a random third, reschedule
 * another third; the run order must equal sorting the survivors by (time, -priority, seq). */
struct ref {
    double t;
    int prio;
    uint64_t seq;
    int64_t id;
    bool alive;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

Test(sim_calendar, random_operations_match_a_sorted_reference)
{
    enum { N = 2000 };
    struct bx_error err = {0};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 4242);
    for (int round = 0; round < 5; ++round) {
        struct bx_sim *sim = bx_sim_alloc(0, &err);
        static struct log l;
        static struct ref ref[N];
        static bx_event_id ids[N];
        l.n = 0;
        uint64_t seq = 0;
        for (int i = 0; i < N; ++i) {
            double t = (double)gsl_rng_uniform_int(r, 50); /* many ties */
            int prio = (int)gsl_rng_uniform_int(r, 3) - 1;
            ids[i] = bx_sim_schedule(sim, t, prio, record, &l, i);
            ref[i] = (struct ref){t, prio, seq++, i, true};
        }
        for (int i = 0; i < N; ++i) {
            unsigned op = (unsigned)gsl_rng_uniform_int(r, 3);
            if (op == 0) {
                cr_assert(bx_sim_cancel(sim, ids[i]));
                ref[i].alive = false;
            } else if (op == 1) {
                double t = (double)gsl_rng_uniform_int(r, 50);
                cr_assert(bx_sim_reschedule(sim, ids[i], t));
                ref[i].t = t;
                ref[i].seq = seq++;
            }
        }
        bx_sim_run(sim, BX_INF, &err);
        size_t n_alive = 0;
        for (int i = 0; i < N; ++i)
            if (ref[i].alive)
                ref[n_alive++] = ref[i];
        qsort(ref, n_alive, sizeof ref[0], cmp_ref);
        cr_assert_eq(l.n, n_alive);
        for (size_t i = 0; i < n_alive; ++i)
            cr_assert_eq(l.order[i], ref[i].id, "round %d position %zu", round, i);
        bx_sim_free(sim);
    }
    gsl_rng_free(r);
}

struct hold {
    gsl_rng *r;
    long left;
};

static void hold_event(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct hold *h = obj;
    (void)arg;
    if (h->left-- > 0)
        bx_sim_schedule(sim, bx_sim_now(sim) + gsl_rng_uniform(h->r), 0, hold_event, h, 0);
}

Test(sim_calendar, steady_state_does_not_grow_the_pool)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct hold h = {gsl_rng_alloc(gsl_rng_mt19937), 1000};
    for (int i = 0; i < 500; ++i)
        bx_sim_schedule(sim, gsl_rng_uniform(h.r), 0, hold_event, &h, 0);
    bx_sim_run(sim, 1.0, &err);
    size_t cap = bx_sim_pool_capacity(sim);
    h.left = 200000;
    bx_sim_run(sim, BX_INF, &err);
    cr_assert_gt(bx_sim_events(sim), 200000);
    cr_assert_eq(bx_sim_pool_capacity(sim), cap, "pool grew from %zu to %zu", cap,
                 bx_sim_pool_capacity(sim));
    gsl_rng_free(h.r);
    bx_sim_free(sim);
}

static void stopper(struct bx_sim *sim, void *obj, int64_t arg)
{
    (void)obj;
    (void)arg;
    bx_sim_stop(sim);
}

Test(sim_calendar, stop_returns_after_the_current_event)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct log l = {0};
    bx_sim_schedule(sim, 1.0, 0, stopper, NULL, 0);
    bx_sim_schedule(sim, 2.0, 0, record, &l, 1);
    bx_sim_run(sim, 10, &err);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(bx_sim_now(sim), 1.0);
    bx_sim_free(sim);
}

Test(sim_calendar, scheduling_in_the_past_is_a_contract_violation, .signal = SIGABRT)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    struct log l = {0};
    bx_sim_schedule(sim, 5.0, 0, record, &l, 1);
    bx_sim_run(sim, 6.0, &err);
    bx_sim_schedule(sim, 1.0, 0, record, &l, 2);
}

Test(sim_calendar, nan_time_is_a_contract_violation, .signal = SIGABRT)
{
    struct bx_error err = {0};
    struct bx_sim *sim = bx_sim_alloc(0, &err);
    bx_sim_schedule(sim, BX_NAN, 0, stopper, NULL, 0);
}
