/* SPDX-License-Identifier: MIT */
/* overstay.c - overstay.json of a lifecycle run (docs/lifecycle.md, "overstay.json"): the overstay
 * report as DHS's Entry/Exit Overstay Report counts it, each figure split by the ground truth,
 * the cause of every false suspected overstay, entry and exit processing, BIMS over the years
 * and the whole-store FPIR. The schema's keys are written here only (the page reads them back). */
#define _POSIX_C_SOURCE 200809L
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/report.h"

/* YYYY-MM-DD of days since 1970-01-01 (Hinnant's civil_from_days). */
void bx_rpt_date(long days, char out[16])
{
    if (days < -1000000 || days > 1000000) /* beyond 4707: no scenario reaches it */
        days = 0;
    long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100),
         mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(out, 16, "%04d-%02u-%02u", (int)(y + (m <= 2)) % 10000, (unsigned)m % 100u,
             (unsigned)d % 100u);
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *ci(double v, double lo, double hi)
{
    return json_pack("{soso}", "value", num(v), "ci95",
                     isfinite(lo) && isfinite(hi) ? json_pack("[ff]", lo, hi) : json_null());
}

/* A count over replications, at full scale: mean per replication / sample, with a Student-t
 * interval across replications (null with one). */
static json_t *scaled(const struct bx_rpt_lifecycle *lc, size_t k, int m, enum bx_lc_count c)
{
    size_t R = lc->n_reps;
    double *x = malloc((R ? R : 1) * sizeof *x), s = lc->cfg->sample;
    uint64_t sum = 0;
    for (size_t r = 0; r < R && x; ++r) {
        uint64_t v = bx_lc_count_sum(&lc->reps[r], k, m, c);
        sum += v;
        x[r] = (double)v / s;
    }
    struct bx_ci t = {.value = (double)sum / s / (double)(R ? R : 1), .lo = BX_NAN, .hi = BX_NAN};
    if (x && R > 1)
        t = bx_ci_student(x, R, 0.95);
    free(x);
    json_t *o = ci(t.value, t.lo, t.hi);
    json_object_set_new(o, "sampled", json_integer((json_int_t)sum));
    return o;
}

/* A share of two pooled counts with its Clopper-Pearson interval. */
static json_t *share(const struct bx_rpt_lifecycle *lc, size_t k, int m, enum bx_lc_count num_c,
                     enum bx_lc_count den_c)
{
    uint64_t a = 0, b = 0;
    for (size_t r = 0; r < lc->n_reps; ++r) {
        a += bx_lc_count_sum(&lc->reps[r], k, m, num_c);
        b += bx_lc_count_sum(&lc->reps[r], k, m, den_c);
    }
    if (b == 0)
        return ci(BX_NAN, BX_NAN, BX_NAN);
    struct bx_ci c = bx_ci_binomial(a, b, 0.95);
    return ci((double)a / (double)b, c.lo, c.hi);
}

/* The report's counts, causes and rates for class @p k (SIZE_MAX: all) and mode @p m
 * (BX_LC_N_MODES: all). */
static json_t *report_block(const struct bx_rpt_lifecycle *lc, size_t k, int m)
{
    json_t *o = json_object(), *counts = json_object(), *causes = json_object();
    for (int c = 0; c < BX_LC_CAUSE0; ++c)
        json_object_set_new(counts, bx_lc_count_name((enum bx_lc_count)c),
                            scaled(lc, k, m, (enum bx_lc_count)c));
    for (int c = 0; c < BX_LC_N_CAUSES; ++c)
        json_object_set_new(causes, bx_lc_cause_name((enum bx_lc_cause)c),
                            scaled(lc, k, m, (enum bx_lc_count)(BX_LC_CAUSE0 + c)));
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "false_in_country_by_cause", causes);
    json_object_set_new(o, "suspected_in_country_rate",
                        share(lc, k, m, BX_LC_IN_COUNTRY, BX_LC_EXPECTED));
    json_object_set_new(o, "true_in_country_rate",
                        share(lc, k, m, BX_LC_TRUE_IN_COUNTRY, BX_LC_EXPECTED));
    json_object_set_new(o, "out_of_country_rate",
                        share(lc, k, m, BX_LC_OUT_OF_COUNTRY, BX_LC_EXPECTED));
    json_object_set_new(o, "false_share_of_suspected",
                        share(lc, k, m, BX_LC_IN_COUNTRY_FALSE, BX_LC_IN_COUNTRY));
    return o;
}

