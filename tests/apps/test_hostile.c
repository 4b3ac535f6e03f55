/* SPDX-License-Identifier: MIT */
/* test_hostile.c - the bxsim command against hostile input and faults: text that would run a
 * command through gnuplot or a shell, malformed files refused with exit 2 at their real line and
 * column, outputs that are all-or-nothing on a full disk or an interrupt, and bad options found
 * before any simulation starts. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

static char dir[64];
static char out[1 << 16];

static void setup(void)
{
    strcpy(dir, "/tmp/bx-hostile-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(apps_hostile, .init = setup, .fini = teardown, .timeout = 120);

/* Run "ENV bxsim ARGS" in the test folder; its exit status, stdout and stderr in `out`. */
static int bxsim_env(const char *env, const char *args)
{
    char cmd[8192];
    cr_assert_lt(snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' %s 2>&1", dir, env, BXSIM_EXE, args),
                 (int)sizeof cmd, "command too long");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int bxsim(const char *args)
{
    return bxsim_env("", args);
}

static void write_file(const char *name, const char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fwrite(text, 1, len ? len : strlen(text), f);
    fclose(f);
}

/* True when a file named pwned* exists anywhere under the test folder. */
static bool pwned(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "find '%s' -name 'pwned*' | grep -q .", dir);
    return system(cmd) == 0;
}

/* ---------------------------------------------------------------- command injection */

Test(apps_hostile, audit_group_names_and_values_never_reach_gnuplot_as_code)
{
    char path[160];
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    /* The group column's name and values hold gnuplot code in every quoting style. */
    fputs("probe_subject,reference_subject,score,\"x'; system \"\"touch pwned1\"\"; print '\"\n",
          f);
    static const char *const values[] = {"a'; system \"touch pwned2\"; print '", "`touch pwned3`",
                                         "b\"; system 'touch pwned4'; \"",
                                         "c\nsystem \"touch pwned5\""};
    for (int s = 0; s < 200; ++s) {
        const char *v = values[s % 4];
        char q[128];
        size_t k = 0;
        for (const char *c = v; *c; ++c) {
            if (*c == '"')
                q[k++] = '"';
            q[k++] = *c;
        }
        q[k] = '\0';
        fprintf(f, "p%d,p%d,%.4f,\"%s\"\n", s, s, 0.3 + 0.001 * (s % 100), q);
        for (int j = 1; j <= 10; ++j)
            fprintf(f, "p%d,p%d,%.4f,\"%s\"\n", s, (s + j) % 200,
                    0.0001 * ((s * 31 + j * 17) % 3000), q);
    }
    fclose(f);
    cr_assert_eq(bxsim("audit --scores scores.csv --bootstrap 0 --out au"), 0, "%s", out);
    cr_assert(!pwned(), "gnuplot ran a command from the score file");
    /* The plots were drawn (not merely skipped). */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls '%s'/au/audit_plots/audit_groups_*.png | grep -q .", dir);
    cr_assert_eq(system(cmd), 0, "the group plot was drawn");
}

Test(apps_hostile, gallery_profiles_lists_a_folder_named_with_quotes_without_a_shell)
{
    char sub[256], cmd[600];
    snprintf(sub, sizeof sub, "%s/p'; touch pwned1; echo '", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp '%s/models/profiles/visa-best.yaml' \"%s/\"", BX_SOURCE_DIR, sub);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(
        bxsim_env("BX_PROFILE_PATH=\"p'; touch pwned1; echo '\"", "gallery profiles --json"), 0,
        "%s", out);
    cr_assert(strstr(out, "\"visa-best\"") != NULL, "%s", out);
    cr_assert(!pwned(), "a shell ran the folder name");
    cr_assert_eq(bxsim_env("BX_PROFILE_PATH=/nonexistent/x", "gallery profiles"), 2, "%s", out);
    cr_assert(strstr(out, "BX_PROFILE_PATH=/nonexistent/x") != NULL, "%s", out);
}

