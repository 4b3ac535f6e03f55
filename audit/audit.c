/* SPDX-License-Identifier: MIT */
/* audit.c - rates, intervals, claims, thresholds and breakdowns (bx/audit.h). Formulas:
 * docs/sources.md section 6 (exact binomial bounds, the rule of 3, Wilson,
 * trials needed, subject-level bootstrap, demographic differentials at one global threshold,
 * FPIR ~ 1 - (1 - FMR)^N).
 *
 * An audit takes two passes over its comparisons: the first builds the genuine and impostor
 * score distributions (threshold, EER, FNMR at fixed FMR); the second, at the threshold now
 * fixed, counts errors per subject (for the bootstrap) and per group (for the breakdowns).
 */
#define _POSIX_C_SOURCE 200809L
#include "audit_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "bx/sim.h"

/* ---------------------------------------------------------------- intervals and claims */

void bx_audit_cp(uint64_t x, uint64_t n, double confidence, double *lo, double *hi)
{
    struct bx_ci ci = bx_ci_binomial(x, n, confidence);
    *lo = ci.lo;
    *hi = ci.hi;
}

void bx_audit_wilson(uint64_t x, uint64_t n, double confidence, double *lo, double *hi)
{
    if (n == 0) {
        *lo = *hi = BX_NAN;
        return;
    }
    double z = gsl_cdf_ugaussian_Qinv((1 - confidence) / 2), dn = (double)n, p = (double)x / dn;
    double den = 1 + z * z / dn, mid = p + z * z / (2 * dn),
           half = z * sqrt(p * (1 - p) / dn + z * z / (4 * dn * dn));
    *lo = fmax(0, (mid - half) / den);
    *hi = fmin(1, (mid + half) / den);
}

double bx_audit_cp_upper(uint64_t x, uint64_t n, double confidence)
{
    if (n == 0)
        return BX_NAN;
    if (x >= n)
        return 1;
    return bx_beta_quantile(confidence, (double)x + 1, (double)(n - x));
}

double bx_audit_cp_lower(uint64_t x, uint64_t n, double confidence)
{
    if (n == 0)
        return BX_NAN;
    if (x == 0)
        return 0;
    return bx_beta_quantile(1 - confidence, (double)x, (double)(n - x) + 1);
}

/* Errors among n trials: @p x of them (a fixed count), or ceil(rate n) (a fixed rate). */
static uint64_t errors_at(uint64_t n, uint64_t x, double rate)
{
    return isnan(rate) ? x : (uint64_t)ceil(rate * (double)n);
}

/* The smallest n >= @p lo whose upper bound is below @p claim: the bound falls as n grows (the
 * errors fixed, or growing with the rate), so double, then bisect; UINT64_MAX beyond 2^53. */
