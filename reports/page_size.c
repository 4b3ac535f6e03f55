/* SPDX-License-Identifier: MIT */
/* page_size.c - size.json, written from what a sizing found (bx_rpt_size_json), and size.html
 * read back from it (docs/sizing.md): the level each port and resource needs, and a capacity
 * curve per port and resource. The schema's keys are written and read here only. */
#define _POSIX_C_SOURCE 200809L
#include "report_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_page.h"

static json_t *ci_json(double v, double lo, double hi)
{
    json_t *o = json_object();
    json_object_set_new(o, "value", isfinite(v) ? json_real(v) : json_null());
    json_object_set_new(o, "ci95",
                        isfinite(lo) && isfinite(hi) ? json_pack("[ff]", lo, hi) : json_null());
    return o;
}

static json_t *point_json(const struct bx_size_point *p)
{
    return json_pack("{sIsososb}", "level", (json_int_t)p->level, "p95_wait_s",
                     ci_json(p->value, p->lo, p->hi), "utilization",
                     isfinite(p->utilization) ? json_real(p->utilization) : json_null(),
                     "overloaded", p->failed);
}

/* What the scenario itself has of the resource (at t = 0). */
long bx_rpt_size_current(const struct bx_port_config *pc, enum bx_size_resource r)
{
    switch (r) {
    case BX_SIZE_LANES:
        return (long)pc->land.lanes;
    case BX_SIZE_CAMERAS:
        return (long)pc->cameras_per_gate;
    case BX_SIZE_OFFICERS:
        return (long)pc->officers;
    default:
        return -1;
    }
}

static json_t *row_json(const struct bx_rpt_size_row *row)
{
    const struct bx_size_port_result *r = row->r;
    const struct bx_size_point *best = bx_size_best(&r->search);
    json_t *curve = json_array();
    for (size_t j = 0; j < r->search.n_curve; ++j)
        json_array_append_new(curve, point_json(&r->search.curve[j]));
    json_t *po = json_pack("{sssssssbsos[ff]s{sfsfsf}so}", "name", row->port->name, "type",
                           bx_port_type_name(row->port->type), "resource",
                           bx_size_resource_name(row->resource), "found", r->search.found,
                           "approx_level", json_integer((json_int_t)r->search.approx),
                           "window_hours", r->window_from_h, r->window_to_h, "approximation",
                           "lambda_per_s", r->lambda_per_s, "service_mean_s", r->service_mean_s,
                           "service_scv", r->service_scv, "curve", curve);
    /* The approximation's p95 at the simulated levels and a few either side, to draw the
     * curve's shape beyond the search's bracket (null where it is unstable). */
    if (r->search.n_curve > 0 && r->lambda_per_s > 0 && r->service_mean_s > 0) {
        unsigned lo = r->search.curve[0].level, hi = r->search.curve[r->search.n_curve - 1].level;
        lo = lo > 4 ? lo - 3 : 1;
        hi += 3;
        json_t *ac = json_array();
        for (unsigned c = lo; c <= hi; ++c) {
            double q = bx_size_wait_quantile(c, r->lambda_per_s, r->service_mean_s, 1.0,
                                             r->service_scv, 0.95);
            json_array_append_new(ac, json_pack("{sIso}", "level", (json_int_t)c, "p95_wait_s",
                                                isfinite(q) ? json_real(q) : json_null()));
        }
        json_object_set_new(po, "approx_curve", ac);
    }
    json_object_set_new(po, "level", best ? json_integer((json_int_t)best->level) : json_null());
    long now = bx_rpt_size_current(row->port, row->resource);
    json_object_set_new(po, "scenario_level", now >= 0 ? json_integer(now) : json_null());
    json_object_set_new(po, "p95_wait_s",
                        best ? ci_json(best->value, best->lo, best->hi) : json_null());
    json_object_set_new(po, "utilization",
                        best && isfinite(best->utilization) ? json_real(best->utilization)
                                                            : json_null());
    return po;
}

