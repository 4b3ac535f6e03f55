/* SPDX-License-Identifier: MIT */
/* test_audit.c - audit statistics against things nobody here wrote: scikit-learn's roc_curve
 * (EER, FNMR at FMR), scipy's beta quantiles (Clopper-Pearson), the figures of
 * docs/sources.md section 6.4 (rule of 3, trials needed), interval coverage by
 * simulation; and the score readers' errors, failed comparisons and bounded memory. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bx/audit.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/bx-audit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(audit, .init = setup, .fini = teardown, .timeout = 120);

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Run Debian's python3 on @p script with @p arg; its exit status, output in out. */
static int python(const char *script, const char *arg, char *out, size_t len)
{
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/check.py", dir);
    write_file(path, script);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' 2>&1", path, arg);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A score file: 400 subjects, 3 genuine and ~150 impostor comparisons each, two groups, a few
 * failed comparisons (empty scores). */
static void score_file(const char *path, unsigned seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("probe_subject,reference_subject,score,sex\n", f);
    for (int s = 0; s < 400; ++s) {
        const char *sex = s % 3 ? "m" : "f";
        for (int k = 0; k < 3; ++k)
            fprintf(f, "s%d,s%d,%.6f,%s\n", s, s, 0.55 + gsl_ran_gaussian(r, 0.12), sex);
        for (int k = 0; k < 150; ++k) {
            int o = (int)gsl_rng_uniform_int(r, 400);
            if (o != s)
                fprintf(f, "s%d,s%d,%.6f,%s\n", s, o, gsl_ran_gaussian(r, 0.1) + (s % 3 ? 0 : 0.04),
                        sex);
        }
    }
    fputs("s1,s1,,m\ns2,s7,NaN,m\n", f);
    fclose(f);
    gsl_rng_free(r);
}

static json_t *audit_file(const char *path, struct bx_audit_opts *o)
{
    struct bx_audit *a = NULL;
    struct bx_error err = {0};
    cr_assert_eq(bx_audit_read_scores(path, o, &a, &err), BX_OK, "%s", err.msg);
    json_t *res = bx_audit_finish(a, &err);
    cr_assert_not_null(res, "%s", err.msg);
    bx_audit_free(a);
    return res;
}

static double jget(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    if (b)
        x = json_object_get(x, b);
    return json_number_value(x);
}

/* scikit-learn on the same file: the EER (argmin |fpr - fnr| over roc_curve's points) and the
 * lowest FNMR among points with FPR <= target; failed genuine comparisons never match. */
static const char sklearn_py[] =
    "import csv, sys, numpy as np\n"
    "from sklearn.metrics import roc_curve\n"
    "y, s = [], []\n"
    "for r in csv.DictReader(open(sys.argv[1])):\n"
    "    y.append(r['probe_subject'] == r['reference_subject'])\n"
    "    v = r['score']\n"
    "    s.append(float(v) if v not in ('', 'NaN') else (-1e9 if y[-1] else float('nan')))\n"
    "y = np.array(y); s = np.array(s)\n"
    "keep = ~np.isnan(s)\n"
    "# failed impostor comparisons count as trials that never match: score -inf\n"
    "s[~keep] = -1e9\n"
    "s = s.astype(np.float32).astype(float)\n"
    "fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)\n"
    "fnr = 1 - tpr\n"
    "i = np.argmin(np.abs(fpr - fnr))\n"
    "print('%.12g %.12g' % ((fpr[i] + fnr[i]) / 2, thr[i]))\n"
    "for f in (1e-2, 1e-3):\n"
    "    print('%.12g' % fnr[fpr <= f].min())\n";

Test(audit, eer_and_fnmr_at_fmr_equal_scikit_learns_roc_curve)
{
    char path[128], out[1024];
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    score_file(path, 3);
    struct bx_audit_opts o = bx_audit_opts_default();
    o.bootstrap = 0;
    json_t *res = audit_file(path, &o);
    cr_assert_eq(python(sklearn_py, path, out, sizeof out), 0, "%s", out);
    double eer, thr, f2, f3;
    cr_assert_eq(sscanf(out, "%lf %lf %lf %lf", &eer, &thr, &f2, &f3), 4, "%s", out);
    json_t *e = json_object_get(res, "eer"), *at = json_object_get(res, "fnmr_at_fmr");
    cr_assert_float_eq(jget(e, "value", NULL), eer, 1e-12, "EER %g vs sklearn %g",
                       jget(e, "value", NULL), eer);
    cr_assert_float_eq(jget(e, "threshold", NULL), thr, 1e-7);
    cr_assert_float_eq(jget(at, "0.01", "value"), f2, 1e-12);
    cr_assert_float_eq(jget(at, "0.001", "value"), f3, 1e-12);
    /* 1e-6 cannot be resolved by ~60,000 impostor comparisons: null with the reason. */
    cr_assert(json_is_null(json_object_get(json_object_get(at, "1e-06"), "value")));
    cr_assert_not_null(json_object_get(json_object_get(at, "1e-06"), "reason"));
    /* Failed comparisons are counted, never dropped. */
    json_t *c = json_object_get(res, "comparisons");
    cr_assert_eq(json_integer_value(json_object_get(c, "failed_genuine")), 1);
    cr_assert_eq(json_integer_value(json_object_get(c, "failed_impostor")), 1);
    json_decref(res);
}

Test(audit, clopper_pearson_bounds_equal_scipys_beta_quantiles)
{
    static const unsigned long long cases[][2] = {{0, 3000}, {3, 3000},   {30, 30000},    {1, 10},
                                                  {7, 7},    {250, 1000}, {12, 100000000}};
    char path[128], out[4096], table[4096] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        double lo, hi;
        bx_audit_cp(cases[i][0], cases[i][1], 0.95, &lo, &hi);
        len += (size_t)snprintf(table + len, sizeof table - len,
                                "%llu %llu %.17g %.17g %.17g %.17g\n", cases[i][0], cases[i][1], lo,
                                hi, bx_audit_cp_upper(cases[i][0], cases[i][1], 0.95),
                                bx_audit_cp_lower(cases[i][0], cases[i][1], 0.90));
    }
    snprintf(path, sizeof path, "%s/cp.txt", dir);
    write_file(path, table);
    static const char py[] =
        "import sys\nfrom scipy.stats import beta\n"
        "bad = 0\n"
        "for line in open(sys.argv[1]):\n"
        "    x, n, lo, hi, up, low = line.split(); x = int(x); n = int(n)\n"
        "    ref = [beta.ppf(0.025, x, n - x + 1) if x > 0 else 0.0,\n"
        "           beta.ppf(0.975, x + 1, n - x) if x < n else 1.0,\n"
        "           beta.ppf(0.95, x + 1, n - x) if x < n else 1.0,\n"
        "           beta.ppf(0.10, x, n - x + 1) if x > 0 else 0.0]\n"
        "    for got, want in zip(map(float, (lo, hi, up, low)), ref):\n"
        "        if abs(got - want) > 1e-9 * max(abs(want), 1e-300):\n"
        "            print('x=%d n=%d: %r vs scipy %r' % (x, n, got, want)); bad += 1\n"
        "print('checked'); sys.exit(bad)\n";
    cr_assert_eq(python(py, path, out, sizeof out), 0, "%s", out);
}

