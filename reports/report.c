/* SPDX-License-Identifier: MIT */
/* report.c - DIR/report.html and DIR/plots/ from DIR/results.h5: read the file back (everything
 * the page shows comes from it, so `bxsim report DIR` rebuilds the same page), draw the plots
 * (plots.c) and write one self-contained XHTML page (inline CSS, images beside it in plots/, no
 * network). The page is written atomically; the plot folder is built under a temporary name and
 * swapped in whole. */
#define _XOPEN_SOURCE 700
#include "bx/report.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "report_data.h"

/* ---------------------------------------------------------------- reading results.h5 */

struct reader {
    const char *file;
    struct bx_error *err;
    double max_bytes; /* no dataset or string read from the file may be larger */
};

static enum bx_status bad(struct reader *rd, const char *what)
{
    return BX_FAIL(rd->err, BX_EPARSE,
                   "%s: %s missing or malformed (not a bxsim ports results file?)", rd->file, what);
}

/* A string attribute (variable or fixed length), or NULL. */
static char *attr_string(const struct reader *rd, hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ft = a < 0 ? -1 : H5Aget_type(a);
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            char *v = NULL;
            if (H5Aread(a, mt, &v) >= 0 && v != NULL) {
                out = strdup(v);
                H5free_memory(v);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            out = (double)n <= rd->max_bytes ? calloc(n + 1, 1) : NULL;
            if (out && H5Aread(a, ft, out) < 0) {
                free(out);
                out = NULL;
            }
        }
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

static bool attr_doubles(hid_t loc, const char *name, double *out, size_t n)
{
    if (H5Aexists(loc, name) <= 0)
        return false;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t s = a < 0 ? -1 : H5Aget_space(a);
    bool ok = s >= 0 && (size_t)H5Sget_simple_extent_npoints(s) == n &&
              H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0;
    if (s >= 0)
        H5Sclose(s);
    if (a >= 0)
        H5Aclose(a);
    return ok;
}

/* A numeric dataset of rank <= 2 converted to @p mem_type; dims[] set (dims[1] = 1 for rank 1). */
static void *read_dataset(const struct reader *rd, hid_t loc, const char *path, hid_t mem_type,
                          size_t elem, hsize_t dims[2])
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    hid_t s = d < 0 ? -1 : H5Dget_space(d);
    int rank = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    void *buf = NULL;
    if (rank >= 1 && rank <= 2) {
        hsize_t dd[2] = {0, 1};
        H5Sget_simple_extent_dims(s, dd, NULL);
        dims[0] = dd[0];
        dims[1] = rank == 2 ? dd[1] : 1;
        size_t n = (size_t)(dims[0] * dims[1]);
        bool fits = (double)dims[0] * (double)dims[1] * (double)elem <= rd->max_bytes;
        buf = fits ? malloc((n ? n : 1) * elem) : NULL;
        if (buf && n && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            buf = NULL;
        }
    }
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return buf;
}

void bx_rpt__data_free(struct rpt_data *d)
{
    json_decref(d->summary);
    json_decref(d->resolved);
    free(d->scenario);
    free(d->scenario_file);
    free(d->scenario_yaml);
    free(d->profile);
    free(d->profile_yaml);
    free(d->version);
    free(d->git);
    free(d->libraries);
    for (size_t i = 0; d->ports && i < d->n_ports; ++i) {
        struct rpt_port *p = &d->ports[i];
        free(p->arrivals);
        free(p->mean_wait);
        free(p->queue);
        free(p->busy);
        free(p->capacity);
        free(p->cdf);
        free(p->levels);
    }
    free(d->ports);
    free(d->verify);
    free(d->impostor);
    free(d->mated);
    free(d->sex);
    free(d->age_band);
    free(d->region);
    free(d->device);
    free(d->port);
    memset(d, 0, sizeof *d);
}

static enum bx_status read_port(struct reader *rd, hid_t f, const char *name, struct rpt_port *p)
{
    char path[512], what[600];
    snprintf(p->name, sizeof p->name, "%s", name);
    if (snprintf(path, sizeof path, "/ports/%s", name) >= (int)sizeof path)
        return bad(rd, "a port name");
    if (H5Lexists(f, "/ports", H5P_DEFAULT) <= 0 || H5Lexists(f, path, H5P_DEFAULT) <= 0) {
        snprintf(what, sizeof what, "group %s", path);
        return bad(rd, what);
    }
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    char *type = attr_string(rd, g, "type"), *lane = attr_string(rd, g, "lane_kind");
    snprintf(p->type, sizeof p->type, "%s", type ? type : "?");
    snprintf(p->lane_kind, sizeof p->lane_kind, "%s", lane ? lane : "camera");
    free(type);
    free(lane);
    if (!attr_doubles(g, "gallery_size", &p->gallery_size, 1))
        p->gallery_size = BX_NAN;
    static const char *const sets[] = {"hourly/arrivals", "hourly/mean_wait_s", "hourly/queue",
                                       "hourly/busy", "hourly/capacity"};
    double **dst[] = {&p->arrivals, &p->mean_wait, &p->queue, &p->busy, &p->capacity};
    enum bx_status st = BX_OK;
    for (int k = 0; k < 5 && st == BX_OK; ++k) {
        hsize_t dims[2];
        *dst[k] = read_dataset(rd, g, sets[k], H5T_NATIVE_DOUBLE, sizeof(double), dims);
        if (*dst[k] == NULL || (k > 0 && (dims[0] != p->R || dims[1] != p->H))) {
            snprintf(what, sizeof what, "dataset %s/%s", path, sets[k]);
            st = bad(rd, what);
        }
        p->R = (size_t)dims[0];
        p->H = (size_t)dims[1];
    }
    if (st == BX_OK) {
        hsize_t dims[2];
        p->cdf = read_dataset(rd, g, "wait_cdf_s", H5T_NATIVE_DOUBLE, sizeof(double), dims);
        p->K = p->cdf ? (size_t)dims[1] : 0;
        p->levels = malloc((p->K ? p->K : 1) * sizeof *p->levels);
        if (p->cdf == NULL || dims[0] != p->R || p->levels == NULL) {
            snprintf(what, sizeof what, "dataset %s/wait_cdf_s", path);
            st = bad(rd, what);
        } else {
            hid_t d = H5Dopen2(g, "wait_cdf_s", H5P_DEFAULT);
            if (!attr_doubles(d, "cdf_levels", p->levels, p->K)) {
                snprintf(what, sizeof what, "attribute cdf_levels of %s/wait_cdf_s", path);
                st = bad(rd, what);
            }
            H5Dclose(d);
        }
    }
    H5Gclose(g);
    return st;
}

