/* SPDX-License-Identifier: MIT */
/* test_tplgen.c - the template generator: determinism, structure, and the direction and size of
 * the effects it must reproduce, measured on generated templates. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/matcher.h"
#include "bx/models.h"

#define D 512

static struct bx_tplgen *make(struct bx_tplgen_params *p)
{
    struct bx_error err = {0};
    struct bx_tplgen *g = bx_tplgen_alloc(p, &err);
    cr_assert_not_null(g, "%s", err.msg);
    return g;
}

static double dot(const float *a, const float *b)
{
    return bx_match_verify(a, b, D);
}

Test(models_tplgen, templates_are_unit_vectors_and_a_pure_function_of_their_keys)
{
    struct bx_tplgen_params p = bx_tplgen_params_default(D);
    struct bx_tplgen *g = make(&p), *h = make(&p);
    struct bx_demog_mix mix = bx_demog_mix_default();
    static float a[D], b[D], c[D];
    struct bx_subject s9, s5, s5b;
    struct bx_capture cap = {BX_DEVICE_GATE_CAMERA, 0.8, 3.0};
    bx_tplgen_subject(g, 9, &mix, &s9);
    bx_tplgen_capture(g, &s9, &cap, 1, c);
    bx_tplgen_subject(g, 5, &mix, &s5);
    bx_tplgen_capture(g, &s5, &cap, 1, a);
    bx_tplgen_subject(h, 5, &mix, &s5b); /* another generator, another order */
    bx_tplgen_capture(h, &s5b, &cap, 1, b);
    cr_assert(s5.id == s5b.id && s5.sex == s5b.sex && s5.region == s5b.region &&
              s5.band == s5b.band && s5.age_years == s5b.age_years &&
              s5.lookalike_of == s5b.lookalike_of);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "same keys, same template");
    cr_assert_float_eq(dot(a, a), 1.0, 1e-6);
    bx_tplgen_capture(g, &s5, &cap, 2, b);
    cr_assert_neq(memcmp(a, b, sizeof a), 0, "another sample differs");
    cr_assert_gt(dot(a, b), 0.4, "two captures of one subject are similar");
    cr_assert_lt(fabs(dot(a, c)), 0.3, "other subjects are not");
    p.seed = 99;
    struct bx_tplgen *k = make(&p);
    bx_tplgen_capture(k, &s5, &cap, 1, b);
    cr_assert_neq(memcmp(a, b, sizeof a), 0, "another seed, another world");
    bx_tplgen_free(k);
    bx_tplgen_free(h);
    bx_tplgen_free(g);
}

/* The ageing direction left unprepared (NULL) is computed where a capture needs it, and left
 * out where it does not: the same templates either way, a centre with -0 components included
 * (-0 + +0 is +0: such a centre is aged by a zero, as it would be with the direction). */
Test(models_tplgen, an_unprepared_ageing_direction_gives_the_same_templates)
{
    struct bx_tplgen_params p = bx_tplgen_params_default(D);
    struct bx_tplgen *g = make(&p);
    struct bx_demog_mix mix = bx_demog_mix_default();
    static float c[D], w[D], a[D], b[D], x[D];
    double years[] = {0.0, 0.25, 7.0};
    for (int id = 0; id < 40; ++id) {
        struct bx_subject s;
        bx_tplgen_subject(g, id, &mix, &s);
        bx_tplgen_prepare(g, &s, c, w);
        for (size_t y = 0; y < sizeof years / sizeof *years; ++y) {
            struct bx_capture cap = {(enum bx_device)(id % BX_N_DEVICES), 0.9, years[y]};
            bool ha = bx_tplgen_capture_prepared(g, &s, c, w, &cap, 3, a);
            bool hb = bx_tplgen_capture_prepared(g, &s, c, NULL, &cap, 3, b);
            bx_tplgen_capture(g, &s, &cap, 3, x);
            cr_assert(ha == hb, "subject %d, %g years", id, years[y]);
            cr_assert_eq(memcmp(a, b, sizeof a), 0, "subject %d, %g years", id, years[y]);
            cr_assert_eq(memcmp(a, x, sizeof a), 0, "subject %d, %g years", id, years[y]);
        }
    }
    /* Noiseless captures keep a -0 of the centre where the noise is -0 too: with the direction
     * that component becomes +0 (where the direction is positive). */
    for (int i = 0; i < BX_N_DEVICES; ++i)
        p.noise[i] = 0;
    struct bx_tplgen *z = make(&p);
    struct bx_subject s;
    bx_tplgen_subject(z, 11, &mix, &s);
    bx_tplgen_prepare(z, &s, c, w);
    int zeros = 0;
    for (int i = 0; i < D && zeros < 64; ++i)
        if (w[i] > 0) {
            c[i] = -0.0f;
            ++zeros;
        }
    struct bx_capture at_enrolment = {BX_DEVICE_DOCUMENT, 1.0, 0.0};
    bx_tplgen_capture_prepared(z, &s, c, w, &at_enrolment, 0, a);
    bx_tplgen_capture_prepared(z, &s, c, NULL, &at_enrolment, 0, b);
    int plus = 0;
    for (int i = 0; i < D; ++i)
        plus += c[i] == 0 && signbit(c[i]) && a[i] == 0 && !signbit(a[i]);
    cr_assert_eq(plus, zeros, "every -0 of the centre became +0 with the direction");
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "and without it");
    bx_tplgen_free(z);
    bx_tplgen_free(g);
}

