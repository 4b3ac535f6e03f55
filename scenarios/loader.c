/* SPDX-License-Identifier: MIT */
/* loader.c - scenario YAML to configuration structs, with FILE:LINE:COL errors.
 *
 * libyaml builds the whole document tree first (yaml_parser_load), so every node keeps its
 * start mark; the walker below checks each mapping against the fields it allows, so that a typo
 * is reported at the key that has it rather than silently ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the network */

static const char *const source_fields[] = {
    "name", "to", "interarrival", "priority", "start_hours", "stop_hours", NULL};
static const char *const station_fields[] = {"name", "servers",  "service",  "next", "queue",
                                             "balk", "patience", "schedule", NULL};
static const char *const balk_fields[] = {"queue_len", "prob", NULL};
static const char *const schedule_fields[] = {"period_hours", "steps", NULL};
static const char *const step_fields[] = {"at_hours", "servers", NULL};

static long find_station(struct ctx *cx, yaml_node_t *stations, const char *name)
{
    for (yaml_node_item_t *it = stations->data.sequence.items.start;
         it < stations->data.sequence.items.top; ++it) {
        yaml_node_t *st = bx_scn__node_at(cx, *it);
        yaml_node_t *n = st->type == YAML_MAPPING_NODE ? bx_scn__get(cx, st, "name") : NULL;
        if (n && n->type == YAML_SCALAR_NODE && strcmp(bx_scn__scalar(n), name) == 0)
            return (long)(it - stations->data.sequence.items.start);
    }
    return -1;
}

static enum bx_status station_ref(struct ctx *cx, yaml_node_t *stations, yaml_node_t *n,
                                  const char *what, long *out)
{
    if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    *out = find_station(cx, stations, bx_scn__scalar(n));
    if (*out < 0)
        return FAIL_AT(cx, n, "%s names unknown station '%s'", what, bx_scn__scalar(n));
    return BX_OK;
}

static enum bx_status load_schedule(struct ctx *cx, yaml_node_t *map, struct bx_net_station *st)
{
    yaml_node_t *steps, *period = bx_scn__get(cx, map, "period_hours");
    if (bx_scn__check_keys(cx, map, "schedule", schedule_fields) != BX_OK ||
        bx_scn__require(cx, map, "steps", "schedule", &steps) != BX_OK ||
        bx_scn__expect(cx, steps, YAML_SEQUENCE_NODE, "schedule steps") != BX_OK)
        return BX_ESCHEMA;
    double period_h = 0;
    if (period && bx_scn__as_range(cx, period, "period_hours", 0, 1e6, true, &period_h) != BX_OK)
        return BX_ESCHEMA;
    size_t n = (size_t)(steps->data.sequence.items.top - steps->data.sequence.items.start);
    if (n == 0)
        return FAIL_AT(cx, steps, "schedule needs at least one step");
    st->schedule = calloc(n, sizeof *st->schedule);
    if (st->schedule == NULL)
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    st->n_schedule = n;
    st->schedule_period_s = period_h * 3600;
    for (size_t i = 0; i < n; ++i) {
        yaml_node_t *step = bx_scn__node_at(cx, steps->data.sequence.items.start[i]), *at, *srv;
        double at_h;
        long long servers;
        if (bx_scn__check_keys(cx, step, "schedule step", step_fields) != BX_OK ||
            bx_scn__require(cx, step, "at_hours", "schedule step", &at) != BX_OK ||
            bx_scn__require(cx, step, "servers", "schedule step", &srv) != BX_OK ||
            bx_scn__as_range(cx, at, "at_hours", 0, period_h > 0 ? period_h : 1e9, false, &at_h) ||
            bx_scn__as_int(cx, srv, "servers", 0, 100000, &servers))
            return BX_ESCHEMA;
        if (period_h > 0 && at_h >= period_h)
            return FAIL_AT(cx, at, "at_hours must be below period_hours (%g)", period_h);
        if (i > 0 && at_h * 3600 < st->schedule[i - 1].t_s)
            return FAIL_AT(cx, at, "schedule steps must be in time order");
        st->schedule[i] = (struct bx_capacity_step){at_h * 3600, (unsigned)servers};
    }
    return BX_OK;
}

