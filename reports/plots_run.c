/* SPDX-License-Identifier: MIT */
/* plots_run.c - the plots of a ports run's page.
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/models.h"
#include "bx/sim.h"

#include "report_page.h"

/* ---------------------------------------------------------------- queue plots */

static const char *group_of(const struct bx_rpt_port *p, char *buf, size_t len)
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

static bool in_group(const struct bx_rpt_port *p, const char *g)
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
static size_t plot_hours(const struct bx_rpt_results *d, const char *g)
{
    size_t last = (size_t)ceil(d->horizon_s / 3600);
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct bx_rpt_port *p = &d->ports[i];
        if (!in_group(p, g))
            continue;
        for (size_t h = 0; h < p->H; ++h)
            for (size_t r = 0; r < p->R; ++r)
                if (p->arrivals[r * p->H + h] > 0 || p->queue[r * p->H + h] > 0)
                    last = h + 1 > last ? h + 1 : last;
    }
    return last;
}

/* The time axis of the hourly plots: hours from the start for a run of up to two days; beyond,
 * days from the start, or dates when the scenario has a start_date (its x values then seconds
 * since 1970, read by gnuplot as times). */
struct taxis {
    bool days, dated;
    long start_day;
    size_t H;
};

static struct taxis time_axis(const struct bx_rpt_results *d, size_t H)
{
    struct taxis t = {.days = H > 48, .H = H};
    json_t *sd = d->resolved ? json_object_get(d->resolved, "start_date") : NULL;
    t.dated = t.days && json_is_string(sd) && bx_date_parse(json_string_value(sd), &t.start_day);
    return t;
}

/* The axis's x of hour @p h. */
static void time_x(FILE *f, const struct taxis *t, size_t h)
{
    if (t->dated)
        fprintf(f, "%.0f", (double)t->start_day * 86400 + (double)h * 3600);
    else if (t->days)
        fprintf(f, "%.6g", (double)h / 24);
    else
        fprintf(f, "%zu", h);
}

/* The x axis's range, tics and (when @p label) its label. */
static void time_setup(FILE *b, const struct taxis *t, bool label)
{
    double days = (double)t->H / 24;
    unsigned step = days <= 14 ? 1 : days <= 60 ? 7 : 28; /* tics every day, week or 4 weeks */
    unsigned minor = step == 7 ? 7u : 4u;                 /* minor tics: 6 h, a day, a week */
    if (t->dated) {
        double t0 = (double)t->start_day * 86400;
        fprintf(b,
                "set xdata time\nset timefmt '%%s'\nset format x '%%d %%b'\n"
                "set xrange ['%.0f':'%.0f']\nset xtics %u*86400 rotate by -45\n"
                "set mxtics %u\n",
                t0, t0 + (double)t->H * 3600, step, minor);
        if (label)
            fputs("set xlabel 'date (tics at midnight)'\n", b);
    } else if (t->days) {
        fprintf(b, "set xrange [0:%g]\nset xtics %u\nset mxtics %u\n", days, step, minor);
        if (label)
            fputs("set xlabel 'days from the start'\n", b);
    } else {
        fprintf(b, "set xrange [0:%zu]\nset xtics 6\nset mxtics 6\n", t->H);
        if (label)
            fputs("set xlabel 'hours from the start'\n", b);
    }
}

