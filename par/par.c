/* SPDX-License-Identifier: MIT */
/* par.c - distributed runs over MPI (bx/par.h); one local rank when built or run without it.
 *
 * Messages between ranks are bx_buf byte strings sent in pieces of at most 1 GiB, so neither a
 * result's size nor MPI's int counts limit what can be gathered. Every collective ends with an
 * agreement on the status, so that a failure on one rank (a short allocation, a bad file) ends
 * the operation on all of them with the same error instead of leaving some waiting.
 */
#include "bx/par.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef BX_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;
#ifdef BX_HAVE_MPI
static bool g_mpi = false;
#endif

bool bx_par_built(void)
{
#ifdef BX_HAVE_MPI
    return true;
#else
    return false;
#endif
}

int bx_par_rank(void)
{
    return g_rank;
}

int bx_par_size(void)
{
    return g_size;
}

/* Started by an MPI launcher: Open MPI's mpirun, PMIx (Open MPI 4, Slurm), PMI (MPICH hydra). */
static bool launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; ++i)
        if (getenv(vars[i]) != NULL)
            return true;
    return false;
}

enum bx_status bx_par_init(int *argc, char ***argv, struct bx_error *err)
{
#ifdef BX_HAVE_MPI
    if (g_mpi || !launched())
        return BX_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return BX_FAIL(err, BX_ELIB, "MPI_Init_thread failed");
    g_mpi = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return BX_OK;
#else
    (void)argc;
    (void)argv;
    (void)err;
    if (launched() && getenv("BX_PAR_QUIET") == NULL)
        fputs("bxsim: started by an MPI launcher, but this build has no MPI: every process runs "
              "alone (rebuild with libopenmpi-dev installed)\n",
              stderr);
    return BX_OK;
#endif
}

void bx_par_finalize(void)
{
#ifdef BX_HAVE_MPI
    if (g_mpi)
        MPI_Finalize();
    g_mpi = false;
#endif
    g_rank = 0;
    g_size = 1;
}

bool bx_par_all_ok(bool ok)
{
#ifdef BX_HAVE_MPI
    if (g_size > 1) {
        int mine = ok, all = 0;
        if (MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
            return false;
        return all != 0;
    }
#endif
    return ok;
}

enum bx_status bx_par_agree(enum bx_status st, struct bx_error *err)
{
#ifdef BX_HAVE_MPI
    if (g_size > 1) {
        int mine = st != BX_OK ? g_rank : g_size, first = g_size;
        if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
            return BX_FAIL(err, BX_ELIB, "MPI_Allreduce failed");
        if (first == g_size)
            return BX_OK;
        struct bx_error e = {0};
        if (first == g_rank) {
            if (err != NULL)
                e = *err;
            if (e.code == BX_OK)
                BX_FAIL(&e, st, "%s", bx_status_str(st));
        }
        if (MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, first, MPI_COMM_WORLD) != MPI_SUCCESS)
            return BX_FAIL(err, BX_ELIB, "MPI_Bcast failed");
        e.file = NULL; /* an address in another process */
        if (first != g_rank && err != NULL) {
            *err = e;
            if (first != 0)
                snprintf(err->msg, sizeof err->msg, "rank %d: %.480s", first, e.msg);
        }
        return e.code;
    }
#endif
    (void)err;
    return st;
}

#ifdef BX_HAVE_MPI
enum { PIECE = 1 << 30, TAG_LEN = 17, TAG_DATA = 18 };

