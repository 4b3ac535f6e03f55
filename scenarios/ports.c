/* SPDX-License-Identifier: MIT */
/* ports.c - the `kind: ports` part of a scenario: manifest ports, thresholds, the profile.
 * Defaults and units are documented in docs/scenarios.md. */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Date node @p d (field @p what) as hours from the scenario's start_date: on or after it, or
 * strictly after it with @p after_start. */
static enum bx_status date_hours(struct ctx *cx, yaml_node_t *d, const char *what,
                                 yaml_node_t *start_node, long start_days, bool after_start,
                                 double *hours)
{
    long day = 0;
    if (bx_scn__as_date(cx, d, what, &day) != BX_OK)
        return BX_ESCHEMA;
    if (start_node == NULL)
        return FAIL_AT(cx, d, "%s needs the scenario's start_date", what);
    if (after_start ? day <= start_days : day < start_days)
        return FAIL_AT(cx, d, "%s must be %s start_date (%s)", what,
                       after_start ? "after" : "on or after", bx_scn__scalar(start_node));
    *hours = (double)(day - start_days) * 24;
    return BX_OK;
}

static enum bx_status load_population(struct ctx *cx, yaml_node_t *map, struct bx_pop_config *pop,
                                      struct bx_capture_config *cap)
{
    static const char *const fields[] = {
        "citizenship", "overstay_rate", "impostor_rate",   "watchlist_rate",     "removal_rate",
        "opt_out",     "female",        "wheelchair_rate", "with_children_rate", NULL};
    yaml_node_t *n;
    if (bx_scn__check_keys(cx, map, "population", fields) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "citizenship"))) {
        if (bx_scn__expect(cx, n, YAML_MAPPING_NODE, "citizenship") != BX_OK)
            return BX_ESCHEMA;
        memset(pop->citizenship, 0, sizeof pop->citizenship);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             ++p) {
            yaml_node_t *k = bx_scn__node_at(cx, p->key), *v = bx_scn__node_at(cx, p->value);
            enum bx_citizenship c;
            if (k->type != YAML_SCALAR_NODE || !bx_citizenship_parse(bx_scn__scalar(k), &c))
                return FAIL_AT(cx, k,
                               "unknown citizenship class '%s' (known: us_citizen, lpr, visa, "
                               "visa_waiver, canadian, mexican_bcc, diplomat)",
                               k->type == YAML_SCALAR_NODE ? bx_scn__scalar(k) : "?");
            if (bx_scn__as_range(cx, v, bx_scn__scalar(k), 0, 1, false, &pop->citizenship[c]))
                return BX_ESCHEMA;
        }
    }
    if (bx_scn__opt_range(cx, map, "overstay_rate", 0, 1, false, &pop->overstay_rate) ||
        bx_scn__opt_range(cx, map, "impostor_rate", 0, 1, false, &pop->impostor_rate) ||
        bx_scn__opt_range(cx, map, "watchlist_rate", 0, 1, false, &pop->watchlist_rate) ||
        bx_scn__opt_range(cx, map, "removal_rate", 0, 1, false, &pop->removal_rate) ||
        bx_scn__opt_range(cx, map, "female", 0, 1, false, &pop->female) ||
        bx_scn__opt_range(cx, map, "wheelchair_rate", 0, 1, false, &pop->wheelchair_rate) ||
        bx_scn__opt_range(cx, map, "with_children_rate", 0, 1, false, &pop->with_children_rate) ||
        bx_scn__opt_range(cx, map, "opt_out", 0, 1, false, &cap->us_optout))
        return BX_ESCHEMA;
    struct bx_error perr = {0};
    if (bx_pop_config_check(pop, &perr) != BX_OK)
        return FAIL_AT(cx, map, "%s", perr.msg);
    return BX_OK;
}

static enum bx_status load_common(struct ctx *cx, yaml_node_t *map, struct bx_port_config *p);

/* An equipment rollout: a list of {at_hours | at_date, count} in time order. The initial count
 * holds from t = 0 and each step changes it from its time on; counts lie in [min_count, 10^4]. */
