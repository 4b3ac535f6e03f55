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
    const char *label = cx->label;
    if (node && cx->files && cx->files->origin) {
        size_t i = (size_t)(node - cx->doc->nodes.start);
        if (node >= cx->doc->nodes.start && node < cx->doc->nodes.top &&
            cx->files->origin[i] < cx->files->n)
            label = cx->files->labels[cx->files->origin[i]];
    }
    if (cx->err && cx->err->code == BX_OK) {
        bx_err_set(cx->err, BX_ESCHEMA, file, line, "%s:%d:%d: %s", label, l, c, msg);
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

enum bx_status bx_scn__load_dist_unit(struct ctx *cx, yaml_node_t *map, const char *what,
                                      const char *unit, struct bx_dist *d)
{
    /* field names in the unit: mean_s, or mean_days */
    char K_mean[24], K_sd[24], K_value[24], K_min[24], K_max[24], K_scale[24], K_mode[24],
        K_values[24];
    snprintf(K_mean, sizeof K_mean, "mean_%s", unit);
    snprintf(K_sd, sizeof K_sd, "sd_%s", unit);
    snprintf(K_value, sizeof K_value, "value_%s", unit);
    snprintf(K_min, sizeof K_min, "min_%s", unit);
    snprintf(K_max, sizeof K_max, "max_%s", unit);
    snprintf(K_scale, sizeof K_scale, "scale_%s", unit);
    snprintf(K_mode, sizeof K_mode, "mode_%s", unit);
    snprintf(K_values, sizeof K_values, "values_%s", unit);
    bool seconds = strcmp(unit, "s") == 0;
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
    const char *fields[8];
    char names[8][24];
    size_t nf = 0;
    for (size_t i = 0; dist_fields[kind][i] != NULL; ++i) {
        const char *f = dist_fields[kind][i];
        size_t len = strlen(f);
        if (strcmp(f, "rate_per_h") == 0 && !seconds)
            continue; /* a rate per hour is for durations in seconds */
        if (len > 2 && strcmp(f + len - 2, "_s") == 0) {
            snprintf(names[nf], sizeof names[nf], "%.*s_%s", (int)(len - 2), f, unit);
            fields[nf] = names[nf];
        } else {
            fields[nf] = f;
        }
        nf++;
    }
    fields[nf] = NULL;
    if (bx_scn__check_keys(cx, map, what, fields) != BX_OK)
        return BX_ESCHEMA;

    struct bx_error derr = {0};
    enum bx_status st = BX_OK;
    double a = 0, b = 0, c = 0;
    bool use_a = false;
    yaml_node_t *mean = bx_scn__get(cx, map, K_mean), *sd = bx_scn__get(cx, map, K_sd);
    double m = 0, s = -1;
    if (mean && bx_scn__as_double(cx, mean, K_mean, &m) != BX_OK)
        return BX_ESCHEMA;
    if (sd && bx_scn__as_double(cx, sd, K_sd, &s) != BX_OK)
        return BX_ESCHEMA;
    switch (kind) {
    case BX_DIST_EXPONENTIAL: {
        yaml_node_t *rate = bx_scn__get(cx, map, "rate_per_h");
        if (!mean == !rate)
            return FAIL_AT(cx, map, "%s: exponential needs exactly one of %s, rate_per_h", what,
                           K_mean);
        if (rate) {
            if (bx_scn__as_range(cx, rate, "rate_per_h", 0, 1e12, true, &a) != BX_OK)
                return BX_ESCHEMA;
            m = 3600 / a;
        }
        st = bx_dist_exponential(d, m, &derr);
        break;
    }
    case BX_DIST_DETERMINISTIC: {
        yaml_node_t *v = bx_scn__get(cx, map, K_value);
        if (!v == !mean)
            return FAIL_AT(cx, map, "%s: deterministic needs exactly one of %s, %s", what, K_value,
                           K_mean);
        if (v && bx_scn__as_double(cx, v, K_value, &m) != BX_OK)
            return BX_ESCHEMA;
        st = bx_dist_deterministic(d, m, &derr);
        break;
    }
    case BX_DIST_UNIFORM:
        if (bx_scn__pick_pair(cx, map, what, K_min, K_max, K_mean, K_sd, &use_a) != BX_OK)
            return BX_ESCHEMA;
        if (use_a) {
            if (bx_scn__as_double(cx, bx_scn__get(cx, map, K_min), K_min, &a) ||
                bx_scn__as_double(cx, bx_scn__get(cx, map, K_max), K_max, &b))
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
        const char *p2 = kind == BX_DIST_LOGNORMAL ? "sigma" : K_scale;
        if (bx_scn__pick_pair(cx, map, what, K_mean, K_sd, p1, p2, &use_a) != BX_OK)
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
        yaml_node_t *lo = bx_scn__get(cx, map, K_min), *mo = bx_scn__get(cx, map, K_mode),
                    *hi = bx_scn__get(cx, map, K_max);
        if (lo && mo && hi && !mean && !sd) {
            if (bx_scn__as_double(cx, lo, K_min, &a) || bx_scn__as_double(cx, mo, K_mode, &b) ||
                bx_scn__as_double(cx, hi, K_max, &c))
                return BX_ESCHEMA;
            st = bx_dist_triangular(d, a, b, c, &derr);
        } else if (mean && sd && !lo && !mo && !hi) {
            st = bx_dist_from_moments(d, kind, m, s, &derr);
        } else {
            return FAIL_AT(cx, map, "%s: triangular needs %s, %s and %s, or %s and %s", what, K_min,
                           K_mode, K_max, K_mean, K_sd);
        }
        break;
    }
    case BX_DIST_EMPIRICAL: {
        yaml_node_t *vals, *interp = bx_scn__get(cx, map, "interpolate");
        bool ip = false;
        if (bx_scn__require(cx, map, K_values, what, &vals) != BX_OK ||
            bx_scn__expect(cx, vals, YAML_SEQUENCE_NODE, K_values) != BX_OK)
            return BX_ESCHEMA;
        if (interp && bx_scn__as_bool(cx, interp, "interpolate", &ip) != BX_OK)
            return BX_ESCHEMA;
        size_t nv = (size_t)(vals->data.sequence.items.top - vals->data.sequence.items.start);
        if (nv == 0)
            return FAIL_AT(cx, vals, "%s must hold at least one value", K_values);
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

enum bx_status bx_scn__load_dist(struct ctx *cx, yaml_node_t *map, const char *what,
                                 struct bx_dist *d)
{
    return bx_scn__load_dist_unit(cx, map, what, "s", d);
}

/* ---------------------------------------------------------------- dates, options, cameras */

enum bx_status bx_scn__as_date(struct ctx *cx, yaml_node_t *n, const char *what, long *days)
{
    if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    if (!bx_date_parse(bx_scn__scalar(n), days))
        return FAIL_AT(cx, n, "%s must be a date YYYY-MM-DD, got '%s'", what, bx_scn__scalar(n));
    return BX_OK;
}

enum bx_status bx_scn__opt_range(struct ctx *cx, yaml_node_t *map, const char *key, double lo,
                                 double hi, bool lo_open, double *out)
{
    yaml_node_t *n = bx_scn__get(cx, map, key);
    return n ? bx_scn__as_range(cx, n, key, lo, hi, lo_open, out) : BX_OK;
}

enum bx_status bx_scn__opt_uint(struct ctx *cx, yaml_node_t *map, const char *key, long long lo,
                                long long hi, unsigned *out)
{
    yaml_node_t *n = bx_scn__get(cx, map, key);
    long long v = 0;
    if (n == NULL)
        return BX_OK;
    if (bx_scn__as_int(cx, n, key, lo, hi, &v) != BX_OK)
        return BX_ESCHEMA;
    *out = (unsigned)v;
    return BX_OK;
}

/* A camera's capture settings (`capture:` of a port or a lifecycle mode) for @p device: time per
 * attempt, failure to acquire, retries, latent difficulty and staff exclusions. */
enum bx_status bx_scn__load_capture(struct ctx *cx, yaml_node_t *n, enum bx_device device,
                                    struct bx_capture_config *c)
{
    yaml_node_t *m;
    /* The port's camera (its device): time per attempt, failure to acquire, retries. */
    static const char *const cap_fields[] = {
        "time_mean_s",   "time_sd_s",          "time_dist",  "fta",    "max_attempts",
        "difficulty_sd", "difficulty_quality", "exclusions", "exempt", NULL};
    static const char *const ex_fields[] = {"wheelchair", "families", NULL};
    unsigned tries = c->max_attempts;
    if (bx_scn__check_keys(cx, n, "capture", cap_fields) != BX_OK ||
        bx_scn__opt_range(cx, n, "time_mean_s", 0, 3600, false, &c->time_mean_s[device]) ||
        bx_scn__opt_range(cx, n, "time_sd_s", 0, 3600, false, &c->time_sd_s[device]) ||
        bx_scn__opt_range(cx, n, "fta", 0, 0.99, false, &c->fta[device]) ||
        bx_scn__opt_uint(cx, n, "max_attempts", 1, 20, &tries) ||
        bx_scn__opt_range(cx, n, "difficulty_sd", 0, 5, false, &c->difficulty_sd) ||
        bx_scn__opt_range(cx, n, "difficulty_quality", 0, 2, false, &c->difficulty_quality))
        return BX_ESCHEMA;
    c->max_attempts = tries;
    if ((m = bx_scn__get(cx, n, "exclusions")) &&
        (bx_scn__check_keys(cx, m, "exclusions", ex_fields) != BX_OK ||
         bx_scn__opt_range(cx, m, "wheelchair", 0, 1, false, &c->exclude_wheelchair) ||
         bx_scn__opt_range(cx, m, "families", 0, 1, false, &c->exclude_family)))
        return BX_ESCHEMA;
    if ((m = bx_scn__get(cx, n, "time_dist"))) {
        if (bx_scn__expect(cx, m, YAML_SCALAR_NODE, "time_dist") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(m), "exponential") == 0)
            c->exponential_time = true;
        else if (strcmp(bx_scn__scalar(m), "lognormal") == 0)
            c->exponential_time = false;
        else
            return FAIL_AT(cx, m, "time_dist must be lognormal or exponential, got '%s'",
                           bx_scn__scalar(m));
    }
    /* The exemptions before the 2025 rule: a list of their names (none by default). */
    if ((m = bx_scn__get(cx, n, "exempt"))) {
        if (bx_scn__expect(cx, m, YAML_SEQUENCE_NODE, "exempt") != BX_OK)
            return BX_ESCHEMA;
        c->exempt = 0;
        for (yaml_node_item_t *it = m->data.sequence.items.start; it < m->data.sequence.items.top;
             ++it) {
            yaml_node_t *e = bx_scn__node_at(cx, *it);
            unsigned bit = 0;
            for (unsigned b = 1; e->type == YAML_SCALAR_NODE && b <= BX_EXEMPT_ALL; b <<= 1)
                if (strcmp(bx_scn__scalar(e), bx_exempt_name(b)) == 0)
                    bit = b;
            if (bit == 0)
                return FAIL_AT(cx, e,
                               "unknown exemption '%s' (known: under_14, over_79, canadian, "
                               "diplomat: those the 2025 rule ended)",
                               e->type == YAML_SCALAR_NODE ? bx_scn__scalar(e) : "?");
            c->exempt |= bit;
        }
    }
    return BX_OK;
}

/* ---------------------------------------------------------------- parsing with limits */

/* Line and column (1-based, in characters) of byte @p offset of @p text. */
static void position_of(const char *text, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; ++i) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n')
            l++, c = 1;
        else if ((b & 0xc0) != 0x80) /* continuation bytes are part of the previous character */
            c++;
    }
    *line = l;
    *col = c;
}

static enum bx_status fail_pos(struct bx_error *err, enum bx_status code, const char *label, int l,
                               int c, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum bx_status fail_pos(struct bx_error *err, enum bx_status code, const char *label, int l,
                               int c, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    enum bx_status st = BX_FAIL(err, code, "%s:%d:%d: %s", label, l, c, msg);
    if (err) {
        err->src_line = l;
        err->src_col = c;
    }
    return st;
}

/* libyaml's own error, at its real position: reader (encoding) errors leave problem_mark unset
 * and give a byte offset instead. */
static enum bx_status parser_error(const yaml_parser_t *p, const char *text, size_t len,
                                   const char *label, struct bx_error *err)
{
    int l = (int)p->problem_mark.line + 1, c = (int)p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR) {
        size_t o = p->problem_offset;
        if (p->problem && strstr(p->problem, "trailing") && o <= len) {
            /* libyaml points at the bad continuation byte: report the character it breaks */
            while (o > 0 && ((unsigned char)text[o - 1] & 0xc0) == 0x80)
                --o;
            if (o > 0 && (unsigned char)text[o - 1] >= 0xc0)
                --o;
        }
        position_of(text, len, o, &l, &c);
        if (p->problem_value >= 0)
            return fail_pos(err, BX_EPARSE, label, l, c, "%s (byte 0x%02x)",
                            p->problem ? p->problem : "invalid encoding", p->problem_value & 0xff);
    }
    if (p->error == YAML_MEMORY_ERROR)
        return BX_FAIL(err, BX_ENOMEM, "%s: out of memory while parsing", label);
    return fail_pos(err, BX_EPARSE, label, l, c, "%s%s%s", p->problem ? p->problem : "invalid YAML",
                    p->context ? " " : "", p->context ? p->context : "");
}

/* The limits, checked on the parser's events before any tree is built (libyaml's composer takes
 * time quadratic in the nesting depth): one document, nesting depth, node and alias counts. */
static enum bx_status prescan(const char *text, size_t len, const char *label, struct bx_error *err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return BX_FAIL(err, BX_ENOMEM, "%s: cannot initialise the YAML parser", label);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    enum bx_status st = BX_OK;
    size_t depth = 0, nodes = 0, aliases = 0, docs = 0;
    for (bool done = false; !done && st == BX_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            st = parser_error(&p, text, len, label, err);
            break;
        }
        int l = (int)ev.start_mark.line + 1, c = (int)ev.start_mark.column + 1;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                st = fail_pos(err, BX_EPARSE, label, l, c,
                              "a second YAML document: a file holds one document (remove the "
                              "'---' or '...' line and what follows it)");
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > BX_SCN_MAX_DEPTH)
                st = fail_pos(err, BX_EPARSE, label, l, c,
                              "nested more than %d levels deep (the limit for a scenario or "
                              "profile file)",
                              BX_SCN_MAX_DEPTH);
            ++nodes;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            --depth;
            break;
        case YAML_ALIAS_EVENT:
            if (++aliases > BX_SCN_MAX_ALIASES)
                st = fail_pos(err, BX_EPARSE, label, l, c,
                              "more than %d aliases (the limit for a scenario or profile file)",
                              BX_SCN_MAX_ALIASES);
            ++nodes;
            break;
        case YAML_SCALAR_EVENT:
            ++nodes;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        if (st == BX_OK && nodes > BX_SCN_MAX_NODES)
            st = fail_pos(err, BX_EPARSE, label, l, c,
                          "more than %d values (the limit for a scenario or profile file)",
                          BX_SCN_MAX_NODES);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return st;
}