enum bx_status bx_rpt__read_results(const char *file, struct rpt_data *d, struct bx_error *err)
{
    struct reader rd = {file, err, bx_file_read_limit(file)};
    memset(d, 0, sizeof *d);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(file, R_OK) != 0)
        return BX_FAIL(err, BX_EIO, "%s: %s", file, strerror(errno));
    /* bxsim's results.h5 carries a checksum: a damaged file never reaches libhdf5. */
    if (bx_file_verify(file, NULL, err) != BX_OK)
        return BX_EPARSE;
    if (H5Fis_hdf5(file) <= 0)
        return BX_FAIL(err, BX_EPARSE, "%s: not an HDF5 file", file);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return BX_FAIL(err, BX_EIO, "%s: cannot open", file);
    enum bx_status st = BX_OK;
    char *kind = attr_string(&rd, f, "kind"), *summary = attr_string(&rd, f, "summary_json"),
         *resolved = attr_string(&rd, f, "scenario_resolved");
    json_error_t je;
    if (kind == NULL || strcmp(kind, "ports") != 0)
        st = bad(&rd, "root attribute kind = \"ports\"");
    else if (summary == NULL || (d->summary = json_loads(summary, 0, &je)) == NULL)
        st = bad(&rd, "root attribute summary_json");
    else if (resolved == NULL || (d->resolved = json_loads(resolved, 0, &je)) == NULL)
        st = bad(&rd, "root attribute scenario_resolved");
    free(kind);
    free(summary);
    free(resolved);
    if (st != BX_OK)
        goto done;
    d->scenario = attr_string(&rd, f, "scenario");
    d->scenario_file = attr_string(&rd, f, "scenario_file");
    d->scenario_yaml = attr_string(&rd, f, "scenario_yaml");
    d->profile = attr_string(&rd, f, "profile");
    d->profile_yaml = attr_string(&rd, f, "profile_yaml");
    d->version = attr_string(&rd, f, "bxsim_version");
    d->git = attr_string(&rd, f, "git_revision");
    d->libraries = attr_string(&rd, f, "libraries");
    double v;
    d->seed = attr_doubles(f, "seed", &v, 1) ? (long long)v : 0;
    d->replications = attr_doubles(f, "replications", &v, 1) ? (long long)v : 0;
    if (!attr_doubles(f, "horizon_s", &d->horizon_s, 1)) {
        st = bad(&rd, "root attribute horizon_s");
        goto done;
    }
    json_t *ports = json_object_get(d->summary, "ports");
    d->n_ports = json_array_size(ports);
    d->ports = calloc(d->n_ports ? d->n_ports : 1, sizeof *d->ports);
    if (d->ports == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < d->n_ports && st == BX_OK; ++i) {
        const char *name = json_string_value(json_object_get(json_array_get(ports, i), "name"));
        st = name ? read_port(&rd, f, name, &d->ports[i]) : bad(&rd, "summary_json ports[].name");
    }
    if (st != BX_OK)
        goto done;
    if (H5Lexists(f, "/matching", H5P_DEFAULT) <= 0) {
        st = bad(&rd, "group /matching");
        goto done;
    }
    hid_t m = H5Gopen2(f, "/matching", H5P_DEFAULT);
    if (!attr_doubles(m, "thresholds", d->thresholds, 3))
        st = bad(&rd, "attribute /matching thresholds");
    hsize_t dims[2] = {0, 1}, n = 0;
    struct {
        const char *name;
        void **dst;
        hid_t type;
        size_t size;
    } cols[] = {
        {"verify_score", (void **)&d->verify, H5T_NATIVE_FLOAT, sizeof(float)},
        {"impostor_score", (void **)&d->impostor, H5T_NATIVE_FLOAT, sizeof(float)},
        {"mated", (void **)&d->mated, H5T_NATIVE_SCHAR, 1},
        {"sex", (void **)&d->sex, H5T_NATIVE_SCHAR, 1},
        {"age_band", (void **)&d->age_band, H5T_NATIVE_SCHAR, 1},
        {"region", (void **)&d->region, H5T_NATIVE_SCHAR, 1},
        {"device", (void **)&d->device, H5T_NATIVE_SCHAR, 1},
        {"port", (void **)&d->port, H5T_NATIVE_INT, sizeof(int)},
    };
    for (size_t k = 0; k < sizeof cols / sizeof cols[0] && st == BX_OK; ++k) {
        *cols[k].dst = read_dataset(&rd, m, cols[k].name, cols[k].type, cols[k].size, dims);
        if (k == 0)
            n = dims[0];
        if (*cols[k].dst == NULL || dims[0] != n || dims[1] != 1) {
            char what[96];
            snprintf(what, sizeof what, "dataset /matching/%s", cols[k].name);
            st = bad(&rd, what);
        }
    }
    d->n = (size_t)n;
    H5Gclose(m);