static json_t *flows_json(const struct bx_rpt_lifecycle *lc, int m)
{
    json_t *o = json_object();
    for (int f = 0; f < BX_LC_N_FLOWS; ++f) {
        uint64_t s = 0;
        for (size_t r = 0; r < lc->n_reps; ++r)
            s += lc->reps[r].flows[m][f];
        json_object_set_new(o, bx_lc_flow_name((enum bx_lc_flow)f), json_integer((json_int_t)s));
    }
    return o;
}

static json_t *flow_share(const struct bx_rpt_lifecycle *lc, int m, enum bx_lc_flow a,
                          enum bx_lc_flow b)
{
    uint64_t x = 0, n = 0;
    for (size_t r = 0; r < lc->n_reps; ++r)
        for (int mm = 0; mm < BX_LC_N_MODES; ++mm)
            if (m == BX_LC_N_MODES || mm == m) {
                x += lc->reps[r].flows[mm][a];
                n += lc->reps[r].flows[mm][b];
            }
    if (n == 0)
        return ci(BX_NAN, BX_NAN, BX_NAN);
    struct bx_ci c = bx_ci_binomial(x, n, 0.95);
    json_t *o = ci((double)x / (double)n, c.lo, c.hi);
    json_object_set_new(o, "of", json_integer((json_int_t)n));
    return o;
}

static json_t *bims_json(const struct bx_rpt_lifecycle *lc)
{
    const struct bx_lc_config *c = lc->cfg;
    double per_day = 0, dim = (double)c->profile.dim;
    for (size_t r = 0; r < lc->n_reps; ++r)
        per_day += lc->reps[r].enrolled_per_day / (double)lc->n_reps;
    double bytes = c->bims.bytes_per_record > 0 ? c->bims.bytes_per_record : dim * 4 + 64;
    double per_year = per_day * 365.25, keep = c->bims.retention_years;
    json_t *years = json_array();
    for (uint32_t y = 1; y <= c->bims.projection_years; ++y) {
        double live = per_year * fmin((double)y, keep), gone = per_year * fmax(0, y - keep);
        json_array_append_new(years, json_pack("{sIsfsfsf}", "year", (json_int_t)y, "records", live,
                                               "bytes", live * bytes, "expired", gone));
    }
    const struct bx_lc_store *s0 = lc->n_reps ? &lc->reps[0].store : NULL;
    return json_pack("{sfsfsfsfs{sIsIsI}so}", "enrolled_per_day", per_day, "retention_years", keep,
                     "bytes_per_record", bytes, "records_per_year", per_year, "horizon", "enrolled",
                     (json_int_t)(s0 ? s0->enrolled : 0), "live", (json_int_t)(s0 ? s0->live : 0),
                     "expired", (json_int_t)(s0 ? s0->expired : 0), "years", years);
}

