/* SPDX-License-Identifier: MIT */
/* page_run.c - report.html of a ports run, from its results.h5 (everything the page shows comes
 * from the file, so `bxsim report DIR` rebuilds the same page): the run's facts, a table per
 * port, matching rates with intervals, outcome tallies, retention, the plots (plots_run.c), and
 * the assumptions with the calibration profile. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_page.h"

static void bytes_text(char *buf, size_t len, double b)
{
    static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int k = 0;
    while (b >= 1000 && k < 5) {
        b /= 1000;
        ++k;
    }
    snprintf(buf, len, "%.3g %s", b, u[k]);
}

static void html_ports(FILE *h, const struct bx_rpt_results *d)
{
    json_t *ports = json_object_get(d->summary, "ports");
    fputs("<h2 id=\"ports\">Ports</h2>\n<p class=\"note\">A traveller's wait here runs from "
          "arrival at the camera queue to the end of processing (capture, matching and, for "
          "those sent there, the officer): the end-to-end time. <code>bxsim size</code> sizes "
          "each resource's own queue wait instead (docs/sizing.md).</p>\n",
          h);
    fputs("<table>\n<thead><tr><th>port</th><th>type</th>"
          "<th>lanes</th><th>departures</th><th>travellers</th><th>mean wait (s)</th>"
          "<th>p95 wait (s)</th><th>p99 wait (s)</th><th>camera/lane utilisation</th>"
          "<th>officer utilisation</th><th>manual</th><th>secondary</th><th>opt-outs</th>"
          "</tr></thead>\n<tbody>\n",
          h);
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *w = json_object_get(p, "wait_s"),
               *u = json_object_get(p, "utilization");
        fputs("<tr><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</td><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "type")));
        fputs("</td><td>", h);
        bx_rpt__esc(h, i < d->n_ports ? d->ports[i].lane_kind : "");
        fputs("</td>", h);
        if (i < d->n_ports && strcmp(d->ports[i].type, "land") == 0)
            fputs("<td>&#8212;</td>", h); /* land ports have crossings, not departures */
        else
            bx_rpt__int_cell(h, json_object_get(p, "departures"));
        bx_rpt__int_cell(h, json_object_get(p, "travelers"));
        bx_rpt__ci_cell(h, json_object_get(w, "mean"), false, 1);
        bx_rpt__ci_cell(h, json_object_get(w, "p95"), false, 1);
        bx_rpt__ci_cell(h, json_object_get(w, "p99"), false, 1);
        bx_rpt__ci_cell(h, json_object_get(u, "cameras"), false, 3);
        bx_rpt__ci_cell(h, json_object_get(u, "officers"), false, 3);
        bx_rpt__int_cell(h, json_object_get(p, "manual_inspections"));
        bx_rpt__int_cell(h, json_object_get(p, "secondary_inspections"));
        bx_rpt__int_cell(h, json_object_get(p, "opt_outs"));
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n<p class=\"note\">Waits run from arrival at the camera or lane "
          "queue to leaving processing (capture, matching, officers, secondary). Travellers are "
          "summed over replications; intervals are Student-t 95% intervals across replications "
          "(none with a single replication).</p>\n",
          h);
}

/* One row of the operations table: a name and its share with interval and counts. */
static void ops_row(FILE *h, const char *name, json_t *rate, const char *what)
{
    fputs("<tr><td>", h);
    bx_rpt__esc(h, name);
    fputs("</td>", h);
    bx_rpt__ci_cell(h, rate, false, 4);
    bx_rpt__int_cell(h, json_object_get(rate, "count"));
    bx_rpt__int_cell(h, json_object_get(rate, "of"));
    fputs("<td>", h);
    bx_rpt__esc(h, what);
    fputs("</td></tr>\n", h);
}

/* CBP's and GAO's operational figures (summary.json `operations`), for the whole run and by
 * port. */
