/* SPDX-License-Identifier: MIT */
/* profile.c - algorithm profiles (the files in models/profiles/): generator parameters, population
 * mix, calibration targets with their sources, and the last achieved figures. Every field is
 * optional except the name; defaults are bx_tplgen_params_default() and bx_demog_mix_default(). */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double *bx_scn_profile_param(struct bx_tplgen_params *p, const char *name)
{
    static const struct {
        const char *name;
        size_t off;
    } scalars[] = {
        {"lookalikes.fraction", offsetof(struct bx_tplgen_params, lookalike_fraction)},
        {"lookalikes.cosine", offsetof(struct bx_tplgen_params, lookalike_cosine)},
        {"quality_exponent", offsetof(struct bx_tplgen_params, quality_exponent)},
        {"hard.fraction", offsetof(struct bx_tplgen_params, hard_fraction)},
        {"hard.multiplier", offsetof(struct bx_tplgen_params, hard_multiplier)},
        {"ageing.drift_per_decade", offsetof(struct bx_tplgen_params, drift_per_decade)},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; ++i)
        if (strcmp(name, scalars[i].name) == 0)
            return (double *)(void *)((char *)p + scalars[i].off);
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return NULL;
    size_t plen = (size_t)(dot - name);
    const char *key = dot + 1;
    enum bx_device dev;
    enum bx_region reg;
    enum bx_age_band band;
    if (plen == 5 && strncmp(name, "noise", 5) == 0 && bx_device_parse(key, &dev))
        return &p->noise[dev];
    if (plen == 10 && strncmp(name, "shared.sex", 10) == 0)
        return strcmp(key, "female") == 0 ? &p->shared_sex[BX_SEX_FEMALE]
               : strcmp(key, "male") == 0 ? &p->shared_sex[BX_SEX_MALE]
                                          : NULL;
    if (plen == 13 && strncmp(name, "shared.region", 13) == 0 && bx_region_parse(key, &reg))
        return &p->shared_region[reg];
    if (plen == 15 && strncmp(name, "shared.age_band", 15) == 0 && bx_age_band_parse(key, &band))
        return &p->shared_age[band];
    if (plen == 9 && strncmp(name, "age_noise", 9) == 0 && bx_age_band_parse(key, &band))
        return &p->age_noise[band];
    if (plen == 21 && strncmp(name, "ageing.age_multiplier", 21) == 0 &&
        bx_age_band_parse(key, &band))
        return &p->age_drift[band];
    return NULL;
}

/* A mapping of names to numbers, each name accepted by `parse_key`, written through `slot`. */
typedef double *slot_fn(void *obj, const char *key);

static enum bx_status load_table(struct ctx *cx, yaml_node_t *map, const char *what, slot_fn *slot,
                                 void *obj, double lo, double hi)
{
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        yaml_node_t *k = bx_scn__node_at(cx, p->key), *v = bx_scn__node_at(cx, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return FAIL_AT(cx, k, "keys in %s must be names", what);
        double *dst = slot(obj, bx_scn__scalar(k));
        if (dst == NULL)
            return FAIL_AT(cx, k, "unknown key '%s' in %s", bx_scn__scalar(k), what);
        if (bx_scn__as_range(cx, v, bx_scn__scalar(k), lo, hi, false, dst) != BX_OK)
            return BX_ESCHEMA;
    }
    return BX_OK;
}

static double *slot_sex(void *obj, const char *key)
{
    double *a = obj;
    return strcmp(key, "female") == 0 ? &a[0] : strcmp(key, "male") == 0 ? &a[1] : NULL;
}
static double *slot_region(void *obj, const char *key)
{
    enum bx_region r;
    return bx_region_parse(key, &r) ? (double *)obj + r : NULL;
}
static double *slot_band(void *obj, const char *key)
{
    enum bx_age_band b;
    return bx_age_band_parse(key, &b) ? (double *)obj + b : NULL;
}
static double *slot_device(void *obj, const char *key)
{
    enum bx_device d;
    return bx_device_parse(key, &d) ? (double *)obj + d : NULL;
}
static double *slot_param(void *obj, const char *key)
{
    return bx_scn_profile_param(obj, key);
}

