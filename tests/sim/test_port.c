/* SPDX-License-Identifier: MIT */
/* test_port.c - manifest ports: conservation, retention, determinism, matching outcomes. */
#include "port_internal.h" /* the thresholds' internals: bx_port__thresholds, the memo */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/port.h"

#include "../support/port_fixture.h"

static struct bx_ports_config air(double impostor, double watch)
{
    struct bx_ports_config cfg = bx_test_ports(1, 256, 500, 800);
    struct bx_port_config *p = &cfg.ports[0];
    bx_test_port_common(p, "IAD", BX_PORT_AIR);
    p->departures_per_day = 24;
    p->first_s = 6 * 3600;
    p->last_s = 22 * 3600;
    p->passengers_mean = 120;
    p->open_s = 45 * 60;
    p->peak_s = 30 * 60;
    p->close_s = 15 * 60;
    p->gates = 6;
    p->cameras_per_gate = 1;
    p->device = BX_DEVICE_GATE_CAMERA;
    p->pop.impostor_rate = impostor;
    p->pop.watchlist_rate = watch;
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    return cfg;
}

static void run(const struct bx_ports_config *cfg, uint32_t rep, struct bx_ports_result *r)
{
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_result_init(r, cfg->n_ports, &err), BX_OK);
    cr_assert_eq(bx_ports_run(cfg, 42, rep, r, &err), BX_OK, "%s", err.msg);
}

Test(sim_port, every_traveller_ends_in_exactly_one_outcome_and_photos_are_purged, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.01, 0.01);
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_result *p = &r.ports[0];
    cr_assert_eq(p->departures, 24);
    cr_assert_gt(p->travellers, 24 * 100);
    cr_assert_eq(r.conservation_violations, 0);
    cr_assert_eq(p->travellers, r.fta.trials + r.opt_outs, "everyone reached a camera");
    cr_assert_eq(r.fnmr.trials + r.fmr.trials, r.fta.trials - r.fta.errors,
                 "every acquired face was matched");
    /* Retention: every U.S. citizen's photo purged exactly 12 h after capture. */
    cr_assert_gt(r.citizen_photos, 500);
    cr_assert_eq(r.citizen_purged, r.citizen_photos);
    cr_assert_float_eq(r.citizen_max_retained_h, 12.0, 1e-6);
    cr_assert_eq(r.citizen_held_over_12h, 0);
    cr_assert_gt(r.noncitizen_records, 500);
    cr_assert_eq(r.noncitizen_bytes, r.noncitizen_records * (256 * 4 + 128));
    /* Opt-outs and capture failures go to an officer, as do failed matches. */
    cr_assert_geq(r.manual, r.opt_outs + r.fta.errors);
    cr_assert_gt(p->wait.n, 0);
    cr_assert(p->camera_utilization > 0 && p->camera_utilization < 1);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* Issue 16 item 7: the 12-hour rule is checked against when photos are really deleted. A purge
 * job every 30 minutes deletes each photo up to 30 minutes late: those held over 12 h are counted
 * (about every photo not captured on a half hour); a purge set to 13 h breaks the rule for all. */
Test(sim_port, late_purges_break_the_retention_rule_and_are_counted, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.01, 0.01);
    cfg.purge_every_s = 1800;
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    cr_assert_eq(r.citizen_purged, r.citizen_photos, "every photo is still deleted");
    cr_assert_gt(r.citizen_held_over_12h, r.citizen_photos * 9 / 10);
    cr_assert(r.citizen_max_retained_h > 12.0 && r.citizen_max_retained_h <= 12.5 + 1e-9, "%g h",
              r.citizen_max_retained_h);
    bx_ports_result_fini(&r);
    cfg.purge_every_s = 0;
    cfg.purge_after_s = 13 * 3600.0;
    run(&cfg, 0, &r);
    cr_assert_eq(r.citizen_held_over_12h, r.citizen_photos);
    cr_assert_float_eq(r.citizen_max_retained_h, 13.0, 1e-6);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* Issue 16 items 1 and 2: every port has its own thresholds from its own device; they do not
 * depend on the order of the ports; a target the configured sample cannot resolve grows the
 * sample, and one beyond the limit is reported unresolved. */
static struct bx_ports_config two_ports(bool swapped)
{
    struct bx_ports_config one = air(0.01, 0.01), cfg = bx_test_ports(2, 256, 500, 800);
    for (int k = 0; k < 2; ++k) {
        struct bx_port_config *p = &cfg.ports[swapped ? 1 - k : k];
        *p = one.ports[0];
        if (k == 1) {
            strcpy(p->name, "PVT");
            p->device = BX_DEVICE_MOBILE;
            p->passengers_mean = 8;
        }
    }
    free(one.ports);
    return cfg;
}

Test(sim_port, thresholds_are_per_port_and_independent_of_port_order, .timeout = 120)
{
    struct bx_ports_config a = two_ports(false), b = two_ports(true);
    struct bx_ports_result ra, rb;
    run(&a, 0, &ra);
    run(&b, 0, &rb);
    for (int k = 0; k < 3; ++k) {
        cr_assert_eq(ra.ports[0].thr[k].value, rb.ports[1].thr[k].value, "IAD, threshold %d", k);
        cr_assert_eq(ra.ports[1].thr[k].value, rb.ports[0].thr[k].value, "PVT, threshold %d", k);
    }
    /* Different devices, different impostor distributions: different 1:1 thresholds. */
    cr_assert_neq(ra.ports[0].thr[BX_THR_VERIFY].value, ra.ports[1].thr[BX_THR_VERIFY].value);
    /* The watch-list target (FPIR 0.001 over 500 people: FMR 2e-6) is beyond 800 subjects'
     * 639,200 impostor scores (1.3 expected above): the sample was grown to resolve it. */
    const struct bx_port_threshold *wl = &ra.ports[0].thr[BX_THR_WATCHLIST];
    cr_assert_float_eq(wl->target_fmr, 2e-6, 1e-18);
    cr_assert_gt(wl->subjects, 800);
    cr_assert(wl->resolved && wl->expected_above >= 30, "%g expected above", wl->expected_above);
    cr_assert_eq(wl->method, BX_THR_EMPIRICAL);
    cr_assert(wl->lo < wl->value && wl->value < wl->hi, "%g [%g, %g]", wl->value, wl->lo, wl->hi);
    double resolved_at_2e6 = wl->value;
    bx_ports_result_fini(&ra);
    bx_ports_result_fini(&rb);
    bx_ports_config_fini(&b);
    /* A watch-list FPIR of 10^-7 over 500 people (FMR 2 10^-10) is beyond the largest sample;
     * said, not hidden: the threshold comes from the tail model of that sample's highest
     * scores, above every score of the sample (0.013 expected above) and above the resolved
     * threshold at FMR 2e-6, with an interval around it. */
    a.watchlist_fpir = 1e-7;
    run(&a, 0, &ra);
    wl = &ra.ports[0].thr[BX_THR_WATCHLIST];
    cr_assert_eq(wl->subjects, BX_PORT_CAL_MAX);
    cr_assert_not(wl->resolved);
    cr_assert_lt(wl->expected_above, 1);
    cr_assert_eq(wl->method, BX_THR_TAIL_MODEL);
    cr_assert(isfinite(wl->tail_xi) && wl->tail_sigma > 0, "xi %g sigma %g", wl->tail_xi,
              wl->tail_sigma);
    cr_assert(wl->lo < wl->value && wl->value < wl->hi, "%g [%g, %g]", wl->value, wl->lo, wl->hi);
    cr_assert_gt(wl->lo, resolved_at_2e6, "%g [%g, %g] vs %g at FMR 2e-6", wl->value, wl->lo,
                 wl->hi, resolved_at_2e6);
    bx_ports_result_fini(&ra);
    bx_ports_config_fini(&a);
}

