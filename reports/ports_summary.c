/* SPDX-License-Identifier: MIT */
/* ports_summary.c - summary.json of a `kind: ports` run (docs/summary.md). */
#include "report_internal.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bx/report.h"

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *ci_json(struct bx_ci ci)
{
    json_t *o = json_object();
    json_object_set_new(o, "value", num(ci.value));
    json_object_set_new(o, "ci95",
                        isfinite(ci.lo) && isfinite(ci.hi) ? json_pack("[ff]", ci.lo, ci.hi)
                                                           : json_null());
    return o;
}

/* Student-t summary of one double per replication, the interval clipped to the range the
 * quantity can take ([lo, hi]: waits are >= 0, utilisations in [0, 1]); with few replications
 * the symmetric t interval would otherwise reach below zero. */
static json_t *across(const double *x, size_t n, double lo, double hi)
{
    struct bx_ci ci = bx_ci_student(x, n, 0.95);
    ci.lo = isfinite(ci.lo) ? fmax(ci.lo, lo) : ci.lo;
    ci.hi = isfinite(ci.hi) ? fmin(ci.hi, hi) : ci.hi;
    return ci_json(ci);
}

/* A rate pooled over replications with its exact binomial interval and raw counts. */
static json_t *rate(const struct bx_ports_result *reps, size_t n, size_t off)
{
    uint64_t e = 0, t = 0;
    for (size_t r = 0; r < n; ++r) {
        struct bx_count c;
        memcpy(&c, (const char *)&reps[r] + off, sizeof c);
        e += c.errors;
        t += c.trials;
    }
    json_t *o = ci_json(bx_ci_binomial(e, t, 0.95));
    json_object_set_new(o, "errors", json_integer((json_int_t)e));
    json_object_set_new(o, "trials", json_integer((json_int_t)t));
    return o;
}
#define RATE(field) rate(reps, n_reps, offsetof(struct bx_ports_result, field))

/* A share count / of with its exact binomial interval. */
static json_t *share(uint64_t count, uint64_t of)
{
    json_t *o = ci_json(bx_ci_binomial(count, of, 0.95));
    json_object_set_new(o, "count", json_integer((json_int_t)count));
    json_object_set_new(o, "of", json_integer((json_int_t)of));
    return o;
}

static void ops_add(struct bx_port_ops *sum, const struct bx_port_ops *x, double *answer_sum)
{
    sum->in_scope += x->in_scope;
    sum->photographed += x->photographed;
    sum->excluded += x->excluded;
    sum->not_acquired += x->not_acquired;
    sum->outage += x->outage;
    sum->no_answer += x->no_answer;
    sum->answered += x->answered;
    sum->matched += x->matched;
    sum->with_record += x->with_record;
    sum->matched_gallery += x->matched_gallery;
    sum->left_unphotographed += x->left_unphotographed;
    sum->exempt += x->exempt;
    if (x->answer_s.n) { /* the mean needs the sum; the max the larger */
        *answer_sum += (double)x->answer_s.n * bx_tally_mean(&x->answer_s);
        sum->answer_s.max =
            sum->answer_s.n ? fmax(sum->answer_s.max, x->answer_s.max) : x->answer_s.max;
        sum->answer_s.n += x->answer_s.n;
    }
}

/* The operational figures CBP and GAO report (docs/summary.md `operations`), pooled over
 * replications (and ports): capture rate = in-scope travellers photographed / in scope; match
 * rate = photographed and confirmed / photographed; biometric confirmation = confirmed / in
 * scope; technical match rate = found by the 1:n gallery search / photographed with a gallery
 * record. */
/* count / of for one of the operational shares, from fields of struct bx_port_ops (at byte
 * offsets; `complement`: of - count). */
struct ops_share {
    const char *name;
    size_t count, of;
    bool complement;
};
static uint64_t field(const struct bx_port_ops *o, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)o + off, sizeof v);
    return v;
}
#define OPS(f) offsetof(struct bx_port_ops, f)

