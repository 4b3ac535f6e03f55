/* SPDX-License-Identifier: MIT */
/* tplgen.c - synthetic identities and templates (the model is described in bx/models.h).
 *
 * Randomness: every draw comes from eight xoshiro256++ lanes on the stack (inline, bx/normal.h),
 * seeded from (profile seed, purpose, subject id[, sample]) through bx_rng_seed-style hashing, so
 * a template depends only on those keys. Gaussians come from bxsim's own 256-layer ziggurat,
 * element i of a vector from lane i mod 8 (eight lanes at once with AVX-512); uniforms from
 * lane 0, the same numbers GSL's gsl_rng_uniform gives on bx_rng_xoshiro256pp.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bx/models.h"
#include "bx/normal.h"

static const char *const sex_names[] = {"female", "male"};
static const char *const region_names[] = {"e_europe", "e_asia",   "s_asia",
                                           "w_africa", "americas", "mena"};
static const char *const band_names[] = {"0-13", "14-29", "30-49", "50-64", "65-79", "80+"};
static const double band_lo[] = {0, 14, 30, 50, 65, 80}, band_hi[] = {14, 30, 50, 65, 80, 95};
static const char *const device_names[] = {"document", "egate",   "gate_camera",
                                           "mobile",   "vehicle", "kiosk"};

const char *bx_sex_name(enum bx_sex s)
{
    return (unsigned)s < BX_N_SEXES ? sex_names[s] : "?";
}
const char *bx_region_name(enum bx_region r)
{
    return (unsigned)r < BX_N_REGIONS ? region_names[r] : "?";
}
const char *bx_age_band_name(enum bx_age_band b)
{
    return (unsigned)b < BX_N_AGE_BANDS ? band_names[b] : "?";
}
const char *bx_device_name(enum bx_device d)
{
    return (unsigned)d < BX_N_DEVICES ? device_names[d] : "?";
}

static bool parse(const char *const *names, int n, const char *name, int *out)
{
    for (int i = 0; i < n; ++i)
        if (strcmp(names[i], name) == 0) {
            *out = i;
            return true;
        }
    return false;
}
bool bx_region_parse(const char *name, enum bx_region *out)
{
    int v;
    bool ok = parse(region_names, BX_N_REGIONS, name, &v);
    if (ok)
        *out = (enum bx_region)v;
    return ok;
}
bool bx_age_band_parse(const char *name, enum bx_age_band *out)
{
    int v;
    bool ok = parse(band_names, BX_N_AGE_BANDS, name, &v);
    if (ok)
        *out = (enum bx_age_band)v;
    return ok;
}
bool bx_device_parse(const char *name, enum bx_device *out)
{
    int v;
    bool ok = parse(device_names, BX_N_DEVICES, name, &v);
    if (ok)
        *out = (enum bx_device)v;
    return ok;
}

enum bx_age_band bx_age_band_of(double age_years)
{
    for (int b = BX_N_AGE_BANDS - 1; b > 0; --b)
        if (age_years >= band_lo[b])
            return (enum bx_age_band)b;
    return BX_AGE_0_13;
}

struct bx_tplgen_params bx_tplgen_params_default(size_t dim)
{
    struct bx_tplgen_params p = {.dim = dim, .seed = 1};
    p.shared_sex[BX_SEX_FEMALE] = 0.02;
    p.shared_sex[BX_SEX_MALE] = 0.01;
    for (int r = 0; r < BX_N_REGIONS; ++r)
        p.shared_region[r] = 0.02;
    for (int b = 0; b < BX_N_AGE_BANDS; ++b)
        p.shared_age[b] = 0.01;
    p.lookalike_fraction = 0.001;
    p.lookalike_cosine = 0.6;
    const double noise[BX_N_DEVICES] = {0.55, 0.65, 0.7, 0.8, 0.95, 1.0};
    memcpy(p.noise, noise, sizeof noise);
    p.quality_exponent = 1.0;
    const double age_noise[BX_N_AGE_BANDS] = {1.3, 1.0, 1.0, 1.0, 1.1, 1.25};
    memcpy(p.age_noise, age_noise, sizeof age_noise);
    p.hard_fraction = 0.003;
    p.hard_multiplier = 3.0;
    p.drift_per_decade = 0.35;
    const double age_drift[BX_N_AGE_BANDS] = {3.0, 1.2, 1.0, 1.0, 1.2, 1.4};
    memcpy(p.age_drift, age_drift, sizeof age_drift);
    return p;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return BX_FAIL(err, BX_EINVAL, __VA_ARGS__);                                           \
    } while (0)

enum bx_status bx_tplgen_params_check(const struct bx_tplgen_params *p, struct bx_error *err)
{
    CHECK(p->dim >= BX_MODELS_DIM_MIN && p->dim <= BX_MODELS_DIM_MAX, "dim %zu outside [%d, %d]",
          p->dim, BX_MODELS_DIM_MIN, BX_MODELS_DIM_MAX);
    double max_sex = 0, max_reg = 0, max_age = 0;
    for (int i = 0; i < BX_N_SEXES; ++i) {
        CHECK(p->shared_sex[i] >= 0 && p->shared_sex[i] < 1, "shared.sex.%s must lie in [0, 1)",
              sex_names[i]);
        max_sex = fmax(max_sex, p->shared_sex[i]);
    }
    for (int i = 0; i < BX_N_REGIONS; ++i) {
        CHECK(p->shared_region[i] >= 0 && p->shared_region[i] < 1,
              "shared.region.%s must lie in [0, 1)", region_names[i]);
        max_reg = fmax(max_reg, p->shared_region[i]);
    }
    for (int i = 0; i < BX_N_AGE_BANDS; ++i) {
        CHECK(p->shared_age[i] >= 0 && p->shared_age[i] < 1,
              "shared.age_band.%s must lie in [0, 1)", band_names[i]);
        max_age = fmax(max_age, p->shared_age[i]);
        CHECK(p->age_noise[i] > 0 && isfinite(p->age_noise[i]), "age_noise.%s must be > 0",
              band_names[i]);
        CHECK(p->age_drift[i] >= 0 && isfinite(p->age_drift[i]),
              "ageing.age_multiplier.%s must be >= 0", band_names[i]);
    }
    CHECK(max_sex + max_reg + max_age < 0.95,
          "shared components sum to %g: they must stay below 0.95", max_sex + max_reg + max_age);
    CHECK(p->lookalike_fraction >= 0 && p->lookalike_fraction <= 0.5,
          "lookalikes.fraction must lie in [0, 0.5]");
    CHECK(p->lookalike_cosine > 0 && p->lookalike_cosine < 1,
          "lookalikes.cosine must lie in (0, 1)");
    for (int i = 0; i < BX_N_DEVICES; ++i)
        CHECK(p->noise[i] >= 0 && p->noise[i] < 100, "noise.%s must lie in [0, 100)",
              device_names[i]);
    CHECK(p->quality_exponent >= 0 && p->quality_exponent <= 10,
          "quality_exponent must lie in [0, 10]");
    CHECK(p->hard_fraction >= 0 && p->hard_fraction <= 1, "hard.fraction must lie in [0, 1]");
    CHECK(p->hard_multiplier >= 1 && p->hard_multiplier <= 100,
          "hard.multiplier must lie in [1, 100]");
    CHECK(p->drift_per_decade >= 0 && p->drift_per_decade < 100,
          "ageing.drift_per_decade must lie in [0, 100)");
    return BX_OK;
}

struct bx_demog_mix bx_demog_mix_default(void)
{
    /* An assumption for galleries without a scenario: an even spread (the port models draw the
     * traveller mix of each port from the scenario). */
    struct bx_demog_mix m = {.female = 0.5};
    for (int r = 0; r < BX_N_REGIONS; ++r)
        m.region[r] = 1.0 / BX_N_REGIONS;
    const double band[BX_N_AGE_BANDS] = {0.10, 0.22, 0.32, 0.20, 0.12, 0.04};
    memcpy(m.age_band, band, sizeof band);
    return m;
}

