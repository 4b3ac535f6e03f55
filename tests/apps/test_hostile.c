/* SPDX-License-Identifier: MIT */
/* test_hostile.c - the bxsim command against hostile input and faults: text that would run a
 * command through gnuplot or a shell, malformed files refused with exit 2 at their real line and
 * column, outputs that are all-or-nothing on a full disk or an interrupt, and bad options found
 * before any simulation starts. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
    cr_assert_eq(system("true"), 0);
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

/* A copy of bench/baseline.json changed by a python expression on `r` (its results). */
static void doctored(const char *name, const char *change)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import json; b = json.load(open('%s/bench/baseline.json')); "
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
    /* A baseline whose kernel rates are 10x this machine's: every one "regresses". */
    doctored("fast.json", "[x.update(median=x['median'] * 10, min=x['min'] * 10, max=x['max'] * "
                          "10, repetitions=[v * 10 for v in x['repetitions']]) for x in r if "
                          "x['name'].startswith('hold')]");
    cr_assert_eq(bxsim("bench --suite kernel --quick --baseline fast.json --json m.json"), 3, "%s",
                 out);
    char path[128];
    snprintf(path, sizeof path, "%s/m.json", dir);
    cr_assert_eq(access(path, F_OK), 0, "the measurements are written");
}
