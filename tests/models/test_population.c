/* SPDX-License-Identifier: MIT */
/* test_population.c - travellers, arrival processes and capture outcomes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "bx/models.h"

static gsl_rng *rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

/* |observed - expected| within 5 binomial standard deviations. */
static void near_share(size_t k, size_t n, double p, const char *what)
{
    double sd = sqrt((double)n * p * (1 - p)) + 1e-9;
    cr_assert_lt(fabs((double)k - (double)n * p) / sd, 5.0, "%s: %zu of %zu, expected %g", what, k,
                 n, p);
}

Test(models_population, travellers_follow_the_configured_mix)
{
    struct bx_pop_config c = bx_pop_config_default();
    c.overstay_rate = 0.02;
    c.impostor_rate = 0.01;
    c.watchlist_rate = 0.005;
    c.removal_rate = 0.003;
    struct bx_error err = {0};
    cr_assert_eq(bx_pop_config_check(&c, &err), BX_OK, "%s", err.msg);
    gsl_rng *r = rng(1);
    enum { N = 200000 };
    size_t cit[BX_N_CITIZENSHIPS] = {0}, band[BX_N_AGE_BANDS] = {0}, female = 0, over = 0,
           noncit = 0, imp = 0, watch = 0, us_over = 0, bcc_not_americas = 0;
    double photo_max = 0, child_photo_max = 0;
    for (int i = 0; i < N; ++i) {
        struct bx_traveller t;
        bx_pop_draw(&c, r, i, &t);
        cit[t.citizenship]++;
        band[t.band]++;
        female += t.sex == BX_SEX_FEMALE;
        imp += t.impostor;
        if (t.citizenship == BX_CIT_US) {
            us_over += t.overstay || t.watchlisted || t.prior_removal;
        } else {
            noncit++;
            over += t.overstay;
            watch += t.watchlisted;
            cr_assert_eq(t.overstay, t.stay_end_days < 0, "an overstay has negative stay left");
        }
        if (t.citizenship == BX_CIT_MEXICAN_BCC)
            bcc_not_americas += t.region != BX_REGION_AMERICAS;
        cr_assert(t.age_years >= 0 && t.age_years < 95 && bx_age_band_of(t.age_years) == t.band);
        cr_assert(t.photo_age_years <= t.age_years + 1e-12);
        photo_max = fmax(photo_max, t.photo_age_years);
        if (t.band == BX_AGE_0_13)
            child_photo_max = fmax(child_photo_max, t.photo_age_years);
    }
    for (int k = 0; k < BX_N_CITIZENSHIPS; ++k)
        near_share(cit[k], N, c.citizenship[k], bx_citizenship_name((enum bx_citizenship)k));
    for (int k = 0; k < BX_N_AGE_BANDS; ++k)
        near_share(band[k], N, c.age_band[k], bx_age_band_name((enum bx_age_band)k));
    cr_assert_gt(band[BX_AGE_0_13], 0, "children are in the population");
    cr_assert_gt(band[BX_AGE_80_UP], 0, "so are the over-79s");
    near_share(female, N, c.female, "female");
    near_share(over, noncit, c.overstay_rate, "overstays");
    near_share(watch, noncit, c.watchlist_rate, "watch-listed");
    near_share(imp, N, c.impostor_rate, "impostors");
    cr_assert_eq(us_over, 0, "U.S. citizens do not overstay");
    cr_assert_eq(bcc_not_americas, 0);
    cr_assert(photo_max > 9 && photo_max <= 10);
    cr_assert_leq(child_photo_max, 5.0, "a child's passport photo is at most 5 years old");
    gsl_rng_free(r);
}

Test(models_population, invalid_configurations_are_rejected)
{
    struct bx_pop_config c = bx_pop_config_default();
    struct bx_error err = {0};
    c.citizenship[0] += 0.1;
    cr_assert_eq(bx_pop_config_check(&c, &err), BX_EINVAL);
    c = bx_pop_config_default();
    c.region[BX_CIT_DIPLOMAT][0] = -0.1;
    cr_assert_eq(bx_pop_config_check(&c, &err), BX_EINVAL);
    struct bx_capture_config k = bx_capture_config_default();
    k.fta[BX_DEVICE_VEHICLE] = 1.0;
    cr_assert_eq(bx_capture_config_check(&k, &err), BX_EINVAL);
}