struct key_ref {
    const char *name;
    const yaml_node_t *node;
    size_t order;
};

static int cmp_keys(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Every mapping of the document, at any depth, holds each scalar key once. */
static enum bx_status unique_keys(yaml_document_t *doc, const char *label, struct bx_error *err)
{
    struct key_ref *v = NULL;
    size_t cap = 0;
    enum bx_status st = BX_OK;
    for (yaml_node_t *m = doc->nodes.start; m < doc->nodes.top && st == BX_OK; ++m) {
        if (m->type != YAML_MAPPING_NODE)
            continue;
        size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start), k = 0;
        if (n < 2)
            continue;
        if (n > cap) {
            struct key_ref *w = realloc(v, n * sizeof *w);
            if (w == NULL) {
                st = BX_FAIL(err, BX_ENOMEM, "%s: out of memory", label);
                break;
            }
            v = w;
            cap = n;
        }
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
             ++p) {
            yaml_node_t *key = yaml_document_get_node(doc, p->key);
            if (key && key->type == YAML_SCALAR_NODE)
                v[k] = (struct key_ref){(const char *)key->data.scalar.value, key, k}, ++k;
        }
        qsort(v, k, sizeof *v, cmp_keys);
        for (size_t i = 1; i < k; ++i)
            if (strcmp(v[i].name, v[i - 1].name) == 0) {
                st = fail_pos(err, BX_ESCHEMA, label, (int)v[i].node->start_mark.line + 1,
                              (int)v[i].node->start_mark.column + 1,
                              "the key '%s' appears twice in one mapping (first at line %d)",
                              v[i].name, (int)v[i - 1].node->start_mark.line + 1);
                break;
            }
    }
    free(v);
    return st;
}

