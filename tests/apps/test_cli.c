/* SPDX-License-Identifier: MIT */
/* test_cli.c - the bxsim command as a user runs it: exit statuses, outputs, determinism. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <hdf5.h>

#include "app.h"

static char dir[64];
static char out[1 << 20]; /* whole outputs: audit.json is printed with --json */
static char tmpname_buf[256];

static void setup(void)
{
    strcpy(dir, "/tmp/bx-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

TestSuite(apps_cli, .init = setup, .timeout = 120);

/* Run shell command @p cmd; return its exit status, its output (stdout) in `out`. */
static int run_shell(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run "ENV bxsim ARGS" in the source directory (ENV: variable assignments, may be empty);
 * return its exit status, stdout and stderr in `out`. */
static int bxsim_env(const char *env, const char *args)
{
    char cmd[4096];
    cr_assert_lt(snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' %s 2>&1", BX_SOURCE_DIR, env,
                          BXSIM_EXE, args),
                 (int)sizeof cmd, "command too long");
    return run_shell(cmd);
}

static int bxsim(const char *args)
{
    return bxsim_env("", args);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

Test(apps_cli, help_and_version)
{
    cr_assert_eq(bxsim("--help"), 0);
    cr_assert(strstr(out, "usage: bxsim") != NULL);
    cr_assert_eq(bxsim("--version"), 0);
    cr_assert(strstr(out, "bxsim 0.") != NULL, "%s", out);
    cr_assert(strstr(out, "OpenBLAS") != NULL && strstr(out, "core ") != NULL, "%s", out);
    cr_assert_eq(bxsim("run --help"), 0);
    cr_assert(strstr(out, "--replications") != NULL);
}

Test(apps_cli, every_command_has_help_that_exits_0_and_names_its_options)
{
    static const char *const cmds[][6] = {
        {"run", "--out", "--seed", "--replications", "--records", "--threads"},
        {"validate", "usage", NULL},
        {"report", "DIR", NULL},
        {"size", "--target-p95-wait", "--resource", "--rollout-weeks", "--replications", NULL},
        {"audit", "--scores", "--run", "--gallery", "--fail-on", NULL},
        {"bench", "--suite", "lifecycle", "--baseline", "--quick", NULL},
        {"calibrate", "--profile", "--seeds", "--fit", NULL},
        {"compare", "--replications", "--seed", "--out", "--threads"},
        {"gallery", "info", "search", "gen", "profiles", NULL},
        {"gallery info", "FILE.h5", NULL},
        {"gallery search", "--gallery", "--probes", "--k", NULL},
        {"gallery gen", "--profile", "--subjects", "--samples", NULL},
        {"gallery profiles", "--json", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; ++i) {
        char args[128];
        snprintf(args, sizeof args, "%s --help", cmds[i][0]);
        cr_assert_eq(bxsim(args), 0, "bxsim %s: %s", args, out);
        for (int j = 1; j < 6 && cmds[i][j]; ++j)
            cr_expect(strstr(out, cmds[i][j]) != NULL, "bxsim %s does not mention %s: %s", args,
                      cmds[i][j], out);
    }
    cr_assert_eq(bxsim("--help"), 0);
    cr_expect(strstr(out, "lifecycle") != NULL, "%s", out);
}

Test(apps_cli, the_repository_stands_alone_without_links_to_shared_notes)
{
    /* README, docs, scenarios and every page's source: nothing points outside the clone */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && grep -rlE '\\.\\./shared|shared/reference|shared/DESIGN' README.md "
             "docs scenarios reports apps 2>/dev/null",
             BX_SOURCE_DIR);
    cr_assert_neq(run_shell(cmd), 0, "files linking outside the repository: %s", out);
}

Test(apps_cli, usage_errors_exit_2_naming_the_problem)
{
    cr_assert_eq(bxsim(""), 2);
    cr_assert_eq(bxsim("frobnicate"), 2);
    cr_assert(strstr(out, "unknown command 'frobnicate'") != NULL, "%s", out);
    cr_assert_eq(bxsim("run scenarios/mmc-example.yaml"), 2);
    cr_assert(strstr(out, "--out") != NULL, "%s", out);
    char args[256];
    snprintf(args, sizeof args, "run scenarios/mmc-example.yaml --out %s/o --seed x", dir);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "--seed: expected a whole number") != NULL, "%s", out);
    snprintf(args, sizeof args, "run scenarios/mmc-example.yaml --out %s/o --bogus", dir);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "unknown option '--bogus'") != NULL, "%s", out);
    snprintf(args, sizeof args, "run scenarios/mmc-example.yaml --out %s/o --threads", dir);
    cr_assert_eq(bxsim(args), 2);
    cr_assert_eq(bxsim("bench --suite nope"), 2);
    snprintf(args, sizeof args, "%s/o", dir);
    cr_assert_not(exists(args), "nothing is written on a usage error");
}

Test(apps_cli, bad_scenario_exits_2_with_file_line_column_and_writes_nothing)
{
    char yaml[128], args[512];
    snprintf(yaml, sizeof yaml, "%s/bad.yaml", dir);
    write_file(yaml, "name: bad\nhorizon: {hours: 1}\nnetwork:\n  sources: []\n  statoins: []\n");
    snprintf(args, sizeof args, "run %s --out %s/o", yaml, dir);
    cr_assert_eq(bxsim(args), 2);
    char want[160];
    snprintf(want, sizeof want, "%s:5:3: unknown field 'statoins'", yaml);
    cr_assert(strstr(out, want) != NULL, "expected '%s' in: %s", want, out);
    snprintf(args, sizeof args, "%s/o", dir);
    cr_assert_not(exists(args), "no output directory for a bad scenario");
    snprintf(args, sizeof args, "validate %s", yaml);
    cr_assert_eq(bxsim(args), 2);
    cr_assert_eq(bxsim("validate /nonexistent.yaml"), 2);
    cr_assert(strstr(out, "/nonexistent.yaml: cannot open") != NULL, "%s", out);
    cr_assert_eq(bxsim("validate scenarios/mmc-example.yaml"), 0);
    cr_assert(strstr(out, "ok") != NULL);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s missing", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

Test(apps_cli, same_seed_gives_byte_identical_summary_with_1_and_2_threads)
{
    char args[512], a[128], b[128];
    snprintf(args, sizeof args,
             "run scenarios/mmc-example.yaml --out %s/t1 --threads 1 --reproducible --quiet", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(args, sizeof args,
             "run scenarios/mmc-example.yaml --out %s/t2 --threads 2 --reproducible --quiet", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(a, sizeof a, "%s/t1/summary.json", dir);
    snprintf(b, sizeof b, "%s/t2/summary.json", dir);
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(x, y, la), 0, "summary.json differs between 1 and 2 threads");
    /* A different seed changes the numbers (the seed is really used). */
    snprintf(args, sizeof args,
             "run scenarios/mmc-example.yaml --out %s/t3 --seed 12 --reproducible --quiet", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(b, sizeof b, "%s/t3/summary.json", dir);
    char *z = slurp(b, &lb);
    cr_assert(la != lb || memcmp(x, z, la) != 0);
    free(x);
    free(y);
    free(z);
}

Test(apps_cli, summary_json_has_the_documented_shape)
{
    char args[512], path[128];
    snprintf(args, sizeof args, "run scenarios/mmc-example.yaml --out %s/s --replications 4", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "booth") != NULL, "the run prints a table: %s", out);
    snprintf(path, sizeof path, "%s/s/summary.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_assert_eq(json_integer_value(json_object_get(root, "seed")), 11);
    cr_assert_eq(json_integer_value(json_object_get(root, "replications")), 4);
    cr_assert_gt(json_integer_value(json_object_get(root, "events")), 100000);
    cr_assert(json_is_real(json_object_get(root, "wall_s")));
    json_t *booth = json_array_get(json_object_get(root, "stations"), 0);
    double v, lo, hi, p95, u;
    cr_assert_eq(json_unpack(booth, "{s:s, s:I, s:{s:{s:F, s:[FF]}, s:{s:F}}, s:{s:{s:F}}}", "name",
                             &(const char *){0}, "served", &(json_int_t){0}, "wait_s", "mean",
                             "value", &v, "ci95", &lo, &hi, "p95", "value", &p95, "utilization",
                             "mean", "value", &u),
                 0);
    /* Erlang C for the example: Wq = 35.1 s, rho = 0.833. */
    cr_assert(lo < hi && v > 25 && v < 45, "mean wait %g [%g, %g]", v, lo, hi);
    cr_assert(u > 0.8 && u < 0.87, "utilisation %g", u);
    cr_assert_gt(p95, v);
    cr_assert(json_is_object(json_object_get(json_object_get(booth, "queue_length"), "mean")));
    json_decref(root);
    char tmpname[160];
    snprintf(tmpname, sizeof tmpname, "ls %s/s | grep -q tmp", dir);
    cr_assert_neq(system(tmpname), 0, "no temporary file left in the output directory");
}

Test(apps_cli, bench_writes_machine_readable_figures)
{
    char args[256], path[128];
    snprintf(path, sizeof path, "%s/bench.json", dir);
    snprintf(args, sizeof args, "bench --suite kernel --quick --repeat 1 --json %s", path);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *res = json_object_get(root, "results");
    cr_assert_eq(json_array_size(res), 5);
    bool found = false;
    for (size_t i = 0; i < json_array_size(res); ++i) {
        json_t *r = json_array_get(res, i);
        cr_assert_gt(json_real_value(json_object_get(r, "median")), 0);
        cr_assert(json_is_number(json_object_get(r, "spread")) &&
                      json_is_array(json_object_get(r, "repetitions")),
                  "each figure with its repetitions and spread");
        found |= strcmp(json_string_value(json_object_get(r, "name")), "mm4-customers") == 0;
    }
    cr_assert(found);
    json_t *env = json_object_get(root, "environment");
    const char *keys[] = {"cpu",   "cpu_features", "compiler",
                          "bxsim", "git_revision", "openblas_core"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i)
        cr_assert(json_is_string(json_object_get(env, keys[i])), "environment.%s", keys[i]);
    cr_assert_geq(json_integer_value(json_object_get(env, "cores")), 1);
    json_decref(root);
}

Test(apps_blas, a_weaker_kernel_than_the_cpu_supports_is_replaced)
{
    cr_assert_str_eq(bx_app_blas_better_core("Prescott", 3), "SkylakeX");
    cr_assert_str_eq(bx_app_blas_better_core("Haswell", 3), "SkylakeX");
    cr_assert_str_eq(bx_app_blas_better_core("Sandybridge", 2), "Haswell");
    cr_assert_str_eq(bx_app_blas_better_core("unknown", 2), "Haswell");
    cr_assert_null(bx_app_blas_better_core("Zen", 2));
    cr_assert_null(bx_app_blas_better_core("SkylakeX", 3));
    cr_assert_null(bx_app_blas_better_core("Cooperlake", 3));
    cr_assert_null(bx_app_blas_better_core("Prescott", 0), "nothing better on an SSE-only CPU");
}

Test(apps_blas, a_users_own_core_type_is_respected_and_reported)
{
    cr_assert_eq(bxsim("--version"), 0);
    char *line = strstr(out, "core ");
    cr_assert_not_null(line, "%s", out);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "OPENBLAS_CORETYPE=Prescott '%s' --version", BXSIM_EXE);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_assert(strstr(out, "core Prescott (from OPENBLAS_CORETYPE)") != NULL, "%s", out);
}

/* ---------------------------------------------------------------- bxsim gallery */

#include "bx/matcher.h"

/* Open MPI's shared-memory transport copies between processes with process_vm_readv (CMA) by
 * default, which container sandboxes (seccomp) often forbid; the tests use plain copies. */
#ifdef __SANITIZE_ADDRESS__
/* Open MPI's dlopen'ed plugins keep memory past MPI_Finalize that no suppression can name. */
#define MPI_ENV "OMPI_MCA_btl_vader_single_copy_mechanism=none ASAN_OPTIONS=detect_leaks=0 "
#else
#define MPI_ENV "OMPI_MCA_btl_vader_single_copy_mechanism=none "
#endif

TestSuite(apps_gallery, .init = setup, .timeout = 120);
TestSuite(apps_models, .init = setup, .timeout = 120);
TestSuite(apps_ports, .init = setup, .timeout = 180);

/* A gallery of n random-ish unit vectors (d = 128) and probes that copy rows 5, 17 and 42. */
static void make_files(const char *gpath, const char *ppath, size_t n, size_t pdim)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(128, n, &err);
    float *v = malloc(n * 128 * sizeof *v);
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n * 128; ++i)
        v[i] = (float)sin(1.7 * (double)i) + (float)((i * 7) % 11) * 0.1f;
    for (size_t i = 0; i < n; ++i)
        ids[i] = 500 + (int64_t)i;
    cr_assert_eq(bx_store_add(g, v, n, ids, NULL, &err), BX_OK);
    cr_assert_eq(bx_store_save_h5(g, gpath, &err), BX_OK, "%s", err.msg);
    struct bx_store *p = bx_store_alloc(pdim, 3, &err);
    size_t rows[3] = {5, 17, 42};
    float *pv = calloc(3 * pdim, sizeof *pv);
    for (int j = 0; j < 3; ++j)
        memcpy(pv + (size_t)j * pdim, bx_store_row(g, rows[j]),
               (pdim < 128 ? pdim : 128) * sizeof *pv);
    int64_t pid[3] = {505, 517, 542};
    cr_assert_eq(bx_store_add(p, pv, 3, pid, NULL, &err), BX_OK);
    cr_assert_eq(bx_store_save_h5(p, ppath, &err), BX_OK);
    bx_store_free(p);
    bx_store_free(g);
    free(pv);
    free(ids);
    free(v);
}

