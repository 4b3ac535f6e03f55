/* SPDX-License-Identifier: MIT */
/* resource.c - c identical servers with a FIFO or priority queue, scheduled capacity, balking and
 * reneging.
 *
 * Waiters live in a pool and are ordered in an indexed heap keyed by (priority, arrival
 * sequence); under FIFO the priority part is constant. The heap allows a reneging waiter to leave
 * from the middle of the queue in O(log n). Grants run the caller's callback synchronously, from
 * bx_resource_request() when a server is free and from bx_resource_release() otherwise; a
 * dispatch guard makes callbacks that release or request on the same resource safe.
 */
#include "sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/sim.h"

struct waiter {
    bx_grant_fn *fn;
    void *obj;
    int64_t arg;
    double t_enq;
    bx_event_id renege_ev;
    uint32_t next_free;
};

struct bx_resource {
    char name[BX_NAME_MAX];
    struct bx_resource_config cfg;
    unsigned capacity, busy;
    uint64_t seq;
    struct waiter *w;
    size_t w_cap;
    uint32_t free_head;
    struct bx_heap queue;
    bool dispatching;
    /* statistics since the last reset */
    uint64_t requests, granted, balked, reneged;
    struct bx_timeavg q_len, busy_avg, cap_avg;
    /* capacity schedule */
    struct bx_capacity_step *steps;
    size_t n_steps;
    double period_s;
};

struct bx_resource_config bx_resource_config_default(void)
{
    return (struct bx_resource_config){.name = "resource",
                                       .servers = 1,
                                       .discipline = BX_QUEUE_FIFO,
                                       .balk_queue_len = SIZE_MAX,
                                       .balk_prob = 1.0};
}

static bool grow_waiters(struct bx_resource *res)
{
    size_t cap = res->w_cap ? 2 * res->w_cap : 64;
    if (cap >= BX_HEAP_NONE || !bx_heap__reserve(&res->queue, cap))
        return false;
    struct waiter *w = realloc(res->w, cap * sizeof *w);
    if (w == NULL)
        return false;
    for (size_t i = cap; i-- > res->w_cap;) {
        w[i].next_free = res->free_head;
        res->free_head = (uint32_t)i;
    }
    res->w = w;
    res->w_cap = cap;
    return true;
}

struct bx_resource *bx_resource_alloc(const struct bx_resource_config *cfg, struct bx_error *err)
{
    if (cfg->balk_prob < 0 || cfg->balk_prob > 1 ||
        (cfg->balk_prob > 0 && cfg->balk_prob < 1 && cfg->balk_rng == NULL)) {
        BX_FAIL(err, BX_EINVAL,
                "resource '%s': balk probability must lie in [0, 1] (with an "
                "RNG when fractional)",
                cfg->name ? cfg->name : "?");
        return NULL;
    }
    struct bx_resource *res = calloc(1, sizeof *res);
    if (res == NULL)
        goto fail;
    res->cfg = *cfg;
    snprintf(res->name, sizeof res->name, "%s", cfg->name ? cfg->name : "resource");
    res->cfg.name = res->name;
    res->capacity = cfg->servers;
    res->free_head = BX_HEAP_NONE;
    if (!grow_waiters(res))
        goto fail_free_res;
    bx_resource_reset_stats(res, 0.0);
    return res;

fail_free_res:
    bx_resource_free(res);
fail:
    BX_FAIL(err, BX_ENOMEM, "cannot allocate resource '%s'", cfg->name ? cfg->name : "?");
    return NULL;
}

void bx_resource_free(struct bx_resource *res)
{
    if (res == NULL)
        return;
    bx_heap__fini(&res->queue);
    free(res->w);
    free(res->steps);
    free(res);
}

static void note_queue(struct bx_resource *res, double now)
{
    bx_timeavg_set(&res->q_len, now, (double)res->queue.n);
}