/* The operational shares pooled (exact binomial interval) and, with two replications or more,
 * `across_replications`: the Student-t interval of the replications' own shares. Outages and
 * staff habits cluster by gate and by hour, so the pooled binomial interval is too narrow for a
 * calibration check; the replications' spread is not. */
static json_t *ops_json(const struct bx_port_ops *o, double answer_sum,
                        const struct bx_port_ops *per_rep, size_t n_reps, double *buf)
{
    static const struct ops_share shares[] = {
        {"capture_rate", OPS(photographed), OPS(in_scope), false},
        {"match_rate", OPS(matched), OPS(answered), false},
        {"no_match_rate", OPS(matched), OPS(answered), true},
        {"biometric_confirmation_rate", OPS(matched), OPS(in_scope), false},
        {"technical_match_rate", OPS(matched_gallery), OPS(with_record), false},
    };
    json_t *j = json_object();
    json_object_set_new(j, "in_scope", json_integer((json_int_t)o->in_scope));
    json_object_set_new(j, "photographed", json_integer((json_int_t)o->photographed));
    json_object_set_new(j, "not_photographed",
                        json_pack("{sIsIsI}", "excluded_by_staff", (json_int_t)o->excluded,
                                  "failed_to_acquire", (json_int_t)o->not_acquired,
                                  "no_working_camera", (json_int_t)o->outage));
    json_object_set_new(j, "left_unphotographed", json_integer((json_int_t)o->left_unphotographed));
    json_object_set_new(j, "exempt", json_integer((json_int_t)o->exempt));
    json_object_set_new(j, "no_answer", json_integer((json_int_t)o->no_answer));
    for (size_t k = 0; k < sizeof shares / sizeof shares[0]; ++k) {
        const struct ops_share *sh = &shares[k];
        uint64_t of = field(o, sh->of), c = field(o, sh->count);
        json_t *x = share(sh->complement ? of - c : c, of);
        if (n_reps >= 2) {
            for (size_t r = 0; r < n_reps; ++r) {
                double rof = (double)field(&per_rep[r], sh->of),
                       rc = (double)field(&per_rep[r], sh->count);
                buf[r] = rof > 0 ? (sh->complement ? rof - rc : rc) / rof : BX_NAN;
            }
            json_object_set_new(x, "across_replications", across(buf, n_reps, 0, 1));
        }
        json_object_set_new(j, sh->name, x);
    }
    json_object_set_new(j, "camera_to_answer_s",
                        json_pack("{soso}", "mean",
                                  num(o->answer_s.n ? answer_sum / (double)o->answer_s.n : BX_NAN),
                                  "max", num(o->answer_s.n ? o->answer_s.max : BX_NAN)));
    return j;
}

/* The shared matching service (docs/summary.md `tvs`): counts summed over replications,
 * rates and response times with Student-t intervals across them. */