static json_t *fpir_json(const struct bx_rpt_lifecycle *lc)
{
    if (lc->fmr == NULL)
        return json_null();
    const struct bx_lc_fmr *f = lc->fmr;
    json_t *pts = json_array();
    for (size_t i = 0; i < lc->n_fpir; ++i) {
        const struct bx_lc_fpir_point *p = &lc->fpir[i];
        json_t *o = json_pack("{sfsososf}", "size", p->size, "model", ci(p->fpir, p->lo, p->hi),
                              "independent", num(p->independent), "false_candidates_per_search",
                              p->candidates);
        if (p->measured) {
            json_t *m = ci(p->measured_fpir, p->measured_lo, p->measured_hi);
            json_object_set_new(m, "probes", json_integer((json_int_t)p->probes));
            json_object_set_new(m, "hits", json_integer((json_int_t)p->hits));
            /* no times in a reproducible file */
            json_object_set_new(m, "wall_s", num(isfinite(lc->info->wall_s) ? p->wall_s : BX_NAN));
            json_object_set_new(o, "measured", m);
        } else {
            json_object_set_new(o, "measured", json_null());
        }
        json_array_append_new(pts, o);
    }
    json_t *fm = ci(f->fmr, f->lo, f->hi);
    json_object_set_new(fm, "method", json_string(f->method ? f->method : "?"));
    json_object_set_new(fm, "heterogeneity_shape", num(f->shape));
    json_object_set_new(fm, "shape_from", json_string(f->shape_from));
    return json_pack("{sfsossssso}", "threshold", f->threshold, "fmr", fm, "model",
                     "FPIR = 1 - (1 + N FMR / k)^-k", "device",
                     bx_device_name(lc->cfg->modes[BX_LC_AIR].exit_device), "points", pts);
}

