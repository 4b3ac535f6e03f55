/* SPDX-License-Identifier: MIT */
/* cmd_size.c - `bxsim size`: the smallest level of each resource that meets a p95 wait target
 * (bx/size.h), per port of a ports scenario. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx/common.h"
#include "bx/par.h"
#include "bx/report.h"
#include "bx/scn.h"
#include "bx/size.h"

#include "app.h"

static const char usage[] =
    "usage: bxsim size FILE.yaml --target-p95-wait SECONDS [options]\n"
    "\n"
    "For every port (and resource), the smallest number of lanes or mobile units, cameras per\n"
    "gate, or officers whose simulated p95 queue wait over the busiest hours meets the target\n"
    "(upper confidence bound), bracketed by Erlang C / Allen-Cunneen and confirmed by simulation\n"
    "with common random numbers: one fewer was simulated and fails (docs/sizing.md).\n"
    "\n"
    "options:\n"
    "  --target-p95-wait S  the target (seconds), required\n"
    "  --port NAME          only this port\n"
    "  --resource KIND      lanes, cameras or officers (default: lanes or cameras, and officers);\n"
    "                       tvs: the shared matching service's workers, for a p95 camera-to-\n"
    "                       answer time of S seconds with every port sending requests\n"
    "  --confidence C       of the interval across replications (default 0.95)\n"
    "  --replications R     per level (default 5, at least 2)\n"
    "  --window-hours W     the busiest period, consecutive hours (default 3)\n"
    "  --max-level N        give up above N (default 500)\n"
    "  --seed S             master seed (default: the scenario's)\n"
    "  --threads T          replications in parallel (0 = one per core); results do not depend\n"
    "                       on it\n"
    "  --rollout-weeks N    for land ports, the rollout plan: units needed against the units\n"
    "                       the scenario's rollout delivers by phase, and the weekly waits of\n"
    "                       the first N weeks as units arrive (e.g. 13: Q1 2026)\n"
    "  --out DIR            write DIR/size.json and DIR/size.html (atomically)\n"
    "  --json               print size.json to stdout instead of the table\n"
    "  --quiet              no progress bar (it is drawn only when stderr is a terminal)\n";

/* The rollout plan of the selected land ports, printed: units needed (sized) against the
 * rollout's phases, and the weekly waits as units arrive. */
static void print_rollout(const struct bx_rpt_size *sz)
{
    printf("\nrollout: weekly waits of a representative day as units arrive (%u weeks)\n",
           sz->weeks);
    long total_needed = 0;
    for (size_t i = 0; i < sz->n_rollout; ++i) {
        const struct bx_rpt_size_rollout *rp = &sz->rollout[i];
        if (rp->needed > 0) {
            total_needed += rp->needed;
            printf("%-24s needs %ld units; week: units, p95 queue wait s [95%% CI]\n",
                   rp->port->name, rp->needed);
        } else {
            printf("%-24s (lanes not sized); week: units, p95 queue wait s [95%% CI]\n",
                   rp->port->name);
        }
        for (unsigned k = 0; k < sz->weeks; ++k) {
            const struct bx_size_week *w = &rp->weeks[k];
            const struct bx_size_point *p = &w->p95;
            char when[32] = "";
            if (sz->dated) {
                char d[16];
                bx_rpt_date(sz->start_day + (long)floor(w->t_s / 86400), d);
                snprintf(when, sizeof when, " (%s)", d);
            }
            bool met = !p->failed && isfinite(p->hi) && p->hi <= sz->opts->target_p95_s;
            if (p->failed)
                printf("  week %2u%s: %3u units  overloaded  short\n", w->week, when, w->units);
            else
                printf("  week %2u%s: %3u units  %8.1f [%.1f, %.1f]%s\n", w->week, when, w->units,
                       p->value, p->lo, p->hi, met ? "" : "  short");
        }
    }
    printf("total units needed %ld; scheduled by phase:", total_needed);
    for (size_t k = 0; k < sz->n_phases; ++k) {
        if (sz->dated) {
            char d[16];
            bx_rpt_date(sz->start_day + (long)floor(sz->phases[k].t_s / 86400), d);
            printf(" from %s: %ld%s", d, sz->phases[k].units, k + 1 < sz->n_phases ? "," : "\n");
        } else {
            printf(" %g h: %ld%s", sz->phases[k].t_s / 3600, sz->phases[k].units,
                   k + 1 < sz->n_phases ? "," : "\n");
        }
    }
}

