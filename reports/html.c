/* SPDX-License-Identifier: MIT */
/* html.c - what every page's XHTML shares: escaping, number cells, the head with its style sheet
 * (inline: the page needs no network) and the plots section. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report_page.h"

void bx_rpt__esc(FILE *h, const char *s)
{
    for (; s && *s; ++s) {
        switch (*s) {
        case '&':
            fputs("&amp;", h);
            break;
        case '<':
            fputs("&lt;", h);
            break;
        case '>':
            fputs("&gt;", h);
            break;
        case '"':
            fputs("&quot;", h);
            break;
        case '\'':
            fputs("&#39;", h);
            break;
        default:
            /* Control characters other than tab and newline are not allowed in XHTML. */
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, h);
        }
    }
}

double bx_rpt__jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : BX_NAN;
}

/* One number: %.*f, or %.*g when @p g. */
static void number(FILE *h, double v, bool g, int prec)
{
    if (g)
        fprintf(h, "%.*g", prec, v);
    else
        fprintf(h, "%.*f", prec, v);
}

/* "value [lo, hi]" from a {value, ci95} object. */
void bx_rpt__ci_cell(FILE *h, json_t *o, bool g, int prec)
{
    double v = bx_rpt__jnum(o, "value");
    json_t *ci = json_object_get(o, "ci95");
    fputs("<td>", h);
    if (!isfinite(v)) {
        fputs("&#8212;</td>", h);
        return;
    }
    number(h, v, g, prec);
    if (json_is_array(ci)) {
        fputs(" <span class=\"ci\">[", h);
        number(h, json_number_value(json_array_get(ci, 0)), g, prec);
        fputs(", ", h);
        number(h, json_number_value(json_array_get(ci, 1)), g, prec);
        fputs("]</span>", h);
    }
    fputs("</td>", h);
}

void bx_rpt__int_cell(FILE *h, json_t *v)
{
    if (json_is_integer(v))
        fprintf(h, "<td>%lld</td>", (long long)json_integer_value(v));
    else
        fputs("<td>&#8212;</td>", h);
}

bool bx_rpt__file_exists(const char *dir, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return false;
    return access(path, F_OK) == 0;
}

void bx_rpt__html_plots(FILE *h, const struct page_plots *pp)
{
    const char *sub = pp->sub, *note = pp->note;
    const struct rpt_plots *pl = pp->pl;
    bool images = pp->images;
    fputs("<h2 id=\"plots\">Plots</h2>\n", h);
    if (!images)
        fprintf(h,
                "<p class=\"warn\">Plots were not drawn (%s): their data and gnuplot scripts "
                "are in %s/; run <code>gnuplot NAME.gp</code> there.</p>\n",
                note, sub);
    char plots_dir[4096];
    if (snprintf(plots_dir, sizeof plots_dir, "%s/%s", pp->dir, sub) >= (int)sizeof plots_dir)
        plots_dir[0] = '\0';
    for (size_t i = 0; i < pl->n; ++i) {
        const struct rpt_plot *p = &pl->v[i];
        char png[96], svg[96];
        snprintf(png, sizeof png, "%s.png", p->name);
        snprintf(svg, sizeof svg, "%s.svg", p->name);
        fputs("<figure>\n", h);
        if (bx_rpt__file_exists(plots_dir, png)) {
            fprintf(h, "<img src=\"%s/%s\" alt=\"", sub, png);
            bx_rpt__esc(h, p->title);
            fputs("\" />\n", h);
        }
        fputs("<figcaption><strong>", h);
        bx_rpt__esc(h, p->title);
        fputs(".</strong> ", h);
        bx_rpt__esc(h, p->caption);
        fputs(" <span class=\"files\">", h);
        if (bx_rpt__file_exists(plots_dir, svg))
            fprintf(h, "<a href=\"%s/%s\">SVG</a> &#183; ", sub, svg);
        fprintf(h,
                "<a href=\"%s/%s.dat\">data</a> &#183; <a href=\"%s/%s.gp\">gnuplot "
                "script</a></span></figcaption>\n</figure>\n",
                sub, p->name, sub, p->name);
    }
}

static const char css[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1100px;"
    "color:#222;line-height:1.4}"
    "h1{font-size:1.6em;margin-bottom:0.2em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:0.6em 0;font-size:0.85em}"
    "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}"
    "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    ".ci{color:#666;font-size:0.9em}.note{color:#555;font-size:0.85em}"
    ".warn{background:#fff3cd;padding:0.5em;border:1px solid #e0c060}"
    "figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #ddd}"
    "figcaption{font-size:0.85em;color:#444}pre{background:#f7f7f7;padding:0.6em;"
    "overflow-x:auto;font-size:0.8em}dl{display:grid;grid-template-columns:max-content auto;"
    "gap:0.1em 1em}dt{font-weight:bold}dd{margin:0}";

void bx_rpt__html_head_as(FILE *h, const char *what, const char *name)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
          "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n<head>\n"
          "<meta charset=\"UTF-8\" />\n<title>bxsim ",
          h);
    bx_rpt__esc(h, what);
    fputs(": ", h);
    bx_rpt__esc(h, name);
    fprintf(h, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>bxsim ", css);
    bx_rpt__esc(h, what);
    fputs(": ", h);
    bx_rpt__esc(h, name);
    fputs("</h1>\n", h);
}

void bx_rpt__html_head(FILE *h, const char *scenario)
{
    bx_rpt__html_head_as(h, "report", scenario);
}

void bx_rpt__html_nav(FILE *h, const char *const *ids, const char *const *labels, size_t n)
{
    fputs("<nav><p>", h);
    for (size_t i = 0; i < n; ++i) {
        fprintf(h, "%s<a href=\"#%s\">", i ? " &#183; " : "", ids[i]);
        bx_rpt__esc(h, labels[i]);
        fputs("</a>", h);
    }
    fputs("</p></nav>\n", h);
}