static enum bx_status load_generator(struct ctx *cx, yaml_node_t *map, struct bx_tplgen_params *p)
{
    static const char *const fields[] = {"shared",    "lookalikes", "noise",  "quality_exponent",
                                         "age_noise", "hard",       "ageing", NULL};
    static const char *const shared_fields[] = {"sex", "region", "age_band", NULL};
    yaml_node_t *n;
    if (bx_scn__check_keys(cx, map, "generator", fields) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "shared"))) {
        yaml_node_t *m;
        if (bx_scn__check_keys(cx, n, "shared", shared_fields) != BX_OK)
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "sex")) &&
            load_table(cx, m, "shared.sex", slot_sex, p->shared_sex, 0, 0.9) != BX_OK)
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "region")) &&
            load_table(cx, m, "shared.region", slot_region, p->shared_region, 0, 0.9) != BX_OK)
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "age_band")) &&
            load_table(cx, m, "shared.age_band", slot_band, p->shared_age, 0, 0.9) != BX_OK)
            return BX_ESCHEMA;
    }
    /* Scalar groups: "lookalikes: {fraction, cosine}", "hard: {...}", "ageing: {...}". */
    const char *groups[] = {"lookalikes", "hard", "ageing"};
    for (size_t i = 0; i < 3; ++i) {
        if (!(n = bx_scn__get(cx, map, groups[i])))
            continue;
        if (bx_scn__expect(cx, n, YAML_MAPPING_NODE, groups[i]) != BX_OK)
            return BX_ESCHEMA;
        for (yaml_node_pair_t *pp = n->data.mapping.pairs.start; pp < n->data.mapping.pairs.top;
             ++pp) {
            yaml_node_t *k = bx_scn__node_at(cx, pp->key), *v = bx_scn__node_at(cx, pp->value);
            char full[96];
            snprintf(full, sizeof full, "%s.%s", groups[i],
                     k->type == YAML_SCALAR_NODE ? bx_scn__scalar(k) : "?");
            if (strcmp(full, "ageing.age_multiplier") == 0) {
                if (load_table(cx, v, full, slot_band, p->age_drift, 0, 100) != BX_OK)
                    return BX_ESCHEMA;
                continue;
            }
            double *dst = k->type == YAML_SCALAR_NODE ? slot_param(p, full) : NULL;
            if (dst == NULL)
                return FAIL_AT(cx, k, "unknown field '%s' in %s", bx_scn__scalar(k), groups[i]);
            if (bx_scn__as_double(cx, v, full, dst) != BX_OK)
                return BX_ESCHEMA;
        }
    }
    if ((n = bx_scn__get(cx, map, "noise")) &&
        load_table(cx, n, "noise", slot_device, p->noise, 0, 99) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "age_noise")) &&
        load_table(cx, n, "age_noise", slot_band, p->age_noise, 0.01, 100) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "quality_exponent")) &&
        bx_scn__as_range(cx, n, "quality_exponent", 0, 10, false, &p->quality_exponent) != BX_OK)
        return BX_ESCHEMA;
    struct bx_error perr = {0};
    if (bx_tplgen_params_check(p, &perr) != BX_OK)
        return FAIL_AT(cx, map, "%s", perr.msg);
    return BX_OK;
}