Test(apps_gallery, info_describes_a_template_file)
{
    char g[128], p[128], args[300];
    snprintf(g, sizeof g, "%s/g.h5", dir);
    snprintf(p, sizeof p, "%s/p.h5", dir);
    make_files(g, p, 300, 128);
    snprintf(args, sizeof args, "gallery info %s", g);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "templates:       300") != NULL, "%s", out);
    cr_assert(strstr(out, "dim:             128") != NULL, "%s", out);
    cr_assert(strstr(out, "300 distinct") != NULL, "%s", out);
    cr_assert_eq(bxsim("gallery info /nonexistent.h5"), 2);
    cr_assert(strstr(out, "/nonexistent.h5") != NULL, "%s", out);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; ++s)
        n += *s == '\n';
    return n;
}

Test(apps_gallery, search_writes_k_rows_per_probe_best_first)
{
    char g[128], p[128], csv[128], args[600];
    snprintf(g, sizeof g, "%s/g.h5", dir);
    snprintf(p, sizeof p, "%s/p.h5", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    make_files(g, p, 300, 128);
    for (int fast = 0; fast < 2; ++fast) {
        snprintf(args, sizeof args,
                 "gallery search --gallery %s --probes %s --k 4 %s --threads 2 "
                 "--out %s",
                 g, p, fast ? "--fast" : "--exact", csv);
        cr_assert_eq(bxsim(args), 0, "%s", out);
        size_t len;
        char *text = slurp(csv, &len);
        cr_assert(strncmp(text, "probe_index,rank,gallery_index,subject_id,score\n", 48) == 0, "%s",
                  text);
        cr_assert_eq(count_lines(text), 1 + 3 * 4);
        /* Each probe copies a gallery row: rank 1 is that row with cosine 1. */
        cr_assert(strstr(text, "\n0,1,5,505,0.99999") != NULL, "%s", text);
        cr_assert(strstr(text, "\n1,1,17,517,0.99999") != NULL, "%s", text);
        cr_assert(strstr(text, "\n2,1,42,542,0.99999") != NULL, "%s", text);
        free(text);
    }
    /* A threshold of 0.9999 keeps only the copies. */
    snprintf(args, sizeof args,
             "gallery search --gallery %s --probes %s --k 4 --threshold 0.9999 "
             "--out %s",
             g, p, csv);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_eq(count_lines(text), 1 + 3, "%s", text);
    free(text);
    snprintf(tmpname_buf, sizeof tmpname_buf, "ls %s | grep -q tmp", dir);
    cr_assert_neq(system(tmpname_buf), 0, "no temporary file left");
}

Test(apps_gallery, search_input_errors_exit_2)
{
    char g[128], p[128], csv[128], args[600];
    snprintf(g, sizeof g, "%s/g.h5", dir);
    snprintf(p, sizeof p, "%s/p.h5", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    make_files(g, p, 50, 130); /* probes of dimension 130 against a 128-d gallery */
    snprintf(args, sizeof args, "gallery search --gallery %s --probes %s --k 4 --out %s", g, p,
             csv);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    cr_assert(strstr(out, "dimension 130") != NULL, "%s", out);
    snprintf(args, sizeof args, "gallery search --gallery %s --probes %s --out %s", g, g, csv);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "--k is required") != NULL, "%s", out);
    snprintf(args, sizeof args, "gallery search --gallery %s --probes %s --k 0 --out %s", g, g,
             csv);
    cr_assert_eq(bxsim(args), 2);
    snprintf(args, sizeof args,
             "gallery search --gallery %s --probes %s --k 3 --fast --exact "
             "--out %s",
             g, g, csv);
    cr_assert_eq(bxsim(args), 2);
    write_file(p, "not hdf5");
    snprintf(args, sizeof args, "gallery search --gallery %s --probes %s --k 3 --out %s", g, p,
             csv);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, p) != NULL && strstr(out, "not an HDF5 file") != NULL, "%s", out);
    cr_assert_not(exists(csv), "nothing written on bad input");
    cr_assert_eq(bxsim("gallery frob"), 2);
}

/* Other tools read and write the format: h5py (Debian's python3-h5py, installed by deps.sh). */
Test(apps_gallery, h5py_reads_bxsim_files_and_bxsim_reads_h5py_files)
{
    if (access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null") != 0)
        cr_skip_test("Debian's python3-h5py is not installed");
    char g[128], p[128], py[128], cmd[2048];
    snprintf(g, sizeof g, "%s/g.h5", dir);
    snprintf(p, sizeof p, "%s/p.h5", dir);
    snprintf(py, sizeof py, "%s/py.h5", dir);
    make_files(g, p, 64, 128);
    /* h5py checks what bxsim wrote, then writes a gallery of its own (float32, int32 ids, a float
     * metadata column, big-endian templates to exercise type conversion). */
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 - <<'EOF'\n"
             "import h5py, numpy as np\n"
             "with h5py.File('%s') as f:\n"
             "    T = f['/templates'][...]; ids = f['/subject_id'][...]\n"
             "    assert T.shape == (64, 128) and T.dtype == np.float32, (T.shape, T.dtype)\n"
             "    assert ids.dtype == np.int64 and ids[3] == 503\n"
             "    assert f.attrs['dim'] == 128 and f.attrs['format_version'] == 1\n"
             "    assert np.allclose(np.linalg.norm(T, axis=1), 1, atol=1e-6)\n"
             "    assert set(f['/meta']) >= {'enrol_time_s', 'retain_until_s', 'retention_class'}\n"
             "rng = np.random.default_rng(1)\n"
             "with h5py.File('%s', 'w') as f:\n"
             "    f['/templates'] = rng.normal(size=(10, 128)).astype('>f4')\n"
             "    f['/subject_id'] = np.arange(10, dtype=np.int32) * 3\n"
             "    f['/meta/quality'] = np.linspace(0, 1, 10)\n"
             "    f.attrs['dim'] = 128\n"
             "    f.attrs['format_version'] = 1\n"
             "EOF",
             g, py);
    cr_assert_eq(system(cmd), 0, "h5py could not read bxsim's file or write its own");
    char args[300];
    snprintf(args, sizeof args, "gallery info %s", py);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "templates:       10") != NULL, "%s", out);
    cr_assert(strstr(out, "meta/quality") != NULL, "%s", out);
}

/* ---------------------------------------------------------------- synthetic galleries */

Test(apps_models, gallery_gen_writes_templates_with_metadata)
{
    char path[128], args[400];
    snprintf(path, sizeof path, "%s/gen.h5", dir);
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 40 --samples 3 --device mobile "
             "--quality 0.8 --age-gap-years 6 --seed 5 --threads 1 --out %s",
             path);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    struct bx_error err = {0};
    struct bx_store *g = bx_store_load_h5(path, &err);
    cr_assert_not_null(g, "%s", err.msg);
    cr_assert_eq(bx_store_rows(g), 120);
    cr_assert_eq(bx_store_dim(g), 512);
    cr_assert_eq(bx_store_subject(g, 5), 1, "rows are subject-major");
    const char *want[] = {
        "sex",   "age_years", "age_band", "region", "device", "quality", "years_since_enrolment",
        "sample"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; ++k) {
        bool found = false;
        for (size_t j = 0; j < bx_store_columns(g); ++j) {
            const char *name;
            const double *v = bx_store_column(g, j, &name, NULL);
            if (strcmp(name, want[k]) != 0)
                continue;
            found = true;
            if (strcmp(name, "device") == 0) {
                cr_assert_eq(v[0], 0, "sample 0 is the document photo");
                cr_assert_eq(v[1], 3, "then the mobile unit");
            }
            if (strcmp(name, "years_since_enrolment") == 0)
                cr_assert(v[0] == 0 && v[2] == 6);
        }
        cr_assert(found, "/meta/%s missing", want[k]);
    }
    /* Same seed, same templates, whatever the thread count. */
    char again[128];
    snprintf(again, sizeof again, "%s/gen2.h5", dir);
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 40 --samples 3 --device mobile "
             "--quality 0.8 --age-gap-years 6 --seed 5 --threads 3 --out %s",
             again);
    cr_assert_eq(bxsim(args), 0);
    struct bx_store *h = bx_store_load_h5(again, &err);
    for (size_t r = 0; r < 120; ++r)
        cr_assert_eq(memcmp(bx_store_row(g, r), bx_store_row(h, r), 512 * sizeof(float)), 0,
                     "row %zu", r);
    bx_store_free(h);
    /* The file records how it was made. */
    const char *prov = bx_store_provenance(g);
    cr_assert_not_null(prov);
    json_t *pj = json_loads(prov, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(pj, "profile")), "visa-best");
    cr_assert_eq(json_integer_value(json_object_get(pj, "seed")), 5);
    cr_assert_eq(json_integer_value(json_object_get(pj, "samples")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(pj, "device")), "mobile");
    json_decref(pj);
    snprintf(args, sizeof args, "gallery info %s", path);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "provenance/profile visa-best") && strstr(out, "provenance/seed   5"),
              "%s", out);
    /* Probes only: the captures alone, each the same template as in the full file. */
    char probes[128];
    snprintf(probes, sizeof probes, "%s/probes.h5", dir);
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 40 --samples 3 --device mobile "
             "--quality 0.8 --age-gap-years 6 --seed 5 --probes-only --out %s",
             probes);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    struct bx_store *pr = bx_store_load_h5(probes, &err);
    cr_assert_not_null(pr, "%s", err.msg);
    cr_assert_eq(bx_store_rows(pr), 80, "two captures of each of 40 subjects");
    for (size_t r = 0; r < 80; ++r) {
        size_t full = r / 2 * 3 + 1 + r % 2; /* subject r/2, sample 1 + r%2 */
        cr_assert_eq(memcmp(bx_store_row(pr, r), bx_store_row(g, full), 512 * sizeof(float)), 0,
                     "probe row %zu is full row %zu", r, full);
        cr_assert_eq(bx_store_subject(pr, r), bx_store_subject(g, full));
    }
    cr_assert(strstr(bx_store_provenance(pr), "\"probes_only\":true") != NULL, "%s",
              bx_store_provenance(pr));
    bx_store_free(pr);
    bx_store_free(g);
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 4 --samples 1 --probes-only --out %s",
             probes);
    cr_assert_eq(bxsim(args), 2, "one sample is only the document photo: %s", out);
    cr_assert(strstr(out, "--probes-only") != NULL, "%s", out);
    cr_assert_eq(bxsim("gallery gen --profile nope --subjects 3 --out /tmp/x.h5"), 2);
    cr_assert_eq(bxsim("gallery gen --profile visa-best --subjects 3 --device drone --out x.h5"),
                 2);
    cr_assert(strstr(out, "unknown device 'drone'") != NULL, "%s", out);
}