/* ---------------------------------------------------------------- score files */

struct csv_case {
    const char *text;
    const char *says; /* the start of the message: FILE:LINE:COL */
};

Test(apps_hostile, bad_score_files_are_refused_where_the_fault_is)
{
    static const struct csv_case cases[] = {
        /* a score float32 cannot hold (was +inf, a null threshold and FNMR 100%, exit 0) */
        {"probe_subject,reference_subject,score\na,a,0.9\na,b,1e300\n", "s.csv:3:5: score must"},
        {"probe_subject,reference_subject,score\na,a,-4e38\n", "s.csv:2:5: score must"},
        {"probe_subject,reference_subject,score\na,a,inf\n", "s.csv:2:5: score must"},
        /* a column named twice (the last one was used) */
        {"probe_subject,score,reference_subject,score\na,0.1,a,0.9\n",
         "s.csv:1:39: the column 'score' appears twice"},
        {"probe_subject,reference_subject,score,g,g\na,a,0.9,x,y\n",
         "s.csv:1:41: the column 'g' appears twice"},
        /* an unterminated quote, where it opens (was: at the end of the file) */
        {"probe_subject,reference_subject,score,g\na,a,0.9,x\na,b,0.1,\"open\nb,b,0.8,y\n",
         "s.csv:3:9: this quoted field is never closed"},
        {"probe_subject,reference_subject,score,g\na,a,0.9,\"say \"\"hi\"\" \n",
         "s.csv:2:9: this quoted"},
        /* a byte-order mark (was: "needs the column probe_subject") */
        {"\xef\xbb\xbfprobe_subject,reference_subject,score\na,a,0.9\n",
         "s.csv:1:1: the file starts with a UTF-8 byte-order mark"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        write_file("s.csv", cases[i].text, 0);
        cr_assert_eq(bxsim("audit --scores s.csv --bootstrap 0 --out au"), 2, "case %zu: %s", i,
                     out);
        cr_assert(strstr(out, cases[i].says) != NULL, "case %zu: expected '%s' in %s", i,
                  cases[i].says, out);
        char path[128];
        snprintf(path, sizeof path, "%s/au", dir);
        cr_assert_neq(access(path, F_OK), 0, "case %zu: nothing written", i);
    }
}

Test(apps_hostile, a_score_file_where_every_comparison_failed_is_audited)
{
    /* Every score empty or NaN (qsort was called with NULL: UBSan stopped the run). */
    write_file("s.csv", "probe_subject,reference_subject,score\na,a,\nb,b,nan\na,b,\nb,a,NaN\n", 0);
    cr_assert_eq(bxsim("audit --scores s.csv --bootstrap 50 --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"fnmr\"") != NULL, "%s", out);
}

/* ---------------------------------------------------------------- the bench gate */

/* A copy of bench/baseline.json's first run (the file holds one run per machine) changed by a
 * python expression on `b` (the run) and `r` (its results). */
static void doctored(const char *name, const char *change)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import json; b = json.load(open('%s/bench/baseline.json')); "
             "b = b['baselines'][0] if 'baselines' in b else b; "
             "r = b['results']; %s; json.dump(b, open('%s/%s', 'w'))\"",
             BX_SOURCE_DIR, change, dir, name);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(apps_hostile, a_baseline_the_gate_cannot_use_is_refused_before_measuring)
{
    /* The current run: the baseline itself with its first rate halved (a real regression). */
    doctored("now.json", "f = [x for x in r if x['unit'].endswith('/s') and 'trials' not in x][0]; "
                         "f['median'] /= 2; f['min'] /= 2; f['max'] /= 2; "
                         "f['repetitions'] = [v / 2 for v in f['repetitions']]");
    cr_assert_eq(bxsim_env("", "bench --results now.json --baseline now.json"), 0, "%s", out);
    char args[512];
    snprintf(args, sizeof args, "bench --results now.json --baseline '%s/bench/baseline.json'",
             BX_SOURCE_DIR);
    cr_assert_eq(bxsim(args), 3, "the halved rate is a regression: %s", out);
    /* Each doctored baseline would hide that regression (exit 0): now exit 2 naming the figure. */
    static const char *const bad[][2] = {
        {"f = [x for x in r if x['unit'].endswith('/s')][0]; f['median'] = str(f['median'])",
         "needs numbers"},
        {"f = [x for x in r if x['unit'].endswith('/s')][0]; f['min'] = 0; f['max'] = 1e300",
         "min <= median <= max"},
        {"f = [x for x in r if x['unit'].endswith('/s')][0]; f['min'] = f['median'] / 100; "
         "f['max'] = f['median'] * 100; f.pop('repetitions')",
         "noise band"},
        {"f = [x for x in r if x['unit'].endswith('/s')][0]; f['min'] /= 2", "repetitions"},
        {"f = [x for x in r if 'trials' in x][0]; f['trials'] = 0", "errors <= trials"},
        {"f = [x for x in r if 'trials' in x][0]; f['errors'] = f['trials'] + 1",
         "errors <= trials"},
        {"r[0].pop('name')", "needs a \"name\" string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        doctored("base.json", bad[i][0]);
        cr_assert_eq(bxsim("bench --results now.json --baseline base.json"), 2, "case %zu: %s", i,
                     out);
        cr_assert(strstr(out, "--baseline base.json: results[") != NULL, "case %zu: %s", i, out);
        cr_assert(strstr(out, bad[i][1]) != NULL, "case %zu: expected '%s' in %s", i, bad[i][1],
                  out);
        /* Refused before measuring anything (a real suite would run for minutes). */
        cr_assert_eq(bxsim("bench --suite e2e --baseline base.json --json m.json"), 2, "case %zu",
                     i);
        char path[128];
        snprintf(path, sizeof path, "%s/m.json", dir);
        cr_assert_neq(access(path, F_OK), 0);
    }
}

Test(apps_hostile, the_gate_writes_its_measurements_even_on_a_regression, .timeout = 300)
{
    /* A baseline measured on this machine (its environment) whose kernel rates are 10x this
     * machine's: every one "regresses". */
    cr_assert_eq(bxsim("bench --suite kernel --quick --repeat 1 --json here.json"), 0, "%s", out);
    char change[1024];
    snprintf(change, sizeof change,
             "[x.update(median=x['median'] * 10, min=x['min'] * 10, max=x['max'] * 10, "
             "repetitions=[v * 10 for v in x['repetitions']]) for x in r if "
             "x['name'].startswith('hold')]; b['environment'] = "
             "json.load(open('%s/here.json'))['environment']",
             dir);
    doctored("fast.json", change);
    cr_assert_eq(bxsim("bench --suite kernel --quick --baseline fast.json --json m.json"), 3, "%s",
                 out);
    char path[128];
    snprintf(path, sizeof path, "%s/m.json", dir);
    cr_assert_eq(access(path, F_OK), 0, "the measurements are written");
}

Test(apps_hostile, a_baseline_from_another_machine_is_refused_before_measuring)
{
    /* bench/baseline.json as if measured on a processor no machine has */
    doctored("other.json", "b['environment']['cpu'] = 'Imaginary CPU 9000'");
    cr_assert_eq(bxsim("bench --suite kernel --quick --repeat 1 --baseline other.json --json "
                       "m.json"),
                 2, "%s", out);
    cr_assert(strstr(out, "measured on another machine (Imaginary CPU 9000") != NULL, "%s", out);
    char path[128];
    snprintf(path, sizeof path, "%s/m.json", dir);
    cr_assert_neq(access(path, F_OK), 0, "nothing measured, nothing written");
    /* a stored run against it: refused the same way, never exit 3 */
    cr_assert_eq(bxsim("bench --suite kernel --quick --repeat 1 --json here.json"), 0, "%s", out);
    cr_assert_eq(bxsim("bench --results here.json --baseline other.json"), 2, "%s", out);
    /* a file with one run per machine: this machine's is chosen */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && /usr/bin/python3 -c \"import json; a = json.load(open('other.json')); "
             "h = json.load(open('here.json')); json.dump({'baselines': [a, h]}, "
             "open('both.json', 'w'))\"",
             dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(bxsim("bench --results here.json --baseline both.json"), 0, "%s", out);
    cr_assert_eq(bxsim("bench --suite kernel --quick --repeat 1 --baseline both.json --tolerance "
                       "5"),
                 0, "%s", out);
}

/* ---------------------------------------------------------------- outputs: all or nothing */

/* Every file under @p d (relative name and content digest), sorted, as one string. */
static char *tree_digest(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -type f | LC_ALL=C sort | xargs -r md5sum", d);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char buf[1 << 15];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    pclose(p);
    return strdup(buf);
}

/* No staging folder or temporary file anywhere under the test folder. */
static bool leftovers(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "find '%s' -name '.bxsim-stage*' -o -name '*.tmp.*' | grep -q .",
             dir);
    return system(cmd) == 0;
}