done:
    H5Fclose(f);
    if (st != BX_OK)
        bx_rpt__data_free(d);
    return st;
}

/* ---------------------------------------------------------------- HTML */

static void esc(FILE *h, const char *s)
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

static double jnum(json_t *o, const char *key)
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
static void ci_cell(FILE *h, json_t *o, bool g, int prec)
{
    double v = jnum(o, "value");
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

static void int_cell(FILE *h, json_t *v)
{
    if (json_is_integer(v))
        fprintf(h, "<td>%lld</td>", (long long)json_integer_value(v));
    else
        fputs("<td>&#8212;</td>", h);
}

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

static bool file_exists(const char *dir, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return false;
    return access(path, F_OK) == 0;
}

static void html_ports(FILE *h, const struct rpt_data *d)
{
    json_t *ports = json_object_get(d->summary, "ports");
    fputs("<h2 id=\"ports\">Ports</h2>\n<table>\n<thead><tr><th>port</th><th>type</th>"
          "<th>lanes</th><th>departures</th><th>travellers</th><th>mean wait (s)</th>"
          "<th>p95 wait (s)</th><th>p99 wait (s)</th><th>camera/lane utilisation</th>"
          "<th>officer utilisation</th><th>manual</th><th>secondary</th><th>opt-outs</th>"
          "</tr></thead>\n<tbody>\n",
          h);
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *w = json_object_get(p, "wait_s"),
               *u = json_object_get(p, "utilization");
        fputs("<tr><td>", h);
        esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</td><td>", h);
        esc(h, json_string_value(json_object_get(p, "type")));
        fputs("</td><td>", h);
        esc(h, i < d->n_ports ? d->ports[i].lane_kind : "");
        fputs("</td>", h);
        if (i < d->n_ports && strcmp(d->ports[i].type, "land") == 0)
            fputs("<td>&#8212;</td>", h); /* land ports have crossings, not departures */
        else
            int_cell(h, json_object_get(p, "departures"));
        int_cell(h, json_object_get(p, "travelers"));
        ci_cell(h, json_object_get(w, "mean"), false, 1);
        ci_cell(h, json_object_get(w, "p95"), false, 1);
        ci_cell(h, json_object_get(w, "p99"), false, 1);
        ci_cell(h, json_object_get(u, "cameras"), false, 3);
        ci_cell(h, json_object_get(u, "officers"), false, 3);
        int_cell(h, json_object_get(p, "manual_inspections"));
        int_cell(h, json_object_get(p, "secondary_inspections"));
        int_cell(h, json_object_get(p, "opt_outs"));
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n<p class=\"note\">Waits run from arrival at the camera or lane "
          "queue to leaving processing (capture, matching, officers, secondary). Travellers are "
          "summed over replications; intervals are Student-t 95% intervals across replications "
          "(none with a single replication).</p>\n",
          h);
}

static void html_matching(FILE *h, const struct rpt_data *d)
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
        ci_cell(h, r, true, 3);
        int_cell(h, json_object_get(r, "errors"));
        int_cell(h, json_object_get(r, "trials"));
        fputs("<td>", h);
        esc(h, what[k]);
        fputs("</td></tr>\n", h);
    }
    fprintf(h,
            "</tbody>\n</table>\n<p class=\"note\">Rates are pooled over replications with exact "
            "(Clopper-Pearson) 95%% intervals. Thresholds (cosine): 1:n %.4f, 1:1 verify %.4f, "
            "watch list %.4f.</p>\n",
            d->thresholds[0], d->thresholds[1], d->thresholds[2]);
}

static void html_outcomes(FILE *h, const struct rpt_data *d)
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
        esc(h, rows[k].label);
        fputs("</td>", h);
        int_cell(h, rows[k].v);
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n<h2 id=\"retention\">Retention</h2>\n<table>\n<tbody>\n", h);
    char b1[32], b2[32];
    bytes_text(b1, sizeof b1, jnum(r, "bytes"));
    bytes_text(b2, sizeof b2, jnum(r, "projected_75y_bytes"));
    fprintf(h,
            "<tr><td>longest a U.S. citizen photo was held (must be at most 12 h)</td><td>%.2f h"
            "</td></tr>\n",
            jnum(r, "citizen_max_retained_h"));
    fputs("<tr><td>U.S. citizen photos (all purged)</td>", h);
    int_cell(h, json_object_get(r, "citizen_photos"));
    fputs("</tr>\n<tr><td>non-citizen records kept</td>", h);
    int_cell(h, json_object_get(r, "noncitizen_records"));
    fprintf(h,
            "</tr>\n<tr><td>their size</td><td>%s</td></tr>\n"
            "<tr><td>stock after 75 years of this daily flow</td><td>%s</td></tr>\n"
            "</tbody>\n</table>\n",
            b1, b2);
}