static enum bx_status load_rollout(struct ctx *cx, yaml_node_t *m, const char *what,
                                   unsigned initial, long long min_count, yaml_node_t *start_node,
                                   long start_days, struct bx_capacity_step **out, size_t *n_out)
{
    static const char *const step_fields[] = {"at_hours", "at_date", "count", NULL};
    if (bx_scn__expect(cx, m, YAML_SEQUENCE_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    size_t k = (size_t)(m->data.sequence.items.top - m->data.sequence.items.start);
    struct bx_capacity_step *sch = calloc(k + 1, sizeof *sch);
    if (sch == NULL)
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    *out = sch;
    sch[0] = (struct bx_capacity_step){0, initial};
    *n_out = 1;
    for (size_t j = 0; j < k; ++j) {
        yaml_node_t *st = bx_scn__node_at(cx, m->data.sequence.items.start[j]), *a, *c;
        double at;
        long long cnt;
        if (bx_scn__check_keys(cx, st, "a rollout step", step_fields) != BX_OK ||
            bx_scn__require(cx, st, "count", "a rollout step", &c) != BX_OK ||
            bx_scn__as_int(cx, c, "count", min_count, 10000, &cnt) != BX_OK)
            return BX_ESCHEMA;
        yaml_node_t *ah = bx_scn__get(cx, st, "at_hours"), *ad = bx_scn__get(cx, st, "at_date");
        if (!ah == !ad)
            return FAIL_AT(cx, st, "a rollout step needs exactly one of at_hours, at_date");
        if (ah) {
            a = ah;
            if (bx_scn__as_range(cx, a, "at_hours", 0, 1e6, true, &at) != BX_OK)
                return BX_ESCHEMA;
        } else {
            a = ad;
            if (date_hours(cx, a, "at_date", start_node, start_days, true, &at) != BX_OK)
                return BX_ESCHEMA;
        }
        if (at * 3600 < sch[*n_out - 1].t_s)
            return FAIL_AT(cx, a, "rollout steps must be in time order");
        sch[(*n_out)++] = (struct bx_capacity_step){at * 3600, (unsigned)cnt};
    }
    return BX_OK;
}

/* A daily roster: a non-empty list of {at_hours (hour of the day), count} in time order, with
 * someone on duty at some hour. */
static enum bx_status load_shifts(struct ctx *cx, yaml_node_t *n, const char *what, const char *who,
                                  struct bx_capacity_step **out, size_t *n_out)
{
    static const char *const shift_fields[] = {"at_hours", "count", NULL};
    if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, what) != BX_OK)
        return BX_ESCHEMA;
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (k == 0)
        return FAIL_AT(cx, n, "%s needs at least one shift", what);
    struct bx_capacity_step *sh = calloc(k, sizeof *sh);
    if (sh == NULL)
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    *out = sh;
    bool staffed = false;
    for (size_t j = 0; j < k; ++j) {
        yaml_node_t *st = bx_scn__node_at(cx, n->data.sequence.items.start[j]), *a, *c;
        double at;
        long long cnt;
        if (bx_scn__check_keys(cx, st, "a shift", shift_fields) != BX_OK ||
            bx_scn__require(cx, st, "at_hours", "a shift", &a) != BX_OK ||
            bx_scn__require(cx, st, "count", "a shift", &c) != BX_OK ||
            bx_scn__as_range(cx, a, "at_hours", 0, 24, false, &at) != BX_OK ||
            bx_scn__as_int(cx, c, "count", 0, 100000, &cnt) != BX_OK)
            return BX_ESCHEMA;
        if (at >= 24)
            return FAIL_AT(cx, a, "at_hours is an hour of the day: below 24");
        if (j > 0 && at * 3600 <= sh[j - 1].t_s)
            return FAIL_AT(cx, a, "shifts must be in time order");
        sh[j] = (struct bx_capacity_step){at * 3600, (unsigned)cnt};
        *n_out = j + 1;
        staffed |= cnt > 0;
    }
    if (!staffed)
        return FAIL_AT(cx, n, "no %s on duty at any hour: %s", who,
                       strcmp(who, "officer") == 0 ? "manual inspections never end"
                                                   : "secondary inspections never end");
    return BX_OK;
}

/* A land port: lanes (vehicle) or mobile units (pedestrian) with a rollout schedule, hourly
 * arrivals, the expected-traveller gallery. */