/* Targets that need the same impostor sample (device and size) share one computation of it, on
 * several threads; each threshold must be exactly the one it gets alone, on one thread: value,
 * interval, sample, method. Here, with 600 configured subjects (359,400 impostor scores): on the
 * gate camera, the 1:n FMR 6e-4 of the 5-passenger port and the 1:1 FMR 1e-4 share that sample
 * with different numbers of scores kept; the 1:n FMRs 7.5e-5 and 7.5e-6 and the watch list's
 * 2e-6 grow samples of their own; the mobile device has its own samples. */
Test(sim_port, shared_threshold_samples_give_every_target_its_own_numbers, .timeout = 120)
{
    struct bx_ports_config cfg = bx_test_ports(4, 256, 500, 600);
    static const double sizes[] = {40, 400, 5, 40};
    for (size_t i = 0; i < 4; ++i) {
        struct bx_port_config *p = &cfg.ports[i];
        snprintf(p->name, sizeof p->name, "P%zu", i);
        p->type = BX_PORT_AIR;
        p->device = i == 3 ? BX_DEVICE_MOBILE : BX_DEVICE_GATE_CAMERA;
        p->passengers_mean = sizes[i];
    }
    cfg.search_threads = 3;
    struct bx_error err = {0};
    struct bx_tplgen *gen = bx_tplgen_alloc(&cfg.profile, &err);
    cr_assert_not_null(gen, "%s", err.msg);
    struct bx_port_threshold together[12], alone;
    bx_port__threshold_memo_clear();
    cr_assert_eq(bx_port__thresholds(&cfg, gen, together, &err), BX_OK, "%s", err.msg);
    bx_port__threshold_memo_clear();
    size_t grown = 0;
    for (size_t i = 0; i < 4; ++i) {
        double f[3] = {cfg.one_to_n_fpir / sizes[i], cfg.verify_fmr,
                       cfg.watchlist_fpir / (double)cfg.watchlist_size};
        for (int k = 0; k < 3; ++k) {
            bx_port__threshold_memo_clear(); /* each computed afresh, sample included */
            cr_assert_eq(bx_port_threshold_for(&cfg.profile, cfg.ports[i].device, 600, f[k], 1,
                                               &alone, &err),
                         BX_OK, "%s", err.msg);
            const struct bx_port_threshold *t = &together[3 * i + k];
            cr_assert_eq(t->value, alone.value, "port %zu target %d", i, k);
            cr_assert_eq(t->lo, alone.lo, "port %zu target %d", i, k);
            cr_assert_eq(t->hi, alone.hi, "port %zu target %d", i, k);
            cr_assert_eq(t->target_fmr, alone.target_fmr);
            cr_assert_eq(t->expected_above, alone.expected_above);
            cr_assert_eq(t->subjects, alone.subjects);
            cr_assert_eq(t->resolved, alone.resolved);
            cr_assert_eq(t->method, alone.method);
            grown += t->subjects > 600;
        }
    }
    /* One after another without forgetting: a sample remembered from an earlier target serves a
     * later one that keeps fewer of its highest scores (port 2's 1:n target keeps more of the
     * 600-subject gate camera sample than the 1:1 target that follows it). */
    bx_port__threshold_memo_clear();
    for (size_t i = 4; i-- > 0;) {
        double f[3] = {cfg.one_to_n_fpir / sizes[i], cfg.verify_fmr,
                       cfg.watchlist_fpir / (double)cfg.watchlist_size};
        for (int k = 0; k < 3; ++k) {
            cr_assert_eq(bx_port_threshold_for(&cfg.profile, cfg.ports[i].device, 600, f[k], 2,
                                               &alone, &err),
                         BX_OK, "%s", err.msg);
            const struct bx_port_threshold *t = &together[3 * i + k];
            cr_assert(t->value == alone.value && t->lo == alone.lo && t->hi == alone.hi &&
                          t->expected_above == alone.expected_above &&
                          t->subjects == alone.subjects,
                      "in sequence: port %zu target %d", i, k);
        }
    }
    /* the cases the test means to cover: samples of the configured size and grown ones */
    cr_assert_gt(grown, 0);
    cr_assert_lt(grown, 12);
    cr_assert_neq(together[0].value, together[3].value, "different targets, one sample");
    bx_tplgen_free(gen);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, matching_outcomes_follow_the_thresholds, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.02, 0.02);
    struct bx_ports_result r;
    run(&cfg, 1, &r);
    /* Genuine travellers are rarely rejected by 1:n then 1:1; watch-list false alarms stay near
     * their target per search; planted watch-list faces are found. */
    double fnmr = (double)r.fnmr.errors / (double)r.fnmr.trials;
    double fpir = (double)r.fpir.errors / (double)r.fpir.trials;
    double fnir = (double)r.fnir.errors / (double)r.fnir.trials;
    cr_assert_lt(fnmr, 0.05, "fnmr %g", fnmr);
    cr_assert_lt(fpir, 0.01, "fpir %g", fpir);
    cr_assert_gt(r.fnir.trials, 20);
    cr_assert_lt(fnir, 0.5, "fnir %g", fnir);
    cr_assert_eq(r.wl_true + r.wl_missed, r.fnir.trials);
    cr_assert_eq(r.wl_false, r.fpir.errors);
    cr_assert_gt(r.impostors, 20);
    cr_assert_leq(r.impostors_caught, r.impostors);
    cr_assert(r.thresholds[0] < r.thresholds[2], "watch-list threshold is the strictest");
    cr_assert_leq(r.overstays_detected, r.overstays);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* The watch list performs as the profile predicts for the port's device. FPIR: the threshold
 * is set for FPIR 0.001 (FMR 2e-6 per comparison, 500 people listed), so the share of searches of
 * people not on the list that raise an alarm must agree with 0.001. FNIR: a listed traveller's
 * live capture against their watch-list photo is a genuine comparison of the same device and
 * photo age as against their document, so the predicted FNIR is the share of the port's genuine
 * 1:1 scores below the watch-list threshold. (A threshold on a look-alike's score, as a sample
 * too small for FMR 2e-6 gave, missed 6-24% of listed travellers.) Agreement: the two 99.9%
 * intervals overlap. */