static void html_operations(FILE *h, const struct bx_rpt_results *d)
{
    json_t *o = json_object_get(d->summary, "operations");
    if (o == NULL)
        return;
    fputs("<h2 id=\"operations\">Operations: the figures CBP and GAO report</h2>\n<table>\n"
          "<thead><tr><th>figure</th><th>value [95% interval]</th><th>count</th><th>of</th>"
          "<th>meaning</th></tr></thead>\n<tbody>\n",
          h);
    ops_row(h, "capture rate", json_object_get(o, "capture_rate"),
            "in-scope (non-U.S.) travellers photographed (GAO-20-568: 80% in 2019, goal 97%)");
    ops_row(h, "match rate", json_object_get(o, "match_rate"),
            "photographed travellers confirmed by 1:n or 1:1 (CBP: 97-98%)");
    ops_row(h, "no-match rate", json_object_get(o, "no_match_rate"),
            "photographed travellers not confirmed (CBP: 2-3%)");
    ops_row(h, "biometric confirmation rate", json_object_get(o, "biometric_confirmation_rate"),
            "in-scope travellers confirmed: capture rate x match rate");
    ops_row(h, "technical match rate", json_object_get(o, "technical_match_rate"),
            "photographed travellers with a gallery record found by the 1:n search");
    json_t *np = json_object_get(o, "not_photographed"),
           *ans = json_object_get(o, "camera_to_answer_s");
    fprintf(h,
            "</tbody>\n</table>\n<p class=\"note\">Not photographed: %lld waved past by staff, "
            "%lld failed every attempt; %lld travellers left without a photo and without an "
            "officer. Camera to answer: mean %.3g s. Definitions: docs/summary.md "
            "(<code>operations</code>).</p>\n",
            (long long)json_integer_value(json_object_get(np, "excluded_by_staff")),
            (long long)json_integer_value(json_object_get(np, "failed_to_acquire")),
            (long long)json_integer_value(json_object_get(o, "left_unphotographed")),
            bx_rpt__jnum(ans, "mean"));
    json_t *ports = json_object_get(d->summary, "ports");
    fputs("<table>\n<thead><tr><th>port</th><th>in scope</th><th>capture rate</th><th>match "
          "rate</th><th>technical match rate</th></tr></thead>\n<tbody>\n",
          h);
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *po = json_object_get(p, "operations");
        fputs("<tr><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</td>", h);
        bx_rpt__int_cell(h, json_object_get(po, "in_scope"));
        bx_rpt__ci_cell(h, json_object_get(po, "capture_rate"), false, 4);
        bx_rpt__ci_cell(h, json_object_get(po, "match_rate"), false, 4);
        bx_rpt__ci_cell(h, json_object_get(po, "technical_match_rate"), false, 4);
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n", h);
}

/* The shared matching service (summary.json `tvs`), when the scenario has one. */
static void html_tvs(FILE *h, const struct bx_rpt_results *d)
{
    json_t *v = json_object_get(d->summary, "tvs");
    if (v == NULL)
        return;
    json_t *resp = json_object_get(v, "response_s"), *fb = json_object_get(v, "fallback");
    fprintf(h,
            "<h2 id=\"tvs\">The matching service (TVS)</h2>\n<table>\n<thead><tr><th>figure</th>"
            "<th>value [95%% interval across replications]</th></tr></thead>\n<tbody>\n"
            "<tr><td>workers</td><td>%lld</td></tr>\n<tr><td>requests</td><td>%lld</td></tr>\n",
            (long long)json_integer_value(json_object_get(v, "workers")),
            (long long)json_integer_value(json_object_get(v, "requests")));
    static const char *const rows[][2] = {{"utilization", "utilisation"},
                                          {"peak_requests_per_s", "requests per second, busiest "
                                                                  "hour"}};
    for (int k = 0; k < 2; ++k) {
        fprintf(h, "<tr><td>%s</td>", rows[k][1]);
        bx_rpt__ci_cell(h, json_object_get(v, rows[k][0]), false, 3);
        fputs("</tr>\n", h);
    }
    static const char *const q[] = {"mean", "p95", "p99"};
    for (int k = 0; k < 3; ++k) {
        fprintf(h, "<tr><td>camera to answer, %s (s)</td>", q[k]);
        bx_rpt__ci_cell(h, json_object_get(resp, q[k]), false, 3);
        fputs("</tr>\n", h);
    }
    fprintf(h,
            "<tr><td>hours down</td><td>%.3g</td></tr>\n<tr><td>sent to officers at once "
            "(fallback %s)</td><td>%lld</td></tr>\n<tr><td>sent to officers after waiting</td>"
            "<td>%lld</td></tr>\n</tbody>\n</table>\n",
            bx_rpt__jnum(v, "outage_hours"), json_string_value(json_object_get(fb, "policy")),
            (long long)json_integer_value(json_object_get(fb, "at_once")),
            (long long)json_integer_value(json_object_get(fb, "after_waiting")));
}