Test(audit, rule_of_3_and_trials_needed_reproduce_biometrics_md)
{
    /* sources.md 6.4: minimum independent trials to show p < 0.001 at 95% (one-sided,
     * exact): x = 0 -> 2,995 (90%: 2,302), 1 -> 4,742, 2 -> 6,294, 3 -> 7,752, 5 -> 10,511,
     * 10 -> 16,959, 30 -> 40,686. */
    static const unsigned long long want[][2] = {{0, 2995},  {1, 4742},   {2, 6294},  {3, 7752},
                                                 {5, 10511}, {10, 16959}, {30, 40686}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i)
        cr_assert_eq(bx_audit_trials_needed(want[i][0], 1e-3, 0.95), want[i][1], "x = %llu: %llu",
                     want[i][0],
                     (unsigned long long)bx_audit_trials_needed(want[i][0], 1e-3, 0.95));
    cr_assert_eq(bx_audit_trials_needed(0, 1e-3, 0.90), 2302);
    /* Examples: 0/3,000 -> p_U = 0.00100; 3/3,000 -> 0.0026; 30/30,000 -> 0.00136. */
    cr_assert_float_eq(bx_audit_cp_upper(0, 3000, 0.95), 0.00100, 0.000005);
    cr_assert_float_eq(bx_audit_cp_upper(3, 3000, 0.95), 0.0026, 0.00005);
    cr_assert_float_eq(bx_audit_cp_upper(30, 30000, 0.95), 0.00136, 0.000005);
    /* The rule of 3: x = 0 gives 1 - 0.05^(1/n), about 3/n. */
    for (unsigned long long n = 1000; n <= 10000000; n *= 10) {
        double u = bx_audit_cp_upper(0, n, 0.95);
        cr_assert_float_eq(u, 1 - pow(0.05, 1.0 / (double)n), 1e-12 * u + 1e-15);
        cr_assert_float_eq(u * (double)n, 3.0, 0.02, "n = %llu: %g", n, u * (double)n);
    }
    /* Verdicts. */
    cr_assert_eq(bx_audit_claim(0, 3000, 1e-3, 0.95), BX_AUDIT_SUPPORTED);
    cr_assert_eq(bx_audit_claim(0, 2000, 1e-3, 0.95), BX_AUDIT_NOT_ENOUGH_DATA);
    cr_assert_eq(bx_audit_claim(30, 10000, 1e-3, 0.95), BX_AUDIT_REFUTED);
}