static enum bx_status load_land(struct ctx *cx, yaml_node_t *map, struct bx_port_config *p,
                                yaml_node_t *start_node, long start_days)
{
    static const char *const fields[] = {"name",
                                         "type",
                                         "lanes",
                                         "arrivals_per_hour",
                                         "expected_gallery",
                                         "device",
                                         "match_time_s",
                                         "officers",
                                         "officer_shifts",
                                         "manual_service",
                                         "secondary",
                                         "officer_catch",
                                         "impostor_similarity",
                                         "population",
                                         "capture",
                                         "unphotographed",
                                         NULL};
    static const char *const lane_fields[] = {"kind", "count", "rollout", NULL};
    static const char *const exp_fields[] = {"size", "share", NULL};
    yaml_node_t *n, *m;
    struct bx_land_config *l = &p->land;
    if (bx_scn__check_keys(cx, map, "a land port", fields) != BX_OK ||
        bx_scn__require(cx, map, "name", "a port", &n) != BX_OK ||
        bx_scn__as_name(cx, n, "port name", p->name) != BX_OK)
        return BX_ESCHEMA;
    l->lane_kind = BX_LANE_VEHICLE;
    l->lanes = 1;
    l->expected_gallery = 20000;
    l->expected_share = 0.7;
    if (bx_scn__require(cx, map, "lanes", "a land port", &n) != BX_OK ||
        bx_scn__check_keys(cx, n, "lanes", lane_fields) != BX_OK)
        return BX_ESCHEMA;
    if ((m = bx_scn__get(cx, n, "kind"))) {
        if (bx_scn__expect(cx, m, YAML_SCALAR_NODE, "kind") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(m), "pedestrian") == 0) {
            l->lane_kind = BX_LANE_PEDESTRIAN;
            p->device = BX_DEVICE_MOBILE;
        } else if (strcmp(bx_scn__scalar(m), "vehicle") != 0) {
            return FAIL_AT(cx, m, "lanes.kind must be vehicle or pedestrian, got '%s'",
                           bx_scn__scalar(m));
        }
    }
    if (bx_scn__opt_uint(cx, n, "count", 0, 10000, &l->lanes))
        return BX_ESCHEMA;
    if ((m = bx_scn__get(cx, n, "rollout")) &&
        load_rollout(cx, m, "rollout", l->lanes, 0, start_node, start_days, &l->schedule,
                     &l->n_schedule) != BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__require(cx, map, "arrivals_per_hour", "a land port", &n) != BX_OK ||
        bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, "arrivals_per_hour") != BX_OK)
        return BX_ESCHEMA;
    if (n->data.sequence.items.top - n->data.sequence.items.start != 24)
        return FAIL_AT(cx, n, "arrivals_per_hour needs 24 rates (hours 0 to 23)");
    for (int h = 0; h < 24; ++h)
        if (bx_scn__as_range(cx, bx_scn__node_at(cx, n->data.sequence.items.start[h]),
                             "an hourly rate", 0, 1e6, false, &l->arrivals.rate_per_h[h]) != BX_OK)
            return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "expected_gallery"))) {
        unsigned size = (unsigned)l->expected_gallery;
        if (bx_scn__check_keys(cx, n, "expected_gallery", exp_fields) != BX_OK ||
            bx_scn__opt_uint(cx, n, "size", 1, 10000000, &size) ||
            bx_scn__opt_range(cx, n, "share", 0, 1, false, &l->expected_share))
            return BX_ESCHEMA;
        l->expected_gallery = size;
    }
    return load_common(cx, map, p);
}

