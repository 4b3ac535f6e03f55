/* SPDX-License-Identifier: MIT */
/* cmd_size.c - `bxsim size`: the smallest level of each resource that meets a p95 wait target
 * (bx/size.h), per port of a ports scenario. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "  --resource KIND      lanes, cameras or officers (default: lanes or cameras, and officers)\n"
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
    "  --json               print size.json to stdout instead of the table\n";

static json_t *ci_json(double v, double lo, double hi)
{
    json_t *o = json_object();
    json_object_set_new(o, "value", isfinite(v) ? json_real(v) : json_null());
    json_object_set_new(o, "ci95",
                        isfinite(lo) && isfinite(hi) ? json_pack("[ff]", lo, hi) : json_null());
    return o;
}

static json_t *point_json(const struct bx_size_point *p)
{
    return json_pack("{sIsososb}", "level", (json_int_t)p->level, "p95_wait_s",
                     ci_json(p->value, p->lo, p->hi), "utilization",
                     isfinite(p->utilization) ? json_real(p->utilization) : json_null(),
                     "overloaded", p->failed);
}

/* The rollout plan of the selected land ports: needed units (sized) against the rollout's
 * phases, total units by phase, and the weekly waits as units arrive. */
static int rollout_plan(const struct bx_scn *scn, const char *port, const long *needed,
                        struct bx_size_week *const *weekly, unsigned weeks, bool json, json_t *root)
{
    json_t *ro = json_object(), *rports = json_array(), *phases = json_array();
    json_object_set_new(root, "rollout", ro);
    json_object_set_new(ro, "weeks", json_integer((json_int_t)weeks));
    json_object_set_new(ro, "ports", rports);
    long total_needed = 0;
    /* Phase times: every distinct rollout step time of the selected land ports. */
    double times[256];
    size_t n_times = 0;
    times[n_times++] = 0;
    for (size_t i = 0; i < scn->ports.n_ports; ++i) {
        const struct bx_port_config *pc = &scn->ports.ports[i];
        if (pc->type != BX_PORT_LAND || (port && strcmp(pc->name, port) != 0))
            continue;
        for (size_t k = 0; k < pc->land.n_schedule && n_times < 256; ++k) {
            bool seen = false;
            for (size_t j = 0; j < n_times; ++j)
                seen |= times[j] == pc->land.schedule[k].t_s;
            if (!seen)
                times[n_times++] = pc->land.schedule[k].t_s;
        }
    }
    for (size_t a = 1; a < n_times; ++a) /* insertion sort: a handful of phases */
        for (size_t b = a; b > 0 && times[b - 1] > times[b]; --b) {
            double t = times[b];
            times[b] = times[b - 1];
            times[b - 1] = t;
        }
    long *by_phase = calloc(n_times, sizeof *by_phase);
    if (by_phase == NULL)
        return BX_EXIT_RUNTIME;
    if (!json)
        printf("\nrollout: weekly waits of a representative day as units arrive (%u weeks)\n",
               weeks);
    for (size_t i = 0; i < scn->ports.n_ports; ++i) {
        const struct bx_port_config *pc = &scn->ports.ports[i];
        if (pc->type != BX_PORT_LAND || (port && strcmp(pc->name, port) != 0))
            continue;
        const struct bx_size_week *w = weekly[i];
        json_t *sch = json_array(), *wk = json_array();
        for (size_t k = 0; k < n_times; ++k) {
            unsigned u = bx_size_units_at(pc, times[k]);
            by_phase[k] += u;
            json_array_append_new(
                sch, json_pack("{sfsI}", "at_hours", times[k] / 3600, "units", (json_int_t)u));
        }
        if (needed[i] > 0)
            total_needed += needed[i];
        if (!json) {
            if (needed[i] > 0)
                printf("%-24s needs %ld units; week: units, p95 queue wait s [95%% CI]\n", pc->name,
                       needed[i]);
            else
                printf("%-24s (lanes not sized); week: units, p95 queue wait s [95%% CI]\n",
                       pc->name);
        }
        for (unsigned k = 0; k < weeks; ++k) {
            const struct bx_size_point *p = &w[k].p95;
            json_array_append_new(
                wk,
                json_pack("{sIsfsIsososb}", "week", (json_int_t)w[k].week, "at_hours",
                          w[k].t_s / 3600, "units", (json_int_t)w[k].units, "p95_wait_s",
                          ci_json(p->value, p->lo, p->hi), "mean_wait_s",
                          isfinite(w[k].mean_wait_s) ? json_real(w[k].mean_wait_s) : json_null(),
                          "overloaded", p->failed));
            if (!json) {
                if (p->failed)
                    printf("  week %2u: %3u units  overloaded\n", w[k].week, w[k].units);
                else
                    printf("  week %2u: %3u units  %8.1f [%.1f, %.1f]\n", w[k].week, w[k].units,
                           p->value, p->lo, p->hi);
            }
        }
        json_array_append_new(rports,
                              json_pack("{sssososo}", "name", pc->name, "needed",
                                        needed[i] > 0 ? json_integer(needed[i]) : json_null(),
                                        "schedule", sch, "weeks", wk));
    }
    for (size_t k = 0; k < n_times; ++k)
        json_array_append_new(phases, json_pack("{sfsI}", "at_hours", times[k] / 3600, "units",
                                                (json_int_t)by_phase[k]));
    json_object_set_new(ro, "phases", phases);
    json_object_set_new(ro, "total_needed", json_integer(total_needed));
    if (!json) {
        printf("total units needed %ld; scheduled by phase:", total_needed);
        for (size_t k = 0; k < n_times; ++k)
            printf(" %g h: %ld%s", times[k] / 3600, by_phase[k], k + 1 < n_times ? "," : "\n");
    }
    free(by_phase);
    return BX_EXIT_OK;
}