Test(audit, nominal_95_percent_intervals_cover_93_to_97_percent, .timeout = 300)
{
    /* Independent trials at p = 0.01: the Clopper-Pearson and Wilson intervals of 4000 draws of
     * n = 2000, and the subject-level bootstrap of 300 audits of 200 subjects x 10 genuine
     * comparisons, contain p at about their nominal rate. */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 17);
    const double p = 0.01;
    unsigned cp = 0, wi = 0, N = 4000;
    for (unsigned k = 0; k < N; ++k) {
        unsigned x = gsl_ran_binomial(r, p, 2000);
        double lo, hi;
        bx_audit_cp(x, 2000, 0.95, &lo, &hi);
        cp += lo <= p && p <= hi;
        bx_audit_wilson(x, 2000, 0.95, &lo, &hi);
        wi += lo <= p && p <= hi;
    }
    cr_log_info("coverage: Clopper-Pearson %.3f, Wilson %.3f", cp / (double)N, wi / (double)N);
    cr_assert(cp >= 0.93 * N && cp <= 0.97 * N, "Clopper-Pearson %.3f", cp / (double)N);
    cr_assert(wi >= 0.93 * N && wi <= 0.97 * N, "Wilson %.3f", wi / (double)N);
    unsigned bs = 0, M = 300;
    for (unsigned k = 0; k < M; ++k) {
        struct bx_audit_opts o = bx_audit_opts_default();
        o.threshold = 0.5;
        o.bootstrap = 400;
        o.seed = k;
        struct bx_error err = {0};
        struct bx_audit *a = bx_audit_alloc(&o, &err);
        double *sc = malloc(2000 * sizeof *sc);
        for (int i = 0; i < 2000; ++i)
            sc[i] = gsl_rng_uniform(r) < 0.05 ? 0.1 : 0.9; /* error rate 0.05 */
        for (int pass = 0; pass < 2; ++pass) {
            for (int i = 0; i < 2000; ++i) {
                char s[16];
                snprintf(s, sizeof s, "s%d", i / 10);
                cr_assert_eq(bx_audit_add(a, s, s, sc[i], NULL, &err), BX_OK);
            }
            if (pass == 0)
                bx_audit_second_pass(a);
        }
        json_t *res = bx_audit_finish(a, &err);
        json_t *b = json_object_get(json_object_get(res, "fnmr"), "bootstrap");
        double lo = json_number_value(json_array_get(b, 0)),
               hi = json_number_value(json_array_get(b, 1));
        bs += lo <= 0.05 && 0.05 <= hi;
        json_decref(res);
        bx_audit_free(a);
        free(sc);
    }
    cr_log_info("coverage: subject bootstrap %.3f", bs / (double)M);
    cr_assert(bs >= 0.92 * M && bs <= 0.98 * M, "bootstrap %.3f", bs / (double)M);
    gsl_rng_free(r);
}