static enum bx_status load_port(struct ctx *cx, yaml_node_t *map, struct bx_port_config *p,
                                yaml_node_t *start_node, long start_days)
{
    static const char *const fields[] = {
        "name",           "type",         "departures",       "passengers",
        "boarding",       "gates",        "cameras_per_gate", "camera_rollout",
        "device",         "match_time_s", "officers",         "officer_shifts",
        "manual_service", "secondary",    "officer_catch",    "impostor_similarity",
        "population",     "capture",      "unphotographed",   NULL};
    static const char *const dep_fields[] = {"per_day", "first_hour", "last_hour", NULL};
    static const char *const board_fields[] = {"open_min", "peak_min", "close_min", NULL};

    yaml_node_t *n, *m;
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, "a port") != BX_OK ||
        bx_scn__require(cx, map, "type", "a port", &n) != BX_OK ||
        bx_scn__expect(cx, n, YAML_SCALAR_NODE, "type") != BX_OK)
        return BX_ESCHEMA;
    if (strcmp(bx_scn__scalar(n), "land") == 0) {
        *p = bx_port_config_default(BX_PORT_LAND);
        return load_land(cx, map, p, start_node, start_days);
    }
    yaml_node_t *name;
    if (bx_scn__check_keys(cx, map, "a port", fields) != BX_OK ||
        bx_scn__require(cx, map, "name", "a port", &name) != BX_OK)
        return BX_ESCHEMA;
    const char *type = bx_scn__scalar(n);
    /* Defaults by type (docs/scenarios.md): boarding windows, devices, staff. */
    if (strcmp(type, "air") == 0)
        *p = bx_port_config_default(BX_PORT_AIR);
    else if (strcmp(type, "sea") == 0)
        *p = bx_port_config_default(BX_PORT_SEA);
    else if (strcmp(type, "private") == 0)
        *p = bx_port_config_default(BX_PORT_PRIVATE);
    else
        return FAIL_AT(cx, n, "type must be air, sea, private or land, got '%s'", type);
    if (bx_scn__as_name(cx, name, "port name", p->name) != BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__require(cx, map, "departures", "a port", &n) != BX_OK ||
        bx_scn__check_keys(cx, n, "departures", dep_fields) != BX_OK ||
        bx_scn__require(cx, n, "per_day", "departures", &m) != BX_OK ||
        bx_scn__as_range(cx, m, "per_day", 0, 100000, true, &p->departures_per_day) != BX_OK)
        return BX_ESCHEMA;
    double h;
    if ((m = bx_scn__get(cx, n, "first_hour"))) {
        if (bx_scn__as_range(cx, m, "first_hour", 0, 24, false, &h) != BX_OK)
            return BX_ESCHEMA;
        p->first_s = h * 3600;
    }
    if ((m = bx_scn__get(cx, n, "last_hour"))) {
        if (bx_scn__as_range(cx, m, "last_hour", 0, 24, false, &h) != BX_OK)
            return BX_ESCHEMA;
        p->last_s = h * 3600;
    }
    if (p->last_s <= p->first_s)
        return FAIL_AT(cx, n, "last_hour must be after first_hour");
    if (bx_scn__opt_range(cx, map, "passengers", 1, 100000, false, &p->passengers_mean))
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "boarding"))) {
        double o = p->open_s / 60, pk = p->peak_s / 60, c = p->close_s / 60;
        if (bx_scn__check_keys(cx, n, "boarding", board_fields) != BX_OK ||
            bx_scn__opt_range(cx, n, "open_min", 0, 24 * 60, true, &o) ||
            bx_scn__opt_range(cx, n, "peak_min", 0, 24 * 60, false, &pk) ||
            bx_scn__opt_range(cx, n, "close_min", 0, 24 * 60, false, &c))
            return BX_ESCHEMA;
        if (!(o > c && pk <= o && pk >= c))
            return FAIL_AT(cx, n,
                           "boarding needs open_min >= peak_min >= close_min and "
                           "open_min > close_min (minutes before departure)");
        p->open_s = o * 60;
        p->peak_s = pk * 60;
        p->close_s = c * 60;
    }
    if (bx_scn__opt_uint(cx, map, "gates", 1, 10000, &p->gates) ||
        bx_scn__opt_uint(cx, map, "cameras_per_gate", 1, 1000, &p->cameras_per_gate))
        return BX_ESCHEMA;
    /* Cameras arriving at the gates (each gate gets `count` from that time on). */
    if ((n = bx_scn__get(cx, map, "camera_rollout")) &&
        load_rollout(cx, n, "camera_rollout", p->cameras_per_gate, 1, start_node, start_days,
                     &p->camera_schedule, &p->n_camera_schedule) != BX_OK)
        return BX_ESCHEMA;
    return load_common(cx, map, p);
}

