/* SPDX-License-Identifier: MIT */
/* gnuplot.c - plots as a data file and a gnuplot script each (kept beside the images, so that a
 * plot can be re-drawn or restyled by hand); gnuplot, the external program, then makes a PNG
 * (pngcairo) and an SVG of each. No text from an input reaches gnuplot as code: titles, labels
 * and data labels go through bx_rpt__gp_string and bx_rpt__gp_datum. */
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

#include "report_page.h"

FILE *bx_rpt__gp_open(const char *dir, const char *name, const char *ext, struct bx_error *err)
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

enum bx_status bx_rpt__gp_close(FILE *f, const char *what, struct bx_error *err)
{
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad)
        return BX_FAIL(err, BX_EIO, "cannot write %s", what);
    return BX_OK;
}

enum bx_status bx_rpt__add_plot(struct rpt_plots *out, const char *name, const char *title,
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
void bx_rpt__gp_comment(FILE *f, const char *text)
{
    fputs("# ", f);
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s; ++s)
        fputc(*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* "set title TEXT" (or another command taking one string) from a printf format. */
void bx_rpt__gp_setf(FILE *b, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bx_rpt__gp_setf(FILE *b, const char *cmd, const char *fmt, ...)
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

/* Series colours: ten distinguishable colours (Tableau 10), then the same with dashes, dots
 * and dash-dots: 40 linetypes before they repeat, so that a plot with more than 8 series (15
 * land ports in one panel) does not reuse gnuplot's default 8 colours. Series drawn with
 * `lt N` take colour and dash; `lc N` the colour only. */
static void gp_palette(FILE *f)
{
    static const char *const colour[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    for (int k = 0; k < 40; ++k)
        fprintf(f, "set linetype %d lc rgb '%s' dt %d\n", k + 1, colour[k % 10], 1 + k / 10);
    fputs("set linetype cycle 40\n", f);
}

/* Write the script: the same body drawn once to PNG and once to SVG. */
enum bx_status bx_rpt__gp_script(const char *dir, const char *name, const char *body, bool tall,
                                 struct bx_error *err)
{
    FILE *f = bx_rpt__gp_open(dir, name, "gp", err);
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
            "set output '%s.png'\nreset\n",
            size, name);
    gp_palette(f);
    fprintf(f, "%s\nunset output\n", body);
    fprintf(f,
            "set terminal svg size %s enhanced font 'DejaVu Sans,11' background '#ffffff'\n"
            "set output '%s.svg'\nreset\n",
            size, name);
    gp_palette(f);
    fprintf(f, "%s\nunset output\n", body);
    return bx_rpt__gp_close(f, name, err);
}

/* A plot's data file and the in-memory buffer its gnuplot body is written into. */
enum bx_status bx_rpt__plot_begin(const char *dir, const char *name, char *body, size_t size,
                                  FILE **f, FILE **b, struct bx_error *err)
{
    if ((*f = bx_rpt__gp_open(dir, name, "dat", err)) == NULL)
        return BX_EIO;
    if ((*b = fmemopen(body, size, "w")) == NULL) {
        fclose(*f);
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    }
    return BX_OK;
}

/* Close both, and when something was drawn (@p shown) write the script and list the plot;
 * otherwise remove the data file. */
enum bx_status bx_rpt__plot_end(FILE *f, FILE *b, const char *dir, const char *name,
                                const char *body, size_t shown, bool tall, const char *title,
                                const char *caption, struct rpt_plots *out, struct bx_error *err)
{
    fputc('\n', b);
    fclose(b);
    enum bx_status st = bx_rpt__gp_close(f, name, err);
    if (st == BX_OK && shown == 0) {
        /* Nothing to draw: no data file without its plot. */
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s.dat", dir, name) < (int)sizeof path)
            remove(path);
    }
    if (st != BX_OK || shown == 0)
        return st;
    if ((st = bx_rpt__gp_script(dir, name, body, tall, err)) != BX_OK)
        return st;
    return bx_rpt__add_plot(out, name, title, caption, err);
}

/* A dashed red line at y = @p y across the whole width of the plot, whatever the x range (a
 * function or data line would cover only the data's); its key entry is a NaN line. */
void bx_rpt__gp_hline(FILE *b, double y)
{
    if (isfinite(y))
        fprintf(b,
                "set arrow from graph 0, first %.9g to graph 1, first %.9g nohead dt 2 lw 2 "
                "lc 'red' front\n",
                y, y);
}

enum bx_status bx_rpt__plot_nodata(const char *dir, const char *name, const char *title,
                                   const char *why, struct rpt_plots *out, struct bx_error *err)
{
    FILE *f = bx_rpt__gp_open(dir, name, "dat", err);
    if (f == NULL)
        return BX_EIO;
    bx_rpt__gp_comment(f, why);
    fputc('\n', f);
    enum bx_status st = bx_rpt__gp_close(f, name, err);
    char body[2048];
    FILE *b = fmemopen(body, sizeof body, "w");
    if (b == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    bx_rpt__gp_setf(b, "set title", "%s", title);
    bx_rpt__gp_setf(b, "set label 1", "%s", why);
    fputs("set label 1 at graph 0.5, 0.5 center font ',13'\nunset border\nunset tics\n"
          "unset key\nset xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n",
          b);
    fclose(b);
    if (st == BX_OK)
        st = bx_rpt__gp_script(dir, name, body, false, err);
    return st == BX_OK ? bx_rpt__add_plot(out, name, title, why, err) : st;
}

double bx_rpt__probit(double p)
{
    return gsl_cdf_ugaussian_Pinv(p);
}

/* Normal-deviate tics for both axes. */
void bx_rpt__det_axes(FILE *b, const char *title)
{
    static const double tic[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5};
    static const char *const lab[] = {"10^{-6}", "10^{-5}", "10^{-4}", "10^{-3}",
                                      "0.01",    "0.05",    "0.2",     "0.5"};
    bx_rpt__gp_setf(b, "set title", "%s", title);
    fputs("set grid\nset key outside right top font ',9'\n", b);
    fprintf(b, "set xlabel 'FMR (false match rate, normal deviate scale)'\n"
               "set ylabel 'FNMR (false non-match rate, normal deviate scale)'\n");
    fputs("set xtics (", b);
    for (int k = 0; k < 8; ++k)
        fprintf(b, "%s\"%s\" %.6f", k ? ", " : "", lab[k], bx_rpt__probit(tic[k]));
    fputs(")\nset ytics (", b);
    for (int k = 0; k < 8; ++k)
        fprintf(b, "%s\"%s\" %.6f", k ? ", " : "", lab[k], bx_rpt__probit(tic[k]));
    fprintf(b,
            ")\nset xrange [%.4f:%.4f]\nset yrange [%.4f:%.4f]\n"
            "set style fill transparent solid 0.15 noborder\nplot ",
            bx_rpt__probit(1e-6), bx_rpt__probit(0.5), bx_rpt__probit(1e-5), bx_rpt__probit(0.5));
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
