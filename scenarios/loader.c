/* SPDX-License-Identifier: MIT */
/* loader.c - scenario YAML to configuration structs, with FILE:LINE:COL errors.
 *
 * libyaml builds the whole document tree first (yaml_parser_load), so every node keeps its
 * start mark; the walker below checks each mapping against the fields it allows, so that a typo
 * is reported at the key that has it rather than silently ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bx/scn.h"

struct ctx {
    const char *label;
    yaml_document_t *doc;
    struct bx_error *err;
};

#define FAIL_AT(cx, node, ...) fail_at((cx), (node), __FILE__, __LINE__, __VA_ARGS__)

static enum bx_status fail_at(struct ctx *cx, const yaml_node_t *node, const char *file, int line,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum bx_status fail_at(struct ctx *cx, const yaml_node_t *node, const char *file, int line,
                              const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int l = node ? (int)node->start_mark.line + 1 : 1;
    int c = node ? (int)node->start_mark.column + 1 : 1;
    if (cx->err && cx->err->code == BX_OK) {
        bx_err_set(cx->err, BX_ESCHEMA, file, line, "%s:%d:%d: %s", cx->label, l, c, msg);
        cx->err->src_line = l;
        cx->err->src_col = c;
    }
    return BX_ESCHEMA;
}

/* ---------------------------------------------------------------- node helpers */