Test(models_population, party_sizes_follow_their_distribution)
{
    struct bx_pop_config c = bx_pop_config_default();
    gsl_rng *r = rng(2);
    size_t counts[BX_PARTY_MAX + 1] = {0};
    for (int i = 0; i < 100000; ++i) {
        unsigned k = bx_pop_party_size(&c, r);
        cr_assert(k >= 1 && k <= BX_PARTY_MAX);
        counts[k]++;
    }
    for (int k = 1; k <= BX_PARTY_MAX; ++k)
        near_share(counts[k], 100000, c.party_size[k - 1], "party size");
    gsl_rng_free(r);
}

Test(models_arrivals, hourly_profile_counts_match_their_rates)
{
    struct bx_arrival_profile p = {{0}};
    for (int h = 0; h < 24; ++h)
        p.rate_per_h[h] = h < 5 ? 0.0 : 20.0 + 40.0 * sin(h / 3.0) * sin(h / 3.0);
    gsl_rng *r = rng(3);
    enum { DAYS = 100 };
    size_t count[24] = {0};
    double t = 0;
    for (;;) {
        t = bx_arrival_next(&p, r, t);
        if (t >= DAYS * 86400.0)
            break;
        count[(int)fmod(floor(t / 3600), 24)]++;
    }
    for (int h = 0; h < 24; ++h) {
        double expect = p.rate_per_h[h] * DAYS;
        if (expect == 0) {
            cr_assert_eq(count[h], 0, "hour %d is closed", h);
            continue;
        }
        cr_assert_lt(fabs((double)count[h] - expect) / sqrt(expect), 5.0,
                     "hour %d: %zu arrivals, expected %g", h, count[h], expect);
    }
    struct bx_arrival_profile none = {{0}};
    cr_assert(isinf(bx_arrival_next(&none, r, 0)));
    gsl_rng_free(r);
}

Test(models_arrivals, boarding_waves_stay_in_their_window)
{
    gsl_rng *r = rng(4);
    enum { N = 20000 };
    static double t[N];
    /* A departure at 10:00 with boarding from 09:15 to 09:45, busiest at 09:25. */
    double open = 9.25 * 3600, mode = 9.4167 * 3600, close = 9.75 * 3600;
    bx_arrival_wave(r, N, open, mode, close, t);
    double sum = 0;
    for (int i = 0; i < N; ++i) {
        cr_assert(t[i] >= open && t[i] <= close);
        cr_assert(i == 0 || t[i] >= t[i - 1], "sorted");
        sum += t[i];
    }
    double mean = (open + mode + close) / 3, sd = (close - open) / sqrt(18.0);
    cr_assert_lt(fabs(sum / N - mean) / (sd / sqrt((double)N)), 5.0);
    gsl_rng_free(r);
}

Test(models_capture, failures_retries_and_opt_outs_follow_the_configuration)
{
    struct bx_capture_config c = bx_capture_config_default();
    c.fta[BX_DEVICE_VEHICLE] = 0.3;
    c.max_attempts = 2;
    c.us_optout = 0.1;
    gsl_rng *r = rng(5);
    struct bx_traveller us = {.citizenship = BX_CIT_US}, visa = {.citizenship = BX_CIT_VISA};
    enum { N = 100000 };
    size_t opted = 0, acquired = 0, two = 0, visa_opted = 0;
    double time = 0;
    for (int i = 0; i < N; ++i) {
        struct bx_capture_outcome o;
        bx_capture_run(&c, BX_DEVICE_VEHICLE, &us, 1.0, r, &o);
        opted += o.opted_out;
        if (o.opted_out) {
            cr_assert_eq(o.attempts, 0);
            continue;
        }
        acquired += o.acquired;
        two += o.attempts == 2;
        time += o.time_s / o.attempts;
        bx_capture_run(&c, BX_DEVICE_VEHICLE, &visa, 1.0, r, &o);
        visa_opted += o.opted_out;
    }
    size_t tried = N - opted;
    near_share(opted, N, 0.1, "U.S. opt-outs");
    cr_assert_eq(visa_opted, 0, "non-citizens cannot opt out");
    near_share(acquired, tried, 1 - 0.3 * 0.3, "acquired within 2 attempts");
    near_share(two, tried, 0.3, "second attempts");
    cr_assert_float_eq(time / (double)tried, c.time_mean_s[BX_DEVICE_VEHICLE], 0.05);
    /* Harder conditions fail more often. */
    size_t hard_fail = 0;
    for (int i = 0; i < 20000; ++i) {
        struct bx_capture_outcome o;
        bx_capture_run(&c, BX_DEVICE_VEHICLE, &visa, 3.0, r, &o);
        hard_fail += !o.acquired;
    }
    cr_assert_gt(hard_fail, 20000 * 0.09 * 2, "a penalty of 3 raises the failure rate");
    gsl_rng_free(r);
}

