/* SPDX-License-Identifier: MIT */
/* page_overstay.c - overstay.html read back from overstay.json (docs/lifecycle.md): the overstay
 * report by class and mode with the truth beside it, false suspected overstays by cause, BIMS
 * over the years and the whole-store FPIR. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_page.h"

static double val(json_t *o)
{
    json_t *v = json_object_get(o, "value");
    return json_is_number(v) ? json_number_value(v) : BX_NAN;
}

static double count_of(json_t *block, const char *name)
{
    return val(json_object_get(json_object_get(block, "counts"), name));
}

static void num_cell(FILE *h, double v)
{
    if (isfinite(v))
        fprintf(h, "<td>%.0f</td>", v);
    else
        fputs("<td>&#8212;</td>", h);
}

static void pct_cell(FILE *h, json_t *o)
{
    json_t *ci = json_object_get(o, "ci95");
    double v = val(o);
    if (!isfinite(v)) {
        fputs("<td>&#8212;</td>", h);
        return;
    }
    if (json_is_array(ci))
        fprintf(h, "<td>%.3f%% [%.3f, %.3f]</td>", 100 * v,
                100 * json_number_value(json_array_get(ci, 0)),
                100 * json_number_value(json_array_get(ci, 1)));
    else
        fprintf(h, "<td>%.3f%%</td>", 100 * v);
}

static void report_row(FILE *h, const char *name, json_t *b)
{
    fputs("<tr><td>", h);
    bx_rpt__esc(h, name);
    fputs("</td>", h);
    static const char *const cols[] = {
        "expected",        "departed_on_time", "out_of_country",      "suspected_in_country",
        "in_country_true", "in_country_false", "resolved_by_reentry", "missed"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; ++i)
        num_cell(h, count_of(b, cols[i]));
    pct_cell(h, json_object_get(b, "suspected_in_country_rate"));
    pct_cell(h, json_object_get(b, "false_share_of_suspected"));
    fputs("</tr>\n", h);
}

static void report_table(FILE *h, json_t *ov, const char *list, const char *key)
{
    fputs("<table>\n<thead><tr><th></th><th>expected departures</th><th>departed on time</th>"
          "<th>out-of-country overstays</th><th>suspected in-country</th><th>of which truly "
          "in the country</th><th>of which gone (false)</th><th>closed by a return</th>"
          "<th>recorded gone, still here</th><th>suspected in-country rate</th><th>false share "
          "of suspected</th></tr></thead>\n<tbody>\n",
          h);
    report_row(h, "all", json_object_get(ov, "report"));
    json_t *a = json_object_get(ov, list);
    for (size_t i = 0; i < json_array_size(a); ++i) {
        json_t *b = json_array_get(a, i);
        if (count_of(b, "expected") > 0)
            report_row(h, json_string_value(json_object_get(b, key)), b);
    }
    fputs("</tbody>\n</table>\n", h);
}

static void page(FILE *h, const struct page_plots *pp, void *src)
{
    json_t *ov = src, *rep = json_object_get(ov, "report");
    bx_rpt__html_head_as(h, "overstay report", json_string_value(json_object_get(ov, "scenario")));
    json_t *w = json_object_get(ov, "report_window");
    fprintf(h,
            "<p>The overstay report of a simulated entry-to-exit lifecycle, counted as DHS's "
            "Entry/Exit Overstay Report counts it, with the ground truth beside every figure "
            "(docs/lifecycle.md). Travellers whose admit-until date falls from %s to %s, "
            "evaluated on %s; %lld replication(s), %.4g of travellers simulated, counts scaled "
            "to the whole. Data: <a href=\"overstay.json\">overstay.json</a>.</p>\n",
            json_string_value(json_object_get(w, "from")),
            json_string_value(json_object_get(w, "to")),
            json_string_value(json_object_get(ov, "evaluation_date")),
            (long long)json_integer_value(json_object_get(ov, "replications")),
            bx_rpt__jnum(ov, "sample"));
    double sus = count_of(rep, "suspected_in_country"), fal = count_of(rep, "in_country_false");
    fprintf(h,
            "<p><strong>%.0f suspected in-country overstays, %.0f of them (%.1f%%) false</strong>: "
            "travellers who left but whose departure was never recorded.</p>\n",
            sus, fal, sus > 0 ? 100 * fal / sus : 0.0);
    fputs("<h2 id=\"classes\">By class of admission</h2>\n", h);
    report_table(h, ov, "classes", "name");
    fputs("<h2 id=\"modes\">By mode of arrival</h2>\n", h);
    report_table(h, ov, "modes", "mode");
    fputs("<h2 id=\"causes\">Why false suspected overstays were flagged</h2>\n<table>\n<thead>"
          "<tr><th>cause</th><th>travellers (whole)</th><th>simulated</th></tr></thead>\n<tbody>"
          "\n",
          h);
    json_t *causes = json_object_get(rep, "false_in_country_by_cause");
    const char *cn;
    json_t *cv;
    json_object_foreach(causes, cn, cv)
    {
        fputs("<tr><td>", h);
        bx_rpt__esc(h, cn);
        fputs("</td>", h);
        num_cell(h, val(cv));
        bx_rpt__int_cell(h, json_object_get(cv, "sampled"));
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n", h);
    json_t *en = json_object_get(ov, "entry");
    fputs("<h2 id=\"entry\">At entry</h2>\n<table>\n<thead><tr><th>check</th><th>share</th>"
          "</tr></thead>\n<tbody>\n",
          h);
    static const char *const ek[] = {"photographed", "impostors_caught", "watchlist_caught",
                                     "prior_removals_caught", "false_alerts"};
    for (size_t i = 0; i < sizeof ek / sizeof ek[0]; ++i) {
        fputs("<tr><td>", h);
        bx_rpt__esc(h, ek[i]);
        fputs("</td>", h);
        pct_cell(h, json_object_get(en, ek[i]));
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n", h);
    json_t *sf = json_object_get(ov, "store_fpir");
    if (json_is_object(sf)) {
        json_t *fm = json_object_get(sf, "fmr");
        fprintf(h,
                "<h2 id=\"store\">The whole store</h2>\n<p>A 1:N search of the whole BIMS store "
                "at the exit threshold %.4f: per-comparison FMR %.3g (%s), spread across "
                "probes as a gamma distribution of shape k = %.3g; FPIR = 1 - (1 + N FMR / "
                "k)<sup>-k</sup> (docs/lifecycle.md), beside the independent 1 - (1 - "
                "FMR)<sup>N</sup>.</p>\n<table>\n<thead><tr><th>templates</th><th>FPIR (model)"
                "</th><th>FPIR (independent)</th><th>false candidates per search</th><th>FPIR "
                "measured</th></tr></thead>\n<tbody>\n",
                bx_rpt__jnum(sf, "threshold"), val(fm),
                json_string_value(json_object_get(fm, "method")),
                bx_rpt__jnum(fm, "heterogeneity_shape"));
        json_t *pts = json_object_get(sf, "points");
        for (size_t i = 0; i < json_array_size(pts); ++i) {
            json_t *p = json_array_get(pts, i);
            fprintf(h, "<tr><td>%.4g</td>", bx_rpt__jnum(p, "size"));
            pct_cell(h, json_object_get(p, "model"));
            fprintf(h, "<td>%.3f%%</td>", 100 * bx_rpt__jnum(p, "independent"));
            fprintf(h, "<td>%.3g</td>", bx_rpt__jnum(p, "false_candidates_per_search"));
            if (json_is_object(json_object_get(p, "measured")))
                pct_cell(h, json_object_get(p, "measured"));
            else
                fputs("<td>&#8212;</td>", h);
            fputs("</tr>\n", h);
        }
        fputs("</tbody>\n</table>\n", h);
    }
    bx_rpt__html_plots(h, pp);
}

/* ---------------------------------------------------------------- plots */

