/* SPDX-License-Identifier: MIT */
/* lifecycle.c - `kind: lifecycle` scenarios (docs/scenarios.md, "Lifecycle scenarios"): classes
 * of admission with their arrivals, stays and departures; what each mode's entry and exit points
 * do; BIMS retention. Durations are in days (`mean_days`, `value_days`, ...). */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A duration in days replacing @p d (the constructors refuse negative values). */
static enum bx_status load_days(struct ctx *cx, yaml_node_t *n, const char *what, struct bx_dist *d)
{
    struct bx_dist tmp = {0};
    if (bx_scn__load_dist_unit(cx, n, what, "days", &tmp) != BX_OK)
        return BX_ESCHEMA;
    bx_dist_fini(d);
    *d = tmp;
    return BX_OK;
}

/* A mapping key naming a mode. */
static enum bx_status mode_key(struct ctx *cx, yaml_node_t *k, const char *what, enum bx_lc_mode *m)
{
    if (bx_scn__expect(cx, k, YAML_SCALAR_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    if (!bx_lc_mode_parse(bx_scn__scalar(k), m))
        return FAIL_AT(cx, k,
                       "%s: unknown mode '%s' (known: air, sea, land_vehicle, land_pedestrian)",
                       what, bx_scn__scalar(k));
    return BX_OK;
}

/* A mapping of mode names to numbers in [lo, hi]. */
static enum bx_status load_by_mode(struct ctx *cx, yaml_node_t *map, const char *what, double lo,
                                   double hi, double out[BX_LC_N_MODES])
{
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         ++pr) {
        yaml_node_t *k = bx_scn__node_at(cx, pr->key), *v = bx_scn__node_at(cx, pr->value);
        enum bx_lc_mode m;
        if (mode_key(cx, k, what, &m) != BX_OK)
            return BX_ESCHEMA;
        if (bx_scn__as_range(cx, v, bx_scn__scalar(k), lo, hi, false, &out[m]) != BX_OK)
            return BX_ESCHEMA;
    }
    return BX_OK;
}

static enum bx_status load_class(struct ctx *cx, yaml_node_t *map, const struct bx_pop_config *pop,
                                 struct bx_lc_class *cl)
{
    static const char *const fields[] = {
        "name",           "citizenship",   "arrivals_per_day", "authorised",
        "trip",           "overstay_rate", "overstay",         "never_leave_rate",
        "exit_modes",     "repeat_rate",   "repeat_gap",       "impostor_rate",
        "watchlist_rate", "removal_rate",  "biographic",       NULL};
    yaml_node_t *n, *arr;
    struct bx_error derr = {0};
    if (bx_scn__check_keys(cx, map, "a class", fields) != BX_OK ||
        bx_scn__require(cx, map, "name", "a class", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "class name", cl->name) != BX_OK ||
        bx_scn__require(cx, map, "citizenship", "a class", &n) != BX_OK ||
        bx_scn__expect(cx, n, YAML_SCALAR_NODE, "citizenship") != BX_OK)
        return BX_ESCHEMA;
    if (!bx_citizenship_parse(bx_scn__scalar(n), &cl->citizenship))
        return FAIL_AT(cx, n, "unknown citizenship '%s'", bx_scn__scalar(n));
    if (bx_scn__require(cx, map, "arrivals_per_day", "a class", &arr) != BX_OK ||
        load_by_mode(cx, arr, "arrivals_per_day", 0, 1e8, cl->arrivals_per_day) != BX_OK)
        return BX_ESCHEMA;
    double total = 0;
    for (int m = 0; m < BX_LC_N_MODES; ++m)
        total += cl->arrivals_per_day[m];
    if (!(total > 0))
        return FAIL_AT(cx, arr, "class %s: arrivals_per_day needs a mode with arrivals", cl->name);
    for (int m = 0; m < BX_LC_N_MODES; ++m)
        cl->biographic[m] = BX_NAN; /* the mode's */
    if ((n = bx_scn__get(cx, map, "biographic")) &&
        load_by_mode(cx, n, "biographic", 0, 1, cl->biographic) != BX_OK)
        return BX_ESCHEMA;
    /* defaults: leave on time, by the mode of entry, never come back */
    cl->impostor_rate = pop->impostor_rate;
    cl->watchlist_rate = pop->watchlist_rate;
    cl->removal_rate = pop->removal_rate;
    if (bx_dist_exponential(&cl->overstay, 30, &derr) != BX_OK ||
        bx_dist_exponential(&cl->repeat_gap, 30, &derr) != BX_OK ||
        bx_dist_deterministic(&cl->authorised, 0, &derr) != BX_OK)
        return BX_FAIL(cx->err, BX_ENOMEM, "%s", derr.msg);
    bool citizen_like = cl->citizenship == BX_CIT_US || cl->citizenship == BX_CIT_LPR;
    cl->admitted_until = !citizen_like;
    if ((n = bx_scn__get(cx, map, "authorised"))) {
        if (n->type == YAML_SCALAR_NODE && strcmp(bx_scn__scalar(n), "none") == 0)
            cl->admitted_until = false;
        else if (load_days(cx, n, "authorised", &cl->authorised) != BX_OK)
            return BX_ESCHEMA;
        else
            cl->admitted_until = true;
        if (cl->admitted_until && cl->citizenship == BX_CIT_US)
            return FAIL_AT(cx, n, "class %s: U.S. citizens have no admit-until date", cl->name);
    } else if (cl->admitted_until) {
        return FAIL_AT(cx, map, "class %s needs authorised (days, or none)", cl->name);
    }
    if (bx_scn__require(cx, map, "trip", "a class", &n) != BX_OK ||
        load_days(cx, n, "trip", &cl->trip) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "overstay")) && load_days(cx, n, "overstay", &cl->overstay))
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "repeat_gap")) && load_days(cx, n, "repeat_gap", &cl->repeat_gap))
        return BX_ESCHEMA;
    if (bx_scn__opt_range(cx, map, "overstay_rate", 0, 1, false, &cl->overstay_rate) ||
        bx_scn__opt_range(cx, map, "never_leave_rate", 0, 1, false, &cl->never_leave_rate) ||
        bx_scn__opt_range(cx, map, "repeat_rate", 0, 1, false, &cl->repeat_rate) ||
        bx_scn__opt_range(cx, map, "impostor_rate", 0, 1, false, &cl->impostor_rate) ||
        bx_scn__opt_range(cx, map, "watchlist_rate", 0, 1, false, &cl->watchlist_rate) ||
        bx_scn__opt_range(cx, map, "removal_rate", 0, 1, false, &cl->removal_rate))
        return BX_ESCHEMA;
    if (cl->overstay_rate + cl->never_leave_rate > 1)
        return FAIL_AT(cx, map, "class %s: overstay_rate + never_leave_rate exceed 1", cl->name);
    if (cl->impostor_rate + cl->watchlist_rate + cl->removal_rate > 1)
        return FAIL_AT(cx, map, "class %s: impostor, watch-list and removal rates exceed 1",
                       cl->name);
    if (!cl->admitted_until && (cl->overstay_rate > 0))
        return FAIL_AT(cx, bx_scn__get(cx, map, "overstay_rate"),
                       "class %s has no admit-until date, so no overstay_rate", cl->name);
    if ((n = bx_scn__get(cx, map, "exit_modes"))) {
        if (bx_scn__expect(cx, n, YAML_MAPPING_NODE, "exit_modes") != BX_OK)
            return BX_ESCHEMA;
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
             ++pr) {
            yaml_node_t *k = bx_scn__node_at(cx, pr->key), *v = bx_scn__node_at(cx, pr->value);
            enum bx_lc_mode m;
            if (mode_key(cx, k, "exit_modes", &m) != BX_OK)
                return BX_ESCHEMA;
            if (!(cl->arrivals_per_day[m] > 0))
                return FAIL_AT(cx, k,
                               "exit_modes: class %s has no arrivals by %s, so no exits from it",
                               cl->name, bx_scn__scalar(k));
            double *row = cl->exit_mode[m], sum = 0;
            if (load_by_mode(cx, v, "exit shares", 0, 1, row) != BX_OK)
                return BX_ESCHEMA;
            for (int x = 0; x < BX_LC_N_MODES; ++x)
                sum += row[x];
            if (fabs(sum - 1) > 1e-6)
                return FAIL_AT(cx, v, "exit shares from %s sum to %g, not 1", bx_scn__scalar(k),
                               sum);
        }
    }
    return BX_OK;
}

