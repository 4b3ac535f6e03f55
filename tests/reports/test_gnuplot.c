/* SPDX-License-Identifier: MIT */
/* test_gnuplot.c - text that reaches gnuplot (titles, keys, labels, data-file labels) is read
 * back by gnuplot as exactly that text and never runs anything: every special character
 * (quotes, backquote, line breaks, backslash, '$', '@', markup, bytes that are not UTF-8), and
 * a whole report whose port names are hostile. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bx/port.h"
#include "bx/report.h"

#include "../support/port_fixture.h"
#include "report_page.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/bx-gnuplot-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(reports_gnuplot, .init = setup, .fini = teardown, .timeout = 120);

/* Each would run a command (creating dir/pwned*) if it reached gnuplot as code. */
static const char *const hostile[] = {
    "x'; system \"touch pwned1\"; print '",
    "x\"; system \"touch pwned2\"; print \"",
    "`touch pwned3`",
    "a\nsystem \"touch pwned4\"\n",
    "a\rb\tc",
    "back\\slash\\\" system \"touch pwned5\" #",
    "$HOME @macro {braces} a_b c^d e&f g~h",
    "'\"`$@\\\n",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\x82",    /* valid UTF-8: kept */
    "bad\xff\xfe utf8 \xc3( \xed\xa0\x80 \xc0\xaf", /* not UTF-8: each bad byte becomes ? */
    "",
};

/* What gnuplot should read back: the text, with a backslash before each enhanced-text markup
 * character, and '?' for control characters and bytes that are not valid UTF-8. */
static void expected(const char *in, char *out, bool datum)
{
    const unsigned char *s = (const unsigned char *)in;
    char *o = out;
    while (*s) {
        unsigned c = *s;
        size_t n = c < 0x80                   ? 1
                   : (c >= 0xc2 && c <= 0xdf) ? 2
                   : (c >= 0xe0 && c <= 0xef) ? 3
                   : (c >= 0xf0 && c <= 0xf4) ? 4
                                              : 0;
        for (size_t k = 1; k < n; ++k)
            if ((s[k] & 0xc0) != 0x80)
                n = 0;
        if (n == 3 && c == 0xed && s[1] >= 0xa0) /* surrogates */
            n = 0;
        if (n == 2 && c == 0xc0)
            n = 0;
        if (n == 0 || c < 0x20 || c == 0x7f) {
            *o++ = '?';
            ++s;
            continue;
        }
        if (datum && c == '"') {
            *o++ = '\'';
            ++s;
            continue;
        }
        if (n == 1 && strchr("^_@&~{}\\", (int)c))
            *o++ = '\\';
        memcpy(o, s, n);
        o += n;
        s += n;
    }
    *o = '\0';
}

/* Run gnuplot on dir/t.gp; its exit status. */
static int gnuplot(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot t.gp >gp.log 2>&1", dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void assert_nothing_ran(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q pwned", dir);
    cr_assert_neq(system(cmd), 0, "gnuplot ran a command from the text");
}

Test(reports_gnuplot, a_string_literal_reads_back_as_its_text_and_runs_nothing)
{
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; ++i) {
        char path[128];
        snprintf(path, sizeof path, "%s/t.gp", dir);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs("set print 'out.txt'\nprint ", f);
        bx_rpt__gp_string(f, hostile[i]);
        fputs("\nset title ", f);
        bx_rpt__gp_string(f, hostile[i]);
        fputs("\nset xlabel ", f);
        bx_rpt__gp_string(f, hostile[i]);
        fputs("\nprint 'end'\nunset print\n", f);
        fclose(f);
        /* The literal itself holds none of the characters gnuplot treats as code. */
        char *script = slurp("t.gp");
        const char *lit = strstr(script, "print ") + 6;
        const char *end = strchr(lit, '\n');
        for (const char *c = lit + 1; c < end - 1; ++c)
            cr_assert(strchr("'\"`$@\\\r", *c) == NULL ||
                          (*c == '\\' && c[1] >= '0' && c[1] <= '3'),
                      "case %zu: '%c' unescaped in %.*s", i, *c, (int)(end - lit), lit);
        cr_assert_eq(gnuplot(), 0, "case %zu: %s", i, slurp("gp.log"));
        char want[512];
        expected(hostile[i], want, false);
        strcat(want, "\nend\n");
        cr_assert_str_eq(slurp("out.txt"), want, "case %zu", i);
        assert_nothing_ran();
    }
}

