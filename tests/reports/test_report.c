/* SPDX-License-Identifier: MIT */
/* test_report.c - results.h5 against its documented schema, and report.html: well-formed, every
 * image it references exists and is a real PNG or SVG, rebuilt identically from results.h5, and
 * written without gnuplot too. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <hdf5.h>

#include "bx/port.h"
#include "bx/report.h"

#include "../support/port_fixture.h"

static char dir[64];
static struct bx_ports_config cfg;

static void port_defaults(struct bx_port_config *p, const char *name, enum bx_port_type type)
{
    bx_test_port_common(p, name, type);
    p->pop.impostor_rate = 0.01;
    p->pop.watchlist_rate = 0.01;
}

/* Two ports (air and a land pedestrian crossing), two replications, written to dir/results.h5. */
static void setup(void)
{
    strcpy(dir, "/tmp/bx-report-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cfg = bx_test_ports(2, 128, 300, 400);
    cfg.verify_fmr = 1e-3;
    struct bx_port_config *a = &cfg.ports[0], *l = &cfg.ports[1];
    port_defaults(a, "gateway", BX_PORT_AIR);
    a->departures_per_day = 10;
    a->first_s = 6 * 3600;
    a->last_s = 22 * 3600;
    a->passengers_mean = 80;
    a->open_s = 45 * 60;
    a->peak_s = 30 * 60;
    a->close_s = 15 * 60;
    a->gates = 4;
    a->cameras_per_gate = 1;
    a->device = BX_DEVICE_GATE_CAMERA;
    port_defaults(l, "bridge_walk", BX_PORT_LAND); /* '_' is gnuplot markup: must be escaped */
    l->device = BX_DEVICE_MOBILE;
    l->land.lane_kind = BX_LANE_PEDESTRIAN;
    l->land.lanes = 2;
    for (int h = 0; h < 24; ++h)
        l->land.arrivals.rate_per_h[h] = 40;
    l->land.expected_gallery = 1500;
    l->land.expected_share = 0.7;
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    struct bx_ports_result reps[2];
    for (uint32_t r = 0; r < 2; ++r) {
        cr_assert_eq(bx_ports_result_init(&reps[r], cfg.n_ports, &err), BX_OK);
        cr_assert_eq(bx_ports_run(&cfg, 5, r, &reps[r], &err), BX_OK, "%s", err.msg);
    }
    struct bx_rpt_run_info info = {.scenario = "report-test",
                                   .scenario_file = "report-test.yaml",
                                   .version = "0.1.0 (git test)",
                                   .seed = 5,
                                   .wall_s = BX_NAN,
                                   .git_revision = "test",
                                   .libraries = "none",
                                   .scenario_text = "# Where the figures come from.\nname: x\n",
                                   .profile_text = "name: default\n"};
    char path[128];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    cr_assert_eq(bx_rpt_write_results_h5(path, &info, &cfg, reps, 2, &err), BX_OK, "%s", err.msg);
    for (int r = 0; r < 2; ++r)
        bx_ports_result_fini(&reps[r]);
}

static void teardown(void)
{
    bx_ports_config_fini(&cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(reports_report, .init = setup, .fini = teardown, .timeout = 120);

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[got] = '\0';
    if (len)
        *len = got;
    return b;
}

/* ---------------------------------------------------------------- the schema */

/* The backticked names of a table cell: "`a`, `b`" -> a, b. */
static size_t cell_names(const char *cell, char names[][128], size_t max)
{
    size_t n = 0;
    const char *p = cell;
    while (n < max && (p = strchr(p, '`')) != NULL) {
        const char *e = strchr(p + 1, '`');
        if (e == NULL)
            break;
        snprintf(names[n++], 128, "%.*s", (int)(e - p - 1), p + 1);
        p = e + 1;
    }
    return n;
}

/* Cells of a table row "| a | b | c |" into cells[] (trimmed). */
static size_t row_cells(const char *line, char cells[][512], size_t max)
{
    size_t n = 0;
    const char *p = strchr(line, '|');
    while (p && n < max) {
        const char *e = strchr(p + 1, '|');
        if (e == NULL)
            break;
        const char *a = p + 1, *b = e;
        while (a < b && *a == ' ')
            ++a;
        while (b > a && b[-1] == ' ')
            --b;
        snprintf(cells[n++], 512, "%.*s", (int)(b - a), a);
        p = e;
    }
    return n;
}

static void replace_name(const char *in, const char *port, char *out, size_t len)
{
    const char *t = strstr(in, "<name>");
    if (t == NULL)
        snprintf(out, len, "%s", in);
    else
        snprintf(out, len, "%.*s%s%s", (int)(t - in), in, port, t + 6);
}

static char *units_of(hid_t d)
{
    if (H5Aexists(d, "units") <= 0)
        return NULL;
    hid_t a = H5Aopen(d, "units", H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8); /* the file's strings are UTF-8 (no conversion from ASCII) */
    char *v = NULL, *out = NULL;
    if (H5Aread(a, t, &v) >= 0 && v) {
        out = strdup(v);
        H5free_memory(v);
    }
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

Test(reports_report, results_h5_holds_every_documented_attribute_and_dataset_with_units)
{
    char path[128];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    char *doc = slurp(BX_SOURCE_DIR "/docs/results.md", NULL);
    cr_assert_not_null(doc);
    enum { NONE, ROOT, SETS, OTHER } section = NONE;
    size_t n_root = 0, n_sets = 0, n_other = 0;
    const char *ports[] = {"gateway", "bridge_walk"};
    for (char *line = strtok(doc, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "## ", 3) == 0) {
            section = strstr(line, "Root attributes")    ? ROOT
                      : strstr(line, "Datasets")         ? SETS
                      : strstr(line, "Other attributes") ? OTHER
                                                         : NONE;
            continue;
        }
        if (line[0] != '|' || strstr(line, "---") || section == NONE)
            continue;
        char cells[6][512], names[8][128];
        size_t nc = row_cells(line, cells, 6);
        if (nc < 2 || cells[0][0] != '`')
            continue; /* the header row */
        if (section == ROOT) {
            size_t k = cell_names(cells[0], names, 8);
            for (size_t i = 0; i < k; ++i, ++n_root)
                cr_expect_gt(H5Aexists(f, names[i]), 0, "root attribute %s missing", names[i]);
        } else if (section == SETS) {
            size_t k = cell_names(cells[0], names, 8);
            cr_assert(nc >= 3 && k >= 1, "malformed row: %s", line);
            /* `/a/b/first`, `second`: the others are siblings of the first. */
            char parent[128];
            snprintf(parent, sizeof parent, "%s", names[0]);
            *strrchr(parent, '/') = '\0';
            for (size_t i = 0; i < k; ++i) {
                char full[256];
                if (i == 0)
                    snprintf(full, sizeof full, "%s", names[0]);
                else
                    snprintf(full, sizeof full, "%s/%s", parent, names[i]);
                for (size_t p = 0; p < 2; ++p) {
                    char obj[300];
                    replace_name(full, ports[p], obj, sizeof obj);
                    hid_t d = H5Dopen2(f, obj, H5P_DEFAULT);
                    cr_expect_geq(d, 0, "dataset %s missing", obj);
                    if (d >= 0) {
                        char *u = units_of(d);
                        cr_expect(u && strcmp(u, cells[2]) == 0, "%s: units '%s', documented '%s'",
                                  obj, u ? u : "(none)", cells[2]);
                        free(u);
                        H5Dclose(d);
                    }
                    ++n_sets;
                    if (strstr(full, "<name>") == NULL)
                        break;
                }
            }
        } else {
            size_t k = cell_names(cells[1], names, 8);
            char objn[8][128];
            cr_assert_eq(cell_names(cells[0], objn, 8), 1, "%s", line);
            for (size_t p = 0; p < 2; ++p) {
                char obj[300];
                replace_name(objn[0], ports[p], obj, sizeof obj);
                hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
                cr_expect_geq(o, 0, "object %s missing", obj);
                for (size_t i = 0; o >= 0 && i < k; ++i, ++n_other)
                    cr_expect_gt(H5Aexists(o, names[i]), 0, "%s: attribute %s missing", obj,
                                 names[i]);
                if (o >= 0)
                    H5Oclose(o);
                if (strstr(objn[0], "<name>") == NULL)
                    break;
            }
        }
    }
    cr_log_info("%zu root attributes, %zu datasets, %zu other attributes checked", n_root, n_sets,
                n_other);
    cr_assert_geq(n_root, 15, "the schema tables were not found in docs/results.md");
    cr_assert_geq(n_sets, 30);
    cr_assert_geq(n_other, 8);
    free(doc);
    H5Fclose(f);
}

/* ---------------------------------------------------------------- the page */

/* Debian's python3 (scripts/deps.sh) checks the page: an XML parser proves it well-formed, and
 * every local src/href must exist; .png files must carry the PNG signature and an IHDR chunk,
 * .svg files must parse as XML with an <svg> root. Prints "images N". */
static const char check_py[] =
    "import sys, os, struct, xml.dom.minidom as M\n"
    "page = sys.argv[1]; base = os.path.dirname(page)\n"
    "doc = M.parse(page)\n"
    "refs = [e.getAttribute('src') for e in doc.getElementsByTagName('img')]\n"
    "refs += [e.getAttribute('href') for e in doc.getElementsByTagName('a')]\n"
    "n = 0\n"
    "for r in refs:\n"
    "    if not r or r.startswith('#'): continue\n"
    "    assert '://' not in r, 'network reference ' + r\n"
    "    p = os.path.join(base, r)\n"
    "    assert os.path.isfile(p), 'missing ' + r\n"
    "    if r.endswith('.png'):\n"
    "        b = open(p, 'rb').read(24)\n"
    "        assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and b[12:16] == b'IHDR', 'bad png ' + r\n"
    "        w, h = struct.unpack('>II', b[16:24]); assert w > 100 and h > 100, r\n"
    "        n += 1\n"
    "    if r.endswith('.svg'):\n"
    "        assert M.parse(p).documentElement.tagName == 'svg', 'bad svg ' + r\n"
    "print('images', n)\n";

static int check_page(const char *page, int *images)
{
    char script[128], cmd[512];
    snprintf(script, sizeof script, "%s/check.py", dir);
    FILE *s = fopen(script, "w");
    cr_assert_not_null(s);
    fputs(check_py, s);
    fclose(s);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' 2>&1", script, page);
    FILE *p = popen(cmd, "r");
    char out[4096] = {0};
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    cr_log_info("%s", out);
    *images = -1;
    sscanf(out, "images %d", images);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(reports_report, the_page_is_well_formed_and_every_image_is_a_real_png_or_svg)
{
    struct bx_error err = {0};
    struct bx_rpt_report_result res;
    cr_assert_eq(bx_rpt_write_report(dir, NULL, &res, &err), BX_OK, "%s", err.msg);
    cr_assert(res.images, "gnuplot is installed by scripts/deps.sh: %s", res.note);
    cr_assert_geq(res.n_plots, 12, "%zu plots", res.n_plots);
    char page[128];
    snprintf(page, sizeof page, "%s/report.html", dir);
    int images;
    cr_assert_eq(check_page(page, &images), 0);
    cr_assert_eq((size_t)images, res.n_plots, "one PNG per plot on the page");
    /* The page says what a reader needs: the ports, the rates with intervals, the sources. */
    char *html = slurp(page, NULL);
    cr_assert(strstr(html, "bridge_walk") && strstr(html, "gateway"));
    cr_assert(strstr(html, "Clopper-Pearson") && strstr(html, "fnmr"));
    cr_assert(strstr(html, "Where the figures come from."), "the scenario's own comments");
    cr_assert(strstr(html, "plots/det.png") && strstr(html, "plots/wait_cdf_air.png"));
    free(html);
    /* No temporary folder is left behind. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls -d '%s'/plots.* 2>/dev/null | grep -q .", dir);
    cr_assert_neq(system(cmd), 0, "a temporary plot folder was left");
}

Test(reports_report, the_page_is_rebuilt_identically_from_results_h5)
{
    struct bx_error err = {0};
    struct bx_rpt_report_result res;
    char page[128];
    snprintf(page, sizeof page, "%s/report.html", dir);
    cr_assert_eq(bx_rpt_write_report(dir, NULL, &res, &err), BX_OK, "%s", err.msg);
    size_t la = 0, lb = 0;
    char *a = slurp(page, &la);
    cr_assert_eq(unlink(page), 0);
    cr_assert_eq(bx_rpt_write_report(dir, NULL, &res, &err), BX_OK, "%s", err.msg);
    char *b = slurp(page, &lb);
    cr_assert(la == lb && memcmp(a, b, la) == 0, "the rebuilt page differs");
    free(a);
    free(b);
}

Test(reports_report, without_gnuplot_the_page_data_and_scripts_are_still_written)
{
    struct bx_rpt_report_opts o = {.gnuplot = "bx-no-such-gnuplot"};
    struct bx_error err = {0};
    struct bx_rpt_report_result res;
    cr_assert_eq(bx_rpt_write_report(dir, &o, &res, &err), BX_OK, "%s", err.msg);
    cr_assert_not(res.images);
    cr_assert(strstr(res.note, "not found") != NULL, "%s", res.note);
    char path[160];
    snprintf(path, sizeof path, "%s/plots/det.gp", dir);
    cr_assert_eq(access(path, R_OK), 0, "scripts are kept");
    snprintf(path, sizeof path, "%s/plots/det.dat", dir);
    cr_assert_eq(access(path, R_OK), 0, "data are kept");
    snprintf(path, sizeof path, "%s/plots/det.png", dir);
    cr_assert_neq(access(path, F_OK), 0, "no image without gnuplot");
    snprintf(path, sizeof path, "%s/report.html", dir);
    int images;
    cr_assert_eq(check_page(path, &images), 0);
    cr_assert_eq(images, 0);
    char *html = slurp(path, NULL);
    cr_assert(strstr(html, "Plots were not drawn") != NULL);
    free(html);
}

Test(reports_report, det_curves_trade_fnmr_for_fmr)
{
    /* On every DET curve, FMR falls and FNMR rises as the threshold rises: the data file lists
     * points by increasing FMR with FNMR never increasing. */
    struct bx_error err = {0};
    struct bx_rpt_report_opts o = {.gnuplot = "bx-no-such-gnuplot"};
    cr_assert_eq(bx_rpt_write_report(dir, &o, NULL, &err), BX_OK, "%s", err.msg);
    char path[160];
    snprintf(path, sizeof path, "%s/plots/det.dat", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[512];
    double last_fmr = -1, last_fnmr = 2;
    size_t points = 0, curves = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') {
            last_fmr = -1;
            last_fnmr = 2;
            ++curves;
            continue;
        }
        double x, y, lo, hi, fmr, fnmr;
        if (sscanf(line, "%lf %lf %lf %lf %lf %lf", &x, &y, &lo, &hi, &fmr, &fnmr) != 6)
            continue;
        cr_assert_gt(fmr, last_fmr, "%s", line);
        cr_assert_leq(fnmr, last_fnmr, "%s", line);
        cr_assert(lo <= y && y <= hi, "the interval holds the estimate: %s", line);
        cr_assert_float_eq(x, gsl_cdf_ugaussian_Pinv(fmr), 1e-4);
        last_fmr = fmr;
        last_fnmr = fnmr;
        ++points;
    }
    fclose(f);
    cr_assert_geq(curves, 3);
    cr_assert_geq(points, 20);
}

Test(reports_report, a_missing_or_foreign_results_file_is_reported_by_name)
{
    struct bx_error err = {0};
    cr_assert_neq(bx_rpt_write_report("/nonexistent-bx-dir", NULL, NULL, &err), BX_OK);
    cr_assert(strstr(err.msg, "/nonexistent-bx-dir/results.h5") != NULL, "%s", err.msg);
    char path[128];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    FILE *f = fopen(path, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    err = (struct bx_error){0};
    cr_assert_eq(bx_rpt_write_report(dir, NULL, NULL, &err), BX_EPARSE);
    cr_assert(strstr(err.msg, "not an HDF5 file") != NULL, "%s", err.msg);
}

Test(reports_report, h5py_reads_the_self_description_and_the_samples)
{
    char cmd[1024];
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -c \"import h5py, json; f = h5py.File('%s/results.h5', 'r'); "
        "s = json.loads(f.attrs['summary_json']); r = json.loads(f.attrs['scenario_resolved']); "
        "m = f['matching']; n = m['verify_score'].shape[0]; "
        "assert n == s['matching']['fnmr']['trials'] + s['matching']['fmr']['trials']; "
        "assert m['impostor_score'].shape[0] == n; "
        "assert [p['name'] for p in r['ports']] == ['gateway', 'bridge_walk']; "
        "names = [x.decode() for x in f['streams/names'][:]]; "
        "assert 'ports/templates' in names and 'ports/bridge_walk/arrivals' in names; "
        "assert f['streams/seeds'].shape == (2, len(names)); "
        "assert f['ports/gateway/wait_cdf_s'].attrs['units'] == 's'; print('ok')\" 2>&1",
        dir);
    FILE *p = popen(cmd, "r");
    char out[2048] = {0};
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", out);
    cr_assert(strncmp(out, "ok", 2) == 0, "%s", out);
}
