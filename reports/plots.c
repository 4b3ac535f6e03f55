/* SPDX-License-Identifier: MIT */
/* plots.c - the report's plots: a data file and a gnuplot script per plot (kept beside the
 * images, so that a plot can be re-drawn or restyled by hand), then gnuplot, the external
 * program, makes a PNG (pngcairo) and an SVG of each.
 *
 * Queue plots: wait-time CDF, queue length and utilisation over the day, throughput by hour, per
 * port grouped by port type and lane kind, with min-max bands over replications. Matching plots
 * (from the per-traveller samples): DET curves on normal-deviate axes overall, per port type,
 * sex, age band and region of birth, with Clopper-Pearson 95% bands on FNMR; FNMR and FMR
 * versus threshold; FPIR versus gallery size (FPIR = 1 - (1 - FMR)^N, sources.md section 6).
 * Genuine scores are the live capture against the traveller's own document photo; non-mated
 * scores are the zero-effort impostor comparison stored with every sample.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>

#include "bx/models.h"
#include "bx/sim.h"

#include "report_data.h"

/* ---------------------------------------------------------------- plumbing */

static FILE *open_file(const char *dir, const char *name, const char *ext, struct bx_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext) >= (int)sizeof path) {
        BX_FAIL(err, BX_EINVAL, "%s: path too long", dir);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    return f;
}

static enum bx_status close_file(FILE *f, const char *what, struct bx_error *err)
{
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad)
        return BX_FAIL(err, BX_EIO, "cannot write %s", what);
    return BX_OK;
}

static enum bx_status add_plot(struct rpt_plots *out, const char *name, const char *title,
                               const char *caption, struct bx_error *err)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 16;
        struct rpt_plot *v = realloc(out->v, cap * sizeof *v);
        if (v == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        out->v = v;
        out->cap = cap;
    }
    struct rpt_plot *p = &out->v[out->n++];
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->title, sizeof p->title, "%s", title);
    snprintf(p->caption, sizeof p->caption, "%s", caption);
    return BX_OK;
}

/* ---------------------------------------------------------------- text into gnuplot */

/* Length of the valid UTF-8 sequence at @p s (1-4), or 0 when it is not one (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* gnuplot's enhanced-text markup characters, shown as themselves when a backslash precedes. */
static bool gp_markup(unsigned char c)
{
    return c != '\0' && strchr("^_@&~{}\\", c) != NULL;
}

void bx_rpt__gp_string(FILE *f, const char *text)
{
    /* Every byte except letters, digits and a few punctuation marks is written as an octal
     * escape: the script line then holds none of the input's quotes, backquotes (command
     * substitution, done even inside double quotes), '@' (macros), '$', backslashes or line
     * breaks, so gnuplot can only read it as one string. */
    fputc('"', f);
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0 || *s < 0x20 || *s == 0x7f) {
            fputc('?', f); /* not UTF-8, or a control character */
            ++s;
            continue;
        }
        for (size_t k = 0; k < n; ++k, ++s) {
            unsigned char c = *s;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                (c != '\0' && strchr(" ,.:;-+()/=%", c) != NULL)) {
                fputc(c, f);
                continue;
            }
            if (gp_markup(c))
                fputs("\\134", f); /* a backslash: the next character is not markup */
            fprintf(f, "\\%03o", c);
        }
    }
    fputc('"', f);
}

/* A data file's comment line "# TEXT: rest": @p text without line breaks or control bytes. */
static void comment(FILE *f, const char *text)
{
    fputs("# ", f);
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s; ++s)
        fputc(*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* "set title TEXT" (or another command taking one string) from a printf format. */
static void gp_setf(FILE *b, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void gp_setf(FILE *b, const char *cmd, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(b, "%s ", cmd);
    bx_rpt__gp_string(b, text);
    fputc('\n', b);
}

void bx_rpt__gp_datum(FILE *f, const char *text)
{
    /* gnuplot reads a data file's quoted field up to the next double quote, taking "\\X" as X:
     * quotes and line breaks would end the field or the line, so they are replaced; markup
     * characters get their (escaped) backslash as in titles. */
    fputc('"', f);
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0 || *s < 0x20 || *s == 0x7f || *s == '"') {
            fputc(*s == '"' ? '\'' : '?', f);
            ++s;
            continue;
        }
        if (gp_markup(*s))
            fputs("\\\\", f); /* the reader turns "\\" into one backslash: markup shown */
        if (*s == '\\')
            fputc('\\', f);
        fwrite(s, 1, n, f);
        s += n;
    }
    fputc('"', f);
}

/* Write the script: the same body drawn once to PNG and once to SVG. */
static enum bx_status write_script(const char *dir, const char *name, const char *body, bool tall,
                                   struct bx_error *err)
{
    FILE *f = open_file(dir, name, "gp", err);
    if (f == NULL)
        return BX_EIO;
    const char *size = tall ? "1000,820" : "1000,600";
    fprintf(f,
            "# Made by bxsim from %s.dat; run `gnuplot %s.gp` in this folder to redraw.\n"
            "set datafile missing 'NaN'\n"
            "set encoding utf8\n",
            name, name);
    fprintf(f,
            "set terminal pngcairo size %s enhanced font 'DejaVu Sans,11' background '#ffffff'\n"
            "set output '%s.png'\nreset\n%s\nunset output\n",
            size, name, body);
    fprintf(f,
            "set terminal svg size %s enhanced font 'DejaVu Sans,11' background '#ffffff'\n"
            "set output '%s.svg'\nreset\n%s\nunset output\n",
            size, name, body);
    return close_file(f, name, err);
}