/* A traveller's latent difficulty is shared by every attempt: with difficulty_sd s, an attempt
 * fails with probability p(z) = logistic(logit(fta) + s z), z the traveller's standard normal, so
 * that failing three times in a row has probability E[p(z)^3], far above fta^3 when s > 0 (and
 * equal to it when s = 0). Integrated here by the trapezoidal rule over z. */
static double fail_all(double fta, double s, int attempts)
{
    double sum = 0, h = 0.001;
    for (double z = -8; z <= 8; z += h) {
        double lo = log(fta / (1 - fta)) + s * z, p = 1 / (1 + exp(-lo));
        sum += pow(p, attempts) * exp(-z * z / 2) / sqrt(2 * 3.14159265358979323846) * h;
    }
    return sum;
}

Test(models_capture, retries_of_one_traveller_are_correlated_through_the_latent_difficulty)
{
    struct bx_capture_config c = bx_capture_config_default();
    c.fta[BX_DEVICE_GATE_CAMERA] = 0.05;
    c.max_attempts = 3;
    struct bx_pop_config pc = bx_pop_config_default();
    gsl_rng *r = rng(8), *pr = rng(9);
    enum { N = 200000 };
    for (int k = 0; k < 2; ++k) {
        c.difficulty_sd = k == 0 ? 0.0 : 2.0;
        size_t failed = 0;
        for (int i = 0; i < N; ++i) {
            struct bx_traveller t;
            bx_pop_draw(&pc, pr, i, &t);
            t.citizenship = BX_CIT_VISA;
            struct bx_capture_outcome o;
            bx_capture_run(&c, BX_DEVICE_GATE_CAMERA, &t, 1.0, r, &o);
            failed += !o.acquired && !o.excluded;
        }
        double want = fail_all(0.05, c.difficulty_sd, 3);
        near_share(failed, N, want, "every attempt failed");
        if (k == 1)
            cr_assert_gt(want, 20 * pow(0.05, 3), "correlated retries fail far more often");
    }
    gsl_rng_free(pr);
    gsl_rng_free(r);
}

/* Staff wave wheelchair users and travellers with small children past the camera at the
 * configured probabilities; no one else is excluded, and an excluded traveller makes no attempt. */
Test(models_capture, staff_exclusions_follow_the_configuration)
{
    struct bx_capture_config c = bx_capture_config_default();
    c.exclude_wheelchair = 0.6;
    c.exclude_family = 0.3;
    struct bx_pop_config pc = bx_pop_config_default();
    pc.wheelchair_rate = 0.04;
    pc.with_children_rate = 0.1;
    gsl_rng *r = rng(10), *pr = rng(11);
    enum { N = 200000 };
    size_t wc = 0, wc_ex = 0, fam = 0, fam_ex = 0, other_ex = 0, kids = 0;
    for (int i = 0; i < N; ++i) {
        struct bx_traveller t;
        bx_pop_draw(&pc, pr, i, &t);
        kids += t.band == BX_AGE_0_13;
        cr_assert(t.band != BX_AGE_0_13 || t.with_children, "a child counts as with children");
        struct bx_capture_outcome o;
        bx_capture_run(&c, BX_DEVICE_GATE_CAMERA, &t, 1.0, r, &o);
        if (o.excluded)
            cr_assert(o.attempts == 0 && !o.acquired && o.time_s == 0);
        if (o.opted_out)
            continue;
        if (t.wheelchair) {
            ++wc;
            wc_ex += o.excluded;
        } else if (t.with_children) {
            ++fam;
            fam_ex += o.excluded;
        } else {
            other_ex += o.excluded;
        }
    }
    near_share(wc, N, 0.04, "wheelchair users");
    near_share(wc_ex, wc, 0.6, "wheelchair users excluded");
    near_share(fam_ex, fam, 0.3, "travellers with children excluded");
    cr_assert_eq(other_ex, 0, "nobody else is excluded");
    cr_assert_gt(kids, 0);
    gsl_rng_free(pr);
    gsl_rng_free(r);
}