Test(apps_models, gallery_profiles_lists_targets_and_achieved_figures)
{
    cr_assert_eq(bxsim("gallery profiles --json"), 0, "%s", out);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", jerr.text, out);
    cr_assert_geq(json_array_size(root), 2);
    json_t *best = json_array_get(root, 0);
    cr_assert_str_eq(json_string_value(json_object_get(best, "name")), "visa-best");
    json_t *t1 = json_array_get(json_object_get(best, "targets"), 0);
    cr_assert_eq(json_real_value(json_object_get(t1, "target")), 0.0025);
    cr_assert(json_is_real(json_object_get(t1, "achieved")));
    json_decref(root);
}

/* The profile's published targets, reproduced by generating templates and scoring them with
 * the matcher (3000 subjects: 9 million impostor comparisons per target and seed) on 4 seeds the
 * fit did not use (it used the profile's seed and the 5 after it): the fitted parameters hold
 * for the model, not for the draws they were fitted on. */
static void reproduces_targets(const char *profile)
{
    char args[160];
    snprintf(args, sizeof args,
             "calibrate --profile %s --subjects 3000 --seeds 4 --first-seed 90001 --json", profile);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", jerr.text, out);
    cr_assert_eq(json_integer_value(json_object_get(root, "first_seed")), 90001);
    cr_assert_eq(json_integer_value(json_object_get(root, "seeds")), 4);
    json_t *targets = json_object_get(root, "targets");
    cr_assert_geq(json_array_size(targets), 4);
    for (size_t i = 0; i < json_array_size(targets); ++i) {
        json_t *t = json_array_get(targets, i);
        cr_assert(json_is_true(json_object_get(t, "within_tolerance")),
                  "%s: achieved %g for target %g", json_string_value(json_object_get(t, "name")),
                  json_real_value(json_object_get(t, "achieved")),
                  json_real_value(json_object_get(t, "target")));
    }
    json_decref(root);
}

Test(apps_models, visa_best_reproduces_its_targets_within_tolerance, .timeout = 300)
{
    reproduces_targets("visa-best");
}

Test(apps_models, visa_median_reproduces_its_targets_within_tolerance, .timeout = 300)
{
    reproduces_targets("visa-median");
}

/* ---------------------------------------------------------------- operational calibration */

/* Run a library scenario and return its summary.json's `operations`. */
static json_t *operations_of(const char *scenario, const char *out_name)
{
    char args[1024], path[512];
    snprintf(args, sizeof args, "run %s/scenarios/%s --out %s/%s --threads 2", BX_SOURCE_DIR,
             scenario, dir, out_name);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, out_name);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    return root;
}

/* The interval [lo, hi] of a share across replications. */
static void across(json_t *ops, const char *name, double *v, double *lo, double *hi)
{
    json_t *x = json_object_get(json_object_get(ops, name), "across_replications");
    *v = json_real_value(json_object_get(x, "value"));
    *lo = json_real_value(json_array_get(json_object_get(x, "ci95"), 0));
    *hi = json_real_value(json_array_get(json_object_get(x, "ci95"), 1));
}

/* GAO-20-568 (2019 air exit): about 80% of in-scope travellers photographed, about 98% of them
 * matched. scenarios/air-exit-2019.yaml's documented parameter set must reproduce both: each
 * published figure inside the Student-t interval across the scenario's 4 replications (outages
 * cluster by gate and hour, so the pooled binomial interval would be too narrow), and the point
 * estimates near them. */
Test(apps_operations, air_exit_2019_reproduces_gao_capture_and_match_rates, .timeout = 300)
{
    json_t *root = operations_of("air-exit-2019.yaml", "ae19");
    json_t *ops = json_object_get(root, "operations");
    double v, lo, hi;
    across(ops, "capture_rate", &v, &lo, &hi);
    cr_assert(lo <= 0.80 && 0.80 <= hi && fabs(v - 0.80) < 0.03, "capture %g [%g, %g], GAO 80%%", v,
              lo, hi);
    across(ops, "match_rate", &v, &lo, &hi);
    cr_assert(lo <= 0.98 && 0.98 <= hi && fabs(v - 0.98) < 0.005, "match %g [%g, %g], GAO 98%%", v,
              lo, hi);
    /* Every named cause contributes: outages, exclusions, failed captures. */
    json_t *np = json_object_get(ops, "not_photographed");
    cr_assert_gt(json_integer_value(json_object_get(np, "no_working_camera")), 0);
    cr_assert_gt(json_integer_value(json_object_get(np, "excluded_by_staff")), 0);
    cr_assert_gt(json_integer_value(json_object_get(np, "failed_to_acquire")), 0);
    json_decref(root);
}

/* CBP: 97-98% of photographed travellers match (no-match 2-3%), land pedestrians included.
 * scenarios/land-pedestrian-exit.yaml must land inside that range: its interval across
 * replications overlaps [0.97, 0.98] and its point estimate lies in it. */
Test(apps_operations, land_pedestrians_reproduce_cbp_match_rate, .timeout = 300)
{
    json_t *root = operations_of("land-pedestrian-exit.yaml", "lpe");
    json_t *ops = json_object_get(root, "operations");
    double v, lo, hi;
    across(ops, "match_rate", &v, &lo, &hi);
    cr_assert(v >= 0.97 && v <= 0.98 && lo <= 0.98 && hi >= 0.97, "match %g [%g, %g], CBP 97-98%%",
              v, lo, hi);
    json_decref(root);
}

/* ---------------------------------------------------------------- kind: ports */

static const char small_ports[] =
    "name: small-ports\nkind: ports\nseed: 9\nreplications: 2\nhorizon: {hours: 24}\n"
    "profile: visa-best\nwatchlist_size: 200\ncalibration_subjects: 400\n"
    "ports:\n"
    "  - {name: gateway, type: air, departures: {per_day: 12}, passengers: 60, gates: 4,\n"
    "     population: {impostor_rate: 0.02, watchlist_rate: 0.02, overstay_rate: 0.05}}\n"
    "  - {name: cruise, type: sea, departures: {per_day: 1, first_hour: 14, last_hour: 18},\n"
    "     passengers: 400}\n"
    "  - {name: fbo, type: private, departures: {per_day: 6}}\n";