static json_t *rollout_json(const struct bx_rpt_size *s)
{
    json_t *ro = json_object(), *rports = json_array(), *phases = json_array();
    json_object_set_new(ro, "weeks", json_integer((json_int_t)s->weeks));
    json_object_set_new(ro, "ports", rports);
    long total_needed = 0;
    for (size_t i = 0; i < s->n_rollout; ++i) {
        const struct bx_rpt_size_rollout *rp = &s->rollout[i];
        json_t *sch = json_array(), *wk = json_array();
        for (size_t k = 0; k < s->n_phases; ++k)
            json_array_append_new(
                sch, json_pack("{sfsI}", "at_hours", s->phases[k].t_s / 3600, "units",
                               (json_int_t)bx_size_units_at(rp->port, s->phases[k].t_s)));
        if (rp->needed > 0)
            total_needed += rp->needed;
        for (unsigned k = 0; k < s->weeks; ++k) {
            const struct bx_size_week *w = &rp->weeks[k];
            const struct bx_size_point *p = &w->p95;
            json_t *wo = json_pack(
                "{sIsfsIsososb}", "week", (json_int_t)w->week, "at_hours", w->t_s / 3600, "units",
                (json_int_t)w->units, "p95_wait_s", ci_json(p->value, p->lo, p->hi), "mean_wait_s",
                isfinite(w->mean_wait_s) ? json_real(w->mean_wait_s) : json_null(), "overloaded",
                p->failed);
            /* the week meets the target when the interval's upper bound is below it */
            json_object_set_new(
                wo, "meets_target",
                json_boolean(!p->failed && isfinite(p->hi) && p->hi <= s->opts->target_p95_s));
            if (s->dated) {
                char d[16];
                bx_rpt_date(s->start_day + (long)floor(w->t_s / 86400), d);
                json_object_set_new(wo, "date", json_string(d));
            }
            json_array_append_new(wk, wo);
        }
        json_array_append_new(rports,
                              json_pack("{sssososo}", "name", rp->port->name, "needed",
                                        rp->needed > 0 ? json_integer(rp->needed) : json_null(),
                                        "schedule", sch, "weeks", wk));
    }
    for (size_t k = 0; k < s->n_phases; ++k) {
        json_t *ph = json_pack("{sfsI}", "at_hours", s->phases[k].t_s / 3600, "units",
                               (json_int_t)s->phases[k].units);
        if (s->dated) {
            char d[16];
            bx_rpt_date(s->start_day + (long)floor(s->phases[k].t_s / 86400), d);
            json_object_set_new(ph, "date", json_string(d));
        }
        json_array_append_new(phases, ph);
    }
    json_object_set_new(ro, "phases", phases);
    json_object_set_new(ro, "total_needed", json_integer(total_needed));
    return ro;
}

json_t *bx_rpt_size_json(const struct bx_rpt_size *s)
{
    const struct bx_size_opts *o = s->opts;
    json_t *root =
        json_pack("{sssssfsfsIsIsI}", "scenario", s->scenario, "scenario_file", s->scenario_file,
                  "target_p95_wait_s", o->target_p95_s, "confidence", o->confidence, "replications",
                  (json_int_t)o->replications, "window_hours", (json_int_t)o->window_hours, "seed",
                  (json_int_t)o->seed);
    if (root == NULL)
        return NULL;
    json_t *ports = json_array();
    json_object_set_new(root, "ports", ports);
    for (size_t i = 0; i < s->n_rows; ++i)
        json_array_append_new(ports, row_json(&s->rows[i]));
    if (s->dated) {
        char d[16];
        bx_rpt_date(s->start_day, d);
        json_object_set_new(root, "start_date", json_string(d));
    }
    if (s->weeks > 0)
        json_object_set_new(root, "rollout", rollout_json(s));
    return root;
}

/* The dated weekly plan of each land port: units in effect against those needed, and the
 * weekly p95 queue wait with its interval, short weeks marked. */