Test(apps_hostile, output_paths_are_checked_before_anything_runs)
{
    write_file("afile", "x", 0);
    /* A file where a folder is wanted: exit 2 before the run starts (it printed its start line
     * and simulated for minutes before). */
    char args[512];
    snprintf(args, sizeof args, "run '%s/scenarios/national.yaml' --out afile", BX_SOURCE_DIR);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    cr_assert(strstr(out, "--out afile: exists and is not a folder") != NULL, "%s", out);
    cr_assert(strstr(out, "replications") == NULL, "no simulation started: %s", out);
    snprintf(args, sizeof args,
             "size '%s/scenarios/default.yaml' --target-p95-wait 300 --out afile", BX_SOURCE_DIR);
    cr_assert_eq(bxsim(args), 2, "%s", out);
    cr_assert(strstr(out, "--out afile") != NULL, "%s", out);
    write_file("s.csv", "probe_subject,reference_subject,score\na,a,0.9\na,b,0.1\n", 0);
    cr_assert_eq(bxsim("audit --scores s.csv --out afile"), 2, "%s", out);
    cr_assert(strstr(out, "--out afile") != NULL, "%s", out);
    /* A folder that cannot be made, files in missing folders or where a folder is. */
    cr_assert_eq(bxsim("audit --scores s.csv --out afile/sub"), 2, "%s", out);
    cr_assert_eq(bxsim("bench --suite e2e --json nowhere/b.json"), 2, "%s", out);
    cr_assert(strstr(out, "--json nowhere/b.json: the folder 'nowhere' does not exist") != NULL,
              "%s", out);
    cr_assert_eq(bxsim("gallery gen --profile visa-best --subjects 10 --out ."), 2, "%s", out);
    cr_assert(strstr(out, "--out .: is a directory") != NULL, "%s", out);
    cr_assert_eq(bxsim("gallery search --gallery g.h5 --probes p.h5 --k 1 --out no/where.csv"), 2,
                 "%s", out);
    cr_assert(strstr(out, "--out no/where.csv") != NULL, "%s", out);
    /* Bad input leaves no empty output folder behind. */
    write_file("s.yaml", "name: x\nkind: ports\n", 0);
    cr_assert_eq(bxsim("run s.yaml --out fresh"), 2, "%s", out);
    char path[160];
    snprintf(path, sizeof path, "%s/fresh", dir);
    cr_assert_neq(access(path, F_OK), 0, "no folder made for a run that never started");
}