Test(reports_gnuplot, a_data_file_label_reads_back_as_its_text)
{
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; ++i) {
        if (hostile[i][0] == '\0')
            continue;
        char path[128];
        snprintf(path, sizeof path, "%s/d.dat", dir);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs("# label value\n", f);
        bx_rpt__gp_datum(f, hostile[i]);
        fputs(" 7\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/t.gp", dir);
        f = fopen(path, "w");
        fputs("set print 'out.txt'\nset datafile separator whitespace\n"
              "stats 'd.dat' using (s = strcol(1), v = $2, 0) nooutput\nprint s\nprint v\n"
              "unset print\n",
              f);
        fclose(f);
        cr_assert_eq(gnuplot(), 0, "case %zu: %s", i, slurp("gp.log"));
        char want[512];
        expected(hostile[i], want, true);
        strcat(want, "\n7.0\n");
        cr_assert_str_eq(slurp("out.txt"), want, "case %zu: one field, then the value", i);
        assert_nothing_ran();
    }
}

/* A results file whose port names are hostile (as a crafted results.h5 would hold): the report
 * draws every plot and nothing runs. */
Test(reports_gnuplot, a_report_with_hostile_port_names_runs_nothing)
{
    struct bx_ports_config cfg = bx_test_ports(2, 128, 300, 400);
    struct bx_port_config *a = &cfg.ports[0], *l = &cfg.ports[1];
    bx_test_port_common(a, "x`touch pwned6`'; system \"touch pwned7\"", BX_PORT_LAND);
    bx_test_port_common(l, "y\"; system 'touch pwned8'; \"\n@$_", BX_PORT_LAND);
    for (int k = 0; k < 2; ++k) {
        struct bx_port_config *p = &cfg.ports[k];
        p->device = BX_DEVICE_MOBILE;
        p->land.lane_kind = BX_LANE_PEDESTRIAN;
        p->land.lanes = 2;
        for (int h = 0; h < 24; ++h)
            p->land.arrivals.rate_per_h[h] = 30;
        p->land.expected_gallery = 500;
        p->land.expected_share = 0.7;
    }
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    struct bx_ports_result rep;
    cr_assert_eq(bx_ports_result_init(&rep, cfg.n_ports, &err), BX_OK);
    cr_assert_eq(bx_ports_run(&cfg, 3, 0, &rep, &err), BX_OK, "%s", err.msg);
    struct bx_rpt_run_info info = {.scenario = "hostile",
                                   .scenario_file = "hostile.yaml",
                                   .version = "test",
                                   .seed = 3,
                                   .wall_s = 0,
                                   .git_revision = "test",
                                   .libraries = "none",
                                   .scenario_text = "name: x\n",
                                   .profile_text = "name: y\n"};
    char path[128];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    cr_assert_eq(bx_rpt_write_results_h5(path, &info, &cfg, &rep, 1, &err), BX_OK, "%s", err.msg);
    bx_ports_result_fini(&rep);
    bx_ports_config_fini(&cfg);
    struct bx_rpt_report_result res;
    cr_assert_eq(bx_rpt_write_report(dir, NULL, &res, &err), BX_OK, "%s", err.msg);
    cr_assert(res.images, "every plot drawn: %s", res.note);
    cr_assert_geq(res.n_plots, 3);
    assert_nothing_ran();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "find '%s' -name 'pwned*' | grep -q .", dir);
    cr_assert_neq(system(cmd), 0, "no command ran in the plot folder either");
}

Test(reports_gnuplot, a_plot_with_no_data_says_so_and_why)
{
    struct rpt_plots plots = {0};
    struct bx_error err = {0};
    const char *why = "No data: every wait was 0 s `touch pwned9`";
    cr_assert_eq(bx_rpt__plot_nodata(dir, "empty", "Waits", why, &plots, &err), BX_OK, "%s",
                 err.msg);
    cr_assert_eq(plots.n, 1);
    cr_assert_str_eq(plots.v[0].caption, why, "the page's caption gives the reason");
    cr_assert(strstr(slurp("empty.dat"), "# No data: every wait was 0 s") != NULL);
    bool cut = false;
    cr_assert(bx_rpt__run_gnuplot("gnuplot", dir, &plots, &cut, &err), "%s", err.msg);
    /* the reason is drawn as a label in the SVG, not empty axes */
    cr_assert(strstr(slurp("empty.svg"), "every wait was 0 s") != NULL);
    assert_nothing_ran();
    free(plots.v);
}