Test(apps_ports, multi_day_plots_have_dated_axes_distinct_series_and_say_when_empty)
{
    /* Ten private ports over three days from 2026-03-01: more series than gnuplot's 8 colours,
     * hours too many to label one by one, and (quiet airfields) no queue at any hour. */
    char yaml[128], args[512], path[192];
    snprintf(yaml, sizeof yaml, "%s/many.yaml", dir);
    FILE *f = fopen(yaml, "w");
    cr_assert_not_null(f);
    fputs("name: many\nkind: ports\nseed: 3\nreplications: 2\nstart_date: 2026-03-01\n"
          "horizon: {hours: 72}\nprofile: visa-best\nwatchlist_size: 50\n"
          "calibration_subjects: 300\nports:\n",
          f);
    for (int i = 0; i < 10; ++i)
        fprintf(f, "  - {name: fbo_%d, type: private, departures: {per_day: 2}}\n", i);
    fclose(f);
    snprintf(args, sizeof args, "run %s --out %s/many --quiet", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    size_t len;
    snprintf(path, sizeof path, "%s/many/plots/queue_private.dat", dir);
    char *dat = slurp(path, &len);
    /* x: seconds since 1970 of each hour (2026-03-01 = day 20513) */
    cr_assert(strstr(dat, "\n1772323200 ") != NULL && strstr(dat, "\n1772326800 ") != NULL,
              "%.300s", dat);
    free(dat);
    snprintf(path, sizeof path, "%s/many/plots/queue_private.gp", dir);
    char *gp = slurp(path, &len);
    cr_assert(strstr(gp, "set xdata time") && strstr(gp, "set xtics 1*86400"), "%s", gp);
    cr_assert(strstr(gp, "by hour: private ports") != NULL, "no 'over the day': %s", gp);
    /* ten series, ten different linetypes, and those linetypes ten different colours */
    cr_assert(strstr(gp, "lt 10 title") != NULL, "%s", gp);
    cr_assert(strstr(gp, "set linetype 9 lc rgb '#bcbd22'") &&
                  strstr(gp, "set linetype 10 lc rgb '#17becf'") &&
                  strstr(gp, "set linetype 11 lc rgb '#1f77b4' dt 2"),
              "%s", gp);
    cr_assert(strstr(gp, "no queue at any hour") != NULL, "%s", gp);
    free(gp);
    snprintf(path, sizeof path, "%s/many/plots/gnuplot.log", dir);
    if (exists(path)) { /* gnuplot had nothing to complain about (no empty ranges) */
        char *log = slurp(path, &len);
        cr_assert(strstr(log, "empty") == NULL, "%s", log);
        free(log);
    }
    /* the same without a start date: days from the start */
    char *text = slurp(yaml, &len), *sd = strstr(text, "start_date: 2026-03-01\n");
    cr_assert_not_null(sd);
    memmove(sd, sd + 23, strlen(sd + 23) + 1);
    write_file(yaml, text);
    free(text);
    snprintf(args, sizeof args, "run %s --out %s/many2 --quiet", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/many2/plots/throughput_private.gp", dir);
    gp = slurp(path, &len);
    cr_assert(strstr(gp, "set xlabel 'days from the start'") && strstr(gp, "set xrange [0:3]") &&
                  strstr(gp, "xdata time") == NULL,
              "%s", gp);
    free(gp);
}

Test(apps_ports, a_ports_run_writes_the_documented_summary)
{
    char yaml[128], args[512], path[160];
    snprintf(yaml, sizeof yaml, "%s/ports.yaml", dir);
    write_file(yaml, small_ports);
    snprintf(args, sizeof args, "run %s --out %s/p1 --threads 1 --reproducible", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/p1/summary.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_assert_str_eq(json_string_value(json_object_get(root, "kind")), "ports");
    json_t *ports = json_object_get(root, "ports");
    cr_assert_eq(json_array_size(ports), 3);
    const char *types[] = {"air", "sea", "private"};
    for (size_t i = 0; i < 3; ++i) {
        json_t *p = json_array_get(ports, i);
        cr_assert_str_eq(json_string_value(json_object_get(p, "type")), types[i]);
        cr_assert_gt(json_integer_value(json_object_get(p, "travelers")), 0);
        double v;
        cr_assert_eq(json_unpack(json_object_get(p, "wait_s"), "{s:{s:F}}", "p95", "value", &v), 0);
        /* Intervals stay within what the quantity can take and contain the estimate. */
        const char *fig[] = {"mean", "p95", "p99"};
        for (size_t k = 0; k < 3; ++k) {
            json_t *ci =
                json_object_get(json_object_get(json_object_get(p, "wait_s"), fig[k]), "ci95");
            double val = json_real_value(
                json_object_get(json_object_get(json_object_get(p, "wait_s"), fig[k]), "value"));
            if (json_is_array(ci)) {
                double lo = json_real_value(json_array_get(ci, 0)),
                       hi = json_real_value(json_array_get(ci, 1));
                cr_assert(lo >= 0 && lo <= val && val <= hi, "%s wait %s: %g in [%g, %g]", types[i],
                          fig[k], val, lo, hi);
            }
        }
        json_t *uc =
            json_object_get(json_object_get(json_object_get(p, "utilization"), "cameras"), "ci95");
        if (json_is_array(uc))
            cr_assert(json_real_value(json_array_get(uc, 0)) >= 0 &&
                      json_real_value(json_array_get(uc, 1)) <= 1);
    }
    json_t *m = json_object_get(root, "matching");
    const char *rates[] = {"fnmr", "fmr", "fpir", "fnir", "fta"};
    for (size_t i = 0; i < 5; ++i) {
        json_t *r = json_object_get(m, rates[i]);
        cr_assert(json_is_integer(json_object_get(r, "errors")) &&
                      json_is_integer(json_object_get(r, "trials")),
                  "%s", rates[i]);
        /* Every rate with trials has its exact interval around the estimate. */
        if (json_integer_value(json_object_get(r, "trials")) > 0) {
            json_t *ci = json_object_get(r, "ci95");
            double val = json_real_value(json_object_get(r, "value"));
            cr_assert(json_is_array(ci), "%s has trials but no interval", rates[i]);
            cr_assert(json_real_value(json_array_get(ci, 0)) <= val &&
                          val <= json_real_value(json_array_get(ci, 1)),
                      "%s", rates[i]);
        }
    }
    json_t *o = json_object_get(root, "outcomes");
    cr_assert_eq(json_integer_value(json_object_get(o, "conservation_violations")), 0);
    json_int_t imp = json_integer_value(json_object_get(json_object_get(o, "impostors"), "actual"));
    cr_assert_gt(imp, 0);
    json_t *ret = json_object_get(root, "retention");
    cr_assert_float_eq(json_real_value(json_object_get(ret, "citizen_max_retained_h")), 12.0, 1e-6);
    cr_assert_gt(json_integer_value(json_object_get(ret, "noncitizen_records")), 0);
    json_decref(root);
    /* Same seed, 2 threads: byte-identical. */
    snprintf(args, sizeof args, "run %s --out %s/p2 --threads 2 --reproducible --quiet", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/p1/summary.json", dir);
    snprintf(b, sizeof b, "%s/p2/summary.json", dir);
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    cr_assert(la == lb && memcmp(x, y, la) == 0, "summary differs between 1 and 2 threads");
    free(x);
    free(y);
    snprintf(args, sizeof args, "validate %s", yaml);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "3 ports") != NULL, "%s", out);
    /* An unknown profile is bad input, found by validate and by run, and nothing is written. */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/badprof.yaml", dir);
    char *text = strdup(small_ports);
    char *pos = strstr(text, "visa-best");
    memcpy(pos, "visa-bust", 9);
    write_file(bad, text);
    free(text);
    snprintf(args, sizeof args, "validate %s", bad);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    cr_assert(strstr(out, "profile 'visa-bust'") != NULL, "%s", out);
    snprintf(args, sizeof args, "run %s --out %s/p3", bad, dir);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    snprintf(args, sizeof args, "%s/p3", dir);
    cr_assert_not(exists(args));

    /* results.h5: every documented dataset with its units, and samples that agree with the
     * summary's trial counts. */
    char h5[160];
    snprintf(h5, sizeof h5, "%s/p1/results.h5", dir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "results.h5 missing");
    const char *sets[] = {"/ports/gateway/hourly/arrivals",
                          "/ports/gateway/hourly/mean_wait_s",
                          "/ports/cruise/hourly/queue",
                          "/ports/fbo/hourly/capacity",
                          "/ports/fbo/wait_quantiles_s",
                          "/matching/verify_score",
                          "/matching/mated",
                          "/matching/citizenship"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; ++i) {
        hid_t d = H5Dopen2(f, sets[i], H5P_DEFAULT);
        cr_assert_geq(d, 0, "%s missing", sets[i]);
        cr_assert_gt(H5Aexists(d, "units"), 0, "%s has no units", sets[i]);
        H5Dclose(d);
    }
    hid_t d = H5Dopen2(f, "/matching/mated", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(d);
    json_t *root2 = json_load_file(a, 0, &jerr);
    json_t *mm = json_object_get(root2, "matching");
    json_int_t trials = json_integer_value(json_object_get(json_object_get(mm, "fnmr"), "trials")) +
                        json_integer_value(json_object_get(json_object_get(mm, "fmr"), "trials"));
    cr_assert_eq((json_int_t)n, trials, "one sample per matched traveller");
    json_decref(root2);
    cr_assert_gt(H5Aexists(f, "format_version"), 0);
    H5Fclose(f);
}

Test(apps_ports, a_run_without_gnuplot_on_path_succeeds_and_says_so_once)
{
    char yaml[128], cmd[2048], path[192];
    snprintf(yaml, sizeof yaml, "%s/ports.yaml", dir);
    write_file(yaml, small_ports);
    snprintf(cmd, sizeof cmd, "run %s --out %s/ng --quiet", yaml, dir);
    cr_assert_eq(bxsim_env("PATH=/nonexistent-bx", cmd), 0, "%s", out);
    const char *first = strstr(out, "plots skipped");
    cr_assert_not_null(first, "%s", out);
    cr_assert_null(strstr(first + 1, "plots skipped"), "said more than once: %s", out);
    const char *files[] = {"summary.json", "results.h5", "report.html", "plots/det.gp",
                           "plots/det.dat"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; ++i) {
        snprintf(path, sizeof path, "%s/ng/%s", dir, files[i]);
        cr_assert(exists(path), "%s missing", files[i]);
    }
    snprintf(path, sizeof path, "%s/ng/plots/det.png", dir);
    cr_assert_not(exists(path));
    /* With gnuplot back on PATH, `bxsim report` draws them from results.h5. */
    snprintf(cmd, sizeof cmd, "report %s/ng", dir);
    cr_assert_eq(bxsim(cmd), 0, "%s", out);
    cr_assert(exists(path), "%s", out);
    cr_assert_eq(bxsim("report /nonexistent-bx-dir"), 2, "%s", out);
    cr_assert(strstr(out, "results.h5") != NULL, "%s", out);
}

/* Run "bxsim ARGS" under a pseudo-terminal (util-linux script), with ENV before it. */
static void bxsim_tty(const char *env, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s script -qec \"'%s' %s >/dev/null\" /dev/null",
             BX_SOURCE_DIR, env, BXSIM_EXE, args);
    run_shell(cmd);
}

Test(apps_ports, progress_bar_only_on_a_terminal_without_quiet_and_colour_only_without_no_color)
{
    char yaml[128], args[512];
    snprintf(yaml, sizeof yaml, "%s/ports.yaml", dir);
    write_file(yaml, small_ports);
    snprintf(args, sizeof args, "run %s --out %s/pb --threads 2", yaml, dir);
    bxsim_tty("NO_COLOR= TERM=xterm", args);
    cr_assert(strstr(out, "2/2 replications, 100%") != NULL, "%s", out);
    cr_assert(strstr(out, " left") != NULL, "an estimate of the time left: %s", out);
    cr_assert(strstr(out, "\033[32m") != NULL, "colour on a terminal");
    bxsim_tty("NO_COLOR=1", args);
    cr_assert(strstr(out, "2/2 replications") != NULL, "%s", out);
    cr_assert(strstr(out, "\033[") == NULL, "NO_COLOR: no escape sequences");
    snprintf(args, sizeof args, "run %s --out %s/pb --threads 2 --quiet", yaml, dir);
    bxsim_tty("", args);
    cr_assert(strstr(out, "replications,") == NULL, "--quiet: %s", out);
    /* Not a terminal (a pipe, as in CI logs): no bar. */
    snprintf(args, sizeof args, "run %s --out %s/pb --threads 2", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "replications,") == NULL, "%s", out);
}

Test(apps_cli, a_network_run_writes_a_report_page_with_its_plot)
{
    char args[512], path[192];
    snprintf(args, sizeof args, "run scenarios/tandem.yaml --out %s/net --replications 3 --quiet",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    const char *files[] = {"report.html", "plots/station_waits.gp", "plots/station_waits.png",
                           "plots/station_waits.svg"};
    for (size_t i = 0; i < 4; ++i) {
        snprintf(path, sizeof path, "%s/net/%s", dir, files[i]);
        cr_assert(exists(path), "%s missing", files[i]);
    }
    snprintf(args, sizeof args,
             "/usr/bin/python3 -c \"import xml.dom.minidom as m, sys; d = m.parse('%s/net/"
             "report.html'); print(len(d.getElementsByTagName('tr')))\"",
             dir);
    cr_assert_eq(run_shell(args), 0, "report.html is not well-formed XHTML: %s", out);
    cr_assert_geq(atoi(out), 4, "station rows and the system table");
    /* `bxsim report` rebuilds it from summary.json. */
    snprintf(path, sizeof path, "%s/net/report.html", dir);
    unlink(path);
    snprintf(args, sizeof args, "report %s/net", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(exists(path));
}

/* ---------------------------------------------------------------- bxsim audit */

Test(apps_cli, audit_writes_the_documented_audit_json_and_rejects_bad_input)
{
    char csv[128], args[512], path[160];
    snprintf(csv, sizeof csv, "%s/scores.csv", dir);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("probe_subject,reference_subject,score,region\n", f);
    for (int s = 0; s < 300; ++s) {
        fprintf(f, "p%d,p%d,%.4f,%s\n", s, s, 0.25 + 0.001 * (s % 200), s % 2 ? "a" : "b");
        for (int k = 1; k <= 20; ++k)
            fprintf(f, "p%d,p%d,%.4f,%s\n", s, (s + k) % 300, 0.0001 * ((s * 31 + k * 17) % 4000),
                    s % 2 ? "a" : "b");
    }
    fclose(f);
    snprintf(args, sizeof args,
             "audit --scores %s --at-fmr 0.001 --claim-fmr 0.001 --bootstrap 200 --out %s/au", csv,
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "claim  fmr < 0.001") != NULL, "%s", out);
    snprintf(path, sizeof path, "%s/au/audit.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_assert(json_is_number(json_object_get(root, "threshold")));
    /* The DET's points carry each rate's exact interval (the plot's band), around the rate. */
    json_t *det = json_object_get(root, "det");
    cr_assert_geq(json_array_size(det), 2);
    for (size_t i = 0; i < json_array_size(det); ++i) {
        json_t *pt = json_array_get(det, i);
        const char *k[2][2] = {{"fmr", "fmr_ci"}, {"fnmr", "fnmr_ci"}};
        for (int j = 0; j < 2; ++j) {
            double v = json_number_value(json_object_get(pt, k[j][0]));
            json_t *ci = json_object_get(pt, k[j][1]);
            cr_assert(json_is_array(ci), "det[%zu].%s", i, k[j][1]);
            cr_assert(json_number_value(json_array_get(ci, 0)) <= v &&
                          v <= json_number_value(json_array_get(ci, 1)),
                      "det[%zu].%s", i, k[j][1]);
        }
    }
    /* The DET plot draws the band and the operating point (its own data block). */
    snprintf(path, sizeof path, "%s/au/audit_plots/audit_det.gp", dir);
    size_t glen;
    char *gp = slurp(path, &glen);
    cr_assert(strstr(gp, "filledcurves") && strstr(gp, "xyerrorbars") &&
                  strstr(gp, "operating point (threshold "),
              "%s", gp);
    free(gp);
    snprintf(path, sizeof path, "%s/au/audit_plots/audit_det.dat", dir);
    char *dat = slurp(path, &glen);
    cr_assert(strstr(dat, "\n\n\n# operating point") != NULL, "%s", dat);
    free(dat);
    snprintf(path, sizeof path, "%s/au/audit.json", dir);
    const char *rates[] = {"fmr", "fnmr"};
    for (int i = 0; i < 2; ++i) {
        json_t *r = json_object_get(root, rates[i]);
        cr_assert(json_is_number(json_object_get(r, "value")) &&
                      json_is_array(json_object_get(r, "ci95")) &&
                      json_is_integer(json_object_get(r, "errors")) &&
                      json_is_integer(json_object_get(r, "trials")),
                  "%s", rates[i]);
    }
    cr_assert(json_is_number(json_object_get(json_object_get(root, "eer"), "value")));
    cr_assert_not_null(json_object_get(json_object_get(root, "fnmr_at_fmr"), "0.001"));
    json_t *claim = json_object_get(root, "claim");
    const char *verdict = json_string_value(json_object_get(claim, "verdict"));
    cr_assert(verdict && json_is_string(json_object_get(claim, "explanation")));
    /* trials needed only where more data would help */
    cr_assert(json_is_integer(json_object_get(claim, "trials_needed")) ||
              json_is_null(json_object_get(claim, "trials_needed")));
    if (strcmp(verdict, "not enough data") != 0)
        cr_assert(json_is_null(json_object_get(claim, "trials_needed")));
    cr_assert_eq(json_array_size(json_object_get(json_object_get(root, "groups"), "region")), 2);
    json_decref(root);
    /* The audit page: well-formed, with its DET, ROC and group plots drawn. */
    char cmd[1024];
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -c \"import os, xml.dom.minidom as m; d = m.parse('%s/au/audit.html'); "
        "s = [e.getAttribute('src') for e in d.getElementsByTagName('img')]; "
        "assert len(s) == 3, s; "
        "assert all(open(os.path.join('%s/au', x), 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n' "
        "for x in s)\"",
        dir, dir);
    cr_assert_eq(system(cmd), 0, "audit.html or its images");
    /* its own title, links to every section it has, each link's target on the page, groups
     * with their trials, highest FMR first */
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import re, xml.dom.minidom as m; p = '%s/au/audit.html'; "
             "d = m.parse(p); t = d.getElementsByTagName('title')[0].firstChild.data; "
             "assert t.startswith('bxsim audit: '), t; "
             "ids = set(e.getAttribute('id') for e in d.getElementsByTagName('h2')); "
             "links = [a.getAttribute('href') for n in d.getElementsByTagName('nav') for a in "
             "n.getElementsByTagName('a')]; assert len(links) >= 5, links; "
             "assert all(h[1:] in ids for h in links), (links, ids); "
             "rows = [[c.firstChild.data for c in r.getElementsByTagName('td')] for r in "
             "d.getElementsByTagName('tr')]; g = [r for r in rows if len(r) == 9]; "
             "assert len(g) == 2 and ' / ' in g[0][2], g; "
             "assert float(g[0][1]) >= float(g[1][1]), g\"",
             dir);
    cr_assert_eq(system(cmd), 0, "audit.html's title, navigation or groups");
    /* --json prints the same object. */
    snprintf(args, sizeof args, "audit --scores %s --json --bootstrap 0", csv);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_decref(root);
    /* Verdicts in words, and --fail-on for CI: ~6 false matches in 6,000 impostor trials */
    static const struct {
        const char *claim, *fail_on, *verdict, *words;
        int rc;
    } fo[] = {
        {"0.5", "unsupported", "supported", "Supported: even the highest rate", 0},
        {"1e-05", "refuted", "refuted", "Refuted: even the lowest rate", 4},
        {"1e-05", "unsupported", "refuted", "true rate is higher than claimed", 4},
        {"0.5", "refuted", "supported", "is below the claim", 0},
    };
    for (size_t i = 0; i < sizeof fo / sizeof *fo; ++i) {
        snprintf(args, sizeof args,
                 "audit --scores %s --at-fmr 0.001 --claim-fmr %s --bootstrap 0 --fail-on %s", csv,
                 fo[i].claim, fo[i].fail_on);
        cr_assert_eq(bxsim(args), fo[i].rc, "case %zu: %s", i, out);
        cr_assert(strstr(out, fo[i].verdict) != NULL && strstr(out, fo[i].words) != NULL,
                  "case %zu: %s", i, out);
    }
    cr_assert_eq(bxsim("audit --scores x.csv --fail-on sometimes"), 2, "%s", out);
    /* Bad input: exit 2 naming the option, or the file, line and column. */
    cr_assert_eq(bxsim("audit"), 2);
    snprintf(args, sizeof args, "audit --scores %s --claim-fmr 2", csv);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "--claim-fmr") != NULL, "%s", out);
    snprintf(args, sizeof args, "audit --scores %s --run %s", csv, dir);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    write_file(bad, "probe_subject,reference_subject,score\na,a,0.9\na,b,oops\n");
    snprintf(args, sizeof args, "audit --scores %s", bad);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "bad.csv:3:5: score must be a number") != NULL, "%s", out);
    snprintf(args, sizeof args, "audit --run %s/nowhere", dir);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "results.h5") != NULL, "%s", out);
}