json_t *bx_rpt_overstay_json(const struct bx_rpt_lifecycle *lc)
{
    const struct bx_lc_config *c = lc->cfg;
    char d0[16], d1[16], d2[16], ev[16];
    bx_rpt_date(c->start_day, d0);
    bx_rpt_date(c->start_day + (long)c->report_from, d1);
    bx_rpt_date(c->start_day + (long)c->report_to - 1, d2);
    bx_rpt_date(c->start_day + (long)c->horizon_days, ev);
    json_t *root =
        json_pack("{sssssosssIsIsfsssfsfs{ssss}sssssf}", "kind", "lifecycle", "scenario",
                  lc->info->scenario, "scenario_file",
                  lc->info->scenario_file ? json_string(lc->info->scenario_file) : json_null(),
                  "version", lc->info->version, "seed", (json_int_t)lc->info->seed, "replications",
                  (json_int_t)lc->n_reps, "sample", c->sample, "start_date", d0, "horizon_days",
                  c->horizon_days, "warmup_days", c->warmup_days, "report_window", "from", d1, "to",
                  d2, "evaluation_date", ev, "profile", c->profile_name, "wall_s",
                  isfinite(lc->info->wall_s) ? lc->info->wall_s : 0.0);
    if (root == NULL)
        return NULL;
    if (!isfinite(lc->info->wall_s))
        json_object_set_new(root, "wall_s", json_null());
    json_object_set_new(root, "report", report_block(lc, SIZE_MAX, BX_LC_N_MODES));
    json_t *classes = json_array(), *modes = json_array();
    for (size_t k = 0; k < c->n_classes; ++k) {
        json_t *o = report_block(lc, k, BX_LC_N_MODES);
        json_object_set_new(o, "name", json_string(c->classes[k].name));
        json_object_set_new(o, "citizenship",
                            json_string(bx_citizenship_name(c->classes[k].citizenship)));
        json_object_set_new(o, "admitted_until", json_boolean(c->classes[k].admitted_until));
        json_array_append_new(classes, o);
    }
    for (int m = 0; m < BX_LC_N_MODES; ++m) {
        json_t *o = report_block(lc, SIZE_MAX, m);
        double dsum = 0, dsq = 0;
        uint64_t dn = 0;
        for (size_t r = 0; r < lc->n_reps; ++r) {
            dsum += lc->reps[r].delay_sum[m];
            dsq += lc->reps[r].delay_sq[m];
            dn += bx_lc_count_sum(&lc->reps[r], SIZE_MAX, m, BX_LC_OUT_OF_COUNTRY);
        }
        json_object_set_new(o, "mode", json_string(bx_lc_mode_name((enum bx_lc_mode)m)));
        json_object_set_new(
            o, "out_of_country_days_late",
            json_pack("{sosoSI}", "mean", num(dn ? dsum / (double)dn : BX_NAN), "sd",
                      num(dn > 1
                              ? sqrt(fmax(0, (dsq - dsum * dsum / (double)dn) / (double)(dn - 1)))
                              : BX_NAN),
                      "n", (json_int_t)dn));
        json_t *th = json_pack("{sososo}", "entry_verify", num(lc->reps[0].thresholds[m][0]),
                               "exit_one_to_n", num(lc->reps[0].thresholds[m][1]),
                               "entry_watchlist", num(lc->reps[0].thresholds[m][2]));
        json_object_set_new(o, "thresholds", th);
        json_t *fl = flows_json(lc, m);
        json_object_set_new(o, "flows", fl);
        json_object_set_new(o, "exit_capture_rate",
                            flow_share(lc, m, BX_LC_EXIT_ACQUIRED, BX_LC_EXITS));
        json_object_set_new(o, "exit_match_rate",
                            flow_share(lc, m, BX_LC_LINK_RIGHT, BX_LC_EXIT_ACQUIRED));
        json_object_set_new(o, "departures_recorded_rate",
                            flow_share(lc, m, BX_LC_RECORDED, BX_LC_EXITS));
        json_array_append_new(modes, o);
    }
    json_object_set_new(root, "classes", classes);
    json_object_set_new(root, "modes", modes);
    json_object_set_new(
        root, "entry",
        json_pack(
            "{sososososo}", "impostors_caught",
            flow_share(lc, BX_LC_N_MODES, BX_LC_IMPOSTORS_CAUGHT, BX_LC_IMPOSTORS),
            "watchlist_caught",
            flow_share(lc, BX_LC_N_MODES, BX_LC_WATCHLIST_CAUGHT, BX_LC_WATCHLISTED),
            "prior_removals_caught",
            flow_share(lc, BX_LC_N_MODES, BX_LC_REMOVALS_CAUGHT, BX_LC_REMOVALS), "false_alerts",
            flow_share(lc, BX_LC_N_MODES, BX_LC_FALSE_ALERTS, BX_LC_ENTRY_ATTEMPTS), "photographed",
            flow_share(lc, BX_LC_N_MODES, BX_LC_ENTRY_PHOTOGRAPHED, BX_LC_ENTRY_ATTEMPTS)));
    double rsum = 0;
    uint64_t rn = 0;
    for (size_t r = 0; r < lc->n_reps; ++r) {
        rsum += lc->reps[r].resolve_sum;
        rn += bx_lc_count_sum(&lc->reps[r], SIZE_MAX, BX_LC_N_MODES, BX_LC_RESOLVED);
    }
    json_object_set_new(root, "resolved_by_reentry",
                        json_pack("{sIso}", "sampled", (json_int_t)rn,
                                  "mean_days_after_admit_until",
                                  num(rn ? rsum / (double)rn : BX_NAN)));
    json_object_set_new(root, "bims", bims_json(lc));
    json_object_set_new(root, "store_fpir", fpir_json(lc));
    /* Each replication's sampled counts, for checks against records.sqlite (replication 0). */
    json_t *per = json_array();
    for (size_t r = 0; r < lc->n_reps; ++r) {
        json_t *o = json_object();
        for (int cc = 0; cc < BX_LC_N_COUNTS; ++cc)
            json_object_set_new(o, bx_lc_count_name((enum bx_lc_count)cc),
                                json_integer((json_int_t)bx_lc_count_sum(
                                    &lc->reps[r], SIZE_MAX, BX_LC_N_MODES, (enum bx_lc_count)cc)));
        json_array_append_new(per, o);
    }
    json_object_set_new(root, "replication_counts", per);
    return root;
}