enum bx_status bx_demog_mix_check(const struct bx_demog_mix *m, struct bx_error *err)
{
    CHECK(m->female >= 0 && m->female <= 1, "female share must lie in [0, 1]");
    double sr = 0, sb = 0;
    for (int r = 0; r < BX_N_REGIONS; ++r) {
        CHECK(m->region[r] >= 0, "region shares must be >= 0");
        sr += m->region[r];
    }
    for (int b = 0; b < BX_N_AGE_BANDS; ++b) {
        CHECK(m->age_band[b] >= 0, "age band shares must be >= 0");
        sb += m->age_band[b];
    }
    CHECK(fabs(sr - 1) < 1e-6, "region shares sum to %g, not 1", sr);
    CHECK(fabs(sb - 1) < 1e-6, "age band shares sum to %g, not 1", sb);
    return BX_OK;
}

/* ---------------------------------------------------------------- the generator */

struct bx_tplgen {
    struct bx_tplgen_params p;
    uint64_t key_subject, key_centre, key_ageing, key_noise;
    float *axes; /* (2 + 6 + 6) unit group directions, dim each */
};

/* A generator on the stack, keyed by (key, a, b): eight xoshiro256++ lanes inline
 * (bx/normal.h). Lane 0 is seeded as bx_rng_xoshiro256pp would be and gives the uniforms (the
 * same as GSL's gsl_rng_uniform on it); element i of a vector of normal deviates comes from lane
 * i mod 8 (bxsim's own ziggurat, eight lanes at once where the CPU has AVX-512). Every value is
 * a pure function of the key: the same on any CPU, in any thread. */