static enum bx_status wait_cdf(const struct bx_rpt_results *d, const char *g, const char *dir,
                               struct rpt_plots *out, struct bx_error *err)
{
    char name[64], body[32768];
    snprintf(name, sizeof name, "wait_cdf_%s", g);
    FILE *f, *b;
    if (bx_rpt__plot_begin(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    bx_rpt__gp_setf(b, "set title", "Wait-time distribution: %s ports", g);
    fprintf(b, "set xlabel 'wait from arrival at the camera or lane to leaving processing (s)'\n"
               "set ylabel 'fraction of travellers waiting at most x'\n"
               "set logscale x\nset yrange [0:1]\nset grid\nset key outside right top font ',9'\n"
               "set style fill transparent solid 0.15 noborder\nplot ");
    size_t block = 0, shown = 0, zero = 0;
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct bx_rpt_port *p = &d->ports[i];
        if (!in_group(p, g) || p->K == 0 || p->R == 0)
            continue;
        size_t pts = 0;
        for (size_t k = 0; k < p->K; ++k) {
            double m, lo, hi;
            over_reps(p->cdf, p->R, p->K, k, &m, &lo, &hi);
            pts += m > 0;
        }
        if (pts == 0) { /* every wait 0 s: nothing on a log axis; the caption says so */
            ++zero;
            continue;
        }
        bx_rpt__gp_comment(f, p->name);
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
            bx_rpt__gp_comment(f, p->name);
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
        fprintf(b, "%s'%s.dat' index %zu using 1:2 with lines lw 2 lt %zu title ",
                shown ? ", \\\n  " : "", name, curve, shown + 1);
        bx_rpt__gp_string(b, p->name);
        if (p->R >= 2)
            fprintf(b, ", '%s.dat' index %zu using 1:2 with filledcurves closed lt %zu notitle",
                    name, band, shown + 1);
        ++shown;
    }
    char title[160], caption[400];
    snprintf(title, sizeof title, "Wait-time distribution (%s)", g);
    snprintf(caption, sizeof caption,
             "Cumulative distribution of each traveller's wait (camera or lane queue, capture, "
             "matching, officers and secondary), mean over replications; shaded: the range over "
             "replications.%s",
             zero ? " Ports where every wait was 0 s are not drawn (a log axis has no 0)." : "");
    enum bx_status st =
        bx_rpt__plot_end(f, b, dir, name, body, shown, false, title, caption, out, err);
    if (st == BX_OK && shown == 0 && zero > 0)
        st = bx_rpt__plot_nodata(dir, name, title,
                                 "No data to draw: every traveller's wait was 0 s at every port "
                                 "of this group.",
                                 out, err);
    return st;
}

static enum bx_status queue_util(const struct bx_rpt_results *d, const char *g, const char *dir,
                                 struct rpt_plots *out, struct bx_error *err)
{
    char name[64], body[32768];
    snprintf(name, sizeof name, "queue_%s", g);
    size_t H = plot_hours(d, g);
    FILE *f, *b;
    if (bx_rpt__plot_begin(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    bool land = strncmp(g, "land", 4) == 0, ped = strcmp(g, "land-pedestrian") == 0;
    struct taxis ta = time_axis(d, H);
    bx_rpt__gp_setf(b, "set multiplot layout 2,1 title", "Queues and utilisation %s: %s ports",
                    ta.days ? "by hour" : "over the day", g);
    time_setup(b, &ta, false);
    fprintf(b,
            "set grid\nset key outside right top font ',9'\n"
            "set lmargin at screen 0.08\nset rmargin at screen 0.78\n"
            "set style fill transparent solid 0.15 noborder\n"
            "set ylabel '%s waiting (at the hour start)'\nset xlabel ''\n",
            land && !ped ? "vehicles" : "travellers");
    /* No queue at any hour: say so rather than let gnuplot widen an empty range to [-1, 1]. */
    double qmax = 0;
    for (size_t i = 0; i < d->n_ports; ++i)
        for (size_t k = 0; in_group(&d->ports[i], g) && k < d->ports[i].R * d->ports[i].H; ++k)
            qmax = fmax(qmax, d->ports[i].queue[k]);
    if (qmax > 0)
        fputs("set yrange [0:*]\nplot ", b);
    else
        fputs("set yrange [0:1]\nset label 1 'no queue at any hour' at graph 0.5, 0.5 center\n"
              "plot ",
              b);
    size_t shown = 0;
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct bx_rpt_port *p = &d->ports[i];
        if (!in_group(p, g) || p->R == 0)
            continue;
        bx_rpt__gp_comment(f, p->name);
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
            time_x(f, &ta, h);
            fprintf(f, " %.6g %.6g %.6g %.6g %.6g %.6g\n", qm, ql, qh, um, ul, uh);
        }
        free(u);
        fputs("\n\n", f);
        fprintf(b, "%s'%s.dat' index %zu using 1:2 with lines lw 2 lt %zu title ",
                shown ? ", \\\n  " : "", name, shown, shown + 1);
        bx_rpt__gp_string(b, p->name);
        if (p->R >= 2)
            fprintf(b, ", '%s.dat' index %zu using 1:3:4 with filledcurves lt %zu notitle", name,
                    shown, shown + 1);
        ++shown;
    }
    fputs("\nunset label 1\nset ylabel 'utilisation of cameras or lanes'\n", b);
    time_setup(b, &ta, true);
    fputs("set yrange [0:1.05]\nplot ", b);
    for (size_t k = 0; k < shown; ++k) {
        fprintf(b, "%s'%s.dat' index %zu using 1:5 with lines lw 2 lt %zu notitle",
                k ? ", \\\n  " : "", name, k, k + 1);
        if (d->ports[0].R >= 2)
            fprintf(b, ", '%s.dat' index %zu using 1:6:7 with filledcurves lt %zu notitle", name, k,
                    k + 1);
    }
    fputs("\nunset multiplot", b);
    char title[160];
    snprintf(title, sizeof title, "Queue length and utilisation by hour (%s)", g);
    return bx_rpt__plot_end(
        f, b, dir, name, body, shown, true, title,
        "Top: travellers (vehicles at vehicle lanes) waiting for a camera or lane at "
        "the start of each hour. Bottom: busy over open cameras or lanes (open "
        "capacity follows the rollout). Mean over replications; shaded: their range.",
        out, err);
}

static enum bx_status throughput(const struct bx_rpt_results *d, const char *g, const char *dir,
                                 struct rpt_plots *out, struct bx_error *err)
{
    char name[64], body[32768];
    snprintf(name, sizeof name, "throughput_%s", g);
    size_t H = plot_hours(d, g);
    FILE *f, *b;
    if (bx_rpt__plot_begin(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    struct taxis ta = time_axis(d, H);
    bx_rpt__gp_setf(b, "set title", "Throughput by hour: %s ports", g);
    time_setup(b, &ta, true);
    fputs("set grid\nset key outside right top font ',9'\nset ylabel 'travellers per hour'\n"
          "set style fill transparent solid 0.15 noborder\nplot ",
          b);
    size_t shown = 0;
    for (size_t i = 0; i < d->n_ports; ++i) {
        const struct bx_rpt_port *p = &d->ports[i];
        if (!in_group(p, g) || p->R == 0)
            continue;
        bx_rpt__gp_comment(f, p->name);
        fputs(": hour travellers_mean min max (travellers who arrived in the hour)\n", f);
        for (size_t h = 0; h < H && h < p->H; ++h) {
            double m, lo, hi;
            over_reps(p->arrivals, p->R, p->H, h, &m, &lo, &hi);
            time_x(f, &ta, h);
            fprintf(f, " %.6g %.6g %.6g\n", m, lo, hi);
        }
        fputs("\n\n", f);
        fprintf(b, "%s'%s.dat' index %zu using 1:2 with steps lw 2 lt %zu title ",
                shown ? ", \\\n  " : "", name, shown, shown + 1);
        bx_rpt__gp_string(b, p->name);
        ++shown;
    }
    char title[160];
    snprintf(title, sizeof title, "Throughput by hour (%s)", g);
    return bx_rpt__plot_end(
        f, b, dir, name, body, shown, false, title,
        "Travellers arriving at each port in each hour (they all leave: see the "
        "conservation check), mean over replications.",
        out, err);
}

/* ---------------------------------------------------------------- matching plots */

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

/* Every genuine and every impostor score with its sample, each list sorted by score once for
 * all the plots (a group's sorted scores are then one pass over it, not a sort of its own). */
struct scored {
    double v;
    size_t k;
};
struct score_order {
    struct scored *g, *i;
    size_t ng, ni;
};

static int cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? 1 : -1;
    return (x->k > y->k) - (x->k < y->k);
}

static bool order_init(const struct bx_rpt_results *d, struct score_order *o)
{
    o->g = malloc((d->n ? d->n : 1) * sizeof *o->g);
    o->i = malloc((d->n ? d->n : 1) * sizeof *o->i);
    o->ng = o->ni = 0;
    if (o->g == NULL || o->i == NULL) {
        free(o->g);
        free(o->i);
        return false;
    }
    for (size_t k = 0; k < d->n; ++k) {
        if (d->mated[k] && isfinite(d->verify[k]))
            o->g[o->ng++] = (struct scored){d->verify[k], k};
        if (isfinite(d->impostor[k]))
            o->i[o->ni++] = (struct scored){d->impostor[k], k};
    }
    qsort(o->g, o->ng, sizeof *o->g, cmp_scored);
    qsort(o->i, o->ni, sizeof *o->i, cmp_scored);
    return true;
}

static void order_fini(struct score_order *o)
{
    free(o->g);
    free(o->i);
}

static bool collect(const struct bx_rpt_results *d, const struct score_order *o,
                    bool (*keep)(const struct bx_rpt_results *, size_t, int), int arg,
                    struct score_sets *s)
{
    s->g = malloc((o->ng ? o->ng : 1) * sizeof *s->g);
    s->i = malloc((o->ni ? o->ni : 1) * sizeof *s->i);
    s->ng = s->ni = 0;
    if (s->g == NULL || s->i == NULL) {
        free(s->g);
        free(s->i);
        return false;
    }
    for (size_t j = 0; j < o->ng; ++j)
        if (keep == NULL || keep(d, o->g[j].k, arg))
            s->g[s->ng++] = o->g[j].v;
    for (size_t j = 0; j < o->ni; ++j)
        if (keep == NULL || keep(d, o->i[j].k, arg))
            s->i[s->ni++] = o->i[j].v;
    return true;
}

static void sets_free(struct score_sets *s)
{
    free(s->g);
    free(s->i);
}

/* One DET curve: thresholds at FMR targets log-spaced from 1/ni to 0.5; points with FNMR = 0
 * cannot be drawn on a normal-deviate axis and are left out. @return points written. */
static size_t det_block(FILE *f, const char *label, const struct score_sets *s)
{
    bx_rpt__gp_comment(f, label);
    fprintf(f,
            ": probit(FMR) probit(FNMR) probit(FNMR lo) "
            "probit(FNMR hi) FMR FNMR "
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
        fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g\n", bx_rpt__probit(fmr), bx_rpt__probit(ci.value),
                bx_rpt__probit(fmax(ci.lo, 1e-12)), bx_rpt__probit(fmin(ci.hi, 1 - 1e-12)), fmr,
                ci.value);
        ++pts;
    }
    return pts;
}

struct det_group {
    const char *label;
    bool (*keep)(const struct bx_rpt_results *, size_t, int);
    int arg;
};

static bool keep_type(const struct bx_rpt_results *d, size_t k, int arg)
{
    static const char *const types[] = {"air", "sea", "private", "land"};
    int p = d->port[k];
    return p >= 0 && (size_t)p < d->n_ports && strcmp(d->ports[p].type, types[arg]) == 0;
}
static bool keep_sex(const struct bx_rpt_results *d, size_t k, int arg)
{
    return d->sex[k] == arg;
}
static bool keep_age(const struct bx_rpt_results *d, size_t k, int arg)
{
    return d->age_band[k] == arg;
}
static bool keep_region(const struct bx_rpt_results *d, size_t k, int arg)
{
    return d->region[k] == arg;
}

static enum bx_status det_plot(const struct bx_rpt_results *d, const struct score_order *o,
                               const char *name, const char *title, const char *caption,
                               const struct det_group *groups, size_t n_groups, const char *dir,
                               struct rpt_plots *out, struct bx_error *err)
{
    char body[32768];
    FILE *f, *b;
    if (bx_rpt__plot_begin(dir, name, body, sizeof body, &f, &b, err) != BX_OK)
        return bx_err_code(err, BX_EIO);
    bx_rpt__det_axes(b, title);
    size_t block = 0, shown = 0;
    for (size_t gi = 0; gi < n_groups; ++gi) {
        struct score_sets s;
        if (!collect(d, o, groups[gi].keep, groups[gi].arg, &s)) {
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
                    "%s'%s.dat' index %zu using 1:3:4 with filledcurves lt %zu notitle, "
                    "'%s.dat' index %zu using 1:2 with lines lw 2 lt %zu title ",
                    shown ? ", \\\n  " : "", name, block, shown + 1, name, block, shown + 1);
            bx_rpt__gp_string(b, label);
            ++shown;
            ++block;
        }
        sets_free(&s);
    }
    enum bx_status st =
        bx_rpt__plot_end(f, b, dir, name, body, shown, false, title, caption, out, err);
    if (st == BX_OK && shown == 0 && d->n > 0)
        st = bx_rpt__plot_nodata(dir, name, title,
                                 "No data to draw: no threshold has both a false match and a "
                                 "false non-match among these travellers' scores (too few, or "
                                 "perfectly separated).",
                                 out, err);
    return st;
}

