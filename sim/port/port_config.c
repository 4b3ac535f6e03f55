/* SPDX-License-Identifier: MIT */
/* port_config.c - a port scenario's configuration: the defaults of each port type (one source,
 * used by the scenario loader and the tests), the checks a configuration must pass before a run,
 * and its release. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/port.h"

static const char *const type_names[] = {"air", "sea", "private", "land"};

const char *bx_port_type_name(enum bx_port_type t)
{
    return (unsigned)t < BX_N_PORT_TYPES ? type_names[t] : "?";
}

struct bx_port_config bx_port_config_default(enum bx_port_type type)
{
    struct bx_port_config p = {.type = type};
    switch (type) {
    case BX_PORT_AIR: /* a departure gate: 180 seats, boarding opens 45 min before */
        p.passengers_mean = 180;
        p.open_s = 2700;
        p.peak_s = 1800;
        p.close_s = 900;
        p.gates = 10;
        p.cameras_per_gate = 1;
        p.device = BX_DEVICE_GATE_CAMERA;
        break;
    case BX_PORT_SEA: /* a cruise terminal: 3,000 passengers in waves over 4 hours */
        p.passengers_mean = 3000;
        p.open_s = 4 * 3600;
        p.peak_s = 2.5 * 3600;
        p.close_s = 3600;
        p.gates = 1;
        p.cameras_per_gate = 6;
        p.device = BX_DEVICE_GATE_CAMERA;
        break;
    case BX_PORT_PRIVATE: /* an FBO: eAPIS manifests of a few travellers, a handheld unit */
        p.passengers_mean = 4;
        p.open_s = 1800;
        p.peak_s = 1200;
        p.close_s = 600;
        p.gates = 1;
        p.cameras_per_gate = 1;
        p.device = BX_DEVICE_MOBILE;
        break;
    case BX_PORT_LAND: /* vehicle lanes with windshield cameras */
    default:
        p.type = BX_PORT_LAND;
        p.device = BX_DEVICE_VEHICLE;
        p.land.lane_kind = BX_LANE_VEHICLE;
        break;
    }
    if (p.type != BX_PORT_LAND) {
        p.departures_per_day = 1;
        p.first_s = 6 * 3600;
        p.last_s = 22 * 3600;
    }
    /* What every type shares (docs/scenarios.md). */
    p.match_time_s = 1.0;
    p.officers = 2;
    p.secondary_booths = 1;
    p.officer_catch = 0.8;
    p.impostor_similarity = 0.3;
    p.pop = bx_pop_config_default();
    p.capture = bx_capture_config_default();
    struct bx_error derr = {0};
    bx_dist_from_moments(&p.manual_service, BX_DIST_LOGNORMAL, 60, 30, &derr);
    bx_dist_exponential(&p.secondary_service, 600, &derr);
    return p;
}

void bx_ports_config_fini(struct bx_ports_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        bx_dist_fini(&cfg->ports[i].manual_service);
        bx_dist_fini(&cfg->ports[i].secondary_service);
        free(cfg->ports[i].land.schedule);
        free(cfg->ports[i].officer_shifts);
        free(cfg->ports[i].secondary_shifts);
        free(cfg->ports[i].camera_schedule);
    }
    free(cfg->ports);
    for (int d = 0; d < BX_N_DEVICES; ++d)
        bx_dist_fini(&cfg->failures[d].repair);
    for (int d = 0; d < BX_N_DEVICES; ++d)
        bx_dist_fini(&cfg->failures[d].up);
    bx_dist_fini(&cfg->tvs.service);
    for (int t = 0; t < BX_N_PORT_TYPES; ++t)
        bx_dist_fini(&cfg->tvs.latency[t]);
    free(cfg->tvs.outages);
    memset(cfg, 0, sizeof *cfg);
}