/* Fields every port type has: officers, secondary, device, population. */
static enum bx_status load_common(struct ctx *cx, yaml_node_t *map, struct bx_port_config *p)
{
    static const char *const sec_fields[] = {"booths", "service", "shifts", NULL};
    yaml_node_t *n, *m;
    if ((n = bx_scn__get(cx, map, "officer_shifts")) &&
        load_shifts(cx, n, "officer_shifts", "officer", &p->officer_shifts, &p->n_officer_shifts) !=
            BX_OK)
        return BX_ESCHEMA;
    if (bx_scn__opt_uint(cx, map, "officers", 1, 100000, &p->officers) ||
        bx_scn__opt_range(cx, map, "match_time_s", 0, 600, false, &p->match_time_s) ||
        bx_scn__opt_range(cx, map, "officer_catch", 0, 1, false, &p->officer_catch) ||
        bx_scn__opt_range(cx, map, "impostor_similarity", 0, 0.99, true, &p->impostor_similarity))
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "device"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "device") != BX_OK)
            return BX_ESCHEMA;
        if (!bx_device_parse(bx_scn__scalar(n), &p->device) || p->device == BX_DEVICE_DOCUMENT)
            return FAIL_AT(cx, n,
                           "device must be egate, gate_camera, mobile, vehicle or kiosk, "
                           "got '%s'",
                           bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, map, "capture")) &&
        bx_scn__load_capture(cx, n, p->device, &p->capture) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "unphotographed"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "unphotographed") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(n), "board") == 0)
            p->unphotographed_board = true;
        else if (strcmp(bx_scn__scalar(n), "manual") == 0)
            p->unphotographed_board = false;
        else
            return FAIL_AT(cx, n, "unphotographed must be manual or board, got '%s'",
                           bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, map, "manual_service"))) {
        bx_dist_fini(&p->manual_service);
        if (bx_scn__load_dist(cx, n, "manual_service", &p->manual_service) != BX_OK)
            return BX_ESCHEMA;
    }
    if ((n = bx_scn__get(cx, map, "secondary"))) {
        if (bx_scn__check_keys(cx, n, "secondary", sec_fields) != BX_OK ||
            bx_scn__opt_uint(cx, n, "booths", 1, 10000, &p->secondary_booths))
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "shifts")) &&
            load_shifts(cx, m, "secondary.shifts", "secondary booth", &p->secondary_shifts,
                        &p->n_secondary_shifts) != BX_OK)
            return BX_ESCHEMA;
        if ((m = bx_scn__get(cx, n, "service"))) {
            bx_dist_fini(&p->secondary_service);
            if (bx_scn__load_dist(cx, m, "secondary service", &p->secondary_service) != BX_OK)
                return BX_ESCHEMA;
        }
    }
    if ((n = bx_scn__get(cx, map, "population")) &&
        load_population(cx, n, &p->pop, &p->capture) != BX_OK)
        return BX_ESCHEMA;
    return BX_OK;
}

/* `equipment`: device -> {mtbf_hours, mttr_hours, repair}; a device listed with no figures
 * takes the documented defaults (bx_failure_defaults). Repairs are exponential with mean
 * mttr_hours unless `repair` gives a distribution (seconds, like every distribution). */
static enum bx_status load_equipment(struct ctx *cx, yaml_node_t *map, struct bx_ports_config *c)
{
    static const char *const fields[] = {"mtbf_hours", "mttr_hours", "failure", "repair", NULL};
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, "equipment") != BX_OK)
        return BX_ESCHEMA;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        yaml_node_t *k = bx_scn__node_at(cx, p->key), *v = bx_scn__node_at(cx, p->value), *r;
        enum bx_device d;
        if (k->type != YAML_SCALAR_NODE || !bx_device_parse(bx_scn__scalar(k), &d) ||
            d == BX_DEVICE_DOCUMENT)
            return FAIL_AT(cx, k,
                           "unknown equipment '%s' (known: egate, gate_camera, mobile, vehicle, "
                           "kiosk)",
                           k->type == YAML_SCALAR_NODE ? bx_scn__scalar(k) : "?");
        struct bx_failure_config *f = &c->failures[d];
        if (f->on)
            return FAIL_AT(cx, k, "equipment '%s' is listed twice", bx_scn__scalar(k));
        double mtbf_h, mttr_h;
        bx_failure_defaults(d, &mtbf_h, &mttr_h);
        if (v->type == YAML_SCALAR_NODE && bx_scn__scalar(v)[0] == '\0') {
            /* `gate_camera:` with nothing after it: the defaults */
        } else if (bx_scn__check_keys(cx, v, "equipment", fields) != BX_OK ||
                   bx_scn__opt_range(cx, v, "mtbf_hours", 0, 1e6, true, &mtbf_h) ||
                   bx_scn__opt_range(cx, v, "mttr_hours", 0, 1e5, true, &mttr_h)) {
            return BX_ESCHEMA;
        }
        f->on = true;
        f->mtbf_s = mtbf_h * 3600;
        struct bx_error derr = {0};
        if (v->type == YAML_MAPPING_NODE && (r = bx_scn__get(cx, v, "failure"))) {
            if (bx_scn__get(cx, v, "mtbf_hours"))
                return FAIL_AT(cx, r, "give either mtbf_hours or failure, not both");
            if (bx_scn__load_dist(cx, r, "failure", &f->up) != BX_OK)
                return BX_ESCHEMA;
            f->mtbf_s = bx_dist_mean(&f->up);
            if (!(f->mtbf_s > 0))
                return FAIL_AT(cx, r, "the time to failure must have a mean > 0");
        }
        if (v->type == YAML_MAPPING_NODE && (r = bx_scn__get(cx, v, "repair"))) {
            if (bx_scn__get(cx, v, "mttr_hours"))
                return FAIL_AT(cx, r, "give either mttr_hours or repair, not both");
            if (bx_scn__load_dist(cx, r, "repair", &f->repair) != BX_OK)
                return BX_ESCHEMA;
        } else if (bx_dist_exponential(&f->repair, mttr_h * 3600, &derr) != BX_OK) {
            return FAIL_AT(cx, v, "%s", derr.msg);
        }
    }
    return BX_OK;
}

