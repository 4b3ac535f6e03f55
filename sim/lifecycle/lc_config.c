/* SPDX-License-Identifier: MIT */
/* lc_config.c - a lifecycle scenario's defaults, its checks, the names of its modes, counts and
 * causes, and a result's storage and packing for MPI. The defaults and their sources are in
 * docs/lifecycle.md. */
#define _POSIX_C_SOURCE 200809L
#include "lc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[BX_LC_N_MODES] = {"air", "sea", "land_vehicle",
                                                      "land_pedestrian"};

const char *bx_lc_mode_name(enum bx_lc_mode m)
{
    return (unsigned)m < BX_LC_N_MODES ? mode_names[m] : "?";
}

bool bx_lc_mode_parse(const char *name, enum bx_lc_mode *out)
{
    for (int m = 0; m < BX_LC_N_MODES; ++m)
        if (strcmp(name, mode_names[m]) == 0) {
            *out = (enum bx_lc_mode)m;
            return true;
        }
    return false;
}

const char *bx_lc_cause_name(enum bx_lc_cause c)
{
    static const char *const names[BX_LC_N_CAUSES] = {
        "not_photographed", "fta", "not_staged", "false_non_match", "wrong_link", "no_record"};
    return (unsigned)c < BX_LC_N_CAUSES ? names[c] : "?";
}

const char *bx_lc_count_name(enum bx_lc_count c)
{
    static const char *const names[BX_LC_CAUSE0] = {"expected",
                                                    "departed_on_time",
                                                    "out_of_country",
                                                    "suspected_in_country",
                                                    "in_country_true",
                                                    "in_country_false",
                                                    "out_of_country_true",
                                                    "out_of_country_false",
                                                    "true_overstays",
                                                    "true_in_country",
                                                    "missed",
                                                    "resolved_by_reentry"};
    if ((unsigned)c < BX_LC_CAUSE0)
        return names[c];
    return c < BX_LC_N_COUNTS ? bx_lc_cause_name((enum bx_lc_cause)(c - BX_LC_CAUSE0)) : "?";
}

const char *bx_lc_flow_name(enum bx_lc_flow f)
{
    static const char *const names[BX_LC_N_FLOWS] = {"entries",
                                                     "entry_attempts",
                                                     "entry_photographed",
                                                     "enrolled",
                                                     "verify_rejects",
                                                     "impostors",
                                                     "impostors_caught",
                                                     "watchlisted",
                                                     "watchlist_caught",
                                                     "prior_removals",
                                                     "removals_caught",
                                                     "false_alerts",
                                                     "exits",
                                                     "exit_photographed",
                                                     "exit_acquired",
                                                     "linked_right",
                                                     "linked_wrong",
                                                     "not_linked",
                                                     "biographic",
                                                     "departures_recorded"};
    return (unsigned)f < BX_LC_N_FLOWS ? names[f] : "?";
}

/* ---------------------------------------------------------------- defaults */