static uint64_t first_supporting(uint64_t lo, uint64_t x, double rate, double claim,
                                 double confidence)
{
    uint64_t hi = lo + 1;
    while (bx_audit_cp_upper(errors_at(hi, x, rate), hi, confidence) >= claim) {
        lo = hi;
        hi *= 2;
        if (hi > (1ULL << 53))
            return UINT64_MAX;
    }
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (bx_audit_cp_upper(errors_at(mid, x, rate), mid, confidence) < claim)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t bx_audit_trials_needed(uint64_t x, double claim, double confidence)
{
    BX_REQUIRE(claim > 0 && claim < 1);
    return first_supporting(x + 1, x, BX_NAN, claim, confidence);
}

uint64_t bx_audit_trials_needed_at_rate(double rate, double claim, double confidence)
{
    BX_REQUIRE(claim > 0 && claim < 1 && rate >= 0);
    if (!(rate < claim))
        return UINT64_MAX;
    return first_supporting(1, 0, rate, claim, confidence);
}

const char *bx_audit_verdict_name(enum bx_audit_verdict v)
{
    return v == BX_AUDIT_SUPPORTED ? "supported"
           : v == BX_AUDIT_REFUTED ? "refuted"
                                   : "not enough data";
}

enum bx_audit_verdict bx_audit_claim(uint64_t x, uint64_t n, double claim, double confidence)
{
    if (n == 0)
        return BX_AUDIT_NOT_ENOUGH_DATA;
    if (bx_audit_cp_upper(x, n, confidence) < claim)
        return BX_AUDIT_SUPPORTED;
    if (bx_audit_cp_lower(x, n, confidence) > claim)
        return BX_AUDIT_REFUTED;
    return BX_AUDIT_NOT_ENOUGH_DATA;
}

/* ---------------------------------------------------------------- the audit object */

struct counts {
    uint64_t gen_n, gen_err, imp_n, imp_err;
};

struct subject {
    char *name;
    struct counts c;
};

struct group_value {
    char value[64];
    struct counts c;
};

struct group_col {
    struct group_value *v;
    size_t n, cap;
};

struct bx_audit {
    struct bx_audit_opts o;
    struct bx_audit_scores *gen, *imp;
    uint64_t gen_failed, imp_failed; /* NaN scores */
    uint64_t fta_n, fta_err;
    int pass;
    bool per_row;             /* each comparison judged at its own threshold (bx_audit__add_at) */
    uint64_t holdout_dropped; /* comparisons across the two parts of a holdout split */
    double thr;
    bool thr_done;
    /* pass 2 */
    struct subject *subj; /* open addressing, cap a power of two */
    size_t n_subj, cap_subj;
    struct group_col groups[BX_AUDIT_MAX_GROUPS];
    json_t *extra; /* one_to_n, from template inputs */
};

struct bx_audit_opts bx_audit_opts_default(void)
{
    return (struct bx_audit_opts){.threshold = BX_NAN,
                                  .at_fmr = 1e-3,
                                  .claim_fmr = BX_NAN,
                                  .claim_fnmr = BX_NAN,
                                  .confidence = 0.95,
                                  .bootstrap = 1000,
                                  .seed = 1,
                                  .volume_per_year = BX_NAN,
                                  .gallery_size = 1,
                                  .run_threshold = true};
}

struct bx_audit *bx_audit_alloc(const struct bx_audit_opts *o, struct bx_error *err)
{
    if (!(o->confidence > 0 && o->confidence < 1)) {
        BX_FAIL(err, BX_EINVAL, "confidence must lie in (0, 1)");
        return NULL;
    }
    if (!(o->holdout >= 0 && o->holdout < 1) || (o->holdout > 0 && !isnan(o->threshold))) {
        BX_FAIL(err, BX_EINVAL,
                "holdout must lie in [0, 1) and needs a threshold chosen from the scores "
                "(--at-fmr), not a given one");
        return NULL;
    }
    if (isnan(o->threshold) && !(o->at_fmr > 0 && o->at_fmr < 1)) {
        BX_FAIL(err, BX_EINVAL, "at-fmr must lie in (0, 1)");
        return NULL;
    }
    struct bx_audit *a = calloc(1, sizeof *a);
    if (a == NULL) {
        BX_FAIL(err, BX_ENOMEM, "out of memory");
        return NULL;
    }
    a->o = *o;
    a->pass = 1;
    a->gen = bx_audit_scores_alloc(err);
    a->imp = bx_audit_scores_alloc(err);
    if (a->gen == NULL || a->imp == NULL) {
        bx_audit_free(a);
        return NULL;
    }
    return a;
}

void bx_audit_free(struct bx_audit *a)
{
    if (a == NULL)
        return;
    bx_audit_scores_free(a->gen);
    bx_audit_scores_free(a->imp);
    for (size_t i = 0; i < a->cap_subj; ++i)
        free(a->subj[i].name);
    free(a->subj);
    for (size_t g = 0; g < BX_AUDIT_MAX_GROUPS; ++g)
        free(a->groups[g].v);
    json_decref(a->extra);
    free(a);
}

void bx_audit_counts(const struct bx_audit *a, uint64_t *genuine, uint64_t *impostor)
{
    *genuine = bx_audit_scores_n(a->gen) + a->gen_failed;
    *impostor = bx_audit_scores_n(a->imp) + a->imp_failed;
}

/* FMR at t: impostor scores >= t over every impostor comparison (failed ones included). */
static uint64_t fm_at(struct bx_audit *a, double t)
{
    return bx_audit_scores_ge(a->imp, t);
}

/* False non-matches at t: genuine scores below t, plus the failed comparisons. */
static uint64_t fnm_at(struct bx_audit *a, double t)
{
    return bx_audit_scores_n(a->gen) - bx_audit_scores_ge(a->gen, t) + a->gen_failed;
}

/* The smallest observed score t with FMR(t) <= f (scores of both kinds are candidates); just
 * above the highest impostor score when even that one is too many. */
static double threshold_at_fmr(struct bx_audit *a, double f)
{
    uint64_t ni, ng;
    bx_audit_counts(a, &ng, &ni);
    uint64_t nfin = bx_audit_scores_n(a->imp);
    uint64_t m = (uint64_t)floor(f * (double)ni * (1 + 1e-12));
    if (nfin == 0)
        return -BX_INF;
    if (m >= nfin) {
        /* Every impostor score may match: the lowest score of all. */
        double g = bx_audit_scores_n(a->gen)
                       ? bx_audit_scores_kth_highest(a->gen, bx_audit_scores_n(a->gen))
                       : BX_INF;
        double i = bx_audit_scores_kth_highest(a->imp, nfin);
        return fmin(g, i);
    }
    double x = bx_audit_scores_kth_highest(a->imp, m + 1); /* must not match */
    double t = fmin(bx_audit_scores_above(a->imp, x), bx_audit_scores_above(a->gen, x));
    return isfinite(t) ? t : nextafter(x, BX_INF);
}

double bx_audit_threshold(struct bx_audit *a)
{
    if (!a->thr_done) {
        /* A given threshold is compared at the precision scores are kept in (float32, both
         * rounded to nearest): a score written as the threshold passes. A threshold at a target
         * FMR is found among the kept scores already. */
        a->thr = isnan(a->o.threshold)      ? threshold_at_fmr(a, a->o.at_fmr)
                 : a->o.threshold_source[0] ? a->o.threshold
                                            : (double)(float)a->o.threshold;
        a->thr_done = true;
    }
    return a->thr;
}

static uint64_t hash_str(const char *s);

/* Whether @p subject is in the part of a holdout split that chooses the threshold. */
static bool in_selection(const struct bx_audit *a, const char *subject)
{
    uint64_t h = hash_str(subject) ^ bx_rng_seed(a->o.seed, 0, "audit/holdout");
    h ^= h >> 33; /* a finaliser (MurmurHash3's fmix64): every bit of the name moves the draw */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (double)(h >> 11) * 0x1.0p-53 < a->o.holdout;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; ++s)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct subject *subject_get(struct bx_audit *a, const char *name, struct bx_error *err)
{
    if (2 * (a->n_subj + 1) > a->cap_subj) {
        size_t cap = a->cap_subj ? 2 * a->cap_subj : 1024;
        struct subject *ns = calloc(cap, sizeof *ns);
        if (ns == NULL) {
            BX_FAIL(err, BX_ENOMEM, "out of memory for subjects");
            return NULL;
        }
        for (size_t i = 0; i < a->cap_subj; ++i)
            if (a->subj[i].name) {
                size_t j = hash_str(a->subj[i].name) & (cap - 1);
                while (ns[j].name)
                    j = (j + 1) & (cap - 1);
                ns[j] = a->subj[i];
            }
        free(a->subj);
        a->subj = ns;
        a->cap_subj = cap;
    }
    size_t j = hash_str(name) & (a->cap_subj - 1);
    while (a->subj[j].name && strcmp(a->subj[j].name, name) != 0)
        j = (j + 1) & (a->cap_subj - 1);
    if (a->subj[j].name == NULL) {
        if ((a->subj[j].name = strdup(name)) == NULL) {
            BX_FAIL(err, BX_ENOMEM, "out of memory for subjects");
            return NULL;
        }
        a->n_subj++;
    }
    return &a->subj[j];
}

static struct counts *group_get(struct bx_audit *a, size_t g, const char *value,
                                struct bx_error *err)
{
    struct group_col *c = &a->groups[g];
    for (size_t i = 0; i < c->n; ++i)
        if (strcmp(c->v[i].value, value) == 0)
            return &c->v[i].c;
    if (c->n == 4096) {
        BX_FAIL(err, BX_EINVAL, "group column '%s' has more than 4096 values", a->o.group_names[g]);
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct group_value *v = realloc(c->v, cap * sizeof *v);
        if (v == NULL) {
            BX_FAIL(err, BX_ENOMEM, "out of memory for groups");
            return NULL;
        }
        c->v = v;
        c->cap = cap;
    }
    struct group_value *v = &c->v[c->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->value, sizeof v->value, "%s", value);
    return &v->c;
}

static void count(struct counts *c, bool genuine, bool error)
{
    if (genuine) {
        c->gen_n++;
        c->gen_err += error;
    } else {
        c->imp_n++;
        c->imp_err += error;
    }
}

/* One comparison, judged (second pass) at threshold @p t. */
static enum bx_status add(struct bx_audit *a, const char *probe_subject,
                          const char *reference_subject, double score, const char *const *groups,
                          double t, struct bx_error *err)
{
    bool genuine = strcmp(probe_subject, reference_subject) == 0;
    if (!isnan(score) && !isfinite(score))
        return BX_FAIL(err, BX_EINVAL, "score must be finite or NaN (a failed comparison)");
    if (a->o.holdout > 0) {
        /* The selection part feeds the threshold (pass 1), the test part is counted (pass 2). */
        bool sel = in_selection(a, probe_subject);
        if (!genuine && sel != in_selection(a, reference_subject)) {
            a->holdout_dropped += a->pass == 1;
            return BX_OK;
        }
        if (sel != (a->pass == 1))
            return BX_OK;
    }
    if (a->pass == 1) {
        if (isnan(score)) {
            if (genuine)
                a->gen_failed++;
            else
                a->imp_failed++;
            return BX_OK;
        }
        return bx_audit_scores_add(genuine ? a->gen : a->imp, score, err);
    }
    /* Genuine: a failed or below-threshold comparison is a false non-match. Impostor: a score
     * at or above the threshold is a false match (a failed comparison is not). */
    bool error = genuine ? (isnan(score) || (double)(float)score < t)
                         : (!isnan(score) && (double)(float)score >= t);
    struct subject *s = subject_get(a, probe_subject, err);
    if (s == NULL)
        return BX_ENOMEM;
    count(&s->c, genuine, error);
    for (size_t g = 0; groups && g < a->o.n_groups; ++g) {
        struct counts *c = group_get(a, g, groups[g] ? groups[g] : "", err);
        if (c == NULL)
            return bx_err_code(err, BX_ENOMEM);
        count(c, genuine, error);
    }
    return BX_OK;
}

enum bx_status bx_audit_add(struct bx_audit *a, const char *probe_subject,
                            const char *reference_subject, double score, const char *const *groups,
                            struct bx_error *err)
{
    return add(a, probe_subject, reference_subject, score, groups, a->thr, err);
}

enum bx_status bx_audit__add_at(struct bx_audit *a, const char *probe_subject,
                                const char *reference_subject, double score,
                                const char *const *groups, double threshold, struct bx_error *err)
{
    a->per_row = true;
    return add(a, probe_subject, reference_subject, score, groups, threshold, err);
}

void bx_audit__set_extra(struct bx_audit *a, const char *key, json_t *value)
{
    if (a->extra == NULL)
        a->extra = json_object();
    json_object_set_new(a->extra, key, value);
}

enum bx_status bx_audit__add_row(struct bx_audit *a, int64_t probe, const int64_t *refs,
                                 const float *scores, size_t n, struct bx_error *err)
{
    if (a->pass == 1) {
        for (size_t i = 0; i < n; ++i) {
            double x = (double)scores[i];
            if (isnan(x)) {
                if (refs[i] == probe)
                    a->gen_failed++;
                else
                    a->imp_failed++;
            } else if (bx_audit_scores_add(refs[i] == probe ? a->gen : a->imp, x, err) != BX_OK) {
                return BX_ENOMEM;
            }
        }
        return BX_OK;
    }
    char name[32];
    snprintf(name, sizeof name, "%lld", (long long)probe);
    struct subject *s = subject_get(a, name, err);
    if (s == NULL)
        return BX_ENOMEM;
    for (size_t i = 0; i < n; ++i) {
        double x = (double)scores[i];
        bool genuine = refs[i] == probe;
        bool error = genuine ? (isnan(x) || x < a->thr) : (!isnan(x) && x >= a->thr);
        count(&s->c, genuine, error);
    }
    return BX_OK;
}

void bx_audit__set_groups(struct bx_audit *a, const struct bx_audit_opts *o)
{
    a->o.n_groups = o->n_groups;
    memcpy(a->o.group_names, o->group_names, sizeof a->o.group_names);
}

void bx_audit__set_fta(struct bx_audit *a, uint64_t errors, uint64_t trials)
{
    a->fta_err = errors;
    a->fta_n = trials;
}

void bx_audit_second_pass(struct bx_audit *a)
{
    bx_audit_threshold(a);
    a->pass = 2;
}

/* ---------------------------------------------------------------- results */

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *pair(double lo, double hi)
{
    return isfinite(lo) && isfinite(hi) ? json_pack("[ff]", lo, hi) : json_null();
}

/* A rate: {value, ci95, ci, errors, trials, wilson, upper_one_sided, lower_one_sided,
 * rule_of_3 (no error seen), bootstrap}. */
static json_t *rate_json(const struct bx_audit *a, uint64_t x, uint64_t n, const double *boot)
{
    double c = a->o.confidence, lo, hi, wl, wh, l95, h95;
    bx_audit_cp(x, n, c, &lo, &hi);
    bx_audit_cp(x, n, 0.95, &l95, &h95);
    bx_audit_wilson(x, n, c, &wl, &wh);
    json_t *o = json_object();
    json_object_set_new(o, "value", n ? json_real((double)x / (double)n) : json_null());
    json_object_set_new(o, "ci95", pair(l95, h95));
    json_object_set_new(o, "errors", json_integer((json_int_t)x));
    json_object_set_new(o, "trials", json_integer((json_int_t)n));
    json_object_set_new(o, "ci", pair(lo, hi));
    json_object_set_new(o, "wilson", pair(wl, wh));
    json_object_set_new(o, "upper_one_sided", num(bx_audit_cp_upper(x, n, c)));
    json_object_set_new(o, "lower_one_sided", num(bx_audit_cp_lower(x, n, c)));
    if (x == 0 && n > 0)
        json_object_set_new(o, "rule_of_3", json_real(-log(1 - c) / (double)n));
    if (boot)
        json_object_set_new(o, "bootstrap", pair(boot[0], boot[1]));
    return o;
}

json_t *bx_audit__rate(const struct bx_audit *a, uint64_t errors, uint64_t trials)
{
    return rate_json(a, errors, trials, NULL);
}

static int cmp_double(const void *p, const void *q)
{
    double x = *(const double *)p, y = *(const double *)q;
    return (x > y) - (x < y);
}

/* Subject-level bootstrap: resample subjects with replacement, pool their errors and trials,
 * take the percentile interval. out[0..1] FNMR, out[2..3] FMR (two-sided at the confidence);
 * out[4..5] FNMR, out[6..7] FMR one-sided bounds (lower, upper) at the confidence, for claims. */
static void bootstrap(const struct bx_audit *a, double out[8])
{
    for (int k = 0; k < 8; ++k)
        out[k] = BX_NAN;
    unsigned B = a->o.bootstrap;
    if (B < 2 || a->n_subj == 0)
        return;
    struct counts *v = malloc(a->n_subj * sizeof *v);
    double *fn = malloc(B * sizeof *fn), *fm = malloc(B * sizeof *fm);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (v && fn && fm && r) {
        size_t k = 0;
        for (size_t i = 0; i < a->cap_subj; ++i)
            if (a->subj[i].name)
                v[k++] = a->subj[i].c; /* table order: a function of the subjects' names */
        gsl_rng_set(r, (unsigned long)(bx_rng_seed(a->o.seed, 0, "audit/bootstrap") | 1));
        size_t nb_fn = 0, nb_fm = 0;
        for (unsigned b = 0; b < B; ++b) {
            struct counts s = {0};
            for (size_t j = 0; j < k; ++j) {
                const struct counts *c = &v[gsl_rng_uniform_int(r, k)];
                s.gen_n += c->gen_n;
                s.gen_err += c->gen_err;
                s.imp_n += c->imp_n;
                s.imp_err += c->imp_err;
            }
            if (s.gen_n)
                fn[nb_fn++] = (double)s.gen_err / (double)s.gen_n;
            if (s.imp_n)
                fm[nb_fm++] = (double)s.imp_err / (double)s.imp_n;
        }
        double al = (1 - a->o.confidence) / 2;
        if (nb_fn > 1) /* qsort's pointer must be valid even for no element */
            qsort(fn, nb_fn, sizeof *fn, cmp_double);
        if (nb_fm > 1)
            qsort(fm, nb_fm, sizeof *fm, cmp_double);
        double one = 1 - a->o.confidence;
        if (nb_fn) {
            out[0] = fn[(size_t)floor(al * (double)(nb_fn - 1))];
            out[1] = fn[(size_t)ceil((1 - al) * (double)(nb_fn - 1))];
            out[4] = fn[(size_t)floor(one * (double)(nb_fn - 1))];
            out[5] = fn[(size_t)ceil((1 - one) * (double)(nb_fn - 1))];
        }
        if (nb_fm) {
            out[2] = fm[(size_t)floor(al * (double)(nb_fm - 1))];
            out[3] = fm[(size_t)ceil((1 - al) * (double)(nb_fm - 1))];
            out[6] = fm[(size_t)floor(one * (double)(nb_fm - 1))];
            out[7] = fm[(size_t)ceil((1 - one) * (double)(nb_fm - 1))];
        }
    }
    gsl_rng_free(r);
    free(fm);
    free(fn);
    free(v);
}

/* One-sided bounds of x / n at confidence c with the design effect of errors clustered by
 * subject (@p e[i], @p m[i]: subject i's errors and trials, k subjects): the cluster-robust
 * variance of the ratio estimator, k / (k - 1) sum (e_i - p m_i)^2 / n^2, over the binomial
 * variance p (1 - p) / n is the design effect d (at least 1); the exact binomial bounds are then
 * taken for x / d errors in n / d trials (Clopper-Pearson's beta quantiles, which admit
 * non-integer counts). */
static void design_effect_bounds(const uint64_t *e, const uint64_t *m, size_t k, double c,
                                 double *lo, double *hi)
{
    double x = 0, n = 0;
    for (size_t i = 0; i < k; ++i) {
        x += (double)e[i];
        n += (double)m[i];
    }
    *lo = *hi = BX_NAN;
    if (n == 0 || k < 2)
        return;
    double p = x / n, ss = 0;
    for (size_t i = 0; i < k; ++i)
        ss += ((double)e[i] - p * (double)m[i]) * ((double)e[i] - p * (double)m[i]);
    double v_cl = (double)k / (double)(k - 1) * ss / (n * n), v_bin = p * (1 - p) / n;
    double d = v_bin > 0 ? fmax(1.0, v_cl / v_bin) : 1.0;
    double xe = x / d, ne = n / d;
    *lo = xe > 0 ? bx_beta_quantile(1 - c, xe, ne - xe + 1) : 0.0;
    *hi = xe < ne ? bx_beta_quantile(c, xe + 1, ne - xe) : 1.0;
}

/* Without a bootstrap (--bootstrap 0): the design-effect-adjusted one-sided bounds in out[4..7]
 * (FNMR lower, upper, FMR lower, upper), as bootstrap() would give them. */
static void design_effect(const struct bx_audit *a, double out[8])
{
    uint64_t *e = malloc((a->n_subj ? a->n_subj : 1) * 4 * sizeof *e);
    if (e == NULL)
        return;
    uint64_t *m = e + a->n_subj, *fe = m + a->n_subj, *fm = fe + a->n_subj;
    size_t k = 0;
    for (size_t i = 0; i < a->cap_subj; ++i)
        if (a->subj[i].name) {
            e[k] = a->subj[i].c.gen_err;
            m[k] = a->subj[i].c.gen_n;
            fe[k] = a->subj[i].c.imp_err;
            fm[k] = a->subj[i].c.imp_n;
            ++k;
        }
    design_effect_bounds(e, m, k, a->o.confidence, &out[4], &out[5]);
    design_effect_bounds(fe, fm, k, a->o.confidence, &out[6], &out[7]);
    free(e);
}

struct cands {
    double *v;
    size_t n, cap;
    bool oom;
};

static bool collect_cand(void *ctx, double t)
{
    struct cands *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4096;
        double *v = realloc(c->v, cap * sizeof *v);
        if (v == NULL) {
            c->oom = true;
            return false;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = t;
    return true;
}

static int cmp_desc(const void *p, const void *q)
{
    double x = *(const double *)p, y = *(const double *)q;
    return (x < y) - (x > y);
}

/* EER: at the observed score t minimising |FMR(t) - FNMR(t)|, scanning thresholds from the
 * highest down and keeping the first minimum, the mean of the two rates (the points of
 * scikit-learn's roc_curve, argmin |fpr - fnr|). */
static json_t *eer_json(struct bx_audit *a, struct bx_error *err)
{
    uint64_t ng, ni;
    bx_audit_counts(a, &ng, &ni);
    if (ng == 0 || ni == 0)
        return json_pack("{snsn}", "value", "threshold");
    struct cands c = {0};
    bx_audit_scores_sweep(a->imp, collect_cand, &c);
    bx_audit_scores_sweep(a->gen, collect_cand, &c);
    if (c.oom) {
        free(c.v);
        BX_FAIL(err, BX_ENOMEM, "out of memory for the EER sweep");
        return NULL;
    }
    if (c.n > 1)
        qsort(c.v, c.n, sizeof *c.v, cmp_desc);
    double best = BX_INF, bt = BX_NAN, bfm = BX_NAN, bfn = BX_NAN;
    for (size_t i = 0; i < c.n; ++i) {
        if (i > 0 && c.v[i] == c.v[i - 1])
            continue;
        double fmr = (double)fm_at(a, c.v[i]) / (double)ni,
               fnmr = (double)fnm_at(a, c.v[i]) / (double)ng, d = fabs(fmr - fnmr);
        if (d < best) {
            best = d;
            bt = c.v[i];
            bfm = fmr;
            bfn = fnmr;
        }
    }
    free(c.v);
    return json_pack("{sosososo}", "value", num((bfm + bfn) / 2), "threshold", num(bt), "fmr",
                     num(bfm), "fnmr", num(bfn));
}

/* The DET curve: thresholds at FMR targets log-spaced from 1/#impostors to 0.5. */
static json_t *det_json(struct bx_audit *a)
{
    uint64_t ng, ni;
    bx_audit_counts(a, &ng, &ni);
    json_t *arr = json_array();
    if (ng == 0 || ni < 2)
        return arr;
    double lmin = log10(1.0 / (double)ni), lmax = log10(0.5), last = BX_NAN;
    for (int k = 0; k <= 60; ++k) {
        double t = threshold_at_fmr(a, pow(10, lmin + (lmax - lmin) * k / 60.0));
        if (t == last)
            continue;
        last = t;
        /* each rate with its exact (Clopper-Pearson) interval at the audit's confidence: the
         * DET's band */
        uint64_t fm = fm_at(a, t), fn = fnm_at(a, t);
        double ml, mh, nl, nh;
        bx_audit_cp(fm, ni, a->o.confidence, &ml, &mh);
        bx_audit_cp(fn, ng, a->o.confidence, &nl, &nh);
        json_array_append_new(arr,
                              json_pack("{sosfsfsoso}", "threshold", num(t), "fmr",
                                        (double)fm / (double)ni, "fnmr", (double)fn / (double)ng,
                                        "fmr_ci", pair(ml, mh), "fnmr_ci", pair(nl, nh)));
    }
    return arr;
}

static json_t *fnmr_at_fmr_json(struct bx_audit *a)
{
    static const double targets[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    static const char *const keys[] = {"0.01", "0.001", "0.0001", "1e-05", "1e-06"};
    uint64_t ng, ni;
    bx_audit_counts(a, &ng, &ni);
    json_t *o = json_object();
    for (int k = 0; k < 5; ++k) {
        if (ng == 0 || (double)ni * targets[k] < 1) {
            char why[160];
            snprintf(why, sizeof why,
                     "needs at least %.0f impostor comparisons (has %llu) to resolve FMR %g",
                     ceil(1 / targets[k]), (unsigned long long)ni, targets[k]);
            json_object_set_new(o, keys[k], json_pack("{snss}", "value", "reason", why));
            continue;
        }
        double t = threshold_at_fmr(a, targets[k]);
        uint64_t x = fnm_at(a, t), fm = fm_at(a, t);
        json_t *r = rate_json(a, x, ng, NULL);
        json_object_set_new(r, "threshold", num(t));
        json_object_set_new(r, "fmr", json_real((double)fm / (double)ni));
        json_object_set_new(o, keys[k], r);
    }
    return o;
}

/* One plain sentence: what was claimed, what the data show, the bound that decides and why. */
static void explain(char *buf, size_t len, const char *metric, double claim, double c,
                    enum bx_audit_verdict v, uint64_t x, uint64_t n, double lo, double hi,
                    const char *decided, uint64_t need)
{
    int k = snprintf(buf, len, "The claim %s < %g (%.0f%% confidence): ", metric, claim, 100 * c);
    if (k < 0 || (size_t)k >= len)
        return;
    char *p = buf + k;
    size_t left = len - (size_t)k;
    if (n == 0) {
        snprintf(p, left, "there were no trials, so nothing can be said.");
        return;
    }
    double rate = (double)x / (double)n;
    int m = snprintf(p, left, "%llu errors in %llu trials (%.3g). ", (unsigned long long)x,
                     (unsigned long long)n, rate);
    if (m < 0 || (size_t)m >= left)
        return;
    p += m;
    left -= (size_t)m;
    if (v == BX_AUDIT_SUPPORTED)
        snprintf(p, left,
                 "Supported: even the highest rate these data allow, the upper bound %.3g (%s), "
                 "is below the claim.",
                 hi, decided);
    else if (v == BX_AUDIT_REFUTED)
        snprintf(p, left,
                 "Refuted: even the lowest rate these data allow, the lower bound %.3g (%s), is "
                 "above the claim, so the true rate is higher than claimed.",
                 lo, decided);
    else if (need != UINT64_MAX)
        snprintf(p, left,
                 "Not enough data: the rate could be as high as %.3g (%s), above the claim; at "
                 "the observed rate about %llu trials would show it is below.",
                 hi, decided, (unsigned long long)need);
    else
        snprintf(p, left,
                 "Not enough data: the bounds [%.3g, %.3g] (%s) straddle the claim and the "
                 "observed rate is not below it, so more data are more likely to refute it than "
                 "to support it.",
                 lo, hi, decided);
}

/* A claim "rate < claim": the exact binomial bounds treat every comparison as independent; the
 * subject bootstrap's one-sided bounds (@p sub, lower and upper; with --bootstrap 0 the
 * design-effect-adjusted bounds; NaN without subjects) carry the clustering of errors by
 * subject. The verdict takes the more conservative of the two on
 * each side: supported only when both upper bounds are below the claim, refuted only when both
 * lower bounds are above it; `decided_by` names the bound that decided. */
static json_t *claim_json(const struct bx_audit *a, const char *metric, double claim, uint64_t x,
                          uint64_t n, const double sub[2])
{
    double c = a->o.confidence;
    double cp_lo = bx_audit_cp_lower(x, n, c), cp_hi = bx_audit_cp_upper(x, n, c);
    bool have_sub = isfinite(sub[0]) && isfinite(sub[1]);
    double lo = have_sub ? fmin(cp_lo, sub[0]) : cp_lo, hi = have_sub ? fmax(cp_hi, sub[1]) : cp_hi;
    enum bx_audit_verdict v = n == 0       ? BX_AUDIT_NOT_ENOUGH_DATA
                              : hi < claim ? BX_AUDIT_SUPPORTED
                              : lo > claim ? BX_AUDIT_REFUTED
                                           : BX_AUDIT_NOT_ENOUGH_DATA;
    /* The side that decided: the upper bounds unless the claim was refuted. */
    bool by_sub = have_sub && (v == BX_AUDIT_REFUTED ? sub[0] < cp_lo : sub[1] > cp_hi);
    bool boot = a->o.bootstrap >= 2;
    const char *decided = by_sub && boot ? "subject bootstrap"
                          : by_sub       ? "design effect"
                          : have_sub     ? "binomial"
                                         : "binomial (no subject-level bound)";
    /* More data help only when the claim is still open and the observed rate is below it: then
     * the trials that would support it at the observed rate (at least as many errors per
     * trial); otherwise none (null). */
    double rate = n ? (double)x / (double)n : BX_NAN;
    uint64_t need = v == BX_AUDIT_NOT_ENOUGH_DATA && n > 0 && rate < claim
                        ? bx_audit_trials_needed_at_rate(rate, claim, c)
                        : UINT64_MAX;
    char why[640];
    explain(why, sizeof why, metric, claim, c, v, x, n, lo, hi, decided, need);
    json_t *o = json_pack("{sssfsfsssososIsIso}", "metric", metric, "claim", claim, "confidence", c,
                          "verdict", bx_audit_verdict_name(v), "upper_one_sided", num(hi),
                          "lower_one_sided", num(lo), "errors", (json_int_t)x, "trials",
                          (json_int_t)n, "trials_needed",
                          need == UINT64_MAX ? json_null() : json_integer((json_int_t)need));
    json_object_set_new(o, "decided_by", json_string(decided));
    json_object_set_new(o, "explanation", json_string(why));
    json_object_set_new(o, "optimistic",
                        json_boolean(isnan(a->o.threshold) && !(a->o.holdout > 0) && !a->per_row));
    json_object_set_new(
        o, "binomial",
        json_pack("{soso}", "lower_one_sided", num(cp_lo), "upper_one_sided", num(cp_hi)));
    json_object_set_new(o, boot ? "subject_bootstrap" : "design_effect",
                        have_sub ? json_pack("{soso}", "lower_one_sided", num(sub[0]),
                                             "upper_one_sided", num(sub[1]))
                                 : json_null());
    return o;
}

static json_t *groups_json(const struct bx_audit *a)
{
    json_t *o = json_object();
    for (size_t g = 0; g < a->o.n_groups; ++g) {
        const struct group_col *c = &a->groups[g];
        double best_fm = BX_INF, best_fn = BX_INF;
        for (size_t i = 0; i < c->n; ++i) {
            const struct counts *x = &c->v[i].c;
            if (x->imp_n && x->imp_err)
                best_fm = fmin(best_fm, (double)x->imp_err / (double)x->imp_n);
            if (x->gen_n && x->gen_err)
                best_fn = fmin(best_fn, (double)x->gen_err / (double)x->gen_n);
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < c->n; ++i) {
            const struct counts *x = &c->v[i].c;
            double fm = x->imp_n ? (double)x->imp_err / (double)x->imp_n : BX_NAN,
                   fn = x->gen_n ? (double)x->gen_err / (double)x->gen_n : BX_NAN;
            json_array_append_new(arr, json_pack("{sssosososo}", "value", c->v[i].value, "fmr",
                                                 rate_json(a, x->imp_err, x->imp_n, NULL), "fnmr",
                                                 rate_json(a, x->gen_err, x->gen_n, NULL),
                                                 "fmr_ratio_to_best", num(fm / best_fm),
                                                 "fnmr_ratio_to_best", num(fn / best_fn)));
        }
        json_object_set_new(o, a->o.group_names[g], arr);
    }
    return o;
}

json_t *bx_audit_finish(struct bx_audit *a, struct bx_error *err)
{
    double t = bx_audit_threshold(a);
    uint64_t ng, ni;
    bx_audit_counts(a, &ng, &ni);
    uint64_t fnm = fnm_at(a, t), fm = fm_at(a, t);
    if (a->o.holdout > 0 || a->per_row) {
        /* The score distributions hold the selection part (or every comparison, whatever its
         * threshold); the rates are those counted subject by subject in the second pass. */
        ng = ni = fnm = fm = 0;
        for (size_t i = 0; i < a->cap_subj; ++i)
            if (a->subj[i].name) {
                ng += a->subj[i].c.gen_n;
                ni += a->subj[i].c.imp_n;
                fnm += a->subj[i].c.gen_err;
                fm += a->subj[i].c.imp_err;
            }
    }
    double boot[8];
    bootstrap(a, boot);
    if (a->o.bootstrap < 2)
        design_effect(a, boot);
    json_t *o = json_object();
    json_object_set_new(o, "threshold",
                        a->per_row ? json_null() : num(isnan(a->o.threshold) ? t : a->o.threshold));
    char rule[160];
    if (a->per_row || (!isnan(a->o.threshold) && a->o.threshold_source[0]))
        snprintf(rule, sizeof rule, "%s", a->o.threshold_source);
    else if (isnan(a->o.threshold))
        snprintf(rule, sizeof rule, "smallest score with FMR <= %g%s", a->o.at_fmr,
                 a->o.holdout > 0 ? " on the holdout's selection subjects" : "");
    else
        snprintf(rule, sizeof rule, "given");
    json_object_set_new(o, "threshold_rule", json_string(rule));
    /* A threshold chosen on the very scores it is then judged on flatters them: say so. */
    bool same = isnan(a->o.threshold) && !(a->o.holdout > 0) && !a->per_row;
    json_object_set_new(o, "threshold_from_same_scores", json_boolean(same));
    if (a->o.holdout > 0)
        json_object_set_new(o, "holdout",
                            json_pack("{sfsIsI}", "selection_fraction", a->o.holdout,
                                      "test_subjects", (json_int_t)a->n_subj,
                                      "cross_part_comparisons_left_out",
                                      (json_int_t)a->holdout_dropped));
    json_object_set_new(o, "confidence", json_real(a->o.confidence));
    json_object_set_new(o, "comparisons",
                        json_pack("{sIsIsIsIsb}", "genuine", (json_int_t)ng, "impostor",
                                  (json_int_t)ni, "failed_genuine", (json_int_t)a->gen_failed,
                                  "failed_impostor", (json_int_t)a->imp_failed, "exact",
                                  bx_audit_scores_exact(a->gen) && bx_audit_scores_exact(a->imp)));
    json_object_set_new(o, "subjects", json_integer((json_int_t)a->n_subj));
    json_object_set_new(o, "fmr", rate_json(a, fm, ni, a->n_subj ? boot + 2 : NULL));
    json_object_set_new(o, "fnmr", rate_json(a, fnm, ng, a->n_subj ? boot : NULL));
    json_object_set_new(o, "bootstrap_resamples", json_integer((json_int_t)a->o.bootstrap));
    if (a->fta_n)
        json_object_set_new(o, "fta", rate_json(a, a->fta_err, a->fta_n, NULL));
    json_t *eer = eer_json(a, err);
    if (eer == NULL) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "eer", eer);
    json_object_set_new(o, "fnmr_at_fmr", fnmr_at_fmr_json(a));
    json_object_set_new(o, "det", det_json(a));
    json_t *claims = json_array();
    if (!isnan(a->o.claim_fmr))
        json_array_append_new(claims, claim_json(a, "fmr", a->o.claim_fmr, fm, ni, boot + 6));
    if (!isnan(a->o.claim_fnmr))
        json_array_append_new(claims, claim_json(a, "fnmr", a->o.claim_fnmr, fnm, ng, boot + 4));
    json_object_set(o, "claim", json_array_size(claims) ? json_array_get(claims, 0) : json_null());
    json_object_set_new(o, "claims", claims);
    json_object_set_new(o, "groups", groups_json(a));
    if (isfinite(a->o.volume_per_year) && ni) {
        /* Expected false matches a year: searches x FPIR, FPIR = 1 - (1 - FMR)^N. */
        double N = a->o.gallery_size, lo, hi, p = (double)fm / (double)ni;
        bx_audit_cp(fm, ni, a->o.confidence, &lo, &hi);
        double f = -expm1(N * log1p(-p)), fl = -expm1(N * log1p(-lo)), fh = -expm1(N * log1p(-hi));
        json_object_set_new(o, "expected_false_matches_per_year",
                            json_pack("{sfsosfsfsf}", "value", a->o.volume_per_year * f, "ci",
                                      pair(a->o.volume_per_year * fl, a->o.volume_per_year * fh),
                                      "volume_per_year", a->o.volume_per_year, "gallery_size", N,
                                      "fpir", f));
    }
    if (a->extra)
        json_object_update(o, a->extra);
    return o;
}