static yaml_node_t *node_at(struct ctx *cx, yaml_node_item_t item)
{
    return yaml_document_get_node(cx->doc, item);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static const char *type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static enum bx_status expect(struct ctx *cx, const yaml_node_t *n, yaml_node_type_t type,
                             const char *what)
{
    if (n->type == type)
        return BX_OK;
    const char *want = type == YAML_MAPPING_NODE    ? "a mapping"
                       : type == YAML_SEQUENCE_NODE ? "a list"
                                                    : "a scalar";
    return FAIL_AT(cx, n, "%s must be %s, got %s", what, want, type_name(n));
}

/* Check that mapping @p map has only keys from @p allowed (NULL-terminated), each at most once. */
static enum bx_status check_keys(struct ctx *cx, yaml_node_t *map, const char *what,
                                 const char *const *allowed)
{
    if (expect(cx, map, YAML_MAPPING_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        yaml_node_t *k = node_at(cx, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return FAIL_AT(cx, k, "keys in %s must be plain names", what);
        bool known = false;
        for (const char *const *a = allowed; *a && !known; ++a)
            known = strcmp(*a, scalar(k)) == 0;
        if (!known) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; ++a) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return FAIL_AT(cx, k, "unknown field '%s' in %s (allowed: %s)", scalar(k), what, list);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; ++q)
            if (strcmp(scalar(node_at(cx, q->key)), scalar(k)) == 0)
                return FAIL_AT(cx, k, "field '%s' appears twice in %s", scalar(k), what);
    }
    return BX_OK;
}

static yaml_node_t *get(struct ctx *cx, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        yaml_node_t *k = node_at(cx, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
            return node_at(cx, p->value);
    }
    return NULL;
}

static enum bx_status require(struct ctx *cx, yaml_node_t *map, const char *key, const char *what,
                              yaml_node_t **out)
{
    *out = get(cx, map, key);
    if (*out == NULL)
        return FAIL_AT(cx, map, "%s needs the field '%s'", what, key);
    return BX_OK;
}

static bool quoted(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
           n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static enum bx_status as_double(struct ctx *cx, yaml_node_t *n, const char *what, double *out)
{
    if (n->type != YAML_SCALAR_NODE || quoted(n))
        return FAIL_AT(cx, n, "%s must be a number, got %s", what,
                       n->type == YAML_SCALAR_NODE ? "a quoted string" : type_name(n));
    const char *s = scalar(n);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return FAIL_AT(cx, n, "%s must be a finite number, got '%s'", what, s);
    *out = v;
    return BX_OK;
}

static enum bx_status as_range(struct ctx *cx, yaml_node_t *n, const char *what, double lo,
                               double hi, bool lo_open, double *out)
{
    if (as_double(cx, n, what, out) != BX_OK)
        return BX_ESCHEMA;
    if ((lo_open ? !(*out > lo) : !(*out >= lo)) || !(*out <= hi))
        return FAIL_AT(cx, n, "%s must lie in %c%g, %g], got %s", what, lo_open ? '(' : '[', lo, hi,
                       scalar(n));
    return BX_OK;
}

static enum bx_status as_int(struct ctx *cx, yaml_node_t *n, const char *what, long long lo,
                             long long hi, long long *out)
{
    if (n->type != YAML_SCALAR_NODE || quoted(n))
        return FAIL_AT(cx, n, "%s must be an integer, got %s", what,
                       n->type == YAML_SCALAR_NODE ? "a quoted string" : type_name(n));
    const char *s = scalar(n);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return FAIL_AT(cx, n, "%s must be an integer, got '%s'", what, s);
    if (v < lo || v > hi)
        return FAIL_AT(cx, n, "%s must lie in [%lld, %lld], got %lld", what, lo, hi, v);
    *out = v;
    return BX_OK;
}

static enum bx_status as_bool(struct ctx *cx, yaml_node_t *n, const char *what, bool *out)
{
    if (n->type == YAML_SCALAR_NODE && !quoted(n)) {
        if (strcmp(scalar(n), "true") == 0 || strcmp(scalar(n), "yes") == 0) {
            *out = true;
            return BX_OK;
        }
        if (strcmp(scalar(n), "false") == 0 || strcmp(scalar(n), "no") == 0) {
            *out = false;
            return BX_OK;
        }
    }
    return FAIL_AT(cx, n, "%s must be true or false", what);
}

/* A name: 1..63 characters from [A-Za-z0-9_.-], used in stream names and output files. */
static enum bx_status as_name(struct ctx *cx, yaml_node_t *n, const char *what, char *out)
{
    if (expect(cx, n, YAML_SCALAR_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    const char *s = scalar(n);
    size_t len = strlen(s);
    if (len == 0 || len >= BX_NAME_MAX)
        return FAIL_AT(cx, n, "%s must have 1 to %d characters", what, BX_NAME_MAX - 1);
    for (const char *p = s; *p; ++p) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return FAIL_AT(cx, n, "%s '%s' may use only letters, digits, '_', '-' and '.'", what,
                           s);
    }
    memcpy(out, s, len + 1);
    return BX_OK;
}

/* ---------------------------------------------------------------- distributions */

/* The fields each kind accepts besides `dist`; moments (mean_s, sd_s) where they make sense. */
static const char *const dist_fields[][8] = {
    [BX_DIST_EXPONENTIAL] = {"dist", "mean_s", "rate_per_h", NULL},
    [BX_DIST_DETERMINISTIC] = {"dist", "value_s", "mean_s", NULL},
    [BX_DIST_UNIFORM] = {"dist", "min_s", "max_s", "mean_s", "sd_s", NULL},
    [BX_DIST_LOGNORMAL] = {"dist", "mean_s", "sd_s", "mu", "sigma", NULL},
    [BX_DIST_GAMMA] = {"dist", "mean_s", "sd_s", "shape", "scale_s", NULL},
    [BX_DIST_WEIBULL] = {"dist", "mean_s", "sd_s", "shape", "scale_s", NULL},
    [BX_DIST_TRIANGULAR] = {"dist", "min_s", "mode_s", "max_s", "mean_s", "sd_s", NULL},
    [BX_DIST_EMPIRICAL] = {"dist", "values_s", "interpolate", NULL},
};

/* Read two alternative parameter pairs: exactly one pair must be complete. */
static enum bx_status pick_pair(struct ctx *cx, yaml_node_t *map, const char *what, const char *a1,
                                const char *a2, const char *b1, const char *b2, bool *use_a)
{
    yaml_node_t *x1 = get(cx, map, a1), *x2 = get(cx, map, a2);
    yaml_node_t *y1 = get(cx, map, b1), *y2 = get(cx, map, b2);
    if (x1 && x2 && !y1 && !y2) {
        *use_a = true;
        return BX_OK;
    }
    if (y1 && y2 && !x1 && !x2) {
        *use_a = false;
        return BX_OK;
    }
    return FAIL_AT(cx, map, "%s needs either %s and %s, or %s and %s", what, a1, a2, b1, b2);
}

static enum bx_status load_dist(struct ctx *cx, yaml_node_t *map, const char *what,
                                struct bx_dist *d)
{
    yaml_node_t *n;
    if (expect(cx, map, YAML_MAPPING_NODE, what) != BX_OK ||
        require(cx, map, "dist", what, &n) != BX_OK || expect(cx, n, YAML_SCALAR_NODE, "dist"))
        return BX_ESCHEMA;
    enum bx_dist_kind kind;
    if (!bx_dist_kind_parse(scalar(n), &kind))
        return FAIL_AT(cx, n,
                       "unknown distribution '%s' (known: exponential, deterministic, uniform, "
                       "lognormal, gamma, weibull, triangular, empirical)",
                       scalar(n));
    if (check_keys(cx, map, what, dist_fields[kind]) != BX_OK)
        return BX_ESCHEMA;

    struct bx_error derr = {0};
    enum bx_status st = BX_OK;
    double a = 0, b = 0, c = 0;
    bool use_a = false;
    yaml_node_t *mean = get(cx, map, "mean_s"), *sd = get(cx, map, "sd_s");
    double m = 0, s = -1;
    if (mean && as_double(cx, mean, "mean_s", &m) != BX_OK)
        return BX_ESCHEMA;
    if (sd && as_double(cx, sd, "sd_s", &s) != BX_OK)
        return BX_ESCHEMA;
    switch (kind) {
    case BX_DIST_EXPONENTIAL: {
        yaml_node_t *rate = get(cx, map, "rate_per_h");
        if (!mean == !rate)
            return FAIL_AT(cx, map, "%s: exponential needs exactly one of mean_s, rate_per_h",
                           what);
        if (rate) {
            if (as_range(cx, rate, "rate_per_h", 0, 1e12, true, &a) != BX_OK)
                return BX_ESCHEMA;
            m = 3600 / a;
        }
        st = bx_dist_exponential(d, m, &derr);
        break;
    }
    case BX_DIST_DETERMINISTIC: {
        yaml_node_t *v = get(cx, map, "value_s");
        if (!v == !mean)
            return FAIL_AT(cx, map, "%s: deterministic needs exactly one of value_s, mean_s", what);
        if (v && as_double(cx, v, "value_s", &m) != BX_OK)
            return BX_ESCHEMA;
        st = bx_dist_deterministic(d, m, &derr);
        break;
    }
    case BX_DIST_UNIFORM:
        if (pick_pair(cx, map, what, "min_s", "max_s", "mean_s", "sd_s", &use_a) != BX_OK)
            return BX_ESCHEMA;
        if (use_a) {
            if (as_double(cx, get(cx, map, "min_s"), "min_s", &a) ||
                as_double(cx, get(cx, map, "max_s"), "max_s", &b))
                return BX_ESCHEMA;
            st = bx_dist_uniform(d, a, b, &derr);
        } else {
            st = bx_dist_from_moments(d, kind, m, s, &derr);
        }
        break;
    case BX_DIST_LOGNORMAL:
    case BX_DIST_GAMMA:
    case BX_DIST_WEIBULL: {
        const char *p1 = kind == BX_DIST_LOGNORMAL ? "mu" : "shape";
        const char *p2 = kind == BX_DIST_LOGNORMAL ? "sigma" : "scale_s";
        if (pick_pair(cx, map, what, "mean_s", "sd_s", p1, p2, &use_a) != BX_OK)
            return BX_ESCHEMA;
        if (use_a) {
            st = bx_dist_from_moments(d, kind, m, s, &derr);
            break;
        }
        if (as_double(cx, get(cx, map, p1), p1, &a) || as_double(cx, get(cx, map, p2), p2, &b))
            return BX_ESCHEMA;
        st = kind == BX_DIST_LOGNORMAL ? bx_dist_lognormal(d, a, b, &derr)
             : kind == BX_DIST_GAMMA   ? bx_dist_gamma(d, a, b, &derr)
                                       : bx_dist_weibull(d, a, b, &derr);
        break;
    }
    case BX_DIST_TRIANGULAR: {
        yaml_node_t *lo = get(cx, map, "min_s"), *mo = get(cx, map, "mode_s"),
                    *hi = get(cx, map, "max_s");
        if (lo && mo && hi && !mean && !sd) {
            if (as_double(cx, lo, "min_s", &a) || as_double(cx, mo, "mode_s", &b) ||
                as_double(cx, hi, "max_s", &c))
                return BX_ESCHEMA;
            st = bx_dist_triangular(d, a, b, c, &derr);
        } else if (mean && sd && !lo && !mo && !hi) {
            st = bx_dist_from_moments(d, kind, m, s, &derr);
        } else {
            return FAIL_AT(cx, map,
                           "%s: triangular needs min_s, mode_s and max_s, or mean_s and "
                           "sd_s",
                           what);
        }
        break;
    }
    case BX_DIST_EMPIRICAL: {
        yaml_node_t *vals, *interp = get(cx, map, "interpolate");
        bool ip = false;
        if (require(cx, map, "values_s", what, &vals) != BX_OK ||
            expect(cx, vals, YAML_SEQUENCE_NODE, "values_s") != BX_OK)
            return BX_ESCHEMA;
        if (interp && as_bool(cx, interp, "interpolate", &ip) != BX_OK)
            return BX_ESCHEMA;
        size_t nv = (size_t)(vals->data.sequence.items.top - vals->data.sequence.items.start);
        if (nv == 0)
            return FAIL_AT(cx, vals, "values_s must hold at least one value");
        double *v = malloc(nv * sizeof *v);
        if (v == NULL)
            return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
        for (size_t i = 0; i < nv; ++i) {
            yaml_node_t *item = node_at(cx, vals->data.sequence.items.start[i]);
            if (as_range(cx, item, "an empirical value", 0, 1e12, false, &v[i]) != BX_OK) {
                free(v);
                return BX_ESCHEMA;
            }
        }
        st = bx_dist_empirical(d, v, nv, ip, &derr);
        free(v);
        break;
    }
    }
    if (st != BX_OK)
        return FAIL_AT(cx, map, "%s: %s", what, derr.msg);
    return BX_OK;
}

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
        yaml_node_t *st = node_at(cx, *it);
        yaml_node_t *n = st->type == YAML_MAPPING_NODE ? get(cx, st, "name") : NULL;
        if (n && n->type == YAML_SCALAR_NODE && strcmp(scalar(n), name) == 0)
            return (long)(it - stations->data.sequence.items.start);
    }
    return -1;
}

static enum bx_status station_ref(struct ctx *cx, yaml_node_t *stations, yaml_node_t *n,
                                  const char *what, long *out)
{
    if (expect(cx, n, YAML_SCALAR_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    *out = find_station(cx, stations, scalar(n));
    if (*out < 0)
        return FAIL_AT(cx, n, "%s names unknown station '%s'", what, scalar(n));
    return BX_OK;
}

static enum bx_status load_schedule(struct ctx *cx, yaml_node_t *map, struct bx_net_station *st)
{
    yaml_node_t *steps, *period = get(cx, map, "period_hours");
    if (check_keys(cx, map, "schedule", schedule_fields) != BX_OK ||
        require(cx, map, "steps", "schedule", &steps) != BX_OK ||
        expect(cx, steps, YAML_SEQUENCE_NODE, "schedule steps") != BX_OK)
        return BX_ESCHEMA;
    double period_h = 0;
    if (period && as_range(cx, period, "period_hours", 0, 1e6, true, &period_h) != BX_OK)
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
        yaml_node_t *step = node_at(cx, steps->data.sequence.items.start[i]), *at, *srv;
        double at_h;
        long long servers;
        if (check_keys(cx, step, "schedule step", step_fields) != BX_OK ||
            require(cx, step, "at_hours", "schedule step", &at) != BX_OK ||
            require(cx, step, "servers", "schedule step", &srv) != BX_OK ||
            as_range(cx, at, "at_hours", 0, period_h > 0 ? period_h : 1e9, false, &at_h) ||
            as_int(cx, srv, "servers", 0, 100000, &servers))
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
    if (check_keys(cx, map, "a station", station_fields) != BX_OK ||
        require(cx, map, "name", "a station", &n) != BX_OK ||
        as_name(cx, n, "station name", st->name) != BX_OK)
        return BX_ESCHEMA;
    if (require(cx, map, "service", "a station", &n) != BX_OK ||
        load_dist(cx, n, "service", &st->service) != BX_OK)
        return BX_ESCHEMA;
    yaml_node_t *servers = get(cx, map, "servers"), *sched = get(cx, map, "schedule");
    long long c = 1;
    if (servers && as_int(cx, servers, "servers", sched ? 0 : 1, 100000, &c) != BX_OK)
        return BX_ESCHEMA;
    st->servers = (unsigned)c;
    if (sched && load_schedule(cx, sched, st) != BX_OK)
        return BX_ESCHEMA;
    if ((n = get(cx, map, "next")) && station_ref(cx, stations, n, "next", &st->next) != BX_OK)
        return BX_ESCHEMA;
    if ((n = get(cx, map, "queue"))) {
        if (expect(cx, n, YAML_SCALAR_NODE, "queue") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(scalar(n), "fifo") == 0)
            st->discipline = BX_QUEUE_FIFO;
        else if (strcmp(scalar(n), "priority") == 0)
            st->discipline = BX_QUEUE_PRIORITY;
        else
            return FAIL_AT(cx, n, "queue must be fifo or priority, got '%s'", scalar(n));
    }
    if ((n = get(cx, map, "balk"))) {
        yaml_node_t *len;
        long long ql;
        if (check_keys(cx, n, "balk", balk_fields) != BX_OK ||
            require(cx, n, "queue_len", "balk", &len) != BX_OK ||
            as_int(cx, len, "queue_len", 0, 1000000000, &ql) != BX_OK)
            return BX_ESCHEMA;
        st->balk_queue_len = (size_t)ql;
        yaml_node_t *p = get(cx, n, "prob");
        if (p && as_range(cx, p, "prob", 0, 1, false, &st->balk_prob) != BX_OK)
            return BX_ESCHEMA;
    }
    if ((n = get(cx, map, "patience"))) {
        if (load_dist(cx, n, "patience", &st->patience) != BX_OK)
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
    if (check_keys(cx, map, "a source", source_fields) != BX_OK ||
        require(cx, map, "name", "a source", &n) != BX_OK ||
        as_name(cx, n, "source name", src->name) != BX_OK ||
        require(cx, map, "to", "a source", &n) != BX_OK ||
        station_ref(cx, stations, n, "to", &to) != BX_OK ||
        require(cx, map, "interarrival", "a source", &n) != BX_OK ||
        load_dist(cx, n, "interarrival", &src->interarrival) != BX_OK)
        return BX_ESCHEMA;
    src->to = (size_t)to;
    if (!(bx_dist_mean(&src->interarrival) > 0))
        return FAIL_AT(cx, n, "interarrival: mean time between arrivals must be > 0 s");
    src->stop_s = horizon_s;
    long long prio = 0;
    if ((n = get(cx, map, "priority")) &&
        as_int(cx, n, "priority", BX_PRIO_MIN, BX_PRIO_MAX, &prio) != BX_OK)
        return BX_ESCHEMA;
    src->priority = (int)prio;
    double h;
    if ((n = get(cx, map, "start_hours"))) {
        if (as_range(cx, n, "start_hours", 0, horizon_s / 3600, false, &h) != BX_OK)
            return BX_ESCHEMA;
        src->start_s = h * 3600;
    }
    if ((n = get(cx, map, "stop_hours"))) {
        if (as_range(cx, n, "stop_hours", src->start_s / 3600, 1e9, true, &h) != BX_OK)
            return BX_ESCHEMA;
        src->stop_s = h * 3600;
    }
    return BX_OK;
}

static enum bx_status load_network(struct ctx *cx, yaml_node_t *map, struct bx_net_config *net)
{
    static const char *const fields[] = {"sources", "stations", NULL};
    yaml_node_t *sources, *stations;
    if (check_keys(cx, map, "network", fields) != BX_OK ||
        require(cx, map, "stations", "network", &stations) != BX_OK ||
        expect(cx, stations, YAML_SEQUENCE_NODE, "stations") != BX_OK ||
        require(cx, map, "sources", "network", &sources) != BX_OK ||
        expect(cx, sources, YAML_SEQUENCE_NODE, "sources") != BX_OK)
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
        yaml_node_t *item = node_at(cx, stations->data.sequence.items.start[i]);
        net->n_stations = i + 1; /* so that fini releases what was loaded */
        if (load_station(cx, stations, item, &net->stations[i]) != BX_OK)
            return BX_ESCHEMA;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(net->stations[j].name, net->stations[i].name) == 0)
                return FAIL_AT(cx, get(cx, item, "name"), "a second station is named '%s'",
                               net->stations[i].name);
    }
    for (size_t i = 0; i < n_src; ++i) {
        yaml_node_t *item = node_at(cx, sources->data.sequence.items.start[i]);
        net->n_sources = i + 1;
        if (load_source(cx, stations, item, net->horizon_s, &net->sources[i]) != BX_OK)
            return BX_ESCHEMA;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(net->sources[j].name, net->sources[i].name) == 0)
                return FAIL_AT(cx, get(cx, item, "name"), "a second source is named '%s'",
                               net->sources[i].name);
    }
    struct bx_error cerr = {0};
    if (bx_net_config_check(net, &cerr) != BX_OK)
        return FAIL_AT(cx, map, "%s", cerr.msg);
    return BX_OK;
}

/* ---------------------------------------------------------------- the document */

static enum bx_status load_root(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn)
{
    static const char *const fields[] = {"name",      "description",  "kind",
                                         "seed",      "replications", "horizon",
                                         "quantiles", "network",      NULL};
    static const char *const horizon_fields[] = {"hours", "warmup_hours", NULL};
    yaml_node_t *n, *hz;
    if (check_keys(cx, root, "the scenario", fields) != BX_OK ||
        require(cx, root, "name", "the scenario", &n) != BX_OK ||
        as_name(cx, n, "scenario name", scn->name) != BX_OK)
        return BX_ESCHEMA;
    if ((n = get(cx, root, "description"))) {
        if (expect(cx, n, YAML_SCALAR_NODE, "description") != BX_OK)
            return BX_ESCHEMA;
        scn->description = strdup(scalar(n));
        if (scn->description == NULL)
            return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    }
    if ((n = get(cx, root, "kind"))) {
        if (expect(cx, n, YAML_SCALAR_NODE, "kind") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(scalar(n), "network") != 0)
            return FAIL_AT(cx, n, "unknown scenario kind '%s' (known: network)", scalar(n));
    }
    scn->kind = BX_SCN_NETWORK;
    long long v;
    scn->seed = 1;
    if ((n = get(cx, root, "seed"))) {
        if (as_int(cx, n, "seed", 0, INT64_MAX, &v) != BX_OK)
            return BX_ESCHEMA;
        scn->seed = (uint64_t)v;
    }
    scn->replications = 10;
    if ((n = get(cx, root, "replications"))) {
        if (as_int(cx, n, "replications", 1, 1000000, &v) != BX_OK)
            return BX_ESCHEMA;
        scn->replications = (uint32_t)v;
    }
    double hours, warm = 0;
    if (require(cx, root, "horizon", "the scenario", &hz) != BX_OK ||
        check_keys(cx, hz, "horizon", horizon_fields) != BX_OK ||
        require(cx, hz, "hours", "horizon", &n) != BX_OK ||
        as_range(cx, n, "hours", 0, 1e6, true, &hours) != BX_OK)
        return BX_ESCHEMA;
    if ((n = get(cx, hz, "warmup_hours"))) {
        if (as_range(cx, n, "warmup_hours", 0, hours, false, &warm) != BX_OK)
            return BX_ESCHEMA;
        if (warm >= hours)
            return FAIL_AT(cx, n, "warmup_hours (%g) must be less than hours (%g)", warm, hours);
    }
    scn->net.horizon_s = hours * 3600;
    scn->net.warmup_s = warm * 3600;
    if ((n = get(cx, root, "quantiles"))) {
        if (expect(cx, n, YAML_SCALAR_NODE, "quantiles") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(scalar(n), "exact") == 0)
            scn->net.exact_quantiles = true;
        else if (strcmp(scalar(n), "sketch") != 0)
            return FAIL_AT(cx, n, "quantiles must be exact or sketch, got '%s'", scalar(n));
    }
    if (require(cx, root, "network", "the scenario", &n) != BX_OK)
        return BX_ESCHEMA;
    return load_network(cx, n, &scn->net);
}

enum bx_status bx_scn_load_string(const char *text, size_t len, const char *label,
                                  struct bx_scn *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return BX_FAIL(err, BX_ENOMEM, "%s: cannot initialise the YAML parser", label);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    enum bx_status st = BX_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        int l = (int)parser.problem_mark.line + 1, c = (int)parser.problem_mark.column + 1;
        st = BX_FAIL(err, BX_EPARSE, "%s:%d:%d: %s%s%s", label, l, c,
                     parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
        if (err) {
            err->src_line = l;
            err->src_col = c;
        }
        goto fail_parser;
    }
    struct ctx cx = {label, &doc, err};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
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
    if (st != BX_OK)
        bx_scn_fini(out);
fail_parser:
    yaml_parser_delete(&parser);
    return st;
}

enum bx_status bx_scn_load_file(const char *path, struct bx_scn *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return BX_FAIL(err, BX_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    enum bx_status st = BX_OK;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            char *nb = cap <= ((size_t)64 << 20) ? realloc(buf, cap) : NULL;
            if (nb == NULL) {
                st = BX_FAIL(err, BX_EIO, "%s: too large for a scenario file (or out of memory)",
                             path);
                goto done;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f))
                st = BX_FAIL(err, BX_EIO, "%s: read error", path);
            break;
        }
    }
    if (st == BX_OK)
        st = bx_scn_load_string(buf ? buf : "", len, path, out, err);
done:
    free(buf);
    fclose(f);
    return st;
}

void bx_scn_fini(struct bx_scn *scn)
{
    if (scn == NULL)
        return;
    free(scn->description);
    bx_net_config_fini(&scn->net);
    memset(scn, 0, sizeof *scn);
}
