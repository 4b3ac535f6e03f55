/* SPDX-License-Identifier: MIT */
/* test_lifecycle.c - the lifecycle module: the overstay report's accounting against the truth,
 * capture at exit, prior removals caught at entry, BIMS retention, citizens kept out of BIMS,
 * determinism across threads, records.sqlite against overstay.json, and bad scenarios. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bx/lifecycle.h"
#include "bx/matcher.h"
#include "bx/port.h"
#include "bx/report.h"
#include "bx/scn.h"

/* A one-class air scenario; @p extra is appended to the class, @p modes to the file. */
static void load(struct bx_scn *scn, const char *klass, const char *top)
{
    char text[4096];
    snprintf(text, sizeof text,
             "name: t\nkind: lifecycle\nseed: 5\nstart_date: 2026-01-01\n"
             "horizon: {days: 90, warmup_days: 20}\n"
             "bims: {measure_sizes: [], measure_probes: 10}\n%s"
             "classes:\n  - name: visitors\n    citizenship: visa_waiver\n%s",
             top, klass);
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_string(text, strlen(text), "t.yaml", scn, &err), BX_OK, "%s", err.msg);
    scn->lifecycle.profile = bx_tplgen_params_default(128);
}

/* A generator whose captures are nearly exact copies of the identity: every genuine pair
 * matches and scores above every impostor. */
static void perfect(struct bx_lc_config *c)
{
    struct bx_tplgen_params *p = &c->profile;
    for (int d = 0; d < BX_N_DEVICES; ++d)
        p->noise[d] = 0.02;
    p->hard_fraction = 0;
    p->drift_per_decade = 0;
    p->lookalike_fraction = 0;
    for (int m = 0; m < BX_LC_N_MODES; ++m) {
        struct bx_lc_mode_config *md = &c->modes[m];
        for (int d = 0; d < BX_N_DEVICES; ++d)
            md->capture.fta[d] = 0;
        md->capture.exclude_family = md->capture.exclude_wheelchair = 0;
        md->capture.difficulty_quality = 0;
        md->entry_photographed = md->exit_photographed = 1;
        md->staged_rate = 1;
    }
}

static void run(const struct bx_lc_config *c, uint32_t rep, struct bx_lc_result *r)
{
    struct bx_error err = {0};
    cr_assert_eq(bx_lc_result_init(r, c->n_classes, &err), BX_OK);
    cr_assert_eq(bx_lc_run(c, 11, rep, r, &err), BX_OK, "%s", err.msg);
}

static uint64_t total(const struct bx_lc_result *r, enum bx_lc_count c)
{
    return bx_lc_count_sum(r, SIZE_MAX, BX_LC_N_MODES, c);
}

static const char visitors[] = "    arrivals_per_day: {air: 120}\n"
                               "    authorised: {dist: deterministic, value_days: 30}\n"
                               "    trip: {dist: uniform, min_days: 1, max_days: 40}\n"
                               "    overstay_rate: 0.05\n"
                               "    overstay: {dist: exponential, mean_days: 10}\n"
                               "    never_leave_rate: 0.03\n";

Test(lifecycle, perfect_records_find_exactly_those_still_here)
{
    struct bx_scn scn;
    load(&scn, visitors, "modes: {air: {biographic: 0}}\n");
    perfect(&scn.lifecycle);
    struct bx_lc_result r;
    run(&scn.lifecycle, 0, &r);
    uint64_t expected = total(&r, BX_LC_EXPECTED), here = total(&r, BX_LC_TRUE_IN_COUNTRY);
    cr_assert_gt(expected, 5000);
    cr_assert_gt(here, 50, "never-leavers and late leavers still here: %llu",
                 (unsigned long long)here);
    cr_expect_eq(total(&r, BX_LC_IN_COUNTRY), here);
    cr_expect_eq(total(&r, BX_LC_IN_COUNTRY_FALSE), 0);
    cr_expect_eq(total(&r, BX_LC_MISSED), 0);
    /* out-of-country overstays: exactly the late leavers already gone */
    cr_expect_eq(total(&r, BX_LC_OUT_OF_COUNTRY), total(&r, BX_LC_OUT_TRUE));
    cr_expect_eq(total(&r, BX_LC_OUT_TRUE) + here, total(&r, BX_LC_TRUE_OVERSTAY));
    bx_lc_result_fini(&r);
    bx_scn_fini(&scn);
}