static json_t *tvs_json(const struct bx_ports_config *cfg, const struct bx_ports_result *reps,
                        size_t n_reps, double *buf)
{
    json_t *o = json_object(), *resp = json_object();
    uint64_t req = 0, fm = 0, ft = 0;
    double outage = 0;
    for (size_t r = 0; r < n_reps; ++r) {
        req += reps[r].tvs.requests;
        fm += reps[r].tvs.fallback_manual;
        ft += reps[r].tvs.fallback_timeout;
        outage += reps[r].tvs.outage_s;
    }
    json_object_set_new(o, "workers", json_integer((json_int_t)cfg->tvs.workers));
    json_object_set_new(o, "requests", json_integer((json_int_t)req));
    for (size_t r = 0; r < n_reps; ++r)
        buf[r] = reps[r].tvs.utilization;
    json_object_set_new(o, "utilization", across(buf, n_reps, 0, 1));
    for (size_t r = 0; r < n_reps; ++r)
        buf[r] = reps[r].tvs.peak_per_s;
    json_object_set_new(o, "peak_requests_per_s", across(buf, n_reps, 0, BX_INF));
    for (size_t r = 0; r < n_reps; ++r)
        buf[r] = bx_tally_mean(&reps[r].tvs.response);
    json_object_set_new(resp, "mean", across(buf, n_reps, 0, BX_INF));
    const double ps[] = {0.95, 0.99};
    const char *pn[] = {"p95", "p99"};
    for (int k = 0; k < 2; ++k) {
        for (size_t r = 0; r < n_reps; ++r)
            buf[r] =
                reps[r].tvs.response.n ? bx_quantiles_get(reps[r].tvs.response_q, ps[k]) : BX_NAN;
        json_object_set_new(resp, pn[k], across(buf, n_reps, 0, BX_INF));
    }
    json_object_set_new(o, "response_s", resp);
    json_object_set_new(o, "outage_hours", json_real(outage / 3600));
    json_object_set_new(o, "fallback",
                        json_pack("{sssIsI}", "policy", cfg->tvs.fallback_hold ? "hold" : "manual",
                                  "at_once", (json_int_t)fm, "after_waiting", (json_int_t)ft));
    return o;
}