/* One unit of work: one port, its sized resources and (land, with --rollout-weeks) its weekly
 * rollout waits, sharing one matching cache per replication so that each traveller is matched
 * once. Under mpirun the ports are spread over the ranks (or, with fewer ports than ranks,
 * each level's replications are) and their results gathered on rank 0. */
struct task {
    size_t port;
    int n_kinds;
    enum bx_size_resource kinds[2];
    struct bx_size_port_result r[2];
    bool weekly;
    struct bx_size_week *w;
};

struct tasks {
    const struct bx_scn *scn;
    const struct bx_size_opts *o;
    unsigned weeks;
    struct task *t;
    size_t n;
};

static enum bx_status run_task(void *vctx, uint32_t i, struct bx_error *err)
{
    struct tasks *ts = vctx;
    struct task *t = &ts->t[i];
    struct bx_size_opts o = *ts->o;
    enum bx_status st = BX_OK;
    o.caches = calloc(o.replications, sizeof *o.caches);
    for (uint32_t r = 0; o.caches && r < o.replications && st == BX_OK; ++r)
        if ((o.caches[r] = bx_ports_cache_alloc()) == NULL)
            st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    if (o.caches == NULL)
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    for (int k = 0; k < t->n_kinds && st == BX_OK; ++k)
        st = bx_size_port(&ts->scn->ports, t->port, t->kinds[k], &o, &t->r[k], err);
    if (st == BX_OK && t->weekly)
        st = bx_size_weekly(&ts->scn->ports, t->port, &o, ts->weeks, &t->w, err);
    for (uint32_t r = 0; o.caches && r < o.replications; ++r)
        bx_ports_cache_free(o.caches[r]);
    free(o.caches);
    if (st != BX_OK) { /* name the port in the error */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "%s: %.400s", ts->scn->ports.ports[t->port].name, msg);
    }
    return st;
}

static void pack_task(void *vctx, uint32_t i, struct bx_buf *b)
{
    struct tasks *ts = vctx;
    const struct task *t = &ts->t[i];
    for (int k = 0; k < t->n_kinds; ++k) {
        bx_buf_put(b, &t->r[k], sizeof t->r[k]);
        bx_buf_put(b, t->r[k].search.curve, t->r[k].search.n_curve * sizeof *t->r[k].search.curve);
    }
    if (t->weekly)
        bx_buf_put(b, t->w, ts->weeks * sizeof *t->w);
}

