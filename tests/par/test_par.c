/* SPDX-License-Identifier: MIT */
/* test_par.c - the distributed-run layer (bx/par.h): locally it is bx_replicate; under mpirun
 * (par_worker, 3 ranks) items are spread, results gathered intact, errors agreed on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/par.h"

/* Open MPI's shared-memory transport copies between processes with process_vm_readv (CMA) by
 * default, which container sandboxes (seccomp) often forbid; the tests use plain copies. */
#ifdef __SANITIZE_ADDRESS__
/* Open MPI's dlopen'ed plugins keep memory past MPI_Finalize that no suppression can name. */
#define MPI_ENV "OMPI_MCA_btl_vader_single_copy_mechanism=none ASAN_OPTIONS=detect_leaks=0 "
#else
#define MPI_ENV "OMPI_MCA_btl_vader_single_copy_mechanism=none "
#endif

static enum bx_status square(void *ctx, uint32_t i, struct bx_error *err)
{
    (void)err;
    ((uint64_t *)ctx)[i] = (uint64_t)i * i;
    return i == 77 ? BX_ENOMEM : BX_OK;
}

static void no_pack(void *ctx, uint32_t i, struct bx_buf *b)
{
    (void)ctx;
    (void)i;
    (void)b;
    cr_assert_fail("one rank packs nothing");
}

Test(par, one_rank_without_mpirun_runs_every_item_locally)
{
    struct bx_error err = {0};
    cr_assert_eq(bx_par_init(NULL, NULL, &err), BX_OK);
    cr_assert_eq(bx_par_size(), 1);
    cr_assert_eq(bx_par_rank(), 0);
    uint64_t v[50] = {0};
    cr_assert_eq(bx_par_replicate(50, 3, square, v, no_pack, NULL, true, NULL, &err), BX_OK);
    for (uint32_t i = 0; i < 50; ++i)
        cr_assert_eq(v[i], (uint64_t)i * i);
    uint64_t w[100];
    cr_assert_eq(bx_par_replicate(100, 2, square, w, no_pack, NULL, false, NULL, &err), BX_ENOMEM);
    cr_assert_eq(bx_par_agree(BX_EIO, &err), BX_EIO);
    cr_assert(bx_par_all_ok(true) && !bx_par_all_ok(false));
    bx_par_finalize();
}

Test(par, under_mpirun_items_spread_results_gathered_errors_agreed, .timeout = 180)
{
#if defined(BX_MPIRUN) && defined(BX_PAR_WORKER)
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             MPI_ENV "timeout 150 %s --oversubscribe --allow-run-as-root -np 3 %s 2>&1", BX_MPIRUN,
             BX_PAR_WORKER);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[512], out[16384] = "";
    int oks = 0;
    while (fgets(line, sizeof line, p)) {
        oks += strstr(line, ": ok ") != NULL;
        if (strlen(out) + strlen(line) < sizeof out)
            strcat(out, line);
    }
    int rc = pclose(p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(oks, 3 * 9, "9 checks on each of 3 ranks:\n%s", out);
#else
    cr_skip_test("built without MPI");
#endif
}