static enum bx_status bar_plot(const char *dir, const char *name, const char *title,
                               const char *ylabel, const char *caption, json_t *labels,
                               const double *a, const double *b, const char *ta, const char *tb,
                               size_t n, struct rpt_plots *out, struct bx_error *err)
{
    FILE *f, *bf;
    char body[4096];
    enum bx_status st = bx_rpt__plot_begin(dir, name, body, sizeof body, &f, &bf, err);
    if (st != BX_OK)
        return st;
    fputs("# label value [value2]\n", f);
    for (size_t i = 0; i < n; ++i) {
        bx_rpt__gp_datum(f, json_string_value(json_array_get(labels, i)));
        fprintf(f, " %.9g %.9g\n", a[i], b ? b[i] : 0.0);
    }
    bx_rpt__gp_setf(bf, "set title", "%s", title);
    bx_rpt__gp_setf(bf, "set ylabel", "%s", ylabel);
    fprintf(bf,
            "set style data histograms\nset style histogram %s\nset style fill solid 0.8 "
            "border -1\nset boxwidth 0.8\nset grid ytics\nset yrange [0:*]\nset xtics "
            "rotate by -30\nset key top right\nplot '%s.dat' using 2:xtic(1) title ",
            b ? "rowstacked" : "clustered", name);
    bx_rpt__gp_string(bf, ta);
    if (b) {
        fprintf(bf, ", '' using 3 title ");
        bx_rpt__gp_string(bf, tb);
    }
    fputc('\n', bf);
    return bx_rpt__plot_end(f, bf, dir, name, body, n, false, title, caption, out, err);
}

