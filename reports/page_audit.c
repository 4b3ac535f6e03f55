/* SPDX-License-Identifier: MIT */
/* page_audit.c - audit.html from audit.json's object (docs/audit.md): claims and verdicts, rates
 * with exact and bootstrap intervals, breakdowns by group, DET and ROC curves. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_page.h"

static void rate_row(FILE *h, const char *name, json_t *r)
{
    if (!json_is_object(r))
        return;
    fputs("<tr><td>", h);
    bx_rpt__esc(h, name);
    fputs("</td>", h);
    double v = bx_rpt__jnum(r, "value");
    if (isfinite(v))
        fprintf(h, "<td>%.4g</td>", v);
    else
        fputs("<td>&#8212;</td>", h);
    bx_rpt__int_cell(h, json_object_get(r, "errors"));
    bx_rpt__int_cell(h, json_object_get(r, "trials"));
    static const char *const keys[] = {"ci95", "ci", "wilson", "bootstrap"};
    for (int k = 0; k < 4; ++k) {
        json_t *c = json_object_get(r, keys[k]);
        if (json_is_array(c))
            fprintf(h, "<td>[%.4g, %.4g]</td>", json_number_value(json_array_get(c, 0)),
                    json_number_value(json_array_get(c, 1)));
        else
            fputs("<td>&#8212;</td>", h);
    }
    double up = bx_rpt__jnum(r, "upper_one_sided"), r3 = bx_rpt__jnum(r, "rule_of_3");
    fprintf(h, "<td>%.4g</td><td>", up);
    if (isfinite(r3))
        fprintf(h, "%.4g", r3);
    else
        fputs("&#8212;", h);
    fputs("</td></tr>\n", h);
}

static const char rate_head[] =
    "<table>\n<thead><tr><th>rate</th><th>value</th><th>errors</th><th>trials</th>"
    "<th>exact 95%</th><th>exact at the confidence</th><th>Wilson</th><th>subject "
    "bootstrap</th><th>one-sided upper bound</th><th>rule of 3</th></tr></thead>\n<tbody>\n";

static void audit_page(FILE *h, const struct page_plots *pp, json_t *au)
{
    bx_rpt__html_head_as(h, "audit", json_string_value(json_object_get(au, "input")));
    {
        const char *ids[8], *labels[8];
        size_t n = 0;
        ids[n] = "rates", labels[n++] = "rates";
        ids[n] = "claims", labels[n++] = "claims";
        ids[n] = "fnmr_at_fmr", labels[n++] = "FNMR at fixed FMR";
        if (json_is_object(json_object_get(au, "one_to_n")))
            ids[n] = "one_to_n", labels[n++] = "1:N";
        if (json_object_size(json_object_get(au, "groups")))
            ids[n] = "groups", labels[n++] = "groups";
        if (json_is_object(json_object_get(au, "expected_false_matches_per_year")))
            ids[n] = "volume", labels[n++] = "false matches a year";
        ids[n] = "plots", labels[n++] = "plots";
        bx_rpt__html_nav(h, ids, labels, n);
    }
    json_t *c = json_object_get(au, "comparisons");
    fputs("<dl>\n<dt>input</dt><dd>", h);
    bx_rpt__esc(h, json_string_value(json_object_get(au, "input")));
    if (json_is_number(json_object_get(au, "threshold")))
        fprintf(h, "</dd>\n<dt>threshold</dt><dd>%.6g (", bx_rpt__jnum(au, "threshold"));
    else
        fputs("</dd>\n<dt>threshold</dt><dd>per port (", h);
    bx_rpt__esc(h, json_string_value(json_object_get(au, "threshold_rule")));
    fprintf(h,
            ")</dd>\n<dt>confidence</dt><dd>%.3g</dd>\n<dt>comparisons</dt><dd>%lld genuine, "
            "%lld impostor (%lld and %lld failed), %s</dd>\n<dt>subjects</dt><dd>%lld</dd>\n"
            "<dt>bxsim</dt><dd>",
            bx_rpt__jnum(au, "confidence"),
            (long long)json_integer_value(json_object_get(c, "genuine")),
            (long long)json_integer_value(json_object_get(c, "impostor")),
            (long long)json_integer_value(json_object_get(c, "failed_genuine")),
            (long long)json_integer_value(json_object_get(c, "failed_impostor")),
            json_is_true(json_object_get(c, "exact")) ? "every score kept (exact)"
                                                      : "bounded histograms with exact tails",
            (long long)json_integer_value(json_object_get(au, "subjects")));
    bx_rpt__esc(h, json_string_value(json_object_get(au, "bxsim_version")));
    fputs("</dd>\n</dl>\n<p>data: <a href=\"audit.json\">audit.json</a></p>\n", h);
    fputs("<h2 id=\"rates\">Rates at the threshold</h2>\n", h);
    fputs(rate_head, h);
    rate_row(h, "FMR", json_object_get(au, "fmr"));
    rate_row(h, "FNMR", json_object_get(au, "fnmr"));
    rate_row(h, "FTA", json_object_get(au, "fta"));
    fputs("</tbody>\n</table>\n", h);
    json_t *eer = json_object_get(au, "eer");
    fprintf(h, "<p>EER %.4g at threshold %.6g.</p>\n", bx_rpt__jnum(eer, "value"),
            bx_rpt__jnum(eer, "threshold"));
    fputs("<h2 id=\"claims\">Claims</h2>\n<table>\n<thead><tr><th>claim</th><th>verdict</th>"
          "<th>errors / trials</th><th>one-sided bounds</th><th>trials that would support it "
          "at the observed rate</th></tr></thead>\n<tbody>\n",
          h);
    json_t *cl = json_object_get(au, "claims");
    for (size_t i = 0; i < json_array_size(cl); ++i) {
        json_t *x = json_array_get(cl, i);
        fputs("<tr><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(x, "metric")));
        fprintf(h, " &lt; %g at %.3g</td><td>", bx_rpt__jnum(x, "claim"),
                bx_rpt__jnum(x, "confidence"));
        bx_rpt__esc(h, json_string_value(json_object_get(x, "verdict")));
        if (json_is_string(json_object_get(x, "decided_by"))) {
            fputs(" <span class=\"note\">(", h);
            bx_rpt__esc(h, json_string_value(json_object_get(x, "decided_by")));
            fputs(")</span>", h);
        }
        fprintf(h, "</td><td>%lld / %lld</td><td>[%.4g, %.4g]</td>",
                (long long)json_integer_value(json_object_get(x, "errors")),
                (long long)json_integer_value(json_object_get(x, "trials")),
                bx_rpt__jnum(x, "lower_one_sided"), bx_rpt__jnum(x, "upper_one_sided"));
        bx_rpt__int_cell(h, json_object_get(x, "trials_needed"));
        fputs("</tr>\n", h);
        if (json_is_string(json_object_get(x, "explanation"))) {
            fputs("<tr><td colspan=\"5\">", h);
            bx_rpt__esc(h, json_string_value(json_object_get(x, "explanation")));
            fputs("</td></tr>\n", h);
        }
    }
    if (json_array_size(cl) == 0)
        fputs("<tr><td colspan=\"5\">no claim given (--claim-fmr, --claim-fnmr)</td></tr>\n", h);
    fputs("</tbody>\n</table>\n<h2 id=\"fnmr_at_fmr\">FNMR at fixed FMR</h2>\n<table>\n<thead>"
          "<tr><th>FMR</th><th>FNMR</th><th>exact 95%</th><th>threshold</th></tr></thead>\n"
          "<tbody>\n",
          h);
    json_t *ff = json_object_get(au, "fnmr_at_fmr");
    const char *key;
    json_t *v;
    json_object_foreach(ff, key, v)
    {
        fputs("<tr><td>", h);
        bx_rpt__esc(h, key);
        fputs("</td>", h);
        if (json_is_number(json_object_get(v, "value"))) {
            json_t *ci = json_object_get(v, "ci95");
            fprintf(h, "<td>%.4g</td><td>[%.4g, %.4g]</td><td>%.6g</td>", bx_rpt__jnum(v, "value"),
                    json_number_value(json_array_get(ci, 0)),
                    json_number_value(json_array_get(ci, 1)), bx_rpt__jnum(v, "threshold"));
        } else {
            fputs("<td colspan=\"3\">", h);
            bx_rpt__esc(h, json_string_value(json_object_get(v, "reason")));
            fputs("</td>", h);
        }
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n", h);
    json_t *one = json_object_get(au, "one_to_n");
    if (json_is_object(one)) {
        fprintf(h,
                "<h2 id=\"one_to_n\">1:N identification</h2>\n<p>%lld mated and %lld "
                "non-mated searches of a gallery of %lld.</p>\n",
                (long long)json_integer_value(json_object_get(one, "mated_searches")),
                (long long)json_integer_value(json_object_get(one, "non_mated_searches")),
                (long long)json_integer_value(json_object_get(one, "gallery_size")));
        fputs(rate_head, h);
        json_object_foreach(one, key, v)
        {
            if (json_is_object(v))
                rate_row(h, key, v);
        }
        fputs("</tbody>\n</table>\n", h);
    }
    json_t *groups = json_object_get(au, "groups");
    if (json_object_size(groups)) {
        fputs("<h2 id=\"groups\">Groups at one global threshold</h2>\n", h);
        json_object_foreach(groups, key, v)
        {
            fputs("<h3>", h);
            bx_rpt__esc(h, key);
            fputs("</h3>\n<table>\n<thead><tr><th>value</th><th>FMR</th><th>errors / trials"
                  "</th><th>exact 95%</th><th>ratio to the best</th><th>FNMR</th><th>errors / "
                  "trials</th><th>exact 95%</th><th>ratio to the best</th></tr></thead>\n"
                  "<tbody>\n",
                  h);
            /* highest FMR first: the group an auditor looks at */
            size_t ng = json_array_size(v), *ord = malloc((ng ? ng : 1) * sizeof *ord);
            if (ord == NULL)
                continue;
            for (size_t i = 0; i < ng; ++i)
                ord[i] = i;
            for (size_t i = 1; i < ng; ++i)
                for (size_t j = i; j > 0; --j) {
                    double a = bx_rpt__jnum(json_object_get(json_array_get(v, ord[j - 1]), "fmr"),
                                            "value");
                    double b =
                        bx_rpt__jnum(json_object_get(json_array_get(v, ord[j]), "fmr"), "value");
                    if (!(isnan(a) || (isfinite(b) && b > a)))
                        break;
                    size_t t = ord[j];
                    ord[j] = ord[j - 1];
                    ord[j - 1] = t;
                }
            for (size_t ii = 0; ii < ng; ++ii) {
                json_t *g = json_array_get(v, ord[ii]);
                fputs("<tr><td>", h);
                bx_rpt__esc(h, json_string_value(json_object_get(g, "value")));
                fputs("</td>", h);
                static const char *const rk[] = {"fmr", "fnmr"};
                static const char *const ratio[] = {"fmr_ratio_to_best", "fnmr_ratio_to_best"};
                for (int k = 0; k < 2; ++k) {
                    json_t *r = json_object_get(g, rk[k]), *ci = json_object_get(r, "ci95");
                    fprintf(h, "<td>%.4g</td><td>%lld / %lld</td>", bx_rpt__jnum(r, "value"),
                            (long long)json_integer_value(json_object_get(r, "errors")),
                            (long long)json_integer_value(json_object_get(r, "trials")));
                    if (json_is_array(ci))
                        fprintf(h, "<td>[%.4g, %.4g]</td>",
                                json_number_value(json_array_get(ci, 0)),
                                json_number_value(json_array_get(ci, 1)));
                    else
                        fputs("<td>&#8212;</td>", h);
                    double q = bx_rpt__jnum(g, ratio[k]);
                    if (json_integer_value(json_object_get(r, "errors")) == 0)
                        fputs("<td>no errors</td>", h);
                    else if (isfinite(q))
                        fprintf(h, "<td>%.3g</td>", q);
                    else
                        fputs("<td>&#8212;</td>", h);
                }
                fputs("</tr>\n", h);
            }
            free(ord);
            fputs("</tbody>\n</table>\n", h);
        }
    }
    json_t *ex = json_object_get(au, "expected_false_matches_per_year");
    if (json_is_object(ex)) {
        json_t *ci = json_object_get(ex, "ci");
        fprintf(h,
                "<h2 id=\"volume\">Expected false matches a year</h2>\n<p>%.4g (%.4g to %.4g) "
                "for %.4g searches a year against galleries of %.4g (FPIR %.4g).</p>\n",
                bx_rpt__jnum(ex, "value"), json_number_value(json_array_get(ci, 0)),
                json_number_value(json_array_get(ci, 1)), bx_rpt__jnum(ex, "volume_per_year"),
                bx_rpt__jnum(ex, "gallery_size"), bx_rpt__jnum(ex, "fpir"));
    }
    bx_rpt__html_plots(h, pp);
    fputs("<p class=\"note\">Method: docs/sources.md section 6 (exact binomial "
          "bounds, the rule of 3, Wilson, trials needed, subject-level bootstrap, demographic "
          "differentials at one global threshold); docs/audit.md.</p>\n",
          h);
}