Test(sim_port, watchlist_errors_agree_with_the_profile_at_the_configured_fpir, .timeout = 180)
{
    struct bx_ports_config cfg = air(0.0, 0.05);
    uint64_t fp = 0, fp_n = 0, fn = 0, fn_n = 0, below = 0, genuine = 0;
    double thr = BX_NAN;
    for (uint32_t rep = 0; rep < 4; ++rep) {
        struct bx_ports_result r;
        run(&cfg, rep, &r);
        thr = r.ports[0].thr[BX_THR_WATCHLIST].value;
        cr_assert(r.ports[0].thr[BX_THR_WATCHLIST].resolved);
        fp += r.fpir.errors;
        fp_n += r.fpir.trials;
        fn += r.fnir.errors;
        fn_n += r.fnir.trials;
        for (size_t i = 0; i < r.n_samples; ++i) {
            const struct bx_match_sample *m = &r.samples[i];
            if (m->mated && !m->watchlisted) {
                ++genuine;
                below += !((double)m->verify_score >= thr);
            }
        }
        bx_ports_result_fini(&r);
    }
    cr_assert_gt(fp_n, 10000);
    cr_assert_gt(fn_n, 300);
    struct bx_ci fpir = bx_ci_binomial(fp, fp_n, 0.999), fnir = bx_ci_binomial(fn, fn_n, 0.999),
                 pred = bx_ci_binomial(below, genuine, 0.999);
    cr_assert(fpir.lo <= 0.001 && 0.001 <= fpir.hi, "FPIR %llu/%llu [%g, %g], target 0.001",
              (unsigned long long)fp, (unsigned long long)fp_n, fpir.lo, fpir.hi);
    cr_assert(fnir.lo <= pred.hi && pred.lo <= fnir.hi,
              "FNIR %llu/%llu [%g, %g], predicted %llu/%llu [%g, %g] at threshold %g",
              (unsigned long long)fn, (unsigned long long)fn_n, fnir.lo, fnir.hi,
              (unsigned long long)below, (unsigned long long)genuine, pred.lo, pred.hi, thr);
    bx_ports_config_fini(&cfg);
}

/* Who is not photographed, and where they go. Staff wave every wheelchair user and traveller
 * with small children past the camera; a third of attempts fail and there is one attempt. The
 * operational counts add up (in scope = photographed + excluded + failed), and with
 * `unphotographed: board` the travellers whose capture failed leave instead of queueing for an
 * officer: the same travellers (common random numbers), so the officers' load falls by exactly
 * the number who left. */
Test(sim_port, unphotographed_travellers_are_counted_and_routed_by_the_port_policy, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.0, 0.0);
    struct bx_port_config *p = &cfg.ports[0];
    p->pop.wheelchair_rate = 0.05;
    p->capture.exclude_wheelchair = 1;
    p->capture.exclude_family = 1;
    p->capture.fta[p->device] = 0.3;
    p->capture.max_attempts = 1;
    struct bx_ports_result m, b;
    run(&cfg, 0, &m);
    p->unphotographed_board = true;
    run(&cfg, 0, &b);
    const struct bx_port_ops *om = &m.ports[0].ops, *ob = &b.ports[0].ops;
    for (int k = 0; k < 2; ++k) {
        const struct bx_port_ops *o = k ? ob : om;
        cr_assert_eq(o->in_scope, o->photographed + o->excluded + o->not_acquired);
        cr_assert_gt(o->excluded, 0);
        cr_assert_gt(o->not_acquired, 0);
        cr_assert_leq(o->matched, o->photographed);
        cr_assert_leq(o->matched_gallery, o->with_record);
        cr_assert_eq(o->with_record, o->photographed, "a manifest holds every traveller");
        cr_assert_eq(o->answer_s.n, o->photographed);
        cr_assert_eq((k ? b : m).conservation_violations, 0);
        /* About 0.3 of the attempts fail; children under 14 and 5% wheelchair users (and 5% of
         * adults with children) are excluded. */
        double fail = (double)o->not_acquired / (double)(o->photographed + o->not_acquired);
        cr_assert(fail > 0.27 && fail < 0.33, "failed share %g", fail);
    }
    cr_assert_eq(om->in_scope, ob->in_scope);
    cr_assert_eq(om->excluded, ob->excluded);
    cr_assert_eq(om->not_acquired, ob->not_acquired);
    /* Excluded travellers always leave (U.S. citizens among them too: they are not in scope,
     * so left_unphotographed counts more than `excluded`); failed captures leave only under
     * `board`. */
    cr_assert_geq(om->left_unphotographed, om->excluded);
    cr_assert_geq(ob->left_unphotographed, om->left_unphotographed + ob->not_acquired);
    cr_assert_eq(m.manual - b.manual, ob->left_unphotographed - om->left_unphotographed,
                 "manual %llu -> %llu, left %llu -> %llu", (unsigned long long)m.manual,
                 (unsigned long long)b.manual, (unsigned long long)om->left_unphotographed,
                 (unsigned long long)ob->left_unphotographed);
    bx_ports_result_fini(&m);
    bx_ports_result_fini(&b);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, same_seed_same_numbers, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.01, 0.01);
    struct bx_ports_result a, b;
    run(&cfg, 3, &a);
    run(&cfg, 3, &b);
    cr_assert_eq(a.ports[0].travellers, b.ports[0].travellers);
    cr_assert_eq(a.events, b.events);
    cr_assert_eq(a.fnmr.errors, b.fnmr.errors);
    cr_assert_eq(a.manual, b.manual);
    cr_assert_eq(a.ports[0].wait.s1, b.ports[0].wait.s1);
    struct bx_ports_result c;
    run(&cfg, 4, &c);
    cr_assert_neq(a.ports[0].wait.s1, c.ports[0].wait.s1, "another replication differs");
    bx_ports_result_fini(&a);
    bx_ports_result_fini(&b);
    bx_ports_result_fini(&c);
    bx_ports_config_fini(&cfg);
}

static struct bx_ports_config land(enum bx_lane_kind kind)
{
    struct bx_ports_config cfg = air(0.01, 0.005);
    struct bx_port_config *p = &cfg.ports[0];
    strcpy(p->name, "south");
    p->type = BX_PORT_LAND;
    p->device = kind == BX_LANE_VEHICLE ? BX_DEVICE_VEHICLE : BX_DEVICE_MOBILE;
    p->land.lane_kind = kind;
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = h < 5 ? 20 : 150;
    p->land.lanes = 0;
    p->land.schedule = malloc(2 * sizeof *p->land.schedule);
    p->land.schedule[0] = (struct bx_capacity_step){0, 2};
    p->land.schedule[1] = (struct bx_capacity_step){12 * 3600, 4}; /* mobile units arrive */
    p->land.n_schedule = 2;
    p->land.expected_gallery = 5000;
    p->land.expected_share = 0.7;
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    return cfg;
}