struct local_rng {
    struct bx_xoshiro r[8];
};

/* @p lanes (1, or all 8 where normal deviates are drawn) seeded from the key. */
static void rng_init(struct local_rng *l, uint64_t key, uint64_t a, uint64_t b, int lanes)
{
    uint64_t seed = bx_hash64(key ^ bx_hash64(a + 0x9e3779b97f4a7c15ULL * (b + 1)));
    for (int k = 0; k < lanes; ++k)
        bx_xoshiro_seed(&l->r[k], k ? bx_hash64(seed + (uint64_t)k) : seed);
}

/* v[i] = scale x a normal deviate, i < dim; @return the sum of the deviates' squares. */
static double normals(struct local_rng *l, float *v, size_t dim, float scale)
{
    return bx_normal_fill8(l->r, v, dim, scale);
}

/* The element-wise loops below: BX_TARGET_CLONES (the same numbers on any CPU). */
BX_TARGET_CLONES static void scale_by(float *v, size_t dim, float f)
{
    for (size_t i = 0; i < dim; ++i)
        v[i] *= f;
}

/* v[dim] = a random unit vector. */
static void random_unit(struct local_rng *l, float *v, size_t dim)
{
    scale_by(v, dim, (float)(1 / sqrt(normals(l, v, dim, 1.0f))));
}

BX_TARGET_CLONES static void normalize(float *v, size_t dim)
{
    double ss[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= dim; i += 4)
        for (size_t k = 0; k < 4; ++k)
            ss[k] += (double)v[i + k] * (double)v[i + k];
    for (; i < dim; ++i)
        ss[i & 3] += (double)v[i] * (double)v[i];
    double t = (ss[0] + ss[1]) + (ss[2] + ss[3]);
    double inv = t > 0 ? 1 / sqrt(t) : 0;
    for (size_t i2 = 0; i2 < dim; ++i2)
        v[i2] = (float)((double)v[i2] * inv);
}

/* Modified Gram-Schmidt in double precision over the k rows of a (k x dim, k <= dim): the group
 * directions become exactly orthogonal, so that two groups' shared components do not overlap by
 * the chance cosine of two random vectors (about 1/sqrt(dim), a different overlap for every
 * seed) and every seed gives the same geometry up to a rotation. */
static bool orthonormalise(float *a, size_t k, size_t dim)
{
    double *q = malloc(k * dim * sizeof *q);
    if (q == NULL)
        return false;
    for (size_t i = 0; i < k * dim; ++i)
        q[i] = a[i];
    for (size_t r = 0; r < k; ++r) {
        double *v = q + r * dim;
        for (size_t p = 0; p < r; ++p) {
            const double *u = q + p * dim;
            double dot = 0;
            for (size_t i = 0; i < dim; ++i)
                dot += v[i] * u[i];
            for (size_t i = 0; i < dim; ++i)
                v[i] -= dot * u[i];
        }
        double ss = 0;
        for (size_t i = 0; i < dim; ++i)
            ss += v[i] * v[i];
        double inv = 1 / sqrt(ss);
        for (size_t i = 0; i < dim; ++i) {
            v[i] *= inv;
            a[r * dim + i] = (float)v[i];
        }
    }
    free(q);
    return true;
}