void bx_lc_config_default(struct bx_lc_config *c)
{
    memset(c, 0, sizeof *c);
    c->horizon_days = 365;
    c->report_from = 0;
    c->report_to = 365;
    c->sample = 1;
    for (int i = 0; i < 7; ++i)
        c->weekly[i] = 1;
    for (int i = 0; i < 12; ++i)
        c->monthly[i] = 1;
    c->population = bx_pop_config_default();
    struct bx_capture_config cap = bx_capture_config_default();
    /* Air and sea: a camera at primary on entry, at the gate on exit, the manifest as the
     * biographic record and the gallery (docs/lifecycle.md). */
    static const struct {
        enum bx_device entry, exit;
        double entry_ph, exit_ph, biographic;
        uint32_t gallery;
        double staged;
        bool doc;
    } d[BX_LC_N_MODES] = {
        [BX_LC_AIR] = {BX_DEVICE_KIOSK, BX_DEVICE_GATE_CAMERA, 0.99, 0.82, 1.0, 180, 1.0, true},
        [BX_LC_SEA] = {BX_DEVICE_KIOSK, BX_DEVICE_GATE_CAMERA, 0.99, 0.90, 1.0, 3000, 1.0, true},
        [BX_LC_VEHICLE] = {BX_DEVICE_VEHICLE, BX_DEVICE_VEHICLE, 0.90, 0.70, 0.0, 20000, 0.7,
                           false},
        [BX_LC_PEDESTRIAN] = {BX_DEVICE_MOBILE, BX_DEVICE_MOBILE, 0.97, 0.90, 0.0, 20000, 0.7,
                              false},
    };
    for (int m = 0; m < BX_LC_N_MODES; ++m)
        c->modes[m] = (struct bx_lc_mode_config){.entry_device = d[m].entry,
                                                 .exit_device = d[m].exit,
                                                 .entry_photographed = d[m].entry_ph,
                                                 .exit_photographed = d[m].exit_ph,
                                                 .capture = cap,
                                                 .biographic = d[m].biographic,
                                                 .gallery_size = d[m].gallery,
                                                 .staged_rate = d[m].staged,
                                                 .stage_document = d[m].doc};
    c->bims = (struct bx_lc_bims){.retention_years = 75,
                                  .bytes_per_record = 0,
                                  .projection_years = 100,
                                  .measure_sizes = {10000, 100000},
                                  .n_measure = 2,
                                  .measure_probes = 1000};
    snprintf(c->profile_name, sizeof c->profile_name, "visa-best");
    c->profile = bx_tplgen_params_default(512);
    c->verify_fmr = 1e-5;
    c->exit_fpir = 0.003;
    c->watchlist_fpir = 0.001;
    c->watchlist_size = 1000;
    c->removal_size = 5000;
    c->calibration_subjects = 1500;
}

void bx_lc_config_fini(struct bx_lc_config *c)
{
    if (c == NULL)
        return;
    for (size_t k = 0; k < c->n_classes; ++k) {
        struct bx_lc_class *cl = &c->classes[k];
        bx_dist_fini(&cl->authorised);
        bx_dist_fini(&cl->trip);
        bx_dist_fini(&cl->overstay);
        bx_dist_fini(&cl->repeat_gap);
    }
    free(c->classes);
    c->classes = NULL;
    c->n_classes = 0;
}

static bool prob(double p)
{
    return p >= 0 && p <= 1;
}

