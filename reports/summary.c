/* SPDX-License-Identifier: MIT */
/* summary.c - summary.json from replication results, through jansson. */
#include "report_internal.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bx/report.h"

/* A number, or null when it is not finite (JSON has no NaN). */
static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* {"value": mean, "ci95": [lo, hi]} over the replications. */
static json_t *ci_obj(const double *x, size_t n)
{
    struct bx_ci ci = bx_ci_student(x, n, 0.95);
    json_t *o = json_object();
    json_object_set_new(o, "value", num(ci.value));
    if (isfinite(ci.lo) && isfinite(ci.hi))
        json_object_set_new(o, "ci95", json_pack("[ff]", ci.lo, ci.hi));
    else
        json_object_set_new(o, "ci95", json_null());
    return o;
}

/* Summarise the double at byte offset @p off of station i's result in every replication. */
static json_t *station_ci(const struct bx_net_rep_result *reps, size_t n_reps, size_t i, size_t off,
                          double *buf)
{
    for (size_t r = 0; r < n_reps; ++r) {
        const char *base = (const char *)&reps[r].stations[i];
        memcpy(&buf[r], base + off, sizeof(double));
    }
    return ci_obj(buf, n_reps);
}
#define STATION_CI(field)                                                                          \
    station_ci(reps, n_reps, i, offsetof(struct bx_net_station_result, field), buf)

static json_t *station_json(const struct bx_net_station *sc, size_t i,
                            const struct bx_net_rep_result *reps, size_t n_reps, double *buf)
{
    uint64_t served = 0, arrivals = 0, balked = 0, reneged = 0;
    for (size_t r = 0; r < n_reps; ++r) {
        served += reps[r].stations[i].served;
        arrivals += reps[r].stations[i].arrivals;
        balked += reps[r].stations[i].balked;
        reneged += reps[r].stations[i].reneged;
    }
    json_t *wait = json_object();
    json_object_set_new(wait, "mean", STATION_CI(wait_mean_s));
    json_object_set_new(wait, "p50", STATION_CI(wait_p50_s));
    json_object_set_new(wait, "p95", STATION_CI(wait_p95_s));
    json_object_set_new(wait, "p99", STATION_CI(wait_p99_s));
    json_object_set_new(wait, "max", STATION_CI(wait_max_s));

    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(sc->name));
    json_object_set_new(o, "servers", json_integer(sc->servers));
    json_object_set_new(o, "arrivals", json_integer((json_int_t)arrivals));
    json_object_set_new(o, "served", json_integer((json_int_t)served));
    json_object_set_new(o, "balked", json_integer((json_int_t)balked));
    json_object_set_new(o, "reneged", json_integer((json_int_t)reneged));
    json_object_set_new(o, "wait_s", wait);
    json_object_set_new(o, "sojourn_s", json_pack("{so}", "mean", STATION_CI(sojourn_mean_s)));
    json_object_set_new(o, "queue_length", json_pack("{so}", "mean", STATION_CI(queue_len_mean)));
    json_object_set_new(o, "in_station", json_pack("{so}", "mean", STATION_CI(in_station_mean)));
    json_object_set_new(o, "utilization", json_pack("{so}", "mean", STATION_CI(utilization)));
    json_object_set_new(o, "throughput_per_h", STATION_CI(throughput_per_h));
    return o;
}

/* Summarise the double at byte offset @p off of every replication's result. */
static json_t *system_ci(const struct bx_net_rep_result *reps, size_t n_reps, size_t off,
                         double *buf)
{
    for (size_t r = 0; r < n_reps; ++r)
        memcpy(&buf[r], (const char *)&reps[r] + off, sizeof(double));
    return ci_obj(buf, n_reps);
}
#define SYSTEM_CI(field) system_ci(reps, n_reps, offsetof(struct bx_net_rep_result, field), buf)

enum bx_status bx_rpt_write_summary(const char *path, const struct bx_rpt_run_info *info,
                                    const struct bx_net_config *cfg,
                                    const struct bx_net_rep_result *reps, size_t n_reps,
                                    struct bx_error *err)
{
    enum bx_status st = BX_OK;
    double *buf = calloc(n_reps ? n_reps : 1, sizeof *buf);
    json_t *root = json_object(), *stations = json_array(), *sources = json_array();
    if (buf == NULL || root == NULL || stations == NULL || sources == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "cannot build %s: out of memory", path);
        goto done;
    }
    uint64_t events = 0, departed = 0;
    for (size_t r = 0; r < n_reps; ++r) {
        events += reps[r].events;
        departed += reps[r].departed;
    }
    json_object_set_new(root, "bxsim_version", json_string(info->version));
    json_object_set_new(root, "scenario", json_string(info->scenario));
    json_object_set_new(root, "scenario_file",
                        info->scenario_file ? json_string(info->scenario_file) : json_null());
    json_object_set_new(root, "kind", json_string("network"));
    json_object_set_new(root, "seed", json_integer((json_int_t)info->seed));
    json_object_set_new(root, "replications", json_integer((json_int_t)n_reps));
    json_object_set_new(root, "horizon_s", json_real(cfg->horizon_s));
    json_object_set_new(root, "warmup_s", json_real(cfg->warmup_s));
    json_object_set_new(root, "confidence", json_real(0.95));
    json_object_set_new(root, "quantiles",
                        json_string(cfg->exact_quantiles ? "exact" : "sketch-0.5%"));
    json_object_set_new(root, "events", json_integer((json_int_t)events));
    json_object_set_new(root, "wall_s", num(info->wall_s));
    for (size_t i = 0; i < cfg->n_stations; ++i)
        json_array_append_new(stations, station_json(&cfg->stations[i], i, reps, n_reps, buf));
    json_object_set_new(root, "stations", stations);
    stations = NULL;

    json_t *sys = json_object();
    json_object_set_new(sys, "departed", json_integer((json_int_t)departed));
    json_object_set_new(sys, "arrival_rate_per_s", SYSTEM_CI(arrival_rate_per_s));
    json_object_set_new(sys, "system_time_s",
                        json_pack("{so}", "mean", SYSTEM_CI(system_time_mean_s)));
    json_object_set_new(sys, "in_system", json_pack("{so}", "mean", SYSTEM_CI(in_system_mean)));
    json_object_set_new(root, "system", sys);

    st = bx_rpt_write_json(path, root, err);
done:
    json_decref(sources);
    json_decref(stations);
    json_decref(root);
    free(buf);
    return st;
}

enum bx_status bx_rpt_write_json(const char *path, const json_t *root, struct bx_error *err)
{
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    if (text == NULL)
        return BX_FAIL(err, BX_ELIB, "cannot serialise %s", path);
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (withnl == NULL) {
        free(text);
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    enum bx_status st = bx_file_write_atomic(path, withnl, len + 1, err);
    free(withnl);
    return st;
}