struct bx_tplgen *bx_tplgen_alloc(const struct bx_tplgen_params *p, struct bx_error *err)
{
    if (bx_tplgen_params_check(p, err) != BX_OK)
        return NULL;
    struct bx_tplgen *g = calloc(1, sizeof *g);
    size_t n_axes = BX_N_SEXES + BX_N_REGIONS + BX_N_AGE_BANDS;
    if (g)
        g->axes = malloc(n_axes * p->dim * sizeof *g->axes);
    if (g == NULL || g->axes == NULL) {
        bx_tplgen_free(g);
        BX_FAIL(err, BX_ENOMEM, "cannot allocate the template generator");
        return NULL;
    }
    g->p = *p;
    g->key_subject = bx_rng_seed(p->seed, 0, "tplgen/subject");
    g->key_centre = bx_rng_seed(p->seed, 0, "tplgen/centre");
    g->key_ageing = bx_rng_seed(p->seed, 0, "tplgen/ageing");
    g->key_noise = bx_rng_seed(p->seed, 0, "tplgen/noise");
    uint64_t key_axes = bx_rng_seed(p->seed, 0, "tplgen/axes");
    for (size_t a = 0; a < n_axes; ++a) {
        struct local_rng l;
        rng_init(&l, key_axes, a, 0, 8);
        random_unit(&l, g->axes + a * p->dim, p->dim);
    }
    if (!orthonormalise(g->axes, n_axes, p->dim)) {
        bx_tplgen_free(g);
        BX_FAIL(err, BX_ENOMEM, "cannot allocate the template generator");
        return NULL;
    }
    return g;
}

void bx_tplgen_free(struct bx_tplgen *g)
{
    if (g == NULL)
        return;
    free(g->axes);
    free(g);
}

size_t bx_tplgen_dim(const struct bx_tplgen *g)
{
    return g->p.dim;
}

static void draw_subject(const struct bx_tplgen *g, int64_t id, const struct bx_demog_mix *mix,
                         struct bx_subject *out, bool allow_lookalike)
{
    struct local_rng l;
    rng_init(&l, g->key_subject, (uint64_t)id, 0, 1); /* uniforms only */
    out->id = id;
    out->sex = bx_xoshiro_uniform(&l.r[0]) < mix->female ? BX_SEX_FEMALE : BX_SEX_MALE;
    out->region = (enum bx_region)bx_pick(bx_xoshiro_uniform(&l.r[0]), mix->region, BX_N_REGIONS);
    out->band =
        (enum bx_age_band)bx_pick(bx_xoshiro_uniform(&l.r[0]), mix->age_band, BX_N_AGE_BANDS);
    out->age_years = band_lo[out->band] +
                     bx_xoshiro_uniform(&l.r[0]) * (band_hi[out->band] - band_lo[out->band]);
    out->lookalike_of = -1;
    if (allow_lookalike && id > 0 && bx_xoshiro_uniform(&l.r[0]) < g->p.lookalike_fraction) {
        /* A look-alike of the previous subject shares its demographics (which may themselves
         * come from a look-alike chain). */
        draw_subject(g, id - 1, mix, out, true);
        out->id = id;
        out->lookalike_of = id - 1;
    }
}

void bx_tplgen_subject(const struct bx_tplgen *g, int64_t id, const struct bx_demog_mix *mix,
                       struct bx_subject *out)
{
    draw_subject(g, id, mix, out, true);
}

/* out = w_u out + w_s gs + w_r gr + w_a ga */
BX_TARGET_CLONES static void mix4(float *out, size_t d, float w_u, float w_s, const float *gs,
                                  float w_r, const float *gr, float w_a, const float *ga)
{
    for (size_t i = 0; i < d; ++i)
        out[i] = w_u * out[i] + w_s * gs[i] + w_r * gr[i] + w_a * ga[i];
}

/* out = centre + fd ageing + out */
BX_TARGET_CLONES static void add_drift(float *out, size_t d, const float *centre, float fd,
                                       const float *ageing)
{
    for (size_t i = 0; i < d; ++i)
        out[i] = centre[i] + fd * ageing[i] + out[i];
}

/* The centre of subject `id` with demographics `s`, ignoring any look-alike relation. */
static void base_centre(const struct bx_tplgen *g, int64_t id, const struct bx_subject *s,
                        float *out)
{
    const struct bx_tplgen_params *p = &g->p;
    size_t d = p->dim;
    struct local_rng l;
    rng_init(&l, g->key_centre, (uint64_t)id, 0, 8);
    random_unit(&l, out, d);
    double a_s = p->shared_sex[s->sex], a_r = p->shared_region[s->region],
           a_a = p->shared_age[s->band];
    float w_u = (float)sqrt(1 - a_s - a_r - a_a), w_s = (float)sqrt(a_s), w_r = (float)sqrt(a_r),
          w_a = (float)sqrt(a_a);
    const float *gs = g->axes + (size_t)s->sex * d;
    const float *gr = g->axes + (BX_N_SEXES + (size_t)s->region) * d;
    const float *ga = g->axes + (BX_N_SEXES + BX_N_REGIONS + (size_t)s->band) * d;
    mix4(out, d, w_u, w_s, gs, w_r, gr, w_a, ga);
    normalize(out, d);
}