enum bx_status bx_lc_config_check(const struct bx_lc_config *c, struct bx_error *err)
{
    if (!(c->horizon_days >= 1 && c->horizon_days <= 366 * 20))
        return BX_FAIL(err, BX_EINVAL, "horizon days must lie in [1, 7320], got %g",
                       c->horizon_days);
    if (!(c->warmup_days >= 0 && c->warmup_days <= 366 * 5))
        return BX_FAIL(err, BX_EINVAL, "warmup_days must lie in [0, 1830], got %g", c->warmup_days);
    if (!(c->sample > 0 && c->sample <= 1))
        return BX_FAIL(err, BX_EINVAL, "sample must lie in (0, 1], got %g", c->sample);
    if (!(c->report_from >= -c->warmup_days && c->report_from < c->report_to &&
          c->report_to <= c->horizon_days))
        return BX_FAIL(err, BX_EINVAL, "the report window [%g, %g) must lie within the horizon",
                       c->report_from, c->report_to);
    if (c->n_classes == 0 || c->n_classes > BX_LC_MAX_CLASSES)
        return BX_FAIL(err, BX_EINVAL, "a lifecycle scenario needs 1..%d classes, got %zu",
                       BX_LC_MAX_CLASSES, c->n_classes);
    for (int i = 0; i < 7; ++i)
        if (!(c->weekly[i] >= 0 && c->weekly[i] <= 100))
            return BX_FAIL(err, BX_EINVAL, "weekly factors must lie in [0, 100]");
    for (int i = 0; i < 12; ++i)
        if (!(c->monthly[i] >= 0 && c->monthly[i] <= 100))
            return BX_FAIL(err, BX_EINVAL, "monthly factors must lie in [0, 100]");
    for (size_t k = 0; k < c->n_classes; ++k) {
        const struct bx_lc_class *cl = &c->classes[k];
        double total = 0;
        for (int m = 0; m < BX_LC_N_MODES; ++m) {
            if (!(cl->arrivals_per_day[m] >= 0 && cl->arrivals_per_day[m] <= 1e8))
                return BX_FAIL(err, BX_EINVAL, "class %s: arrivals per day must lie in [0, 1e8]",
                               cl->name);
            total += cl->arrivals_per_day[m];
            double row = 0;
            for (int x = 0; x < BX_LC_N_MODES; ++x) {
                if (!prob(cl->exit_mode[m][x]))
                    return BX_FAIL(err, BX_EINVAL, "class %s: exit shares must lie in [0, 1]",
                                   cl->name);
                row += cl->exit_mode[m][x];
            }
            if (row > 0 && fabs(row - 1) > 1e-6)
                return BX_FAIL(err, BX_EINVAL, "class %s: exit shares from %s sum to %g, not 1",
                               cl->name, bx_lc_mode_name((enum bx_lc_mode)m), row);
        }
        if (!(total > 0))
            return BX_FAIL(err, BX_EINVAL, "class %s has no arrivals", cl->name);
        for (int m = 0; m < BX_LC_N_MODES; ++m)
            if (!isnan(cl->biographic[m]) && !prob(cl->biographic[m]))
                return BX_FAIL(err, BX_EINVAL, "class %s: biographic shares must lie in [0, 1]",
                               cl->name);
        if (!prob(cl->overstay_rate) || !prob(cl->never_leave_rate) ||
            !(cl->overstay_rate + cl->never_leave_rate <= 1 + 1e-12) || !prob(cl->repeat_rate) ||
            !prob(cl->impostor_rate) || !prob(cl->watchlist_rate) || !prob(cl->removal_rate) ||
            !(cl->impostor_rate + cl->watchlist_rate + cl->removal_rate <= 1))
            return BX_FAIL(err, BX_EINVAL,
                           "class %s: rates must lie in [0, 1] (overstay + never_leave and "
                           "impostor + watchlist + removal at most 1)",
                           cl->name);
        const struct bx_dist *ds[4] = {&cl->authorised, &cl->trip, &cl->overstay, &cl->repeat_gap};
        for (int i = 0; i < 4; ++i)
            if (!(bx_dist_min(ds[i]) >= 0))
                return BX_FAIL(err, BX_EINVAL, "class %s: durations cannot be negative", cl->name);
        if (cl->citizenship == BX_CIT_US && cl->admitted_until)
            return BX_FAIL(err, BX_EINVAL, "class %s: U.S. citizens have no admit-until date",
                           cl->name);
    }
    for (int m = 0; m < BX_LC_N_MODES; ++m) {
        const struct bx_lc_mode_config *md = &c->modes[m];
        if (!prob(md->entry_photographed) || !prob(md->exit_photographed) ||
            !prob(md->biographic) || !prob(md->staged_rate))
            return BX_FAIL(err, BX_EINVAL, "mode %s: shares must lie in [0, 1]",
                           bx_lc_mode_name((enum bx_lc_mode)m));
        if (md->gallery_size < 1 || md->gallery_size > BX_LC_GALLERY_MAX)
            return BX_FAIL(err, BX_EINVAL, "mode %s: gallery_size must lie in [1, %d]",
                           bx_lc_mode_name((enum bx_lc_mode)m), BX_LC_GALLERY_MAX);
        enum bx_status st = bx_capture_config_check(&md->capture, err);
        if (st != BX_OK)
            return st;
    }
    if (!(c->bims.retention_years > 0 && c->bims.retention_years <= 200) ||
        !(c->bims.bytes_per_record >= 0) || c->bims.projection_years < 1 ||
        c->bims.projection_years > 500 || c->bims.measure_probes < 1)
        return BX_FAIL(err, BX_EINVAL, "bims settings out of range");
    if (!(c->verify_fmr > 0 && c->verify_fmr <= 0.5 && c->exit_fpir > 0 && c->exit_fpir <= 0.5 &&
          c->watchlist_fpir > 0 && c->watchlist_fpir <= 0.5))
        return BX_FAIL(err, BX_EINVAL, "thresholds' targets must lie in (0, 0.5]");
    if (c->watchlist_size < 1 || c->removal_size < 1)
        return BX_FAIL(err, BX_EINVAL, "watchlist_size and removal_size must be at least 1");
    return bx_pop_config_check(&c->population, err);
}