json_t *bx_rpt__ports_summary(const struct bx_rpt_run_info *info, const struct bx_ports_config *cfg,
                              const struct bx_ports_result *reps, size_t n_reps,
                              struct bx_error *err)
{
    double *buf = calloc(n_reps ? n_reps : 1, sizeof *buf);
    /* Per replication: the whole run's operational counts, and one port's. */
    struct bx_port_ops *rep_ops = calloc(n_reps ? n_reps : 1, sizeof *rep_ops),
                       *port_ops = calloc(n_reps ? n_reps : 1, sizeof *port_ops);
    json_t *root = json_object(), *ports = json_array();
    enum bx_status st = BX_OK;
    if (buf == NULL || rep_ops == NULL || port_ops == NULL || root == NULL || ports == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t events = 0;
    for (size_t r = 0; r < n_reps; ++r)
        events += reps[r].events;
    json_object_set_new(root, "bxsim_version", json_string(info->version));
    json_object_set_new(root, "scenario", json_string(info->scenario));
    json_object_set_new(root, "scenario_file",
                        info->scenario_file ? json_string(info->scenario_file) : json_null());
    json_object_set_new(root, "kind", json_string("ports"));
    json_object_set_new(root, "seed", json_integer((json_int_t)info->seed));
    json_object_set_new(root, "replications", json_integer((json_int_t)n_reps));
    json_object_set_new(root, "horizon_s", json_real(cfg->horizon_s));
    json_object_set_new(root, "profile", json_string(cfg->profile_name));
    json_object_set_new(root, "confidence", json_real(0.95));
    json_object_set_new(root, "events", json_integer((json_int_t)events));
    json_object_set_new(root, "wall_s", num(info->wall_s));
    if (n_reps)
        json_object_set_new(root, "thresholds",
                            json_pack("{sfsfsf}", "one_to_n", reps[0].thresholds[0], "verify",
                                      reps[0].thresholds[1], "watchlist", reps[0].thresholds[2]));
    struct bx_port_ops all_ops = {0};
    double all_answer = 0;
    for (size_t i = 0; i < cfg->n_ports; ++i) {
        const struct bx_port_config *pc = &cfg->ports[i];
        uint64_t trav = 0, deps = 0, manual = 0, secondary = 0, opt = 0;
        for (size_t r = 0; r < n_reps; ++r) {
            const struct bx_port_result *p = &reps[r].ports[i];
            trav += p->travellers;
            deps += p->departures;
            manual += p->manual;
            secondary += p->secondary;
            opt += p->opt_outs;
        }
        json_t *wait = json_object(), *util = json_object();
        for (size_t r = 0; r < n_reps; ++r)
            buf[r] = bx_tally_mean(&reps[r].ports[i].wait);
        json_object_set_new(wait, "mean", across(buf, n_reps, 0, BX_INF));
        const double ps[] = {0.95, 0.99};
        const char *pn[] = {"p95", "p99"};
        for (int k = 0; k < 2; ++k) {
            for (size_t r = 0; r < n_reps; ++r)
                buf[r] = bx_quantiles_get(reps[r].ports[i].wait_q, ps[k]);
            json_object_set_new(wait, pn[k], across(buf, n_reps, 0, BX_INF));
        }
        for (size_t r = 0; r < n_reps; ++r)
            buf[r] = reps[r].ports[i].camera_utilization;
        json_object_set_new(util, "cameras", across(buf, n_reps, 0, 1));
        for (size_t r = 0; r < n_reps; ++r)
            buf[r] = reps[r].ports[i].officer_utilization;
        json_object_set_new(util, "officers", across(buf, n_reps, 0, 1));
        json_t *po = json_object();
        json_object_set_new(po, "name", json_string(pc->name));
        json_object_set_new(po, "type", json_string(bx_port_type_name(pc->type)));
        json_object_set_new(po, "departures", json_integer((json_int_t)deps));
        json_object_set_new(po, "travelers", json_integer((json_int_t)trav));
        json_object_set_new(po, "wait_s", wait);
        json_object_set_new(po, "utilization", util);
        json_object_set_new(po, "manual_inspections", json_integer((json_int_t)manual));
        json_object_set_new(po, "secondary_inspections", json_integer((json_int_t)secondary));
        json_object_set_new(po, "opt_outs", json_integer((json_int_t)opt));
        struct bx_port_ops pops = {0};
        double pans = 0, ignore = 0;
        for (size_t r = 0; r < n_reps; ++r) {
            ops_add(&pops, &reps[r].ports[i].ops, &pans);
            ops_add(&all_ops, &reps[r].ports[i].ops, &all_answer);
            ops_add(&rep_ops[r], &reps[r].ports[i].ops, &ignore);
            port_ops[r] = reps[r].ports[i].ops;
        }
        json_object_set_new(po, "operations", ops_json(&pops, pans, port_ops, n_reps, buf));
        /* Failing equipment, pooled over replications (absent where the device does not fail). */
        struct bx_port_equipment eq = {0};
        for (size_t r = 0; r < n_reps; ++r) {
            const struct bx_port_equipment *e = &reps[r].ports[i].equipment;
            eq.units += e->units;
            eq.failures += e->failures;
            eq.up_unit_s += e->up_unit_s;
            eq.service_unit_s += e->service_unit_s;
            eq.outage_s += e->outage_s;
            eq.outage_travellers += e->outage_travellers;
        }
        if (eq.units)
            json_object_set_new(
                po, "equipment",
                json_pack("{sIsIsosfsI}", "units", (json_int_t)(eq.units / (n_reps ? n_reps : 1)),
                          "failures", (json_int_t)eq.failures, "availability",
                          num(eq.service_unit_s > 0 ? eq.up_unit_s / eq.service_unit_s : BX_NAN),
                          "no_working_unit_hours", eq.outage_s / 3600,
                          "travellers_without_a_working_unit", (json_int_t)eq.outage_travellers));
        /* This port's operating thresholds (the same in every replication) and how each was
         * obtained. */
        json_t *th = json_object();
        static const char *const tn[3] = {"one_to_n", "verify", "watchlist"};
        for (int k = 0; k < 3 && n_reps > 0; ++k) {
            const struct bx_port_threshold *t = &reps[0].ports[i].thr[k];
            json_t *o = json_pack(
                "{sfsfsfsIsbsss[ff]}", "value", t->value, "target_fmr", t->target_fmr,
                "expected_impostors_above", t->expected_above, "calibration_subjects",
                (json_int_t)t->subjects, "resolved", t->resolved, "method",
                t->method == BX_THR_TAIL_MODEL ? "tail_model" : "empirical", "ci95", t->lo, t->hi);
            if (t->method == BX_THR_TAIL_MODEL)
                json_object_set_new(o, "tail",
                                    json_pack("{sfsfsI}", "xi", t->tail_xi, "sigma", t->tail_sigma,
                                              "exceedances", (json_int_t)BX_PORT_TAIL_K));
            json_object_set_new(th, tn[k], o);
        }
        json_object_set_new(po, "thresholds", th);
        json_array_append_new(ports, po);
    }
    json_object_set_new(root, "ports", ports);
    json_object_set_new(root, "operations", ops_json(&all_ops, all_answer, rep_ops, n_reps, buf));
    if (cfg->tvs.on)
        json_object_set_new(root, "tvs", tvs_json(cfg, reps, n_reps, buf));
    ports = NULL;

    json_t *m = json_object();
    json_object_set_new(m, "fnmr", RATE(fnmr));
    json_object_set_new(m, "fmr", RATE(fmr));
    json_object_set_new(m, "fpir", RATE(fpir));
    json_object_set_new(m, "fnir", RATE(fnir));
    json_object_set_new(m, "fta", RATE(fta));
    json_object_set_new(root, "matching", m);

    uint64_t ov = 0, ovd = 0, im = 0, imc = 0, wt = 0, wf = 0, wm = 0, man = 0, opt = 0, cp = 0,
             rec = 0, bytes = 0, viol = 0, late = 0;
    double held = 0;
    for (size_t r = 0; r < n_reps; ++r) {
        const struct bx_ports_result *x = &reps[r];
        ov += x->overstays;
        ovd += x->overstays_detected;
        im += x->impostors;
        imc += x->impostors_caught;
        wt += x->wl_true;
        wf += x->wl_false;
        wm += x->wl_missed;
        man += x->manual;
        opt += x->opt_outs;
        cp += x->citizen_photos;
        rec += x->noncitizen_records;
        bytes += x->noncitizen_bytes;
        viol += x->conservation_violations;
        held = fmax(held, x->citizen_max_retained_h);
        late += x->citizen_held_over_12h;
    }
    json_object_set_new(
        root, "outcomes",
        json_pack("{s{sIsI}s{sIsI}s{sIsIsI}sIsIsI}", "overstays", "actual", (json_int_t)ov,
                  "detected", (json_int_t)ovd, "impostors", "actual", (json_int_t)im, "caught",
                  (json_int_t)imc, "watchlist", "true_alarms", (json_int_t)wt, "false_alarms",
                  (json_int_t)wf, "missed", (json_int_t)wm, "manual_inspections", (json_int_t)man,
                  "opt_outs", (json_int_t)opt, "conservation_violations", (json_int_t)viol));
    /* Non-citizen records are kept 75 years: the stock after 75 years of this daily flow. */
    double days = cfg->horizon_s / 86400 * (double)(n_reps ? n_reps : 1);
    json_object_set_new(root, "retention",
                        json_pack("{sfsIsIsIsIsf}", "citizen_max_retained_h", held,
                                  "citizen_held_over_12h", (json_int_t)late, "citizen_photos",
                                  (json_int_t)cp, "noncitizen_records", (json_int_t)rec, "bytes",
                                  (json_int_t)bytes, "projected_75y_bytes",
                                  (double)bytes / days * 365.25 * 75));

done:
    json_decref(ports);
    free(port_ops);
    free(rep_ops);
    free(buf);
    if (st != BX_OK) {
        json_decref(root);
        return NULL;
    }
    return root;
}

enum bx_status bx_rpt_write_ports_summary(const char *path, const struct bx_rpt_run_info *info,
                                          const struct bx_ports_config *cfg,
                                          const struct bx_ports_result *reps, size_t n_reps,
                                          struct bx_error *err)
{
    json_t *root = bx_rpt__ports_summary(info, cfg, reps, n_reps, err);
    if (root == NULL)
        return bx_err_code(err, BX_ENOMEM);
    enum bx_status st = bx_rpt_write_json(path, root, err);
    json_decref(root);
    return st;
}
