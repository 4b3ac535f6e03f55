/* SPDX-License-Identifier: MIT */
/* yaml_util.c - checked access to a libyaml document tree, shared by the scenario and profile
 * loaders: every failure names FILE:LINE:COL of the offending node. */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum bx_status bx_scn__fail_at(struct ctx *cx, const yaml_node_t *node, const char *file, int line,
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

yaml_node_t *bx_scn__node_at(struct ctx *cx, yaml_node_item_t item)
{
    return yaml_document_get_node(cx->doc, item);
}

const char *bx_scn__scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

const char *bx_scn__type_name(const yaml_node_t *n)
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

enum bx_status bx_scn__expect(struct ctx *cx, const yaml_node_t *n, yaml_node_type_t type,
                              const char *what)
{
    if (n->type == type)
        return BX_OK;
    const char *want = type == YAML_MAPPING_NODE    ? "a mapping"
                       : type == YAML_SEQUENCE_NODE ? "a list"
                                                    : "a scalar";
    return FAIL_AT(cx, n, "%s must be %s, got %s", what, want, bx_scn__type_name(n));
}

/* Check that mapping @p map has only keys from @p allowed (NULL-terminated), each at most once. */
enum bx_status bx_scn__check_keys(struct ctx *cx, yaml_node_t *map, const char *what,
                                  const char *const *allowed)
{
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        yaml_node_t *k = bx_scn__node_at(cx, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return FAIL_AT(cx, k, "keys in %s must be plain names", what);
        bool known = false;
        for (const char *const *a = allowed; *a && !known; ++a)
            known = strcmp(*a, bx_scn__scalar(k)) == 0;
        if (!known) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; ++a) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return FAIL_AT(cx, k, "unknown field '%s' in %s (allowed: %s)", bx_scn__scalar(k), what,
                           list);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; ++q)
            if (strcmp(bx_scn__scalar(bx_scn__node_at(cx, q->key)), bx_scn__scalar(k)) == 0)
                return FAIL_AT(cx, k, "field '%s' appears twice in %s", bx_scn__scalar(k), what);
    }
    return BX_OK;
}

yaml_node_t *bx_scn__get(struct ctx *cx, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        yaml_node_t *k = bx_scn__node_at(cx, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(bx_scn__scalar(k), key) == 0)
            return bx_scn__node_at(cx, p->value);
    }
    return NULL;
}

enum bx_status bx_scn__require(struct ctx *cx, yaml_node_t *map, const char *key, const char *what,
                               yaml_node_t **out)
{
    *out = bx_scn__get(cx, map, key);
    if (*out == NULL)
        return FAIL_AT(cx, map, "%s needs the field '%s'", what, key);
    return BX_OK;
}

