/* SPDX-License-Identifier: MIT */
/* compare.c - compare.json of `bxsim compare` (docs/compare.md): two ports scenarios run with the
 * same seed and replications (common random numbers: the same travellers where the scenarios
 * agree), each figure's paired difference B - A with a Student-t interval over replications,
 * and compare.html read back from it. The schema's keys are written and read here only. */
#define _POSIX_C_SOURCE 200809L
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_page.h"

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* One figure: A's and B's means over replications and the paired difference. */
static json_t *pair(const double *a, const double *b, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d == NULL)
        return NULL;
    for (size_t r = 0; r < n; ++r)
        d[r] = b[r] - a[r];
    struct bx_ci ca = bx_ci_student(a, n, 0.95), cb = bx_ci_student(b, n, 0.95),
                 cd = bx_ci_student(d, n, 0.95);
    free(d);
    json_t *diff = json_pack("{so}", "value", num(cd.value));
    json_object_set_new(diff, "ci95",
                        isfinite(cd.lo) && isfinite(cd.hi) ? json_pack("[ff]", cd.lo, cd.hi)
                                                           : json_null());
    /* excludes 0: a change the replications show, not noise */
    json_object_set_new(diff, "significant",
                        json_boolean(isfinite(cd.lo) && (cd.lo > 0 || cd.hi < 0)));
    return json_pack("{sososo}", "a", num(ca.value), "b", num(cb.value), "difference", diff);
}

enum port_metric { PM_TRAVELLERS, PM_MEAN_WAIT, PM_P95_WAIT, PM_MANUAL, PM_SECONDARY, PM_N };
static const char *const port_metric_names[PM_N] = {"travellers", "mean_wait_s", "p95_wait_s",
                                                    "manual", "secondary"};

static double port_metric(const struct bx_port_result *p, int m)
{
    switch (m) {
    case PM_TRAVELLERS:
        return (double)p->travellers;
    case PM_MEAN_WAIT:
        return bx_tally_mean(&p->wait);
    case PM_P95_WAIT:
        return p->wait_q ? bx_quantiles_get(p->wait_q, 0.95) : BX_NAN;
    case PM_MANUAL:
        return (double)p->manual;
    default:
        return (double)p->secondary;
    }
}

static long find_port(const struct bx_ports_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_ports; ++i)
        if (strcmp(c->ports[i].name, name) == 0)
            return (long)i;
    return -1;
}

enum sys_metric { SM_FNMR, SM_FMR, SM_MANUAL, SM_IMPOSTORS_CAUGHT, SM_OVERSTAYS_DETECTED, SM_N };
static const char *const sys_metric_names[SM_N] = {"fnmr", "fmr", "manual", "impostors_caught",
                                                   "overstays_detected"};

static double sys_metric(const struct bx_ports_result *r, int m)
{
    switch (m) {
    case SM_FNMR:
        return r->fnmr.trials ? (double)r->fnmr.errors / (double)r->fnmr.trials : BX_NAN;
    case SM_FMR:
        return r->fmr.trials ? (double)r->fmr.errors / (double)r->fmr.trials : BX_NAN;
    case SM_MANUAL:
        return (double)r->manual;
    case SM_IMPOSTORS_CAUGHT:
        return (double)r->impostors_caught;
    default:
        return (double)r->overstays_detected;
    }
}

json_t *bx_rpt_compare_json(const struct bx_rpt_compare *c)
{
    size_t n = c->n_reps;
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    json_t *root = json_pack("{s{ssss}s{ssss}sIsI}", "a", "scenario", c->a_name, "file", c->a_file,
                             "b", "scenario", c->b_name, "file", c->b_file, "seed",
                             (json_int_t)c->seed, "replications", (json_int_t)n);
    if (a == NULL || b == NULL || root == NULL) {
        free(a);
        free(b);
        json_decref(root);
        return NULL;
    }
    json_t *ports = json_array();
    /* A's ports in order, then those only B has */
    for (int side = 0; side < 2; ++side) {
        const struct bx_ports_config *self = side ? c->b : c->a, *other = side ? c->a : c->b;
        for (size_t i = 0; i < self->n_ports; ++i) {
            const char *name = self->ports[i].name;
            long j = find_port(other, name);
            if (side == 1 && j >= 0)
                continue; /* already listed */
            json_t *po =
                json_pack("{ssss}", "name", name, "in", j < 0 ? (side ? "b" : "a") : "both");
            if (j >= 0) {
                size_t ia = i, ib = (size_t)j;
                json_t *m = json_object();
                for (int k = 0; k < PM_N; ++k) {
                    for (size_t r = 0; r < n; ++r) {
                        a[r] = port_metric(&c->a_reps[r].ports[ia], k);
                        b[r] = port_metric(&c->b_reps[r].ports[ib], k);
                    }
                    json_object_set_new(m, port_metric_names[k], pair(a, b, n));
                }
                json_object_set_new(po, "figures", m);
            }
            json_array_append_new(ports, po);
        }
    }
    json_object_set_new(root, "ports", ports);
    json_t *sys = json_object();
    for (int k = 0; k < SM_N; ++k) {
        for (size_t r = 0; r < n; ++r) {
            a[r] = sys_metric(&c->a_reps[r], k);
            b[r] = sys_metric(&c->b_reps[r], k);
        }
        json_object_set_new(sys, sys_metric_names[k], pair(a, b, n));
    }
    json_object_set_new(root, "system", sys);
    free(a);
    free(b);
    return root;
}