static void html_matching(FILE *h, const struct bx_rpt_results *d)
{
    json_t *m = json_object_get(d->summary, "matching");
    static const char *const keys[] = {"fnmr", "fmr", "fpir", "fnir", "fta"};
    static const char *const what[] = {
        "FNMR: genuine travellers the biometric pipeline (1:n, then 1:1) rejected",
        "FMR: impostors on a look-alike's document it accepted",
        "FPIR: watch-list searches of people not on the list that raised an alarm",
        "FNIR: watch-listed travellers the watch-list search missed",
        "FTA: captures that failed after every retry"};
    fputs("<h2 id=\"matching\">Matching</h2>\n<table>\n<thead><tr><th>rate</th><th>value "
          "[95% interval]</th><th>errors</th><th>trials</th><th>meaning</th></tr></thead>\n"
          "<tbody>\n",
          h);
    for (int k = 0; k < 5; ++k) {
        json_t *r = json_object_get(m, keys[k]);
        fprintf(h, "<tr><td>%s</td>", keys[k]);
        bx_rpt__ci_cell(h, r, true, 3);
        bx_rpt__int_cell(h, json_object_get(r, "errors"));
        bx_rpt__int_cell(h, json_object_get(r, "trials"));
        fputs("<td>", h);
        bx_rpt__esc(h, what[k]);
        fputs("</td></tr>\n", h);
    }
    fprintf(h,
            "</tbody>\n</table>\n<p class=\"note\">Rates are pooled over replications with exact "
            "(Clopper-Pearson) 95%% intervals. Thresholds (cosine): 1:n %.4f, 1:1 verify %.4f, "
            "watch list %.4f.</p>\n",
            d->thresholds[0], d->thresholds[1], d->thresholds[2]);
}

/* Each port's operating thresholds from summary.json ports[].thresholds: value, interval,
 * the FMR it targets and how it was obtained. */
static void html_thresholds(FILE *h, const struct bx_rpt_results *d)
{
    json_t *ports = json_object_get(d->summary, "ports");
    if (json_array_size(ports) == 0)
        return;
    fputs("<h2 id=\"thresholds\">Operating thresholds by port</h2>\n<table>\n<thead><tr>"
          "<th>port</th><th>search</th><th>threshold [95% interval]</th><th>FMR per "
          "comparison</th><th>impostor scores expected above</th><th>calibration "
          "subjects</th><th>obtained by</th></tr></thead>\n<tbody>\n",
          h);
    static const char *const tn[3] = {"one_to_n", "verify", "watchlist"};
    static const char *const label[3] = {"1:n", "1:1 verify", "watch list"};
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *po = json_array_get(ports, i), *th = json_object_get(po, "thresholds");
        for (int k = 0; k < 3; ++k) {
            json_t *t = json_object_get(th, tn[k]), *ci = json_object_get(t, "ci95");
            if (t == NULL)
                continue;
            fputs("<tr><td>", h);
            bx_rpt__esc(h, json_string_value(json_object_get(po, "name")));
            fprintf(h, "</td><td>%s</td><td>%.4f [%.4f, %.4f]</td><td>%.3g</td><td>%.3g</td>",
                    label[k], bx_rpt__jnum(t, "value"), json_real_value(json_array_get(ci, 0)),
                    json_real_value(json_array_get(ci, 1)), bx_rpt__jnum(t, "target_fmr"),
                    bx_rpt__jnum(t, "expected_impostors_above"));
            bx_rpt__int_cell(h, json_object_get(t, "calibration_subjects"));
            const char *how = json_string_value(json_object_get(t, "method"));
            fprintf(h, "<td>%s</td></tr>\n",
                    json_is_true(json_object_get(t, "resolved")) ? "sample (resolved)"
                    : how && strcmp(how, "tail_model") == 0      ? "tail model (beyond the sample)"
                                                                 : "sample (NOT resolved)");
        }
    }
    fputs("</tbody>\n</table>\n<p class=\"note\">Each port's thresholds are set on the impostor "
          "scores of its own device against document photos. A target is resolved when at least "
          "30 impostor scores are expected above it; a target the largest calibration sample "
          "cannot resolve is set by a generalised Pareto model of that sample's 1,000 highest "
          "scores, with a bootstrap interval (docs/summary.md).</p>\n",
          h);
}