/* Before the 2025 rule: exempt travellers walk past the camera (no attempt, no time, the same
 * draws used); each exemption applies to its own group only, and never to U.S. citizens. */
Test(models_capture, pre_rule_exemptions_apply_to_their_groups_only)
{
    struct bx_capture_config c = bx_capture_config_default();
    struct bx_pop_config pc = bx_pop_config_default();
    for (int k = 0; k < BX_N_CITIZENSHIPS; ++k)
        pc.citizenship[k] = 1.0 / BX_N_CITIZENSHIPS;
    gsl_rng *pr = rng(12), *a = rng(1), *b = rng(1);
    enum { N = 50000 };
    for (unsigned bit = 1; bit <= BX_EXEMPT_ALL; bit <<= 1) {
        c.exempt = bit;
        cr_assert_not_null(bx_exempt_name(bit));
        size_t exempt = 0, group = 0;
        for (int i = 0; i < N; ++i) {
            struct bx_traveller t;
            bx_pop_draw(&pc, pr, i, &t);
            bool in = t.citizenship != BX_CIT_US &&
                      (bit == BX_EXEMPT_UNDER_14   ? t.age_years < 14
                       : bit == BX_EXEMPT_OVER_79  ? t.age_years > 79
                       : bit == BX_EXEMPT_CANADIAN ? t.citizenship == BX_CIT_CANADIAN
                                                   : t.citizenship == BX_CIT_DIPLOMAT);
            group += in;
            cr_assert_eq(bx_capture_exempt(&c, &t), in, "%s, traveller %d", bx_exempt_name(bit), i);
            /* the capture: no attempt, and the stream advanced as for an opt-out (two draws) */
            gsl_rng_set(a, (unsigned long)i);
            gsl_rng_set(b, (unsigned long)i);
            struct bx_capture_outcome o;
            bx_capture_run(&c, BX_DEVICE_MOBILE, &t, 1.0, a, &o);
            exempt += o.exempt;
            cr_assert_eq(o.exempt, in);
            if (o.exempt && i < 2000) {
                cr_assert(o.attempts == 0 && o.time_s == 0 && !o.acquired);
                gsl_rng_uniform(b);
                gsl_rng_uniform(b);
                cr_assert_eq(gsl_rng_get(a), gsl_rng_get(b), "two draws, as documented");
            }
        }
        cr_assert_gt(group, 0, "%s: some travellers in the group", bx_exempt_name(bit));
        cr_assert_eq(exempt, group);
    }
    c.exempt = BX_EXEMPT_ALL + 16;
    struct bx_error err = {0};
    cr_assert_eq(bx_capture_config_check(&c, &err), BX_EINVAL);
    gsl_rng_free(b);
    gsl_rng_free(a);
    gsl_rng_free(pr);
}

/* A harder traveller's usable photo is a poorer one: quality exp(-k z) for difficulty z > 0, 1
 * otherwise, never 0. */
Test(models_capture, photo_quality_falls_with_the_travellers_difficulty)
{
    struct bx_capture_config c = bx_capture_config_default();
    struct bx_traveller t = {.difficulty = 1.5};
    cr_assert_eq(bx_capture_quality(&c, &t), 1.0, "difficulty_quality 0: always 1");
    c.difficulty_quality = 0.75;
    cr_assert_float_eq(bx_capture_quality(&c, &t), exp(-0.75 * 1.5), 1e-15);
    t.difficulty = -2;
    cr_assert_eq(bx_capture_quality(&c, &t), 1.0);
    t.difficulty = 50;
    c.difficulty_quality = 2;
    cr_assert_gt(bx_capture_quality(&c, &t), 0);
}
