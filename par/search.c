/* SPDX-License-Identifier: MIT */
/* search.c - 1:N search over a gallery sharded across the ranks (bx_par_search): each rank
 * searches its own rows for every probe (bx_match_shard), rank 0 gathers every rank's candidates
 * and merges them (bx_match_merge) into what one process searching the whole gallery returns. */
#include <stdlib.h>

#include "bx/matcher.h"
#include "bx/par.h"

struct bx_store *bx_par_load_gallery(const char *path, size_t *row0, struct bx_error *err)
{
    *row0 = 0;
    if (bx_par_size() > 1)
        return bx_store_load_h5_shard(path, (size_t)bx_par_rank(), (size_t)bx_par_size(), row0,
                                      err);
    return bx_store_load_h5(path, err);
}

static enum bx_status sharded_search(const struct bx_store *g, size_t row0, const float *probes,
                                     size_t n_q, const struct bx_search_opts *o,
                                     struct bx_hit *hits, size_t *nh, size_t *total,
                                     struct bx_error *err)
{
    size_t cap = bx_match_shard_cap(o), ranks = (size_t)bx_par_size();
    struct bx_shard_hit *cand = malloc((n_q ? n_q : 1) * cap * sizeof *cand);
    size_t *nc = malloc((n_q ? n_q : 1) * sizeof *nc);
    struct bx_buf mine = {0}, *all = bx_par_rank() == 0 ? calloc(ranks, sizeof *all) : NULL;
    struct bx_shard_hit *merged = malloc(ranks * cap * sizeof *merged);
    enum bx_status st = BX_OK;
    if (!cand || !nc || !merged || (bx_par_rank() == 0 && !all))
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    else
        st = bx_match_shard(g, row0, probes, n_q, o, cand, nc, err);
    if (st == BX_OK) {
        bx_buf_put_u64(&mine, bx_store_live(g));
        for (size_t q = 0; q < n_q; ++q) {
            bx_buf_put_u64(&mine, nc[q]);
            bx_buf_put(&mine, cand + q * cap, nc[q] * sizeof *cand);
        }
    }
    if ((st = bx_par_agree(st, err)) != BX_OK || (st = bx_par_gather(&mine, all, err)) != BX_OK)
        goto done;
    if (bx_par_rank() == 0) {
        struct bx_reader *rd = calloc(ranks, sizeof *rd);
        if (rd == NULL) {
            st = BX_FAIL(err, BX_ENOMEM, "out of memory");
            goto done;
        }
        *total = 0;
        for (size_t r = 0; r < ranks; ++r) {
            rd[r] = (struct bx_reader){.p = all[r].data, .len = all[r].len};
            *total += (size_t)bx_reader_u64(&rd[r]);
        }
        for (size_t q = 0; q < n_q && st == BX_OK; ++q) {
            size_t n = 0;
            for (size_t r = 0; r < ranks; ++r) {
                uint64_t c = bx_reader_u64(&rd[r]);
                if (c > cap || rd[r].failed) {
                    st = BX_FAIL(err, BX_EFORMAT, "malformed candidates from rank %zu", r);
                    break;
                }
                bx_reader_get(&rd[r], merged + n, (size_t)c * sizeof *merged);
                n += (size_t)c;
            }
            nh[q] = bx_match_merge(o, merged, n, hits + q * o->k);
        }
        free(rd);
    }
done:
    for (size_t r = 0; all && r < ranks; ++r)
        bx_buf_fini(&all[r]);
    free(all);
    bx_buf_fini(&mine);
    free(merged);
    free(nc);
    free(cand);
    return st;
}

enum bx_status bx_par_search(const struct bx_store *g, size_t row0, const float *probes, size_t n_q,
                             const struct bx_search_opts *o, struct bx_hit *hits, size_t *nh,
                             size_t *total, struct bx_error *err)
{
    if (bx_par_size() > 1)
        return sharded_search(g, row0, probes, n_q, o, hits, nh, total, err);
    *total = bx_store_live(g);
    return bx_match_one_to_n(g, probes, n_q, o, hits, nh, err);
}
