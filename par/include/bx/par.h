/* SPDX-License-Identifier: MIT */
/* par.h - distributed runs: the same bxsim binary under `mpirun -np N` spreads independent work
 * (replications, sizing tasks, gallery shards) over the N processes ("ranks") and gathers the
 * results on rank 0, or on every rank.
 *
 * Usage:
 *     bx_par_init(&argc, &argv, &err);      // once, first thing in main()
 *     bx_par_replicate(n, threads, run, ctx, pack, unpack, false, NULL, &err);
 *     if (bx_par_rank() == 0) write outputs;
 *     bx_par_finalize();
 *
 * Item i runs on rank i % N, and its results are packed there (struct bx_buf), sent, and
 * unpacked into the same slot on the gathering ranks, so that they hold exactly what a single
 * process would have computed: every item draws only from its own random streams.
 *
 * Without MPI (a build without it, or a process that mpirun did not start) there is one rank
 * and every call is local; bx_par_replicate is then bx_replicate.
 *
 * Thread safety: MPI is called from the thread that called bx_par_init() only (the work items
 * themselves run on a thread pool, which never calls MPI).
 */
#ifndef BX_PAR_H
#define BX_PAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Whether this build can run distributed (it was built with MPI). */
bool bx_par_built(void);

/** Start MPI when the process was started by an MPI launcher (mpirun, mpiexec, srun with PMI);
 *  otherwise nothing: one rank. */
enum bx_status bx_par_init(int *argc, char ***argv, struct bx_error *err);
void bx_par_finalize(void);
/** This process's rank (0..size-1) and the number of ranks (1 without MPI). */
int bx_par_rank(void);
int bx_par_size(void);

/** Collective: whether @p ok holds on every rank (a rank that failed to read its input tells
 *  the others, so that none waits for it). */
bool bx_par_all_ok(bool ok);

/**
 * Collective: every rank gets the outcome of the first rank (lowest number) whose @p st is not
 * BX_OK, with its error in @p err; BX_OK when none failed.
 */
enum bx_status bx_par_agree(enum bx_status st, struct bx_error *err);

/** Pack item @p item's results (called on the rank that ran it). */
typedef void bx_par_pack_fn(void *ctx, uint32_t item, struct bx_buf *b);
/** Unpack item @p item's results into its slot (called on the gathering ranks for the items
 *  other ranks ran). */
typedef enum bx_status bx_par_unpack_fn(void *ctx, uint32_t item, struct bx_reader *r,
                                        struct bx_error *err);

/**
 * Collective: run items 0..n-1, item i on rank i % size, on @p n_threads threads per rank (as
 * bx_replicate), then move every item's results to rank 0 (@p to_all false) or to every rank
 * (true). Every rank returns the same status: that of the lowest-numbered failing item, with
 * its error. @p progress (may be NULL) counts this rank's own items.
 */
enum bx_status bx_par_replicate(uint32_t n, unsigned n_threads, bx_rep_fn *fn, void *ctx,
                                bx_par_pack_fn *pack, bx_par_unpack_fn *unpack, bool to_all,
                                void (*progress)(void *ctx, uint32_t done, uint32_t total),
                                struct bx_error *err);

/**
 * Collective: rank 0 receives every rank's @p mine (its own included) into @p all[0..size-1]
 * (bx_buf_fini each); other ranks pass @p all = NULL. Buffers of any size (sent in pieces).
 */
enum bx_status bx_par_gather(const struct bx_buf *mine, struct bx_buf *all, struct bx_error *err);

/* ================================================================ sharded 1:N search */

struct bx_store;
struct bx_search_opts;
struct bx_hit;

/** This rank's shard of the gallery file @p path (the whole gallery with one rank); *row0
 *  receives the shard's first row in the whole gallery. */
struct bx_store *bx_par_load_gallery(const char *path, size_t *row0, struct bx_error *err);

/**
 * Collective: 1:N search of @p n_q probes (every rank holds all of them) against the gallery
 * whose shard @p g (first row @p row0) this rank holds. Rank 0 receives the hits one process
 * searching the whole gallery returns: hits[n_q * o->k], nh[n_q], and *total = the gallery's live
 * rows over all shards. With one rank this is bx_match_one_to_n.
 */
enum bx_status bx_par_search(const struct bx_store *g, size_t row0, const float *probes, size_t n_q,
                             const struct bx_search_opts *o, struct bx_hit *hits, size_t *nh,
                             size_t *total, struct bx_error *err);

/** Collective: rank 0's @p b replaces @p b on every other rank. */
enum bx_status bx_par_bcast(struct bx_buf *b, struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_PAR_H */