enum bx_status bx_scn__parse(const char *text, size_t len, const char *label, yaml_document_t *doc,
                             struct bx_error *err)
{
    memset(doc, 0, sizeof *doc);
    if (len > BX_SCN_MAX_BYTES)
        return BX_FAIL(err, BX_EPARSE,
                       "%s: %zu bytes, more than the %d MiB a scenario or profile "
                       "file may have",
                       label, len, BX_SCN_MAX_BYTES >> 20);
    enum bx_status st = prescan(text, len, label, err);
    if (st != BX_OK)
        return st;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return BX_FAIL(err, BX_ENOMEM, "%s: cannot initialise the YAML parser", label);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        st = parser_error(&parser, text, len, label, err);
        memset(doc, 0, sizeof *doc);
    }
    yaml_parser_delete(&parser);
    if (st == BX_OK && (st = unique_keys(doc, label, err)) != BX_OK)
        yaml_document_delete(doc);
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
            char *nb = cap <= (size_t)2 * BX_SCN_MAX_BYTES ? realloc(*buf, cap) : NULL;
            if (nb == NULL) {
                st = BX_FAIL(err, cap > (size_t)2 * BX_SCN_MAX_BYTES ? BX_EPARSE : BX_ENOMEM,
                             "%s: more than the %d MiB a scenario or profile file may have (or out "
                             "of memory)",
                             path, BX_SCN_MAX_BYTES >> 20);
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