static enum bx_status det_plots(const struct bx_rpt_results *d, const struct score_order *o,
                                const char *dir, struct rpt_plots *out, struct bx_error *err)
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
    enum bx_status st = det_plot(d, o, "det", "DET: all travellers and by port type", det_caption,
                                 g, n, dir, out, err);
    n = 0;
    for (int s = 0; s < BX_N_SEXES && st == BX_OK; ++s)
        g[n++] = (struct det_group){bx_sex_name((enum bx_sex)s), keep_sex, s};
    if (st == BX_OK)
        st = det_plot(d, o, "det_sex", "DET by sex", det_caption, g, n, dir, out, err);
    n = 0;
    for (int a = 0; a < BX_N_AGE_BANDS && a < 8; ++a)
        g[n++] = (struct det_group){bx_age_band_name((enum bx_age_band)a), keep_age, a};
    if (st == BX_OK)
        st = det_plot(d, o, "det_age", "DET by age band (at enrolment)", det_caption, g, n, dir,
                      out, err);
    n = 0;
    for (int r = 0; r < BX_N_REGIONS && r < 8; ++r)
        g[n++] = (struct det_group){bx_region_name((enum bx_region)r), keep_region, r};
    if (st == BX_OK)
        st = det_plot(d, o, "det_region", "DET by region of birth", det_caption, g, n, dir, out,
                      err);
    return st;
}