static enum bx_status load_group(struct ctx *cx, yaml_node_t *map, const char *what,
                                 struct bx_group *g)
{
    static const char *const fields[] = {"sex", "region", NULL};
    yaml_node_t *n;
    g->sex = g->region = -1;
    if (bx_scn__check_keys(cx, map, what, fields) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "sex"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "sex") != BX_OK)
            return BX_ESCHEMA;
        const char *s = bx_scn__scalar(n);
        g->sex = strcmp(s, "female") == 0 ? BX_SEX_FEMALE
                 : strcmp(s, "male") == 0 ? BX_SEX_MALE
                                          : -2;
        if (g->sex == -2)
            return FAIL_AT(cx, n, "sex must be female or male, got '%s'", s);
    }
    if ((n = bx_scn__get(cx, map, "region"))) {
        enum bx_region r;
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "region") != BX_OK)
            return BX_ESCHEMA;
        if (!bx_region_parse(bx_scn__scalar(n), &r))
            return FAIL_AT(cx, n, "unknown region '%s'", bx_scn__scalar(n));
        g->region = (int)r;
    }
    return BX_OK;
}

static enum bx_status load_device(struct ctx *cx, yaml_node_t *n, enum bx_device *d)
{
    if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "device") != BX_OK)
        return BX_ESCHEMA;
    if (!bx_device_parse(bx_scn__scalar(n), d))
        return FAIL_AT(cx, n,
                       "unknown device '%s' (known: document, egate, gate_camera, mobile, "
                       "vehicle, kiosk)",
                       bx_scn__scalar(n));
    return BX_OK;
}

/* An optional `[lo, hi]` under @p key of @p map; both NaN when absent. */
static enum bx_status pair(struct ctx *cx, yaml_node_t *map, const char *key, double *lo,
                           double *hi)
{
    *lo = *hi = BX_NAN;
    yaml_node_t *n = bx_scn__get(cx, map, key);
    if (n == NULL)
        return BX_OK;
    if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, key) != BX_OK)
        return BX_ESCHEMA;
    if (n->data.sequence.items.top - n->data.sequence.items.start != 2)
        return FAIL_AT(cx, n, "%s must be [lo, hi]", key);
    char what[64];
    snprintf(what, sizeof what, "%s lo", key);
    if (bx_scn__as_double(cx, bx_scn__node_at(cx, n->data.sequence.items.start[0]), what, lo) !=
        BX_OK)
        return BX_ESCHEMA;
    snprintf(what, sizeof what, "%s hi", key);
    return bx_scn__as_double(cx, bx_scn__node_at(cx, n->data.sequence.items.start[1]), what, hi);
}