static enum bx_status load_mode(struct ctx *cx, yaml_node_t *map, struct bx_lc_mode_config *md)
{
    static const char *const fields[] = {
        "entry_device", "exit_device", "entry_photographed", "exit_photographed", "biographic",
        "gallery_size", "staged_rate", "stage_document",     "capture",           NULL};
    yaml_node_t *n;
    if (bx_scn__check_keys(cx, map, "a mode", fields) != BX_OK)
        return BX_ESCHEMA;
    const char *dev_keys[2] = {"entry_device", "exit_device"};
    enum bx_device *devs[2] = {&md->entry_device, &md->exit_device};
    for (int i = 0; i < 2; ++i)
        if ((n = bx_scn__get(cx, map, dev_keys[i]))) {
            if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, dev_keys[i]) != BX_OK)
                return BX_ESCHEMA;
            if (!bx_device_parse(bx_scn__scalar(n), devs[i]) || *devs[i] == BX_DEVICE_DOCUMENT)
                return FAIL_AT(cx, n,
                               "%s must be egate, gate_camera, mobile, vehicle or kiosk, got '%s'",
                               dev_keys[i], bx_scn__scalar(n));
        }
    unsigned g = md->gallery_size;
    if (bx_scn__opt_range(cx, map, "entry_photographed", 0, 1, false, &md->entry_photographed) ||
        bx_scn__opt_range(cx, map, "exit_photographed", 0, 1, false, &md->exit_photographed) ||
        bx_scn__opt_range(cx, map, "biographic", 0, 1, false, &md->biographic) ||
        bx_scn__opt_range(cx, map, "staged_rate", 0, 1, false, &md->staged_rate) ||
        bx_scn__opt_uint(cx, map, "gallery_size", 1, 200000, &g))
        return BX_ESCHEMA;
    md->gallery_size = g;
    if ((n = bx_scn__get(cx, map, "stage_document")) &&
        bx_scn__as_bool(cx, n, "stage_document", &md->stage_document) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "capture"))) {
        /* one camera per side: the settings apply to both devices of the mode */
        struct bx_capture_config *c = &md->capture;
        if (bx_scn__load_capture(cx, n, md->exit_device, c) != BX_OK)
            return BX_ESCHEMA;
        if (md->entry_device != md->exit_device) {
            c->time_mean_s[md->entry_device] = c->time_mean_s[md->exit_device];
            c->time_sd_s[md->entry_device] = c->time_sd_s[md->exit_device];
            c->fta[md->entry_device] = c->fta[md->exit_device];
        }
    }
    return BX_OK;
}