/* A small file system of its own (tmpfs, as root); false when this machine refuses the mount. */
static bool small_fs(const char *mnt, const char *size)
{
    char cmd[512];
    mkdir(mnt, 0755);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=%s tmpfs '%s' 2>/dev/null", size, mnt);
    return system(cmd) == 0;
}

static void unmount(const char *mnt)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "umount '%s'", mnt);
    cr_expect_eq(system(cmd), 0);
}

Test(apps_hostile, a_full_disk_fails_with_exit_1_and_keeps_the_previous_outputs, .timeout = 300)
{
    char mnt[128], args[512], o[160];
    snprintf(mnt, sizeof mnt, "%s/small", dir);
    if (!small_fs(mnt, "4m"))
        cr_skip_test("mounting a small tmpfs needs root and a mount-capable sandbox");
    snprintf(o, sizeof o, "%s/run", mnt);
    /* A good run fits (2.6 MB); the next one does not fit beside it. */
    snprintf(args, sizeof args, "run '%s/scenarios/default.yaml' --out %s --quiet", BX_SOURCE_DIR,
             o);
    int rc = bxsim(args);
    char *before = rc == 0 ? tree_digest(o) : NULL;
    snprintf(args, sizeof args, "run '%s/scenarios/default.yaml' --seed 9 --out %s --quiet",
             BX_SOURCE_DIR, o);
    int rc2 = bxsim(args);
    char *after = tree_digest(o);
    bool left = leftovers();
    /* The same on a file system too small for even one results.h5 (was a crash, exit 139). */
    unmount(mnt);
    cr_assert_eq(rc, 0, "the first run fits: %s", out);
    cr_assert_eq(rc2, 1, "a full disk is a runtime failure: %s", out);
    cr_assert(strstr(out, "no space left on the device") != NULL, "%s", out);
    cr_assert_str_eq(after, before, "the previous outputs are intact, none replaced");
    cr_assert(!left, "no staging folder or temporary file left");
    free(before);
    free(after);
    if (!small_fs(mnt, "300k"))
        cr_skip_test("second mount refused");
    snprintf(args, sizeof args, "run '%s/scenarios/default.yaml' --out %s --quiet", BX_SOURCE_DIR,
             o);
    rc = bxsim(args);
    snprintf(args, sizeof args, "%s/summary.json", o);
    bool partial = access(args, F_OK) == 0;
    left = leftovers();
    unmount(mnt);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(!partial, "no summary.json without the rest");
    cr_assert(!left, "no staging folder or temporary file left");
}