static enum bx_status load_target(struct ctx *cx, yaml_node_t *map, struct bx_profile_target *t)
{
    static const char *const fields[] = {
        "name",  "metric",    "fmr",   "fpir",      "enrol",  "probe",    "probe_quality", "years",
        "group", "reference", "value", "tolerance", "source", "achieved", "gallery_size",  NULL};
    yaml_node_t *n;
    *t = (struct bx_profile_target){.enrol_device = BX_DEVICE_DOCUMENT,
                                    .probe_device = BX_DEVICE_GATE_CAMERA,
                                    .probe_quality = 1,
                                    .tolerance = 0.5,
                                    .group = {-1, -1},
                                    .reference = {-1, -1}};
    if (bx_scn__check_keys(cx, map, "a target", fields) != BX_OK ||
        bx_scn__require(cx, map, "name", "a target", &n) != BX_OK ||
        bx_scn__expect(cx, n, YAML_SCALAR_NODE, "name") != BX_OK)
        return BX_ESCHEMA;
    snprintf(t->name, sizeof t->name, "%s", bx_scn__scalar(n));
    if (bx_scn__require(cx, map, "metric", "a target", &n) != BX_OK ||
        bx_scn__expect(cx, n, YAML_SCALAR_NODE, "metric") != BX_OK)
        return BX_ESCHEMA;
    if (strcmp(bx_scn__scalar(n), "fnmr_at_fmr") == 0)
        t->metric = BX_TARGET_FNMR_AT_FMR;
    else if (strcmp(bx_scn__scalar(n), "fmr_ratio") == 0)
        t->metric = BX_TARGET_FMR_RATIO;
    else if (strcmp(bx_scn__scalar(n), "fnir_at_fpir") == 0)
        t->metric = BX_TARGET_FNIR_AT_FPIR;
    else
        return FAIL_AT(cx, n, "metric must be fnmr_at_fmr, fmr_ratio or fnir_at_fpir, got '%s'",
                       bx_scn__scalar(n));
    const char *rate = t->metric == BX_TARGET_FNIR_AT_FPIR ? "fpir" : "fmr";
    if (bx_scn__require(cx, map, rate, "a target", &n) != BX_OK ||
        bx_scn__as_range(cx, n, rate, 0, 0.5, true, &t->fmr) != BX_OK ||
        bx_scn__require(cx, map, "value", "a target", &n) != BX_OK ||
        bx_scn__as_range(cx, n, "value", 0, 1e6, false, &t->value) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "enrol")) && load_device(cx, n, &t->enrol_device) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "probe")) && load_device(cx, n, &t->probe_device) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "probe_quality")) &&
        bx_scn__as_range(cx, n, "probe_quality", 0, 1, true, &t->probe_quality) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "years")) &&
        bx_scn__as_range(cx, n, "years", 0, 80, false, &t->years) != BX_OK)
        return BX_ESCHEMA;
    t->gallery_size = 420;
    long long gs;
    if ((n = bx_scn__get(cx, map, "gallery_size"))) {
        if (bx_scn__as_int(cx, n, "gallery_size", 2, 10000000, &gs) != BX_OK)
            return BX_ESCHEMA;
        t->gallery_size = (size_t)gs;
    }
    if ((n = bx_scn__get(cx, map, "tolerance")) &&
        bx_scn__as_range(cx, n, "tolerance", 0, 100, true, &t->tolerance) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "group")) && load_group(cx, n, "group", &t->group) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "reference")) &&
        load_group(cx, n, "reference", &t->reference) != BX_OK)
        return BX_ESCHEMA;
    if (t->metric == BX_TARGET_FMR_RATIO && !bx_scn__get(cx, map, "group"))
        return FAIL_AT(cx, map, "an fmr_ratio target needs a group");
    if ((n = bx_scn__get(cx, map, "source"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "source") != BX_OK)
            return BX_ESCHEMA;
        snprintf(t->source, sizeof t->source, "%s", bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, map, "achieved"))) {
        static const char *const af[] = {"value", "ci95", "seed_range", NULL};
        yaml_node_t *v;
        if (bx_scn__check_keys(cx, n, "achieved", af) != BX_OK ||
            bx_scn__require(cx, n, "value", "achieved", &v) != BX_OK ||
            bx_scn__as_double(cx, v, "achieved value", &t->achieved) != BX_OK ||
            pair(cx, n, "ci95", &t->achieved_lo, &t->achieved_hi) != BX_OK ||
            pair(cx, n, "seed_range", &t->achieved_seed_lo, &t->achieved_seed_hi) != BX_OK)
            return BX_ESCHEMA;
        t->has_achieved = true;
    }
    return BX_OK;
}