bool bx_scn__quoted(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
           n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

enum bx_status bx_scn__as_double(struct ctx *cx, yaml_node_t *n, const char *what, double *out)
{
    if (n->type != YAML_SCALAR_NODE || bx_scn__quoted(n))
        return FAIL_AT(cx, n, "%s must be a number, got %s", what,
                       n->type == YAML_SCALAR_NODE ? "a quoted string" : bx_scn__type_name(n));
    const char *s = bx_scn__scalar(n);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return FAIL_AT(cx, n, "%s must be a finite number, got '%s'", what, s);
    *out = v;
    return BX_OK;
}

enum bx_status bx_scn__as_range(struct ctx *cx, yaml_node_t *n, const char *what, double lo,
                                double hi, bool lo_open, double *out)
{
    if (bx_scn__as_double(cx, n, what, out) != BX_OK)
        return BX_ESCHEMA;
    if ((lo_open ? !(*out > lo) : !(*out >= lo)) || !(*out <= hi))
        return FAIL_AT(cx, n, "%s must lie in %c%g, %g], got %s", what, lo_open ? '(' : '[', lo, hi,
                       bx_scn__scalar(n));
    return BX_OK;
}

enum bx_status bx_scn__as_int(struct ctx *cx, yaml_node_t *n, const char *what, long long lo,
                              long long hi, long long *out)
{
    if (n->type != YAML_SCALAR_NODE || bx_scn__quoted(n))
        return FAIL_AT(cx, n, "%s must be an integer, got %s", what,
                       n->type == YAML_SCALAR_NODE ? "a quoted string" : bx_scn__type_name(n));
    const char *s = bx_scn__scalar(n);
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

enum bx_status bx_scn__as_bool(struct ctx *cx, yaml_node_t *n, const char *what, bool *out)
{
    if (n->type == YAML_SCALAR_NODE && !bx_scn__quoted(n)) {
        if (strcmp(bx_scn__scalar(n), "true") == 0 || strcmp(bx_scn__scalar(n), "yes") == 0) {
            *out = true;
            return BX_OK;
        }
        if (strcmp(bx_scn__scalar(n), "false") == 0 || strcmp(bx_scn__scalar(n), "no") == 0) {
            *out = false;
            return BX_OK;
        }
    }
    return FAIL_AT(cx, n, "%s must be true or false", what);
}

/* A name: 1..63 characters from [A-Za-z0-9_.-], used in stream names and output files. */
enum bx_status bx_scn__as_name(struct ctx *cx, yaml_node_t *n, const char *what, char *out)
{
    if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    const char *s = bx_scn__scalar(n);
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
enum bx_status bx_scn__pick_pair(struct ctx *cx, yaml_node_t *map, const char *what, const char *a1,
                                 const char *a2, const char *b1, const char *b2, bool *use_a)
{
    yaml_node_t *x1 = bx_scn__get(cx, map, a1), *x2 = bx_scn__get(cx, map, a2);
    yaml_node_t *y1 = bx_scn__get(cx, map, b1), *y2 = bx_scn__get(cx, map, b2);
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

enum bx_status bx_scn__load_dist(struct ctx *cx, yaml_node_t *map, const char *what,
                                 struct bx_dist *d)
{
    yaml_node_t *n;
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, what) != BX_OK ||
        bx_scn__require(cx, map, "dist", what, &n) != BX_OK ||
        bx_scn__expect(cx, n, YAML_SCALAR_NODE, "dist"))
        return BX_ESCHEMA;
    enum bx_dist_kind kind;
    if (!bx_dist_kind_parse(bx_scn__scalar(n), &kind))
        return FAIL_AT(cx, n,
                       "unknown distribution '%s' (known: exponential, deterministic, uniform, "
                       "lognormal, gamma, weibull, triangular, empirical)",
                       bx_scn__scalar(n));
    if (bx_scn__check_keys(cx, map, what, dist_fields[kind]) != BX_OK)
        return BX_ESCHEMA;

    struct bx_error derr = {0};
    enum bx_status st = BX_OK;
    double a = 0, b = 0, c = 0;
    bool use_a = false;
    yaml_node_t *mean = bx_scn__get(cx, map, "mean_s"), *sd = bx_scn__get(cx, map, "sd_s");
    double m = 0, s = -1;
    if (mean && bx_scn__as_double(cx, mean, "mean_s", &m) != BX_OK)
        return BX_ESCHEMA;
    if (sd && bx_scn__as_double(cx, sd, "sd_s", &s) != BX_OK)
        return BX_ESCHEMA;
    switch (kind) {
    case BX_DIST_EXPONENTIAL: {
        yaml_node_t *rate = bx_scn__get(cx, map, "rate_per_h");
        if (!mean == !rate)
            return FAIL_AT(cx, map, "%s: exponential needs exactly one of mean_s, rate_per_h",
                           what);
        if (rate) {
            if (bx_scn__as_range(cx, rate, "rate_per_h", 0, 1e12, true, &a) != BX_OK)
                return BX_ESCHEMA;
            m = 3600 / a;
        }
        st = bx_dist_exponential(d, m, &derr);
        break;
    }
    case BX_DIST_DETERMINISTIC: {
        yaml_node_t *v = bx_scn__get(cx, map, "value_s");
        if (!v == !mean)
            return FAIL_AT(cx, map, "%s: deterministic needs exactly one of value_s, mean_s", what);
        if (v && bx_scn__as_double(cx, v, "value_s", &m) != BX_OK)
            return BX_ESCHEMA;
        st = bx_dist_deterministic(d, m, &derr);
        break;
    }
    case BX_DIST_UNIFORM:
        if (bx_scn__pick_pair(cx, map, what, "min_s", "max_s", "mean_s", "sd_s", &use_a) != BX_OK)
            return BX_ESCHEMA;
        if (use_a) {
            if (bx_scn__as_double(cx, bx_scn__get(cx, map, "min_s"), "min_s", &a) ||
                bx_scn__as_double(cx, bx_scn__get(cx, map, "max_s"), "max_s", &b))
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
        if (bx_scn__pick_pair(cx, map, what, "mean_s", "sd_s", p1, p2, &use_a) != BX_OK)
            return BX_ESCHEMA;
        if (use_a) {
            st = bx_dist_from_moments(d, kind, m, s, &derr);
            break;
        }
        if (bx_scn__as_double(cx, bx_scn__get(cx, map, p1), p1, &a) ||
            bx_scn__as_double(cx, bx_scn__get(cx, map, p2), p2, &b))
            return BX_ESCHEMA;
        st = kind == BX_DIST_LOGNORMAL ? bx_dist_lognormal(d, a, b, &derr)
             : kind == BX_DIST_GAMMA   ? bx_dist_gamma(d, a, b, &derr)
                                       : bx_dist_weibull(d, a, b, &derr);
        break;
    }
    case BX_DIST_TRIANGULAR: {
        yaml_node_t *lo = bx_scn__get(cx, map, "min_s"), *mo = bx_scn__get(cx, map, "mode_s"),
                    *hi = bx_scn__get(cx, map, "max_s");
        if (lo && mo && hi && !mean && !sd) {
            if (bx_scn__as_double(cx, lo, "min_s", &a) || bx_scn__as_double(cx, mo, "mode_s", &b) ||
                bx_scn__as_double(cx, hi, "max_s", &c))
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
        yaml_node_t *vals, *interp = bx_scn__get(cx, map, "interpolate");
        bool ip = false;
        if (bx_scn__require(cx, map, "values_s", what, &vals) != BX_OK ||
            bx_scn__expect(cx, vals, YAML_SEQUENCE_NODE, "values_s") != BX_OK)
            return BX_ESCHEMA;
        if (interp && bx_scn__as_bool(cx, interp, "interpolate", &ip) != BX_OK)
            return BX_ESCHEMA;
        size_t nv = (size_t)(vals->data.sequence.items.top - vals->data.sequence.items.start);
        if (nv == 0)
            return FAIL_AT(cx, vals, "values_s must hold at least one value");
        double *v = malloc(nv * sizeof *v);
        if (v == NULL)
            return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
        for (size_t i = 0; i < nv; ++i) {
            yaml_node_t *item = bx_scn__node_at(cx, vals->data.sequence.items.start[i]);
            if (bx_scn__as_range(cx, item, "an empirical value", 0, 1e12, false, &v[i]) != BX_OK) {
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

enum bx_status bx_scn__parse(const char *text, size_t len, const char *label, yaml_document_t *doc,
                             struct bx_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return BX_FAIL(err, BX_ENOMEM, "%s: cannot initialise the YAML parser", label);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    enum bx_status st = BX_OK;
    if (!yaml_parser_load(&parser, doc)) {
        int l = (int)parser.problem_mark.line + 1, c = (int)parser.problem_mark.column + 1;
        st = BX_FAIL(err, BX_EPARSE, "%s:%d:%d: %s%s%s", label, l, c,
                     parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
        if (err) {
            err->src_line = l;
            err->src_col = c;
        }
    }
    yaml_parser_delete(&parser);
    return st;
}

enum bx_status bx_scn__slurp(const char *path, char **buf, size_t *len, struct bx_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return BX_FAIL(err, BX_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 0;
    enum bx_status st = BX_OK;
    for (;;) {
        if (*len == cap) {
            cap = cap ? 2 * cap : 65536;
            char *nb = cap <= ((size_t)64 << 20) ? realloc(*buf, cap) : NULL;
            if (nb == NULL) {
                st = BX_FAIL(err, BX_EIO, "%s: too large for a YAML file (or out of memory)", path);
                break;
            }
            *buf = nb;
        }
        size_t r = fread(*buf + *len, 1, cap - *len, f);
        *len += r;
        if (r == 0) {
            if (ferror(f))
                st = BX_FAIL(err, BX_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st != BX_OK) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}