/* Receive @p len bytes from @p src into @p dst (NULL: receive and discard). */
static bool recv_bytes(unsigned char *dst, uint64_t len, int src)
{
    static unsigned char scratch[1 << 16];
    for (uint64_t off = 0; off < len;) {
        uint64_t n = len - off < PIECE ? len - off : PIECE;
        if (dst == NULL && n > sizeof scratch)
            n = sizeof scratch;
        if (MPI_Recv(dst ? dst + off : scratch, (int)n, MPI_BYTE, src, TAG_DATA, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return false;
        off += n;
    }
    return true;
}

static bool send_bytes(const unsigned char *src, uint64_t len, int dst, uint64_t piece)
{
    for (uint64_t off = 0; off < len;) {
        uint64_t n = len - off < piece ? len - off : piece;
        if (MPI_Send(src + off, (int)n, MPI_BYTE, dst, TAG_DATA, MPI_COMM_WORLD) != MPI_SUCCESS)
            return false;
        off += n;
    }
    return true;
}
#endif

enum bx_status bx_par_gather(const struct bx_buf *mine, struct bx_buf *all, struct bx_error *err)
{
    enum bx_status st = BX_OK;
    if (g_rank == 0) {
        all[0] = (struct bx_buf){0};
        bx_buf_put(&all[0], mine->data, mine->len);
        if (all[0].failed || mine->failed)
            st = BX_FAIL(err, BX_ENOMEM, "out of memory gathering results");
    }
#ifdef BX_HAVE_MPI
    if (g_size > 1) {
        if (g_rank == 0) {
            for (int r = 1; r < g_size; ++r) {
                uint64_t len = 0;
                all[r] = (struct bx_buf){0};
                if (MPI_Recv(&len, 1, MPI_UINT64_T, r, TAG_LEN, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE) != MPI_SUCCESS) {
                    st = BX_FAIL(err, BX_ELIB, "MPI_Recv from rank %d failed", r);
                    continue;
                }
                if (len == UINT64_MAX) { /* the sender could not pack its results */
                    st = BX_FAIL(err, BX_ENOMEM, "rank %d: out of memory packing results", r);
                    continue;
                }
                unsigned char *d = len ? malloc((size_t)len) : NULL;
                uint64_t ok = d != NULL || len == 0;
                MPI_Send(&ok, 1, MPI_UINT64_T, r, TAG_LEN, MPI_COMM_WORLD);
                if (!recv_bytes(d, len, r))
                    st = BX_FAIL(err, BX_ELIB, "MPI_Recv from rank %d failed", r);
                if (!ok)
                    st = BX_FAIL(err, BX_ENOMEM, "out of memory for rank %d's results", r);
                all[r] = (struct bx_buf){.data = d, .len = (size_t)len, .cap = (size_t)len};
            }
        } else {
            uint64_t len = mine->failed ? UINT64_MAX : mine->len, ok = 0;
            if (MPI_Send(&len, 1, MPI_UINT64_T, 0, TAG_LEN, MPI_COMM_WORLD) != MPI_SUCCESS)
                st = BX_FAIL(err, BX_ELIB, "MPI_Send to rank 0 failed");
            else if (len != UINT64_MAX) {
                MPI_Recv(&ok, 1, MPI_UINT64_T, 0, TAG_LEN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                /* rank 0 discards into 64 KiB pieces when it could not allocate */
                if (!send_bytes(mine->data, len, 0, ok ? PIECE : 1 << 16))
                    st = BX_FAIL(err, BX_ELIB, "MPI_Send to rank 0 failed");
            }
        }
    }
#endif
    st = bx_par_agree(st, err);
    if (st != BX_OK && g_rank == 0)
        for (int r = 0; r < g_size; ++r)
            bx_buf_fini(&all[r]);
    return st;
}

enum bx_status bx_par_bcast(struct bx_buf *b, struct bx_error *err)
{
    enum bx_status st = BX_OK;
#ifdef BX_HAVE_MPI
    if (g_size > 1) {
        uint64_t len = g_rank == 0 ? (b->failed ? UINT64_MAX : b->len) : 0;
        if (MPI_Bcast(&len, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return BX_FAIL(err, BX_ELIB, "MPI_Bcast failed");
        if (len == UINT64_MAX)
            return bx_par_agree(BX_FAIL(err, BX_ENOMEM, "rank 0: out of memory"), err);
        if (g_rank != 0) {
            bx_buf_fini(b);
            b->data = len ? malloc((size_t)len) : NULL;
            if (len && b->data == NULL)
                st = BX_FAIL(err, BX_ENOMEM, "out of memory receiving %llu bytes",
                             (unsigned long long)len);
            b->len = b->cap = b->data ? (size_t)len : 0;
        }
        /* Pieces of one size on every rank; a rank that could not allocate reads into a
         * scratch piece it then drops (a piece of a broadcast goes to every rank). */
        static unsigned char scratch[1 << 16];
        uint64_t piece = 1 << 16;
        for (uint64_t off = 0; off < len; off += piece) {
            uint64_t n = len - off < piece ? len - off : piece;
            void *p = b->data ? b->data + off : scratch;
            if (MPI_Bcast(p, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
                st = BX_FAIL(err, BX_ELIB, "MPI_Bcast failed");
                break;
            }
        }
        st = bx_par_agree(st, err);
    }
#endif
    (void)b;
    (void)err;
    return st;
}

/* ---------------------------------------------------------------- replications */

struct local {
    bx_rep_fn *fn;
    void *ctx;
    void (*progress)(void *ctx, uint32_t done, uint32_t total);
    uint32_t rank, size;
    enum bx_status *st;
    struct bx_error *errs;
};

static enum bx_status run_local(void *vl, uint32_t j, struct bx_error *err)
{
    struct local *l = vl;
    (void)err;
    l->st[j] = l->fn(l->ctx, l->rank + j * l->size, &l->errs[j]);
    return BX_OK;
}

static void progress_local(void *vl, uint32_t done, uint32_t total)
{
    struct local *l = vl;
    if (l->progress)
        l->progress(l->ctx, done, total);
}

/* Unpack the records "item, length, bytes" of another rank's @p b; @p seen marks the items
 * already in place (this rank's own and those unpacked before). */
static enum bx_status unpack_all(const struct bx_buf *b, uint32_t n, bx_par_unpack_fn *unpack,
                                 void *ctx, unsigned char *seen, struct bx_error *err)
{
    struct bx_reader r = {.p = b->data, .len = b->len};
    while (r.pos < r.len) {
        uint64_t item = bx_reader_u64(&r), len = bx_reader_u64(&r);
        if (r.failed || item >= n || len > r.len - r.pos)
            return BX_FAIL(err, BX_EFORMAT, "malformed results from another rank");
        if (seen[item])
            return BX_FAIL(err, BX_EFORMAT, "results for item %u twice", (unsigned)item);
        seen[item] = 1;
        struct bx_reader sub = {.p = r.p + r.pos, .len = (size_t)len};
        r.pos += (size_t)len;
        enum bx_status st = unpack(ctx, (uint32_t)item, &sub, err);
        if (st != BX_OK)
            return st;
    }
    return BX_OK;
}

enum bx_status bx_par_replicate(uint32_t n, unsigned n_threads, bx_rep_fn *fn, void *ctx,
                                bx_par_pack_fn *pack, bx_par_unpack_fn *unpack, bool to_all,
                                void (*progress)(void *ctx, uint32_t done, uint32_t total),
                                struct bx_error *err)
{
    if (g_size == 1)
        return bx_replicate(n, n_threads, fn, ctx, progress, err);

    uint32_t rank = (uint32_t)g_rank, size = (uint32_t)g_size;
    uint32_t m = n > rank ? (n - rank + size - 1) / size : 0;
    struct local l = {.fn = fn,
                      .ctx = ctx,
                      .progress = progress,
                      .rank = rank,
                      .size = size,
                      .st = calloc(m ? m : 1, sizeof *l.st),
                      .errs = calloc(m ? m : 1, sizeof *l.errs)};
    struct bx_buf mine = {0}, *all = NULL;
    unsigned char *seen = NULL;
    enum bx_status st = BX_OK;
    if (l.st == NULL || l.errs == NULL)
        st = BX_FAIL(err, BX_ENOMEM, "cannot allocate %u replications", m);
    if (st == BX_OK)
        st = bx_replicate(m, n_threads, run_local, &l, progress_local, err);
    /* The lowest-numbered failing item of this rank, then of all ranks. */
    uint32_t first = n;
    for (uint32_t j = 0; st == BX_OK && j < m; ++j)
        if (l.st[j] != BX_OK) {
            first = rank + j * size;
            *err = l.errs[j];
            if (err->code == BX_OK)
                BX_FAIL(err, l.st[j], "replication %u failed", first);
            st = err->code;
            break;
        }
#ifdef BX_HAVE_MPI
    unsigned mine_first = st != BX_OK ? first : n, all_first = n;
    if (st != BX_OK && first == n)
        mine_first = rank; /* failed before running anything: report as its first item */
    MPI_Allreduce(&mine_first, &all_first, 1, MPI_UNSIGNED, MPI_MIN, MPI_COMM_WORLD);
    if (all_first < n) {
        /* Every rank returns that item's error: its owner broadcasts it. */
        struct bx_error e = {0};
        int owner = (int)(all_first % size);
        if (owner == g_rank)
            e = *err;
        MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, owner, MPI_COMM_WORLD);
        e.file = NULL;
        if (owner != g_rank)
            *err = e;
        st = e.code != BX_OK ? e.code : BX_ELIB;
        goto done;
    }
#endif
    /* Pack this rank's items as records "item, length, bytes" (rank 0 keeps its own in place
     * unless every rank needs them). */
    for (uint32_t j = 0; j < m && (rank != 0 || to_all); ++j) {
        uint32_t item = rank + j * size;
        bx_buf_put_u64(&mine, item);
        size_t at = mine.len;
        bx_buf_put_u64(&mine, 0);
        pack(ctx, item, &mine);
        if (!mine.failed) {
            uint64_t len = mine.len - at - sizeof(uint64_t);
            memcpy(mine.data + at, &len, sizeof len);
        }
    }
    bool receives = g_rank == 0 || to_all;
    if (receives && (all = calloc(size, sizeof *all)) == NULL)
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    if ((st = bx_par_agree(st, err)) != BX_OK)
        goto done;
    if ((st = bx_par_gather(&mine, g_rank == 0 ? all : NULL, err)) != BX_OK)
        goto done;
    /* Every rank's records from rank 0 to the others, one rank's buffer at a time. */
    for (uint32_t r = 0; to_all && r < size && st == BX_OK; ++r)
        st = bx_par_bcast(&all[r], err);
    if (st != BX_OK)
        goto done;
    if (receives) {
        seen = calloc(n ? n : 1, 1);
        for (uint32_t i = rank; seen && i < n; i += size)
            seen[i] = 1; /* this rank's own, already in place */
        if (seen == NULL)
            st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        for (uint32_t r = 0; st == BX_OK && r < size; ++r)
            if (r != rank)
                st = unpack_all(&all[r], n, unpack, ctx, seen, err);
        for (uint32_t i = 0; st == BX_OK && i < n; ++i)
            if (!seen[i])
                st = BX_FAIL(err, BX_EFORMAT, "no results for item %u", i);
    }
    st = bx_par_agree(st, err);
done:
    if (all)
        for (uint32_t r = 0; r < size; ++r)
            bx_buf_fini(&all[r]);
    free(all);
    free(seen);
    bx_buf_fini(&mine);
    free(l.errs);
    free(l.st);
    return st;
}