Test(apps_ports, audit_of_a_run_and_of_template_files)
{
    char yaml[128], args[512];
    snprintf(yaml, sizeof yaml, "%s/ports.yaml", dir);
    write_file(yaml, small_ports);
    snprintf(args, sizeof args, "run %s --out %s/r --quiet", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(args, sizeof args, "audit --run %s/r --json --bootstrap 100", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *g = json_object_get(root, "groups");
    cr_assert_geq(json_array_size(json_object_get(g, "port_type")), 3, "air, sea, private");
    cr_assert_eq(json_array_size(json_object_get(g, "sex")), 2);
    cr_assert(json_is_object(json_object_get(root, "fta")), "FTA from the run's summary");
    /* Issue 16 item 3: the run is judged at its own 1:1 threshold, not at one picked from the
     * same scores; --at-fmr picks one and says that verdicts on it are optimistic; --holdout
     * picks it on other subjects. */
    char sj[160];
    snprintf(sj, sizeof sj, "%s/r/summary.json", dir);
    json_t *summary = json_load_file(sj, 0, &jerr);
    cr_assert_not_null(summary, "%s", jerr.text);
    /* Issue 16 item 1: each port has its own thresholds (air, sea and private devices differ),
     * and the audit judges each traveller at the port's own. */
    json_t *sp = json_object_get(summary, "ports");
    double v0 = json_number_value(json_object_get(
        json_object_get(json_object_get(json_array_get(sp, 0), "thresholds"), "verify"), "value"));
    bool differ = false;
    for (size_t i = 1; i < json_array_size(sp); ++i)
        differ |=
            json_number_value(json_object_get(
                json_object_get(json_object_get(json_array_get(sp, i), "thresholds"), "verify"),
                "value")) != v0;
    cr_assert(differ, "ports with different devices have different 1:1 thresholds");
    cr_assert(json_is_null(json_object_get(root, "threshold")), "no single threshold");
    cr_assert(strstr(json_string_value(json_object_get(root, "threshold_rule")),
                     "each port's own") != NULL);
    double run_thr =
        json_number_value(json_object_get(json_object_get(summary, "thresholds"), "verify"));
    cr_assert(json_is_false(json_object_get(root, "threshold_from_same_scores")));
    json_decref(summary);
    json_decref(root);
    snprintf(args, sizeof args,
             "audit --run %s/r --at-fmr 0.01 --claim-fmr 0.02 --bootstrap 0 --json", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_assert_neq(json_number_value(json_object_get(root, "threshold")), run_thr);
    cr_assert(json_is_true(json_object_get(root, "threshold_from_same_scores")));
    cr_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(root, "claims"), 0), "optimistic")));
    json_decref(root);
    snprintf(args, sizeof args, "audit --run %s/r --at-fmr 0.01 --claim-fmr 0.02 --bootstrap 0",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "optimistic") != NULL, "%s", out);
    snprintf(args, sizeof args,
             "audit --run %s/r --at-fmr 0.01 --holdout 0.5 --claim-fmr 0.02 --bootstrap 0 --json",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_assert(json_is_false(json_object_get(root, "threshold_from_same_scores")));
    json_t *ho = json_object_get(root, "holdout");
    cr_assert(json_is_object(ho));
    cr_assert_gt(json_integer_value(json_object_get(ho, "test_subjects")), 0);
    json_decref(root);
    snprintf(args, sizeof args, "audit --run %s/r --threshold 0.3 --holdout 0.5", dir);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    cr_assert(strstr(out, "--holdout") != NULL, "%s", out);
    /* Template files: a gallery of sample 0 of 400 subjects, probes of sample 1 of 500 (100
     * of them not enrolled). */
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 500 --samples 2 --out %s/all.h5", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    char cmd[1536];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import h5py; f = h5py.File('%s/all.h5', 'r'); "
             "T = f['templates'][:]; S = f['subject_id'][:]; m = f['meta/sample'][:]\n"
             "def w(n, k):\n"
             "    g = h5py.File(n, 'w'); g['templates'] = T[k]; g['subject_id'] = S[k]\n"
             "    [g.attrs.__setitem__(a, v) for a, v in f.attrs.items()]\n"
             "w('%s/g.h5', (m == 0) & (S < S.min() + 400)); w('%s/p.h5', m == 1)\"",
             dir, dir, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(args, sizeof args,
             "audit --gallery %s/g.h5 --probes %s/p.h5 --at-fmr 0.001 --rank 5 --json", dir, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *one = json_object_get(root, "one_to_n");
    cr_assert_eq(json_integer_value(json_object_get(one, "mated_searches")), 400);
    cr_assert_eq(json_integer_value(json_object_get(one, "non_mated_searches")), 100);
    cr_assert_eq(
        json_integer_value(json_object_get(json_object_get(root, "comparisons"), "genuine")), 400);
    /* FPIR of a search of 400 non-mates at the 1:1 threshold for FMR 0.001 is about
     * 1 - 0.999^400 = 0.33. */
    double fpir = json_number_value(json_object_get(json_object_get(one, "fpir"), "value"));
    cr_assert(fpir > 0.15 && fpir < 0.55, "FPIR %g", fpir);
    cr_assert(json_is_object(json_object_get(one, "rank5_miss")));
    json_decref(root);
    /* the terminal summary shows the 1:N figures too */
    snprintf(args, sizeof args, "audit --gallery %s/g.h5 --probes %s/p.h5 --at-fmr 0.001 --rank 5",
             dir, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "1:N    400 mated and 100 non-mated") && strstr(out, "FPIR ") &&
                  strstr(out, "FNIR ") && strstr(out, "rank5 "),
              "%s", out);
}