static enum bx_status load_station(struct ctx *cx, yaml_node_t *stations, yaml_node_t *map,
                                   struct bx_net_station *st)
{
    yaml_node_t *n;
    st->next = -1;
    st->balk_queue_len = SIZE_MAX;
    st->balk_prob = 1;
    if (bx_scn__check_keys(cx, map, "a station", station_fields) != BX_OK ||
        bx_scn__require(cx, map, "name", "a station", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "station name", st->name) != BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__require(cx, map, "service", "a station", &n) != BX_OK ||
        bx_scn__load_dist(cx, n, "service", &st->service) != BX_OK)
        return BX_ESCHEMA;
    yaml_node_t *servers = bx_scn__get(cx, map, "servers"),
                *sched = bx_scn__get(cx, map, "schedule");
    long long c = 1;
    if (servers && bx_scn__as_int(cx, servers, "servers", sched ? 0 : 1, 100000, &c) != BX_OK)
        return BX_ESCHEMA;
    st->servers = (unsigned)c;
    if (sched && load_schedule(cx, sched, st) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "next")) &&
        station_ref(cx, stations, n, "next", &st->next) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "queue"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "queue") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(n), "fifo") == 0)
            st->discipline = BX_QUEUE_FIFO;
        else if (strcmp(bx_scn__scalar(n), "priority") == 0)
            st->discipline = BX_QUEUE_PRIORITY;
        else
            return FAIL_AT(cx, n, "queue must be fifo or priority, got '%s'", bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, map, "balk"))) {
        yaml_node_t *len;
        long long ql;
        if (bx_scn__check_keys(cx, n, "balk", balk_fields) != BX_OK ||
            bx_scn__require(cx, n, "queue_len", "balk", &len) != BX_OK ||
            bx_scn__as_int(cx, len, "queue_len", 0, 1000000000, &ql) != BX_OK)
            return BX_ESCHEMA;
        st->balk_queue_len = (size_t)ql;
        yaml_node_t *p = bx_scn__get(cx, n, "prob");
        if (p && bx_scn__as_range(cx, p, "prob", 0, 1, false, &st->balk_prob) != BX_OK)
            return BX_ESCHEMA;
    }
    if ((n = bx_scn__get(cx, map, "patience"))) {
        if (bx_scn__load_dist(cx, n, "patience", &st->patience) != BX_OK)
            return BX_ESCHEMA;
        st->has_patience = true;
    }
    return BX_OK;
}

static enum bx_status load_source(struct ctx *cx, yaml_node_t *stations, yaml_node_t *map,
                                  double horizon_s, struct bx_net_source *src)
{
    yaml_node_t *n;
    long to;
    if (bx_scn__check_keys(cx, map, "a source", source_fields) != BX_OK ||
        bx_scn__require(cx, map, "name", "a source", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "source name", src->name) != BX_OK ||
        bx_scn__require(cx, map, "to", "a source", &n) != BX_OK ||
        station_ref(cx, stations, n, "to", &to) != BX_OK ||
        bx_scn__require(cx, map, "interarrival", "a source", &n) != BX_OK ||
        bx_scn__load_dist(cx, n, "interarrival", &src->interarrival) != BX_OK)
        return BX_ESCHEMA;
    src->to = (size_t)to;
    if (!(bx_dist_mean(&src->interarrival) > 0))
        return FAIL_AT(cx, n, "interarrival: mean time between arrivals must be > 0 s");
    src->stop_s = horizon_s;
    long long prio = 0;
    if ((n = bx_scn__get(cx, map, "priority")) &&
        bx_scn__as_int(cx, n, "priority", BX_PRIO_MIN, BX_PRIO_MAX, &prio) != BX_OK)
        return BX_ESCHEMA;
    src->priority = (int)prio;
    double h;
    if ((n = bx_scn__get(cx, map, "start_hours"))) {
        if (bx_scn__as_range(cx, n, "start_hours", 0, horizon_s / 3600, false, &h) != BX_OK)
            return BX_ESCHEMA;
        src->start_s = h * 3600;
    }
    if ((n = bx_scn__get(cx, map, "stop_hours"))) {
        if (bx_scn__as_range(cx, n, "stop_hours", src->start_s / 3600, 1e9, true, &h) != BX_OK)
            return BX_ESCHEMA;
        src->stop_s = h * 3600;
    }
    return BX_OK;
}