/* Mean genuine score of n subjects: document enrolment vs a capture under `cap`. */
static double mean_genuine(const struct bx_tplgen *g, const struct bx_demog_mix *mix,
                           struct bx_capture cap, int n)
{
    static float e[D], x[D];
    double sum = 0;
    struct bx_capture doc = {BX_DEVICE_DOCUMENT, 1.0, 0.0};
    for (int i = 0; i < n; ++i) {
        struct bx_subject s;
        bx_tplgen_subject(g, i, mix, &s);
        bx_tplgen_capture(g, &s, &doc, 0, e);
        bx_tplgen_capture(g, &s, &cap, 1, x);
        sum += dot(e, x);
    }
    return sum / n;
}

Test(models_tplgen, worse_devices_lower_quality_and_more_ageing_lower_genuine_scores)
{
    struct bx_tplgen_params p = bx_tplgen_params_default(D);
    struct bx_tplgen *g = make(&p);
    struct bx_demog_mix mix = bx_demog_mix_default();
    enum bx_device order[] = {BX_DEVICE_DOCUMENT, BX_DEVICE_EGATE,   BX_DEVICE_GATE_CAMERA,
                              BX_DEVICE_MOBILE,   BX_DEVICE_VEHICLE, BX_DEVICE_KIOSK};
    double prev = 2;
    for (int k = 0; k < 6; ++k) {
        double m = mean_genuine(g, &mix, (struct bx_capture){order[k], 1.0, 0.0}, 400);
        cr_assert_lt(m, prev, "%s: mean genuine %g not below the better device's %g",
                     bx_device_name(order[k]), m, prev);
        prev = m;
    }
    double q1 = mean_genuine(g, &mix, (struct bx_capture){BX_DEVICE_MOBILE, 1.0, 0.0}, 400);
    double q5 = mean_genuine(g, &mix, (struct bx_capture){BX_DEVICE_MOBILE, 0.5, 0.0}, 400);
    cr_assert_lt(q5, q1 - 0.05, "half quality: %g vs %g", q5, q1);
    double y0 = mean_genuine(g, &mix, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1.0, 0.0}, 400);
    double y5 = mean_genuine(g, &mix, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1.0, 5.0}, 400);
    double y12 = mean_genuine(g, &mix, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1.0, 12.0}, 400);
    cr_assert(y0 > y5 && y5 > y12, "ageing: %g, %g, %g at 0, 5, 12 years", y0, y5, y12);
    /* Children change fastest: the same 5-year gap costs them more. */
    struct bx_demog_mix kids = mix, adults = mix;
    memset(kids.age_band, 0, sizeof kids.age_band);
    memset(adults.age_band, 0, sizeof adults.age_band);
    kids.age_band[BX_AGE_0_13] = 1;
    adults.age_band[BX_AGE_30_49] = 1;
    double dk = mean_genuine(g, &kids, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1, 0}, 300) -
                mean_genuine(g, &kids, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1, 5}, 300);
    double da = mean_genuine(g, &adults, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1, 0}, 300) -
                mean_genuine(g, &adults, (struct bx_capture){BX_DEVICE_GATE_CAMERA, 1, 5}, 300);
    cr_assert_gt(dk, 1.5 * da, "5-year loss: children %g, adults %g", dk, da);
    bx_tplgen_free(g);
}