/* ---------------------------------------------------------------- bxsim size */

/* A pedestrian crossing that is an M/M/c queue: Poisson 360/h, exponential 30 s captures, no
 * failures, opt-outs or match time (Erlang C: 5 lanes for a p95 queue wait of 40 s). */
#define MMC_CROSSING(lanes)                                                                        \
    "profile: visa-best\nwatchlist_size: 100\ncalibration_subjects: 300\n"                         \
    "ports:\n  - name: walk\n    type: land\n    " lanes "\n"                                      \
    "    arrivals_per_hour: [360, 360, 360, 360, 360, 360, 360, 360, 360, 360, 360, 360, 360, "    \
    "360, 360, 360, 360, 360, 360, 360, 360, 360, 360, 360]\n"                                     \
    "    expected_gallery: {size: 300, share: 0.5}\n    match_time_s: 0\n"                         \
    "    capture: {time_mean_s: 30, time_dist: exponential, fta: 0, max_attempts: 1}\n"            \
    "    population: {opt_out: 0, impostor_rate: 0, watchlist_rate: 0}\n"

Test(apps_ports, size_writes_size_json_and_rejects_bad_options, .timeout = 300)
{
    char yaml[128], args[512], path[160];
    snprintf(yaml, sizeof yaml, "%s/mmc.yaml", dir);
    write_file(yaml, "name: mmc-size\nkind: ports\nseed: 5\nhorizon: {hours: 8}\n" MMC_CROSSING(
                         "lanes: {kind: pedestrian, count: 4}"));
    snprintf(args, sizeof args,
             "size %s --target-p95-wait 40 --resource lanes --window-hours 6 --replications 4 "
             "--out %s/sz",
             yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/sz/size.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *p = json_array_get(json_object_get(root, "ports"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "walk");
    cr_assert_str_eq(json_string_value(json_object_get(p, "resource")), "lanes");
    cr_assert_eq(json_integer_value(json_object_get(p, "level")), 5, "Erlang C: 5 lanes");
    cr_assert_eq(json_integer_value(json_object_get(p, "scenario_level")), 4,
                 "what the scenario has, beside what it needs");
    json_t *w = json_object_get(p, "p95_wait_s");
    cr_assert(json_is_number(json_object_get(w, "value")) &&
              json_is_array(json_object_get(w, "ci95")));
    cr_assert_geq(json_array_size(json_object_get(p, "curve")), 2, "the level below was tried");
    /* The approximation around the simulated levels: Erlang C at 5 lanes, 30 s exponential
     * service, at the busiest hours' measured rate (about 360/h: a = 3, C(5, 3) = 0.2362, p95 =
     * ln(C / 0.05) / (5/30 - 0.1) = 23.3 s). */
    json_t *ac = json_object_get(p, "approx_curve");
    double lam =
        json_number_value(json_object_get(json_object_get(p, "approximation"), "lambda_per_s"));
    cr_assert_float_eq(lam, 0.1, 0.005);
    double erl_b = 1, a = lam * 30;
    for (int k = 1; k <= 5; ++k)
        erl_b = a * erl_b / (k + a * erl_b);
    double erl_c = erl_b / (1 - a / 5 * (1 - erl_b)), want = log(erl_c / 0.05) / (5.0 / 30 - lam);
    cr_assert_geq(json_array_size(ac), 6, "levels either side of the simulated ones");
    bool seen5 = false;
    for (size_t k = 0; k < json_array_size(ac); ++k) {
        json_t *a = json_array_get(ac, k);
        if (json_integer_value(json_object_get(a, "level")) != 5)
            continue;
        seen5 = true;
        cr_assert_float_eq(json_number_value(json_object_get(a, "p95_wait_s")), want, 1e-6);
    }
    cr_assert(seen5);
    json_decref(root);
    /* The curve's script: the target across the whole axis (an arrow from edge to edge), the
     * approximation drawn beside the simulated levels. */
    char gp[200];
    snprintf(gp, sizeof gp, "%s/sz/size_plots/size_0_walk_lanes.gp", dir);
    size_t glen;
    char *gps = slurp(gp, &glen);
    cr_assert(strstr(gps, "set arrow from graph 0, first 40 to graph 1, first 40") != NULL, "%s",
              gps);
    cr_assert(strstr(gps, "index 1") != NULL && strstr(gps, "Allen-Cunneen") != NULL, "%s", gps);
    free(gps);
    /* The page with its capacity curve. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import xml.dom.minidom as m; d = m.parse('%s/sz/size.html'); "
             "assert len(d.getElementsByTagName('img')) == 1\"",
             dir);
    cr_assert_eq(system(cmd), 0, "size.html");
    /* Bad input. */
    snprintf(args, sizeof args, "size %s", yaml);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "--target-p95-wait") != NULL, "%s", out);
    snprintf(args, sizeof args, "size %s --target-p95-wait -3", yaml);
    cr_assert_eq(bxsim(args), 2);
    snprintf(args, sizeof args, "size %s --target-p95-wait 30 --resource drones", yaml);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "--resource") != NULL, "%s", out);
    snprintf(args, sizeof args, "size %s --target-p95-wait 30 --port nowhere", yaml);
    cr_assert_eq(bxsim(args), 2);
    cr_assert(strstr(out, "no port 'nowhere'") != NULL, "%s", out);
    snprintf(args, sizeof args, "size %s --target-p95-wait 30 --resource cameras", yaml);
    cr_assert_eq(bxsim(args), 2, "a land port has no cameras: %s", out);
    cr_assert_eq(bxsim("size scenarios/mmc-example.yaml --target-p95-wait 30"), 2,
                 "a network scenario: %s", out);
}

Test(apps_ports, size_rollout_plan_follows_the_units_as_they_arrive, .timeout = 300)
{
    char yaml[128], args[512];
    snprintf(yaml, sizeof yaml, "%s/roll.yaml", dir);
    write_file(yaml, "name: roll\nkind: ports\nseed: 5\nhorizon: {hours: 24}\n"
                     "start_date: 2026-01-01\n" MMC_CROSSING(
                         "lanes: {kind: pedestrian, count: 4, rollout: [{at_date: 2026-01-08, "
                         "count: 5}, {at_date: 2026-01-15, count: 6}]}"));
    snprintf(args, sizeof args,
             "size %s --target-p95-wait 40 --resource lanes --window-hours 20 --replications 5 "
             "--rollout-weeks 3 --json",
             yaml);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *ro = json_object_get(root, "rollout");
    cr_assert_eq(json_integer_value(json_object_get(ro, "total_needed")), 5);
    json_t *ph = json_object_get(ro, "phases");
    cr_assert_eq(json_array_size(ph), 3);
    cr_assert_float_eq(json_number_value(json_object_get(json_array_get(ph, 1), "at_hours")),
                       7 * 24.0, 1e-9);
    json_t *wk = json_object_get(json_array_get(json_object_get(ro, "ports"), 0), "weeks");
    cr_assert_eq(json_array_size(wk), 3);
    double last = BX_INF;
    for (size_t k = 0; k < 3; ++k) {
        json_t *w = json_array_get(wk, k);
        cr_assert_eq(json_integer_value(json_object_get(w, "units")), 4 + (json_int_t)k);
        double p95 = json_number_value(json_object_get(json_object_get(w, "p95_wait_s"), "value"));
        cr_assert_lt(p95, last, "week %zu: more units, shorter waits", k + 1);
        last = p95;
        /* dated from the scenario's start_date, and judged against the target */
        static const char *const dates[] = {"2026-01-01", "2026-01-08", "2026-01-15"};
        cr_assert_str_eq(json_string_value(json_object_get(w, "date")), dates[k]);
        cr_assert(json_is_boolean(json_object_get(w, "meets_target")));
    }
    cr_assert_str_eq(json_string_value(json_object_get(root, "start_date")), "2026-01-01");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ph, 1), "date")),
                     "2026-01-08");
    json_decref(root);
    /* the page: its own title and a dated weekly table; the terminal: dates and short weeks */
    snprintf(args, sizeof args,
             "size %s --target-p95-wait 40 --resource lanes --window-hours 20 --replications 5 "
             "--rollout-weeks 3 --out %s/roll",
             yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "week  2 (2026-01-08)") && strstr(out, "from 2026-01-15: 6") &&
                  strstr(out, "wrote "),
              "%s", out);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import xml.dom.minidom as m; d = m.parse('%s/roll/size.html'); "
             "t = d.getElementsByTagName('title')[0].firstChild.data; "
             "assert t.startswith('bxsim sizing: '), t; "
             "rows = [[c.firstChild.data if c.firstChild else '' for c in "
             "r.getElementsByTagName('td')] for r in d.getElementsByTagName('tr')]; "
             "w = [r for r in rows if len(r) == 6]; assert len(w) == 3, rows; "
             "assert w[1][1] == '2026-01-08' and w[1][2] == '5', w; "
             "i = [x.getAttribute('src') for x in d.getElementsByTagName('img')]; "
             "assert 'size_plots/weekly_0.png' in i, i\"",
             dir);
    cr_assert_eq(system(cmd), 0, "size.html's weekly plan and its chart");
    /* the chart's data: one dated row per week with the units in service */
    char path[200];
    snprintf(path, sizeof path, "%s/roll/size_plots/weekly_0.dat", dir);
    size_t len;
    char *dat = slurp(path, &len);
    cr_assert(strstr(dat, "\n2026-01-08 5 ") != NULL && strstr(dat, "\n2026-01-15 6 ") != NULL,
              "%s", dat);
    free(dat);
    /* On a terminal, progress while it simulates; --quiet: none. */
    snprintf(args, sizeof args,
             "size %s --target-p95-wait 40 --resource lanes --window-hours 20 --replications 2 "
             "--rollout-weeks 2 --out %s/roll2",
             yaml, dir);
    bxsim_tty("NO_COLOR=1 TERM=xterm", args);
    cr_assert(strstr(out, "port 1/1 walk: lanes ") != NULL && strstr(out, "1 port sized, 100%"),
              "%s", out);
    cr_assert(strstr(out, "week with units 4 simulated") != NULL, "%s", out);
    char qargs[600];
    snprintf(qargs, sizeof qargs, "%s --quiet", args);
    bxsim_tty("", qargs);
    cr_assert(strstr(out, "simulated,") == NULL, "--quiet: %s", out);
}