static void weekly_plan(FILE *h, json_t *sz, json_t *ro)
{
    double target = bx_rpt__jnum(sz, "target_p95_wait_s");
    fprintf(h,
            "<h2 id=\"weekly\">Weekly plan</h2>\n<p>A representative day of each of the first "
            "%lld weeks, with the units the scenario's rollout has in service that week%s%s%s. "
            "A week meets the target when the upper bound of its p95 interval is at most %g s; "
            "the others are marked short.</p>\n",
            (long long)json_integer_value(json_object_get(ro, "weeks")),
            json_is_string(json_object_get(sz, "start_date")) ? " (the scenario starts on " : "",
            json_is_string(json_object_get(sz, "start_date"))
                ? json_string_value(json_object_get(sz, "start_date"))
                : "",
            json_is_string(json_object_get(sz, "start_date")) ? ")" : "", target);
    json_t *ports = json_object_get(ro, "ports");
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *wk = json_object_get(p, "weeks"),
               *sch = json_object_get(p, "schedule");
        fputs("<h3>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</h3>\n<p>", h);
        json_t *last = json_array_get(sch, json_array_size(sch) ? json_array_size(sch) - 1 : 0);
        long have = last ? (long)json_integer_value(json_object_get(last, "units")) : -1;
        if (json_is_integer(json_object_get(p, "needed")))
            fprintf(h, "Needs <strong>%lld</strong> units; the rollout brings %ld.",
                    (long long)json_integer_value(json_object_get(p, "needed")), have);
        else
            fprintf(h, "Units not sized (no lane level met the target); the rollout brings %ld.",
                    have);
        fputs("</p>\n<table>\n<thead><tr><th>week</th><th>from</th><th>units</th><th>p95 "
              "queue wait s (95% CI)</th><th>mean queue wait s</th><th>target</th></tr></thead>"
              "\n<tbody>\n",
              h);
        size_t short_weeks = 0;
        for (size_t k = 0; k < json_array_size(wk); ++k) {
            json_t *w = json_array_get(wk, k), *d = json_object_get(w, "date");
            bool met = json_is_true(json_object_get(w, "meets_target"));
            short_weeks += !met;
            fprintf(h, "<tr%s><td>%lld</td><td>", met ? "" : " class=\"warn\"",
                    (long long)json_integer_value(json_object_get(w, "week")));
            if (json_is_string(d))
                bx_rpt__esc(h, json_string_value(d));
            else
                fprintf(h, "%g h", bx_rpt__jnum(w, "at_hours"));
            fprintf(h, "</td><td>%lld</td>",
                    (long long)json_integer_value(json_object_get(w, "units")));
            if (json_is_true(json_object_get(w, "overloaded")))
                fputs("<td>overloaded</td><td>&#8212;</td>", h);
            else {
                bx_rpt__ci_cell(h, json_object_get(w, "p95_wait_s"), false, 1);
                double m = bx_rpt__jnum(w, "mean_wait_s");
                if (isfinite(m))
                    fprintf(h, "<td>%.1f</td>", m);
                else
                    fputs("<td>&#8212;</td>", h);
            }
            fprintf(h, "<td>%s</td></tr>\n", met ? "met" : "short");
        }
        fprintf(h, "</tbody>\n</table>\n<p>%zu of %zu weeks short.</p>\n", short_weeks,
                json_array_size(wk));
    }
}