Test(audit, bad_score_files_are_reported_at_line_and_column)
{
    static const struct {
        const char *text, *says;
    } cases[] = {
        {"probe_subject,reference_subject,score\na,a,0.5\nb,c,high\n",
         ":3:5: score must be a number"},
        {"probe_subject,reference,score\na,a,0.5\n",
         ":1:1: the header needs the column 'reference_subject'"},
        {"probe_subject,reference_subject,score\na,a,0.5,extra\n", ":2:"},
        {"probe_subject,reference_subject,score\n\"a,a,0.5\n",
         ":2:1: this quoted field is never closed"},
        {"probe_subject,reference_subject,score\n,a,0.5\n", ":2:1: empty subject"},
        {"a b c\n", ":1:1: neither a CSV header"},
        {"a a t1 0.5\nb c t2\n", ":2:1: 3 columns"},
        {"a a t1 0.5\nb c t2 x\n", ":2:8: score must be a number"},
        {"", ":1:1: empty file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char path[128];
        snprintf(path, sizeof path, "%s/bad%zu.txt", dir, i);
        write_file(path, cases[i].text);
        struct bx_audit_opts o = bx_audit_opts_default();
        struct bx_audit *a = NULL;
        struct bx_error err = {0};
        cr_assert_eq(bx_audit_read_scores(path, &o, &a, &err), BX_EPARSE, "case %zu", i);
        cr_assert(strncmp(err.msg, path, strlen(path)) == 0, "names the file: %s", err.msg);
        cr_assert(strstr(err.msg, cases[i].says) != NULL, "case %zu: expected '%s' in '%s'", i,
                  cases[i].says, err.msg);
        cr_assert_null(a);
    }
}

Test(audit, bob_four_and_five_column_files_read_like_the_csv)
{
    char p4[128], p5[128];
    snprintf(p4, sizeof p4, "%s/s4.txt", dir);
    snprintf(p5, sizeof p5, "%s/s5.txt", dir);
    /* claimed real label score / claimed model real label score */
    write_file(p4, "a a t1 0.9\na b t2 0.1\nb b t3 0.2\nb a t4 0.95\n");
    write_file(p5, "a m1 a t1 0.9\na m1 b t2 0.1\nb m2 b t3 0.2\nb m2 a t4 0.95\n");
    for (int k = 0; k < 2; ++k) {
        struct bx_audit_opts o = bx_audit_opts_default();
        o.threshold = 0.5;
        o.bootstrap = 0;
        json_t *res = audit_file(k ? p5 : p4, &o);
        json_t *fmr = json_object_get(res, "fmr"), *fnmr = json_object_get(res, "fnmr");
        cr_assert_eq(json_integer_value(json_object_get(fmr, "trials")), 2);
        cr_assert_eq(json_integer_value(json_object_get(fmr, "errors")), 1, "0.95 >= 0.5");
        cr_assert_eq(json_integer_value(json_object_get(fnmr, "errors")), 1, "0.2 < 0.5");
        json_decref(res);
    }
}

/* Issue 16 item 5: a score equal to the threshold as written passes, whatever float32 does to
 * both (0.7, 0.35 and 0.45 are not representable; 0.7f < 0.7). */
Test(audit, a_score_equal_to_the_given_threshold_passes)
{
    const char *values[] = {"0.7", "0.35", "0.45", "0.1", "0.3"};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; ++k) {
        char path[128], text[256];
        snprintf(path, sizeof path, "%s/eq.csv", dir);
        snprintf(text, sizeof text,
                 "probe_subject,reference_subject,score\na,a,%s\nb,b,0.9\na,b,%s\nb,a,0.05\n",
                 values[k], values[k]);
        write_file(path, text);
        struct bx_audit_opts o = bx_audit_opts_default();
        o.threshold = atof(values[k]);
        o.bootstrap = 0;
        json_t *res = audit_file(path, &o);
        cr_assert_eq(jget(res, "fnmr", "errors"), 0,
                     "threshold %s: a genuine score equal to it failed", values[k]);
        cr_assert_eq(jget(res, "fmr", "errors"), 1,
                     "threshold %s: an impostor score equal to it "
                     "must count as a match",
                     values[k]);
        cr_assert_eq(jget(res, "threshold", NULL), atof(values[k]), "reported as given");
        json_decref(res);
    }
}

/* Issue 16 item 4: 300 subjects with 10 genuine comparisons each, 30 errors. Concentrated in 3
 * subjects, the errors are not 3,000 independent trials: the claim FNMR < 2% must not be
 * supported (binomial upper bound 1.35%, subject bootstrap 2% or more); spread one per subject
 * over 30 subjects, it is. */