Test(lifecycle, unphotographed_leavers_become_false_overstays_at_one_minus_p)
{
    struct bx_scn scn;
    load(&scn, visitors, "modes: {air: {biographic: 0}}\n");
    perfect(&scn.lifecycle);
    double p = 0.8;
    scn.lifecycle.modes[BX_LC_AIR].exit_photographed = p;
    struct bx_lc_result r;
    run(&scn.lifecycle, 0, &r);
    uint64_t gone = total(&r, BX_LC_EXPECTED) - total(&r, BX_LC_TRUE_IN_COUNTRY);
    uint64_t f = total(&r, BX_LC_IN_COUNTRY_FALSE);
    double want = (1 - p) * (double)gone, sd = sqrt(p * (1 - p) * (double)gone);
    cr_expect(fabs((double)f - want) < 3.5 * sd, "false %llu of %llu gone, want %.0f +- %.0f",
              (unsigned long long)f, (unsigned long long)gone, want, 3.5 * sd);
    cr_expect_eq(bx_lc_count_sum(&r, SIZE_MAX, BX_LC_N_MODES,
                                 (enum bx_lc_count)(BX_LC_CAUSE0 + BX_LC_NOT_PHOTOGRAPHED)),
                 f, "every false one was not photographed");
    /* with the manifest as a biographic record, none */
    scn.lifecycle.modes[BX_LC_AIR].biographic = 1;
    struct bx_lc_result r2;
    run(&scn.lifecycle, 0, &r2);
    cr_expect_eq(total(&r2, BX_LC_IN_COUNTRY_FALSE), 0);
    bx_lc_result_fini(&r2);
    bx_lc_result_fini(&r);
    bx_scn_fini(&scn);
}

/* 1 - FNIR of mated searches of the watch list and removal gallery, as the engine builds them
 * (document photos; live entry captures at quality 1, the document photo new), at @p thr. */
static double caught_share(const struct bx_lc_config *c, double thr, size_t n, size_t *trials)
{
    struct bx_error err = {0};
    struct bx_tplgen *g = bx_tplgen_alloc(&c->profile, &err);
    cr_assert_not_null(g);
    size_t d = bx_tplgen_dim(g), W = c->watchlist_size, R = c->removal_size;
    float *gal = malloc((W + R) * d * sizeof *gal), *q = malloc(n * d * sizeof *q);
    int64_t *ids = malloc((W + R) * sizeof *ids);
    struct bx_demog_mix mix = bx_demog_mix_default();
    for (size_t i = 0; i < W + R; ++i) {
        struct bx_subject s;
        ids[i] = i < W ? 3000000000LL + (int64_t)i : 4000000000LL + (int64_t)(i - W);
        bx_tplgen_subject(g, ids[i], &mix, &s);
        bx_tplgen_capture(g, &s, &(struct bx_capture){BX_DEVICE_DOCUMENT, 1, 0}, 0, gal + i * d);
    }
    int64_t *who = malloc(n * sizeof *who);
    for (size_t j = 0; j < n; ++j) {
        struct bx_subject s;
        who[j] = 4000000000LL + (int64_t)(bx_hash64(j + 99) % R);
        bx_tplgen_subject(g, who[j], &mix, &s);
        bx_tplgen_capture(g, &s, &(struct bx_capture){c->modes[BX_LC_AIR].entry_device, 1, 0},
                          1000003 + 4 * j, q + j * d);
    }
    struct bx_store *st = bx_store_alloc(d, W + R, &err);
    cr_assert_eq(bx_store_add(st, gal, W + R, ids, NULL, &err), BX_OK);
    struct bx_search_opts so = bx_search_opts_default();
    so.k = 1;
    so.threshold = thr;
    so.fast = W + R > 1024;
    struct bx_hit *h = malloc(n * sizeof *h);
    size_t *nh = malloc(n * sizeof *nh), hits = 0;
    cr_assert_eq(bx_match_one_to_n(st, q, n, &so, h, nh, &err), BX_OK);
    for (size_t j = 0; j < n; ++j)
        hits += nh[j] == 1 && h[j].subject == who[j];
    *trials = n;
    free(nh), free(h), free(who), free(ids), free(q), free(gal);
    bx_store_free(st);
    bx_tplgen_free(g);
    return (double)hits / (double)n;
}