Test(sim_port, land_vehicle_lanes_capture_every_occupant_against_the_expected_gallery,
     .timeout = 120)
{
    struct bx_ports_config cfg = land(BX_LANE_VEHICLE);
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_result *p = &r.ports[0];
    /* 20/h for 5 h and 150/h for 19 h: about 2950 vehicles of ~1.8 occupants. */
    cr_assert(p->travellers > 4000 && p->travellers < 7000, "%llu travellers",
              (unsigned long long)p->travellers);
    cr_assert_eq(r.conservation_violations, 0);
    cr_assert_eq(p->travellers, r.fta.trials + r.opt_outs);
    double fta = (double)r.fta.errors / (double)r.fta.trials;
    cr_assert(fta > 0.0005 && fta < 0.01, "three tries through a windshield: %g", fta);
    cr_assert_eq(r.citizen_purged, r.citizen_photos);
    cr_assert_float_eq(r.citizen_max_retained_h, 12.0, 1e-6);
    /* Crossers outside the expected gallery still pass 1:1 against their document. */
    cr_assert_lt((double)r.fnmr.errors / (double)r.fnmr.trials, 0.05);
    cr_assert(p->camera_utilization > 0.05 && p->camera_utilization < 1);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* Pedestrians at a constant @p per_hour on @p units mobile units (no rollout), an expected
 * gallery of @p gallery. */
static struct bx_ports_config steady_pedestrians(double per_hour, unsigned units, size_t gallery)
{
    struct bx_ports_config cfg = land(BX_LANE_PEDESTRIAN);
    struct bx_port_config *p = &cfg.ports[0];
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = per_hour;
    free(p->land.schedule);
    p->land.schedule = NULL;
    p->land.n_schedule = 0;
    p->land.lanes = units;
    p->land.expected_gallery = gallery;
    return cfg;
}

/* Equipment that fails: four mobile units, each up for an exponential time with mean 5 h and
 * down for one with mean 1 h, over 4000 h. The long-run availability of an alternating renewal
 * process is MTBF / (MTBF + MTTR) = 5/6; the time average over 4000 h of four units has a
 * standard deviation of about 0.004 (asymptotic variance 2 lambda mu / (lambda + mu)^3 per unit
 * and hour), so it must lie within 0.02. Failures number about 4 x 4000 / 6. */
Test(sim_port, equipment_availability_is_mtbf_over_mtbf_plus_mttr, .timeout = 120)
{
    struct bx_ports_config cfg = steady_pedestrians(1, 4, 100);
    cfg.horizon_s = 4000 * 3600.0;
    bx_test_failures(&cfg, BX_DEVICE_MOBILE, 5, 1);
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_equipment *e = &r.ports[0].equipment;
    cr_assert_eq(e->units, 4);
    double avail = e->up_unit_s / e->service_unit_s;
    cr_assert_float_eq(e->service_unit_s, 4 * cfg.horizon_s, 1e-6);
    cr_assert_float_eq(avail, 5.0 / 6.0, 0.02, "availability %g", avail);
    cr_assert(e->failures > 2400 && e->failures < 2950, "%llu failures",
              (unsigned long long)e->failures);
    /* All four down at once about (1/6)^4 of the time: a few travellers meet no working unit
     * and go to an officer; every one is accounted for. */
    const struct bx_port_ops *o = &r.ports[0].ops;
    cr_assert_eq(o->in_scope, o->photographed + o->excluded + o->not_acquired + o->outage);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* Before the 2025 rule: the same travellers (common random numbers), but the exempt walk past
 * the camera out of scope and leave unphotographed; every traveller is still accounted for. */
Test(sim_port, pre_rule_exemptions_take_travellers_out_of_scope, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.0, 0.0);
    struct bx_ports_result rule, pre;
    run(&cfg, 0, &rule);
    cfg.ports[0].capture.exempt = BX_EXEMPT_ALL;
    run(&cfg, 0, &pre);
    const struct bx_port_ops *a = &rule.ports[0].ops, *b = &pre.ports[0].ops;
    cr_assert_eq(a->exempt, 0, "the rule: nobody exempt");
    cr_assert_gt(b->exempt, 0);
    cr_assert_eq(rule.ports[0].travellers, pre.ports[0].travellers, "the same travellers");
    cr_assert_eq(a->in_scope, b->in_scope + b->exempt, "the exempt left the scope, no one else");
    cr_assert_eq(b->in_scope, b->photographed + b->excluded + b->not_acquired + b->outage);
    cr_assert_geq(b->left_unphotographed, b->exempt);
    cr_assert_lt(b->photographed, a->photographed);
    cr_assert_eq(pre.conservation_violations, 0);
    bx_ports_result_fini(&rule);
    bx_ports_result_fini(&pre);
    bx_ports_config_fini(&cfg);
}

/* A gate whose only camera is broken: passengers who arrive then, or are still waiting when the
 * flight leaves, board unphotographed and are counted; the capture rate falls with the
 * camera's availability and nobody is lost. */
Test(sim_port, passengers_meet_broken_cameras_and_board_unphotographed, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.0, 0.0);
    cfg.ports[0].cameras_per_gate = 1;
    bx_test_failures(&cfg, BX_DEVICE_GATE_CAMERA, 4, 1);
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_ops *o = &r.ports[0].ops;
    const struct bx_port_equipment *e = &r.ports[0].equipment;
    cr_assert_gt(o->outage, 0);
    cr_assert_eq(o->in_scope, o->photographed + o->excluded + o->not_acquired + o->outage);
    cr_assert_geq(e->outage_travellers, o->outage, "U.S. citizens meet broken cameras too");
    cr_assert_geq(o->left_unphotographed, e->outage_travellers);
    cr_assert_gt(e->outage_s, 0);
    double capture = (double)o->photographed / (double)o->in_scope,
           avail = e->up_unit_s / e->service_unit_s;
    cr_assert(capture < 0.97 && avail < 0.95, "capture %g, availability %g", capture, avail);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* A port whose pedestrians reach the shared matching service as a Poisson stream: constant
 * arrivals of 1 a second, 1000 lanes (no queue before the service), one exponential capture
 * attempt that never fails, no network delay. The service is then M/M/c: c = 2 workers,
 * exponential service with mean 1.5 s (load 0.75). */
static struct bx_ports_config mmc_tvs(void)
{
    struct bx_ports_config cfg = steady_pedestrians(3600, 1000, 200);
    struct bx_port_config *p = &cfg.ports[0];
    p->capture.fta[p->device] = 0;
    p->capture.max_attempts = 1;
    p->capture.exponential_time = true;
    p->capture.time_mean_s[p->device] = 5;
    struct bx_tvs_config *v = &cfg.tvs;
    struct bx_error err = {0};
    v->on = true;
    v->workers = 2;
    v->hold_timeout_s = 60;
    cr_assert_eq(bx_dist_exponential(&v->service, 1.5, &err), BX_OK);
    for (int t = 0; t < BX_N_PORT_TYPES; ++t)
        cr_assert_eq(bx_dist_deterministic(&v->latency[t], 0, &err), BX_OK);
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    return cfg;
}

/* P(T > t) for the sojourn time of M/M/c: with probability 1 - C no wait, else an exponential
 * wait with rate c mu - lambda before the exponential service with rate mu. */
static double mmc_sojourn_tail(double t, double erlang_c, double mu, double theta)
{
    double conv = (theta * exp(-mu * t) - mu * exp(-theta * t)) / (theta - mu);
    return (1 - erlang_c) * exp(-mu * t) + erlang_c * conv;
}

/* The service's response time equals M/M/c's: Erlang C for c = 2, a = 1.5 is 4.5 / 7, the mean
 * wait C / (c mu - lambda) = 1.929 s, the mean response 3.429 s; the 95th percentile solves
 * P(T > t) = 0.05. Over a day of about 86,000 requests (one replication; waits are correlated,
 * so 3% and 5%), and utilisation lambda / (c mu) = 0.75 (lambda: the requests per second that
 * reached the service, opt-outs thinning the stream). */
Test(sim_port, tvs_response_times_follow_mmc, .timeout = 180)
{
    struct bx_ports_config cfg = mmc_tvs();
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    /* Arrivals of 1 a second, thinned by U.S. citizens' opt-outs: still Poisson. */
    double lambda = (double)r.tvs.requests / cfg.horizon_s, mu = 1 / 1.5, c = 2, a = lambda / mu;
    double top = pow(a, c) / 2 * c / (c - a), erlang_c = top / (1 + a + top);
    double mean = erlang_c / (c * mu - lambda) + 1 / mu;
    double lo = 0, hi = 100;
    for (int k = 0; k < 200; ++k) {
        double mid = (lo + hi) / 2;
        if (mmc_sojourn_tail(mid, erlang_c, mu, c * mu - lambda) > 0.05)
            lo = mid;
        else
            hi = mid;
    }
    const struct bx_tvs_result *v = &r.tvs;
    double got_mean = bx_tally_mean(&v->response), got_p95 = bx_quantiles_get(v->response_q, 0.95);
    cr_assert_gt(v->requests, 80000);
    cr_assert_float_eq(got_mean, mean, 0.03 * mean, "mean %g, M/M/c %g", got_mean, mean);
    cr_assert_float_eq(got_p95, lo, 0.05 * lo, "p95 %g, M/M/c %g", got_p95, lo);
    cr_assert_float_eq(v->utilization, lambda / (c * mu), 0.02, "utilisation %g", v->utilization);
    cr_assert_eq(v->fallback_manual + v->fallback_timeout, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* An outage of one hour (10:00-11:00) with fallback manual: every request that reaches the
 * service during it goes to the officers at once - exactly the hour's requests - and none
 * after. With fallback hold (20 minutes) instead: requests that find the service down wait,
 * those of the outage's first 40 minutes give up after 20 minutes, the rest are answered when
 * it returns, so the response time's tail and the hour's waits rise; two hours later the waits
 * are back to what they were before. */
static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Test(sim_port, a_tvs_outage_sends_its_requests_to_the_fallback_and_the_port_recovers,
     .timeout = 180)
{
    struct bx_ports_config cfg = mmc_tvs();
    cfg.ports[0].land.arrivals = (struct bx_arrival_profile){{0}};
    for (int h = 0; h < 24; ++h)
        cfg.ports[0].land.arrivals.rate_per_h[h] = 600;
    cfg.tvs.service.a = 0.5;     /* exponential mean 0.5 s: load 0.08, no queue outside outages */
    cfg.ports[0].officers = 100; /* the fallback's officers are not the bottleneck here */
    cfg.tvs.outages = malloc(sizeof *cfg.tvs.outages);
    cfg.tvs.outages[0] = (struct bx_tvs_window){10 * 3600.0, 11 * 3600.0};
    cfg.tvs.n_outages = 1;
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    cr_assert_gt(r.tvs.hourly[10], 400);
    cr_assert_eq(r.tvs.fallback_manual, r.tvs.hourly[10],
                 "fallback %llu, requests in the hour %llu",
                 (unsigned long long)r.tvs.fallback_manual, (unsigned long long)r.tvs.hourly[10]);
    cr_assert_float_eq(r.tvs.outage_s, 3600, 1e-6);
    const struct bx_port_ops *o = &r.ports[0].ops;
    cr_assert_geq(o->no_answer, 1);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);

    cfg.tvs.fallback_hold = true;
    cfg.tvs.hold_timeout_s = 1200;
    run(&cfg, 0, &r);
    const struct bx_port_hourly *hr = r.ports[0].hourly;
    /* The typical hour before (0-9) and after (12-23): the median of the hourly mean waits,
     * since an hour's mean swings with the few travellers an officer or secondary holds long. */
    double hb[10], ha[12];
    for (int h = 0; h < 10; ++h)
        hb[h] = hr[h].wait_sum_s / hr[h].arrivals;
    for (int h = 0; h < 12; ++h)
        ha[h] = hr[12 + h].wait_sum_s / hr[12 + h].arrivals;
    double before = median_of(hb, 10), during = hr[10].wait_sum_s / hr[10].arrivals,
           after = median_of(ha, 12);
    cr_assert_gt(r.tvs.fallback_timeout, 0);
    cr_assert_lt(r.tvs.fallback_timeout, r.tvs.hourly[10]);
    cr_assert_eq(r.tvs.fallback_manual, 0);
    cr_assert_gt(during, 20 * before, "waits %g s before, %g s during", before, during);
    cr_assert_float_eq(after, before, 0.3 * before, "waits %g s before, %g s after", before, after);
    cr_assert_gt(bx_quantiles_get(r.tvs.response_q, 0.99), 60);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, land_pedestrians_one_at_a_time, .timeout = 120)
{
    struct bx_ports_config cfg = land(BX_LANE_PEDESTRIAN);
    struct bx_ports_result r;
    run(&cfg, 2, &r);
    const struct bx_port_result *p = &r.ports[0];
    cr_assert(p->travellers > 2500 && p->travellers < 3500, "%llu pedestrians",
              (unsigned long long)p->travellers);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* A single replication may split its large searches over threads (bxsim run with one
 * replication and --threads 2): the numbers must not change. */
Test(sim_port, search_threads_do_not_change_the_numbers, .timeout = 120)
{
    struct bx_ports_config cfg = land(BX_LANE_PEDESTRIAN);
    struct bx_port_config *p = &cfg.ports[0];
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = 40;
    p->land.expected_gallery = 9000; /* above the split threshold (8192 rows) */
    p->pop.watchlist_rate = 0.02;
    struct bx_ports_result a, b;
    run(&cfg, 1, &a);
    cfg.search_threads = 2;
    run(&cfg, 1, &b);
    cr_assert_gt(a.ports[0].travellers, 500);
    cr_assert_eq(a.ports[0].travellers, b.ports[0].travellers);
    cr_assert_eq(a.events, b.events);
    cr_assert_eq(a.fnmr.errors, b.fnmr.errors);
    cr_assert_eq(a.fnmr.trials, b.fnmr.trials);
    cr_assert_eq(a.fmr.errors, b.fmr.errors);
    cr_assert_eq(a.fpir.errors, b.fpir.errors);
    cr_assert_eq(a.fnir.errors, b.fnir.errors);
    cr_assert_eq(a.manual, b.manual);
    cr_assert_eq(a.ports[0].wait.s1, b.ports[0].wait.s1);
    bx_ports_result_fini(&a);
    bx_ports_result_fini(&b);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, hourly_series_and_match_samples_are_recorded, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.02, 0.01);
    struct bx_ports_result r;
    run(&cfg, 5, &r);
    const struct bx_port_result *p = &r.ports[0];
    /* One column per simulated hour (issue 16 item 8: there were 24 more, empty). */
    cr_assert_eq(p->n_hours, bx_ports_hours(&cfg));
    cr_assert_eq(p->n_hours, (size_t)ceil(cfg.horizon_s / 3600));
    double arrivals = 0, waits = 0;
    for (size_t h = 0; h < p->n_hours; ++h) {
        arrivals += p->hourly[h].arrivals;
        waits += p->hourly[h].wait_sum_s;
        cr_assert_leq(p->hourly[h].busy, p->hourly[h].capacity + 1e-9, "hour %zu", h);
        if (h < 5)
            cr_assert_eq(p->hourly[h].arrivals, 0, "no flights before 05:00");
    }
    cr_assert_eq((uint64_t)arrivals, p->travellers);
    cr_assert_float_eq(waits / arrivals, bx_tally_mean(&p->wait), 1e-6);
    cr_assert_eq(p->hourly[10].capacity, 6.0, "six gates with one camera");
    /* One sample per captured traveller; impostors are the unmated ones. */
    cr_assert_eq(r.n_samples, r.fnmr.trials + r.fmr.trials);
    size_t unmated = 0, accepted_unmated = 0;
    for (size_t i = 0; i < r.n_samples; ++i) {
        const struct bx_match_sample *s = &r.samples[i];
        unmated += !s->mated;
        accepted_unmated += !s->mated && s->accepted;
        cr_assert(s->verify_score <= 1.0f && s->verify_score >= -1.0f);
        cr_assert(!s->accepted || s->verify_score >= (float)r.thresholds[1] - 1e-6f ||
                  !isnan(s->top_score));
    }
    cr_assert_eq(unmated, r.fmr.trials);
    cr_assert_eq(accepted_unmated, r.fmr.errors);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* Erlang C probability of waiting (c servers, offered load a < c). */
static double erlang_c(double a, unsigned c)
{
    double b = 1;
    for (unsigned k = 1; k <= c; ++k)
        b = a * b / (k + a * b);
    return b / (1 - a / c * (1 - b));
}

Test(sim_port, pedestrian_lanes_with_perfect_capture_reduce_to_mmc, .timeout = 300)
{
    /* Poisson pedestrians (a flat hourly profile), exponential capture, no failures, no match
     * time: the lanes are an M/M/c queue, whose mean queue length Erlang C gives. */
    struct bx_ports_config cfg = land(BX_LANE_PEDESTRIAN);
    struct bx_port_config *p = &cfg.ports[0];
    const double lambda_h = 1500, mean_s = 6.0; /* a = 2.5 erlangs */
    const unsigned c = 3;
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = lambda_h;
    free(p->land.schedule);
    p->land.schedule = NULL;
    p->land.n_schedule = 0;
    p->land.lanes = c;
    p->match_time_s = 0;
    p->capture.exponential_time = true;
    p->capture.time_mean_s[BX_DEVICE_MOBILE] = mean_s;
    for (int d = 0; d < BX_N_DEVICES; ++d)
        p->capture.fta[d] = 0;
    p->capture.max_attempts = 1;
    p->capture.us_optout = 0;
    p->pop.impostor_rate = p->pop.watchlist_rate = 0;
    p->land.expected_gallery = 200;
    cfg.horizon_s = 4 * 86400;
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    double lambda = lambda_h / 3600, a = lambda * mean_s;
    double lq = erlang_c(a, c) * a / (c - a); /* Lq = C(c, a) rho / (1 - rho) */
    double got = r.ports[0].camera_queue_mean;
    /* Four simulated days, ~144,000 arrivals; statistics are taken at the horizon, so the
     * drain afterwards does not dilute them. Measured: 3.57 against 3.51. */
    cr_log_info("mean queue %g, Erlang C %g", got, lq);
    cr_assert_lt(fabs(got / lq - 1), 0.08, "mean queue %g, Erlang C %g", got, lq);
    cr_assert_float_eq(r.ports[0].camera_utilization, a / c, 0.02);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

#include "bx/scn.h"

/* The port's genuine 1:1 rejections, measured on its own samples, agree with what the profile
 * was calibrated to (visa-best T2: document vs gate camera, FNMR 0.0035 at FMR 1e-6), allowing
 * for the port's older document photos (up to 10 years of ageing, so somewhat higher).
 * Measured: 0.0037 [0.0029, 0.0047] over 19,083 genuine captures. */
Test(sim_port, genuine_rejections_agree_with_the_calibrated_profile, .timeout = 300)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/profiles/visa-best.yaml", BX_SOURCE_DIR);
    struct bx_profile prof;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_profile(path, &prof, &err), BX_OK, "%s", err.msg);
    struct bx_ports_config cfg = air(0, 0);
    cfg.profile = prof.params;
    cfg.verify_fmr = 1e-6;
    cfg.calibration_subjects = 3000; /* 9 M impostor scores resolve FMR 1e-6 */
    cfg.horizon_s = 4 * 86400;
    cfg.ports[0].passengers_mean = 200;
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    size_t mated = 0, rejected = 0;
    for (size_t i = 0; i < r.n_samples; ++i) {
        if (!r.samples[i].mated)
            continue;
        mated++;
        rejected += r.samples[i].verify_score < (float)r.thresholds[1];
    }
    double fnmr = (double)rejected / (double)mated;
    struct bx_ci ci = bx_ci_binomial(rejected, mated, 0.95);
    cr_log_info("port 1:1 FNMR at FMR 1e-6: %g [%g, %g] over %zu genuine captures", fnmr, ci.lo,
                ci.hi, mated);
    cr_assert_gt(mated, 15000);
    cr_assert(ci.hi >= 0.0035 * 0.5 && ci.lo <= 0.0035 * 2,
              "FNMR %g [%g, %g] against the profile's 0.0035", fnmr, ci.lo, ci.hi);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
    bx_scn_profile_fini(&prof);
}

Test(sim_port, officer_shifts_change_manual_waits_by_hour, .timeout = 120)
{
    /* Everyone fails capture (FTA 0.95, one attempt) and goes to an officer: one officer until
     * noon, four after. The afternoon's waits must be far shorter than the morning's. */
    struct bx_ports_config cfg = land(BX_LANE_PEDESTRIAN);
    struct bx_port_config *p = &cfg.ports[0];
    p->capture.fta[BX_DEVICE_MOBILE] = 0.95;
    p->capture.max_attempts = 1;
    for (int h = 0; h < 24; ++h)
        p->land.arrivals.rate_per_h[h] = 70;
    p->officer_shifts = malloc(2 * sizeof *p->officer_shifts);
    p->officer_shifts[0] = (struct bx_capacity_step){0, 1};
    p->officer_shifts[1] = (struct bx_capacity_step){12 * 3600, 4};
    p->n_officer_shifts = 2;
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_result *pr = &r.ports[0];
    double am = 0, an = 0, pm = 0, pn = 0;
    for (size_t h = 2; h < 11; ++h) {
        am += pr->hourly[h].wait_sum_s;
        an += pr->hourly[h].arrivals;
    }
    for (size_t h = 14; h < 23; ++h) {
        pm += pr->hourly[h].wait_sum_s;
        pn += pr->hourly[h].arrivals;
    }
    cr_log_info("mean wait: morning %g s, afternoon %g s", am / an, pm / pn);
    cr_assert_gt(am / an, 3 * (pm / pn), "morning %g s vs afternoon %g s", am / an, pm / pn);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

/* Mean wait of travellers who arrived in hours [h0, h1). */
static double hours_mean_wait(const struct bx_port_result *pr, size_t h0, size_t h1)
{
    double w = 0, n = 0;
    for (size_t h = h0; h < h1; ++h) {
        w += pr->hourly[h].wait_sum_s;
        n += pr->hourly[h].arrivals;
    }
    return n > 0 ? w / n : BX_NAN;
}

Test(sim_port, camera_rollout_adds_cameras_at_every_gate_from_its_date, .timeout = 120)
{
    /* Full flights through one camera per gate until noon, four from noon on: the capacity
     * series follows the rollout and the morning's waits are far longer. */
    struct bx_ports_config cfg = air(0, 0);
    struct bx_port_config *p = &cfg.ports[0];
    p->passengers_mean = 350;
    p->camera_schedule = malloc(2 * sizeof *p->camera_schedule);
    p->camera_schedule[0] = (struct bx_capacity_step){0, 1};
    p->camera_schedule[1] = (struct bx_capacity_step){12 * 3600, 4};
    p->n_camera_schedule = 2;
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_OK, "%s", err.msg);
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_result *pr = &r.ports[0];
    cr_assert_eq(pr->hourly[8].capacity, 6.0, "6 gates x 1 camera before the rollout");
    cr_assert_eq(pr->hourly[13].capacity, 24.0, "6 gates x 4 cameras after it");
    double am = hours_mean_wait(pr, 6, 11), pm = hours_mean_wait(pr, 13, 21);
    cr_log_info("mean wait: morning %g s, afternoon %g s", am, pm);
    cr_assert_gt(am, 3 * pm, "morning %g s vs afternoon %g s", am, pm);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    /* A step without cameras is refused. */
    p->camera_schedule[1].servers = 0;
    cr_assert_eq(bx_ports_config_check(&cfg, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "camera rollout") != NULL, "%s", err.msg);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, secondary_booth_shifts_hold_watchlist_hits_until_a_booth_opens, .timeout = 120)
{
    /* Booths open only until noon: watch-list hits of the afternoon wait for the next day. */
    struct bx_ports_config cfg = air(0, 0.05);
    struct bx_port_config *p = &cfg.ports[0];
    p->secondary_shifts = malloc(2 * sizeof *p->secondary_shifts);
    p->secondary_shifts[0] = (struct bx_capacity_step){0, 3};
    p->secondary_shifts[1] = (struct bx_capacity_step){12 * 3600, 0};
    p->n_secondary_shifts = 2;
    struct bx_ports_result r;
    run(&cfg, 0, &r);
    const struct bx_port_result *pr = &r.ports[0];
    cr_assert_gt(pr->secondary, 20, "%llu secondary inspections",
                 (unsigned long long)pr->secondary);
    double am = hours_mean_wait(pr, 6, 11), pm = hours_mean_wait(pr, 13, 21);
    cr_log_info("mean wait: morning %g s, afternoon %g s", am, pm);
    cr_assert_gt(pm, 10 * am, "morning %g s vs afternoon %g s", am, pm);
    cr_assert_eq(r.conservation_violations, 0);
    bx_ports_result_fini(&r);
    bx_ports_config_fini(&cfg);
}

static bool same_float(float x, float y)
{
    return x == y || (isnan(x) && isnan(y));
}

/* Two results hold the same numbers in every field (pointers aside). */
static void assert_same_result(struct bx_ports_result *a, struct bx_ports_result *b)
{
    cr_assert_eq(a->n_ports, b->n_ports);
    for (size_t i = 0; i < a->n_ports; ++i)
        for (int k = 0; k < 3; ++k) {
            const struct bx_port_threshold *x = &a->ports[i].thr[k], *y = &b->ports[i].thr[k];
            cr_assert(x->value == y->value && x->target_fmr == y->target_fmr &&
                          x->expected_above == y->expected_above && x->subjects == y->subjects &&
                          x->resolved == y->resolved,
                      "port %zu threshold %d", i, k);
        }
    cr_assert_eq(memcmp(&a->fnmr, &b->fnmr, 5 * sizeof a->fnmr), 0, "fnmr..fta counts");
    cr_assert(a->overstays == b->overstays && a->impostors_caught == b->impostors_caught &&
              a->wl_true == b->wl_true && a->manual == b->manual && a->events == b->events &&
              a->citizen_max_retained_h == b->citizen_max_retained_h &&
              a->citizen_held_over_12h == b->citizen_held_over_12h &&
              a->noncitizen_bytes == b->noncitizen_bytes && a->overloaded == b->overloaded);
    cr_assert_eq(memcmp(a->thresholds, b->thresholds, sizeof a->thresholds), 0);
    for (size_t i = 0; i < a->n_ports; ++i) {
        struct bx_port_result *p = &a->ports[i], *q = &b->ports[i];
        cr_assert(p->travellers == q->travellers && p->manual == q->manual &&
                  p->camera_utilization == q->camera_utilization &&
                  p->camera_queue_mean == q->camera_queue_mean);
        cr_assert_eq(memcmp(&p->wait, &q->wait, sizeof p->wait), 0, "wait tally");
        cr_assert_eq(p->n_hours, q->n_hours);
        cr_assert_eq(memcmp(p->hourly, q->hourly, p->n_hours * sizeof *p->hourly), 0);
        struct bx_quantiles *qa[] = {p->wait_q, p->lane_wait_q, p->officer_wait_q};
        struct bx_quantiles *qb[] = {q->wait_q, q->lane_wait_q, q->officer_wait_q};
        for (int k = 0; k < 3; ++k) {
            cr_assert_eq(bx_quantiles_count(qa[k]), bx_quantiles_count(qb[k]));
            for (double pr = 0.05; pr < 1; pr += 0.15) {
                double x = bx_quantiles_get(qa[k], pr), y = bx_quantiles_get(qb[k], pr);
                cr_assert(x == y || (isnan(x) && isnan(y)), "quantile %g: %g vs %g", pr, x, y);
            }
        }
    }
    cr_assert_eq(a->n_samples, b->n_samples);
    for (size_t i = 0; i < a->n_samples; ++i) { /* field by field: padding is not compared */
        const struct bx_match_sample *x = &a->samples[i], *y = &b->samples[i];
        cr_assert(same_float(x->verify_score, y->verify_score) &&
                      same_float(x->top_score, y->top_score) &&
                      same_float(x->impostor_score, y->impostor_score) &&
                      x->subject == y->subject && x->impostor_subject == y->impostor_subject &&
                      x->port == y->port && x->mated == y->mated && x->accepted == y->accepted &&
                      x->watchlisted == y->watchlisted && x->watchlist_hit == y->watchlist_hit &&
                      x->citizenship == y->citizenship && x->sex == y->sex &&
                      x->region == y->region && x->age_band == y->age_band &&
                      x->device == y->device,
                  "sample %zu", i);
    }
    cr_assert_eq(a->n_streams, b->n_streams);
    for (size_t i = 0; i < a->n_streams; ++i) {
        cr_assert_str_eq(a->stream_names[i], b->stream_names[i]);
        cr_assert_eq(a->stream_seeds[i], b->stream_seeds[i]);
    }
}

Test(sim_port, packed_results_unpack_to_the_same_numbers_and_short_buffers_fail, .timeout = 60)
{
    struct bx_ports_config cfg = air(0.01, 0.01);
    struct bx_ports_result a, b;
    run(&cfg, 2, &a);
    cr_assert_gt(a.n_samples, 100);
    cr_assert_gt(a.n_streams, 3);
    struct bx_buf buf = {0};
    bx_ports_result_pack(&a, &buf);
    cr_assert(!buf.failed && buf.len > a.n_samples * sizeof *a.samples);
    struct bx_error err = {0};
    cr_assert_eq(bx_ports_result_init(&b, 3, &err), BX_OK); /* contents are replaced */
    struct bx_reader rd = {.p = buf.data, .len = buf.len};
    cr_assert_eq(bx_ports_result_unpack(&rd, &b, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(rd.pos, buf.len, "everything read");
    assert_same_result(&a, &b);
    /* Unpacked sketches go on like the originals. */
    bx_quantiles_add(a.ports[0].wait_q, 1234.5);
    bx_quantiles_add(b.ports[0].wait_q, 1234.5);
    cr_assert_eq(bx_quantiles_get(a.ports[0].wait_q, 0.999),
                 bx_quantiles_get(b.ports[0].wait_q, 0.999));
    /* Every cut of the buffer is refused, none crashes. */
    for (size_t cut = 0; cut < buf.len; cut += 1 + buf.len / 97) {
        struct bx_reader s = {.p = buf.data, .len = cut};
        struct bx_error e = {0};
        cr_assert_eq(bx_ports_result_unpack(&s, &b, &e), BX_EFORMAT, "cut at %zu", cut);
    }
    bx_buf_fini(&buf);
    bx_ports_result_fini(&a);
    bx_ports_result_fini(&b);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, a_matching_cache_gives_the_same_results_across_capacities, .timeout = 180)
{
    struct bx_ports_config cfg = land(BX_LANE_VEHICLE);
    struct bx_port_config *p = &cfg.ports[0];
    p->land.n_schedule = 0;
    struct bx_ports_cache *c = bx_ports_cache_alloc();
    struct bx_error err = {0};
    uint64_t h0, m0, h1, m1;
    unsigned lanes[] = {3, 2, 5};
    for (int k = 0; k < 3; ++k) {
        p->land.lanes = lanes[k];
        struct bx_ports_result fresh, cached;
        run(&cfg, 1, &fresh);
        cr_assert_eq(bx_ports_result_init(&cached, 1, &err), BX_OK);
        bx_ports_cache_stats(c, &h0, &m0);
        cr_assert_eq(bx_ports_run_cached(&cfg, 42, 1, c, &cached, &err), BX_OK, "%s", err.msg);
        bx_ports_cache_stats(c, &h1, &m1);
        if (k == 0)
            cr_assert(h1 == 0 && m1 == fresh.ports[0].travellers, "first run: all matched");
        else
            cr_assert(h1 - h0 == fresh.ports[0].travellers && m1 == m0,
                      "%u lanes: every traveller from the cache (%llu hits)", lanes[k],
                      (unsigned long long)(h1 - h0));
        assert_same_result(&fresh, &cached);
        if (k == 1)
            cr_assert_gt(bx_tally_mean(&fresh.ports[0].wait),
                         2 * bx_tally_mean(&cached.ports[0].wait) / 3,
                         "fewer lanes wait longer (a real change of level)");
        bx_ports_result_fini(&fresh);
        bx_ports_result_fini(&cached);
    }
    /* Another replication (other travellers) or other thresholds: matched afresh. */
    struct bx_ports_result fresh, cached;
    run(&cfg, 2, &fresh);
    cr_assert_eq(bx_ports_result_init(&cached, 1, &err), BX_OK);
    bx_ports_cache_stats(c, &h0, &m0);
    cr_assert_eq(bx_ports_run_cached(&cfg, 42, 2, c, &cached, &err), BX_OK, "%s", err.msg);
    bx_ports_cache_stats(c, &h1, &m1);
    cr_assert(h1 == h0 && m1 - m0 == fresh.ports[0].travellers);
    assert_same_result(&fresh, &cached);
    bx_ports_result_fini(&fresh);
    bx_ports_result_fini(&cached);
    cfg.one_to_n_fpir *= 30; /* the 1:n threshold, which id_ok depends on */
    run(&cfg, 2, &fresh);
    cr_assert_eq(bx_ports_result_init(&cached, 1, &err), BX_OK);
    bx_ports_cache_stats(c, &h0, &m0);
    cr_assert_eq(bx_ports_run_cached(&cfg, 42, 2, c, &cached, &err), BX_OK, "%s", err.msg);
    bx_ports_cache_stats(c, &h1, &m1);
    cr_assert_eq(h1, h0, "other thresholds: nothing from the cache");
    assert_same_result(&fresh, &cached);
    bx_ports_result_fini(&fresh);
    bx_ports_result_fini(&cached);
    bx_ports_cache_free(c);
    bx_ports_config_fini(&cfg);
}

Test(sim_port, utilisation_is_taken_over_the_sizing_window, .timeout = 120)
{
    /* 20 an hour for 5 h, then 150 an hour: over [5 h, 10 h) the lanes are far busier than
     * over the whole 10 h. */
    struct bx_ports_config cfg = land(BX_LANE_PEDESTRIAN);
    cfg.horizon_s = 10 * 3600;
    struct bx_ports_result whole, win;
    run(&cfg, 0, &whole);
    cfg.window_from_s = 5 * 3600;
    cfg.window_to_s = 10 * 3600;
    run(&cfg, 0, &win);
    double u_all = whole.ports[0].camera_utilization, u_win = win.ports[0].camera_utilization;
    /* The hourly snapshots of busy units over the window estimate the same average. */
    double busy = 0, cap = 0;
    for (size_t h = 5; h < 10; ++h) {
        busy += win.ports[0].hourly[h].busy;
        cap += win.ports[0].hourly[h].capacity;
    }
    cr_assert_gt(u_win, 1.5 * u_all, "window %g, whole run %g (150 vs 85 an hour)", u_win, u_all);
    cr_assert_float_eq(u_win, busy / cap, 0.15, "window %g, snapshots %g", u_win, busy / cap);
    cr_assert_eq(whole.ports[0].travellers, win.ports[0].travellers, "the same run otherwise");
    bx_ports_result_fini(&whole);
    bx_ports_result_fini(&win);
    bx_ports_config_fini(&cfg);
}