/* Same-group impostor scores: n subjects of `mix`, all pairs of their document photos. */
static void impostors(const struct bx_tplgen *g, const struct bx_demog_mix *mix, int first, int n,
                      double *out)
{
    float *v = malloc((size_t)n * D * sizeof *v);
    struct bx_capture doc = {BX_DEVICE_DOCUMENT, 1.0, 0.0};
    for (int i = 0; i < n; ++i) {
        struct bx_subject s;
        bx_tplgen_subject(g, first + i, mix, &s);
        bx_tplgen_capture(g, &s, &doc, 0, v + (size_t)i * D);
    }
    size_t k = 0;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j)
            out[k++] = dot(v + (size_t)i * D, v + (size_t)j * D);
    free(v);
}

Test(models_tplgen, same_group_impostors_score_higher_and_women_more_than_men, .timeout = 60)
{
    struct bx_tplgen_params p = bx_tplgen_params_default(D);
    p.shared_sex[BX_SEX_FEMALE] = 0.03;
    p.shared_sex[BX_SEX_MALE] = 0.01;
    p.lookalike_fraction = 0;
    struct bx_tplgen *g = make(&p);
    struct bx_demog_mix base = bx_demog_mix_default(), fem = base, mal = base;
    memset(fem.region, 0, sizeof fem.region);
    fem.region[BX_REGION_E_EUROPE] = 1;
    mal.region[BX_REGION_E_EUROPE] = 1;
    memset(mal.region, 0, sizeof mal.region);
    mal.region[BX_REGION_E_EUROPE] = 1;
    fem.female = 1;
    mal.female = 0;
    enum { N = 600 };
    size_t np = (size_t)N * (N - 1) / 2;
    double *f = malloc(np * sizeof *f), *m = malloc(np * sizeof *m), *x = malloc(np * sizeof *x);
    impostors(g, &fem, 0, N, f);
    impostors(g, &mal, 100000, N, m);
    impostors(g, &base, 200000, N, x); /* mixed demographics */
    double mf = 0, mm = 0, mx = 0;
    for (size_t i = 0; i < np; ++i) {
        mf += f[i];
        mm += m[i];
        mx += x[i];
    }
    mf /= (double)np;
    mm /= (double)np;
    mx /= (double)np;
    cr_assert(mf > mm && mm > mx, "mean impostor: female %g, male %g, mixed %g", mf, mm, mx);
    /* At the threshold giving men FMR 1e-3, women's FMR is several times higher (NIST IR 8280:
     * 2-5x). */
    double t = bx_threshold_at_fmr(m, np, 1e-3);
    double ratio = bx_fmr_at(f, np, t) / bx_fmr_at(m, np, t);
    cr_assert(ratio > 1.5 && ratio < 20, "female/male FMR ratio %g", ratio);
    free(x);
    free(m);
    free(f);
    bx_tplgen_free(g);
}

Test(models_tplgen, lookalikes_share_demographics_and_score_high)
{
    struct bx_tplgen_params p = bx_tplgen_params_default(D);
    p.lookalike_fraction = 0.5;
    p.lookalike_cosine = 0.7;
    struct bx_tplgen *g = make(&p);
    struct bx_demog_mix mix = bx_demog_mix_default();
    static float a[D], b[D], wa[D], wb[D];
    int found = 0;
    for (int id = 1; id < 200 && found < 20; ++id) {
        struct bx_subject s, o;
        bx_tplgen_subject(g, id, &mix, &s);
        if (s.lookalike_of < 0)
            continue;
        bx_tplgen_subject(g, s.lookalike_of, &mix, &o);
        cr_assert(s.sex == o.sex && s.region == o.region && s.band == o.band);
        o.lookalike_of = -1; /* its base centre */
        bx_tplgen_prepare(g, &s, a, wa);
        bx_tplgen_prepare(g, &o, b, wb);
        if (o.id > 0) {
            struct bx_subject o2;
            bx_tplgen_subject(g, o.id, &mix, &o2);
            if (o2.lookalike_of >= 0)
                continue; /* a chain: skip */
        }
        cr_assert_float_eq(dot(a, b), 0.7, 0.08, "look-alike centre cosine %g", dot(a, b));
        ++found;
    }
    cr_assert_gt(found, 10);
    bx_tplgen_free(g);
}