/* `tvs`: the shared matching service (struct bx_tvs_config). Defaults (assumptions,
 * docs/scenarios.md): 8 workers, 0.25 s exponential service, round trips of 0.3 s (air, sea,
 * private aircraft) and 0.6 s (land), fallback manual, hold 60 s. */
/* One bound of an outage window: `<prefix>_hours` (hours from the start) or `<prefix>_date`
 * (YYYY-MM-DD, midnight; needs the scenario's start_date), exactly one of them. */
static enum bx_status window_bound(struct ctx *cx, yaml_node_t *w, const char *prefix,
                                   yaml_node_t *start_node, long start_days, double *hours,
                                   yaml_node_t **at)
{
    char hk[32], dk[32];
    snprintf(hk, sizeof hk, "%s_hours", prefix);
    snprintf(dk, sizeof dk, "%s_date", prefix);
    yaml_node_t *h = bx_scn__get(cx, w, hk), *d = bx_scn__get(cx, w, dk);
    if (!h == !d)
        return FAIL_AT(cx, w, "an outage needs exactly one of %s, %s", hk, dk);
    *at = h ? h : d;
    return h ? bx_scn__as_range(cx, h, hk, 0, 1e6, false, hours)
             : date_hours(cx, d, dk, start_node, start_days, false, hours);
}

