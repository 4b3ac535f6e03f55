/* SPDX-License-Identifier: MIT */
/* blas.c - make OpenBLAS use the best kernel this CPU supports.
 *
 * Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernel in a library constructor, before
 * main() runs, from a CPU table that predates some current CPUs; on those it falls back to a
 * generic kernel (measured on an AVX-512 machine here: 25 instead of 150 GFLOP/s per core). The
 * only supported way to choose is the OPENBLAS_CORETYPE environment variable, read by that
 * constructor, so when the kernel in use is weaker than what the CPU supports we set the variable
 * and re-execute ourselves once (BX_BLAS_REEXEC guards against loops). A user's own
 * OPENBLAS_CORETYPE is always respected, and BX_BLAS_KEEP=1 disables the switch.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cblas.h>

#include "app.h"

/* 0: SSE-era or unknown, 1: AVX, 2: AVX2+FMA, 3: AVX-512 (F, CD, BW, DQ, VL). */
static int core_level(const char *name)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", "Skylake", NULL};
    static const char *const avx[] = {"Sandybridge", "Bulldozer", "Piledriver",
                                      "Steamroller", "Excavator", NULL};
    const char *const *lists[] = {avx, avx2, avx512};
    for (int level = 3; level >= 1; --level)
        for (const char *const *p = lists[level - 1]; *p; ++p)
            if (strcasecmp(name, *p) == 0)
                return level;
    return 0;
}

static const char *cpu_best_core(int *level)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl")) {
        *level = 3;
        return "SkylakeX";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *level = 2;
        return "Haswell";
    }
    if (__builtin_cpu_supports("avx")) {
        *level = 1;
        return "Sandybridge";
    }
    *level = 0;
    return NULL;
}

const char *bx_app_blas_better_core(const char *have, int cpu_level)
{
    static const char *const best[] = {NULL, "Sandybridge", "Haswell", "SkylakeX"};
    if (cpu_level < 1 || cpu_level > 3 || core_level(have ? have : "") >= cpu_level)
        return NULL;
    return best[cpu_level];
}

void bx_app_blas_setup(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") || getenv("BX_BLAS_REEXEC"))
        return;
    const char *keep = getenv("BX_BLAS_KEEP");
    if (keep && strcmp(keep, "1") == 0)
        return;
    int level;
    cpu_best_core(&level);
    const char *have = openblas_get_corename();
    const char *want = bx_app_blas_better_core(have, level);
    if (want == NULL)
        return;
    setenv("OPENBLAS_CORETYPE", want, 1);
    setenv("BX_BLAS_REEXEC", have ? have : "unknown", 1);
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with the kernel we have. */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("BX_BLAS_REEXEC");
}

const char *bx_app_blas_core(void)
{
    return openblas_get_corename();
}

void bx_app_blas_describe(char *buf, size_t len)
{
    const char *prev = getenv("BX_BLAS_REEXEC");
    const char *how = prev                          ? "set by bxsim; OpenBLAS had chosen "
                      : getenv("OPENBLAS_CORETYPE") ? "from OPENBLAS_CORETYPE"
                                                    : "detected by OpenBLAS";
    snprintf(buf, len, "%s; core %s (%s%s)", openblas_get_config(), openblas_get_corename(), how,
             prev ? prev : "");
}