/* ---------------------------------------------------------------- compare.html */

static void fig_row(FILE *h, const char *label, json_t *f, int prec)
{
    json_t *d = json_object_get(f, "difference"), *ci = json_object_get(d, "ci95");
    fputs("<tr><td>", h);
    bx_rpt__esc(h, label);
    fprintf(h, "</td><td>%.*f</td><td>%.*f</td>", prec, bx_rpt__jnum(f, "a"), prec,
            bx_rpt__jnum(f, "b"));
    double v = bx_rpt__jnum(d, "value");
    if (json_is_array(ci))
        fprintf(h, "<td>%+.*f [%+.*f, %+.*f]%s</td></tr>\n", prec, v, prec,
                json_number_value(json_array_get(ci, 0)), prec,
                json_number_value(json_array_get(ci, 1)),
                json_is_true(json_object_get(d, "significant")) ? " *" : "");
    else
        fprintf(h, "<td>%+.*f</td></tr>\n", prec, v);
}

static void page(FILE *h, const struct page_plots *pp, void *src)
{
    json_t *cp = src, *a = json_object_get(cp, "a"), *b = json_object_get(cp, "b");
    char title[300];
    snprintf(title, sizeof title, "%s vs %s", json_string_value(json_object_get(a, "scenario")),
             json_string_value(json_object_get(b, "scenario")));
    bx_rpt__html_head_as(h, "comparison", title);
    fputs("<p>Two scenarios run with the same seed and replications, so that the travellers, "
          "their arrivals and their captures are the same wherever the scenarios agree (common "
          "random numbers). Each figure is a mean over replications; B - A is the mean of the "
          "paired differences with its 95% Student-t interval; * marks an interval that "
          "excludes 0. Waits are from arrival at the camera queue to the end of processing. "
          "A: <code>",
          h);
    bx_rpt__esc(h, json_string_value(json_object_get(a, "file")));
    fputs("</code>, B: <code>", h);
    bx_rpt__esc(h, json_string_value(json_object_get(b, "file")));
    fprintf(h,
            "</code>; seed %lld, %lld replications. Data: <a href=\"compare.json\">"
            "compare.json</a>.</p>\n",
            (long long)json_integer_value(json_object_get(cp, "seed")),
            (long long)json_integer_value(json_object_get(cp, "replications")));
    static const char *const head = "<table>\n<thead><tr><th>figure</th><th>A</th><th>B</th>"
                                    "<th>B - A (95% CI)</th></tr></thead>\n<tbody>\n";
    fputs("<h2 id=\"system\">All ports</h2>\n", h);
    fputs(head, h);
    json_t *sys = json_object_get(cp, "system");
    const char *k;
    json_t *v;
    json_object_foreach(sys, k, v)
    {
        bool rate = strcmp(k, "fnmr") == 0 || strcmp(k, "fmr") == 0;
        fig_row(h, k, v, rate ? 6 : 1);
    }
    fputs("</tbody>\n</table>\n", h);
    json_t *ports = json_object_get(cp, "ports");
    for (size_t i = 0; i < json_array_size(ports); ++i) {
        json_t *p = json_array_get(ports, i);
        fputs("<h2>", h);
        bx_rpt__esc(h, json_string_value(json_object_get(p, "name")));
        fputs("</h2>\n", h);
        const char *in = json_string_value(json_object_get(p, "in"));
        if (in && strcmp(in, "both") != 0) {
            fprintf(h, "<p>Only in %s.</p>\n", strcmp(in, "a") == 0 ? "A" : "B");
            continue;
        }
        fputs(head, h);
        json_t *f = json_object_get(p, "figures");
        json_object_foreach(f, k, v)
        {
            fig_row(h, k, v, 1);
        }
        fputs("</tbody>\n</table>\n", h);
    }
    (void)pp; /* tables only: no plots */
}

static enum bx_status plots(void *src, const char *dir, struct rpt_plots *out, struct bx_error *err)
{
    (void)src;
    (void)dir;
    (void)out;
    (void)err;
    return BX_OK; /* tables only */
}

const struct rpt_page bx_rpt__page_compare = {"compare_plots", "compare.html", plots, page};