Test(lifecycle, prior_removals_are_caught_at_one_minus_fnir)
{
    struct bx_scn scn;
    load(&scn,
         "    arrivals_per_day: {air: 60}\n"
         "    authorised: {dist: deterministic, value_days: 30}\n"
         "    trip: {dist: uniform, min_days: 1, max_days: 20}\n"
         "    removal_rate: 0.3\n"
         "    impostor_rate: 0\n    watchlist_rate: 0\n",
         "population: {photo_age_max_years: 0}\nwatchlist_size: 300\nremoval_size: 1500\n"
         "thresholds: {watchlist_fpir: 0.2}\n");
    struct bx_lc_config *c = &scn.lifecycle;
    /* a noisy generator, so that FNIR is far from 0 */
    for (int d = 0; d < BX_N_DEVICES; ++d)
        c->profile.noise[d] = 1.6;
    c->profile.hard_fraction = 0;
    for (int m = 0; m < BX_LC_N_MODES; ++m) {
        for (int d = 0; d < BX_N_DEVICES; ++d)
            c->modes[m].capture.fta[d] = 0;
        c->modes[m].capture.difficulty_quality = 0;
        c->modes[m].capture.exclude_family = c->modes[m].capture.exclude_wheelchair = 0;
        c->modes[m].entry_photographed = 1;
    }
    struct bx_lc_result r;
    run(c, 0, &r);
    const uint64_t *fl = r.flows[BX_LC_AIR];
    uint64_t n = fl[BX_LC_REMOVALS], k = fl[BX_LC_REMOVALS_CAUGHT];
    cr_assert_gt(n, 1000);
    size_t trials;
    double want = caught_share(c, r.thresholds[BX_LC_AIR][2], 4000, &trials);
    double got = (double)k / (double)n;
    cr_assert(want > 0.1 && want < 0.95, "1 - FNIR = %.3f: the test needs it away from 0 and 1",
              want);
    double sd = sqrt(want * (1 - want) / (double)n + want * (1 - want) / (double)trials);
    cr_expect(fabs(got - want) < 3.5 * sd, "caught %.4f (%llu of %llu), 1 - FNIR %.4f +- %.4f", got,
              (unsigned long long)k, (unsigned long long)n, want, 3.5 * sd);
    bx_lc_result_fini(&r);
    bx_scn_fini(&scn);
}

Test(lifecycle, a_record_is_gone_after_its_retention_deadline)
{
    static const char k[] = "    arrivals_per_day: {air: 40}\n"
                            "    authorised: {dist: deterministic, value_days: 60}\n"
                            "    trip: {dist: deterministic, value_days: 30}\n";
    struct bx_scn scn;
    load(&scn, k, "modes: {air: {biographic: 0, stage_document: false}}\n");
    perfect(&scn.lifecycle);
    struct bx_lc_result kept, gone;
    run(&scn.lifecycle, 0, &kept);
    cr_expect_eq(total(&kept, BX_LC_IN_COUNTRY_FALSE), 0);
    scn.lifecycle.bims.retention_years = 10 / 365.25; /* deleted 10 days after entry */
    run(&scn.lifecycle, 0, &gone);
    uint64_t f = total(&gone, BX_LC_IN_COUNTRY_FALSE);
    cr_expect_gt(f, 500);
    /* nothing left to stage for the exit photo: no match, or a false one with the others */
    uint64_t ns = bx_lc_count_sum(&gone, SIZE_MAX, BX_LC_N_MODES,
                                  (enum bx_lc_count)(BX_LC_CAUSE0 + BX_LC_NOT_STAGED)),
             wl = bx_lc_count_sum(&gone, SIZE_MAX, BX_LC_N_MODES,
                                  (enum bx_lc_count)(BX_LC_CAUSE0 + BX_LC_WRONG_LINK));
    cr_expect_eq(ns + wl, f);
    cr_expect_gt(ns, 0.95 * (double)f);
    cr_expect_eq(gone.flows[BX_LC_AIR][BX_LC_LINK_RIGHT], 0);
    cr_expect_gt(gone.store.expired, 0);
    cr_expect_eq(gone.store.live, gone.store.enrolled - gone.store.expired);
    bx_lc_result_fini(&gone);
    bx_lc_result_fini(&kept);
    bx_scn_fini(&scn);
}