static enum bx_status plots(void *src, const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    json_t *ov = src, *classes = json_object_get(ov, "classes");
    size_t nk = json_array_size(classes);
    double *a = calloc(nk + 8, sizeof *a), *b = calloc(nk + 8, sizeof *b);
    json_t *labels = json_array();
    enum bx_status st = BX_OK;
    if (!a || !b || !labels) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < nk; ++i) {
        json_t *c = json_array_get(classes, i);
        double e = count_of(c, "expected");
        if (!(e > 0))
            continue;
        a[n] = 100 * count_of(c, "in_country_true") / e;
        b[n] = 100 * count_of(c, "in_country_false") / e;
        json_array_append(labels, json_object_get(c, "name"));
        n++;
    }
    st = bar_plot(dir, "overstay_by_class", "Suspected in-country overstays by class",
                  "% of expected departures",
                  "Suspected in-country overstays as a share of expected departures, split by "
                  "the truth: still in the country, or gone with no departure recorded.",
                  labels, a, b, "truly in the country", "left (false)", n, out, err);
    if (st != BX_OK)
        goto done;
    json_array_clear(labels);
    json_t *causes = json_object_get(json_object_get(ov, "report"), "false_in_country_by_cause");
    const char *cn;
    json_t *cv;
    n = 0;
    json_object_foreach(causes, cn, cv)
    {
        if (n >= nk + 8)
            break;
        a[n++] = val(cv);
        json_array_append_new(labels, json_string(cn));
    }
    st = bar_plot(dir, "false_by_cause", "False suspected overstays by cause", "travellers",
                  "Travellers who left but were flagged as suspected in-country overstays, by "
                  "what failed at their departure.",
                  labels, a, NULL, "false suspected overstays", NULL, n, out, err);
    if (st != BX_OK)
        goto done;
    /* BIMS over the years */
    json_t *bims = json_object_get(ov, "bims"), *years = json_object_get(bims, "years");
    FILE *f, *bf;
    char body[4096];
    if ((st = bx_rpt__plot_begin(dir, "bims_growth", body, sizeof body, &f, &bf, err)) != BX_OK)
        goto done;
    fputs("# year records expired bytes\n", f);
    for (size_t i = 0; i < json_array_size(years); ++i) {
        json_t *y = json_array_get(years, i);
        fprintf(f, "%lld %.9g %.9g %.9g\n",
                (long long)json_integer_value(json_object_get(y, "year")),
                bx_rpt__jnum(y, "records"), bx_rpt__jnum(y, "expired"), bx_rpt__jnum(y, "bytes"));
    }
    bx_rpt__gp_setf(bf, "set title", "%s", "BIMS records under the retention rule");
    fprintf(bf, "set xlabel 'years of operation'\nset ylabel 'records'\nset grid\nset key top "
                "left\nplot 'bims_growth.dat' using 1:2 with lines lw 2 title 'records held', "
                "'' using 1:3 with lines lw 2 dt 2 title 'deleted at the deadline (cumulative)'\n");
    st = bx_rpt__plot_end(f, bf, dir, "bims_growth", body, json_array_size(years), false,
                          "BIMS records under the retention rule",
                          "Records held and deleted by year at this run's enrolment rate "
                          "(constant), retention as configured.",
                          out, err);
    if (st != BX_OK)
        goto done;
    json_t *sf = json_object_get(ov, "store_fpir"), *pts = json_object_get(sf, "points");
    if (json_array_size(pts) == 0)
        goto done;
    if ((st = bx_rpt__plot_begin(dir, "store_fpir", body, sizeof body, &f, &bf, err)) != BX_OK)
        goto done;
    fputs("# size model lo hi measured mlo mhi\n", f);
    for (size_t i = 0; i < json_array_size(pts); ++i) {
        json_t *p = json_array_get(pts, i), *m = json_object_get(p, "model"),
               *ms = json_object_get(p, "measured"), *mci = json_object_get(m, "ci95"),
               *sci = json_object_get(ms, "ci95");
        double v = val(m);
        fprintf(f, "%.9g %.9g %.9g %.9g ", bx_rpt__jnum(p, "size"), v,
                json_is_array(mci) ? json_number_value(json_array_get(mci, 0)) : v,
                json_is_array(mci) ? json_number_value(json_array_get(mci, 1)) : v);
        if (json_is_object(ms))
            fprintf(f, "%.9g %.9g %.9g\n", val(ms),
                    json_is_array(sci) ? json_number_value(json_array_get(sci, 0)) : val(ms),
                    json_is_array(sci) ? json_number_value(json_array_get(sci, 1)) : val(ms));
        else
            fputs("NaN NaN NaN\n", f);
    }
    bx_rpt__gp_setf(bf, "set title", "%s", "FPIR of a search of the whole store");
    fprintf(bf, "set xlabel 'templates searched'\nset ylabel 'FPIR'\nset logscale x\nset grid\n"
                "set yrange [0:1.05]\nset key bottom right\nplot 'store_fpir.dat' using "
                "1:3:4 with filledcurves fs transparent solid 0.25 lc 1 title 'model 95%% "
                "interval', '' using 1:2 with lines lw 2 lc 1 title 'model', '' "
                "using 1:5:6:7 with yerrorbars pt 7 lc 2 title 'measured'\n");
    st = bx_rpt__plot_end(f, bf, dir, "store_fpir", body, json_array_size(pts), false,
                          "FPIR of a search of the whole store",
                          "Non-mated searches of a store of N enrolled photos at the exit "
                          "threshold: measured where the machine holds the store, the model "
                          "beyond.",
                          out, err);
done:
    json_decref(labels);
    free(a);
    free(b);
    return st;
}

static void html(FILE *h, const struct page_plots *pp, void *src)
{
    page(h, pp, src);
}

const struct rpt_page bx_rpt__page_overstay = {"overstay_plots", "overstay.html", plots, html};