/* What a page shows of its plots: the run directory, the plot folder's name in it, the plots,
 * and whether gnuplot drew them (or why not). */
struct page_plots {
    const char *dir, *sub; /* where the page and its plots are written */
    const char *src;       /* the run folder the page describes (its summary.json) */
    const struct rpt_plots *pl;
    bool images;
    const char *note;
};

static void html_plots(FILE *h, const struct page_plots *pp)
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
        if (file_exists(plots_dir, png)) {
            fprintf(h, "<img src=\"%s/%s\" alt=\"", sub, png);
            esc(h, p->title);
            fputs("\" />\n", h);
        }
        fputs("<figcaption><strong>", h);
        esc(h, p->title);
        fputs(".</strong> ", h);
        esc(h, p->caption);
        fputs(" <span class=\"files\">", h);
        if (file_exists(plots_dir, svg))
            fprintf(h, "<a href=\"%s/%s\">SVG</a> &#183; ", sub, svg);
        fprintf(h,
                "<a href=\"%s/%s.dat\">data</a> &#183; <a href=\"%s/%s.gp\">gnuplot "
                "script</a></span></figcaption>\n</figure>\n",
                sub, p->name, sub, p->name);
    }
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
            esc(h, line && line[0] == ' ' ? line + 1 : line);
            fputc('\n', h);
            free(line);
        }
        s += len + (e != NULL);
    }
    fputs("</pre>\n", h);
}