static enum bx_status rates_vs_threshold(const struct bx_rpt_results *d,
                                         const struct score_order *o, const char *dir,
                                         struct rpt_plots *out, struct bx_error *err)
{
    struct score_sets s;
    if (!collect(d, o, NULL, 0, &s))
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    enum bx_status st = BX_OK;
    if (s.ng < 10 || s.ni < 10)
        goto done;
    const char *name = "rates_vs_threshold";
    FILE *f = bx_rpt__gp_open(dir, name, "dat", err);
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
    if ((st = bx_rpt__gp_close(f, name, err)) != BX_OK)
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
    if ((st = bx_rpt__gp_script(dir, name, body, false, err)) == BX_OK)
        st = bx_rpt__add_plot(
            out, name, "FMR and FNMR versus threshold",
            "Share of non-mated scores at or above each threshold (FMR) and of genuine "
            "scores below it (FNMR), with Clopper-Pearson 95% bands; dashed: the "
            "run's operating thresholds.",
            err);
done:
    sets_free(&s);
    return st;
}

static enum bx_status fpir_vs_gallery(const struct bx_rpt_results *d, const struct score_order *o,
                                      const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    struct score_sets s;
    if (!collect(d, o, NULL, 0, &s))
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    enum bx_status st = BX_OK;
    if (s.ni < 10)
        goto done;
    const char *name = "fpir_vs_gallery";
    FILE *f = bx_rpt__gp_open(dir, name, "dat", err);
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
    if ((st = bx_rpt__gp_close(f, name, err)) != BX_OK)
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
    if ((st = bx_rpt__gp_script(dir, name, body, false, err)) == BX_OK)
        st = bx_rpt__add_plot(
            out, name, "FPIR versus gallery size",
            "Expected false positive identification rate of one search against N "
            "enrolled non-mates, from the per-comparison FMR at the run's thresholds "
            "(band: its Clopper-Pearson 95% interval; where no non-mated score reached "
            "a threshold only the upper bound is drawn).",
            err);
done:
    sets_free(&s);
    return st;
}

enum bx_status bx_rpt__run_plots(const struct bx_rpt_results *d, const char *dir,
                                 struct rpt_plots *out, struct bx_error *err)
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
    if (st != BX_OK)
        return st;
    struct score_order o;
    if (!order_init(d, &o))
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    st = det_plots(d, &o, dir, out, err);
    if (st == BX_OK)
        st = rates_vs_threshold(d, &o, dir, out, err);
    if (st == BX_OK)
        st = fpir_vs_gallery(d, &o, dir, out, err);
    order_fini(&o);
    return st;
}