static enum bx_status load_tvs(struct ctx *cx, yaml_node_t *map, struct bx_ports_config *c,
                               yaml_node_t *start_node, long start_days)
{
    static const char *const fields[] = {"workers",        "service",  "latency",        "outages",
                                         "random_outages", "fallback", "hold_timeout_s", NULL};
    static const char *const lat_fields[] = {"air", "sea", "private", "land", NULL};
    static const char *const win_fields[] = {"from_hours", "to_hours", "from_date", "to_date",
                                             NULL};
    static const char *const rnd_fields[] = {"mtbf_hours", "mttr_hours", NULL};
    struct bx_tvs_config *v = &c->tvs;
    struct bx_error derr = {0};
    yaml_node_t *n, *m;
    if (bx_scn__expect(cx, map, YAML_MAPPING_NODE, "tvs") != BX_OK ||
        bx_scn__check_keys(cx, map, "tvs", fields) != BX_OK)
        return BX_ESCHEMA;
    v->on = true;
    v->workers = 8;
    v->hold_timeout_s = 60;
    if (bx_scn__opt_uint(cx, map, "workers", 1, 100000, &v->workers) ||
        bx_scn__opt_range(cx, map, "hold_timeout_s", 0, 86400, true, &v->hold_timeout_s))
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, map, "service"))) {
        if (bx_scn__load_dist(cx, n, "tvs.service", &v->service) != BX_OK)
            return BX_ESCHEMA;
    } else if (bx_dist_exponential(&v->service, 0.25, &derr) != BX_OK) {
        return BX_FAIL(cx->err, BX_ENOMEM, "%s", derr.msg);
    }
    n = bx_scn__get(cx, map, "latency");
    if (n && bx_scn__check_keys(cx, n, "tvs.latency", lat_fields) != BX_OK)
        return BX_ESCHEMA;
    static const double round_trip[BX_N_PORT_TYPES] = {0.3, 0.3, 0.3, 0.6};
    for (int t = 0; t < BX_N_PORT_TYPES; ++t) {
        if (n && (m = bx_scn__get(cx, n, bx_port_type_name((enum bx_port_type)t)))) {
            if (bx_scn__load_dist(cx, m, "tvs.latency", &v->latency[t]) != BX_OK)
                return BX_ESCHEMA;
        } else if (bx_dist_deterministic(&v->latency[t], round_trip[t], &derr) != BX_OK) {
            return BX_FAIL(cx->err, BX_ENOMEM, "%s", derr.msg);
        }
    }
    if ((n = bx_scn__get(cx, map, "fallback"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "fallback") != BX_OK)
            return BX_ESCHEMA;
        if (strcmp(bx_scn__scalar(n), "hold") == 0)
            v->fallback_hold = true;
        else if (strcmp(bx_scn__scalar(n), "manual") != 0)
            return FAIL_AT(cx, n, "tvs.fallback must be manual or hold, got '%s'",
                           bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, map, "random_outages"))) {
        double mtbf = 0, mttr = 0;
        if (bx_scn__check_keys(cx, n, "tvs.random_outages", rnd_fields) != BX_OK ||
            bx_scn__require(cx, n, "mtbf_hours", "tvs.random_outages", &m) != BX_OK ||
            bx_scn__as_range(cx, m, "mtbf_hours", 0, 1e6, true, &mtbf) != BX_OK ||
            bx_scn__require(cx, n, "mttr_hours", "tvs.random_outages", &m) != BX_OK ||
            bx_scn__as_range(cx, m, "mttr_hours", 0, 1e5, true, &mttr) != BX_OK)
            return BX_ESCHEMA;
        v->outage_mtbf_s = mtbf * 3600;
        v->outage_mttr_s = mttr * 3600;
    }
    if ((n = bx_scn__get(cx, map, "outages"))) {
        if (bx_scn__expect(cx, n, YAML_SEQUENCE_NODE, "tvs.outages") != BX_OK)
            return BX_ESCHEMA;
        size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        v->outages = calloc(k ? k : 1, sizeof *v->outages);
        if (v->outages == NULL)
            return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
        for (size_t j = 0; j < k; ++j) {
            yaml_node_t *w = bx_scn__node_at(cx, n->data.sequence.items.start[j]), *a, *b;
            double from, to;
            if (bx_scn__check_keys(cx, w, "an outage", win_fields) != BX_OK ||
                window_bound(cx, w, "from", start_node, start_days, &from, &a) != BX_OK ||
                window_bound(cx, w, "to", start_node, start_days, &to, &b) != BX_OK)
                return BX_ESCHEMA;
            if (!(to > from))
                return FAIL_AT(cx, b, "an outage must end after it starts (%g h <= %g h)", to,
                               from);
            if (j > 0 && from < v->outages[j - 1].to_s / 3600)
                return FAIL_AT(cx, a,
                               "outages must be in time order and disjoint (%g h starts before "
                               "the previous one ends)",
                               from);
            if (from * 3600 >= c->horizon_s)
                return FAIL_AT(cx, a, "this outage starts at %g h, past the horizon (%g h)", from,
                               c->horizon_s / 3600);
            v->outages[j] = (struct bx_tvs_window){from * 3600, to * 3600};
            v->n_outages = j + 1;
        }
    }
    return BX_OK;
}