/* `--resource tvs`: the shared matching service's workers (bx_size_tvs), printed and written
 * as size.json {kind: "tvs", ...} (no page: the capacity curve is in the JSON). */
static int size_tvs(const struct bx_scn *scn, const char *file, const struct bx_size_opts *o,
                    struct bx_outdir *od, bool json)
{
    struct bx_error err = {0};
    struct bx_size_tvs_result r;
    if (!scn->ports.tvs.on) {
        fprintf(stderr, "%s: --resource tvs: the scenario has no `tvs` (docs/scenarios.md)\n",
                file);
        return BX_EXIT_USAGE;
    }
    if (bx_par_rank() == 0 && !json)
        fprintf(stderr, "bxsim size: sizing the matching service of %s (%zu ports)\n", scn->name,
                scn->ports.n_ports);
    if (bx_size_tvs(&scn->ports, o, &r, &err) != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim size: %s\n", err.msg);
        bx_size_result_fini(&r.search);
        return err.code == BX_EINVAL ? BX_EXIT_USAGE : BX_EXIT_RUNTIME;
    }
    int rc = BX_EXIT_OK;
    if (bx_par_rank() != 0)
        goto done;
    const struct bx_size_point *best = bx_size_best(&r.search);
    json_t *curve = json_array();
    for (size_t k = 0; k < r.search.n_curve; ++k) {
        const struct bx_size_point *p = &r.search.curve[k];
        json_array_append_new(curve, json_pack("{sIsbsfsfsfsf}", "workers", (json_int_t)p->level,
                                               "failed", p->failed, "p95_answer_s", p->value, "lo",
                                               p->lo, "hi", p->hi, "utilization", p->utilization));
    }
    json_t *root =
        json_pack("{sssssssfsfsIsosfsfso}", "kind", "tvs", "scenario", scn->name, "scenario_file",
                  file, "target_p95_answer_s", o->target_p95_s, "confidence", o->confidence,
                  "replications", (json_int_t)o->replications, "workers",
                  best ? json_integer((json_int_t)best->level) : json_null(), "peak_requests_per_s",
                  r.peak_per_s, "service_mean_s", r.service_mean_s, "curve", curve);
    if (json_object_get(root, "curve") == NULL) {
        json_decref(root);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    json_object_set_new(root, "approx", json_integer((json_int_t)r.search.approx));
    if (!json) {
        printf("%-8s %24s %8s\n", "workers", "p95 answer s (95% CI)", "util");
        for (size_t k = 0; k < r.search.n_curve; ++k) {
            const struct bx_size_point *p = &r.search.curve[k];
            char ci[64] = "overloaded";
            if (!p->failed)
                snprintf(ci, sizeof ci, "%.3f [%.3f, %.3f]", p->value, p->lo, p->hi);
            printf("%-8u %24s %8.3f\n", p->level, ci, p->utilization);
        }
        if (best)
            printf("tvs needs %u workers for a p95 answer time of %g s (busiest hour %.2f "
                   "requests/s, approximation %u)\n",
                   best->level, o->target_p95_s, r.peak_per_s, r.search.approx);
        else
            printf("tvs: no level up to %u workers meets %g s\n", o->max_level, o->target_p95_s);
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    if (od && text) {
        char path[4096];
        if (bx_outdir_path(od, "size.json", path, sizeof path, &err) != BX_OK ||
            bx_file_write_atomic(path, text, strlen(text), &err) != BX_OK ||
            bx_outdir_commit(od, &err) != BX_OK) {
            fprintf(stderr, "bxsim size: %s\n", err.msg);
            rc = BX_EXIT_RUNTIME;
        }
    }
    if (json && text)
        puts(text);
    free(text);
    json_decref(root);
done:
    bx_size_result_fini(&r.search);
    return rc;
}

/* The progress bar (stderr on a terminal, rank 0): the ports' tasks run one after another, each
 * simulating levels until its searches are confirmed and, with --rollout-weeks, its weeks. */
struct size_bar {
    double t_start;
    const struct bx_ports_config *cfg;
    const struct bx_size_task *t;
    size_t n, cur, levels; /* the task in progress, levels simulated in it */
    unsigned weeks;
};

static void size_progress(void *vctx, const char *port, const char *what, unsigned level)
{
    struct size_bar *b = vctx;
    size_t i = b->cur;
    while (i < b->n && strcmp(b->cfg->ports[b->t[i].port].name, port) != 0)
        ++i;
    if (i == b->n) /* another rank's port (mpirun): not this bar's */
        return;
    if (i != b->cur)
        b->levels = 0;
    b->cur = i;
    ++b->levels;
    /* A search confirms in about 4 levels; a week may reuse a level already simulated. */
    double expect = 4.0 * b->t[i].n_kinds + (b->t[i].weekly ? 1 + b->weeks / 4.0 : 0);
    double within = (double)b->levels / (expect + (double)b->levels);
    char line[160];
    snprintf(line, sizeof line, "port %zu/%zu %.40s: %s %u simulated", i + 1, b->n, port,
             strcmp(what, "week") == 0 ? "week with units" : what, level);
    bx_app_bar(b->t_start, (double)i + within, (double)b->n, line, false);
}

int bx_cmd_size(int argc, char **argv)
{
    const char *file = NULL, *port = NULL, *resource = NULL, *out = NULL;
    struct bx_size_opts o = {.target_p95_s = BX_NAN,
                             .confidence = 0.95,
                             .replications = 5,
                             .window_hours = 3,
                             .max_level = 500};
    uint64_t u, seed = 0, weeks = 0;
    bool has_seed = false, json = false, bad = false, quiet = false;
    for (int i = 1; i < argc && !bad; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return BX_EXIT_OK;
        }
        if (strcmp(a, "--json") == 0 || strcmp(a, "--quiet") == 0) {
            *(a[2] == 'j' ? &json : &quiet) = true;
            continue;
        }
        if (a[0] != '-') {
            if (file) {
                fprintf(stderr, "bxsim size: unexpected argument '%s' (one scenario file)\n", a);
                return BX_EXIT_USAGE;
            }
            file = a;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "bxsim size: option %s needs a value (or is unknown; try --help)\n", a);
            return BX_EXIT_USAGE;
        }
        char *end;
        errno = 0;
        if (strcmp(a, "--target-p95-wait") == 0 || strcmp(a, "--confidence") == 0) {
            double x = strtod(v, &end);
            bool conf = strcmp(a, "--confidence") == 0;
            if (*v == '\0' || *end != '\0' || errno == ERANGE || !isfinite(x) ||
                (conf ? !(x > 0 && x < 1) : !(x > 0))) {
                fprintf(stderr, "bxsim size: %s: expected %s, got '%s'\n", a,
                        conf ? "a number in (0, 1)" : "seconds > 0", v);
                return BX_EXIT_USAGE;
            }
            *(conf ? &o.confidence : &o.target_p95_s) = x;
        } else if (strcmp(a, "--port") == 0) {
            port = v;
        } else if (strcmp(a, "--resource") == 0) {
            resource = v;
            if (strcmp(v, "lanes") != 0 && strcmp(v, "cameras") != 0 &&
                strcmp(v, "officers") != 0 && strcmp(v, "tvs") != 0) {
                fprintf(stderr,
                        "bxsim size: --resource: expected lanes, cameras, officers or tvs, got "
                        "'%s'\n",
                        v);
                return BX_EXIT_USAGE;
            }
        } else if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--replications") == 0) {
            bad = !bx_app_parse_u64("size", a, v, 2, 10000, &u);
            o.replications = (uint32_t)u;
        } else if (strcmp(a, "--window-hours") == 0) {
            bad = !bx_app_parse_u64("size", a, v, 1, 24 * 366, &u);
            o.window_hours = (unsigned)u;
        } else if (strcmp(a, "--max-level") == 0) {
            bad = !bx_app_parse_u64("size", a, v, 1, 100000, &u);
            o.max_level = (unsigned)u;
        } else if (strcmp(a, "--rollout-weeks") == 0) {
            bad = !bx_app_parse_u64("size", a, v, 1, 520, &weeks);
        } else if (strcmp(a, "--threads") == 0) {
            bad = !bx_app_parse_u64("size", a, v, 0, 1024, &u);
            o.threads = (unsigned)u;
        } else if (strcmp(a, "--seed") == 0) {
            bad = !bx_app_parse_u64("size", a, v, 0, INT64_MAX, &seed);
            has_seed = true;
        } else {
            fprintf(stderr, "bxsim size: unknown option '%s' (try bxsim size --help)\n", a);
            return BX_EXIT_USAGE;
        }
        ++i;
    }
    if (bad)
        return BX_EXIT_USAGE;
    if (file == NULL || isnan(o.target_p95_s)) {
        fprintf(stderr, "bxsim size: %s\n%s",
                file ? "--target-p95-wait SECONDS is required" : "no scenario file", usage);
        return BX_EXIT_USAGE;
    }
    struct bx_error err = {0};
    struct bx_scn scn;
    int lrc = bx_app_load_scenario(file, &scn);
    if (lrc != BX_EXIT_OK)
        return lrc;
    /* The output folder is checked before anything is simulated; only rank 0 writes. */
    struct bx_outdir od = {.slot = -1};
    bool out_ok = !out || bx_par_rank() != 0 || bx_outdir_open(&od, out, "--out", &err) == BX_OK;
    if (!bx_par_all_ok(out_ok)) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim size: %s\n", err.code ? err.msg : "--out: another rank failed");
        bx_scn_fini(&scn);
        return err.code == BX_EIO ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    int rc = BX_EXIT_OK;
    json_t *root = NULL;
    if (scn.kind != BX_SCN_PORTS) {
        fprintf(stderr, "%s: bxsim size needs a `kind: ports` scenario\n", file);
        rc = BX_EXIT_USAGE;
        goto done;
    }
    if (!bx_app_ports_profile(&scn, file, NULL, 0)) {
        rc = BX_EXIT_USAGE;
        goto done;
    }
    o.seed = has_seed ? seed : scn.seed;
    if (resource && strcmp(resource, "tvs") == 0) {
        rc = size_tvs(&scn, file, &o, out ? &od : NULL, json);
        goto done;
    }
    bool any = false;
    for (size_t i = 0; i < scn.ports.n_ports; ++i)
        any |= port == NULL || strcmp(scn.ports.ports[i].name, port) == 0;
    if (!any) {
        fprintf(stderr, "bxsim size: --port: no port '%s' in %s\n", port, file);
        rc = BX_EXIT_USAGE;
        goto done;
    }
    size_t sized = 0;
    long *needed = calloc(scn.ports.n_ports, sizeof *needed); /* lanes sized; -1: not met */
    if (needed == NULL) {
        fprintf(stderr, "bxsim size: out of memory\n");
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    /* The tasks: each selected port with its resources and weekly waits. */
    struct {
        struct bx_size_task *t;
        size_t n;
    } ts = {calloc(scn.ports.n_ports, sizeof *ts.t), 0};
    if (ts.t == NULL) {
        free(needed);
        fprintf(stderr, "bxsim size: out of memory\n");
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    for (size_t i = 0; i < scn.ports.n_ports; ++i) {
        const struct bx_port_config *pc = &scn.ports.ports[i];
        if (port && strcmp(pc->name, port) != 0)
            continue;
        struct bx_size_task t = {.port = i, .weekly = weeks > 0 && pc->type == BX_PORT_LAND};
        enum bx_size_resource kinds[2] = {
            pc->type == BX_PORT_LAND ? BX_SIZE_LANES : BX_SIZE_CAMERAS, BX_SIZE_OFFICERS};
        for (int k = 0; k < 2; ++k)
            if (!resource || strcmp(resource, bx_size_resource_name(kinds[k])) == 0)
                t.kinds[t.n_kinds++] = kinds[k];
        sized += (size_t)t.n_kinds;
        if (t.n_kinds > 0 || t.weekly)
            ts.t[ts.n++] = t;
    }
    if (sized == 0) {
        fprintf(stderr,
                "bxsim size: --resource %s: no selected port has it (land ports have lanes, "
                "air, sea and private ports have cameras; all have officers)\n",
                resource);
        rc = BX_EXIT_USAGE;
        goto done_tasks;
    }
    if (!json && bx_par_rank() == 0)
        fprintf(stderr,
                "bxsim size: %s, %zu port-resource search%s to a p95 queue wait of %g s, %u "
                "replications per level%s (this takes a while: each level is simulated)\n",
                scn.name, sized, sized == 1 ? "" : "es", o.target_p95_s, o.replications,
                weeks > 0 ? ", and the weekly rollout" : "");
    struct size_bar bar = {bx_wall_s(), &scn.ports, ts.t, ts.n, 0, 0, (unsigned)weeks};
    bool drawn = !quiet && !json && bx_par_rank() == 0 && isatty(STDERR_FILENO);
    if (drawn) {
        o.progress = size_progress;
        o.progress_ctx = &bar;
    }
    enum bx_status tst = bx_size_tasks(&scn.ports, &o, (unsigned)weeks, ts.t, ts.n, &err);
    if (drawn && bar.levels > 0 && tst != BX_OK) {
        fputc('\n', stderr); /* end the bar's line before the error */
    } else if (drawn && bar.levels > 0) {
        char line[64];
        snprintf(line, sizeof line, "%zu port%s sized", ts.n, ts.n == 1 ? "" : "s");
        bx_app_bar(bar.t_start, (double)ts.n, (double)ts.n, line, true);
    }
    if (tst != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim size: %s\n", err.msg);
        rc = err.code == BX_EINVAL ? BX_EXIT_USAGE : BX_EXIT_RUNTIME;
        goto done_tasks;
    }
    if (bx_par_rank() != 0)
        goto done_tasks;
    if (!json)
        printf("%-24s %-9s %6s %6s %8s %22s %8s %12s\n", "port", "resource", "now", "needed",
               "approx", "p95 wait s (95% CI)", "util", "busiest h");
    /* What was found, as size.json (reports/) and as the terminal's table. */
    struct bx_rpt_size_row *rows = calloc(2 * ts.n + 1, sizeof *rows);
    struct bx_rpt_size_rollout *ro = calloc(ts.n + 1, sizeof *ro);
    struct bx_size_phase phases[256];
    if (rows == NULL || ro == NULL) {
        free(rows);
        free(ro);
        fprintf(stderr, "bxsim size: out of memory\n");
        rc = BX_EXIT_RUNTIME;
        goto done_tasks;
    }
    struct bx_rpt_size sz = {.scenario = scn.name,
                             .scenario_file = file,
                             .opts = &o,
                             .rows = rows,
                             .weeks = (unsigned)weeks,
                             .rollout = ro,
                             .phases = phases,
                             .dated = scn.ports.dated,
                             .start_day = scn.ports.start_day};
    for (size_t ti = 0; ti < ts.n; ++ti)
        for (int k = 0; k < ts.t[ti].n_kinds; ++k) {
            size_t i = ts.t[ti].port;
            const struct bx_port_config *pc = &scn.ports.ports[i];
            enum bx_size_resource sres = ts.t[ti].kinds[k];
            const struct bx_size_port_result *r = &ts.t[ti].r[k];
            const struct bx_size_point *best = bx_size_best(&r->search);
            rows[sz.n_rows++] = (struct bx_rpt_size_row){pc, sres, r};
            if (sres == BX_SIZE_LANES)
                needed[i] = best ? (long)best->level : -1;
            if (!json) {
                char ci[64] = "not met";
                if (best)
                    snprintf(ci, sizeof ci, "%.1f [%.1f, %.1f]", best->value, best->lo, best->hi);
                char lvl[16];
                snprintf(lvl, sizeof lvl, best ? "%u" : ">%u", best ? best->level : o.max_level);
                printf("%-24s %-9s %6ld %6s %8u %22s %8.3f %5.0f-%-5.0f\n", pc->name,
                       bx_size_resource_name(sres), bx_rpt_size_current(pc, sres), lvl,
                       r->search.approx, ci, best ? best->utilization : BX_NAN, r->window_from_h,
                       r->window_to_h);
            }
        }
    if (weeks > 0) {
        /* The selected land ports in the scenario's order, each with its weekly waits. */
        for (size_t i = 0; i < scn.ports.n_ports; ++i)
            for (size_t ti = 0; ti < ts.n; ++ti)
                if (ts.t[ti].port == i && ts.t[ti].weekly)
                    ro[sz.n_rollout++] =
                        (struct bx_rpt_size_rollout){&scn.ports.ports[i], needed[i], ts.t[ti].w};
        sz.n_phases = bx_size_rollout_phases(&scn.ports, port, phases, 256);
        if (!json)
            print_rollout(&sz);
    }
    root = bx_rpt_size_json(&sz);
    free(rows);
    free(ro);
    if (root == NULL) {
        fprintf(stderr, "bxsim size: out of memory\n");
        rc = BX_EXIT_RUNTIME;
    }
    if (rc == BX_EXIT_OK) {
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        if (out) {
            char path[4096];
            if (text == NULL ||
                bx_outdir_path(&od, "size.json", path, sizeof path, &err) != BX_OK ||
                bx_file_write_atomic(path, text, strlen(text), &err) != BX_OK) {
                fprintf(stderr, "bxsim size: --out %s: %s\n", out, err.code ? err.msg : "no text");
                rc = BX_EXIT_RUNTIME;
            }
        }
        if (out && rc == BX_EXIT_OK) {
            struct bx_rpt_report_result rep = {0};
            if (bx_rpt_write_size_report(od.stage, root, NULL, &rep, &err) != BX_OK ||
                bx_outdir_commit(&od, &err) != BX_OK) {
                fprintf(stderr, "bxsim size: %s\n", err.msg);
                rc = BX_EXIT_RUNTIME;
            } else if (!rep.images) {
                fprintf(stderr,
                        "bxsim size: plots skipped (%s); their data and scripts are in "
                        "%s/size_plots\n",
                        rep.note, out);
            }
            if (rc == BX_EXIT_OK && !json)
                printf("wrote %s/size.json and size.html (%zu plot%s)\n", out, rep.n_plots,
                       rep.n_plots == 1 ? "" : "s");
        }
        if (json && text) {
            fputs(text, stdout);
            fputc('\n', stdout);
        }
        free(text);
    }
done_tasks:
    bx_size_tasks_fini(ts.t, ts.n);
    free(ts.t);
    free(needed);
done:
    if (rc != BX_EXIT_OK && od.stage[0] != '\0')
        bx_app_explain_write_failure("size", out);
    bx_outdir_abort(&od);
    json_decref(root);
    bx_scn_fini(&scn);
    return rc;
}
