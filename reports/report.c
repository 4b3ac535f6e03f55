/* SPDX-License-Identifier: MIT */
/* report.c - publishing a page (report_page.h): its plots built under a temporary name, drawn
 * by gnuplot and swapped in whole, then the self-contained XHTML page (inline CSS, images beside
 * it, no network) written atomically; and the entry points, one per page. */
#define _XOPEN_SOURCE 700
#include "bx/report.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_page.h"

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

/* Build the plots of page @p pg in DIR/SUB.tmp.PID, draw them, swap the folder in as DIR/SUB,
 * then write DIR/FILE atomically. @p src is the run folder the page describes. */
static enum bx_status publish(const char *dir, const char *src, const struct rpt_page *pg,
                              void *data, const struct bx_rpt_report_opts *o,
                              struct bx_rpt_report_result *res, struct bx_error *err)
{
    struct bx_rpt_report_result dummy;
    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof *res);
    res->page = pg->file;
    res->plots = pg->sub;
    const char *sub = pg->sub;
    char tmp[4096], plots[4096], old[4096], html[4096];
    if (strlen(dir) > 3000 ||
        snprintf(tmp, sizeof tmp, "%s/%s.tmp.%ld", dir, sub, (long)getpid()) >= (int)sizeof tmp ||
        snprintf(plots, sizeof plots, "%s/%s", dir, sub) >= (int)sizeof plots ||
        snprintf(old, sizeof old, "%s/%s.old.%ld", dir, sub, (long)getpid()) >= (int)sizeof old ||
        snprintf(html, sizeof html, "%s/%s", dir, pg->file) >= (int)sizeof html)
        return BX_FAIL(err, BX_EINVAL, "%s: path too long", dir);
    rm_tree(tmp);
    struct rpt_plots pl = {0};
    enum bx_status st = BX_OK;
    if (mkdir(tmp, 0755) != 0) {
        st = BX_FAIL(err, BX_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    if ((st = pg->plots(data, tmp, &pl, err)) != BX_OK)
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
    /* The page is built in memory (written atomically below); every page ends the same way. */
    size_t len = 0;
    char *page = NULL;
    FILE *h = open_memstream(&page, &len);
    if (h != NULL) {
        struct page_plots pp = {dir, sub, src, &pl, res->images, res->note};
        pg->html(h, &pp, data);
        fputs("</body>\n</html>\n", h);
        if (fclose(h) != 0) {
            free(page);
            page = NULL;
        }
    }
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
    char file[4096], sjson[4096];
    if (strlen(dir) > 3000 ||
        snprintf(file, sizeof file, "%s/results.h5", dir) >= (int)sizeof file ||
        snprintf(sjson, sizeof sjson, "%s/summary.json", dir) >= (int)sizeof sjson)
        return BX_FAIL(err, BX_EINVAL, "%s: path too long", dir);
    const char *out = o && o->out ? o->out : dir;
    char ojson[4096];
    snprintf(ojson, sizeof ojson, "%s/overstay.json", dir);
    if (access(file, F_OK) != 0 && access(sjson, F_OK) != 0 && access(ojson, R_OK) == 0) {
        /* A lifecycle run: overstay.json holds everything its page shows. */
        json_error_t je;
        json_t *ov = json_load_file(ojson, 0, &je);
        const char *kind = json_string_value(json_object_get(ov, "kind"));
        if (ov == NULL || kind == NULL || strcmp(kind, "lifecycle") != 0) {
            json_decref(ov);
            return BX_FAIL(err, BX_EPARSE, "%s: not a lifecycle run's overstay.json", ojson);
        }
        enum bx_status st = publish(out, dir, &bx_rpt__page_overstay, ov, o, res, err);
        json_decref(ov);
        return st;
    }
    if (access(file, F_OK) != 0 && access(sjson, R_OK) == 0) {
        /* A station-network run: no results.h5; its summary.json holds everything. */
        json_error_t je;
        json_t *net = json_load_file(sjson, 0, &je);
        const char *kind = json_string_value(json_object_get(net, "kind"));
        if (net == NULL || kind == NULL || strcmp(kind, "network") != 0) {
            json_decref(net);
            return BX_FAIL(err, BX_EPARSE,
                           "%s: no results.h5, and %s is not a network run's "
                           "summary",
                           file, sjson);
        }
        enum bx_status st = publish(out, dir, &bx_rpt__page_network, net, o, res, err);
        json_decref(net);
        return st;
    }
    struct bx_rpt_results d = {0};
    enum bx_status st = bx_rpt_results_read_dir(dir, &d, err);
    if (st == BX_OK)
        st = publish(out, dir, &bx_rpt__page_run, &d, o, res, err);
    bx_rpt_results_fini(&d);
    return st;
}

enum bx_status bx_rpt_write_audit_report(const char *dir, json_t *audit,
                                         const struct bx_rpt_report_opts *o,
                                         struct bx_rpt_report_result *res, struct bx_error *err)
{
    return publish(dir, dir, &bx_rpt__page_audit, audit, o, res, err);
}

enum bx_status bx_rpt_write_size_report(const char *dir, json_t *size,
                                        const struct bx_rpt_report_opts *o,
                                        struct bx_rpt_report_result *res, struct bx_error *err)
{
    return publish(dir, dir, &bx_rpt__page_size, size, o, res, err);
}

enum bx_status bx_rpt_write_overstay_report(const char *dir, json_t *overstay,
                                            const struct bx_rpt_report_opts *o,
                                            struct bx_rpt_report_result *res, struct bx_error *err)
{
    return publish(dir, dir, &bx_rpt__page_overstay, overstay, o, res, err);
}

enum bx_status bx_rpt_write_compare_report(const char *dir, json_t *cmp,
                                           const struct bx_rpt_report_opts *o,
                                           struct bx_rpt_report_result *res, struct bx_error *err)
{
    return publish(dir, dir, &bx_rpt__page_compare, cmp, o, res, err);
}