static enum bx_status unpack_task(void *vctx, uint32_t i, struct bx_reader *r, struct bx_error *err)
{
    struct tasks *ts = vctx;
    struct task *t = &ts->t[i];
    for (int k = 0; k < t->n_kinds; ++k) {
        struct bx_size_port_result *p = &t->r[k];
        bx_reader_get(r, p, sizeof *p);
        p->search.curve = bx_reader_array(r, p->search.n_curve, sizeof *p->search.curve);
        if (p->search.curve == NULL)
            p->search.n_curve = 0;
    }
    if (t->weekly)
        t->w = bx_reader_array(r, ts->weeks, sizeof *t->w);
    return r->failed ? BX_FAIL(err, BX_EFORMAT, "truncated sizing results") : BX_OK;
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
    bool has_seed = false, json = false, bad = false;
    for (int i = 1; i < argc && !bad; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return BX_EXIT_OK;
        }
        if (strcmp(a, "--json") == 0) {
            json = true;
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
            if (strcmp(v, "lanes") && strcmp(v, "cameras") && strcmp(v, "officers")) {
                fprintf(stderr,
                        "bxsim size: --resource: expected lanes, cameras or officers, got '%s'\n",
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
    bool any = false;
    for (size_t i = 0; i < scn.ports.n_ports; ++i)
        any |= port == NULL || strcmp(scn.ports.ports[i].name, port) == 0;
    if (!any) {
        fprintf(stderr, "bxsim size: --port: no port '%s' in %s\n", port, file);
        rc = BX_EXIT_USAGE;
        goto done;
    }
    root = json_pack("{sssssfsfsIsIsI}", "scenario", scn.name, "scenario_file", file,
                     "target_p95_wait_s", o.target_p95_s, "confidence", o.confidence,
                     "replications", (json_int_t)o.replications, "window_hours",
                     (json_int_t)o.window_hours, "seed", (json_int_t)o.seed);
    json_t *ports = json_array();
    json_object_set_new(root, "ports", ports);
    size_t sized = 0;
    long *needed = calloc(scn.ports.n_ports, sizeof *needed); /* lanes sized; -1: not met */
    if (needed == NULL) {
        fprintf(stderr, "bxsim size: out of memory\n");
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    /* The tasks: each selected port with its resources and weekly waits. */
    struct tasks ts = {.scn = &scn, .o = &o, .weeks = (unsigned)weeks};
    ts.t = calloc(scn.ports.n_ports, sizeof *ts.t);
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
        struct task t = {.port = i, .weekly = weeks > 0 && pc->type == BX_PORT_LAND};
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
    /* Fewer tasks than ranks: every rank runs every task, each level's replications spread. */
    o.spread = bx_par_size() > 1 && ts.n < (size_t)bx_par_size();
    enum bx_status st = BX_OK;
    if (o.spread) {
        for (uint32_t i = 0; i < ts.n && st == BX_OK; ++i)
            st = run_task(&ts, i, &err);
    } else {
        st = bx_par_replicate((uint32_t)ts.n, 1, run_task, &ts, pack_task, unpack_task, false, NULL,
                              &err);
    }
    if (st != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim size: %s\n", err.msg);
        rc = err.code == BX_EINVAL ? BX_EXIT_USAGE : BX_EXIT_RUNTIME;
        goto done_tasks;
    }
    if (bx_par_rank() != 0)
        goto done_tasks;
    if (!json)
        printf("%-24s %-9s %6s %8s %22s %8s %12s\n", "port", "resource", "level", "approx",
               "p95 wait s (95% CI)", "util", "busiest h");
    for (size_t ti = 0; ti < ts.n; ++ti)
        for (int k = 0; k < ts.t[ti].n_kinds; ++k) {
            size_t i = ts.t[ti].port;
            const struct bx_port_config *pc = &scn.ports.ports[i];
            enum bx_size_resource sres = ts.t[ti].kinds[k];
            const struct bx_size_port_result r = ts.t[ti].r[k];
            const struct bx_size_point *best = NULL;
            json_t *curve = json_array();
            for (size_t j = 0; j < r.search.n_curve; ++j) {
                json_array_append_new(curve, point_json(&r.search.curve[j]));
                if (r.search.found && r.search.curve[j].level == r.search.level)
                    best = &r.search.curve[j];
            }
            json_t *po = json_pack("{sssssssbsos[ff]s{sfsfsf}so}", "name", pc->name, "type",
                                   bx_port_type_name(pc->type), "resource",
                                   bx_size_resource_name(sres), "found", r.search.found,
                                   "approx_level", json_integer((json_int_t)r.search.approx),
                                   "window_hours", r.window_from_h, r.window_to_h, "approximation",
                                   "lambda_per_s", r.lambda_per_s, "service_mean_s",
                                   r.service_mean_s, "service_scv", r.service_scv, "curve", curve);
            json_object_set_new(po, "level",
                                best ? json_integer((json_int_t)best->level) : json_null());
            json_object_set_new(po, "p95_wait_s",
                                best ? ci_json(best->value, best->lo, best->hi) : json_null());
            json_object_set_new(po, "utilization",
                                best && isfinite(best->utilization) ? json_real(best->utilization)
                                                                    : json_null());
            json_array_append_new(ports, po);
            if (sres == BX_SIZE_LANES)
                needed[i] = best ? (long)best->level : -1;
            if (!json) {
                char ci[64] = "not met";
                if (best)
                    snprintf(ci, sizeof ci, "%.1f [%.1f, %.1f]", best->value, best->lo, best->hi);
                char lvl[16];
                snprintf(lvl, sizeof lvl, best ? "%u" : ">%u", best ? best->level : o.max_level);
                printf("%-24s %-9s %6s %8u %22s %8.3f %5.0f-%-5.0f\n", pc->name,
                       bx_size_resource_name(sres), lvl, r.search.approx, ci,
                       best ? best->utilization : BX_NAN, r.window_from_h, r.window_to_h);
            }
        }
    if (rc == BX_EXIT_OK && weeks > 0) {
        struct bx_size_week **weekly = calloc(scn.ports.n_ports, sizeof *weekly);
        for (size_t ti = 0; weekly && ti < ts.n; ++ti)
            weekly[ts.t[ti].port] = ts.t[ti].w;
        rc = weekly ? rollout_plan(&scn, port, needed, weekly, (unsigned)weeks, json, root)
                    : BX_EXIT_RUNTIME;
        free(weekly);
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
        }
        if (json && text) {
            fputs(text, stdout);
            fputc('\n', stdout);
        }
        free(text);
    }
done_tasks:
    for (size_t ti = 0; ti < ts.n; ++ti) {
        for (int k = 0; k < ts.t[ti].n_kinds; ++k)
            bx_size_result_fini(&ts.t[ti].r[k].search);
        free(ts.t[ti].w);
    }
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