static void grant_one(struct bx_resource *res, struct bx_sim *sim, uint32_t slot)
{
    double now = bx_sim_now(sim);
    struct waiter w = res->w[slot];
    res->w[slot].next_free = res->free_head;
    res->free_head = slot;
    if (w.renege_ev)
        bx_sim_cancel(sim, w.renege_ev);
    res->busy++;
    res->granted++;
    bx_timeavg_set(&res->busy_avg, now, res->busy);
    w.fn(sim, w.obj, w.arg, now - w.t_enq);
}

/* Grant waiters while servers are free. Re-entrant calls (from a grant callback) return at once;
 * the outer loop sees their effect. */
static void dispatch(struct bx_resource *res, struct bx_sim *sim)
{
    if (res->dispatching)
        return;
    res->dispatching = true;
    while (res->busy < res->capacity && res->queue.n > 0) {
        uint32_t slot = bx_heap__pop(&res->queue);
        note_queue(res, bx_sim_now(sim));
        grant_one(res, sim, slot);
    }
    res->dispatching = false;
}

static void renege_fire(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct bx_resource *res = obj;
    uint32_t slot = (uint32_t)arg;
    double now = bx_sim_now(sim);
    struct waiter w = res->w[slot];
    bx_heap__remove(&res->queue, slot);
    note_queue(res, now);
    res->w[slot].next_free = res->free_head;
    res->free_head = slot;
    res->reneged++;
    if (res->cfg.on_renege)
        res->cfg.on_renege(sim, w.obj, w.arg, now - w.t_enq);
}

enum bx_request_result bx_resource_request(struct bx_resource *res, struct bx_sim *sim,
                                           int priority, double patience_s, bx_grant_fn *fn,
                                           void *obj, int64_t arg)
{
    BX_REQUIRE(fn != NULL && !isnan(patience_s) && patience_s >= 0);
    BX_REQUIRE(priority >= BX_PRIO_MIN && priority <= BX_PRIO_MAX);
    double now = bx_sim_now(sim);
    res->requests++;
    if (res->free_head == BX_HEAP_NONE && !grow_waiters(res))
        BX_REQUIRE(!"resource waiter pool exhausted (out of memory)");
    uint32_t slot = res->free_head;
    res->free_head = res->w[slot].next_free;
    res->w[slot] = (struct waiter){fn, obj, arg, now, 0, 0};

    if (res->busy < res->capacity && res->queue.n == 0 && !res->dispatching) {
        grant_one(res, sim, slot);
        return BX_REQ_GRANTED;
    }
    if (res->queue.n >= res->cfg.balk_queue_len &&
        (res->cfg.balk_prob >= 1 ||
         (res->cfg.balk_prob > 0 && gsl_rng_uniform(res->cfg.balk_rng) < res->cfg.balk_prob))) {
        res->w[slot].next_free = res->free_head;
        res->free_head = slot;
        res->balked++;
        return BX_REQ_BALKED;
    }
    uint64_t prio =
        res->cfg.discipline == BX_QUEUE_PRIORITY ? (uint64_t)(BX_PRIO_MAX - priority) : 0;
    bx_heap__push(&res->queue, slot, 0.0, (prio << 48) | res->seq++);
    note_queue(res, now);
    if (isfinite(patience_s))
        res->w[slot].renege_ev = bx_sim_schedule(sim, now + patience_s, 0, renege_fire, res, slot);
    dispatch(res, sim); /* only grants when re-entered from a dispatch with spare servers */
    return bx_heap__contains(&res->queue, slot) ? BX_REQ_QUEUED : BX_REQ_GRANTED;
}

void bx_resource_release(struct bx_resource *res, struct bx_sim *sim)
{
    BX_REQUIRE(res->busy > 0);
    res->busy--;
    bx_timeavg_set(&res->busy_avg, bx_sim_now(sim), res->busy);
    dispatch(res, sim);
}