static enum bx_status audit_plots(json_t *au, const char *dir, struct rpt_plots *out,
                                  struct bx_error *err)
{
    json_t *det = json_object_get(au, "det");
    enum bx_status st = BX_OK;
    size_t pts = 0;
    /* The DET's axes (bx_rpt__det_axes): a bound of 0 or beyond is drawn at the edge. */
    const double x0 = bx_rpt__probit(1e-6), x1 = bx_rpt__probit(0.5), y0 = bx_rpt__probit(1e-5),
                 y1 = bx_rpt__probit(0.5);
    bool op_edge = false;
    if (json_array_size(det) >= 2) {
        FILE *f = bx_rpt__gp_open(dir, "audit_det", "dat", err);
        if (f == NULL)
            return BX_EIO;
        FILE *roc = bx_rpt__gp_open(dir, "audit_roc", "dat", err);
        if (roc == NULL) {
            fclose(f);
            return BX_EIO;
        }
        fputs("# threshold FMR TPR (= 1 - FNMR)\n", roc);
        fputs("# threshold FMR FNMR probit(FMR) probit(FNMR) TPR probit(FNMR lo) probit(FNMR hi) "
              "(exact interval, clamped to the axes; points with FNMR = 0 or FMR = 0 are left "
              "out)\n",
              f);
        for (size_t i = 0; i < json_array_size(det); ++i) {
            json_t *p = json_array_get(det, i), *nci = json_object_get(p, "fnmr_ci");
            double t = json_number_value(json_object_get(p, "threshold")),
                   fm = json_number_value(json_object_get(p, "fmr")),
                   fn = json_number_value(json_object_get(p, "fnmr"));
            if (!(fm > 0 && fm < 1 && fn > 0 && fn < 1))
                continue;
            double lo = json_is_array(nci) ? json_number_value(json_array_get(nci, 0)) : fn,
                   hi = json_is_array(nci) ? json_number_value(json_array_get(nci, 1)) : fn;
            fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g %.6g %.6g\n", t, fm, fn, bx_rpt__probit(fm),
                    bx_rpt__probit(fn), 1 - fn, lo > 0 ? fmax(y0, bx_rpt__probit(lo)) : y0,
                    hi < 1 ? fmin(y1, bx_rpt__probit(hi)) : y1);
            fprintf(roc, "%.6g %.6g %.6g\n", t, fm, 1 - fn);
            ++pts;
        }
        /* Block 1: the operating point, each rate with its interval (probit, clamped). */
        json_t *fmr = json_object_get(au, "fmr"), *fnmr = json_object_get(au, "fnmr");
        double v[2], l[2], h[2];
        for (int k = 0; k < 2; ++k) {
            json_t *r = k ? fnmr : fmr, *ci = json_object_get(r, "ci");
            double lim0 = k ? y0 : x0, lim1 = k ? y1 : x1;
            double val = bx_rpt__jnum(r, "value"),
                   lo = json_is_array(ci) ? json_number_value(json_array_get(ci, 0)) : val,
                   hi = json_is_array(ci) ? json_number_value(json_array_get(ci, 1)) : val;
            op_edge |= !(val > 0) || bx_rpt__probit(val) < lim0 || bx_rpt__probit(val) > lim1;
            v[k] = val > 0 ? fmin(lim1, fmax(lim0, bx_rpt__probit(val))) : lim0;
            l[k] = lo > 0 ? fmin(lim1, fmax(lim0, bx_rpt__probit(lo))) : lim0;
            h[k] = hi > 0 ? fmin(lim1, fmax(lim0, bx_rpt__probit(hi))) : lim0;
        }
        fputs("\n\n# operating point: probit(FMR) probit(FNMR) FMR lo hi, FNMR lo hi\n", f);
        fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g\n", v[0], v[1], l[0], h[0], l[1], h[1]);
        st = bx_rpt__gp_close(f, "audit_det", err);
        enum bx_status st2 = bx_rpt__gp_close(roc, "audit_roc", err);
        if (st != BX_OK || (st = st2) != BX_OK)
            return st;
    }
    if (pts >= 2) {
        char body[8192], optitle[96], caption[400];
        double thr = bx_rpt__jnum(au, "threshold");
        if (isfinite(thr))
            snprintf(optitle, sizeof optitle, "operating point (threshold %.6g)", thr);
        else
            snprintf(optitle, sizeof optitle, "operating point (per-row thresholds)");
        FILE *b = fmemopen(body, sizeof body, "w");
        bx_rpt__det_axes(b, "DET of the audited comparisons");
        fprintf(b,
                "'audit_det.dat' index 0 using 4:7:8 with filledcurves lc 1 title 'FNMR "
                "%g%% exact interval', 'audit_det.dat' index 0 using 4:5 with linespoints "
                "lw 2 pt 7 ps 0.5 lc 1 title 'DET', 'audit_det.dat' index 1 using "
                "1:2:3:4:5:6 with xyerrorbars pt 9 ps 2 lw 2 lc 'red' title '%s'\n",
                100 * bx_rpt__jnum(au, "confidence"), optitle);
        fclose(b);
        snprintf(caption, sizeof caption,
                 "FNMR versus FMR on normal-deviate axes, one point per threshold (thresholds "
                 "at FMR targets log-spaced from 1/#impostors to 0.5); shaded: FNMR's exact "
                 "interval at each; red: the audited threshold with both rates' intervals%s.",
                 op_edge ? " (a rate of 0, or one beyond the axes, is drawn at their edge)" : "");
        if ((st = bx_rpt__gp_script(dir, "audit_det", body, false, err)) != BX_OK ||
            (st = bx_rpt__add_plot(out, "audit_det", "DET curve", caption, err)) != BX_OK)
            return st;
        snprintf(body, sizeof body,
                 "set title 'ROC of the audited comparisons'\nset grid\nset logscale x\n"
                 "set format x '10^{%%L}'\nset xlabel 'FMR (false match rate)'\n"
                 "set ylabel 'TPR = 1 - FNMR'\nset key bottom right\n"
                 "plot 'audit_roc.dat' using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 "
                 "title 'ROC'\n");
        if ((st = bx_rpt__gp_script(dir, "audit_roc", body, false, err)) != BX_OK ||
            (st = bx_rpt__add_plot(
                 out, "audit_roc", "ROC curve",
                 "True accept rate (1 - FNMR) versus FMR on a log axis, at the DET "
                 "curve's thresholds.",
                 err)) != BX_OK)
            return st;
    }
    /* Rates by group, with their exact 95% intervals. */
    json_t *groups = json_object_get(au, "groups");
    const char *key;
    json_t *v;
    json_object_foreach(groups, key, v)
    {
        char name[64];
        snprintf(name, sizeof name, "audit_groups_%.40s", key);
        for (char *c = name; *c; ++c)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                *c = '_';
        /* Two columns whose names differ only in punctuation ("a b", "a_b") would share a file
         * name: the later one gets a number. */
        size_t base = strlen(name);
        for (unsigned dup = 2;; ++dup) {
            bool taken = false;
            for (size_t i = 0; i < out->n && !taken; ++i)
                taken = strcmp(out->v[i].name, name) == 0;
            if (!taken)
                break;
            snprintf(name + base, sizeof name - base, "_%u", dup);
        }
        FILE *f = bx_rpt__gp_open(dir, name, "dat", err);
        if (f == NULL)
            return BX_EIO;
        fputs("# group FMR lo hi FNMR lo hi (exact 95%; 1e-7 stands for 0 on the log axis)\n", f);
        for (size_t i = 0; i < json_array_size(v); ++i) {
            json_t *g = json_array_get(v, i);
            bx_rpt__gp_datum(f, json_string_value(json_object_get(g, "value")));
            static const char *const rk[] = {"fmr", "fnmr"};
            for (int k = 0; k < 2; ++k) {
                json_t *r = json_object_get(g, rk[k]), *ci = json_object_get(r, "ci95");
                double x = json_number_value(json_object_get(r, "value"));
                double lo = json_number_value(json_array_get(ci, 0)),
                       hi = json_number_value(json_array_get(ci, 1));
                fprintf(f, " %.6g %.6g %.6g", fmax(x, 1e-7), fmax(lo, 1e-7), fmax(hi, 1e-7));
            }
            fputc('\n', f);
        }
        if ((st = bx_rpt__gp_close(f, name, err)) != BX_OK)
            return st;
        char body[4096], title[160];
        snprintf(title, sizeof title, "FMR and FNMR by %s", key);
        FILE *b = fmemopen(body, sizeof body, "w");
        if (b == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        bx_rpt__gp_setf(b, "set title", "%s (one global threshold)", title);
        fprintf(b,
                "set grid y\nset logscale y\n"
                "set format y '10^{%%L}'\nset style data histograms\n"
                "set style histogram errorbars gap 2 lw 1\nset style fill solid 0.6 border -1\n"
                "set ylabel 'error rate'\nset xtics rotate by -30\nset key outside right top\n"
                "plot '%s.dat' using 2:3:4:xtic(1) title 'FMR', '' using 5:6:7 title 'FNMR'\n",
                name);
        fclose(b);
        if ((st = bx_rpt__gp_script(dir, name, body, false, err)) != BX_OK ||
            (st = bx_rpt__add_plot(
                 out, name, title,
                 "Each group's FMR and FNMR at the audit's global threshold with exact "
                 "95% intervals (log axis; zero is drawn at 1e-7).",
                 err)) != BX_OK)
            return st;
    }
    return BX_OK;
}

static enum bx_status plots(void *src, const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    return audit_plots(src, dir, out, err);
}

static void html(FILE *h, const struct page_plots *pp, void *src)
{
    audit_page(h, pp, src);
}

const struct rpt_page bx_rpt__page_audit = {"audit_plots", "audit.html", plots, html};
