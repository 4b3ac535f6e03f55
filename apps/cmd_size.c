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
    "  --out DIR            write DIR/size.json (atomically)\n"
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

int bx_cmd_size(int argc, char **argv)
{
    const char *file = NULL, *port = NULL, *resource = NULL, *out = NULL;
    struct bx_size_opts o = {.target_p95_s = BX_NAN,
                             .confidence = 0.95,
                             .replications = 5,
                             .window_hours = 3,
                             .max_level = 500};
    uint64_t u, seed = 0;
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
    if (bx_scn_load_file(file, &scn, &err) != BX_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return err.code == BX_ENOMEM ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    int rc = BX_EXIT_OK;
    json_t *root = NULL;
    if (scn.kind != BX_SCN_PORTS) {
        fprintf(stderr, "%s: bxsim size needs a `kind: ports` scenario\n", file);
        rc = BX_EXIT_USAGE;
        goto done;
    }
    char ppath[1024];
    bx_app_profile_path(scn.profile_name, ppath, sizeof ppath);
    struct bx_profile prof;
    if (bx_scn_load_profile(ppath, &prof, &err) != BX_OK) {
        fprintf(stderr, "%s: profile '%s': %s\n", file, scn.profile_name, err.msg);
        rc = BX_EXIT_USAGE;
        goto done;
    }
    scn.ports.profile = prof.params;
    snprintf(scn.ports.profile_name, sizeof scn.ports.profile_name, "%s", prof.name);
    bx_scn_profile_fini(&prof);
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
    if (!json)
        printf("%-24s %-9s %6s %8s %22s %8s %12s\n", "port", "resource", "level", "approx",
               "p95 wait s (95% CI)", "util", "busiest h");
    for (size_t i = 0; i < scn.ports.n_ports && rc == BX_EXIT_OK; ++i) {
        const struct bx_port_config *pc = &scn.ports.ports[i];
        if (port && strcmp(pc->name, port) != 0)
            continue;
        enum bx_size_resource kinds[2] = {
            pc->type == BX_PORT_LAND ? BX_SIZE_LANES : BX_SIZE_CAMERAS, BX_SIZE_OFFICERS};
        for (int k = 0; k < 2 && rc == BX_EXIT_OK; ++k) {
            if (resource && strcmp(resource, bx_size_resource_name(kinds[k])) != 0)
                continue;
            ++sized;
            struct bx_size_port_result r;
            if (bx_size_port(&scn.ports, i, kinds[k], &o, &r, &err) != BX_OK) {
                fprintf(stderr, "bxsim size: %s: %s\n", pc->name, err.msg);
                rc = err.code == BX_EINVAL ? BX_EXIT_USAGE : BX_EXIT_RUNTIME;
                bx_size_result_fini(&r.search);
                break;
            }
            const struct bx_size_point *best = NULL;
            json_t *curve = json_array();
            for (size_t j = 0; j < r.search.n_curve; ++j) {
                json_array_append_new(curve, point_json(&r.search.curve[j]));
                if (r.search.found && r.search.curve[j].level == r.search.level)
                    best = &r.search.curve[j];
            }
            json_t *po = json_pack("{sssssssbsos[ff]s{sfsfsf}so}", "name", pc->name, "type",
                                   bx_port_type_name(pc->type), "resource",
                                   bx_size_resource_name(kinds[k]), "found", r.search.found,
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
            if (!json) {
                char ci[64] = "not met";
                if (best)
                    snprintf(ci, sizeof ci, "%.1f [%.1f, %.1f]", best->value, best->lo, best->hi);
                char lvl[16];
                snprintf(lvl, sizeof lvl, best ? "%u" : ">%u", best ? best->level : o.max_level);
                printf("%-24s %-9s %6s %8u %22s %8.3f %5.0f-%-5.0f\n", pc->name,
                       bx_size_resource_name(kinds[k]), lvl, r.search.approx, ci,
                       best ? best->utilization : BX_NAN, r.window_from_h, r.window_to_h);
            }
            bx_size_result_fini(&r.search);
        }
    }
    if (rc == BX_EXIT_OK && sized == 0) {
        fprintf(stderr,
                "bxsim size: --resource %s: no selected port has it (land ports have lanes, "
                "air, sea and private ports have cameras; all have officers)\n",
                resource);
        rc = BX_EXIT_USAGE;
    }
    if (rc == BX_EXIT_OK) {
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        if (out) {
            char path[4096];
            if (bx_mkdir_p(out, &err) != BX_OK ||
                snprintf(path, sizeof path, "%s/size.json", out) >= (int)sizeof path ||
                bx_file_write_atomic(path, text, strlen(text), &err) != BX_OK) {
                fprintf(stderr, "bxsim size: --out %s: %s\n", out, err.code ? err.msg : "too long");
                rc = BX_EXIT_RUNTIME;
            }
        }
        if (out && rc == BX_EXIT_OK) {
            struct bx_rpt_report_result rep = {0};
            if (bx_rpt_write_size_report(out, root, NULL, &rep, &err) != BX_OK) {
                fprintf(stderr, "bxsim size: report: %s\n", err.msg);
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
done:
    json_decref(root);
    bx_scn_fini(&scn);
    return rc;
}