static json_t *clustered(const char *path, int clusters, unsigned bootstrap)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("probe_subject,reference_subject,score\n", f);
    for (int s = 0; s < 300; ++s)
        for (int k = 0; k < 10; ++k) {
            bool err = clusters == 3 ? s < 3 : (s < 30 && k == 0);
            fprintf(f, "s%d,s%d,%s\n", s, s, err ? "0.1" : "0.9");
            fprintf(f, "s%d,s%d,0.05\n", s, (s + 1 + k) % 300);
        }
    fclose(f);
    struct bx_audit_opts o = bx_audit_opts_default();
    o.threshold = 0.5;
    o.claim_fnmr = 0.02;
    o.bootstrap = bootstrap;
    return audit_file(path, &o);
}

Test(audit, claim_verdicts_account_for_errors_clustered_by_subject)
{
    char path[128];
    snprintf(path, sizeof path, "%s/cluster.csv", dir);
    json_t *res = clustered(path, 3, 2000);
    json_t *c = json_array_get(json_object_get(res, "claims"), 0);
    cr_assert_eq(json_integer_value(json_object_get(c, "errors")), 30);
    double binom = jget(c, "binomial", "upper_one_sided");
    double boot = jget(c, "subject_bootstrap", "upper_one_sided");
    cr_assert(binom > 0.012 && binom < 0.015, "binomial upper %g", binom);
    cr_assert_geq(boot, 0.02, "subject bootstrap upper %g", boot);
    cr_assert_str_neq(json_string_value(json_object_get(c, "verdict")), "supported");
    cr_assert_str_eq(json_string_value(json_object_get(c, "decided_by")), "subject bootstrap");
    cr_assert_float_eq(jget(c, "upper_one_sided", NULL), boot, 1e-12);
    json_decref(res);
    res = clustered(path, 30, 2000);
    c = json_array_get(json_object_get(res, "claims"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(c, "verdict")), "supported", "%s",
                     json_string_value(json_object_get(c, "decided_by")));
    json_decref(res);
}

/* Without a bootstrap the subject-level bound is the design-effect-adjusted one: 3 subjects with
 * 10 errors each make the design effect 10 (3 effective errors in 300 effective trials, upper
 * bound about 2.6%), so FNMR < 2% is not supported; one error in each of 30 subjects leaves the
 * design effect at 1 and the claim supported. */
Test(audit, without_a_bootstrap_the_design_effect_carries_the_clustering)
{
    char path[128];
    snprintf(path, sizeof path, "%s/cluster0.csv", dir);
    json_t *res = clustered(path, 3, 0);
    json_t *c = json_array_get(json_object_get(res, "claims"), 0);
    double de = jget(c, "design_effect", "upper_one_sided");
    cr_assert(de > 0.022 && de < 0.03, "design-effect upper %g", de);
    cr_assert_str_neq(json_string_value(json_object_get(c, "verdict")), "supported");
    cr_assert_str_eq(json_string_value(json_object_get(c, "decided_by")), "design effect");
    cr_assert_null(json_object_get(c, "subject_bootstrap"));
    json_decref(res);
    res = clustered(path, 30, 0);
    c = json_array_get(json_object_get(res, "claims"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(c, "verdict")), "supported", "%s",
                     json_string_value(json_object_get(c, "decided_by")));
    cr_assert_float_eq(jget(c, "design_effect", "upper_one_sided"),
                       jget(c, "binomial", "upper_one_sided"), 1e-9);
    json_decref(res);
}

/* Issue 16 item 3: --holdout chooses the threshold on one part of the subjects and counts on
 * the other; the parts are disjoint, seeded and about the requested sizes. */
