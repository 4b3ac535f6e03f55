/* SPDX-License-Identifier: MIT */
/* cmd_audit.c - `bxsim audit`: what the data support about a claimed error rate. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/audit.h"
#include "bx/common.h"
#include "bx/report.h"

#include "app.h"

static const char usage[] =
    "usage: bxsim audit (--scores FILE | --run DIR) [options]\n"
    "\n"
    "Test a claimed error rate with exact statistics (docs/audit.md).\n"
    "\n"
    "inputs (one):\n"
    "  --scores FILE        CSV with a header holding probe_subject,reference_subject,score\n"
    "                       (further columns are groups), or bob's 4/5-column score files;\n"
    "                       empty or NaN scores are failed comparisons\n"
    "  --run DIR            the matching samples of a `bxsim run` (DIR/results.h5)\n"
    "  --gallery G.h5 --probes P.h5\n"
    "                       template files: every probe against every gallery row (1:1),\n"
    "                       and 1:N identification with ground truth from subject ids\n"
    "  --rank K             rank-K miss rate of the 1:N searches (default 5)\n"
    "operating point:\n"
    "  --threshold T        decision threshold (score >= T accepts; compared at float32\n"
    "                       precision, like the scores)\n"
    "  --at-fmr F           threshold = the smallest score with FMR <= F (default 1e-3; with\n"
    "                       --run the default is the run's own 1:1 threshold)\n"
    "  --holdout F          choose the --at-fmr threshold on a seeded fraction F of the\n"
    "                       subjects and count errors on the others (subject-disjoint), so\n"
    "                       that claims are not tested on the scores the threshold was tuned on\n"
    "claims:\n"
    "  --claim-fmr R        test \"FMR < R\"\n"
    "  --claim-fnmr R       test \"FNMR < R\"\n"
    "  --confidence C       one-sided confidence of claims, two-sided of intervals (0.95)\n"
    "  --bootstrap B        subject-level bootstrap resamples (default 1000, 0 = none)\n"
    "  --seed S             bootstrap seed (default 1)\n"
    "  --volume V           expected false matches a year for V searches ...\n"
    "  --gallery-size N     ... against galleries of N (default 1)\n"
    "output:\n"
    "  --out DIR            write DIR/audit.json (atomically)\n"
    "  --json               print audit.json to stdout instead of the summary\n"
    "  --fail-on V          exit 4 when a claim is refuted (V = refuted) or not supported\n"
    "                       (V = unsupported: refuted or not enough data), for CI gates\n"
    "\n"
    "exit status: 0 done (whatever the verdicts, unless --fail-on), 1 runtime failure,\n"
    "2 bad input or usage, 4 a verdict --fail-on names\n";

static bool parse_double(const char *opt, const char *s, double lo, double hi, bool open,
                         double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : BX_NAN;
    if (s == NULL || *s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v) ||
        (open ? !(v > lo && v < hi) : !(v >= lo && v <= hi))) {
        fprintf(stderr, "bxsim audit: %s: expected a number in %s%g, %g%s, got '%s'\n", opt,
                open ? "(" : "[", lo, hi, open ? ")" : "]", s ? s : "");
        return false;
    }
    *out = v;
    return true;
}

static void print_rate(const char *name, json_t *r)
{
    json_t *ci = json_object_get(r, "ci");
    double v = json_number_value(json_object_get(r, "value"));
    printf("%-6s %-12.4g", name, v);
    if (json_is_array(ci))
        printf("[%.4g, %.4g]", json_number_value(json_array_get(ci, 0)),
               json_number_value(json_array_get(ci, 1)));
    printf("  %lld / %lld", (long long)json_integer_value(json_object_get(r, "errors")),
           (long long)json_integer_value(json_object_get(r, "trials")));
    json_t *b = json_object_get(r, "bootstrap");
    if (json_integer_value(json_object_get(r, "errors")) == 0 &&
        json_is_number(json_object_get(r, "rule_of_3")))
        /* no error to resample: the bootstrap says nothing; the rule of 3 does */
        printf("  no errors: rule of 3 upper bound %.4g",
               json_number_value(json_object_get(r, "rule_of_3")));
    else if (json_is_array(b))
        printf("  bootstrap [%.4g, %.4g]", json_number_value(json_array_get(b, 0)),
               json_number_value(json_array_get(b, 1)));
    putchar('\n');
}