static enum bx_status load_network(struct ctx *cx, yaml_node_t *map, struct bx_net_config *net)
{
    static const char *const fields[] = {"sources", "stations", NULL};
    yaml_node_t *sources, *stations;
    if (bx_scn__check_keys(cx, map, "network", fields) != BX_OK ||
        bx_scn__require(cx, map, "stations", "network", &stations) != BX_OK ||
        bx_scn__expect(cx, stations, YAML_SEQUENCE_NODE, "stations") != BX_OK ||
        bx_scn__require(cx, map, "sources", "network", &sources) != BX_OK ||
        bx_scn__expect(cx, sources, YAML_SEQUENCE_NODE, "sources") != BX_OK)
        return BX_ESCHEMA;
    size_t n_st = (size_t)(stations->data.sequence.items.top - stations->data.sequence.items.start);
    size_t n_src = (size_t)(sources->data.sequence.items.top - sources->data.sequence.items.start);
    if (n_st == 0)
        return FAIL_AT(cx, stations, "network needs at least one station");
    if (n_src == 0)
        return FAIL_AT(cx, sources, "network needs at least one source");
    net->stations = calloc(n_st, sizeof *net->stations);
    net->sources = calloc(n_src, sizeof *net->sources);
    if (net->stations == NULL || net->sources == NULL)
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_st; ++i) {
        yaml_node_t *item = bx_scn__node_at(cx, stations->data.sequence.items.start[i]);
        net->n_stations = i + 1; /* so that fini releases what was loaded */
        if (load_station(cx, stations, item, &net->stations[i]) != BX_OK)
            return BX_ESCHEMA;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(net->stations[j].name, net->stations[i].name) == 0)
                return FAIL_AT(cx, bx_scn__get(cx, item, "name"), "a second station is named '%s'",
                               net->stations[i].name);
    }
    for (size_t i = 0; i < n_src; ++i) {
        yaml_node_t *item = bx_scn__node_at(cx, sources->data.sequence.items.start[i]);
        net->n_sources = i + 1;
        if (load_source(cx, stations, item, net->horizon_s, &net->sources[i]) != BX_OK)
            return BX_ESCHEMA;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(net->sources[j].name, net->sources[i].name) == 0)
                return FAIL_AT(cx, bx_scn__get(cx, item, "name"), "a second source is named '%s'",
                               net->sources[i].name);
    }
    struct bx_error cerr = {0};
    if (bx_net_config_check(net, &cerr) != BX_OK)
        return FAIL_AT(cx, map, "%s", cerr.msg);
    return BX_OK;
}

/* ---------------------------------------------------------------- the document */

/* The fields every kind shares after `name`: description, seed (default 1) and replications
 * (default @p reps, at most @p max_reps). */
enum bx_status bx_scn__load_common(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn,
                                   uint32_t reps, long long max_reps)
{
    yaml_node_t *n;
    if ((n = bx_scn__get(cx, root, "description"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "description") != BX_OK)
            return BX_ESCHEMA;
        scn->description = strdup(bx_scn__scalar(n));
        if (scn->description == NULL)
            return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    }
    long long v;
    scn->seed = 1;
    if ((n = bx_scn__get(cx, root, "seed"))) {
        if (bx_scn__as_int(cx, n, "seed", 0, INT64_MAX, &v) != BX_OK)
            return BX_ESCHEMA;
        scn->seed = (uint64_t)v;
    }
    scn->replications = reps;
    if ((n = bx_scn__get(cx, root, "replications"))) {
        if (bx_scn__as_int(cx, n, "replications", 1, max_reps, &v) != BX_OK)
            return BX_ESCHEMA;
        scn->replications = (uint32_t)v;
    }
    return BX_OK;
}

