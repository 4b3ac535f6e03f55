/* SPDX-License-Identifier: MIT */
/* main.c - the bxsim command: dispatch to subcommands, --help and --version. */
#include <stdio.h>
#include <string.h>

#include <cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>

#include "bx/common.h"
#include "bx/par.h"

#include "app.h"

static const char usage[] =
    "usage: bxsim <command> [options]\n"
    "\n"
    "Simulate and audit a biometric exit system.\n"
    "\n"
    "commands:\n"
    "  run FILE.yaml --out DIR   run a scenario: DIR/summary.json and report.html (network,\n"
    "                            ports) or overstay.json and overstay.html (lifecycle)\n"
    "  validate FILE.yaml        check a scenario without running it\n"
    "  report DIR                rebuild a run's page and plots from its results\n"
    "  size FILE.yaml --target-p95-wait S   lanes, cameras and officers each port needs\n"
    "  compare A.yaml B.yaml     what changes from plan A to plan B, paired over the same\n"
    "                            travellers (compare.json, compare.html)\n"
    "  audit --scores F | --run DIR   test a claimed error rate (FMR, FNMR) with exact\n"
    "                            intervals, bootstrap, EER, breakdowns\n"
    "  gallery info|search       inspect template files, 1:N search (docs/templates.md)\n"
    "  gallery gen|profiles      synthetic galleries from algorithm profiles\n"
    "  calibrate --profile NAME  achieved versus published accuracy figures (--fit to tune)\n"
    "  bench [--suite S]         measure speed and accuracy: kernel, matcher, models, e2e,\n"
    "                            accuracy, lifecycle or all (docs/bench.md)\n"
    "\n"
    "options:\n"
    "  -h, --help                this text (also: bxsim <command> --help)\n"
    "  -V, --version             version, git revision and the OpenBLAS kernel in use\n"
    "\n"
    "exit status: 0 ok, 1 runtime failure, 2 bad input or usage, 3 benchmark regression,\n"
    "4 an audit verdict that --fail-on names\n";

static int print_version(void)
{
    char blas[512];
    bx_app_blas_describe(blas, sizeof blas);
    printf("bxsim %s\n", bx_app_version());
    printf("GSL %s; OpenBLAS %s\n", GSL_VERSION, blas);
    printf("MPI: %s\n", bx_par_built() ? "built in (run, size and gallery search spread over "
                                         "mpirun's ranks)"
                                       : "not built in (one process)");
    return BX_EXIT_OK;
}

/* Commands that spread their work over mpirun's ranks; under mpirun the others run on rank 0
 * alone (the other ranks have nothing to do and leave at once). */
static bool distributed(const char *cmd, int argc, char **argv)
{
    return strcmp(cmd, "run") == 0 || strcmp(cmd, "size") == 0 || strcmp(cmd, "compare") == 0 ||
           (strcmp(cmd, "gallery") == 0 && argc > 2 && strcmp(argv[2], "search") == 0);
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
    /* HDF5's exit handler crashes when a file failed to close (a full disk): register none; the
     * system closes what is still open at exit. */
    H5dont_atexit();
    /* An interrupted command leaves no temporary file or staging folder behind. */
    bx_temp_cleanup_on_signals();
    bx_app_blas_setup(argv);
    /* The kernel does no linear algebra: keep OpenBLAS's thread pool from competing with
     * replication threads (the matcher sets its own thread count when it needs BLAS). */
    openblas_set_num_threads(1);
    gsl_set_error_handler_off();
    struct bx_error err = {0};
    if (bx_par_init(&argc, &argv, &err) != BX_OK) {
        fprintf(stderr, "bxsim: %s\n", err.msg);
        return BX_EXIT_RUNTIME;
    }
    int rc = BX_EXIT_OK;
    if (bx_par_rank() == 0 || (argc >= 2 && distributed(argv[1], argc, argv)))
        rc = dispatch(argc, argv);
    bx_par_finalize();
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return BX_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return BX_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
        return print_version();
    if (strcmp(cmd, "run") == 0)
        return bx_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "size") == 0)
        return bx_cmd_size(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return bx_cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return bx_cmd_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return bx_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return bx_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "gallery") == 0)
        return bx_cmd_gallery(argc - 1, argv + 1);
    if (strcmp(cmd, "calibrate") == 0)
        return bx_cmd_calibrate(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return bx_cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "bxsim: unknown command '%s' (try bxsim --help)\n", cmd);
    return BX_EXIT_USAGE;
}