int bx_cmd_audit(int argc, char **argv)
{
    struct bx_audit_opts o = bx_audit_opts_default();
    const char *scores = NULL, *run = NULL, *out = NULL, *gallery = NULL, *probes = NULL;
    uint64_t rank = 5;
    bool json = false, bad = false;
    const char *fail_on = NULL;
    for (int i = 1; i < argc && !bad; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return BX_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        } else if (strcmp(a, "--fail-on") == 0) {
            if (v == NULL || (strcmp(v, "refuted") != 0 && strcmp(v, "unsupported") != 0)) {
                fprintf(stderr,
                        "bxsim audit: --fail-on: expected refuted or unsupported, got "
                        "'%s'\n",
                        v ? v : "");
                return BX_EXIT_USAGE;
            }
            fail_on = v;
            ++i;
            continue;
        }
        if (v == NULL && a[0] == '-') {
            fprintf(stderr, "bxsim audit: option %s needs a value (or is unknown; try --help)\n",
                    a);
            return BX_EXIT_USAGE;
        }
        if (strcmp(a, "--scores") == 0)
            scores = v;
        else if (strcmp(a, "--run") == 0)
            run = v;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--gallery") == 0)
            gallery = v;
        else if (strcmp(a, "--probes") == 0)
            probes = v;
        else if (strcmp(a, "--rank") == 0)
            bad = !bx_app_parse_u64("audit", a, v, 1, 1000, &rank);
        else if (strcmp(a, "--threshold") == 0)
            bad = !parse_double(a, v, -1e300, 1e300, false, &o.threshold);
        else if (strcmp(a, "--at-fmr") == 0) {
            bad = !parse_double(a, v, 0, 1, true, &o.at_fmr);
            o.run_threshold = false;
        } else if (strcmp(a, "--holdout") == 0)
            bad = !parse_double(a, v, 0, 1, true, &o.holdout);
        else if (strcmp(a, "--claim-fmr") == 0)
            bad = !parse_double(a, v, 0, 1, true, &o.claim_fmr);
        else if (strcmp(a, "--claim-fnmr") == 0)
            bad = !parse_double(a, v, 0, 1, true, &o.claim_fnmr);
        else if (strcmp(a, "--confidence") == 0)
            bad = !parse_double(a, v, 0, 1, true, &o.confidence);
        else if (strcmp(a, "--volume") == 0)
            bad = !parse_double(a, v, 0, 1e15, false, &o.volume_per_year);
        else if (strcmp(a, "--gallery-size") == 0)
            bad = !parse_double(a, v, 1, 1e12, false, &o.gallery_size);
        else if (strcmp(a, "--bootstrap") == 0) {
            bad = !bx_app_parse_u64("audit", a, v, 0, 100000, &u);
            o.bootstrap = (unsigned)u;
        } else if (strcmp(a, "--seed") == 0) {
            bad = !bx_app_parse_u64("audit", a, v, 0, INT64_MAX, &o.seed);
        } else {
            fprintf(stderr, "bxsim audit: unknown option '%s' (try bxsim audit --help)\n", a);
            return BX_EXIT_USAGE;
        }
        ++i;
    }
    if (bad)
        return BX_EXIT_USAGE;
    if (!gallery != !probes) {
        fprintf(stderr, "bxsim audit: --gallery and --probes go together\n");
        return BX_EXIT_USAGE;
    }
    if (o.holdout > 0 && (gallery || !isnan(o.threshold))) {
        fprintf(stderr, "bxsim audit: --holdout: %s\n",
                gallery ? "works with --scores and --run (template files are compared whole)"
                        : "needs a threshold chosen from the scores (--at-fmr), not --threshold");
        return BX_EXIT_USAGE;
    }
    if ((scores != NULL) + (run != NULL) + (gallery != NULL) != 1) {
        fprintf(stderr, "bxsim audit: give exactly one input: --scores FILE, --run DIR, or "
                        "--gallery G.h5 --probes P.h5\n");
        return BX_EXIT_USAGE;
    }
    struct bx_error err = {0};
    /* The output folder is checked before anything is read. */
    struct bx_outdir od = {.slot = -1};
    if (out && bx_outdir_open(&od, out, "--out", &err) != BX_OK) {
        fprintf(stderr, "bxsim audit: %s\n", err.msg);
        return err.code == BX_EIO ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    struct bx_audit *a = NULL;
    enum bx_status st =
        scores ? bx_audit_read_scores(scores, &o, &a, &err)
        : run  ? bx_audit_read_run(run, &o, &a, &err)
               : bx_audit_read_templates(gallery, probes, &o, (unsigned)rank, &a, &err);
    if (st != BX_OK) {
        fprintf(stderr, "bxsim audit: %s\n", err.msg);
        bx_outdir_abort(&od);
        return st == BX_ENOMEM ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    json_t *res = bx_audit_finish(a, &err);
    bx_audit_free(a);
    if (res == NULL) {
        fprintf(stderr, "bxsim audit: %s\n", err.msg);
        bx_outdir_abort(&od);
        return BX_EXIT_RUNTIME;
    }
    json_object_set_new(res, "input", json_string(scores ? scores : run ? run : probes));
    json_object_set_new(res, "bxsim_version", json_string(bx_app_version()));
    char *text = json_dumps(res, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    int rc = BX_EXIT_OK;
    if (out) {
        char path[4096];
        if (text == NULL || bx_outdir_path(&od, "audit.json", path, sizeof path, &err) != BX_OK ||
            bx_file_write_atomic(path, text, strlen(text), &err) != BX_OK) {
            fprintf(stderr, "bxsim audit: --out %s: %s\n", out, err.code ? err.msg : "no text");
            rc = BX_EXIT_RUNTIME;
        }
    }
    if (out && rc == BX_EXIT_OK) {
        struct bx_rpt_report_result rep = {0};
        if (bx_rpt_write_audit_report(od.stage, res, NULL, &rep, &err) != BX_OK ||
            bx_outdir_commit(&od, &err) != BX_OK) {
            fprintf(stderr, "bxsim audit: %s\n", err.msg);
            rc = BX_EXIT_RUNTIME;
        } else if (!rep.images) {
            fprintf(stderr,
                    "bxsim audit: plots skipped (%s); their data and gnuplot scripts are "
                    "in %s/audit_plots\n",
                    rep.note, out);
        }
    }
    if (json) {
        fputs(text, stdout);
        fputc('\n', stdout);
    } else if (rc == BX_EXIT_OK) {
        if (json_is_number(json_object_get(res, "threshold")))
            printf("threshold %.6g (%s)\n", json_number_value(json_object_get(res, "threshold")),
                   json_string_value(json_object_get(res, "threshold_rule")));
        else
            printf("threshold: %s\n", json_string_value(json_object_get(res, "threshold_rule")));
        if (json_is_true(json_object_get(res, "threshold_from_same_scores")) &&
            json_array_size(json_object_get(res, "claims")) > 0)
            puts("note: the threshold was chosen on the same scores the claims are tested on, so "
                 "the verdicts are optimistic; --holdout F chooses it on other subjects");
        print_rate("FMR", json_object_get(res, "fmr"));
        print_rate("FNMR", json_object_get(res, "fnmr"));
        json_t *one = json_object_get(res, "one_to_n");
        if (json_is_object(one)) {
            /* template inputs: the 1:N searches too */
            char rk[32];
            snprintf(rk, sizeof rk, "rank%lld_miss",
                     (long long)json_integer_value(json_object_get(one, "rank")));
            printf("1:N    %lld mated and %lld non-mated searches of a gallery of %lld\n",
                   (long long)json_integer_value(json_object_get(one, "mated_searches")),
                   (long long)json_integer_value(json_object_get(one, "non_mated_searches")),
                   (long long)json_integer_value(json_object_get(one, "gallery_size")));
            print_rate("FPIR", json_object_get(one, "fpir"));
            print_rate("FNIR", json_object_get(one, "fnir"));
            print_rate("rank1", json_object_get(one, "rank1_miss"));
            if (strcmp(rk, "rank1_miss") != 0) {
                char lab[24];
                snprintf(lab, sizeof lab, "rank%lld",
                         (long long)json_integer_value(json_object_get(one, "rank")));
                print_rate(lab, json_object_get(one, rk));
            }
        }
        json_t *eer = json_object_get(res, "eer");
        printf("EER    %.4g at threshold %.6g\n", json_number_value(json_object_get(eer, "value")),
               json_number_value(json_object_get(eer, "threshold")));
        json_t *cl = json_object_get(res, "claims");
        for (size_t i = 0; i < json_array_size(cl); ++i) {
            json_t *c = json_array_get(cl, i);
            printf("claim  %s < %g at %.0f%%: %s\n       %s\n",
                   json_string_value(json_object_get(c, "metric")),
                   json_number_value(json_object_get(c, "claim")),
                   100 * json_number_value(json_object_get(c, "confidence")),
                   json_string_value(json_object_get(c, "verdict")),
                   json_string_value(json_object_get(c, "explanation")));
        }
    }
    /* --fail-on: a verdict the caller cannot accept (CI) */
    json_t *cl = json_object_get(res, "claims");
    for (size_t i = 0; rc == BX_EXIT_OK && fail_on && i < json_array_size(cl); ++i) {
        const char *v = json_string_value(json_object_get(json_array_get(cl, i), "verdict"));
        bool refuted = v && strcmp(v, "refuted") == 0, supported = v && strcmp(v, "supported") == 0;
        if (refuted || (strcmp(fail_on, "unsupported") == 0 && !supported)) {
            fprintf(stderr, "bxsim audit: --fail-on %s: a claim is %s\n", fail_on,
                    v ? v : "undecided");
            rc = BX_EXIT_CLAIM;
        }
    }
    if (rc != BX_EXIT_OK && rc != BX_EXIT_CLAIM && od.stage[0] != '\0')
        bx_app_explain_write_failure("audit", out);
    bx_outdir_abort(&od);
    free(text);
    json_decref(res);
    return rc;
}