static void html_assumptions(FILE *h, const struct rpt_data *d)
{
    json_t *rs = d->resolved, *th = json_object_get(rs, "thresholds");
    fputs("<h2 id=\"assumptions\">Assumptions and calibration</h2>\n<ul>\n", h);
    fputs("<li>Algorithm profile <strong>", h);
    esc(h, d->profile);
    fprintf(h,
            "</strong> (templates of dimension %lld generated to reproduce its published "
            "targets; its file is below).</li>\n",
            (long long)json_integer_value(json_object_get(rs, "template_dim")));
    fprintf(h,
            "<li>Thresholds set from the profile's own impostor scores (%lld calibration "
            "subjects): 1:n at FPIR %.3g per search of each port's gallery, 1:1 at FMR %.3g, "
            "watch list (%lld people) at FPIR %.3g per search.</li>\n",
            (long long)json_integer_value(json_object_get(rs, "calibration_subjects")),
            jnum(th, "one_to_n_fpir"), jnum(th, "verify_fmr"),
            (long long)json_integer_value(json_object_get(rs, "watchlist_size")),
            jnum(th, "watchlist_fpir"));
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
    esc(h, d->scenario_yaml ? d->scenario_yaml : "(not stored)");
    fputs("</pre></details>\n<details><summary>The resolved scenario (every field, defaults "
          "filled in)</summary>\n<pre>",
          h);
    char *res = json_dumps(rs, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    esc(h, res ? res : "");
    free(res);
    fputs("</pre></details>\n<details><summary>The calibration profile (targets, sources, "
          "achieved figures)</summary>\n<pre>",
          h);
    esc(h, d->profile_yaml ? d->profile_yaml : "(not stored)");
    fputs("</pre></details>\n", h);
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

static void html_head(FILE *h, const char *scenario);

static char *html_page(const struct page_plots *pp, const struct rpt_data *d, size_t *len)
{
    char *buf = NULL;
    FILE *h = open_memstream(&buf, len);
    if (h == NULL)
        return NULL;
    html_head(h, d->scenario);
    fputs("<dl>\n<dt>scenario file</dt><dd>", h);
    esc(h, d->scenario_file);
    fprintf(h,
            "</dd>\n<dt>seed</dt><dd>%lld</dd>\n<dt>replications</dt><dd>%lld</dd>\n"
            "<dt>simulated time</dt><dd>%.4g h per replication</dd>\n<dt>profile</dt><dd>",
            d->seed, d->replications, d->horizon_s / 3600);
    esc(h, d->profile);
    fputs("</dd>\n<dt>bxsim</dt><dd>", h);
    esc(h, d->version);
    fputs("</dd>\n<dt>libraries</dt><dd>", h);
    esc(h, d->libraries);
    double wall = jnum(d->summary, "wall_s");
    json_t *ev = json_object_get(d->summary, "events");
    fprintf(h, "</dd>\n<dt>events</dt><dd>%lld</dd>\n", (long long)json_integer_value(ev));
    if (isfinite(wall))
        fprintf(h, "<dt>run time</dt><dd>%.1f s</dd>\n", wall);
    fputs("</dl>\n<p><a href=\"#ports\">Ports</a> &#183; <a href=\"#matching\">Matching</a> "
          "&#183; <a href=\"#outcomes\">Outcomes</a> &#183; <a href=\"#retention\">Retention</a> "
          "&#183; <a href=\"#plots\">Plots</a> &#183; <a href=\"#assumptions\">Assumptions and "
          "calibration</a> &#183; data: ",
          h);
    if (file_exists(pp->src, "summary.json") || file_exists(pp->dir, "summary.json"))
        fputs("<a href=\"summary.json\">summary.json</a>, ", h);
    fputs("<a href=\"results.h5\">results.h5</a></p>\n", h);
    html_ports(h, d);
    html_matching(h, d);
    html_outcomes(h, d);
    html_plots(h, pp);
    html_assumptions(h, d);
    fputs("</body>\n</html>\n", h);
    if (fclose(h) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- network runs */

static void html_head(FILE *h, const char *scenario)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
          "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n<head>\n"
          "<meta charset=\"UTF-8\" />\n<title>bxsim report: ",
          h);
    esc(h, scenario);
    fprintf(h, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>bxsim report: ", css);
    esc(h, scenario);
    fputs("</h1>\n", h);
}

/* The page of a station-network run, from its summary.json (such runs write no results.h5). */
static char *network_page(const struct page_plots *pp, json_t *sm, size_t *len)
{
    char *buf = NULL;
    FILE *h = open_memstream(&buf, len);
    if (h == NULL)
        return NULL;
    html_head(h, json_string_value(json_object_get(sm, "scenario")));
    fputs("<dl>\n<dt>scenario file</dt><dd>", h);
    esc(h, json_string_value(json_object_get(sm, "scenario_file")));
    fprintf(h,
            "</dd>\n<dt>kind</dt><dd>station network</dd>\n<dt>seed</dt><dd>%lld</dd>\n"
            "<dt>replications</dt><dd>%lld</dd>\n<dt>simulated time</dt><dd>%.4g h (warm-up "
            "%.4g h deleted)</dd>\n<dt>bxsim</dt><dd>",
            (long long)json_integer_value(json_object_get(sm, "seed")),
            (long long)json_integer_value(json_object_get(sm, "replications")),
            jnum(sm, "horizon_s") / 3600, jnum(sm, "warmup_s") / 3600);
    esc(h, json_string_value(json_object_get(sm, "bxsim_version")));
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
        esc(h, json_string_value(json_object_get(x, "name")));
        fputs("</td>", h);
        static const char *const counts[] = {"servers", "arrivals", "served", "balked", "reneged"};
        for (int k = 0; k < 5; ++k)
            int_cell(h, json_object_get(x, counts[k]));
        static const char *const q[] = {"mean", "p50", "p95", "p99"};
        for (int k = 0; k < 4; ++k)
            ci_cell(h, json_object_get(w, q[k]), false, 2);
        ci_cell(h, json_object_get(json_object_get(x, "queue_length"), "mean"), false, 3);
        ci_cell(h, json_object_get(json_object_get(x, "utilization"), "mean"), false, 3);
        ci_cell(h, json_object_get(x, "throughput_per_h"), false, 1);
        fputs("</tr>\n", h);
    }
    fputs("</tbody>\n</table>\n", h);
    json_t *sys = json_object_get(sm, "system");
    double lam = jnum(json_object_get(sys, "arrival_rate_per_s"), "value"),
           W = jnum(json_object_get(json_object_get(sys, "system_time_s"), "mean"), "value"),
           L = jnum(json_object_get(json_object_get(sys, "in_system"), "mean"), "value");
    fprintf(h,
            "<h2 id=\"system\">The whole system</h2>\n<table>\n<tbody>\n"
            "<tr><td>customers who left</td><td>%lld</td></tr>\n"
            "<tr><td>arrival rate (per s)</td><td>%.5g</td></tr>\n"
            "<tr><td>mean time in the system W (s)</td><td>%.4g</td></tr>\n"
            "<tr><td>mean number in the system L</td><td>%.4g</td></tr>\n"
            "<tr><td>Little's law: arrival rate x W</td><td>%.4g</td></tr>\n"
            "</tbody>\n</table>\n",
            (long long)json_integer_value(json_object_get(sys, "departed")), lam, W, L, lam * W);
    html_plots(h, pp);
    fputs("</body>\n</html>\n", h);
    if (fclose(h) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- audits */

static void rate_row(FILE *h, const char *name, json_t *r)
{
    if (!json_is_object(r))
        return;
    fputs("<tr><td>", h);
    esc(h, name);
    fputs("</td>", h);
    double v = jnum(r, "value");
    if (isfinite(v))
        fprintf(h, "<td>%.4g</td>", v);
    else
        fputs("<td>&#8212;</td>", h);
    int_cell(h, json_object_get(r, "errors"));
    int_cell(h, json_object_get(r, "trials"));
    static const char *const keys[] = {"ci95", "ci", "wilson", "bootstrap"};
    for (int k = 0; k < 4; ++k) {
        json_t *c = json_object_get(r, keys[k]);
        if (json_is_array(c))
            fprintf(h, "<td>[%.4g, %.4g]</td>", json_number_value(json_array_get(c, 0)),
                    json_number_value(json_array_get(c, 1)));
        else
            fputs("<td>&#8212;</td>", h);
    }
    double up = jnum(r, "upper_one_sided"), r3 = jnum(r, "rule_of_3");
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

static char *audit_page(const struct page_plots *pp, json_t *au, size_t *len)
{
    char *buf = NULL;
    FILE *h = open_memstream(&buf, len);
    if (h == NULL)
        return NULL;
    html_head(h, json_string_value(json_object_get(au, "input")));
    json_t *c = json_object_get(au, "comparisons");
    fputs("<dl>\n<dt>input</dt><dd>", h);
    esc(h, json_string_value(json_object_get(au, "input")));
    fprintf(h, "</dd>\n<dt>threshold</dt><dd>%.6g (", jnum(au, "threshold"));
    esc(h, json_string_value(json_object_get(au, "threshold_rule")));
    fprintf(h,
            ")</dd>\n<dt>confidence</dt><dd>%.3g</dd>\n<dt>comparisons</dt><dd>%lld genuine, "
            "%lld impostor (%lld and %lld failed), %s</dd>\n<dt>subjects</dt><dd>%lld</dd>\n"
            "<dt>bxsim</dt><dd>",
            jnum(au, "confidence"), (long long)json_integer_value(json_object_get(c, "genuine")),
            (long long)json_integer_value(json_object_get(c, "impostor")),
            (long long)json_integer_value(json_object_get(c, "failed_genuine")),
            (long long)json_integer_value(json_object_get(c, "failed_impostor")),
            json_is_true(json_object_get(c, "exact")) ? "every score kept (exact)"
                                                      : "bounded histograms with exact tails",
            (long long)json_integer_value(json_object_get(au, "subjects")));
    esc(h, json_string_value(json_object_get(au, "bxsim_version")));
    fputs("</dd>\n</dl>\n<p>data: <a href=\"audit.json\">audit.json</a></p>\n", h);
    fputs("<h2 id=\"rates\">Rates at the threshold</h2>\n", h);
    fputs(rate_head, h);
    rate_row(h, "FMR", json_object_get(au, "fmr"));
    rate_row(h, "FNMR", json_object_get(au, "fnmr"));
    rate_row(h, "FTA", json_object_get(au, "fta"));
    fputs("</tbody>\n</table>\n", h);
    json_t *eer = json_object_get(au, "eer");
    fprintf(h, "<p>EER %.4g at threshold %.6g.</p>\n", jnum(eer, "value"), jnum(eer, "threshold"));
    fputs("<h2 id=\"claims\">Claims</h2>\n<table>\n<thead><tr><th>claim</th><th>verdict</th>"
          "<th>errors / trials</th><th>one-sided bounds</th><th>independent trials needed at "
          "this error count</th></tr></thead>\n<tbody>\n",
          h);
    json_t *cl = json_object_get(au, "claims");
    for (size_t i = 0; i < json_array_size(cl); ++i) {
        json_t *x = json_array_get(cl, i);
        fputs("<tr><td>", h);
        esc(h, json_string_value(json_object_get(x, "metric")));
        fprintf(h, " &lt; %g at %.3g</td><td>", jnum(x, "claim"), jnum(x, "confidence"));
        esc(h, json_string_value(json_object_get(x, "verdict")));
        fprintf(h, "</td><td>%lld / %lld</td><td>[%.4g, %.4g]</td>",
                (long long)json_integer_value(json_object_get(x, "errors")),
                (long long)json_integer_value(json_object_get(x, "trials")),
                jnum(x, "lower_one_sided"), jnum(x, "upper_one_sided"));
        int_cell(h, json_object_get(x, "trials_needed"));
        fputs("</tr>\n", h);
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
        esc(h, key);
        fputs("</td>", h);
        if (json_is_number(json_object_get(v, "value"))) {
            json_t *ci = json_object_get(v, "ci95");
            fprintf(h, "<td>%.4g</td><td>[%.4g, %.4g]</td><td>%.6g</td>", jnum(v, "value"),
                    json_number_value(json_array_get(ci, 0)),
                    json_number_value(json_array_get(ci, 1)), jnum(v, "threshold"));
        } else {
            fputs("<td colspan=\"3\">", h);
            esc(h, json_string_value(json_object_get(v, "reason")));
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
            esc(h, key);
            fputs("</h3>\n<table>\n<thead><tr><th>value</th><th>FMR</th><th>exact 95%</th>"
                  "<th>ratio to the best</th><th>FNMR</th><th>exact 95%</th><th>ratio to the "
                  "best</th></tr></thead>\n<tbody>\n",
                  h);
            for (size_t i = 0; i < json_array_size(v); ++i) {
                json_t *g = json_array_get(v, i);
                fputs("<tr><td>", h);
                esc(h, json_string_value(json_object_get(g, "value")));
                fputs("</td>", h);
                static const char *const rk[] = {"fmr", "fnmr"};
                static const char *const ratio[] = {"fmr_ratio_to_best", "fnmr_ratio_to_best"};
                for (int k = 0; k < 2; ++k) {
                    json_t *r = json_object_get(g, rk[k]), *ci = json_object_get(r, "ci95");
                    fprintf(h, "<td>%.4g</td>", jnum(r, "value"));
                    if (json_is_array(ci))
                        fprintf(h, "<td>[%.4g, %.4g]</td>",
                                json_number_value(json_array_get(ci, 0)),
                                json_number_value(json_array_get(ci, 1)));
                    else
                        fputs("<td>&#8212;</td>", h);
                    double q = jnum(g, ratio[k]);
                    if (isfinite(q))
                        fprintf(h, "<td>%.3g</td>", q);
                    else
                        fputs("<td>&#8212;</td>", h);
                }
                fputs("</tr>\n", h);
            }
            fputs("</tbody>\n</table>\n", h);
        }
    }
    json_t *ex = json_object_get(au, "expected_false_matches_per_year");
    if (json_is_object(ex)) {
        json_t *ci = json_object_get(ex, "ci");
        fprintf(h,
                "<h2 id=\"volume\">Expected false matches a year</h2>\n<p>%.4g (%.4g to %.4g) "
                "for %.4g searches a year against galleries of %.4g (FPIR %.4g).</p>\n",
                jnum(ex, "value"), json_number_value(json_array_get(ci, 0)),
                json_number_value(json_array_get(ci, 1)), jnum(ex, "volume_per_year"),
                jnum(ex, "gallery_size"), jnum(ex, "fpir"));
    }
    html_plots(h, pp);
    fputs("<p class=\"note\">Method: docs/sources.md section 6 (exact binomial "
          "bounds, the rule of 3, Wilson, trials needed, subject-level bootstrap, demographic "
          "differentials at one global threshold); docs/audit.md.</p>\n</body>\n</html>\n",
          h);
    if (fclose(h) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- sizing */

static char *size_page(const struct page_plots *pp, json_t *sz, size_t *len)
{
    char *buf = NULL;
    FILE *h = open_memstream(&buf, len);
    if (h == NULL)
        return NULL;
    html_head(h, json_string_value(json_object_get(sz, "scenario")));
    fprintf(h,
            "<p>Sizing to a p95 queue wait of <strong>%g s</strong> over the busiest %lld "
            "hours (upper bound of the %.3g Student-t interval across %lld replications per "
            "level, seed %lld). Levels are confirmed by simulation: the one below was "
            "simulated and does not meet the target (docs/sizing.md). Data: "
            "<a href=\"size.json\">size.json</a>.</p>\n",
            jnum(sz, "target_p95_wait_s"),
            (long long)json_integer_value(json_object_get(sz, "window_hours")),
            jnum(sz, "confidence"),
            (long long)json_integer_value(json_object_get(sz, "replications")),
            (long long)json_integer_value(json_object_get(sz, "seed")));
    fputs("<h2 id=\"levels\">Levels</h2>\n<table>\n<thead><tr><th>port</th><th>type</th>"
          "<th>resource</th><th>level</th><th>Erlang C / Allen-Cunneen</th><th>p95 queue wait "
          "(s)</th><th>utilisation</th><th>busiest hours</th></tr></thead>\n<tbody>\n",
          h);
    json_t *ports = json_object_get(sz, "ports");
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i), *w = json_object_get(p, "window_hours");
        fputs("<tr><td>", h);
        esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</td><td>", h);
        esc(h, json_string_value(json_object_get(p, "type")));
        fputs("</td><td>", h);
        esc(h, json_string_value(json_object_get(p, "resource")));
        fputs("</td>", h);
        if (json_is_integer(json_object_get(p, "level")))
            int_cell(h, json_object_get(p, "level"));
        else
            fputs("<td>not met</td>", h);
        int_cell(h, json_object_get(p, "approx_level"));
        if (json_is_object(json_object_get(p, "p95_wait_s")))
            ci_cell(h, json_object_get(p, "p95_wait_s"), false, 1);
        else
            fputs("<td>&#8212;</td>", h);
        double u = jnum(p, "utilization");
        if (isfinite(u))
            fprintf(h, "<td>%.3f</td>", u);
        else
            fputs("<td>&#8212;</td>", h);
        fprintf(h, "<td>%g-%g</td></tr>\n", json_number_value(json_array_get(w, 0)),
                json_number_value(json_array_get(w, 1)));
    }
    fputs("</tbody>\n</table>\n", h);
    html_plots(h, pp);
    fputs("</body>\n</html>\n", h);
    if (fclose(h) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- the plot folder */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

enum page_kind { PAGE_PORTS, PAGE_NETWORK, PAGE_AUDIT, PAGE_SIZE };

/* Build the plots of a page in DIR/SUB.tmp.PID, draw them, swap the folder in as DIR/SUB, then
 * write DIR/PAGE atomically. */
static enum bx_status publish(const char *dir, const char *src, const char *sub,
                              const char *page_name, enum page_kind kind, const struct rpt_data *d,
                              json_t *j, const struct bx_rpt_report_opts *o,
                              struct bx_rpt_report_result *res, struct bx_error *err)
{
    char tmp[4096], plots[4096], old[4096], html[4096];
    if (strlen(dir) > 3000 ||
        snprintf(tmp, sizeof tmp, "%s/%s.tmp.%ld", dir, sub, (long)getpid()) >= (int)sizeof tmp ||
        snprintf(plots, sizeof plots, "%s/%s", dir, sub) >= (int)sizeof plots ||
        snprintf(old, sizeof old, "%s/%s.old.%ld", dir, sub, (long)getpid()) >= (int)sizeof old ||
        snprintf(html, sizeof html, "%s/%s", dir, page_name) >= (int)sizeof html)
        return BX_FAIL(err, BX_EINVAL, "%s: path too long", dir);
    rm_tree(tmp);
    struct rpt_plots pl = {0};
    enum bx_status st = BX_OK;
    if (mkdir(tmp, 0755) != 0) {
        st = BX_FAIL(err, BX_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    st = kind == PAGE_PORTS     ? bx_rpt__write_plots(d, tmp, &pl, err)
         : kind == PAGE_NETWORK ? bx_rpt__write_network_plots(j, tmp, &pl, err)
         : kind == PAGE_AUDIT   ? bx_rpt__write_audit_plots(j, tmp, &pl, err)
                                : bx_rpt__write_size_plots(j, tmp, &pl, err);
    if (st != BX_OK)
        goto done;
    struct bx_error gerr = {0};
    const char *gnuplot = o && o->gnuplot ? o->gnuplot : "gnuplot";
    bool cut = false;
    res->images = bx_rpt__run_gnuplot(gnuplot, tmp, &pl, &cut, &gerr);
    if (cut) { /* a write failed: nothing of this page may be published */
        st = BX_FAIL(err, BX_EIO, "%s", gerr.msg);
        goto done;
    }
    if (!res->images) /* short: the folder gerr names is the temporary one */
        snprintf(res->note, sizeof res->note, "%s",
                 strstr(gerr.msg, "not found") ? "gnuplot not found on PATH"
                                               : "gnuplot failed, see its gnuplot.log");
    res->n_plots = pl.n;
    /* Swap the folder in whole, then write the page that points into it. */
    if (access(plots, F_OK) == 0 && rename(plots, old) != 0) {
        st = BX_FAIL(err, BX_EIO, "%s: %s", plots, strerror(errno));
        goto done;
    }
    if (rename(tmp, plots) != 0) {
        st = BX_FAIL(err, BX_EIO, "%s: %s", plots, strerror(errno));
        goto done;
    }
    rm_tree(old);
    size_t len = 0;
    struct page_plots pp = {dir, sub, src, &pl, res->images, res->note};
    char *page = kind == PAGE_PORTS     ? html_page(&pp, d, &len)
                 : kind == PAGE_NETWORK ? network_page(&pp, j, &len)
                 : kind == PAGE_AUDIT   ? audit_page(&pp, j, &len)
                                        : size_page(&pp, j, &len);
    if (page == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for the report page");
        goto done;
    }
    st = bx_file_write_atomic(html, page, len, err);
    free(page);
done:
    rm_tree(tmp);
    free(pl.v);
    return st;
}

enum bx_status bx_rpt_write_report(const char *dir, const struct bx_rpt_report_opts *o,
                                   struct bx_rpt_report_result *res, struct bx_error *err)
{
    struct bx_rpt_report_result dummy;
    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof *res);
    char file[4096], sjson[4096];
    if (strlen(dir) > 3000 ||
        snprintf(file, sizeof file, "%s/results.h5", dir) >= (int)sizeof file ||
        snprintf(sjson, sizeof sjson, "%s/summary.json", dir) >= (int)sizeof sjson)
        return BX_FAIL(err, BX_EINVAL, "%s: path too long", dir);
    const char *out = o && o->out ? o->out : dir;
    json_error_t je;
    json_t *net = NULL;
    if (access(file, F_OK) != 0 && access(sjson, R_OK) == 0) {
        /* A station-network run: no results.h5; its summary.json holds everything. */
        net = json_load_file(sjson, 0, &je);
        const char *kind = json_string_value(json_object_get(net, "kind"));
        if (net == NULL || kind == NULL || strcmp(kind, "network") != 0) {
            json_decref(net);
            return BX_FAIL(err, BX_EPARSE,
                           "%s: no results.h5, and %s is not a network run's "
                           "summary",
                           file, sjson);
        }
        enum bx_status st =
            publish(out, dir, "plots", "report.html", PAGE_NETWORK, NULL, net, o, res, err);
        json_decref(net);
        return st;
    }
    struct rpt_data d = {0};
    enum bx_status st = bx_rpt__read_results(file, &d, err);
    if (st != BX_OK)
        return st;
    /* results.h5 holds its run's summary: a summary.json beside it must be the same run (the
     * outputs are published together; a set mixed by an interrupted publish is refused). */
    json_t *sj = access(sjson, F_OK) == 0 ? json_load_file(sjson, 0, &je) : NULL;
    if (access(sjson, F_OK) == 0 && (sj == NULL || !json_equal(sj, d.summary))) {
        json_decref(sj);
        bx_rpt__data_free(&d);
        return BX_FAIL(err, BX_EPARSE,
                       "%s and %s come from different runs (or summary.json is damaged): run "
                       "the scenario again",
                       sjson, file);
    }
    json_decref(sj);
    st = publish(out, dir, "plots", "report.html", PAGE_PORTS, &d, NULL, o, res, err);
    bx_rpt__data_free(&d);
    return st;
}

enum bx_status bx_rpt_write_audit_report(const char *dir, json_t *audit,
                                         const struct bx_rpt_report_opts *o,
                                         struct bx_rpt_report_result *res, struct bx_error *err)
{
    struct bx_rpt_report_result dummy;
    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof *res);
    return publish(dir, dir, "audit_plots", "audit.html", PAGE_AUDIT, NULL, audit, o, res, err);
}

enum bx_status bx_rpt_write_size_report(const char *dir, json_t *size,
                                        const struct bx_rpt_report_opts *o,
                                        struct bx_rpt_report_result *res, struct bx_error *err)
{
    struct bx_rpt_report_result dummy;
    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof *res);
    return publish(dir, dir, "size_plots", "size.html", PAGE_SIZE, NULL, size, o, res, err);
}