enum bx_status bx_ports_config_check(const struct bx_ports_config *cfg, struct bx_error *err)
{
    if (cfg->n_ports == 0)
        return BX_FAIL(err, BX_EINVAL, "a ports scenario needs at least one port");
    if (!(cfg->horizon_s > 0))
        return BX_FAIL(err, BX_EINVAL, "horizon must be > 0");
    const struct bx_tvs_config *v = &cfg->tvs;
    if (v->on) {
        if (v->workers == 0)
            return BX_FAIL(err, BX_EINVAL, "tvs needs at least one worker");
        for (size_t k = 0; k < v->n_outages; ++k)
            if (!(v->outages[k].from_s < v->outages[k].to_s) ||
                (k > 0 && v->outages[k].from_s < v->outages[k - 1].to_s) ||
                v->outages[k].from_s >= cfg->horizon_s)
                return BX_FAIL(err, BX_EINVAL,
                               "tvs outage %zu: windows must be in time order, disjoint, each "
                               "ending after it starts and starting within the horizon",
                               k + 1);
        if ((v->outage_mtbf_s > 0) != (v->outage_mttr_s > 0) || v->outage_mtbf_s < 0 ||
            v->outage_mttr_s < 0)
            return BX_FAIL(err, BX_EINVAL, "tvs random outages need both mtbf and mttr > 0");
        if (v->fallback_hold && !(v->hold_timeout_s > 0))
            return BX_FAIL(err, BX_EINVAL, "tvs fallback hold needs hold_timeout_s > 0");
    }
    for (int d = 0; d < BX_N_DEVICES; ++d)
        if (cfg->failures[d].on &&
            !(cfg->failures[d].mtbf_s > 0 && isfinite(cfg->failures[d].mtbf_s)))
            return BX_FAIL(err, BX_EINVAL,
                           "equipment %s: the mean time between failures must be > 0",
                           bx_device_name((enum bx_device)d));
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        const struct bx_port_config *p = &cfg->ports[i];
        if (p->type == BX_PORT_LAND) {
            const struct bx_land_config *l = &p->land;
            double max = 0;
            for (int h = 0; h < 24; ++h) {
                if (!(l->arrivals.rate_per_h[h] >= 0))
                    return BX_FAIL(err, BX_EINVAL, "port '%s': arrival rates must be >= 0",
                                   p->name);
                max = fmax(max, l->arrivals.rate_per_h[h]);
            }
            if (!(max > 0))
                return BX_FAIL(err, BX_EINVAL, "port '%s': no arrivals in any hour", p->name);
            if (l->lanes == 0 && l->n_schedule == 0)
                return BX_FAIL(err, BX_EINVAL, "port '%s': no lanes and no rollout schedule",
                               p->name);
            if (l->expected_gallery == 0 || !(l->expected_share >= 0 && l->expected_share <= 1))
                return BX_FAIL(err, BX_EINVAL,
                               "port '%s': expected gallery must hold at least one traveller and "
                               "expected_share lie in [0, 1]",
                               p->name);
            if (p->officers == 0 || p->secondary_booths == 0 || !(p->officer_catch >= 0) ||
                !(p->impostor_similarity > 0 && p->impostor_similarity < 1))
                return BX_FAIL(err, BX_EINVAL, "port '%s': officers and booths >= 1", p->name);
            if (bx_pop_config_check(&p->pop, err) != BX_OK ||
                bx_capture_config_check(&p->capture, err) != BX_OK)
                return bx_err_code(err, BX_EINVAL);
            continue;
        }
        if (!(p->departures_per_day > 0 && p->first_s >= 0 && p->last_s > p->first_s &&
              p->last_s <= 86400))
            return BX_FAIL(err, BX_EINVAL,
                           "port '%s': departures need a rate > 0 and hours "
                           "0 <= first < last <= 24",
                           p->name);
        if (!(p->open_s > p->close_s && p->peak_s <= p->open_s && p->peak_s >= p->close_s &&
              p->close_s >= 0))
            return BX_FAIL(err, BX_EINVAL,
                           "port '%s': boarding needs open >= peak >= close >= 0 minutes "
                           "before departure, open > close",
                           p->name);
        for (size_t k = 0; k < p->n_camera_schedule; ++k)
            if (p->camera_schedule[k].servers == 0 ||
                (k > 0 && p->camera_schedule[k].t_s < p->camera_schedule[k - 1].t_s))
                return BX_FAIL(err, BX_EINVAL,
                               "port '%s': camera rollout steps need at least one camera per "
                               "gate, in time order",
                               p->name);
        if (p->gates == 0 || p->cameras_per_gate == 0 || p->officers == 0 ||
            p->secondary_booths == 0)
            return BX_FAIL(err, BX_EINVAL,
                           "port '%s': gates, cameras, officers and secondary "
                           "booths must be at least 1",
                           p->name);
        if (!(p->passengers_mean >= 1 && p->officer_catch >= 0 && p->officer_catch <= 1 &&
              p->match_time_s >= 0 && p->impostor_similarity > 0 && p->impostor_similarity < 1))
            return BX_FAIL(err, BX_EINVAL,
                           "port '%s': passengers >= 1, officer_catch in [0, 1], "
                           "impostor_similarity in (0, 1)",
                           p->name);
        if (bx_pop_config_check(&p->pop, err) != BX_OK ||
            bx_capture_config_check(&p->capture, err) != BX_OK)
            return bx_err_code(err, BX_EINVAL);
    }
    return BX_OK;
}
