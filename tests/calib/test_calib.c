/* SPDX-License-Identifier: MIT */
/* test_calib.c - calib/: measured figures against a brute-force count over the same score
 * matrix, the fit moving a parameter towards its target, and generated galleries that do not
 * depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/calib.h"

static struct bx_profile load_visa_best(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/profiles/visa-best.yaml", BX_SOURCE_DIR);
    struct bx_profile p;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_profile(path, &p, &err), BX_OK, "%s", err.msg);
    return p;
}

static const struct bx_profile_target *target_of(const struct bx_profile *p,
                                                 enum bx_target_metric metric)
{
    for (size_t k = 0; k < p->n_targets; ++k)
        if (p->targets[k].metric == metric)
            return &p->targets[k];
    return NULL;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

Test(calib, fnmr_equals_a_brute_force_count_over_the_same_scores)
{
    struct bx_profile p = load_visa_best();
    struct bx_profile_target tt = *target_of(&p, BX_TARGET_FNMR_AT_FMR), *t = &tt;
    tt.fmr = 1e-4; /* 16 of the 159,600 impostor scores above the threshold */
    struct bx_error err = {0};
    struct bx_tplgen *gen = bx_tplgen_alloc(&p.params, &err);
    cr_assert_not_null(gen, "%s", err.msg);
    const size_t n = 400;
    struct bx_calib_figure m;
    cr_assert_eq(bx_calib_measure(gen, &p.mix, t, n, &m, &err), BX_OK, "%s", err.msg);

    /* Independently: every impostor score sorted, the threshold the (m+1)-th highest. */
    float *s = malloc(n * n * sizeof *s), *imp = malloc(n * (n - 1) * sizeof *imp);
    cr_assert(s && imp);
    cr_assert_eq(bx_calib_score_matrix(gen, &p.mix, t, 0, n, s, &err), BX_OK, "%s", err.msg);
    size_t k = 0;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
            if (i != j)
                imp[k++] = s[i * n + j];
    qsort(imp, k, sizeof *imp, cmp_desc);
    size_t mth = (size_t)floor(t->fmr * (double)k);
    float thr = imp[mth];
    size_t miss = 0;
    for (size_t i = 0; i < n; ++i)
        miss += !(s[i * n + i] > thr);
    cr_assert_eq(m.trials, n);
    cr_assert_eq(m.errors, miss, "measured %zu errors, brute force %zu", m.errors, miss);
    cr_assert_float_eq(m.value, (double)miss / (double)n, 1e-15);
    cr_assert(m.lo <= m.value && m.value <= m.hi);
    /* The matrix's genuine diagonal is far above its impostors. */
    double gen_mean = 0, imp_mean = 0;
    for (size_t i = 0; i < n; ++i)
        gen_mean += s[i * n + i] / (double)n;
    for (size_t i = 0; i < k; ++i)
        imp_mean += imp[i] / (double)k;
    cr_assert_gt(gen_mean, imp_mean + 0.3);
    free(imp);
    free(s);
    bx_tplgen_free(gen);
    bx_scn_profile_fini(&p);
}

Test(calib, a_target_too_fine_for_the_sample_is_refused)
{
    struct bx_profile p = load_visa_best();
    struct bx_profile_target t = *target_of(&p, BX_TARGET_FNMR_AT_FMR);
    t.fmr = 0.9999; /* every impostor pair but one above the threshold: no room for m + 1 */
    struct bx_error err = {0};
    struct bx_tplgen *gen = bx_tplgen_alloc(&p.params, &err);
    struct bx_calib_figure m;
    cr_assert_eq(bx_calib_measure(gen, &p.mix, &t, 50, &m, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "cannot resolve") != NULL, "%s", err.msg);
    /* ... and one so fine that no impostor score of the sample is expected above it: the
     * threshold would be the single highest score. */
    t.fmr = 1e-6;
    cr_assert_eq(bx_calib_measure(gen, &p.mix, &t, 400, &m, &err), BX_EINVAL);
    cr_assert(strstr(err.msg, "cannot resolve") != NULL, "%s", err.msg);
    bx_tplgen_free(gen);
    bx_scn_profile_fini(&p);
}

Test(calib, within_accepts_the_tolerance_or_the_interval)
{
    struct bx_profile_target t = {.value = 0.01, .tolerance = 0.1};
    struct bx_calib_figure a = {.value = 0.0105, .lo = 0.0104, .hi = 0.0106};
    struct bx_calib_figure b = {.value = 0.02, .lo = 0.005, .hi = 0.03};
    struct bx_calib_figure c = {.value = 0.02, .lo = 0.015, .hi = 0.03};
    cr_assert(bx_calib_within(&t, &a));
    cr_assert(bx_calib_within(&t, &b));
    cr_assert_not(bx_calib_within(&t, &c));
}

