/* SPDX-License-Identifier: MIT */
/* report_page.h - shared by reports/'s pages, never installed.
 *
 * A page (page_run.c, page_network.c, page_audit.c, page_size.c) is a pair of functions: its
 * plots (a data file and a gnuplot script each, through gnuplot.c) and its XHTML (through
 * html.c). report.c publishes a page: plots built in a temporary folder, drawn by gnuplot, the
 * folder swapped in whole, then the page written atomically. A new page is a new page_*.c with a
 * `struct rpt_page` and an entry point in report.c. */
#ifndef BX_REPORT_PAGE_H
#define BX_REPORT_PAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bx/common.h"
#include "bx/report.h"

/* One plot of a page: SUB/<name>.{dat,gp,png,svg}. */
struct rpt_plot {
    char name[64];
    char title[160];
    char caption[400];
};

struct rpt_plots {
    struct rpt_plot *v;
    size_t n, cap;
};

/* What a page shows of its plots: the folder the page is written to, the plot folder's name in
 * it, the run folder the page describes (its summary.json), the plots, and whether gnuplot drew
 * them (or why not). */
struct page_plots {
    const char *dir, *sub;
    const char *src;
    const struct rpt_plots *pl;
    bool images;
    const char *note;
};

/* A page: its plot folder and file names, its plots and its XHTML from @p src (the page's own
 * input: struct bx_rpt_results for a run, a json_t object otherwise). */
struct rpt_page {
    const char *sub, *file;
    enum bx_status (*plots)(void *src, const char *dir, struct rpt_plots *out,
                            struct bx_error *err);
    void (*html)(FILE *h, const struct page_plots *pp, void *src); /* up to </body> */
};

extern const struct rpt_page bx_rpt__page_run, bx_rpt__page_network, bx_rpt__page_audit,
    bx_rpt__page_size, bx_rpt__page_overstay, bx_rpt__page_compare;

/* ---------------------------------------------------------------- gnuplot.c */

/* DIR/NAME.EXT opened for writing, or NULL with @p err set. */
FILE *bx_rpt__gp_open(const char *dir, const char *name, const char *ext, struct bx_error *err);
/* Close @p f; BX_EIO "cannot write WHAT" when anything failed. */
enum bx_status bx_rpt__gp_close(FILE *f, const char *what, struct bx_error *err);
/* List a plot. */
enum bx_status bx_rpt__add_plot(struct rpt_plots *out, const char *name, const char *title,
                                const char *caption, struct bx_error *err);

/* Text from a data file, a scenario or a results file never reaches gnuplot as code.
 * bx_rpt__gp_string writes @p text as a gnuplot double-quoted string literal (titles, labels,
 * keys) that gnuplot reads back as exactly @p text, shown literally in enhanced-text mode;
 * bx_rpt__gp_datum writes it as a quoted field of a data file (xtic labels). Both replace bytes
 * that are not UTF-8 and control characters with '?'; the datum also turns '"' into '\''. */
void bx_rpt__gp_string(FILE *f, const char *text);
void bx_rpt__gp_datum(FILE *f, const char *text);
/* A data file's comment line "# TEXT" (no line break written): no control bytes. */
void bx_rpt__gp_comment(FILE *f, const char *text);
/* "CMD TEXT\n" (set title, set xlabel, ...) with TEXT from a printf format, as a literal. */
void bx_rpt__gp_setf(FILE *b, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* DIR/NAME.gp: @p body drawn once to NAME.png and once to NAME.svg. */
enum bx_status bx_rpt__gp_script(const char *dir, const char *name, const char *body, bool tall,
                                 struct bx_error *err);
/* A plot's data file and the in-memory buffer (@p body, @p size bytes) its script is written
 * into; bx_rpt__plot_end closes both and, when something was drawn (@p shown > 0), writes the
 * script and lists the plot, otherwise removes the data file. */
enum bx_status bx_rpt__plot_begin(const char *dir, const char *name, char *body, size_t size,
                                  FILE **f, FILE **b, struct bx_error *err);
enum bx_status bx_rpt__plot_end(FILE *f, FILE *b, const char *dir, const char *name,
                                const char *body, size_t shown, bool tall, const char *title,
                                const char *caption, struct rpt_plots *out, struct bx_error *err);
/* The standard normal quantile, and DET axes on normal-deviate scales titled @p title, ending
 * with "plot " for the caller's curves. */
/* A plot that says it has nothing to draw and why (the page's caption too), instead of empty
 * axes: its data file holds only the reason. */
enum bx_status bx_rpt__plot_nodata(const char *dir, const char *name, const char *title,
                                   const char *why, struct rpt_plots *out, struct bx_error *err);
/* A dashed red line across the plot at y (the key entry: a NaN line titled by the caller). */
void bx_rpt__gp_hline(FILE *b, double y);
double bx_rpt__probit(double p);
void bx_rpt__det_axes(FILE *b, const char *title);

/* Run gnuplot on every script in @p dir; false (nothing made) when @p gnuplot cannot be run or
 * fails, and with *cut set when it exited 0 but left an image incomplete (a failed write).
 * gnuplot's messages go to dir/gnuplot.log. */
bool bx_rpt__run_gnuplot(const char *gnuplot, const char *dir, const struct rpt_plots *plots,
                         bool *cut, struct bx_error *err);

/* ---------------------------------------------------------------- html.c */

/* @p s with XHTML's special characters escaped and control bytes left out. */
void bx_rpt__esc(FILE *h, const char *s);
/* The number @p key of object @p o, or NaN. */
double bx_rpt__jnum(json_t *o, const char *key);
/* A table cell "value [lo, hi]" from a {value, ci95} object (%.*g when @p g, else %.*f). */
void bx_rpt__ci_cell(FILE *h, json_t *o, bool g, int prec);
/* A table cell holding an integer, or a dash. */
void bx_rpt__int_cell(FILE *h, json_t *v);
bool bx_rpt__file_exists(const char *dir, const char *name);
/* The page's head (title "bxsim report: NAME", the style sheet) up to its <h1>. */
void bx_rpt__html_head(FILE *h, const char *name);
/* The same titled "bxsim WHAT: NAME" (audit, sizing, overstay report, comparison). */
void bx_rpt__html_head_as(FILE *h, const char *what, const char *name);
/* A line of links to the page's sections (ids without '#'). */
void bx_rpt__html_nav(FILE *h, const char *const *ids, const char *const *labels, size_t n);
/* The "Plots" section: each plot's image, caption and files. */
void bx_rpt__html_plots(FILE *h, const struct page_plots *pp);

/* ---------------------------------------------------------------- plots_run.c */

/* The plots of a ports run (queues by port group, DET, rates against threshold, FPIR against
 * gallery size). */
enum bx_status bx_rpt__run_plots(const struct bx_rpt_results *d, const char *dir,
                                 struct rpt_plots *out, struct bx_error *err);

#endif /* BX_REPORT_PAGE_H */