static enum bx_status load_profile_root(struct ctx *cx, yaml_node_t *root, struct bx_profile *p)
{
    static const char *const fields[] = {"name",      "description", "dim", "seed", "population",
                                         "generator", "targets",     "fit", NULL};
    static const char *const pop_fields[] = {"female", "region", "age_band", NULL};
    yaml_node_t *n;
    if (bx_scn__check_keys(cx, root, "the profile", fields) != BX_OK ||
        bx_scn__require(cx, root, "name", "the profile", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "profile name", p->name) != BX_OK)
        return BX_ESCHEMA;
    long long v = 512;
    if ((n = bx_scn__get(cx, root, "dim")) &&
        bx_scn__as_int(cx, n, "dim", BX_MODELS_DIM_MIN, BX_MODELS_DIM_MAX, &v) != BX_OK)
        return BX_ESCHEMA;
    p->params = bx_tplgen_params_default((size_t)v);
    p->mix = bx_demog_mix_default();
    if ((n = bx_scn__get(cx, root, "seed"))) {
        if (bx_scn__as_int(cx, n, "seed", 0, INT64_MAX, &v) != BX_OK)
            return BX_ESCHEMA;
        p->params.seed = (uint64_t)v;
    }
    if ((n = bx_scn__get(cx, root, "description"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "description") != BX_OK)
            return BX_ESCHEMA;
        p->description = strdup(bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, root, "population"))) {
        yaml_node_t *m;
        if (bx_scn__check_keys(cx, n, "population", pop_fields) != BX_OK)
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "female")) &&
            bx_scn__as_range(cx, m, "female", 0, 1, false, &p->mix.female) != BX_OK)
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "region"))) {
            memset(p->mix.region, 0, sizeof p->mix.region);
            if (load_table(cx, m, "population.region", slot_region, p->mix.region, 0, 1) != BX_OK)
                return BX_ESCHEMA;
        }
        if ((m = bx_scn__get(cx, n, "age_band"))) {
            memset(p->mix.age_band, 0, sizeof p->mix.age_band);
            if (load_table(cx, m, "population.age_band", slot_band, p->mix.age_band, 0, 1) != BX_OK)
                return BX_ESCHEMA;
        }
        struct bx_error merr = {0};
        if (bx_demog_mix_check(&p->mix, &merr) != BX_OK)
            return FAIL_AT(cx, n, "%s", merr.msg);
    }
    if ((n = bx_scn__get(cx, root, "generator")) && load_generator(cx, n, &p->params) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, root, "fit"))) {
        if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, "fit") != BX_OK)
            return BX_ESCHEMA;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             ++it) {
            yaml_node_t *item = bx_scn__node_at(cx, *it);
            if (bx_scn__expect(cx, item, YAML_SCALAR_NODE, "a fit parameter") != BX_OK)
                return BX_ESCHEMA;
            if (p->n_fit == 8)
                return FAIL_AT(cx, item, "at most 8 parameters can be fitted");
            if (bx_scn_profile_param(&p->params, bx_scn__scalar(item)) == NULL)
                return FAIL_AT(cx, item, "unknown generator parameter '%s'", bx_scn__scalar(item));
            snprintf(p->fit[p->n_fit++], sizeof p->fit[0], "%s", bx_scn__scalar(item));
        }
    }
    if ((n = bx_scn__get(cx, root, "targets"))) {
        if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, "targets") != BX_OK)
            return BX_ESCHEMA;
        size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        p->targets = calloc(cnt ? cnt : 1, sizeof *p->targets);
        if (p->targets == NULL)
            return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
        for (size_t i = 0; i < cnt; ++i) {
            yaml_node_t *item = bx_scn__node_at(cx, n->data.sequence.items.start[i]);
            if (load_target(cx, item, &p->targets[i]) != BX_OK)
                return BX_ESCHEMA;
            p->n_targets = i + 1;
        }
    }
    return BX_OK;
}

enum bx_status bx_scn_load_profile_string(const char *text, size_t len, const char *label,
                                          struct bx_profile *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    yaml_document_t doc;
    enum bx_status st = bx_scn__parse(text, len, label, &doc, err);
    if (st != BX_OK)
        return st;
    struct ctx cx = {label, &doc, err, NULL};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        st = BX_FAIL(err, BX_ESCHEMA, "%s:1:1: the profile file is empty", label);
    else if (load_profile_root(&cx, root, out) != BX_OK)
        st = bx_err_code(err, BX_ESCHEMA);
    yaml_document_delete(&doc);
    if (st != BX_OK)
        bx_scn_profile_fini(out);
    return st;
}

enum bx_status bx_scn_load_profile(const char *path, struct bx_profile *out, struct bx_error *err)
{
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    enum bx_status st = bx_scn__slurp(path, &buf, &len, err);
    if (st == BX_OK)
        st = bx_scn_load_profile_string(buf ? buf : "", len, path, out, err);
    free(buf);
    return st;
}

void bx_scn_profile_fini(struct bx_profile *p)
{
    if (p == NULL)
        return;
    free(p->description);
    free(p->targets);
    memset(p, 0, sizeof *p);
}