static void html_outcomes(FILE *h, const struct bx_rpt_results *d)
{
    json_t *o = json_object_get(d->summary, "outcomes"),
           *r = json_object_get(d->summary, "retention");
    json_t *ov = json_object_get(o, "overstays"), *im = json_object_get(o, "impostors"),
           *wl = json_object_get(o, "watchlist");
    fputs("<h2 id=\"outcomes\">Outcomes</h2>\n<table>\n<thead><tr><th>what</th><th>count</th>"
          "</tr></thead>\n<tbody>\n",
          h);
    struct {
        const char *label;
        json_t *v;
    } rows[] = {
        {"overstays (actual)", json_object_get(ov, "actual")},
        {"overstays detected (departure linked to the right person)",
         json_object_get(ov, "detected")},
        {"impostors (actual)", json_object_get(im, "actual")},
        {"impostors caught", json_object_get(im, "caught")},
        {"watch list: true alarms", json_object_get(wl, "true_alarms")},
        {"watch list: false alarms", json_object_get(wl, "false_alarms")},
        {"watch list: missed", json_object_get(wl, "missed")},
        {"manual inspections", json_object_get(o, "manual_inspections")},
        {"U.S. citizen opt-outs", json_object_get(o, "opt_outs")},
        {"conservation violations (must be 0)", json_object_get(o, "conservation_violations")},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; ++k) {
        fputs("<tr><td>", h);
        bx_rpt__esc(h, rows[k].label);
        fputs("</td>", h);
        bx_rpt__int_cell(h, rows[k].v);
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n<h2 id=\"retention\">Retention</h2>\n<table>\n<tbody>\n", h);
    char b1[32], b2[32];
    bytes_text(b1, sizeof b1, bx_rpt__jnum(r, "bytes"));
    bytes_text(b2, sizeof b2, bx_rpt__jnum(r, "projected_75y_bytes"));
    fprintf(h,
            "<tr><td>longest a U.S. citizen photo was held (must be at most 12 h)</td><td>%.2f h"
            "</td></tr>\n",
            bx_rpt__jnum(r, "citizen_max_retained_h"));
    fputs("<tr><td>U.S. citizen photos held longer than 12 h (must be 0)</td>", h);
    bx_rpt__int_cell(h, json_object_get(r, "citizen_held_over_12h"));
    fputs("</tr>\n", h);
    fputs("<tr><td>U.S. citizen photos (all purged)</td>", h);
    bx_rpt__int_cell(h, json_object_get(r, "citizen_photos"));
    fputs("</tr>\n<tr><td>non-citizen records kept</td>", h);
    bx_rpt__int_cell(h, json_object_get(r, "noncitizen_records"));
    fprintf(h,
            "</tr>\n<tr><td>their size</td><td>%s</td></tr>\n"
            "<tr><td>stock after 75 years of this daily flow</td><td>%s</td></tr>\n"
            "</tbody>\n</table>\n",
            b1, b2);
}

/* The scenario's own comment lines (where its figures come from). */
static void html_sources(FILE *h, const char *yaml)
{
    if (yaml == NULL)
        return;
    fputs("<h3>Sources and assumptions stated in the scenario</h3>\n<pre class=\"src\">", h);
    const char *s = yaml;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        const char *t = s;
        while (t < s + len && (*t == ' ' || *t == '\t'))
            ++t;
        if (t < s + len && *t == '#' && strncmp(t, "# SPDX", 6) != 0) {
            char *line = strndup(t + 1, len - (size_t)(t + 1 - s));
            bx_rpt__esc(h, line && line[0] == ' ' ? line + 1 : line);
            fputc('\n', h);
            free(line);
        }
        s += len + (e != NULL);
    }
    fputs("</pre>\n", h);
}