/* The unit direction along which subject s's centre moves with age. */
static void ageing_direction(const struct bx_tplgen *g, const struct bx_subject *s, float *out)
{
    struct local_rng l;
    rng_init(&l, g->key_ageing, (uint64_t)s->id, 0, 8);
    random_unit(&l, out, g->p.dim);
}

/* out = centre + out: add_drift's numbers when fd x ageing is a zero, which leaves every centre
 * component as it is except -0 (-0 + +0 is +0): @return false, adding nothing, where the centre
 * has a -0. */
BX_TARGET_CLONES static bool add_centre(float *out, size_t d, const float *centre)
{
    unsigned neg0 = 0;
    for (size_t i = 0; i < d; ++i) {
        uint32_t b;
        memcpy(&b, &centre[i], sizeof b);
        neg0 |= b == 0x80000000u;
    }
    if (neg0)
        return false;
    for (size_t i = 0; i < d; ++i)
        out[i] = centre[i] + out[i];
    return true;
}

void bx_tplgen_prepare(const struct bx_tplgen *g, const struct bx_subject *s, float *centre,
                       float *ageing)
{
    size_t d = g->p.dim;
    base_centre(g, s->id, s, centre);
    if (s->lookalike_of >= 0) {
        /* Mix the original's centre with this subject's own: cosine about lookalike_cosine. */
        float orig[BX_MODELS_DIM_MAX];
        base_centre(g, s->lookalike_of, s, orig);
        double c = g->p.lookalike_cosine, o = sqrt(1 - c * c);
        for (size_t i = 0; i < d; ++i)
            centre[i] = (float)(c * (double)orig[i] + o * (double)centre[i]);
        normalize(centre, d);
    }
    if (ageing != NULL)
        ageing_direction(g, s, ageing);
}

bool bx_tplgen_capture_prepared(const struct bx_tplgen *g, const struct bx_subject *s,
                                const float *centre, const float *ageing,
                                const struct bx_capture *c, uint64_t sample, float *out)
{
    const struct bx_tplgen_params *p = &g->p;
    size_t d = p->dim;
    BX_REQUIRE((unsigned)c->device < BX_N_DEVICES && c->quality > 0 && c->quality <= 1 &&
               c->years_since_enrol >= 0);
    struct local_rng l;
    rng_init(&l, g->key_noise, (uint64_t)s->id, sample, 8);
    enum bx_age_band band = bx_age_band_of(s->age_years + c->years_since_enrol);
    /* Hard captures (a closed eye, a turned head, a smudged lens) are rarer on better devices:
     * their rate scales with the device's squared noise relative to the document photo's. */
    double rel =
        p->noise[BX_DEVICE_DOCUMENT] > 0 ? p->noise[c->device] / p->noise[BX_DEVICE_DOCUMENT] : 1.0;
    bool hard = bx_xoshiro_uniform(&l.r[0]) < fmin(1.0, p->hard_fraction * rel * rel);
    double sigma = p->noise[c->device] * pow(c->quality, -p->quality_exponent) *
                   p->age_noise[band] * (hard ? p->hard_multiplier : 1.0);
    /* Ageing moves the centre along the subject's own direction; children change fastest. The
     * multiplier is that of the band the subject was in at enrolment. */
    double drift = p->drift_per_decade * p->age_drift[s->band] * sqrt(c->years_since_enrol / 10);
    float scale = (float)(sigma / sqrt((double)d)), fd = (float)drift;
    normals(&l, out, d, scale);
    if (ageing != NULL) {
        add_drift(out, d, centre, fd, ageing);
    } else if (fd != 0 || !add_centre(out, d, centre)) {
        /* not prepared: the ageing direction, now that this capture needs it */
        float own[BX_MODELS_DIM_MAX];
        ageing_direction(g, s, own);
        add_drift(out, d, centre, fd, own);
    }
    normalize(out, d);
    return hard;
}

bool bx_tplgen_capture(const struct bx_tplgen *g, const struct bx_subject *s,
                       const struct bx_capture *c, uint64_t sample, float *out)
{
    float centre[BX_MODELS_DIM_MAX];
    BX_REQUIRE(g->p.dim <= BX_MODELS_DIM_MAX);
    bx_tplgen_prepare(g, s, centre, NULL);
    return bx_tplgen_capture_prepared(g, s, centre, NULL, c, sample, out);
}