Test(models_tplgen, invalid_parameters_are_rejected)
{
    struct bx_error err = {0};
    struct bx_tplgen_params p = bx_tplgen_params_default(D);
    p.shared_region[BX_REGION_E_ASIA] = 0.94;
    cr_assert_null(bx_tplgen_alloc(&p, &err));
    cr_assert(strstr(err.msg, "shared components") != NULL, "%s", err.msg);
    p = bx_tplgen_params_default(D);
    p.hard_multiplier = 0.5;
    bx_err_clear(&err);
    cr_assert_eq(bx_tplgen_params_check(&p, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "hard.multiplier") != NULL, "%s", err.msg);
    struct bx_demog_mix m = bx_demog_mix_default();
    m.region[0] += 0.5;
    cr_assert_eq(bx_demog_mix_check(&m, &err), BX_EINVAL);
    enum bx_device d;
    cr_assert(bx_device_parse("vehicle", &d) && d == BX_DEVICE_VEHICLE);
    cr_assert_not(bx_device_parse("drone", &d));
    cr_assert_eq(bx_age_band_of(13.9), BX_AGE_0_13);
    cr_assert_eq(bx_age_band_of(80), BX_AGE_80_UP);
}

/* The group directions are orthogonal. Two generators with the same seed share their directions
 * and each subject's own component: one puts 0.9 of the variance on the sex direction, the other
 * on the region direction, both leave 0.1 to the subject. The cosine of a subject's two centres
 * is then 0.1 + 0.9 cos(sex direction, region direction) up to the subject's own chance overlap
 * with them (about 0.02 per subject, averaged over 200). Random, unorthogonalised directions
 * have a cosine of about 1/sqrt(512) = 0.044 with a different value per seed. */
Test(models_tplgen, group_directions_are_orthogonal_for_every_seed)
{
    struct bx_demog_mix mix = bx_demog_mix_default();
    mix.female = 1;
    memset(mix.region, 0, sizeof mix.region);
    mix.region[BX_REGION_E_ASIA] = 1;
    static float ca[D], cb[D], wa[D], wb[D];
    for (uint64_t seed = 1; seed <= 6; ++seed) {
        struct bx_tplgen_params pa = bx_tplgen_params_default(D);
        pa.seed = seed;
        pa.lookalike_fraction = 0;
        memset(pa.shared_sex, 0, sizeof pa.shared_sex);
        memset(pa.shared_region, 0, sizeof pa.shared_region);
        memset(pa.shared_age, 0, sizeof pa.shared_age);
        struct bx_tplgen_params pb = pa;
        pa.shared_sex[BX_SEX_FEMALE] = 0.9;
        pb.shared_region[BX_REGION_E_ASIA] = 0.9;
        struct bx_tplgen *a = make(&pa), *b = make(&pb);
        double mean = 0;
        const int n = 200;
        for (int i = 0; i < n; ++i) {
            struct bx_subject s;
            bx_tplgen_subject(a, i, &mix, &s);
            cr_assert(s.sex == BX_SEX_FEMALE && s.region == BX_REGION_E_ASIA);
            bx_tplgen_prepare(a, &s, ca, wa);
            bx_tplgen_prepare(b, &s, cb, wb);
            mean += dot(ca, cb) / n;
        }
        cr_assert_lt(fabs(mean - 0.1), 0.006,
                     "seed %llu: mean cosine %g, 0.1 if the directions are orthogonal",
                     (unsigned long long)seed, mean);
        bx_tplgen_free(b);
        bx_tplgen_free(a);
    }
}