/* ---------------------------------------------------------------- bxsim bench --baseline */

/* A bench file with one figure (median m, repetitions lo..hi) and one counted rate. */
static void bench_file(const char *path, double m, double lo, double hi, long errors, long trials)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"suite\": \"t\", \"environment\": {\"cpu\": \"Test CPU\", \"cpu_features\": "
             "\"avx2\", \"compiler\": \"gcc\"}, \"results\": [\n"
             "  {\"name\": \"hold-1000\", \"unit\": \"events/s\", \"n\": 1000, \"median\": %g, "
             "\"min\": %g, \"max\": %g, \"repetitions\": [%g, %g, %g]},\n"
             "  {\"name\": \"wall\", \"unit\": \"s\", \"n\": 1, \"median\": %g, \"min\": %g, "
             "\"max\": %g, \"repetitions\": [%g, %g, %g]},\n"
             "  {\"name\": \"accuracy/fnmr\", \"unit\": \"rate\", \"n\": %ld, \"median\": %g, "
             "\"min\": 0, \"max\": 1, \"repetitions\": [0], \"errors\": %ld, \"trials\": %ld}]}\n",
             m, lo, hi, lo, m, hi, 1e7 / m, 1e7 / hi, 1e7 / lo, 1e7 / hi, 1e7 / m, 1e7 / lo, trials,
             (double)errors / (double)trials, errors, trials);
    write_file(path, text);
}

static int gate(const char *now, const char *base)
{
    char args[512];
    snprintf(args, sizeof args, "bench --results %s --baseline %s", now, base);
    return bxsim(args);
}

Test(apps_cli, bench_gate_separates_regressions_from_noise)
{
    char b[128], n[128];
    snprintf(b, sizeof b, "%s/base.json", dir);
    snprintf(n, sizeof n, "%s/now.json", dir);
    bench_file(b, 1e6, 0.98e6, 1.02e6, 2, 3000);
    /* The same figures: nothing moved. */
    cr_assert_eq(gate(b, b), 0, "%s", out);
    /* 5% slower with 2% noise: within the 10% tolerance. */
    bench_file(n, 0.95e6, 0.93e6, 0.97e6, 2, 3000);
    cr_assert_eq(gate(n, b), 0, "%s", out);
    /* 20% slower with 2% noise: a regression (the rate and the wall time both). */
    bench_file(n, 0.8e6, 0.78e6, 0.82e6, 2, 3000);
    cr_assert_eq(gate(n, b), 3, "%s", out);
    cr_assert(strstr(out, "hold-1000") && strstr(out, "REGRESSION"), "%s", out);
    /* 20% slower, but its repetitions spread +-25%: noise, not a regression. */
    bench_file(n, 0.8e6, 0.6e6, 1.0e6, 2, 3000);
    cr_assert_eq(gate(n, b), 0, "%s", out);
    /* Accuracy: 2 -> 5 errors in 3,000 is sampling noise (z ~ 1.1); 2 -> 15 a drift. */
    bench_file(n, 1e6, 0.98e6, 1.02e6, 5, 3000);
    cr_assert_eq(gate(n, b), 0, "%s", out);
    bench_file(n, 1e6, 0.98e6, 1.02e6, 15, 3000);
    cr_assert_eq(gate(n, b), 3, "%s", out);
    cr_assert(strstr(out, "accuracy/fnmr") && strstr(out, "REGRESSION"), "%s", out);
}

Test(apps_cli, bench_gate_catches_injected_slowdowns_and_drifts_but_not_noise, .timeout = 300)
{
    char base[128], acc[128], args[512];
    snprintf(base, sizeof base, "%s/kernel.json", dir);
    snprintf(acc, sizeof acc, "%s/accuracy.json", dir);
    snprintf(args, sizeof args, "bench --suite kernel --quick --repeat 3 --json %s", base);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    /* A live run against a stored one of the same build raises no alarm; an injected slowdown
     * of 10x is caught. (Tests run beside other suites on 2 cores, whose load moves these short
     * measurements by up to ~60%: hence the wide tolerance here; the default is 10%.) */
    snprintf(args, sizeof args,
             "bench --suite kernel --quick --repeat 3 --baseline %s --tolerance 0.7", base);
    for (int k = 0; k < 3; ++k)
        cr_assert_eq(bxsim(args), 0, "false alarm %d: %s", k, out);
    cr_assert_eq(bxsim_env("BX_BENCH_INJECT_SLOWDOWN=10", args), 3, "%s", out);
    cr_assert(strstr(out, "mm4-customers") && strstr(out, "REGRESSION"), "%s", out);
    /* Accuracy (counts do not depend on the load): other subjects (seeds) are sampling noise,
     * not a drift; three times the gate camera's noise is a drift. */
    snprintf(args, sizeof args, "bench --suite accuracy --quick --json %s", acc);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    for (int s = 2; s <= 4; ++s) {
        snprintf(args, sizeof args, "bench --suite accuracy --quick --seed %d --baseline %s", s,
                 acc);
        cr_assert_eq(bxsim(args), 0, "seed %d flagged: %s", s, out);
    }
    snprintf(args, sizeof args, "bench --suite accuracy --quick --seed 2 --baseline %s", acc);
    cr_assert_eq(bxsim_env("BX_BENCH_INJECT_NOISE=3", args), 3, "%s", out);
    cr_assert(strstr(out, "accuracy/fnmr-at-fmr-1e-3") != NULL, "%s", out);
    /* A bad baseline file: exit 2 with its line and column. */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    write_file(bad, "{\"results\": [\n  {\"name\": 1,,}\n]}\n");
    snprintf(args, sizeof args, "bench --suite kernel --quick --repeat 1 --baseline %s", bad);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    cr_assert(strstr(out, "bad.json:2:") != NULL, "%s", out);
}

/* A small lifecycle scenario: visitors by air, frequent crossers on foot (docs/lifecycle.md). */
#define LIFECYCLE_YAML                                                                             \
    "name: life\nkind: lifecycle\nseed: 4\nreplications: %d\nstart_date: 2026-03-01\n"             \
    "horizon: {days: 60, warmup_days: 10}\n"                                                       \
    "modes: {land_pedestrian: {gallery_size: 1500}}\n"                                             \
    "bims: {measure_sizes: [2000], measure_probes: 200}\n"                                         \
    "classes:\n"                                                                                   \
    "  - name: visitors\n    citizenship: visa_waiver\n    arrivals_per_day: {air: 40}\n"          \
    "    authorised: {dist: deterministic, value_days: 30}\n"                                      \
    "    trip: {dist: uniform, min_days: 1, max_days: 35}\n    never_leave_rate: 0.02\n"           \
    "  - name: crossers\n    citizenship: mexican_bcc\n    arrivals_per_day: {land_pedestrian: "   \
    "50}\n    authorised: {dist: deterministic, value_days: 30}\n"                                 \
    "    trip: {dist: exponential, mean_days: 3}\n    repeat_rate: 0.6\n"

Test(apps_lifecycle, a_lifecycle_run_writes_its_report_and_records_the_same_with_any_threads,
     .init = setup, .timeout = 300)
{
    char yaml[128], args[512], text[2048], a[512], b[160];
    snprintf(yaml, sizeof yaml, "%s/life.yaml", dir);
    snprintf(text, sizeof text, LIFECYCLE_YAML, 2);
    write_file(yaml, text);
    snprintf(args, sizeof args, "run %s --out %s/l1 --reproducible --records --threads 1", yaml,
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "suspected in-country") != NULL, "%s", out);
    const char *files[] = {"overstay.json", "overstay.html", "records.sqlite",
                           "overstay_plots/false_by_cause.gp"};
    for (int i = 0; i < 4; ++i) {
        snprintf(a, sizeof a, "%s/l1/%s", dir, files[i]);
        cr_assert(exists(a), "%s missing", files[i]);
    }
    snprintf(args, sizeof args, "run %s --out %s/l2 --reproducible --records --threads 2 --quiet",
             yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(a, sizeof a, "cmp -s %s/l1/overstay.json %s/l2/overstay.json", dir, dir);
    cr_assert_eq(system(a), 0, "overstay.json differs between 1 and 2 threads");
    /* the database answers what overstay.json says (replication 0) */
    snprintf(a, sizeof a,
             "sqlite3 %s/l1/records.sqlite \"SELECT count(*) FROM flags WHERE kind = "
             "'suspected_in_country' AND truth = 'false'\"",
             dir);
    cr_assert_eq(run_shell(a), 0);
    long long db = atoll(out);
    snprintf(b, sizeof b, "%s/l1/overstay.json", dir);
    json_error_t je;
    json_t *ov = json_load_file(b, 0, &je);
    cr_assert_not_null(ov, "%s", je.text);
    json_t *c0 = json_array_get(json_object_get(ov, "replication_counts"), 0);
    cr_assert_eq(db, json_integer_value(json_object_get(c0, "in_country_false")));
    cr_assert_gt(db, 0);
    json_decref(ov);
    /* bxsim report rebuilds the page from overstay.json */
    snprintf(a, sizeof a, "%s/l1/overstay.html", dir);
    cr_assert_eq(unlink(a), 0);
    snprintf(args, sizeof args, "report %s/l1", dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "overstay.html") != NULL, "%s", out);
    cr_assert(exists(a));
    /* --records is for lifecycle runs only; bad lifecycle input exits 2 at its place */
    snprintf(args, sizeof args, "run scenarios/mmc-example.yaml --out %s/x --records", dir);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    snprintf(text, sizeof text, LIFECYCLE_YAML "    exit_modes: {air: {air: 1}}\n", 1);
    write_file(yaml, text);
    snprintf(args, sizeof args, "run %s --out %s/bad", yaml, dir);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    snprintf(a, sizeof a, "%s:22:18: exit_modes: class crossers has no arrivals by air", yaml);
    cr_assert(strstr(out, a) != NULL, "expected '%s' in: %s", a, out);
    snprintf(a, sizeof a, "%s/bad", dir);
    cr_assert_not(exists(a), "no output directory for a bad scenario");
}

/* ---------------------------------------------------------------- bxsim compare */

/* Every paired difference in compare.json, as (value, lo, hi) with lo = hi = NaN when null. */
static void each_difference(json_t *cmp, void (*fn)(const char *where, json_t *d, void *ctx),
                            void *ctx)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(cmp, "system"), k, v)
        fn(k, json_object_get(v, "difference"), ctx);
    json_t *ports = json_object_get(cmp, "ports");
    for (size_t i = 0; i < json_array_size(ports); ++i)
        json_object_foreach(json_object_get(json_array_get(ports, i), "figures"), k, v)
            fn(k, json_object_get(v, "difference"), ctx);
}

static void zero_difference(const char *where, json_t *d, void *ctx)
{
    ++*(int *)ctx;
    json_t *v = json_object_get(d, "value"), *ci = json_object_get(d, "ci95");
    if (json_is_null(v))
        return; /* a figure with no value in either (no trials) */
    cr_expect_eq(json_number_value(v), 0.0, "%s differs from itself", where);
    if (json_is_array(ci))
        cr_expect(json_number_value(json_array_get(ci, 0)) == 0.0 &&
                      json_number_value(json_array_get(ci, 1)) == 0.0,
                  "%s", where);
    cr_expect(json_is_false(json_object_get(d, "significant")), "%s", where);
}