Test(calib, fitting_moves_the_parameter_towards_the_target)
{
    /* One FNMR target, one free parameter (the probe device's noise) started away from the value
     * that meets it: the fit must move it the right way and bring FNMR closer to the target. */
    struct bx_profile p = load_visa_best();
    struct bx_profile_target t = *target_of(&p, BX_TARGET_FNMR_AT_FMR);
    t.fmr = 1e-3;
    t.value = 0.02;
    p.targets[0] = t;
    p.n_targets = 1;
    char name[48];
    snprintf(name, sizeof name, "noise.%s", bx_device_name(t.probe_device));
    snprintf(p.fit[0], sizeof p.fit[0], "%s", name);
    p.n_fit = 1;
    double *noise = bx_scn_profile_param(&p.params, name);
    cr_assert_not_null(noise, "%s", name);
    *noise *= 2.5;
    double before = *noise;
    struct bx_error err = {0};
    struct bx_tplgen *gen = bx_tplgen_alloc(&p.params, &err);
    struct bx_calib_figure m0, m1;
    cr_assert_eq(bx_calib_measure(gen, &p.mix, &t, 300, &m0, &err), BX_OK, "%s", err.msg);
    bx_tplgen_free(gen);
    struct bx_calib_opts o = bx_calib_opts_default(&p);
    o.subjects = 300;
    o.seeds = 1;
    cr_assert_eq(bx_calib_fit(&p, &o, 25, NULL, NULL, &err), BX_OK, "%s", err.msg);
    /* Noise raises FNMR: the parameter must move the way the error asks. */
    cr_assert_eq(*noise > before, m0.value < t.value, "noise %g -> %g, FNMR %g, target %g", before,
                 *noise, m0.value, t.value);
    gen = bx_tplgen_alloc(&p.params, &err);
    cr_assert_eq(bx_calib_measure(gen, &p.mix, &t, 300, &m1, &err), BX_OK, "%s", err.msg);
    cr_assert_lt(fabs(log(fmax(m1.value, 1e-4) / t.value)),
                 fabs(log(fmax(m0.value, 1e-4) / t.value)), "FNMR %g -> %g, target %g", m0.value,
                 m1.value, t.value);
    bx_tplgen_free(gen);
    p.n_fit = 0;
    cr_assert_eq(bx_calib_fit(&p, &o, 5, NULL, NULL, &err), BX_EINVAL);
    bx_scn_profile_fini(&p);
}

Test(calib, galleries_do_not_depend_on_the_thread_count)
{
    struct bx_profile p = load_visa_best();
    struct bx_error err = {0};
    struct bx_calib_gallery_opts o = {300, 3, BX_DEVICE_GATE_CAMERA, 0.8, 2.0, 1, 0};
    struct bx_store *a = bx_calib_gallery(&p, &o, &err);
    o.threads = 3;
    struct bx_store *b = bx_calib_gallery(&p, &o, &err);
    cr_assert(a && b, "%s", err.msg);
    size_t n = bx_store_rows(a), d = bx_store_dim(a);
    cr_assert_eq(n, 900);
    cr_assert_eq(bx_store_rows(b), n);
    for (size_t r = 0; r < n; ++r) {
        cr_assert_eq(memcmp(bx_store_row(a, r), bx_store_row(b, r), d * sizeof(float)), 0,
                     "row %zu", r);
        cr_assert_eq(bx_store_subject(a, r), bx_store_subject(b, r));
    }
    cr_assert_eq(bx_store_columns(a), bx_calib_gallery_n_columns);
    for (size_t j = 0; j < bx_store_columns(a); ++j) {
        const char *na, *nb;
        enum bx_column_type ta, tb;
        const double *va = bx_store_column(a, j, &na, &ta), *vb = bx_store_column(b, j, &nb, &tb);
        cr_assert_str_eq(na, bx_calib_gallery_columns[j]);
        cr_assert_eq(memcmp(va, vb, n * sizeof *va), 0, "column %s", na);
        if (strcmp(na, "sample") == 0)
            for (size_t r = 0; r < n; ++r)
                cr_assert_eq(va[r], (double)(r % 3));
        if (strcmp(na, "device") == 0)
            for (size_t r = 0; r < n; ++r)
                cr_assert_eq(va[r], r % 3 == 0 ? BX_DEVICE_DOCUMENT : BX_DEVICE_GATE_CAMERA);
    }
    /* Samples of one subject share its id; the document photo is sample 0. */
    cr_assert_eq(bx_store_subject(a, 0), bx_store_subject(a, 2));
    cr_assert_neq(bx_store_subject(a, 2), bx_store_subject(a, 3));
    bx_store_free(b);
    bx_store_free(a);
    o.subjects = 0;
    cr_assert_null(bx_calib_gallery(&p, &o, &err));
    bx_scn_profile_fini(&p);
}

