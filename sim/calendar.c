/* SPDX-License-Identifier: MIT */
/* calendar.c - the event calendar: a pool of event records and an indexed binary heap ordered by
 * (time, priority, insertion sequence).
 *
 * Ordering key: the heap compares the time first, then a 64-bit key whose top 16 bits are the
 * inverted priority (higher priority sorts first) and whose low 48 bits are the insertion
 * sequence number, so ties never depend on addresses (cimba's event_compare does the same).
 * Records are recycled through a free list; the pool only grows when more events are pending at
 * once than ever before, so a model in steady state does not allocate.
 */
#include "sim_internal.h"

#include <math.h>
#include <stdlib.h>

#include "bx/sim.h"

#define SEQ_BITS 48
#define SEQ_MAX ((UINT64_C(1) << SEQ_BITS) - 1)

struct event {
    bx_event_fn *fn;
    void *obj;
    int64_t arg;
    uint32_t gen;       /* bumped whenever the record is released: stale handles fail */
    uint32_t next_free; /* free-list link, valid while the record is free */
};

struct bx_sim {
    double now;
    uint64_t seq;
    uint64_t n_events;
    struct event *ev;
    size_t cap;
    uint32_t free_head; /* BX_HEAP_NONE when empty */
    struct bx_heap heap;
    bool stop;
    enum bx_status status; /* sticky failure (pool growth) */
};

static bool grow(struct bx_sim *sim, size_t want)
{
    size_t cap = sim->cap ? sim->cap : 64;
    while (cap < want)
        cap *= 2;
    if (cap >= BX_HEAP_NONE)
        return false;
    if (!bx_heap__reserve(&sim->heap, cap))
        return false;
    struct event *ev = realloc(sim->ev, cap * sizeof *ev);
    if (ev == NULL)
        return false;
    /* Link the new records in index order so that slot reuse is deterministic. */
    for (size_t i = cap; i-- > sim->cap;) {
        ev[i].gen = 1;
        ev[i].next_free = sim->free_head;
        sim->free_head = (uint32_t)i;
    }
    sim->ev = ev;
    sim->cap = cap;
    return true;
}

struct bx_sim *bx_sim_alloc(size_t capacity_hint, struct bx_error *err)
{
    struct bx_sim *sim = calloc(1, sizeof *sim);
    if (sim == NULL)
        goto fail;
    sim->free_head = BX_HEAP_NONE;
    if (!grow(sim, capacity_hint ? capacity_hint : 64))
        goto fail_free_sim;
    return sim;

fail_free_sim:
    bx_sim_free(sim);
fail:
    BX_FAIL(err, BX_ENOMEM, "cannot allocate the event calendar");
    return NULL;
}

void bx_sim_free(struct bx_sim *sim)
{
    if (sim == NULL)
        return;
    bx_heap__fini(&sim->heap);
    free(sim->ev);
    free(sim);
}

double bx_sim_now(const struct bx_sim *sim)
{
    return sim->now;
}

static inline uint64_t make_key(struct bx_sim *sim, int priority)
{
    BX_REQUIRE(priority >= BX_PRIO_MIN && priority <= BX_PRIO_MAX);
    BX_REQUIRE(sim->seq < SEQ_MAX);
    return ((uint64_t)(BX_PRIO_MAX - priority) << SEQ_BITS) | sim->seq++;
}

static inline bx_event_id make_id(uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)slot + 1);
}

/* The slot of a pending event, or BX_HEAP_NONE. */
static uint32_t lookup(const struct bx_sim *sim, bx_event_id id)
{
    uint64_t s = (id & 0xffffffffu);
    if (s == 0 || s > sim->cap)
        return BX_HEAP_NONE;
    uint32_t slot = (uint32_t)(s - 1);
    if (sim->ev[slot].gen != (uint32_t)(id >> 32) || !bx_heap__contains(&sim->heap, slot))
        return BX_HEAP_NONE;
    return slot;
}

static void release_slot(struct bx_sim *sim, uint32_t slot)
{
    sim->ev[slot].gen++;
    if (sim->ev[slot].gen == 0)
        sim->ev[slot].gen = 1;
    sim->ev[slot].next_free = sim->free_head;
    sim->free_head = slot;
}

bx_event_id bx_sim_schedule(struct bx_sim *sim, double t_s, int priority, bx_event_fn *fn,
                            void *obj, int64_t arg)
{
    BX_REQUIRE(fn != NULL && !isnan(t_s) && t_s >= sim->now);
    if (sim->free_head == BX_HEAP_NONE && !grow(sim, sim->cap + 1)) {
        sim->status = BX_ENOMEM;
        sim->stop = true;
        return 0;
    }
    uint32_t slot = sim->free_head;
    struct event *e = &sim->ev[slot];
    sim->free_head = e->next_free;
    e->fn = fn;
    e->obj = obj;
    e->arg = arg;
    bx_heap__push(&sim->heap, slot, t_s, make_key(sim, priority));
    return make_id(slot, e->gen);
}

bool bx_sim_cancel(struct bx_sim *sim, bx_event_id id)
{
    uint32_t slot = lookup(sim, id);
    if (slot == BX_HEAP_NONE)
        return false;
    bx_heap__remove(&sim->heap, slot);
    release_slot(sim, slot);
    return true;
}

bool bx_sim_reschedule(struct bx_sim *sim, bx_event_id id, double t_s)
{
    BX_REQUIRE(!isnan(t_s) && t_s >= sim->now);
    uint32_t slot = lookup(sim, id);
    if (slot == BX_HEAP_NONE)
        return false;
    /* Keep the priority bits, take a fresh sequence number: "as if inserted now". */
    BX_REQUIRE(sim->seq < SEQ_MAX);
    uint64_t old = sim->heap.v[sim->heap.pos[slot]].key;
    bx_heap__rekey(&sim->heap, slot, t_s, (old & ~SEQ_MAX) | sim->seq++);
    return true;
}

bool bx_sim_pending_time(const struct bx_sim *sim, bx_event_id id, double *t_s)
{
    uint32_t slot = lookup(sim, id);
    if (slot == BX_HEAP_NONE)
        return false;
    if (t_s)
        *t_s = sim->heap.v[sim->heap.pos[slot]].t;
    return true;
}

enum bx_status bx_sim_run(struct bx_sim *sim, double t_end_s, struct bx_error *err)
{
    BX_REQUIRE(!isnan(t_end_s));
    sim->stop = false;
    while (sim->heap.n > 0 && !sim->stop) {
        if (sim->heap.v[0].t > t_end_s)
            break;
        sim->now = sim->heap.v[0].t;
        uint32_t slot = bx_heap__pop(&sim->heap);
        struct event e = sim->ev[slot];
        release_slot(sim, slot); /* before the callback, which may schedule into this slot */
        sim->n_events++;
        e.fn(sim, e.obj, e.arg);
    }
    if (sim->status != BX_OK)
        return BX_FAIL(err, sim->status, "event calendar could not grow beyond %zu events",
                       sim->cap);
    if (!sim->stop && isfinite(t_end_s) && t_end_s > sim->now)
        sim->now = t_end_s;
    return BX_OK;
}

void bx_sim_stop(struct bx_sim *sim)
{
    sim->stop = true;
}

uint64_t bx_sim_events(const struct bx_sim *sim)
{
    return sim->n_events;
}

size_t bx_sim_pending(const struct bx_sim *sim)
{
    return sim->heap.n;
}

size_t bx_sim_pool_capacity(const struct bx_sim *sim)
{
    return sim->cap;
}
