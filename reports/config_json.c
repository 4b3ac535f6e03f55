/* SPDX-License-Identifier: MIT */
/* config_json.c - the resolved configuration of a ports scenario as JSON: every field the run
 * used, defaults filled in, in the scenario language's units (hours, minutes where the YAML has
 * them), so that results.h5 says exactly what was simulated. */
#include "report_internal.h"

#include <math.h>

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *dist_json(const struct bx_dist *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "dist", json_string(bx_dist_name(d->kind)));
    json_object_set_new(o, "mean_s", num(bx_dist_mean(d)));
    json_object_set_new(o, "params", json_pack("[fff]", d->a, d->b, d->c));
    if (d->n_values) {
        json_t *v = json_array();
        for (size_t i = 0; i < d->n_values; ++i)
            json_array_append_new(v, json_real(d->values[i]));
        json_object_set_new(o, "values_s", v);
        json_object_set_new(o, "interpolate", json_boolean(d->interpolate));
    }
    return o;
}

static json_t *steps_json(const struct bx_capacity_step *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; ++i)
        json_array_append_new(
            a, json_pack("{sfsi}", "at_hours", s[i].t_s / 3600, "count", (int)s[i].servers));
    return a;
}

static json_t *doubles(const double *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; ++i)
        json_array_append_new(a, num(x[i]));
    return a;
}

static json_t *pop_json(const struct bx_pop_config *p)
{
    json_t *o = json_object(), *cit = json_object(), *reg = json_object(), *age = json_object();
    for (int c = 0; c < BX_N_CITIZENSHIPS; ++c) {
        json_object_set_new(cit, bx_citizenship_name((enum bx_citizenship)c),
                            json_real(p->citizenship[c]));
        json_t *r = json_object();
        for (int k = 0; k < BX_N_REGIONS; ++k)
            json_object_set_new(r, bx_region_name((enum bx_region)k), json_real(p->region[c][k]));
        json_object_set_new(reg, bx_citizenship_name((enum bx_citizenship)c), r);
    }
    for (int b = 0; b < BX_N_AGE_BANDS; ++b)
        json_object_set_new(age, bx_age_band_name((enum bx_age_band)b), json_real(p->age_band[b]));
    json_object_set_new(o, "citizenship", cit);
    json_object_set_new(o, "region_by_citizenship", reg);
    json_object_set_new(o, "age_band", age);
    json_object_set_new(o, "female", json_real(p->female));
    json_object_set_new(o, "party_size", doubles(p->party_size, BX_PARTY_MAX));
    json_object_set_new(o, "photo_age_max_years", json_real(p->photo_age_max_years));
    json_object_set_new(o, "stay_mean_days", json_real(p->stay_mean_days));
    json_object_set_new(o, "overstay_rate", json_real(p->overstay_rate));
    json_object_set_new(o, "impostor_rate", json_real(p->impostor_rate));
    json_object_set_new(o, "watchlist_rate", json_real(p->watchlist_rate));
    json_object_set_new(o, "removal_rate", json_real(p->removal_rate));
    json_object_set_new(o, "wheelchair_rate", json_real(p->wheelchair_rate));
    json_object_set_new(o, "with_children_rate", json_real(p->with_children_rate));
    return o;
}

static json_t *capture_json(const struct bx_capture_config *c)
{
    json_t *o = json_object();
    for (int d = 1; d < BX_N_DEVICES; ++d)
        json_object_set_new(o, bx_device_name((enum bx_device)d),
                            json_pack("{sfsfsf}", "time_mean_s", c->time_mean_s[d], "time_sd_s",
                                      c->time_sd_s[d], "fta", c->fta[d]));
    json_object_set_new(o, "max_attempts", json_integer((json_int_t)c->max_attempts));
    json_object_set_new(o, "exponential_time", json_boolean(c->exponential_time));
    json_object_set_new(o, "us_optout", json_real(c->us_optout));
    json_object_set_new(o, "difficulty_sd", json_real(c->difficulty_sd));
    json_object_set_new(o, "difficulty_quality", json_real(c->difficulty_quality));
    json_object_set_new(
        o, "exclusions",
        json_pack("{sfsf}", "wheelchair", c->exclude_wheelchair, "families", c->exclude_family));
    json_t *ex = json_array();
    for (unsigned b = 1; b <= BX_EXEMPT_ALL; b <<= 1)
        if (c->exempt & b)
            json_array_append_new(ex, json_string(bx_exempt_name(b)));
    json_object_set_new(o, "exempt", ex);
    return o;
}