/* An FMR ratio's interval must be as wide as its value really varies. The n(n-1) impostor pairs
 * share subjects, so a binomial interval over pairs is far too narrow; the subject bootstrap's
 * must hold the mean of many independent seeds about 95% of the time. 40 seeds of 400 subjects
 * (ratio at FMR 1e-2, 1596 reference pairs above the threshold): at least 36 intervals must hold
 * the 40 seeds' mean (a true 95% interval misses more than 4 of 40 once in 20; these seeds give
 * 40 of 40; an interval half as wide, as resampling the subjects' counts without the
 * U-statistic's factor of two gives, holds it in 34 of 40, and a binomial interval over pairs
 * in about a third). */
Test(calib, ratio_intervals_hold_the_seed_to_seed_spread, .timeout = 120)
{
    struct bx_profile p = load_visa_best();
    struct bx_profile_target t = *target_of(&p, BX_TARGET_FMR_RATIO);
    t.fmr = 1e-2;
    const unsigned seeds = 40;
    struct bx_calib_figure f[40];
    double mean = 0;
    struct bx_error err = {0};
    for (unsigned i = 0; i < seeds; ++i) {
        struct bx_tplgen_params params = p.params;
        params.seed = 500 + i;
        struct bx_tplgen *gen = bx_tplgen_alloc(&params, &err);
        cr_assert_not_null(gen, "%s", err.msg);
        cr_assert_eq(bx_calib_measure(gen, &p.mix, &t, 400, &f[i], &err), BX_OK, "%s", err.msg);
        cr_assert_eq(f[i].interval, BX_CALIB_SUBJECT_BOOTSTRAP);
        cr_assert(f[i].lo < f[i].value && f[i].value < f[i].hi, "%g [%g, %g]", f[i].value, f[i].lo,
                  f[i].hi);
        mean += f[i].value / seeds;
        bx_tplgen_free(gen);
    }
    unsigned held = 0;
    for (unsigned i = 0; i < seeds; ++i)
        held += f[i].lo <= mean && mean <= f[i].hi;
    cr_assert_geq(held, 36, "%u of %u intervals hold the seeds' mean %g", held, seeds, mean);
    bx_scn_profile_fini(&p);
}

/* Several seeds combine as documented: FNMR pools the seeds' errors and trials, an FMR ratio is
 * the mean of the seeds' ratios, the range is the seeds' smallest and largest values, and the
 * interval is at least as wide as the seeds' own Student-t interval. */
Test(calib, several_seeds_pool_counts_and_average_ratios, .timeout = 120)
{
    struct bx_profile p = load_visa_best();
    struct bx_profile_target t[2] = {*target_of(&p, BX_TARGET_FNMR_AT_FMR),
                                     *target_of(&p, BX_TARGET_FMR_RATIO)};
    t[0].fmr = 1e-3;
    t[1].fmr = 1e-2;
    p.targets[0] = t[0];
    p.targets[1] = t[1];
    p.n_targets = 2;
    struct bx_calib_opts o = bx_calib_opts_default(&p);
    o.subjects = 300;
    o.seeds = 4;
    o.first_seed = 40;
    struct bx_calib_figure all[2], one[2][4];
    struct bx_error err = {0};
    cr_assert_eq(bx_calib_measure_profile(&p, &o, all, &err), BX_OK, "%s", err.msg);
    for (unsigned i = 0; i < 4; ++i) {
        struct bx_tplgen_params params = p.params;
        params.seed = 40 + i;
        struct bx_tplgen *gen = bx_tplgen_alloc(&params, &err);
        for (int k = 0; k < 2; ++k)
            cr_assert_eq(bx_calib_measure(gen, &p.mix, &t[k], 300, &one[k][i], &err), BX_OK);
        bx_tplgen_free(gen);
    }
    for (int k = 0; k < 2; ++k) {
        size_t errors = 0, trials = 0;
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        for (unsigned i = 0; i < 4; ++i) {
            errors += one[k][i].errors;
            trials += one[k][i].trials;
            sum += one[k][i].value;
            lo = fmin(lo, one[k][i].value);
            hi = fmax(hi, one[k][i].value);
        }
        cr_assert_eq(all[k].errors, errors);
        cr_assert_eq(all[k].trials, trials);
        cr_assert_eq(all[k].seeds, 4);
        cr_assert_eq(all[k].seed_lo, lo);
        cr_assert_eq(all[k].seed_hi, hi);
        double value = k == 0 ? (double)errors / (double)trials : sum / 4;
        cr_assert_float_eq(all[k].value, value, 1e-12, "%g, want %g", all[k].value, value);
        double ss = 0;
        for (unsigned i = 0; i < 4; ++i)
            ss += (one[k][i].value - sum / 4) * (one[k][i].value - sum / 4);
        double half = 3.182446 * sqrt(ss / 3 / 4); /* t(0.975, 3) */
        cr_assert(all[k].lo <= fmax(0, value - half) + 1e-12 && all[k].hi >= value + half - 1e-12,
                  "[%g, %g], seeds' half-width %g", all[k].lo, all[k].hi, half);
    }
    bx_scn_profile_fini(&p);
}
