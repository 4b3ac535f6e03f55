/* SPDX-License-Identifier: MIT */
/* page_network.c - report.html of a station-network run, from its summary.json (such runs write
 * no results.h5): stations, routing and the plots of waits and utilisation. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_page.h"

/* The page of a station-network run, from its summary.json (such runs write no results.h5). */
static void network_page(FILE *h, const struct page_plots *pp, json_t *sm)
{
    bx_rpt__html_head(h, json_string_value(json_object_get(sm, "scenario")));
    fputs("<dl>\n<dt>scenario file</dt><dd>", h);
    bx_rpt__esc(h, json_string_value(json_object_get(sm, "scenario_file")));
    fprintf(h,
            "</dd>\n<dt>kind</dt><dd>station network</dd>\n<dt>seed</dt><dd>%lld</dd>\n"
            "<dt>replications</dt><dd>%lld</dd>\n<dt>simulated time</dt><dd>%.4g h (warm-up "
            "%.4g h deleted)</dd>\n<dt>bxsim</dt><dd>",
            (long long)json_integer_value(json_object_get(sm, "seed")),
            (long long)json_integer_value(json_object_get(sm, "replications")),
            bx_rpt__jnum(sm, "horizon_s") / 3600, bx_rpt__jnum(sm, "warmup_s") / 3600);
    bx_rpt__esc(h, json_string_value(json_object_get(sm, "bxsim_version")));
    fprintf(h, "</dd>\n<dt>events</dt><dd>%lld</dd>\n</dl>\n<p>data: ",
            (long long)json_integer_value(json_object_get(sm, "events")));
    fputs("<a href=\"summary.json\">summary.json</a></p>\n", h);
    fputs("<h2 id=\"stations\">Stations</h2>\n<table>\n<thead><tr><th>station</th>"
          "<th>servers</th><th>arrivals</th><th>served</th><th>balked</th><th>reneged</th>"
          "<th>mean wait (s)</th><th>p50 wait (s)</th><th>p95 wait (s)</th><th>p99 wait (s)</th>"
          "<th>queue length</th><th>utilisation</th><th>throughput (/h)</th></tr></thead>\n"
          "<tbody>\n",
          h);
    json_t *st = json_object_get(sm, "stations");
    for (size_t i = 0; i < json_array_size(st); ++i) {
        json_t *x = json_array_get(st, i), *w = json_object_get(x, "wait_s");
        fputs("<tr><td>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(x, "name")));
        fputs("</td>", h);
        static const char *const counts[] = {"servers", "arrivals", "served", "balked", "reneged"};
        for (int k = 0; k < 5; ++k)
            bx_rpt__int_cell(h, json_object_get(x, counts[k]));
        static const char *const q[] = {"mean", "p50", "p95", "p99"};
        for (int k = 0; k < 4; ++k)
            bx_rpt__ci_cell(h, json_object_get(w, q[k]), false, 2);
        bx_rpt__ci_cell(h, json_object_get(json_object_get(x, "queue_length"), "mean"), false, 3);
        bx_rpt__ci_cell(h, json_object_get(json_object_get(x, "utilization"), "mean"), false, 3);
        bx_rpt__ci_cell(h, json_object_get(x, "throughput_per_h"), false, 1);
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n", h);
    json_t *sys = json_object_get(sm, "system");
    double lam = bx_rpt__jnum(json_object_get(sys, "arrival_rate_per_s"), "value"),
           W = bx_rpt__jnum(json_object_get(json_object_get(sys, "system_time_s"), "mean"),
                            "value"),
           L = bx_rpt__jnum(json_object_get(json_object_get(sys, "in_system"), "mean"), "value");
    fprintf(h,
            "<h2 id=\"system\">The whole system</h2>\n<table>\n<tbody>\n"
            "<tr><td>customers who left</td><td>%lld</td></tr>\n"
            "<tr><td>arrival rate (per s)</td><td>%.5g</td></tr>\n"
            "<tr><td>mean time in the system W (s)</td><td>%.4g</td></tr>\n"
            "<tr><td>mean number in the system L</td><td>%.4g</td></tr>\n"
            "<tr><td>Little's law: arrival rate x W</td><td>%.4g</td></tr>\n"
            "</tbody>\n</table>\n",
            (long long)json_integer_value(json_object_get(sys, "departed")), lam, W, L, lam * W);
    bx_rpt__html_plots(h, pp);
}

static enum bx_status network_plots(json_t *summary, const char *dir, struct rpt_plots *out,
                                    struct bx_error *err)
{
    json_t *st = json_object_get(summary, "stations");
    size_t n = json_array_size(st);
    if (n == 0)
        return BX_OK;
    const char *name = "station_waits";
    FILE *f = bx_rpt__gp_open(dir, name, "dat", err);
    if (f == NULL)
        return BX_EIO;
    fputs("# index station mean_wait_s lo hi p95_wait_s lo hi (Student-t 95% across "
          "replications)\n",
          f);
    for (size_t i = 0; i < n; ++i) {
        json_t *s = json_array_get(st, i);
        const char *nm = json_string_value(json_object_get(s, "name"));
        fprintf(f, "%zu ", i);
        bx_rpt__gp_datum(f, nm ? nm : "?");
        for (int q = 0; q < 2; ++q) {
            const char *key = q ? "p95" : "mean";
            json_t *fig = json_object_get(json_object_get(s, "wait_s"), key);
            json_t *ci = json_object_get(fig, "ci95");
            double v = json_number_value(json_object_get(fig, "value"));
            double lo = json_is_array(ci) ? json_number_value(json_array_get(ci, 0)) : v,
                   hi = json_is_array(ci) ? json_number_value(json_array_get(ci, 1)) : v;
            fprintf(f, " %.6g %.6g %.6g", v, lo, hi);
        }
        fputc('\n', f);
    }
    enum bx_status rc = bx_rpt__gp_close(f, name, err);
    if (rc != BX_OK)
        return rc;
    char body[4096];
    snprintf(body, sizeof body,
             "set title 'Waits by station (95%% intervals across replications)'\nset grid y\n"
             "set style data histograms\nset style histogram errorbars gap 2 lw 1\n"
             "set style fill solid 0.6 border -1\nset boxwidth 0.9\nset yrange [0:*]\n"
             "set ylabel 'wait before service (s)'\nset xtics rotate by -30\n"
             "set key outside right top\n"
             "plot '%s.dat' using 3:4:5:xtic(2) title 'mean', '' using 6:7:8 title 'p95'\n",
             name);
    if ((rc = bx_rpt__gp_script(dir, name, body, false, err)) != BX_OK)
        return rc;
    return bx_rpt__add_plot(out, name, "Waits by station",
                            "Mean and 95th-percentile wait before service at each station, with "
                            "Student-t 95% intervals across replications.",
                            err);
}

static enum bx_status plots(void *src, const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    return network_plots(src, dir, out, err);
}

static void html(FILE *h, const struct page_plots *pp, void *src)
{
    network_page(h, pp, src);
}

const struct rpt_page bx_rpt__page_network = {"plots", "report.html", plots, html};