Test(apps_cli, compare_pairs_the_same_travellers_through_two_plans, .timeout = 300)
{
    char args[512], path[160];
    /* a plan against itself: every difference exactly 0 */
    snprintf(args, sizeof args,
             "compare scenarios/default.yaml scenarios/default.yaml --replications 2 --out %s/same",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/same/compare.json", dir);
    json_error_t je;
    json_t *cmp = json_load_file(path, 0, &je);
    cr_assert_not_null(cmp, "%s", je.text);
    int n = 0;
    each_difference(cmp, zero_difference, &n);
    cr_assert_geq(n, 4 * 5 + 5, "every port's figures and the system's");
    json_decref(cmp);
    snprintf(path, sizeof path, "%s/same/compare.html", dir);
    cr_assert(exists(path));
    /* a third mobile unit: waits fall, and the interval says so; inspections do not move */
    snprintf(args, sizeof args,
             "compare scenarios/crossing-2-units.yaml scenarios/crossing-3-units.yaml "
             "--replications 4 --out %s/units",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert(strstr(out, "crossing") != NULL && strstr(out, " *") != NULL, "%s", out);
    snprintf(path, sizeof path, "%s/units/compare.json", dir);
    cmp = json_load_file(path, 0, &je);
    cr_assert_not_null(cmp, "%s", je.text);
    json_t *f = json_object_get(json_array_get(json_object_get(cmp, "ports"), 0), "figures");
    json_t *d = json_object_get(json_object_get(f, "mean_wait_s"), "difference");
    json_t *ci = json_object_get(d, "ci95");
    cr_assert(json_number_value(json_object_get(d, "value")) < 0, "mean wait difference");
    cr_assert(json_is_array(ci) && json_number_value(json_array_get(ci, 1)) < 0,
              "the interval excludes 0");
    cr_assert(json_is_true(json_object_get(d, "significant")));
    json_decref(cmp);
    /* the exemptions before the 2025 rule against the rule: the same travellers, so the rule's
     * extra photographs show as more officer inspections (failed captures of people who were
     * exempt), significant at 3 replications */
    snprintf(args, sizeof args,
             "compare scenarios/crossing-pre-rule.yaml scenarios/crossing-2-units.yaml "
             "--replications 3 --out %s/rule",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/rule/compare.json", dir);
    cmp = json_load_file(path, 0, &je);
    cr_assert_not_null(cmp, "%s", je.text);
    d = json_object_get(json_object_get(json_object_get(cmp, "system"), "manual"), "difference");
    cr_assert(json_number_value(json_object_get(d, "value")) > 0 &&
                  json_is_true(json_object_get(d, "significant")),
              "manual inspections rise under the rule");
    json_decref(cmp);
    /* bad input */
    cr_assert_eq(bxsim("compare scenarios/default.yaml"), 2, "%s", out);
    cr_assert_eq(bxsim("compare scenarios/default.yaml scenarios/national-year.yaml"), 2, "%s",
                 out);
    cr_assert(strstr(out, "kind: ports") != NULL, "%s", out);
    cr_assert_eq(bxsim("compare scenarios/default.yaml scenarios/default.yaml --replications 1"), 2,
                 "%s", out);
}

/* ---------------------------------------------------------------- mpirun (bx/par.h) */

#ifdef BX_MPIRUN
TestSuite(apps_mpi, .init = setup, .timeout = 300);

/* "bxsim ARGS" under mpirun with @p np ranks (a hang would end in timeout's 124). */
static int bxsim_mpi(int np, const char *args)
{
    char pre[256];
    snprintf(pre, sizeof pre, MPI_ENV "timeout 240 %s --oversubscribe --allow-run-as-root -np %d",
             BX_MPIRUN, np);
    return bxsim_env(pre, args);
}

static bool same_file(const char *a, const char *b)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

#define RATES24                                                                                    \
    "200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, "   \
    "200, 200, 200, 200, 200, 200"

Test(apps_mpi, run_and_size_over_ranks_equal_one_process)
{
    char yaml[128], args[512], a[160], b[160];
    snprintf(yaml, sizeof yaml, "%s/mmc.yaml", dir);
    write_file(yaml, "name: mmc-mpi\nkind: ports\nseed: 9\nreplications: 5\nhorizon: {hours: "
                     "6}\n" MMC_CROSSING("lanes: {kind: pedestrian, count: 5}"));
    /* bxsim run: 5 replications over 3 ranks (2, 2, 1), gathered on rank 0. */
    snprintf(args, sizeof args, "run %s --out %s/one --reproducible --quiet", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(args, sizeof args, "run %s --out %s/three --reproducible --quiet", yaml, dir);
    cr_assert_eq(bxsim_mpi(3, args), 0, "%s", out);
    const char *files[] = {"summary.json", "report.html"};
    for (int i = 0; i < 2; ++i) {
        snprintf(a, sizeof a, "%s/one/%s", dir, files[i]);
        snprintf(b, sizeof b, "%s/three/%s", dir, files[i]);
        cr_assert(same_file(a, b), "%s differs between 1 and 3 ranks", files[i]);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "h5diff %s/one/results.h5 %s/three/results.h5", dir, dir);
    cr_assert_eq(system(cmd), 0, "results.h5 differs between 1 and 3 ranks");
    /* A network scenario (tandem: 10 replications over 2 ranks). */
    snprintf(args, sizeof args, "run scenarios/tandem.yaml --out %s/n1 --reproducible --quiet",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(args, sizeof args, "run scenarios/tandem.yaml --out %s/n2 --reproducible --quiet",
             dir);
    cr_assert_eq(bxsim_mpi(2, args), 0, "%s", out);
    snprintf(a, sizeof a, "%s/n1/summary.json", dir);
    snprintf(b, sizeof b, "%s/n2/summary.json", dir);
    cr_assert(same_file(a, b), "network summary differs between 1 and 2 ranks");
    /* bxsim size: two ports (tasks: each port's lanes, officers and weekly waits) over 2
     * ranks; then one port's lanes with its replications spread over 3 ranks. */
    char two[160];
    snprintf(two, sizeof two, "%s/two.yaml", dir);
    write_file(two, "name: two-crossings\nkind: ports\nseed: 9\nhorizon: {hours: 6}\n" MMC_CROSSING(
                        "lanes: {kind: pedestrian, count: 5}") "  - name: stroll\n    type: land\n"
                                                               "    lanes: {kind: pedestrian, "
                                                               "count: 3}\n"
                                                               "    arrivals_per_hour: [" RATES24
                                                               "]\n    expected_gallery: {size: "
                                                               "200, share: 0.5}\n");
    const char *files2[] = {two, yaml};
    const char *sz[] = {"--rollout-weeks 2", "--resource lanes --port walk"};
    int np[] = {2, 3};
    for (int i = 0; i < 2; ++i) {
        snprintf(args, sizeof args,
                 "size %s --target-p95-wait 40 --window-hours 4 --replications 3 %s --out %s/s1",
                 files2[i], sz[i], dir);
        cr_assert_eq(bxsim(args), 0, "%s", out);
        snprintf(args, sizeof args,
                 "size %s --target-p95-wait 40 --window-hours 4 --replications 3 %s --out %s/sn",
                 files2[i], sz[i], dir);
        cr_assert_eq(bxsim_mpi(np[i], args), 0, "%s", out);
        snprintf(a, sizeof a, "%s/s1/size.json", dir);
        snprintf(b, sizeof b, "%s/sn/size.json", dir);
        cr_assert(same_file(a, b), "size.json (%s) differs between 1 and %d ranks", sz[i], np[i]);
    }
}

Test(apps_mpi, a_lifecycle_run_over_ranks_equals_one_process)
{
    char yaml[128], args[512], text[2048], a[1024];
    snprintf(yaml, sizeof yaml, "%s/life.yaml", dir);
    snprintf(text, sizeof text, LIFECYCLE_YAML, 3);
    write_file(yaml, text);
    snprintf(args, sizeof args, "run %s --out %s/one --reproducible --records --quiet", yaml, dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(args, sizeof args, "run %s --out %s/two --reproducible --records --quiet", yaml, dir);
    cr_assert_eq(bxsim_mpi(2, args), 0, "%s", out);
    const char *files[] = {"overstay.json", "overstay.html"};
    for (int i = 0; i < 2; ++i) {
        char x[160], y[160];
        snprintf(x, sizeof x, "%s/one/%s", dir, files[i]);
        snprintf(y, sizeof y, "%s/two/%s", dir, files[i]);
        cr_assert(same_file(x, y), "%s differs between 1 and 2 ranks", files[i]);
    }
    /* replication 0's records travel from whichever rank ran it */
    snprintf(a, sizeof a,
             "sqlite3 %s/one/records.sqlite 'SELECT count(*) FROM exits' > %s/c1 && sqlite3 "
             "%s/two/records.sqlite 'SELECT count(*) FROM exits' > %s/c2 && cmp -s %s/c1 %s/c2",
             dir, dir, dir, dir, dir, dir);
    cr_assert_eq(system(a), 0, "records differ between 1 and 2 ranks");
}

Test(apps_mpi, sharded_gallery_search_equals_one_process_and_bad_input_exits_2)
{
    char args[512], a[160], b[160];
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 2500 --samples 1 --seed 4 --out %s/g.h5",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(args, sizeof args,
             "gallery gen --profile visa-best --subjects 100 --samples 2 --seed 5 --out %s/p.h5",
             dir);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    const char *modes[] = {"--exact", "--fast"};
    for (int m = 0; m < 2; ++m) {
        snprintf(args, sizeof args,
                 "gallery search --gallery %s/g.h5 --probes %s/p.h5 --k 7 %s --out %s/one.csv", dir,
                 dir, modes[m], dir);
        cr_assert_eq(bxsim(args), 0, "%s", out);
        snprintf(args, sizeof args,
                 "gallery search --gallery %s/g.h5 --probes %s/p.h5 --k 7 %s --out %s/three.csv",
                 dir, dir, modes[m], dir);
        cr_assert_eq(bxsim_mpi(3, args), 0, "%s", out);
        cr_assert(strstr(out, "2500 templates") && strstr(out, "sharded"), "%s", out);
        snprintf(a, sizeof a, "%s/one.csv", dir);
        snprintf(b, sizeof b, "%s/three.csv", dir);
        cr_assert(same_file(a, b), "%s hits differ between 1 and 3 ranks", modes[m]);
    }
    /* Bad input under mpirun: exit 2 with the message, no rank left waiting. */
    snprintf(args, sizeof args, "run %s/missing.yaml --out %s/x", dir, dir);
    cr_assert_eq(bxsim_mpi(2, args), 2, "%s", out);
    cr_assert(strstr(out, "missing.yaml") != NULL, "%s", out);
    snprintf(args, sizeof args,
             "gallery search --gallery %s/nothing.h5 --probes %s/p.h5 --k 3 --out %s/y.csv", dir,
             dir, dir);
    cr_assert_eq(bxsim_mpi(3, args), 2, "%s", out);
    cr_assert(strstr(out, "nothing.h5") != NULL, "%s", out);
}
#endif
