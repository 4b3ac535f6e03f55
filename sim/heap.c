/* SPDX-License-Identifier: MIT */
/* heap.c - indexed binary min-heap on (time, key), used by the event calendar and the priority
 * queues of resources. Positions are tracked so that cancel and reschedule are O(log n). */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

static inline bool before(const struct bx_heap_entry *a, const struct bx_heap_entry *b)
{
    return a->t < b->t || (a->t == b->t && a->key < b->key);
}

bool bx_heap__reserve(struct bx_heap *h, size_t n_ids)
{
    if (n_ids <= h->id_cap)
        return true;
    size_t cap = h->id_cap ? h->id_cap : 64;
    while (cap < n_ids)
        cap *= 2;
    if (cap > BX_HEAP_NONE)
        return false;
    struct bx_heap_entry *v = realloc(h->v, cap * sizeof *v);
    if (v == NULL)
        return false;
    h->v = v;
    uint32_t *pos = realloc(h->pos, cap * sizeof *pos);
    if (pos == NULL)
        return false;
    for (size_t i = h->id_cap; i < cap; ++i)
        pos[i] = BX_HEAP_NONE;
    h->pos = pos;
    h->id_cap = cap;
    h->cap = cap;
    return true;
}

void bx_heap__fini(struct bx_heap *h)
{
    free(h->v);
    free(h->pos);
    memset(h, 0, sizeof *h);
}

static void sift_up(struct bx_heap *h, size_t i)
{
    struct bx_heap_entry e = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        h->pos[h->v[i].id] = (uint32_t)i;
        i = parent;
    }
    h->v[i] = e;
    h->pos[e.id] = (uint32_t)i;
}

static void sift_down(struct bx_heap *h, size_t i)
{
    struct bx_heap_entry e = h->v[i];
    size_t n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&h->v[c + 1], &h->v[c]))
            ++c;
        if (!before(&h->v[c], &e))
            break;
        h->v[i] = h->v[c];
        h->pos[h->v[i].id] = (uint32_t)i;
        i = c;
    }
    h->v[i] = e;
    h->pos[e.id] = (uint32_t)i;
}

void bx_heap__push(struct bx_heap *h, uint32_t id, double t, uint64_t key)
{
    BX_REQUIRE(id < h->id_cap && h->pos[id] == BX_HEAP_NONE && h->n < h->cap);
    h->v[h->n] = (struct bx_heap_entry){t, key, id};
    sift_up(h, h->n++);
}

uint32_t bx_heap__pop(struct bx_heap *h)
{
    BX_REQUIRE(h->n > 0);
    uint32_t id = h->v[0].id;
    h->pos[id] = BX_HEAP_NONE;
    if (--h->n > 0) {
        h->v[0] = h->v[h->n];
        sift_down(h, 0);
    }
    return id;
}

void bx_heap__remove(struct bx_heap *h, uint32_t id)
{
    BX_REQUIRE(bx_heap__contains(h, id));
    size_t i = h->pos[id];
    h->pos[id] = BX_HEAP_NONE;
    if (i == --h->n)
        return;
    struct bx_heap_entry moved = h->v[h->n];
    h->v[i] = moved;
    h->pos[moved.id] = (uint32_t)i;
    if (i > 0 && before(&moved, &h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

void bx_heap__rekey(struct bx_heap *h, uint32_t id, double t, uint64_t key)
{
    BX_REQUIRE(bx_heap__contains(h, id));
    size_t i = h->pos[id];
    h->v[i].t = t;
    h->v[i].key = key;
    if (i > 0 && before(&h->v[i], &h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}