static enum bx_status load_bims(struct ctx *cx, yaml_node_t *map, struct bx_lc_bims *b)
{
    static const char *const fields[] = {"retention_years", "bytes_per_record", "projection_years",
                                         "measure_sizes",   "measure_probes",   NULL};
    yaml_node_t *n;
    unsigned py = b->projection_years, mp = b->measure_probes;
    if (bx_scn__check_keys(cx, map, "bims", fields) != BX_OK ||
        bx_scn__opt_range(cx, map, "retention_years", 0, 200, true, &b->retention_years) ||
        bx_scn__opt_range(cx, map, "bytes_per_record", 0, 1e9, false, &b->bytes_per_record) ||
        bx_scn__opt_uint(cx, map, "projection_years", 1, 500, &py) ||
        bx_scn__opt_uint(cx, map, "measure_probes", 1, 1000000, &mp))
        return BX_ESCHEMA;
    b->projection_years = py;
    b->measure_probes = mp;
    if ((n = bx_scn__get(cx, map, "measure_sizes"))) {
        if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, "measure_sizes") != BX_OK)
            return BX_ESCHEMA;
        size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (k > 8)
            return FAIL_AT(cx, n, "measure_sizes holds at most 8 sizes");
        for (size_t i = 0; i < k; ++i) {
            long long v;
            if (bx_scn__as_int(cx, bx_scn__node_at(cx, n->data.sequence.items.start[i]),
                               "a measured size", 100, 100000000, &v) != BX_OK)
                return BX_ESCHEMA;
            b->measure_sizes[i] = (uint64_t)v;
        }
        b->n_measure = k;
    }
    return BX_OK;
}