static void size_page(FILE *h, const struct page_plots *pp, json_t *sz)
{
    bx_rpt__html_head_as(h, "sizing", json_string_value(json_object_get(sz, "scenario")));
    fprintf(h,
            "<p>Sizing to a p95 queue wait of <strong>%g s</strong> over the busiest %lld "
            "hours (upper bound of the %.3g Student-t interval across %lld replications per "
            "level, seed %lld). Levels are confirmed by simulation: the one below was "
            "simulated and does not meet the target (docs/sizing.md). Data: "
            "<a href=\"size.json\">size.json</a>.</p>\n",
            bx_rpt__jnum(sz, "target_p95_wait_s"),
            (long long)json_integer_value(json_object_get(sz, "window_hours")),
            bx_rpt__jnum(sz, "confidence"),
            (long long)json_integer_value(json_object_get(sz, "replications")),
            (long long)json_integer_value(json_object_get(sz, "seed")));
    fputs("<h2 id=\"levels\">Levels</h2>\n<table>\n<thead><tr><th>port</th><th>type</th>"
          "<th>resource</th><th>the scenario has</th><th>needed</th><th>Erlang C / "
          "Allen-Cunneen</th><th>p95 queue wait "
          "(s)</th><th>utilisation</th><th>busiest hours</th></tr></thead>\n<tbody>\n",
          h);
    json_t *ports = json_object_get(sz, "ports");
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *w = json_object_get(p, "window_hours");
        fputs("<tr><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</td><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "type")));
        fputs("</td><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "resource")));
        fputs("</td>", h);
        bx_rpt__int_cell(h, json_object_get(p, "scenario_level"));
        if (json_is_integer(json_object_get(p, "level")))
            bx_rpt__int_cell(h, json_object_get(p, "level"));
        else
            fputs("<td>not met</td>", h);
        bx_rpt__int_cell(h, json_object_get(p, "approx_level"));
        if (json_is_object(json_object_get(p, "p95_wait_s")))
            bx_rpt__ci_cell(h, json_object_get(p, "p95_wait_s"), false, 1);
        else
            fputs("<td>&#8212;</td>", h);
        double u = bx_rpt__jnum(p, "utilization");
        if (isfinite(u))
            fprintf(h, "<td>%.3f</td>", u);
        else
            fputs("<td>&#8212;</td>", h);
        fprintf(h, "<td>%g-%g</td></tr>\n", json_number_value(json_array_get(w, 0)),
                json_number_value(json_array_get(w, 1)));
    }
    fputs("</tbody>\n</table>\n", h);
    fputs("<p class=\"note\">Waits on this page are each resource's own queue wait: the time a "
          "traveller (a vehicle at vehicle lanes) waits for a lane, unit or camera, or for an "
          "officer - not the end-to-end time from arrival to the end of processing that the run "
          "report's waits measure.</p>\n",
          h);
    json_t *ro = json_object_get(sz, "rollout");
    if (json_is_object(ro))
        weekly_plan(h, sz, ro);
    bx_rpt__html_plots(h, pp);
}

static enum bx_status size_plots(json_t *sz, const char *dir, struct rpt_plots *out,
                                 struct bx_error *err)
{
    json_t *ports = json_object_get(sz, "ports");
    double target = json_number_value(json_object_get(sz, "target_p95_wait_s"));
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *curve = json_object_get(p, "curve");
        const char *pn = json_string_value(json_object_get(p, "name")),
                   *rn = json_string_value(json_object_get(p, "resource"));
        char name[64];
        snprintf(name, sizeof name, "size_%zu_%.20s_%.12s", i, pn ? pn : "?", rn ? rn : "?");
        for (char *c = name; *c; ++c)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                *c = '_';
        FILE *f = bx_rpt__gp_open(dir, name, "dat", err);
        if (f == NULL)
            return BX_EIO;
        /* Block 0: the simulated levels; block 1: the approximation. */
        fputs("# level p95_wait_s lo hi utilization (overloaded levels are left out)\n", f);
        size_t n = 0;
        long xmin = LONG_MAX, xmax = 0;
        double ymax = target;
        char over[160] = "";
        for (size_t k = 0; k < json_array_size(curve); ++k) {
            json_t *c = json_array_get(curve, k), *w = json_object_get(c, "p95_wait_s"),
                   *ci = json_object_get(w, "ci95");
            long lvl = (long)json_integer_value(json_object_get(c, "level"));
            xmin = lvl < xmin ? lvl : xmin;
            xmax = lvl > xmax ? lvl : xmax;
            if (json_is_true(json_object_get(c, "overloaded")) ||
                !json_is_number(json_object_get(w, "value"))) {
                size_t len = strlen(over);
                snprintf(over + len, sizeof over - len, "%s%ld", len ? ", " : "", lvl);
                continue;
            }
            double v = json_number_value(json_object_get(w, "value"));
            double lo = json_is_array(ci) ? json_number_value(json_array_get(ci, 0)) : v,
                   hi = json_is_array(ci) ? json_number_value(json_array_get(ci, 1)) : v;
            ymax = isfinite(hi) && hi > ymax ? hi : ymax;
            fprintf(f, "%ld %.6g %.6g %.6g %.6g\n", lvl, v, lo, hi,
                    json_number_value(json_object_get(c, "utilization")));
            ++n;
        }
        if (n == 0) /* gnuplot needs a block: one empty point */
            fputs("NaN NaN NaN NaN NaN\n", f);
        fputs("\n\n# level p95_wait_s (Erlang C / Allen-Cunneen; NaN: unstable)\n", f);
        json_t *ac = json_object_get(p, "approx_curve");
        for (size_t k = 0; k < json_array_size(ac); ++k) {
            json_t *a = json_array_get(ac, k);
            long lvl = (long)json_integer_value(json_object_get(a, "level"));
            double v = bx_rpt__jnum(a, "p95_wait_s");
            xmin = lvl < xmin ? lvl : xmin;
            xmax = lvl > xmax ? lvl : xmax;
            fprintf(f, "%ld %.6g\n", lvl, v);
            ymax = isfinite(v) && v > ymax ? v : ymax;
        }
        if (json_array_size(ac) == 0)
            fputs("NaN NaN\n", f);
        enum bx_status st = bx_rpt__gp_close(f, name, err);
        if (st != BX_OK)
            return st;
        if (n == 0 && json_array_size(ac) == 0)
            continue;
        char body[4096], title[200], caption[400];
        snprintf(title, sizeof title, "Capacity curve: %s, %s", pn ? pn : "?", rn ? rn : "?");
        FILE *b = fmemopen(body, sizeof body, "w");
        if (b == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        bx_rpt__gp_setf(b, "set title", "%s", title);
        bx_rpt__gp_setf(b, "set xlabel", "%s (level)", rn ? rn : "servers");
        /* The whole axis: every level simulated or approximated, the target across it; waits
         * far above the target are cut at 4 times it (the approximation grows without bound
         * near saturation). */
        bx_rpt__gp_hline(b, target);
        fprintf(b,
                "set grid\nset ylabel 'p95 queue wait in the busiest "
                "hours (s)'\nset key top right\nset xtics 1\nset xrange [%g:%g]\n"
                "set yrange [0:%g]\n"
                "plot '%s.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 pt 7 lc 1 title "
                "'simulated p95 (95%% interval)', '%s.dat' index 1 using 1:2 with linespoints "
                "dt 3 pt 6 lc 'gray50' title 'Erlang C / Allen-Cunneen', NaN with lines dt 2 lw "
                "2 lc 'red' title 'target %g s'\n",
                (double)xmin - 0.5, (double)xmax + 0.5, fmin(ymax, 4 * target) * 1.1, name, name,
                target);
        fclose(b);
        snprintf(caption, sizeof caption,
                 "Every level the search simulated (%zu), with the Student-t interval of the p95 "
                 "queue wait across replications; dotted: the queueing approximation the search "
                 "started from; dashed: the target%s%s%s.",
                 n, over[0] ? "; overloaded (queues never cleared, not drawn): level" : "",
                 over[0] && strchr(over, ',') ? "s "
                 : over[0]                    ? " "
                                              : "",
                 over);
        if ((st = bx_rpt__gp_script(dir, name, body, false, err)) != BX_OK ||
            (st = bx_rpt__add_plot(out, name, title, caption, err)) != BX_OK)
            return st;
    }
    return BX_OK;
}

/* Each land port's weekly plan as a chart: the weekly p95 queue wait with its interval (short
 * weeks in red), the target, and the units in service on the right axis; dated when the
 * scenario has a start date. */
static enum bx_status weekly_plots(json_t *sz, const char *dir, struct rpt_plots *out,
                                   struct bx_error *err)
{
    json_t *ro = json_object_get(sz, "rollout"), *ports = json_object_get(ro, "ports");
    double target = bx_rpt__jnum(sz, "target_p95_wait_s");
    bool dated = json_is_string(json_object_get(sz, "start_date"));
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *wk = json_object_get(p, "weeks");
        const char *pn = json_string_value(json_object_get(p, "name"));
        char name[64], body[4096], title[200];
        snprintf(name, sizeof name, "weekly_%zu", i);
        FILE *f, *b;
        enum bx_status st = bx_rpt__plot_begin(dir, name, body, sizeof body, &f, &b, err);
        if (st != BX_OK)
            return st;
        fputs("# x (date or week) units p95_met lo hi p95_short lo hi (NaN: not this kind or "
              "overloaded)\n",
              f);
        size_t shown = 0;
        for (size_t k = 0; k < json_array_size(wk); ++k) {
            json_t *w = json_array_get(wk, k), *pw = json_object_get(w, "p95_wait_s"),
                   *ci = json_object_get(pw, "ci95");
            bool met = json_is_true(json_object_get(w, "meets_target"));
            double v = bx_rpt__jnum(pw, "value"),
                   lo = json_is_array(ci) ? json_number_value(json_array_get(ci, 0)) : v,
                   hi = json_is_array(ci) ? json_number_value(json_array_get(ci, 1)) : v;
            if (json_is_true(json_object_get(w, "overloaded")))
                v = lo = hi = BX_NAN;
            if (dated)
                fprintf(f, "%s", json_string_value(json_object_get(w, "date")));
            else
                fprintf(f, "%lld", (long long)json_integer_value(json_object_get(w, "week")));
            fprintf(f, " %lld", (long long)json_integer_value(json_object_get(w, "units")));
            for (int kind = 0; kind < 2; ++kind) {
                bool here = kind == 0 ? met : !met;
                fprintf(f, " %.6g %.6g %.6g", here ? v : BX_NAN, here ? lo : BX_NAN,
                        here ? hi : BX_NAN);
            }
            fputc('\n', f);
            ++shown;
        }
        snprintf(title, sizeof title, "Weekly plan: %s", pn ? pn : "?");
        bx_rpt__gp_setf(b, "set title", "%s", title);
        bx_rpt__gp_hline(b, target);
        fputs("set grid\nset key outside bottom center horizontal\n"
              "set ylabel 'p95 queue wait (s)'\nset y2label 'units in service'\n"
              "set y2tics 1\nset ytics nomirror\nset yrange [0:*]\nset y2range [0:*]\n"
              "set offsets 0.5, 0.5, 0, 0\n",
              b);
        if (dated)
            fputs("set xdata time\nset timefmt '%Y-%m-%d'\nset format x '%d %b'\n"
                  "set xlabel 'week starting'\nset xtics 7*86400 rotate by -45\n"
                  "set offsets 3.5*86400, 3.5*86400, 0, 0\n",
                  b);
        else
            fputs("set xlabel 'week'\nset xtics 1\n", b);
        fprintf(b,
                "plot '%s.dat' using 1:3:4:5 with yerrorbars pt 7 lc 1 title 'p95, meets "
                "the target (95%% interval)', '%s.dat' using 1:6:7:8 with yerrorbars pt 5 "
                "lc 'red' title 'p95, short', NaN with lines dt 2 lw 2 lc 'red' title 'target "
                "%g s', '%s.dat' using 1:2 axes x1y2 with steps lw 2 lc 'gray40' title 'units "
                "in service'",
                name, name, target, name);
        if ((st = bx_rpt__plot_end(
                 f, b, dir, name, body, shown, false, title,
                 "A representative day of each week with the units the rollout has in service "
                 "(right axis): the p95 queue wait with its interval, red where the interval's "
                 "upper bound is above the target (short); overloaded weeks are not drawn.",
                 out, err)) != BX_OK)
            return st;
    }
    return BX_OK;
}

static enum bx_status plots(void *src, const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    enum bx_status st = size_plots(src, dir, out, err);
    return st == BX_OK ? weekly_plots(src, dir, out, err) : st;
}

static void html(FILE *h, const struct page_plots *pp, void *src)
{
    size_page(h, pp, src);
}

const struct rpt_page bx_rpt__page_size = {"size_plots", "size.html", plots, html};