static json_t *port_json(const struct bx_port_config *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "type", json_string(bx_port_type_name(p->type)));
    if (p->type == BX_PORT_LAND) {
        const struct bx_land_config *l = &p->land;
        json_object_set_new(o, "lanes",
                            json_pack("{sssiso}", "kind",
                                      l->lane_kind == BX_LANE_VEHICLE ? "vehicle" : "pedestrian",
                                      "count", (int)l->lanes, "rollout",
                                      steps_json(l->schedule, l->n_schedule)));
        json_object_set_new(o, "arrivals_per_hour", doubles(l->arrivals.rate_per_h, 24));
        json_object_set_new(o, "expected_gallery",
                            json_pack("{sIsf}", "size", (json_int_t)l->expected_gallery, "share",
                                      l->expected_share));
    } else {
        json_object_set_new(o, "departures",
                            json_pack("{sfsfsf}", "per_day", p->departures_per_day, "first_hour",
                                      p->first_s / 3600, "last_hour", p->last_s / 3600));
        json_object_set_new(o, "passengers", json_real(p->passengers_mean));
        json_object_set_new(o, "boarding",
                            json_pack("{sfsfsf}", "open_min", p->open_s / 60, "peak_min",
                                      p->peak_s / 60, "close_min", p->close_s / 60));
        json_object_set_new(o, "gates", json_integer((json_int_t)p->gates));
        json_object_set_new(o, "cameras_per_gate", json_integer((json_int_t)p->cameras_per_gate));
        if (p->n_camera_schedule)
            json_object_set_new(o, "camera_rollout",
                                steps_json(p->camera_schedule, p->n_camera_schedule));
    }
    json_object_set_new(o, "device", json_string(bx_device_name(p->device)));
    json_object_set_new(o, "match_time_s", json_real(p->match_time_s));
    json_object_set_new(o, "officers", json_integer((json_int_t)p->officers));
    if (p->n_officer_shifts)
        json_object_set_new(o, "officer_shifts",
                            steps_json(p->officer_shifts, p->n_officer_shifts));
    json_object_set_new(o, "manual_service", dist_json(&p->manual_service));
    json_t *sec = json_pack("{siso}", "booths", (int)p->secondary_booths, "service",
                            dist_json(&p->secondary_service));
    if (p->n_secondary_shifts)
        json_object_set_new(sec, "shifts", steps_json(p->secondary_shifts, p->n_secondary_shifts));
    json_object_set_new(o, "secondary", sec);
    json_object_set_new(o, "officer_catch", json_real(p->officer_catch));
    json_object_set_new(o, "impostor_similarity", json_real(p->impostor_similarity));
    json_object_set_new(o, "population", pop_json(&p->pop));
    json_object_set_new(o, "capture", capture_json(&p->capture));
    json_object_set_new(o, "unphotographed",
                        json_string(p->unphotographed_board ? "board" : "manual"));
    return o;
}

json_t *bx_rpt__ports_config(const struct bx_ports_config *cfg)
{
    json_t *o = json_object(), *ports = json_array();
    json_object_set_new(o, "horizon_hours", json_real(cfg->horizon_s / 3600));
    if (cfg->dated) {
        char d[16];
        bx_rpt_date(cfg->start_day, d);
        json_object_set_new(o, "start_date", json_string(d));
    }
    json_object_set_new(o, "profile", json_string(cfg->profile_name));
    json_object_set_new(o, "thresholds",
                        json_pack("{sfsfsf}", "one_to_n_fpir", cfg->one_to_n_fpir, "verify_fmr",
                                  cfg->verify_fmr, "watchlist_fpir", cfg->watchlist_fpir));
    json_object_set_new(o, "watchlist_size", json_integer((json_int_t)cfg->watchlist_size));
    json_object_set_new(
        o, "retention",
        json_pack("{sfsf}", "purge_after_hours",
                  (cfg->purge_after_s > 0 ? cfg->purge_after_s : 12 * 3600.0) / 3600,
                  "purge_every_minutes", cfg->purge_every_s / 60));
    json_object_set_new(
        o, "calibration_subjects",
        json_integer((json_int_t)(cfg->calibration_subjects ? cfg->calibration_subjects : 1500)));
    json_object_set_new(o, "template_dim", json_integer((json_int_t)cfg->profile.dim));
    json_t *eq = json_object();
    for (int d = 1; d < BX_N_DEVICES; ++d)
        if (cfg->failures[d].on)
            json_object_set_new(
                eq, bx_device_name((enum bx_device)d),
                json_pack("{sfsoso}", "mtbf_hours", cfg->failures[d].mtbf_s / 3600, "failure",
                          bx_dist_mean(&cfg->failures[d].up) > 0 ? dist_json(&cfg->failures[d].up)
                                                                 : json_string("exponential"),
                          "repair", dist_json(&cfg->failures[d].repair)));
    json_object_set_new(o, "equipment", eq);
    if (cfg->tvs.on) {
        const struct bx_tvs_config *v = &cfg->tvs;
        json_t *lat = json_object(), *win = json_array();
        for (int t = 0; t < BX_N_PORT_TYPES; ++t)
            json_object_set_new(lat, bx_port_type_name((enum bx_port_type)t),
                                dist_json(&v->latency[t]));
        for (size_t k = 0; k < v->n_outages; ++k)
            json_array_append_new(win,
                                  json_pack("{sfsf}", "from_hours", v->outages[k].from_s / 3600,
                                            "to_hours", v->outages[k].to_s / 3600));
        json_object_set_new(o, "tvs",
                            json_pack("{sIsosososfsfsssf}", "workers", (json_int_t)v->workers,
                                      "service", dist_json(&v->service), "latency", lat, "outages",
                                      win, "random_outage_mtbf_hours", v->outage_mtbf_s / 3600,
                                      "random_outage_mttr_hours", v->outage_mttr_s / 3600,
                                      "fallback", v->fallback_hold ? "hold" : "manual",
                                      "hold_timeout_s", v->hold_timeout_s));
    }
    for (size_t i = 0; i < cfg->n_ports; ++i)
        json_array_append_new(ports, port_json(&cfg->ports[i]));
    json_object_set_new(o, "ports", ports);
    return o;
}