/* A plot's data file and the in-memory buffer its gnuplot body is written into. */
static enum bx_status begin_plot(const char *dir, const char *name, char *body, size_t size,
                                 FILE **f, FILE **b, struct bx_error *err)
{
    if ((*f = open_file(dir, name, "dat", err)) == NULL)
        return BX_EIO;
    if ((*b = fmemopen(body, size, "w")) == NULL) {
        fclose(*f);
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    }
    return BX_OK;
}

/* Close both, and when something was drawn (@p shown) write the script and list the plot;
 * otherwise remove the data file. */
static enum bx_status end_plot(FILE *f, FILE *b, const char *dir, const char *name,
                               const char *body, size_t shown, bool tall, const char *title,
                               const char *caption, struct rpt_plots *out, struct bx_error *err)
{
    fputc('\n', b);
    fclose(b);
    enum bx_status st = close_file(f, name, err);
    if (st == BX_OK && shown == 0) {
        /* Nothing to draw: no data file without its plot. */
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s.dat", dir, name) < (int)sizeof path)
            remove(path);
    }
    if (st != BX_OK || shown == 0)
        return st;
    if ((st = write_script(dir, name, body, tall, err)) != BX_OK)
        return st;
    return add_plot(out, name, title, caption, err);
}

/* ---------------------------------------------------------------- queue plots */

static const char *group_of(const struct rpt_port *p, char *buf, size_t len)
{
    if (strcmp(p->type, "land") == 0)
        snprintf(buf, len, "land-%s", p->lane_kind);
    else
        snprintf(buf, len, "%s", p->type);
    return buf;
}

static const char *const group_order[] = {"air", "sea", "private", "land-vehicle",
                                          "land-pedestrian"};
#define N_GROUPS 5

static bool in_group(const struct rpt_port *p, const char *g)
{
    char b[48];
    return strcmp(group_of(p, b, sizeof b), g) == 0;
}

/* Mean, min and max over replications of x[r * n + j]. */
static void over_reps(const double *x, size_t R, size_t n, size_t j, double *mean, double *lo,
                      double *hi)
{
    double s = 0, a = BX_INF, b = -BX_INF;
    size_t k = 0;
    for (size_t r = 0; r < R; ++r) {
        double v = x[r * n + j];
        if (!isfinite(v))
            continue;
        s += v;
        a = fmin(a, v);
        b = fmax(b, v);
        ++k;
    }
    *mean = k ? s / (double)k : BX_NAN;
    *lo = k ? a : BX_NAN;
    *hi = k ? b : BX_NAN;
}

/* Hours worth plotting: up to the last hour with arrivals in any port of the group, at least
 * the horizon. */
static size_t plot_hours(const struct rpt_data *d, const char *g)
{
    size_t last = (size_t)ceil(d->horizon_s / 3600);
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct rpt_port *p = &d->ports[i];
        if (!in_group(p, g))
            continue;
        for (size_t h = 0; h < p->H; ++h)
            for (size_t r = 0; r < p->R; ++r)
                if (p->arrivals[r * p->H + h] > 0 || p->queue[r * p->H + h] > 0)
                    last = h + 1 > last ? h + 1 : last;
    }
    return last;
}