void bx_resource_set_capacity(struct bx_resource *res, struct bx_sim *sim, unsigned servers)
{
    res->capacity = servers;
    bx_timeavg_set(&res->cap_avg, bx_sim_now(sim), servers);
    dispatch(res, sim);
}

static void capacity_fire(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct bx_resource *res = obj;
    size_t i = (size_t)arg;
    bx_resource_set_capacity(res, sim, res->steps[i].servers);
    if (res->period_s > 0)
        bx_sim_schedule(sim, bx_sim_now(sim) + res->period_s, BX_PRIO_MAX, capacity_fire, res, arg);
}

enum bx_status bx_resource_schedule_capacity(struct bx_resource *res, struct bx_sim *sim,
                                             const struct bx_capacity_step *steps, size_t n,
                                             double period_s, struct bx_error *err)
{
    if (!(period_s >= 0 && isfinite(period_s)))
        return BX_FAIL(err, BX_EINVAL, "resource '%s': schedule period must be >= 0", res->name);
    for (size_t i = 0; i < n; ++i) {
        if (!isfinite(steps[i].t_s) || steps[i].t_s < 0 || (i && steps[i].t_s < steps[i - 1].t_s))
            return BX_FAIL(err, BX_EINVAL,
                           "resource '%s': schedule step %zu time must be >= 0 and not before "
                           "the previous step",
                           res->name, i + 1);
        if (period_s > 0 && steps[i].t_s >= period_s)
            return BX_FAIL(err, BX_EINVAL,
                           "resource '%s': schedule step %zu at %g s lies outside the %g s period",
                           res->name, i + 1, steps[i].t_s, period_s);
    }
    free(res->steps);
    res->steps = NULL;
    res->n_steps = 0;
    if (n == 0)
        return BX_OK;
    res->steps = malloc(n * sizeof *steps);
    if (res->steps == NULL)
        return BX_FAIL(err, BX_ENOMEM, "resource '%s': cannot copy schedule", res->name);
    memcpy(res->steps, steps, n * sizeof *steps);
    res->n_steps = n;
    res->period_s = period_s;
    double now = bx_sim_now(sim);
    for (size_t i = 0; i < n; ++i) {
        double t = steps[i].t_s;
        while (period_s > 0 && t < now)
            t += period_s;
        if (t < now)
            continue; /* a one-off step in the past: superseded by the current capacity */
        if (bx_sim_schedule(sim, t, BX_PRIO_MAX, capacity_fire, res, (int64_t)i) == 0)
            return BX_FAIL(err, BX_ENOMEM, "resource '%s': cannot schedule capacity", res->name);
    }
    return BX_OK;
}

void bx_resource_stats(const struct bx_resource *res, double now_s, struct bx_resource_stats *out)
{
    double cap_area = bx_timeavg_area(&res->cap_avg, now_s);
    *out = (struct bx_resource_stats){
        .requests = res->requests,
        .granted = res->granted,
        .balked = res->balked,
        .reneged = res->reneged,
        .queue_len_mean = bx_timeavg_mean(&res->q_len, now_s),
        .busy_mean = bx_timeavg_mean(&res->busy_avg, now_s),
        .capacity_mean = bx_timeavg_mean(&res->cap_avg, now_s),
        .utilization = cap_area > 0 ? bx_timeavg_area(&res->busy_avg, now_s) / cap_area : BX_NAN,
    };
}

void bx_resource_reset_stats(struct bx_resource *res, double now_s)
{
    res->requests = res->granted = res->balked = res->reneged = 0;
    bx_timeavg_init(&res->q_len, now_s, (double)res->queue.n);
    bx_timeavg_init(&res->busy_avg, now_s, res->busy);
    bx_timeavg_init(&res->cap_avg, now_s, res->capacity);
}

size_t bx_resource_queue_len(const struct bx_resource *res)
{
    return res->queue.n;
}

unsigned bx_resource_busy(const struct bx_resource *res)
{
    return res->busy;
}

unsigned bx_resource_capacity(const struct bx_resource *res)
{
    return res->capacity;
}