Test(lifecycle, citizen_photos_never_enter_bims)
{
    char text[2048];
    snprintf(text, sizeof text,
             "name: t\nkind: lifecycle\nstart_date: 2026-01-01\nhorizon: {days: 30}\n"
             "classes:\n"
             "  - name: citizens\n    citizenship: us_citizen\n    arrivals_per_day: {air: 50}\n"
             "    trip: {dist: deterministic, value_days: 5}\n"
             "  - name: visitors\n    citizenship: visa\n    arrivals_per_day: {air: 50}\n"
             "    authorised: {dist: deterministic, value_days: 30}\n"
             "    trip: {dist: deterministic, value_days: 5}\n");
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_string(text, strlen(text), "c.yaml", &scn, &err), BX_OK, "%s",
                 err.msg);
    scn.lifecycle.profile = bx_tplgen_params_default(128);
    scn.lifecycle.records = true;
    struct bx_lc_result r;
    run(&scn.lifecycle, 0, &r);
    size_t us_entries = 0, us_enrolled = 0, visa_enrolled = 0;
    for (size_t i = 0; i < r.n_records; ++i) {
        const struct bx_lc_record *x = &r.records[i];
        if (x->kind != 0)
            continue;
        bool enrolled = (x->flags >> 5) & 1;
        if (x->klass == 0) {
            us_entries++;
            us_enrolled += enrolled;
        } else {
            visa_enrolled += enrolled;
        }
    }
    cr_assert_gt(us_entries, 1000);
    cr_expect_eq(us_enrolled, 0);
    cr_expect_gt(visa_enrolled, 1000);
    cr_expect_eq(r.store.enrolled, visa_enrolled);
    bx_lc_result_fini(&r);
    bx_scn_fini(&scn);
}

Test(lifecycle, the_same_numbers_with_any_thread_count)
{
    struct bx_scn scn;
    load(&scn,
         "    arrivals_per_day: {air: 40, land_pedestrian: 60}\n"
         "    authorised: {dist: deterministic, value_days: 30}\n"
         "    trip: {dist: exponential, mean_days: 8}\n"
         "    never_leave_rate: 0.02\n    repeat_rate: 0.5\n",
         "modes: {land_pedestrian: {gallery_size: 3000}}\n");
    struct bx_lc_result a, b;
    scn.lifecycle.threads = 1;
    run(&scn.lifecycle, 1, &a);
    scn.lifecycle.threads = 3;
    run(&scn.lifecycle, 1, &b);
    size_t n = scn.lifecycle.n_classes * BX_LC_N_MODES * BX_LC_N_COUNTS;
    cr_expect_eq(memcmp(a.counts, b.counts, n * sizeof *a.counts), 0);
    cr_expect_eq(memcmp(a.flows, b.flows, sizeof a.flows), 0);
    cr_expect_gt(total(&a, BX_LC_EXPECTED), 1000);
    /* and a pack/unpack (MPI's way) carries everything */
    struct bx_buf buf = {0};
    bx_lc_result_pack(&a, &buf);
    struct bx_lc_result c;
    struct bx_error err = {0};
    cr_assert_eq(bx_lc_result_init(&c, scn.lifecycle.n_classes, &err), BX_OK);
    struct bx_reader rd = {buf.data, buf.len, 0, false};
    cr_assert_eq(bx_lc_result_unpack(&rd, &c, &err), BX_OK, "%s", err.msg);
    cr_expect_eq(memcmp(a.counts, c.counts, n * sizeof *a.counts), 0);
    cr_expect_eq(memcmp(a.flows, c.flows, sizeof a.flows), 0);
    bx_buf_fini(&buf);
    bx_lc_result_fini(&c);
    bx_lc_result_fini(&b);
    bx_lc_result_fini(&a);
    bx_scn_fini(&scn);
}

static long long query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