static void html_assumptions(FILE *h, const struct bx_rpt_results *d)
{
    json_t *rs = d->resolved, *th = json_object_get(rs, "thresholds");
    fputs("<h2 id=\"assumptions\">Assumptions and calibration</h2>\n<ul>\n", h);
    fputs("<li>Algorithm profile <strong>", h);
    bx_rpt__esc(h, d->profile);
    fprintf(h,
            "</strong> (templates of dimension %lld generated to reproduce its published "
            "targets; its file is below).</li>\n",
            (long long)json_integer_value(json_object_get(rs, "template_dim")));
    fprintf(h,
            "<li>Thresholds set from the profile's own impostor scores (%lld calibration "
            "subjects): 1:n at FPIR %.3g per search of each port's gallery, 1:1 at FMR %.3g, "
            "watch list (%lld people) at FPIR %.3g per search.</li>\n",
            (long long)json_integer_value(json_object_get(rs, "calibration_subjects")),
            bx_rpt__jnum(th, "one_to_n_fpir"), bx_rpt__jnum(th, "verify_fmr"),
            (long long)json_integer_value(json_object_get(rs, "watchlist_size")),
            bx_rpt__jnum(th, "watchlist_fpir"));
    fputs("<li>Impostors travel on a look-alike's document; officers at manual inspection "
          "spot them with the port's <code>officer_catch</code> probability. Both are "
          "assumptions (see the resolved scenario).</li>\n"
          "<li>Non-mated scores in the DET and threshold plots are zero-effort impostor "
          "comparisons: each live capture against one watch-list photo of someone else.</li>\n"
          "<li>U.S. citizens' photos are purged 12 simulated hours after capture; non-citizen "
          "records are kept (75 years).</li>\n"
          "<li>Wait quantiles come from a log-bucket sketch with 0.5% relative error.</li>\n"
          "</ul>\n",
          h);
    html_sources(h, d->scenario_yaml);
    fputs("<details><summary>The scenario file as run</summary>\n<pre>", h);
    bx_rpt__esc(h, d->scenario_yaml ? d->scenario_yaml : "(not stored)");
    fputs("</pre></details>\n<details><summary>The resolved scenario (every field, defaults "
          "filled in)</summary>\n<pre>",
          h);
    char *res = json_dumps(rs, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    bx_rpt__esc(h, res ? res : "");
    free(res);
    fputs("</pre></details>\n<details><summary>The calibration profile (targets, sources, "
          "achieved figures)</summary>\n<pre>",
          h);
    bx_rpt__esc(h, d->profile_yaml ? d->profile_yaml : "(not stored)");
    fputs("</pre></details>\n", h);
}

static void run_page(FILE *h, const struct page_plots *pp, const struct bx_rpt_results *d)
{
    bx_rpt__html_head(h, d->scenario);
    fputs("<dl>\n<dt>scenario file</dt><dd>", h);
    bx_rpt__esc(h, d->scenario_file);
    fprintf(h,
            "</dd>\n<dt>seed</dt><dd>%lld</dd>\n<dt>replications</dt><dd>%lld</dd>\n"
            "<dt>simulated time</dt><dd>%.4g h per replication</dd>\n<dt>profile</dt><dd>",
            d->seed, d->replications, d->horizon_s / 3600);
    bx_rpt__esc(h, d->profile);
    fputs("</dd>\n<dt>bxsim</dt><dd>", h);
    bx_rpt__esc(h, d->version);
    fputs("</dd>\n<dt>libraries</dt><dd>", h);
    bx_rpt__esc(h, d->libraries);
    double wall = bx_rpt__jnum(d->summary, "wall_s");
    json_t *ev = json_object_get(d->summary, "events");
    fprintf(h, "</dd>\n<dt>events</dt><dd>%lld</dd>\n", (long long)json_integer_value(ev));
    if (isfinite(wall))
        fprintf(h, "<dt>run time</dt><dd>%.1f s</dd>\n", wall);
    fputs("</dl>\n<p><a href=\"#ports\">Ports</a> &#183; <a href=\"#operations\">Operations</a> "
          "&#183; <a href=\"#matching\">Matching</a> &#183; "
          "<a href=\"#thresholds\">Thresholds</a> "
          "&#183; <a href=\"#outcomes\">Outcomes</a> &#183; <a href=\"#retention\">Retention</a> "
          "&#183; <a href=\"#plots\">Plots</a> &#183; <a href=\"#assumptions\">Assumptions and "
          "calibration</a> &#183; data: ",
          h);
    if (bx_rpt__file_exists(pp->src, "summary.json") ||
        bx_rpt__file_exists(pp->dir, "summary.json"))
        fputs("<a href=\"summary.json\">summary.json</a>, ", h);
    fputs("<a href=\"results.h5\">results.h5</a></p>\n", h);
    html_ports(h, d);
    html_operations(h, d);
    html_tvs(h, d);
    html_matching(h, d);
    html_thresholds(h, d);
    html_outcomes(h, d);
    bx_rpt__html_plots(h, pp);
    html_assumptions(h, d);
}

static enum bx_status plots(void *src, const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    return bx_rpt__run_plots(src, dir, out, err);
}

static void html(FILE *h, const struct page_plots *pp, void *src)
{
    run_page(h, pp, src);
}

const struct rpt_page bx_rpt__page_run = {"plots", "report.html", plots, html};