enum bx_status bx_scn__load_ports(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn)
{
    static const char *const thr_fields[] = {"one_to_n_fpir", "verify_fmr", "watchlist_fpir", NULL};
    struct bx_ports_config *c = &scn->ports;
    yaml_node_t *n;
    c->one_to_n_fpir = 0.003; /* NIST IR 8381's operating point for flight galleries */
    c->verify_fmr = 1e-5;
    c->watchlist_fpir = 0.001;
    c->watchlist_size = 1000;
    c->calibration_subjects = 1500;
    snprintf(scn->profile_name, sizeof scn->profile_name, "visa-best");
    if ((n = bx_scn__get(cx, root, "profile"))) {
        if (bx_scn__expect(cx, n, YAML_SCALAR_NODE, "profile") != BX_OK)
            return BX_ESCHEMA;
        snprintf(scn->profile_name, sizeof scn->profile_name, "%s", bx_scn__scalar(n));
    }
    if ((n = bx_scn__get(cx, root, "thresholds"))) {
        if (bx_scn__check_keys(cx, n, "thresholds", thr_fields) != BX_OK ||
            bx_scn__opt_range(cx, n, "one_to_n_fpir", 0, 0.5, true, &c->one_to_n_fpir) ||
            bx_scn__opt_range(cx, n, "verify_fmr", 0, 0.5, true, &c->verify_fmr) ||
            bx_scn__opt_range(cx, n, "watchlist_fpir", 0, 0.5, true, &c->watchlist_fpir))
            return BX_ESCHEMA;
    }
    /* How citizens' photos are deleted: each one at capture + purge_after_hours (every 0), or by
     * a job every purge_every_minutes deleting those due. The 12-hour rule is checked against
     * what happens, whatever is set here. */
    static const char *const ret_fields[] = {"purge_after_hours", "purge_every_minutes", NULL};
    c->purge_after_s = 12 * 3600.0;
    if ((n = bx_scn__get(cx, root, "retention"))) {
        double after_h = 12, every_min = 0;
        if (bx_scn__check_keys(cx, n, "retention", ret_fields) != BX_OK ||
            bx_scn__opt_range(cx, n, "purge_after_hours", 0, 24 * 366, false, &after_h) ||
            bx_scn__opt_range(cx, n, "purge_every_minutes", 0, 60 * 24 * 31, false, &every_min))
            return BX_ESCHEMA;
        c->purge_after_s = after_h * 3600;
        c->purge_every_s = every_min * 60;
    }
    if ((n = bx_scn__get(cx, root, "equipment")) && load_equipment(cx, n, c) != BX_OK)
        return BX_ESCHEMA;
    yaml_node_t *start_node = bx_scn__get(cx, root, "start_date");
    long start_day = 0;
    if (start_node && bx_scn__as_date(cx, start_node, "start_date", &start_day) != BX_OK)
        return BX_ESCHEMA;
    if ((n = bx_scn__get(cx, root, "tvs")) && load_tvs(cx, n, c, start_node, start_day) != BX_OK)
        return BX_ESCHEMA;
    unsigned w = (unsigned)c->watchlist_size, cal = (unsigned)c->calibration_subjects;
    if (bx_scn__opt_uint(cx, root, "watchlist_size", 1, 10000000, &w) ||
        bx_scn__opt_uint(cx, root, "calibration_subjects", 200, 20000, &cal))
        return BX_ESCHEMA;
    c->watchlist_size = w;
    c->calibration_subjects = cal;
    yaml_node_t *start = bx_scn__get(cx, root, "start_date");
    long start_days = 0;
    if (start && bx_scn__as_date(cx, start, "start_date", &start_days) != BX_OK)
        return BX_ESCHEMA;
    c->dated = start != NULL;
    c->start_day = start_days;
    yaml_node_t *ports;
    if (bx_scn__require(cx, root, "ports", "the scenario", &ports) != BX_OK ||
        bx_scn__expect(cx, ports, YAML_SEQUENCE_NODE, "ports") != BX_OK)
        return BX_ESCHEMA;
    size_t np = (size_t)(ports->data.sequence.items.top - ports->data.sequence.items.start);
    if (np == 0)
        return FAIL_AT(cx, ports, "ports needs at least one port");
    c->ports = calloc(np, sizeof *c->ports);
    if (c->ports == NULL)
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    for (size_t i = 0; i < np; ++i) {
        yaml_node_t *item = bx_scn__node_at(cx, ports->data.sequence.items.start[i]);
        c->n_ports = i + 1;
        if (load_port(cx, item, &c->ports[i], start, start_days) != BX_OK)
            return BX_ESCHEMA;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(c->ports[j].name, c->ports[i].name) == 0)
                return FAIL_AT(cx, bx_scn__get(cx, item, "name"), "a second port is named '%s'",
                               c->ports[i].name);
    }
    c->profile = bx_tplgen_params_default(512); /* replaced by the caller's profile */
    struct bx_error cerr = {0};
    if (bx_ports_config_check(c, &cerr) != BX_OK)
        return FAIL_AT(cx, ports, "%s", cerr.msg);
    return BX_OK;
}