/* Start ARGS (a shell command) in the test folder; once a path matching @p pattern (relative
 * to the folder) exists, or after @p ms milliseconds when it is NULL, send @p sig. Its wait
 * status; *seen tells whether the pattern was met before the command ended. */
static int interrupted(const char *args, const char *pattern, int ms, int sig, bool *seen)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl("/bin/sh", "sh", "-c", args, (char *)NULL);
        _exit(127);
    }
    char pat[512];
    snprintf(pat, sizeof pat, "%s/%s", dir, pattern ? pattern : "");
    *seen = false;
    int st = 0;
    for (int waited = 0; waited < 120000; waited += 2) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st; /* ended by itself */
        glob_t g;
        bool found = pattern ? glob(pat, 0, NULL, &g) == 0 : waited >= ms;
        if (pattern && found)
            globfree(&g);
        if (found) {
            *seen = true;
            break;
        }
        struct timespec ts = {0, 2000000L};
        nanosleep(&ts, NULL);
    }
    kill(pid, sig);
    waitpid(pid, &st, 0);
    return st;
}

Test(apps_hostile, an_interrupted_command_leaves_no_temporary_file, .timeout = 300)
{
    char args[1024];
    /* Stopped while simulating, while writing results.h5, while drawing the plots. */
    static const char *const when[] = {NULL, "run*/.bxsim-stage*/results.h5.tmp.*",
                                       "run*/.bxsim-stage*/plots.tmp.*/*.png"};
    static const int sigs[] = {SIGINT, SIGTERM, SIGINT};
    for (int k = 0; k < 3; ++k) {
        /* exec: the signal goes to bxsim itself, not to a shell in front of it */
        snprintf(args, sizeof args,
                 "exec '%s' run '%s/scenarios/default.yaml' --out run%d --quiet --threads 2",
                 BXSIM_EXE, BX_SOURCE_DIR, k);
        bool seen;
        int st = interrupted(args, when[k], 800, sigs[k], &seen);
        cr_assert(seen, "case %d: the command ended before the moment to stop it", k);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == sigs[k], "case %d: ended by its signal", k);
        cr_assert(!leftovers(), "case %d: a temporary file or staging folder is left", k);
        char path[160];
        snprintf(path, sizeof path, "%s/run%d/summary.json", dir, k);
        cr_assert_neq(access(path, F_OK), 0, "case %d: nothing published", k);
    }
    /* gallery gen writes one large file through a temporary name. */
    bool seen;
    int st = interrupted("exec " BXSIM_EXE " gallery gen --profile visa-best --subjects 100000 "
                         "--samples 2 --out g.h5",
                         "g.h5.tmp.*", 0, SIGINT, &seen);
    cr_assert(seen && WIFSIGNALED(st), "stopped while writing");
    cr_assert(!leftovers(), "gallery gen left its temporary file");
}

