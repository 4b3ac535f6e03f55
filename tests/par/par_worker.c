/* SPDX-License-Identifier: MIT */
/* par_worker.c - run under mpirun by test_par.c: exercises bx/par.h across real ranks and
 * prints one line per check ("ok ..." or "FAIL ..."); exit 0 when every check on this rank
 * passed. Not a Criterion program: Criterion forks its tests, MPI processes must not fork. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/par.h"

static int failures;

static void check(bool ok, const char *what)
{
    printf("rank %d: %s %s\n", bx_par_rank(), ok ? "ok" : "FAIL", what);
    failures += !ok;
}

/* Item i's result: i * 1000 + 1 bytes, each a function of (i, position). */
struct items {
    unsigned char **data;
    size_t *len;
    uint32_t fail_item; /* this item fails (UINT32_MAX: none) */
    unsigned *ran;      /* how often each item ran on this rank */
};

static unsigned char byte_of(uint32_t i, size_t k)
{
    return (unsigned char)(bx_hash64(((uint64_t)i << 32) | k) & 0xff);
}

static enum bx_status run(void *vctx, uint32_t i, struct bx_error *err)
{
    struct items *it = vctx;
    it->ran[i]++;
    if (i == it->fail_item)
        return BX_FAIL(err, BX_EINVAL, "item %u failed on purpose", i);
    it->len[i] = (size_t)i * 1000 + 1;
    it->data[i] = malloc(it->len[i]);
    for (size_t k = 0; k < it->len[i]; ++k)
        it->data[i][k] = byte_of(i, k);
    return BX_OK;
}

static void pack(void *vctx, uint32_t i, struct bx_buf *b)
{
    struct items *it = vctx;
    bx_buf_put_u64(b, it->len[i]);
    bx_buf_put(b, it->data[i], it->len[i]);
}

static enum bx_status unpack(void *vctx, uint32_t i, struct bx_reader *r, struct bx_error *err)
{
    struct items *it = vctx;
    it->len[i] = (size_t)bx_reader_u64(r);
    it->data[i] = bx_reader_array(r, it->len[i], 1);
    return r->failed ? BX_FAIL(err, BX_EFORMAT, "short") : BX_OK;
}

static void replicate(uint32_t n, uint32_t fail_item, bool to_all)
{
    struct items it = {.data = calloc(n, sizeof *it.data),
                       .len = calloc(n, sizeof *it.len),
                       .fail_item = fail_item,
                       .ran = calloc(n, sizeof *it.ran)};
    struct bx_error err = {0};
    enum bx_status st = bx_par_replicate(n, 2, run, &it, pack, unpack, to_all, NULL, &err);
    char what[160];
    if (fail_item < n) {
        snprintf(what, sizeof what, "replicate: every rank reports item %u's error (%s)", fail_item,
                 err.msg);
        char want[64];
        snprintf(want, sizeof want, "item %u failed on purpose", fail_item);
        check(st == BX_EINVAL && strstr(err.msg, want) != NULL, what);
    } else {
        bool have = bx_par_rank() == 0 || to_all, ok = st == BX_OK;
        for (uint32_t i = 0; ok && i < n; ++i) {
            bool mine = i % (uint32_t)bx_par_size() == (uint32_t)bx_par_rank();
            ok = it.ran[i] == (mine ? 1u : 0u);
            if (ok && (have || mine)) {
                ok = it.data[i] != NULL && it.len[i] == (size_t)i * 1000 + 1;
                for (size_t k = 0; ok && k < it.len[i]; ++k)
                    ok = it.data[i][k] == byte_of(i, k);
            }
        }
        snprintf(what, sizeof what,
                 "replicate %u items (to %s): each ran once on its rank, every result arrived "
                 "intact",
                 n, to_all ? "all" : "rank 0");
        check(ok, what);
    }
    for (uint32_t i = 0; i < n; ++i)
        free(it.data[i]);
    free(it.data);
    free(it.len);
    free(it.ran);
}

int main(int argc, char **argv)
{
    struct bx_error err = {0};
    if (bx_par_init(&argc, &argv, &err) != BX_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    check(bx_par_size() > 1, "started by mpirun with several ranks");
    replicate(10, UINT32_MAX, false);
    replicate(7, UINT32_MAX, true);
    replicate(2, UINT32_MAX, true); /* fewer items than ranks */
    replicate(9, 4, false);         /* item 4 runs on rank 1 of 3 */
    /* agree: the lowest failing rank's error everywhere */
    struct bx_error e = {0};
    enum bx_status st = BX_OK;
    if (bx_par_rank() >= 1)
        st = BX_FAIL(&e, BX_EIO, "rank %d cannot read its shard", bx_par_rank());
    st = bx_par_agree(st, &e);
    check(st == BX_EIO && strstr(e.msg, "rank 1 cannot read") != NULL, "agree");
    check(!bx_par_all_ok(bx_par_rank() != 2) && bx_par_all_ok(true), "all_ok");
    /* gather and broadcast a few MB */
    struct bx_buf mine = {0}, *all = bx_par_rank() == 0 ? calloc(64, sizeof *all) : NULL;
    for (int k = 0; k < (1 << 20) + bx_par_rank(); ++k)
        bx_buf_put(&mine, &(unsigned char){(unsigned char)(k * 7 + bx_par_rank())}, 1);
    st = bx_par_gather(&mine, all, &err);
    bool ok = st == BX_OK;
    for (int r = 0; ok && bx_par_rank() == 0 && r < bx_par_size(); ++r) {
        ok = all[r].len == (size_t)(1 << 20) + (size_t)r;
        for (size_t k = 0; ok && k < all[r].len; ++k)
            ok = all[r].data[k] == (unsigned char)(k * 7 + (size_t)r);
    }
    check(ok, "gather");
    struct bx_buf b = {0};
    if (bx_par_rank() == 0)
        bx_buf_put(&b, all[1].data, all[1].len);
    st = bx_par_bcast(&b, &err);
    ok = st == BX_OK && b.len == (1 << 20) + 1;
    for (size_t k = 0; ok && k < b.len; ++k)
        ok = b.data[k] == (unsigned char)(k * 7 + 1);
    check(ok, "bcast");
    for (int r = 0; all && r < bx_par_size(); ++r)
        bx_buf_fini(&all[r]);
    free(all);
    bx_buf_fini(&b);
    bx_buf_fini(&mine);
    bx_par_finalize();
    return failures ? 1 : 0;
}