static enum bx_status wait_cdf(const struct rpt_data *d, const char *g, const char *dir,
                               struct rpt_plots *out, struct bx_error *err)
{
    char name[64], body[32768];
    snprintf(name, sizeof name, "wait_cdf_%s", g);
    FILE *f, *b;
    if (begin_plot(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    gp_setf(b, "set title", "Wait-time distribution: %s ports", g);
    fprintf(b, "set xlabel 'wait from arrival at the camera or lane to leaving processing (s)'\n"
               "set ylabel 'fraction of travellers waiting at most x'\n"
               "set logscale x\nset yrange [0:1]\nset grid\nset key outside right top font ',9'\n"
               "set style fill transparent solid 0.15 noborder\nplot ");
    size_t block = 0, shown = 0;
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct rpt_port *p = &d->ports[i];
        if (!in_group(p, g) || p->K == 0 || p->R == 0)
            continue;
        comment(f, p->name);
        fprintf(f, ": wait_s (mean over %zu replications) level\n", p->R);
        for (size_t k = 0; k < p->K; ++k) {
            double m, lo, hi;
            over_reps(p->cdf, p->R, p->K, k, &m, &lo, &hi);
            if (m > 0)
                fprintf(f, "%.6g %.6g\n", m, p->levels[k]);
        }
        fputs("\n\n", f);
        size_t curve = block++;
        size_t band = 0;
        if (p->R >= 2) {
            /* The min-max band over replications, as a closed polygon. */
            comment(f, p->name);
            fputs(": band (min then max over replications)\n", f);
            for (size_t k = 0; k < p->K; ++k) {
                double m, lo, hi;
                over_reps(p->cdf, p->R, p->K, k, &m, &lo, &hi);
                if (lo > 0)
                    fprintf(f, "%.6g %.6g\n", lo, p->levels[k]);
            }
            for (size_t k = p->K; k-- > 0;) {
                double m, lo, hi;
                over_reps(p->cdf, p->R, p->K, k, &m, &lo, &hi);
                if (hi > 0)
                    fprintf(f, "%.6g %.6g\n", hi, p->levels[k]);
            }
            fputs("\n\n", f);
            band = block++;
        }
        fprintf(b, "%s'%s.dat' index %zu using 1:2 with lines lw 2 lc %zu title ",
                shown ? ", \\\n  " : "", name, curve, shown + 1);
        bx_rpt__gp_string(b, p->name);
        if (p->R >= 2)
            fprintf(b, ", '%s.dat' index %zu using 1:2 with filledcurves closed lc %zu notitle",
                    name, band, shown + 1);
        ++shown;
    }
    char title[160];
    snprintf(title, sizeof title, "Wait-time distribution (%s)", g);
    return end_plot(f, b, dir, name, body, shown, false, title,
                    "Cumulative distribution of each traveller's wait (camera or lane queue, "
                    "capture, matching, officers and secondary), mean over replications; shaded: "
                    "the range over replications.",
                    out, err);
}

static enum bx_status queue_util(const struct rpt_data *d, const char *g, const char *dir,
                                 struct rpt_plots *out, struct bx_error *err)
{
    char name[64], body[32768];
    snprintf(name, sizeof name, "queue_%s", g);
    size_t H = plot_hours(d, g);
    FILE *f, *b;
    if (begin_plot(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    bool land = strncmp(g, "land", 4) == 0, ped = strcmp(g, "land-pedestrian") == 0;
    gp_setf(b, "set multiplot layout 2,1 title", "Queues and utilisation over the day: %s ports",
            g);
    fprintf(b,
            "set grid\nset key outside right top font ',9'\nset xrange [0:%zu]\n"
            "set xtics 6\nset mxtics 6\nset lmargin at screen 0.08\nset rmargin at screen 0.78\n"
            "set style fill transparent solid 0.15 noborder\n"
            "set ylabel '%s waiting (at the hour start)'\nset xlabel ''\nplot ",
            H, land && !ped ? "vehicles" : "travellers");
    size_t shown = 0;
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct rpt_port *p = &d->ports[i];
        if (!in_group(p, g) || p->R == 0)
            continue;
        comment(f, p->name);
        fputs(": hour queue_mean queue_min queue_max utilisation_mean util_min util_max\n", f);
        double *u = malloc(p->R * p->H * sizeof *u);
        if (u == NULL) {
            fclose(b);
            fclose(f);
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        }
        for (size_t k = 0; k < p->R * p->H; ++k)
            u[k] = p->capacity[k] > 0 ? p->busy[k] / p->capacity[k] : BX_NAN;
        for (size_t h = 0; h < H && h < p->H; ++h) {
            double qm, ql, qh, um, ul, uh;
            over_reps(p->queue, p->R, p->H, h, &qm, &ql, &qh);
            over_reps(u, p->R, p->H, h, &um, &ul, &uh);
            fprintf(f, "%zu %.6g %.6g %.6g %.6g %.6g %.6g\n", h, qm, ql, qh, um, ul, uh);
        }
        free(u);
        fputs("\n\n", f);
        fprintf(b, "%s'%s.dat' index %zu using 1:2 with lines lw 2 lc %zu title ",
                shown ? ", \\\n  " : "", name, shown, shown + 1);
        bx_rpt__gp_string(b, p->name);
        if (p->R >= 2)
            fprintf(b, ", '%s.dat' index %zu using 1:3:4 with filledcurves lc %zu notitle", name,
                    shown, shown + 1);
        ++shown;
    }
    fprintf(b, "\nset ylabel 'utilisation of cameras or lanes'\nset xlabel 'hours from the start'\n"
               "set yrange [0:1.05]\nplot ");
    for (size_t k = 0; k < shown; ++k) {
        fprintf(b, "%s'%s.dat' index %zu using 1:5 with lines lw 2 lc %zu notitle",
                k ? ", \\\n  " : "", name, k, k + 1);
        if (d->ports[0].R >= 2)
            fprintf(b, ", '%s.dat' index %zu using 1:6:7 with filledcurves lc %zu notitle", name, k,
                    k + 1);
    }
    fputs("\nunset multiplot", b);
    char title[160];
    snprintf(title, sizeof title, "Queue length and utilisation by hour (%s)", g);
    return end_plot(f, b, dir, name, body, shown, true, title,
                    "Top: travellers (vehicles at vehicle lanes) waiting for a camera or lane at "
                    "the start of each hour. Bottom: busy over open cameras or lanes (open "
                    "capacity follows the rollout). Mean over replications; shaded: their range.",
                    out, err);
}

static enum bx_status throughput(const struct rpt_data *d, const char *g, const char *dir,
                                 struct rpt_plots *out, struct bx_error *err)
{
    char name[64], body[32768];
    snprintf(name, sizeof name, "throughput_%s", g);
    size_t H = plot_hours(d, g);
    FILE *f, *b;
    if (begin_plot(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    gp_setf(b, "set title", "Throughput by hour: %s ports", g);
    fprintf(b,
            "set grid\nset key outside right top "
            "font ',9'\nset xrange [0:%zu]\nset xtics 6\nset mxtics 6\n"
            "set xlabel 'hours from the start'\nset ylabel 'travellers per hour'\n"
            "set style fill transparent solid 0.15 noborder\nplot ",
            H);
    size_t shown = 0;
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct rpt_port *p = &d->ports[i];
        if (!in_group(p, g) || p->R == 0)
            continue;
        comment(f, p->name);
        fputs(": hour travellers_mean min max (travellers who arrived in the hour)\n", f);
        for (size_t h = 0; h < H && h < p->H; ++h) {
            double m, lo, hi;
            over_reps(p->arrivals, p->R, p->H, h, &m, &lo, &hi);
            fprintf(f, "%zu %.6g %.6g %.6g\n", h, m, lo, hi);
        }
        fputs("\n\n", f);
        fprintf(b, "%s'%s.dat' index %zu using 1:2 with steps lw 2 lc %zu title ",
                shown ? ", \\\n  " : "", name, shown, shown + 1);
        bx_rpt__gp_string(b, p->name);
        ++shown;
    }
    char title[160];
    snprintf(title, sizeof title, "Throughput by hour (%s)", g);
    return end_plot(f, b, dir, name, body, shown, false, title,
                    "Travellers arriving at each port in each hour (they all leave: see the "
                    "conservation check), mean over replications.",
                    out, err);
}

/* ---------------------------------------------------------------- matching plots */

static int cmp_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Number of entries of sorted-ascending v[n] below t. */
static size_t count_below(const double *v, size_t n, double t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Genuine and impostor scores of the samples selected by `keep` (NULL: all), sorted. */
struct score_sets {
    double *g, *i;
    size_t ng, ni;
};

static bool collect(const struct rpt_data *d, bool (*keep)(const struct rpt_data *, size_t, int),
                    int arg, struct score_sets *s)
{
    s->g = malloc((d->n ? d->n : 1) * sizeof *s->g);
    s->i = malloc((d->n ? d->n : 1) * sizeof *s->i);
    s->ng = s->ni = 0;
    if (s->g == NULL || s->i == NULL) {
        free(s->g);
        free(s->i);
        return false;
    }
    for (size_t k = 0; k < d->n; ++k) {
        if (keep && !keep(d, k, arg))
            continue;
        if (d->mated[k] && isfinite(d->verify[k]))
            s->g[s->ng++] = d->verify[k];
        if (isfinite(d->impostor[k]))
            s->i[s->ni++] = d->impostor[k];
    }
    qsort(s->g, s->ng, sizeof *s->g, cmp_asc);
    qsort(s->i, s->ni, sizeof *s->i, cmp_asc);
    return true;
}

static void sets_free(struct score_sets *s)
{
    free(s->g);
    free(s->i);
}

static double probit(double p)
{
    return gsl_cdf_ugaussian_Pinv(p);
}

/* One DET curve: thresholds at FMR targets log-spaced from 1/ni to 0.5; points with FNMR = 0
 * cannot be drawn on a normal-deviate axis and are left out. @return points written. */
static size_t det_block(FILE *f, const char *label, const struct score_sets *s)
{
    comment(f, label);
    fprintf(f,
            ": probit(FMR) probit(FNMR) probit(FNMR lo) probit(FNMR hi) FMR FNMR "
            "(genuine %zu, impostor %zu)\n",
            s->ng, s->ni);
    size_t pts = 0;
    if (s->ng < 10 || s->ni < 10)
        return 0;
    double lmin = log10(1.0 / (double)s->ni), lmax = log10(0.5);
    double last_t = BX_NAN;
    for (int k = 0; k <= 60; ++k) {
        double target = pow(10, lmin + (lmax - lmin) * k / 60.0);
        size_t m = (size_t)ceil(target * (double)s->ni);
        m = m < 1 ? 1 : m > s->ni ? s->ni : m;
        double t = s->i[s->ni - m]; /* the m-th highest impostor score */
        if (t == last_t)
            continue;
        last_t = t;
        double fmr = (double)(s->ni - count_below(s->i, s->ni, t)) / (double)s->ni;
        size_t miss = count_below(s->g, s->ng, t);
        if (miss == 0 || fmr <= 0 || fmr >= 1)
            continue;
        struct bx_ci ci = bx_ci_binomial(miss, s->ng, 0.95);
        fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g\n", probit(fmr), probit(ci.value),
                probit(fmax(ci.lo, 1e-12)), probit(fmin(ci.hi, 1 - 1e-12)), fmr, ci.value);
        ++pts;
    }
    return pts;
}

/* Normal-deviate tics for both axes. */
static void det_axes(FILE *b, const char *title)
{
    static const double tic[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5};
    static const char *const lab[] = {"10^{-6}", "10^{-5}", "10^{-4}", "10^{-3}",
                                      "0.01",    "0.05",    "0.2",     "0.5"};
    gp_setf(b, "set title", "%s", title);
    fputs("set grid\nset key outside right top font ',9'\n", b);
    fprintf(b, "set xlabel 'FMR (false match rate, normal deviate scale)'\n"
               "set ylabel 'FNMR (false non-match rate, normal deviate scale)'\n");
    fputs("set xtics (", b);
    for (int k = 0; k < 8; ++k)
        fprintf(b, "%s\"%s\" %.6f", k ? ", " : "", lab[k], probit(tic[k]));
    fputs(")\nset ytics (", b);
    for (int k = 0; k < 8; ++k)
        fprintf(b, "%s\"%s\" %.6f", k ? ", " : "", lab[k], probit(tic[k]));
    fprintf(b,
            ")\nset xrange [%.4f:%.4f]\nset yrange [%.4f:%.4f]\n"
            "set style fill transparent solid 0.15 noborder\nplot ",
            probit(1e-6), probit(0.5), probit(1e-5), probit(0.5));
}

struct det_group {
    const char *label;
    bool (*keep)(const struct rpt_data *, size_t, int);
    int arg;
};

static bool keep_type(const struct rpt_data *d, size_t k, int arg)
{
    static const char *const types[] = {"air", "sea", "private", "land"};
    int p = d->port[k];
    return p >= 0 && (size_t)p < d->n_ports && strcmp(d->ports[p].type, types[arg]) == 0;
}
static bool keep_sex(const struct rpt_data *d, size_t k, int arg)
{
    return d->sex[k] == arg;
}
static bool keep_age(const struct rpt_data *d, size_t k, int arg)
{
    return d->age_band[k] == arg;
}
static bool keep_region(const struct rpt_data *d, size_t k, int arg)
{
    return d->region[k] == arg;
}

static enum bx_status det_plot(const struct rpt_data *d, const char *name, const char *title,
                               const char *caption, const struct det_group *groups, size_t n_groups,
                               const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    char body[32768];
    FILE *f, *b;
    if (begin_plot(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    det_axes(b, title);
    size_t block = 0, shown = 0;
    for (size_t gi = 0; gi < n_groups; ++gi) {
        struct score_sets s;
        if (!collect(d, groups[gi].keep, groups[gi].arg, &s)) {
            fclose(b);
            fclose(f);
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        }
        size_t pts = det_block(f, groups[gi].label, &s);
        if (pts > 0) {
            fputs("\n\n", f); /* an empty block would not count as an index */
            char label[160];
            snprintf(label, sizeof label, "%s (%zu genuine)", groups[gi].label, s.ng);
            fprintf(b,
                    "%s'%s.dat' index %zu using 1:3:4 with filledcurves lc %zu notitle, "
                    "'%s.dat' index %zu using 1:2 with lines lw 2 lc %zu title ",
                    shown ? ", \\\n  " : "", name, block, shown + 1, name, block, shown + 1);
            bx_rpt__gp_string(b, label);
            ++shown;
            ++block;
        }
        sets_free(&s);
    }
    return end_plot(f, b, dir, name, body, shown, false, title, caption, out, err);
}

static enum bx_status det_plots(const struct rpt_data *d, const char *dir, struct rpt_plots *out,
                                struct bx_error *err)
{
    static const char *const det_caption =
        "DET curve of the 1:1 comparison (live capture vs document photo) on normal-deviate "
        "axes: genuine scores from travellers on their own document, non-mated scores from the "
        "zero-effort impostor comparison of each capture; shaded: Clopper-Pearson 95% interval "
        "of FNMR. Points where no genuine comparison failed are not drawn.";
    struct det_group g[8];
    size_t n = 0;
    g[n++] = (struct det_group){"all travellers", NULL, 0};
    static const char *const types[] = {"air", "sea", "private", "land"};
    for (int t = 0; t < 4; ++t)
        g[n++] = (struct det_group){types[t], keep_type, t};
    enum bx_status st = det_plot(d, "det", "DET: all travellers and by port type", det_caption, g,
                                 n, dir, out, err);
    n = 0;
    for (int s = 0; s < BX_N_SEXES && st == BX_OK; ++s)
        g[n++] = (struct det_group){bx_sex_name((enum bx_sex)s), keep_sex, s};
    if (st == BX_OK)
        st = det_plot(d, "det_sex", "DET by sex", det_caption, g, n, dir, out, err);
    n = 0;
    for (int a = 0; a < BX_N_AGE_BANDS && a < 8; ++a)
        g[n++] = (struct det_group){bx_age_band_name((enum bx_age_band)a), keep_age, a};
    if (st == BX_OK)
        st = det_plot(d, "det_age", "DET by age band (at enrolment)", det_caption, g, n, dir, out,
                      err);
    n = 0;
    for (int r = 0; r < BX_N_REGIONS && r < 8; ++r)
        g[n++] = (struct det_group){bx_region_name((enum bx_region)r), keep_region, r};
    if (st == BX_OK)
        st = det_plot(d, "det_region", "DET by region of birth", det_caption, g, n, dir, out, err);
    return st;
}

static enum bx_status rates_vs_threshold(const struct rpt_data *d, const char *dir,
                                         struct rpt_plots *out, struct bx_error *err)
{
    struct score_sets s;
    if (!collect(d, NULL, 0, &s))
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    enum bx_status st = BX_OK;
    if (s.ng < 10 || s.ni < 10)
        goto done;
    const char *name = "rates_vs_threshold";
    FILE *f = open_file(dir, name, "dat", err);
    if (f == NULL) {
        st = BX_EIO;
        goto done;
    }
    double lo = fmin(s.g[0], s.i[0]), hi = fmax(s.g[s.ng - 1], s.i[s.ni - 1]);
    fprintf(f,
            "# threshold FMR FMR_lo FMR_hi FNMR FNMR_lo FNMR_hi (Clopper-Pearson 95%%; "
            "genuine %zu, impostor %zu)\n",
            s.ng, s.ni);
    for (int k = 0; k <= 200; ++k) {
        double t = lo + (hi - lo) * k / 200.0;
        uint64_t fm = s.ni - count_below(s.i, s.ni, t), fn = count_below(s.g, s.ng, t);
        struct bx_ci a = bx_ci_binomial(fm, s.ni, 0.95), b = bx_ci_binomial(fn, s.ng, 0.95);
        /* Zero rates cannot be drawn on a log axis: NaN leaves a gap. */
        fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g %.6g\n", t, fm ? a.value : BX_NAN,
                fm ? a.lo : BX_NAN, a.hi, fn ? b.value : BX_NAN, fn ? b.lo : BX_NAN, b.hi);
    }
    if ((st = close_file(f, name, err)) != BX_OK)
        goto done;
    char body[8192];
    static const char *const tn[3] = {"1:n", "1:1 verify", "watch list"};
    int len = snprintf(body, sizeof body,
                       "set title 'FMR and FNMR versus threshold (1:1 comparisons)'\nset grid\n"
                       "set logscale y\nset format y '10^{%%L}'\nset yrange [1e-7:1]\n"
                       "set xlabel 'threshold (cosine score)'\nset ylabel 'error rate'\n"
                       "set key outside right top font ',9'\n"
                       "set style fill transparent solid 0.15 noborder\n");
    for (int k = 0; k < 3; ++k)
        if (isfinite(d->thresholds[k]))
            len +=
                snprintf(body + len, sizeof body - (size_t)len,
                         "set arrow from %.6f, graph 0 to %.6f, graph 1 nohead dt 2 lc 'gray40'\n"
                         "set label \"%s\" at %.6f, graph 0.97 rotate by 90 right font ',9'\n",
                         d->thresholds[k], d->thresholds[k], tn[k], d->thresholds[k]);
    snprintf(body + len, sizeof body - (size_t)len,
             "plot '%s.dat' using 1:3:4 with filledcurves lc 1 notitle, "
             "'%s.dat' using 1:2 with lines lw 2 lc 1 title 'FMR (non-mated scores at or above)', "
             "'%s.dat' using 1:6:7 with filledcurves lc 2 notitle, "
             "'%s.dat' using 1:5 with lines lw 2 lc 2 title 'FNMR (genuine scores below)'\n",
             name, name, name, name);
    if ((st = write_script(dir, name, body, false, err)) == BX_OK)
        st = add_plot(out, name, "FMR and FNMR versus threshold",
                      "Share of non-mated scores at or above each threshold (FMR) and of genuine "
                      "scores below it (FNMR), with Clopper-Pearson 95% bands; dashed: the "
                      "run's operating thresholds.",
                      err);
done:
    sets_free(&s);
    return st;
}

static enum bx_status fpir_vs_gallery(const struct rpt_data *d, const char *dir,
                                      struct rpt_plots *out, struct bx_error *err)
{
    struct score_sets s;
    if (!collect(d, NULL, 0, &s))
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    enum bx_status st = BX_OK;
    if (s.ni < 10)
        goto done;
    const char *name = "fpir_vs_gallery";
    FILE *f = open_file(dir, name, "dat", err);
    if (f == NULL) {
        st = BX_EIO;
        goto done;
    }
    static const char *const tn[2] = {"1:n threshold", "watch-list threshold"};
    const int which[2] = {0, 2};
    double fmr[2][3];
    for (int c = 0; c < 2; ++c) {
        double t = d->thresholds[which[c]];
        uint64_t e = isfinite(t) ? s.ni - count_below(s.i, s.ni, t) : 0;
        struct bx_ci ci = bx_ci_binomial(e, s.ni, 0.95);
        fmr[c][0] = ci.value;
        fmr[c][1] = ci.lo;
        fmr[c][2] = ci.hi;
        fprintf(f,
                "# %s %.6f: gallery_size FPIR FPIR_lo FPIR_hi (FMR %.3g [%.3g, %.3g], %llu of "
                "%zu non-mated scores)\n",
                tn[c], t, ci.value, ci.lo, ci.hi, (unsigned long long)e, s.ni);
        for (int k = 0; k <= 70; ++k) {
            double N = pow(10, k / 10.0);
            double v = -expm1(N * log1p(-fmr[c][0])), l = -expm1(N * log1p(-fmr[c][1])),
                   h = -expm1(N * log1p(-fmr[c][2]));
            fprintf(f, "%.6g %.6g %.6g %.6g\n", N, v > 0 ? v : BX_NAN, l > 0 ? l : 1e-12, h);
        }
        fputs("\n\n", f);
    }
    if ((st = close_file(f, name, err)) != BX_OK)
        goto done;
    char body[8192];
    int len = snprintf(body, sizeof body,
                       "set title 'FPIR versus gallery size: 1 - (1 - FMR)^N'\nset grid\n"
                       "set logscale xy\nset format x '10^{%%L}'\nset format y '10^{%%L}'\n"
                       "set yrange [1e-8:1]\nset xrange [1:1e7]\n"
                       "set xlabel 'enrolled templates searched (N)'\n"
                       "set ylabel 'FPIR (false positive identification rate)'\n"
                       "set key outside right top font ',9'\n"
                       "set style fill transparent solid 0.15 noborder\n");
    json_t *wl = d->resolved ? json_object_get(d->resolved, "watchlist_size") : NULL;
    if (json_is_integer(wl))
        len += snprintf(body + len, sizeof body - (size_t)len,
                        "set arrow from %lld, graph 0 to %lld, graph 1 nohead dt 2 lc 'gray40'\n"
                        "set label 'watch list' at %lld, graph 0.05 rotate by 90 left font ',9'\n",
                        (long long)json_integer_value(wl), (long long)json_integer_value(wl),
                        (long long)json_integer_value(wl));
    len += snprintf(body + len, sizeof body - (size_t)len, "plot ");
    for (int c = 0; c < 2; ++c) {
        if (fmr[c][0] > 0)
            len += snprintf(body + len, sizeof body - (size_t)len,
                            "%s'%s.dat' index %d using 1:3:4 with filledcurves lc %d notitle, "
                            "'%s.dat' index %d using 1:2 with lines lw 2 lc %d title '%s'",
                            c ? ", " : "", name, c, c + 1, name, c, c + 1, tn[c]);
        else /* no non-mated score reached the threshold: only the upper bound is known */
            len += snprintf(body + len, sizeof body - (size_t)len,
                            "%s'%s.dat' index %d using 1:4 with lines lw 2 dt 2 lc %d title "
                            "'%s: upper 95%% bound (no non-mated score reached it)'",
                            c ? ", " : "", name, c, c + 1, tn[c]);
    }
    snprintf(body + len, sizeof body - (size_t)len, "\n");
    if ((st = write_script(dir, name, body, false, err)) == BX_OK)
        st = add_plot(out, name, "FPIR versus gallery size",
                      "Expected false positive identification rate of one search against N "
                      "enrolled non-mates, from the per-comparison FMR at the run's thresholds "
                      "(band: its Clopper-Pearson 95% interval; where no non-mated score reached "
                      "a threshold only the upper bound is drawn).",
                      err);
done:
    sets_free(&s);
    return st;
}

/* ---------------------------------------------------------------- network runs */

enum bx_status bx_rpt__write_network_plots(json_t *summary, const char *dir, struct rpt_plots *out,
                                           struct bx_error *err)
{
    json_t *st = json_object_get(summary, "stations");
    size_t n = json_array_size(st);
    if (n == 0)
        return BX_OK;
    const char *name = "station_waits";
    FILE *f = open_file(dir, name, "dat", err);
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
    enum bx_status rc = close_file(f, name, err);
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
    if ((rc = write_script(dir, name, body, false, err)) != BX_OK)
        return rc;
    return add_plot(out, name, "Waits by station",
                    "Mean and 95th-percentile wait before service at each station, with "
                    "Student-t 95% intervals across replications.",
                    err);
}

/* ---------------------------------------------------------------- audits */

enum bx_status bx_rpt__write_audit_plots(json_t *au, const char *dir, struct rpt_plots *out,
                                         struct bx_error *err)
{
    json_t *det = json_object_get(au, "det");
    enum bx_status st = BX_OK;
    size_t pts = 0;
    if (json_array_size(det) >= 2) {
        FILE *f = open_file(dir, "audit_det", "dat", err);
        if (f == NULL)
            return BX_EIO;
        fputs("# threshold FMR FNMR probit(FMR) probit(FNMR) TPR (points with FNMR = 0 or FMR = "
              "0 are left out)\n",
              f);
        for (size_t i = 0; i < json_array_size(det); ++i) {
            json_t *p = json_array_get(det, i);
            double t = json_number_value(json_object_get(p, "threshold")),
                   fm = json_number_value(json_object_get(p, "fmr")),
                   fn = json_number_value(json_object_get(p, "fnmr"));
            if (!(fm > 0 && fm < 1 && fn > 0 && fn < 1))
                continue;
            fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g\n", t, fm, fn, probit(fm), probit(fn),
                    1 - fn);
            ++pts;
        }
        if ((st = close_file(f, "audit_det", err)) != BX_OK)
            return st;
    }
    if (pts >= 2) {
        char body[8192];
        FILE *b = fmemopen(body, sizeof body, "w");
        det_axes(b, "DET of the audited comparisons");
        fputs("'audit_det.dat' using 4:5 with linespoints lw 2 pt 7 ps 0.5 lc 1 title 'DET'\n", b);
        fclose(b);
        if ((st = write_script(dir, "audit_det", body, false, err)) != BX_OK ||
            (st = add_plot(out, "audit_det", "DET curve",
                           "FNMR versus FMR on normal-deviate axes, one point per threshold "
                           "(thresholds at FMR targets log-spaced from 1/#impostors to 0.5).",
                           err)) != BX_OK)
            return st;
        snprintf(body, sizeof body,
                 "set title 'ROC of the audited comparisons'\nset grid\nset logscale x\n"
                 "set format x '10^{%%L}'\nset xlabel 'FMR (false match rate)'\n"
                 "set ylabel 'TPR = 1 - FNMR'\nset key bottom right\n"
                 "plot 'audit_det.dat' using 2:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 "
                 "title 'ROC'\n");
        if ((st = write_script(dir, "audit_roc", body, false, err)) != BX_OK ||
            (st = add_plot(out, "audit_roc", "ROC curve",
                           "True accept rate (1 - FNMR) versus FMR on a log axis; its data are "
                           "those of the DET curve (audit_det.dat).",
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
        FILE *f = open_file(dir, name, "dat", err);
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
        if ((st = close_file(f, name, err)) != BX_OK)
            return st;
        char body[4096], title[160];
        snprintf(title, sizeof title, "FMR and FNMR by %s", key);
        FILE *b = fmemopen(body, sizeof body, "w");
        if (b == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        gp_setf(b, "set title", "%s (one global threshold)", title);
        fprintf(b,
                "set grid y\nset logscale y\n"
                "set format y '10^{%%L}'\nset style data histograms\n"
                "set style histogram errorbars gap 2 lw 1\nset style fill solid 0.6 border -1\n"
                "set ylabel 'error rate'\nset xtics rotate by -30\nset key outside right top\n"
                "plot '%s.dat' using 2:3:4:xtic(1) title 'FMR', '' using 5:6:7 title 'FNMR'\n",
                name);
        fclose(b);
        if ((st = write_script(dir, name, body, false, err)) != BX_OK ||
            (st = add_plot(out, name, title,
                           "Each group's FMR and FNMR at the audit's global threshold with exact "
                           "95% intervals (log axis; zero is drawn at 1e-7).",
                           err)) != BX_OK)
            return st;
    }
    return BX_OK;
}

/* ---------------------------------------------------------------- sizing */

enum bx_status bx_rpt__write_size_plots(json_t *sz, const char *dir, struct rpt_plots *out,
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
        FILE *f = open_file(dir, name, "dat", err);
        if (f == NULL)
            return BX_EIO;
        fputs("# level p95_wait_s lo hi utilization (overloaded levels are left out)\n", f);
        size_t n = 0;
        for (size_t k = 0; k < json_array_size(curve); ++k) {
            json_t *c = json_array_get(curve, k), *w = json_object_get(c, "p95_wait_s"),
                   *ci = json_object_get(w, "ci95");
            if (json_is_true(json_object_get(c, "overloaded")) ||
                !json_is_number(json_object_get(w, "value")))
                continue;
            double v = json_number_value(json_object_get(w, "value"));
            double lo = json_is_array(ci) ? json_number_value(json_array_get(ci, 0)) : v,
                   hi = json_is_array(ci) ? json_number_value(json_array_get(ci, 1)) : v;
            fprintf(f, "%lld %.6g %.6g %.6g %.6g\n",
                    (long long)json_integer_value(json_object_get(c, "level")), v, lo, hi,
                    json_number_value(json_object_get(c, "utilization")));
            ++n;
        }
        enum bx_status st = close_file(f, name, err);
        if (st != BX_OK)
            return st;
        if (n == 0)
            continue;
        char body[4096], title[200];
        snprintf(title, sizeof title, "Capacity curve: %s, %s", pn ? pn : "?", rn ? rn : "?");
        FILE *b = fmemopen(body, sizeof body, "w");
        if (b == NULL)
            return BX_FAIL(err, BX_ENOMEM, "out of memory");
        gp_setf(b, "set title", "%s", title);
        gp_setf(b, "set xlabel", "%s (level)", rn ? rn : "servers");
        fprintf(b,
                "set grid\nset ylabel 'p95 queue wait in the busiest "
                "hours (s)'\nset key top right\nset xtics 1\nset offsets 0.5, 0.5, 0, 0\n"
                "set yrange [0:*]\n"
                "plot '%s.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 lc 1 title 'simulated "
                "p95 (95%% interval)', %g with lines dt 2 lc 'gray30' title 'target %g s'\n",
                name, target, target);
        fclose(b);
        if ((st = write_script(dir, name, body, false, err)) != BX_OK ||
            (st = add_plot(out, name, title,
                           "Every level the search simulated, with the Student-t interval of the "
                           "p95 queue wait across replications; dashed: the target.",
                           err)) != BX_OK)
            return st;
    }
    return BX_OK;
}

/* ---------------------------------------------------------------- entry points */

enum bx_status bx_rpt__write_plots(const struct rpt_data *d, const char *dir, struct rpt_plots *out,
                                   struct bx_error *err)
{
    enum bx_status st = BX_OK;
    for (int g = 0; g < N_GROUPS && st == BX_OK; ++g) {
        bool any = false;
        for (size_t i = 0; i < d->n_ports; ++i)
            any |= in_group(&d->ports[i], group_order[g]);
        if (!any)
            continue;
        st = wait_cdf(d, group_order[g], dir, out, err);
        if (st == BX_OK)
            st = queue_util(d, group_order[g], dir, out, err);
        if (st == BX_OK)
            st = throughput(d, group_order[g], dir, out, err);
    }
    if (st == BX_OK)
        st = det_plots(d, dir, out, err);
    if (st == BX_OK)
        st = rates_vs_threshold(d, dir, out, err);
    if (st == BX_OK)
        st = fpir_vs_gallery(d, dir, out, err);
    return st;
}

/* Run `gnuplot SCRIPT` in @p dir, its messages appended to gnuplot.log; the exit status (127
 * when it cannot be run, -1 when it could not be started). */
static int gnuplot_one(const char *gnuplot, const char *dir, const char *script)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: in the plot folder, messages to gnuplot.log, nothing read from stdin. */
        int in = open("/dev/null", O_RDONLY);
        if (chdir(dir) != 0)
            _exit(126);
        int log = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        execlp(gnuplot, gnuplot, script, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Whether gnuplot wrote the whole of dir/NAME.EXT: gnuplot exits 0 even when its writes failed
 * (a full disk leaves empty or cut PNG and SVG files), so each image is checked for its end: a
 * PNG's IEND chunk, an SVG's closing tag. */
static bool image_complete(const char *dir, const char *name, const char *ext)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext) >= (int)sizeof path)
        return false;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    unsigned char head[8] = {0}, tail[64] = {0};
    bool ok = fread(head, 1, 8, f) == 8 && fseek(f, 0, SEEK_END) == 0;
    long size = ok ? ftell(f) : -1;
    size_t nt = size >= 64 ? 64 : size > 0 ? (size_t)size : 0;
    ok = ok && size > 0 && fseek(f, -(long)nt, SEEK_END) == 0 && fread(tail, 1, nt, f) == nt;
    fclose(f);
    if (!ok)
        return false;
    if (strcmp(ext, "png") == 0) {
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        static const unsigned char iend[12] = {0,   0,   0,    0,    'I',  'E',
                                               'N', 'D', 0xae, 0x42, 0x60, 0x82};
        return nt >= 12 && memcmp(head, sig, 8) == 0 && memcmp(tail + nt - 12, iend, 12) == 0;
    }
    char t[65];
    memcpy(t, tail, nt);
    t[nt] = '\0';
    for (size_t i = 0; i < nt; ++i)
        if (t[i] == '\0')
            t[i] = ' ';
    return strstr(t, "</svg>") != NULL;
}

bool bx_rpt__run_gnuplot(const char *gnuplot, const char *dir, const struct rpt_plots *plots,
                         bool *cut, struct bx_error *err)
{
    size_t failed = 0;
    *cut = false;
    for (size_t i = 0; i < plots->n; ++i) {
        char script[96];
        snprintf(script, sizeof script, "%s.gp", plots->v[i].name);
        int rc = gnuplot_one(gnuplot, dir, script);
        if (rc == 127 || (rc == -1 && i == 0)) {
            BX_FAIL(err, BX_EIO, "%s not found", gnuplot);
            return false;
        }
        if (rc == 0 && (!image_complete(dir, plots->v[i].name, "png") ||
                        !image_complete(dir, plots->v[i].name, "svg"))) {
            *cut = true;
            BX_FAIL(err, BX_EIO,
                    "plots/%s: gnuplot left an incomplete image (a write failed: disk full?)",
                    plots->v[i].name);
            return false;
        }
        failed += rc != 0;
    }
    if (failed) {
        BX_FAIL(err, BX_EIO, "%s failed on %zu of %zu plots (see plots/gnuplot.log)", gnuplot,
                failed, plots->n);
        return false;
    }
    return true;
}
