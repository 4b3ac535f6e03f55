/* SPDX-License-Identifier: MIT */
/* size_internal.h - what sizing's files share (never installed): running every replication of
 * one level, on threads or over mpirun's ranks (ports.c). */
#ifndef BX_SIZE_INTERNAL_H
#define BX_SIZE_INTERNAL_H

#include "bx/port.h"
#include "bx/size.h"

/* The runs of one level: the scenario as simulated (a shallow copy, changed per level), the
 * options, and per replication its result and matching cache. */
struct bx_size__runs {
    struct bx_ports_config cfg;
    const struct bx_size_opts *o;
    struct bx_ports_result *reps;
    struct bx_ports_cache **cache;
};

/* Run every replication of @p c (o->spread: over the ranks, each receiving all of them; else on
 * o->threads threads); an overloaded replication is a result (reps[i].overloaded), not an
 * error. */
enum bx_status bx_size__run_all(struct bx_size__runs *c, struct bx_error *err);

#endif /* BX_SIZE_INTERNAL_H */