static enum bx_status load_root(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn)
{
    static const char *const fields[] = {"name",      "description",  "kind",
                                         "seed",      "replications", "horizon",
                                         "quantiles", "network",      NULL};
    static const char *const port_fields[] = {
        "name",    "description", "kind",       "seed",           "replications",
        "horizon", "profile",     "thresholds", "watchlist_size", "calibration_subjects",
        "ports",   "start_date",  "retention",  "equipment",      "tvs",
        NULL};
    static const char *const horizon_fields[] = {"hours", "warmup_hours", NULL};
    yaml_node_t *n, *hz;
    if (bx_scn__expect(cx, root, YAML_MAPPING_NODE, "the scenario") != BX_OK)
        return BX_ESCHEMA;
    scn->kind = BX_SCN_NETWORK;
    if ((n = bx_scn__get(cx, root, "kind"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "kind") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(n), "ports") == 0)
            scn->kind = BX_SCN_PORTS;
        else if (strcmp(bx_scn__scalar(n), "lifecycle") == 0)
            scn->kind = BX_SCN_LIFECYCLE;
        else if (strcmp(bx_scn__scalar(n), "network") != 0)
            return FAIL_AT(cx, n, "unknown scenario kind '%s' (known: network, ports, lifecycle)",
                           bx_scn__scalar(n));
    }
    if (scn->kind == BX_SCN_LIFECYCLE)
        return bx_scn__load_lifecycle(cx, root, scn);
    if (bx_scn__check_keys(cx, root, "the scenario",
                           scn->kind == BX_SCN_PORTS ? port_fields : fields) != BX_OK ||
        bx_scn__require(cx, root, "name", "the scenario", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "scenario name", scn->name) != BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__load_common(cx, root, scn, 10, 1000000) != BX_OK)
        return BX_ESCHEMA;
    double hours, warm = 0;
    if (bx_scn__require(cx, root, "horizon", "the scenario", &hz) != BX_OK ||
        bx_scn__check_keys(cx, hz, "horizon", horizon_fields) != BX_OK ||
        bx_scn__require(cx, hz, "hours", "horizon", &n) != BX_OK ||
        bx_scn__as_range(cx, n, "hours", 0, 1e6, true, &hours) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, hz, "warmup_hours"))) {
        if (bx_scn__as_range(cx, n, "warmup_hours", 0, hours, false, &warm) != BX_OK)
            return BX_ESCHEMA;
        if (warm >= hours)
            return FAIL_AT(cx, n, "warmup_hours (%g) must be less than hours (%g)", warm, hours);
    }
    scn->net.horizon_s = hours * 3600;
    scn->net.warmup_s = warm * 3600;
    if (scn->kind == BX_SCN_PORTS) {
        if (warm > 0)
            return FAIL_AT(cx, bx_scn__get(cx, hz, "warmup_hours"),
                           "a ports scenario has no warm-up: it simulates whole days");
        scn->ports.horizon_s = hours * 3600;
        return bx_scn__load_ports(cx, root, scn);
    }
    if ((n = bx_scn__get(cx, root, "quantiles"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "quantiles") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(n), "exact") == 0)
            scn->net.exact_quantiles = true;
        else if (strcmp(bx_scn__scalar(n), "sketch") != 0)
            return FAIL_AT(cx, n, "quantiles must be exact or sketch, got '%s'", bx_scn__scalar(n));
    }
    if (bx_scn__require(cx, root, "network", "the scenario", &n) != BX_OK)
        return BX_ESCHEMA;
    return load_network(cx, n, &scn->net);
}

enum bx_status bx_scn_load_string(const char *text, size_t len, const char *label,
                                  struct bx_scn *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    yaml_document_t doc;
    enum bx_status st = bx_scn__parse(text, len, label, &doc, err);
    if (st != BX_OK)
        return st;
    struct bx_scn_files files = {{label, NULL}, 1, NULL, NULL};
    struct ctx cx = {label, &doc, err, &files};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    /* `base: FILE`: the base laid under this file */
    if (root != NULL && root->type == YAML_MAPPING_NODE) {
        st = bx_scn__resolve_base(&cx, &doc, &files);
        root = st == BX_OK ? yaml_document_get_root_node(&doc) : NULL;
    }
    if (st != BX_OK) {
        /* err says why */
    } else if (root == NULL) {
        st = BX_FAIL(err, BX_ESCHEMA, "%s:1:1: the scenario file is empty", label);
        if (err) {
            err->src_line = 1;
            err->src_col = 1;
        }
    } else {
        st = load_root(&cx, root, out);
        if (st != BX_OK && err && err->code != BX_OK)
            st = err->code;
    }
    yaml_document_delete(&doc);
    free(files.owned);
    free(files.origin);
    if (st != BX_OK)
        bx_scn_fini(out);
    return st;
}

enum bx_status bx_scn_load_file(const char *path, struct bx_scn *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    enum bx_status st = bx_scn__slurp(path, &buf, &len, err);
    if (st == BX_OK)
        st = bx_scn_load_string(buf ? buf : "", len, path, out, err);
    free(buf);
    return st;
}

void bx_scn_fini(struct bx_scn *scn)
{
    if (scn == NULL)
        return;
    free(scn->description);
    bx_net_config_fini(&scn->net);
    bx_ports_config_fini(&scn->ports);
    bx_lc_config_fini(&scn->lifecycle);
    memset(scn, 0, sizeof *scn);
}