/* ---------------------------------------------------------------- results */

enum bx_status bx_lc_result_init(struct bx_lc_result *r, size_t n_classes, struct bx_error *err)
{
    memset(r, 0, sizeof *r);
    r->n_classes = n_classes;
    r->counts = calloc(n_classes * BX_LC_N_MODES * BX_LC_N_COUNTS + 1, sizeof *r->counts);
    if (r->counts == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    return BX_OK;
}

void bx_lc_result_fini(struct bx_lc_result *r)
{
    if (r == NULL)
        return;
    free(r->counts);
    free(r->records);
    memset(r, 0, sizeof *r);
}

uint64_t bx_lc_count(const struct bx_lc_result *r, size_t k, enum bx_lc_mode m, enum bx_lc_count c)
{
    return r->counts[bx_lc__at(k, m, c)];
}

uint64_t bx_lc_count_sum(const struct bx_lc_result *r, size_t k, int m, enum bx_lc_count c)
{
    uint64_t s = 0;
    for (size_t kk = 0; kk < r->n_classes; ++kk)
        for (int mm = 0; mm < BX_LC_N_MODES; ++mm)
            if ((k == SIZE_MAX || kk == k) && (m == BX_LC_N_MODES || mm == m))
                s += bx_lc_count(r, kk, (enum bx_lc_mode)mm, c);
    return s;
}

void bx_lc_result_pack(const struct bx_lc_result *r, struct bx_buf *b)
{
    bx_buf_put_u64(b, r->n_classes);
    bx_buf_put(b, r->counts, r->n_classes * BX_LC_N_MODES * BX_LC_N_COUNTS * sizeof *r->counts);
    bx_buf_put(b, r->flows, sizeof r->flows);
    bx_buf_put(b, r->delay_sum, sizeof r->delay_sum);
    bx_buf_put(b, r->delay_sq, sizeof r->delay_sq);
    bx_buf_put_f64(b, r->resolve_sum);
    bx_buf_put(b, &r->store, sizeof r->store);
    bx_buf_put_f64(b, r->enrolled_per_day);
    bx_buf_put(b, r->thresholds, sizeof r->thresholds);
    bx_buf_put_f64(b, r->wall_s);
    bx_buf_put_u64(b, r->n_records);
    bx_buf_put(b, r->records, r->n_records * sizeof *r->records);
}

enum bx_status bx_lc_result_unpack(struct bx_reader *rd, struct bx_lc_result *r,
                                   struct bx_error *err)
{
    size_t nk = (size_t)bx_reader_u64(rd);
    if (rd->failed || nk != r->n_classes)
        return BX_FAIL(err, BX_EINVAL, "lifecycle result: class count differs");
    bx_reader_get(rd, r->counts, nk * BX_LC_N_MODES * BX_LC_N_COUNTS * sizeof *r->counts);
    bx_reader_get(rd, r->flows, sizeof r->flows);
    bx_reader_get(rd, r->delay_sum, sizeof r->delay_sum);
    bx_reader_get(rd, r->delay_sq, sizeof r->delay_sq);
    r->resolve_sum = bx_reader_f64(rd);
    bx_reader_get(rd, &r->store, sizeof r->store);
    r->enrolled_per_day = bx_reader_f64(rd);
    bx_reader_get(rd, r->thresholds, sizeof r->thresholds);
    r->wall_s = bx_reader_f64(rd);
    size_t nr = (size_t)bx_reader_u64(rd);
    free(r->records);
    r->records = bx_reader_array(rd, nr, sizeof *r->records);
    r->n_records = r->records ? nr : 0;
    r->cap_records = r->n_records;
    if (rd->failed || (nr > 0 && r->records == NULL))
        return BX_FAIL(err, BX_EINVAL, "lifecycle result: truncated");
    return BX_OK;
}