/* ---------------------------------------------------------------- damaged HDF5 files */

/* A copy of @p src at @p dst with byte @p at changed by @p mask. */
static void damaged_copy(const char *src, const char *dst, long at, unsigned char mask)
{
    FILE *f = fopen(src, "rb");
    cr_assert_not_null(f, "%s", src);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (at >= 0 && at < n)
        b[at] ^= mask;
    f = fopen(dst, "wb");
    fwrite(b, 1, (size_t)n, f);
    fclose(f);
    free(b);
}

static long file_size(const char *path)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "%s", path);
    return (long)sb.st_size;
}

Test(apps_hostile, damaged_hdf5_files_are_refused_before_libhdf5_reads_them, .timeout = 300)
{
    char args[1024], src[160], dst[160];
    snprintf(args, sizeof args, "run '%s/scenarios/default.yaml' --out good --quiet",
             BX_SOURCE_DIR);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    cr_assert_eq(bxsim("gallery gen --profile visa-best --subjects 200 --samples 2 --out g.h5"), 0,
                 "%s", out);
    cr_assert_eq(bxsim("gallery gen --profile visa-best --subjects 20 --seed 4 --out p.h5"), 0,
                 "%s", out);
    snprintf(dst, sizeof dst, "%s/bad", dir);
    mkdir(dst, 0755);
    /* Bytes changed anywhere (the checksum text, HDF5's metadata at the start and the end, the
     * data) and cuts: every one refused with exit 2 naming the file (damaged results.h5 files
     * crashed libhdf5 in 4 of 150 cases, galleries 5 of 300). */
    snprintf(src, sizeof src, "%s/good/results.h5", dir);
    long n = file_size(src);
    long at[] = {3, 30, 520, 700, 1500, 3000, n / 3, n / 2, n - 4000, n - 600, n - 30, n - 1};
    for (size_t i = 0; i < sizeof at / sizeof *at; ++i) {
        snprintf(dst, sizeof dst, "%s/bad/results.h5", dir);
        damaged_copy(src, dst, at[i], 0x24);
        cr_assert_eq(bxsim("report bad --quiet"), 2, "results.h5 byte %ld: %s", at[i], out);
        cr_assert(strstr(out, "bad/results.h5") != NULL, "%s", out);
        cr_assert_eq(bxsim("audit --run bad --bootstrap 0"), 2, "byte %ld: %s", at[i], out);
    }
    snprintf(src, sizeof src, "%s/g.h5", dir);
    snprintf(dst, sizeof dst, "%s/x.h5", dir);
    n = file_size(src);
    long gat[] = {0, 40, 600, 2000, n / 2, n - 3000, n - 100, n - 1};
    for (size_t i = 0; i < sizeof gat / sizeof *gat; ++i) {
        damaged_copy(src, dst, gat[i], 0x81);
        cr_assert_eq(bxsim("gallery info x.h5"), 2, "g.h5 byte %ld: %s", gat[i], out);
        cr_assert(strstr(out, "x.h5") != NULL, "%s", out);
        cr_assert_eq(bxsim("gallery search --gallery g.h5 --probes x.h5 --k 3 --out h.csv"), 2,
                     "as probes, byte %ld: %s", gat[i], out);
    }
    /* A file cut short. */
    damaged_copy(src, dst, n - 1000, 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "truncate -s %ld '%s'", n - 1000, dst);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(bxsim("gallery info x.h5"), 2, "%s", out);
    cr_assert(strstr(out, "truncated or appended to") != NULL, "%s", out);
    /* A run folder whose summary.json is another run's: refused, not reported as one run. */
    snprintf(args, sizeof args, "run '%s/scenarios/default.yaml' --seed 8 --out other --quiet",
             BX_SOURCE_DIR);
    cr_assert_eq(bxsim(args), 0, "%s", out);
    snprintf(cmd, sizeof cmd, "cp '%s/other/summary.json' '%s/good/'", dir, dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(bxsim("report good"), 2, "%s", out);
    cr_assert(strstr(out, "come from different runs") != NULL, "%s", out);
    cr_assert_eq(bxsim("audit --run good --bootstrap 0"), 2, "%s", out);
    cr_assert(strstr(out, "come from different runs") != NULL, "%s", out);
}

Test(apps_hostile, a_template_file_claiming_more_than_it_holds_is_refused_by_name)
{
    /* An h5py file (no checksum) whose /templates claims 10^12 rows: HDF5 allocates no storage
     * for unwritten chunks, so the file is small. bxsim must not try to allocate 2 PB. */
    if (system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0)
        cr_skip_test("Debian's python3-h5py is not installed (scripts/deps.sh installs it)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && /usr/bin/python3 -c \"import h5py; f = h5py.File('huge.h5', 'w'); "
             "f.attrs['format_version'] = 1; f.attrs['dim'] = 512; "
             "f.create_dataset('templates', shape=(10**12, 512), dtype='f4', chunks=(1, 512), "
             "compression='gzip'); f.create_dataset('subject_id', shape=(10**12,), dtype='i8', "
             "chunks=(1024,), compression='gzip'); f.close()\"",
             dir);
    cr_assert_eq(system(cmd), 0, "h5py wrote the file");
    cr_assert_eq(bxsim("gallery info huge.h5"), 2, "%s", out);
    cr_assert_eq(bxsim("gallery search --gallery huge.h5 --probes huge.h5 --k 1 --out h.csv"), 2,
                 "%s", out);
    cr_assert(strstr(out, "huge.h5") != NULL && strstr(out, "more than a file of") != NULL, "%s",
              out);
}

Test(apps_hostile, group_columns_whose_names_differ_in_punctuation_keep_their_own_plots)
{
    char path[160];
    snprintf(path, sizeof path, "%s/g.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("probe_subject,reference_subject,score,a b,a_b\n", f);
    for (int s = 0; s < 60; ++s) {
        fprintf(f, "p%d,p%d,0.%d,x,y\n", s, s, 50 + s % 40);
        for (int k = 1; k <= 3; ++k)
            fprintf(f, "p%d,p%d,0.0%d,x,y\n", s, (s + k) % 60, k);
    }
    fclose(f);
    cr_assert_eq(bxsim("audit --scores g.csv --bootstrap 0 --out au"), 0, "%s", out);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "test -s '%s/au/audit_plots/audit_groups_a_b.png' && "
             "test -s '%s/au/audit_plots/audit_groups_a_b_2.png'",
             dir, dir);
    cr_assert_eq(system(cmd), 0, "one plot per column (the second was overwriting the first)");
}