static enum bx_status load_factors(struct ctx *cx, yaml_node_t *n, const char *what, double *out,
                                   size_t k)
{
    if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    size_t got = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (got != k)
        return FAIL_AT(cx, n, "%s needs %zu factors, got %zu", what, k, got);
    double sum = 0;
    for (size_t i = 0; i < k; ++i) {
        if (bx_scn__as_range(cx, bx_scn__node_at(cx, n->data.sequence.items.start[i]), what, 0, 100,
                             false, &out[i]) != BX_OK)
            return BX_ESCHEMA;
        sum += out[i];
    }
    if (!(sum > 0))
        return FAIL_AT(cx, n, "%s: every factor is 0", what);
    for (size_t i = 0; i < k; ++i) /* mean 1: they shape, the class counts set the level */
        out[i] *= (double)k / sum;
    return BX_OK;
}

/* A YYYY-MM-DD date as days from the scenario's start date. */
static enum bx_status day_of(struct ctx *cx, yaml_node_t *n, const char *what, long start,
                             double *out)
{
    long d;
    if (bx_scn__as_date(cx, n, what, &d) != BX_OK)
        return BX_ESCHEMA;
    *out = (double)(d - start);
    return BX_OK;
}

enum bx_status bx_scn__load_lifecycle(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn)
{
    static const char *const fields[] = {"name",
                                         "description",
                                         "kind",
                                         "seed",
                                         "replications",
                                         "profile",
                                         "start_date",
                                         "horizon",
                                         "report",
                                         "sample",
                                         "weekly",
                                         "monthly",
                                         "thresholds",
                                         "watchlist_size",
                                         "removal_size",
                                         "calibration_subjects",
                                         "population",
                                         "modes",
                                         "bims",
                                         "classes",
                                         NULL};
    static const char *const hz_fields[] = {"days", "warmup_days", NULL};
    static const char *const rep_fields[] = {"from", "to", NULL};
    static const char *const thr_fields[] = {"verify_fmr", "exit_fpir", "watchlist_fpir", NULL};
    static const char *const pop_fields[] = {"wheelchair_rate", "with_children_rate",
                                             "photo_age_max_years", NULL};
    struct bx_lc_config *c = &scn->lifecycle;
    bx_lc_config_default(c);
    yaml_node_t *n, *hz;
    if (bx_scn__check_keys(cx, root, "the scenario", fields) != BX_OK ||
        bx_scn__require(cx, root, "name", "the scenario", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "scenario name", scn->name) != BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__load_common(cx, root, scn, 1, 10000) != BX_OK)
        return BX_ESCHEMA;
    snprintf(scn->profile_name, sizeof scn->profile_name, "visa-best");
    if ((n = bx_scn__get(cx, root, "profile"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "profile") != BX_OK)
            return BX_ESCHEMA;
        snprintf(scn->profile_name, sizeof scn->profile_name, "%s", bx_scn__scalar(n));
    }
    if (bx_scn__require(cx, root, "start_date", "the scenario", &n) != BX_OK ||
        bx_scn__as_date(cx, n, "start_date", &c->start_day) != BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__require(cx, root, "horizon", "the scenario", &hz) != BX_OK ||
        bx_scn__check_keys(cx, hz, "horizon", hz_fields) != BX_OK ||
        bx_scn__require(cx, hz, "days", "horizon", &n) != BX_OK ||
        bx_scn__as_range(cx, n, "days", 1, 7320, false, &c->horizon_days) != BX_OK ||
        bx_scn__opt_range(cx, hz, "warmup_days", 0, 1830, false, &c->warmup_days) != BX_OK)
        return BX_ESCHEMA;
    c->horizon_days = floor(c->horizon_days);
    c->warmup_days = ceil(c->warmup_days);
    c->report_from = 0;
    c->report_to = c->horizon_days;
    if ((n = bx_scn__get(cx, root, "report"))) {
        yaml_node_t *f = bx_scn__get(cx, n, "from"), *t = bx_scn__get(cx, n, "to");
        if (bx_scn__check_keys(cx, n, "report", rep_fields) != BX_OK ||
            (f && day_of(cx, f, "report.from", c->start_day, &c->report_from) != BX_OK) ||
            (t && day_of(cx, t, "report.to", c->start_day, &c->report_to) != BX_OK))
            return BX_ESCHEMA;
        if (t) /* `to` is the last day reported */
            c->report_to += 1;
        if (!(c->report_from >= -c->warmup_days && c->report_from < c->report_to &&
              c->report_to <= c->horizon_days))
            return FAIL_AT(cx, n,
                           "the report window must lie within the simulated days (start_date "
                           "minus warmup_days to the horizon's last day), from before to");
    }
    if ((n = bx_scn__get(cx, root, "sample")) &&
        bx_scn__as_range(cx, n, "sample", 0, 1, true, &c->sample) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, root, "weekly")) &&
        load_factors(cx, n, "weekly", c->weekly, 7) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, root, "monthly")) &&
        load_factors(cx, n, "monthly", c->monthly, 12) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, root, "thresholds")) &&
        (bx_scn__check_keys(cx, n, "thresholds", thr_fields) != BX_OK ||
         bx_scn__opt_range(cx, n, "verify_fmr", 0, 0.5, true, &c->verify_fmr) ||
         bx_scn__opt_range(cx, n, "exit_fpir", 0, 0.5, true, &c->exit_fpir) ||
         bx_scn__opt_range(cx, n, "watchlist_fpir", 0, 0.5, true, &c->watchlist_fpir)))
        return BX_ESCHEMA;
    unsigned w = c->watchlist_size, r = c->removal_size, cal = (unsigned)c->calibration_subjects;
    if (bx_scn__opt_uint(cx, root, "watchlist_size", 1, 1000000, &w) ||
        bx_scn__opt_uint(cx, root, "removal_size", 1, 1000000, &r) ||
        bx_scn__opt_uint(cx, root, "calibration_subjects", 200, 20000, &cal))
        return BX_ESCHEMA;
    c->watchlist_size = w;
    c->removal_size = r;
    c->calibration_subjects = cal;
    if ((n = bx_scn__get(cx, root, "population")) &&
        (bx_scn__check_keys(cx, n, "population", pop_fields) != BX_OK ||
         bx_scn__opt_range(cx, n, "wheelchair_rate", 0, 1, false, &c->population.wheelchair_rate) ||
         bx_scn__opt_range(cx, n, "with_children_rate", 0, 1, false,
                           &c->population.with_children_rate) ||
         bx_scn__opt_range(cx, n, "photo_age_max_years", 0, 20, false,
                           &c->population.photo_age_max_years)))
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, root, "modes"))) {
        if (bx_scn__expect(cx, n, YAML_MAPPING_NODE, "modes") != BX_OK)
            return BX_ESCHEMA;
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
             ++pr) {
            yaml_node_t *k = bx_scn__node_at(cx, pr->key), *val = bx_scn__node_at(cx, pr->value);
            enum bx_lc_mode m;
            if (mode_key(cx, k, "modes", &m) != BX_OK)
                return BX_ESCHEMA;
            if (load_mode(cx, val, &c->modes[m]) != BX_OK)
                return BX_ESCHEMA;
        }
    }
    if ((n = bx_scn__get(cx, root, "bims")) && load_bims(cx, n, &c->bims) != BX_OK)
        return BX_ESCHEMA;
    yaml_node_t *classes;
    if (bx_scn__require(cx, root, "classes", "the scenario", &classes) != BX_OK ||
        bx_scn__expect(cx, classes, YAML_SEQUENCE_NODE, "classes") != BX_OK)
        return BX_ESCHEMA;
    size_t nk = (size_t)(classes->data.sequence.items.top - classes->data.sequence.items.start);
    if (nk == 0 || nk > 32)
        return FAIL_AT(cx, classes, "classes needs 1 to 32 classes, got %zu", nk);
    if ((c->classes = calloc(nk, sizeof *c->classes)) == NULL)
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    for (size_t i = 0; i < nk; ++i) {
        yaml_node_t *item = bx_scn__node_at(cx, classes->data.sequence.items.start[i]);
        c->n_classes = i + 1;
        if (bx_scn__expect(cx, item, YAML_MAPPING_NODE, "a class") != BX_OK ||
            load_class(cx, item, &c->population, &c->classes[i]) != BX_OK)
            return BX_ESCHEMA;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(c->classes[j].name, c->classes[i].name) == 0)
                return FAIL_AT(cx, bx_scn__get(cx, item, "name"), "a second class is named '%s'",
                               c->classes[i].name);
    }
    struct bx_error cerr = {0};
    if (bx_lc_config_check(c, &cerr) != BX_OK)
        return FAIL_AT(cx, root, "%s", cerr.msg);
    return BX_OK;
}
