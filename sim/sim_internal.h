/* SPDX-License-Identifier: MIT */
/* sim_internal.h - shared by sim/'s files, never installed: the indexed binary heap. */
#ifndef BX_SIM_INTERNAL_H
#define BX_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BX_HEAP_NONE UINT32_MAX

/* Ordered by (t, key) ascending; `id` indexes the owner's record array. */
struct bx_heap_entry {
    double t;
    uint64_t key;
    uint32_t id;
};

/* A binary min-heap whose entries can be removed or re-keyed through their id. pos[id] is the
 * entry's position or BX_HEAP_NONE; the owner sizes pos with bx_heap__reserve. */
struct bx_heap {
    struct bx_heap_entry *v;
    uint32_t *pos;
    size_t n, cap, id_cap;
};

bool bx_heap__reserve(struct bx_heap *h, size_t n_ids);
void bx_heap__fini(struct bx_heap *h);
void bx_heap__push(struct bx_heap *h, uint32_t id, double t, uint64_t key);
uint32_t bx_heap__pop(struct bx_heap *h);
void bx_heap__remove(struct bx_heap *h, uint32_t id);
void bx_heap__rekey(struct bx_heap *h, uint32_t id, double t, uint64_t key);

static inline bool bx_heap__contains(const struct bx_heap *h, uint32_t id)
{
    return id < h->id_cap && h->pos[id] != BX_HEAP_NONE;
}

#endif /* BX_SIM_INTERNAL_H */