Test(audit, holdout_splits_subjects_disjointly)
{
    char path[128];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    score_file(path, 3);
    struct bx_audit_opts o = bx_audit_opts_default();
    o.bootstrap = 0;
    json_t *whole = audit_file(path, &o);
    cr_assert(json_is_true(json_object_get(whole, "threshold_from_same_scores")));
    o.holdout = 0.5;
    json_t *a = audit_file(path, &o), *b = audit_file(path, &o);
    cr_assert(json_is_false(json_object_get(a, "threshold_from_same_scores")));
    double n_test =
        json_number_value(json_object_get(json_object_get(a, "holdout"), "test_subjects"));
    cr_assert(n_test > 150 && n_test < 250, "%g test subjects of 400", n_test);
    cr_assert(json_equal(a, b), "the same seed gives the same split");
    /* Counted comparisons are the test part's only: fewer than the whole. */
    cr_assert_lt(jget(a, "fnmr", "trials"), 0.7 * jget(whole, "fnmr", "trials"));
    /* The rates are the test part's: the same as the per-subject counts summed (the groups
     * split the same comparisons by sex). */
    json_t *sex = json_object_get(json_object_get(a, "groups"), "sex");
    double fn_trials = 0, fn_errors = 0;
    for (size_t i = 0; i < json_array_size(sex); ++i) {
        json_t *g = json_object_get(json_array_get(sex, i), "fnmr");
        fn_trials += json_number_value(json_object_get(g, "trials"));
        fn_errors += json_number_value(json_object_get(g, "errors"));
    }
    cr_assert_eq(jget(a, "fnmr", "trials"), fn_trials);
    cr_assert_eq(jget(a, "fnmr", "errors"), fn_errors);
    o.seed = 2;
    json_t *c = audit_file(path, &o);
    cr_assert_neq(jget(a, "fnmr", "trials"), jget(c, "fnmr", "trials"),
                  "another seed, another split");
    json_decref(c);
    json_decref(b);
    json_decref(a);
    json_decref(whole);
}

Test(audit, groups_are_compared_at_one_global_threshold)
{
    char path[128];
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    score_file(path, 5);
    struct bx_audit_opts o = bx_audit_opts_default();
    o.bootstrap = 0;
    json_t *res = audit_file(path, &o);
    json_t *sex = json_object_get(json_object_get(res, "groups"), "sex");
    cr_assert_eq(json_array_size(sex), 2);
    /* Women's impostor scores are shifted up: their FMR at the global threshold is higher, and
     * the best group's ratio is 1. */
    double fm[2], ratio[2];
    for (size_t i = 0; i < 2; ++i) {
        json_t *g = json_array_get(sex, i);
        size_t k = strcmp(json_string_value(json_object_get(g, "value")), "f") == 0;
        fm[k] = jget(g, "fmr", "value");
        ratio[k] = jget(g, "fmr_ratio_to_best", NULL);
    }
    cr_assert_gt(fm[1], 2 * fm[0], "f %g vs m %g", fm[1], fm[0]);
    cr_assert_float_eq(ratio[0], 1.0, 1e-12);
    cr_assert_float_eq(ratio[1], fm[1] / fm[0], 1e-9);
    json_decref(res);
}

Test(audit, ten_million_impostor_scores_fit_in_bounded_memory_with_exact_tails, .timeout = 300)
{
    /* Beyond BX_AUDIT_EXACT_MAX the distribution becomes a histogram; the tail FMR 1e-6 needs
     * stays exact: compare with a count made here. */
    struct bx_audit_scores *s = bx_audit_scores_alloc(NULL);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 9);
    const uint64_t n = 10000000;
    const double t_hi = 0.45, t_mid = 0.05;
    uint64_t above_hi = 0, above_mid = 0;
    for (uint64_t i = 0; i < n; ++i) {
        double x = (double)(float)gsl_ran_gaussian_ziggurat(r, 0.1);
        above_hi += x >= t_hi;
        above_mid += x >= t_mid;
        cr_assert_eq(bx_audit_scores_add(s, x, NULL), BX_OK);
    }
    cr_assert_not(bx_audit_scores_exact(s));
    cr_assert_eq(bx_audit_scores_n(s), n);
    cr_assert_eq(bx_audit_scores_ge(s, t_hi), above_hi, "tail count exact");
    uint64_t mid = bx_audit_scores_ge(s, t_mid);
    cr_assert(llabs((long long)mid - (long long)above_mid) <= (long long)(above_mid / 10000),
              "bulk count within a bin: %llu vs %llu", (unsigned long long)mid,
              (unsigned long long)above_mid);
    /* The 10th highest value is exact. */
    double k10 = bx_audit_scores_kth_highest(s, 10);
    cr_assert_eq(bx_audit_scores_ge(s, k10) >= 10 && bx_audit_scores_ge(s, nextafter(k10, 1)) < 10,
                 true);
    bx_audit_scores_free(s);
    gsl_rng_free(r);
}