Test(lifecycle, records_sqlite_counts_equal_overstay_json)
{
    struct bx_scn scn;
    load(&scn,
         "    arrivals_per_day: {air: 40, land_pedestrian: 60}\n"
         "    authorised: {dist: deterministic, value_days: 30}\n"
         "    trip: {dist: exponential, mean_days: 8}\n"
         "    overstay_rate: 0.05\n    never_leave_rate: 0.02\n    repeat_rate: 0.5\n",
         "modes: {land_pedestrian: {gallery_size: 2000}}\n");
    scn.lifecycle.records = true;
    struct bx_lc_result r;
    run(&scn.lifecycle, 0, &r);
    char dir[] = "/tmp/bx_lc_XXXXXX", db[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/records.sqlite", dir);
    struct bx_error err = {0};
    cr_assert_eq(bx_rpt_write_records(db, &scn.lifecycle, &r, &err), BX_OK, "%s", err.msg);
    struct bx_rpt_run_info info = {.scenario = "t", .version = "test", .wall_s = BX_NAN};
    struct bx_rpt_lifecycle lc = {&info, &scn.lifecycle, &r, 1, NULL, NULL, 0};
    json_t *ov = bx_rpt_overstay_json(&lc);
    cr_assert_not_null(ov);
    json_t *c0 = json_array_get(json_object_get(ov, "replication_counts"), 0);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
#define JS(name) json_integer_value(json_object_get(c0, name))
    cr_expect_eq(query(h, "SELECT count(*) FROM flags WHERE kind = 'suspected_in_country'"),
                 JS("suspected_in_country"));
    cr_expect_eq(query(h, "SELECT count(*) FROM flags WHERE kind = 'suspected_in_country' AND "
                          "truth = 'false'"),
                 JS("in_country_false"));
    cr_expect_eq(query(h, "SELECT count(*) FROM flags WHERE kind = 'out_of_country'"),
                 JS("out_of_country"));
    cr_expect_eq(query(h, "SELECT count(*) FROM flags WHERE cause = 'not_staged'"),
                 JS("not_staged"));
    cr_expect_eq(query(h, "SELECT count(*) FROM flags WHERE cause = 'not_photographed'"),
                 JS("not_photographed"));
    cr_expect_gt(JS("in_country_false"), 0, "the check needs false flags");
    /* the documented kind of question: false flags of land pedestrians not photographed */
    cr_expect_eq(
        query(h, "SELECT count(*) FROM flags f JOIN modes m ON m.id = f.entry_mode "
                 "WHERE m.name = 'land_pedestrian' AND f.truth = 'false'"),
        (long long)bx_lc_count_sum(&r, SIZE_MAX, BX_LC_PEDESTRIAN, BX_LC_IN_COUNTRY_FALSE));
    /* every stay an exit belongs to entered */
    cr_expect_eq(query(h, "SELECT count(*) FROM exits x LEFT JOIN entries e ON e.stay = x.stay "
                          "WHERE e.id IS NULL AND x.day >= 0"),
                 0);
#undef JS
    sqlite3_close(h);
    json_decref(ov);
    unlink(db);
    rmdir(dir);
    bx_lc_result_fini(&r);
    bx_scn_fini(&scn);
}

Test(lifecycle, whole_store_fpir_model_agrees_with_real_searches)
{
    struct bx_scn scn;
    load(&scn, visitors, "");
    struct bx_lc_config *c = &scn.lifecycle;
    /* a threshold with FMR near 1e-4 for the air exit camera against entry photos */
    struct bx_port_threshold t;
    struct bx_error err = {0};
    cr_assert_eq(bx_port_threshold_for(&c->profile, c->modes[BX_LC_AIR].exit_device, 1500, 1e-4, 1,
                                       &t, &err),
                 BX_OK, "%s", err.msg);
    struct bx_lc_fmr f;
    cr_assert_eq(bx_lc_fmr_at(c, t.value, 3000, &f, &err), BX_OK, "%s", err.msg);
    cr_assert(f.fmr > 2e-5 && f.fmr < 5e-4, "FMR %g", f.fmr);
    c->bims.n_measure = 3;
    c->bims.measure_sizes[0] = 2000;
    c->bims.measure_sizes[1] = 6000;
    c->bims.measure_sizes[2] = 20000;
    c->bims.measure_probes = 1500;
    double sizes[4] = {2000, 6000, 20000, 1e7};
    struct bx_lc_fpir_point p[4];
    cr_assert_eq(bx_lc_store_fpir(c, &f, sizes, 4, 2, NULL, p, &err), BX_OK, "%s", err.msg);
    /* the spread is fitted at the largest store searched, so the model passes through it ... */
    cr_assert(p[2].measured);
    cr_expect_str_eq(f.shape_from, "search of 20000");
    cr_expect(fabs(p[2].fpir - p[2].measured_fpir) < 1e-6 || !isfinite(f.shape));
    /* ... and predicts the smaller ones it was not fitted to */
    for (int i = 0; i < 2; ++i) {
        cr_assert(p[i].measured);
        cr_expect(p[i].measured_hi >= p[i].lo && p[i].measured_lo <= p[i].hi,
                  "N = %g: measured %.4f [%.4f, %.4f], model %.4f [%.4f, %.4f]", p[i].size,
                  p[i].measured_fpir, p[i].measured_lo, p[i].measured_hi, p[i].fpir, p[i].lo,
                  p[i].hi);
        cr_expect_leq(p[i].fpir, p[i].independent + 1e-12);
    }
    cr_expect(p[0].measured_fpir > 0.05 && p[1].measured_fpir > p[0].measured_fpir);
    cr_expect_not(p[3].measured);
    cr_expect_gt(p[3].fpir, 0.99, "a store of 10^7 at this FMR returns someone nearly always");
    cr_expect_float_eq(p[3].candidates, 1e7 * f.fmr, 1e-9 * p[3].candidates);
    bx_scn_fini(&scn);
}

/* ---------------------------------------------------------------- bad scenarios */

static void bad(const char *klass, const char *top, int line, const char *needle)
{
    char text[4096];
    snprintf(text, sizeof text,
             "name: t\nkind: lifecycle\nstart_date: 2026-01-01\nhorizon: {days: 90}\n%s"
             "classes:\n  - name: visitors\n    citizenship: visa_waiver\n%s",
             top, klass);
    struct bx_scn scn;
    struct bx_error err = {0};
    enum bx_status st = bx_scn_load_string(text, strlen(text), "bad.yaml", &scn, &err);
    cr_assert_neq(st, BX_OK, "accepted:\n%s", text);
    cr_expect_eq(err.src_line, line, "%s", err.msg);
    cr_expect_gt(err.src_col, 0);
    cr_expect(strstr(err.msg, "bad.yaml:") == err.msg, "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, needle), "'%s' not in: %s", needle, err.msg);
}

Test(lifecycle_scenario, bad_input_names_file_line_and_column)
{
    static const char ok_trip[] = "    trip: {dist: deterministic, value_days: 5}\n";
    char k[512];
    snprintf(k, sizeof k,
             "    arrivals_per_day: {air: 10}\n"
             "    authorised: {dist: uniform, min_days: -5, max_days: 30}\n%s",
             ok_trip);
    bad(k, "", 9, "min");
    snprintf(k, sizeof k,
             "    arrivals_per_day: {air: 10}\n"
             "    authorised: {dist: deterministic, value_days: 30}\n"
             "    trip: {dist: triangular, min_days: -1, mode_days: 2, max_days: 9}\n");
    bad(k, "", 10, "min");
    snprintf(k, sizeof k,
             "    arrivals_per_day: {air: 10}\n"
             "    authorised: {dist: deterministic, value_days: 30}\n%s",
             ok_trip);
    bad(k, "sample: 0\n", 5, "sample");
    bad(k, "sample: 1.5\n", 5, "sample");
    snprintf(k, sizeof k,
             "    arrivals_per_day: {air: 10}\n"
             "    authorised: {dist: deterministic, value_days: 30}\n%s"
             "    exit_modes: {land_vehicle: {air: 1}}\n",
             ok_trip);
    bad(k, "", 11, "no arrivals");
    snprintf(k, sizeof k,
             "    arrivals_per_day: {air: 10}\n"
             "    authorised: {dist: deterministic, value_days: 30}\n%s"
             "    exit_modes: {air: {sea: 0.5, air: 0.4}}\n",
             ok_trip);
    bad(k, "", 11, "sum");
    snprintf(k, sizeof k,
             "    arrivals_per_day: {airplane: 10}\n"
             "    authorised: {dist: deterministic, value_days: 30}\n%s",
             ok_trip);
    bad(k, "", 8, "unknown mode");
}
