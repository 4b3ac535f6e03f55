/* SPDX-License-Identifier: MIT */
/* population.c - travellers, arrivals and capture: the stochastic inputs of the port models.
 *
 * Default figures and their sources (docs/sources.md):
 * - Capture time: TVS matches "in less than two seconds" and a cruise camera confirms passengers
 *   "in fewer than two seconds" / "about two seconds" (sources.md ops 4.1, 4.2); boarding runs at
 *   about 2.5-3.4 s per passenger including walking (sources.md ops 4.1, derived). Per-device means
 *   below are assumptions inside that range, slower for mobile units, vehicles and kiosks.
 * - Failure to acquire: the 2018 DHS rally's best system acquired 99.44% within 5 s against a 65%
 *   average (sources.md 4b); CBP's 2019 capture rate was 80% against a 97% goal, mostly for
 *   operational reasons (sources.md section 5). The per-attempt FTA defaults (1% e-gate to 15%
 *   through a windshield) are assumptions bracketed by those figures.
 * - Opt-out: Delta reported under 2% of customers opting out (sources.md ops 4.1): 2% of U.S.
 *   citizens.
 * - Ground truth: ~1,600 impostors in 223 M travellers (7e-6) and ~175,000 overstays in the same
 *   223 M (sources.md section 5, [FNN-SABATINO]) give the impostor and overstay rates;
 * watch-list and prior-removal rates are assumptions (1e-5 each) a scenario should set.
 * - Ages: the exemptions for under-14s and over-79s are gone (sources.md 5a), so both ends are
 *   in the mix; the shares are assumptions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "bx/models.h"

static const char *const cit_names[] = {"us_citizen", "lpr",         "visa",    "visa_waiver",
                                        "canadian",   "mexican_bcc", "diplomat"};

const char *bx_citizenship_name(enum bx_citizenship c)
{
    return (unsigned)c < BX_N_CITIZENSHIPS ? cit_names[c] : "?";
}

bool bx_citizenship_parse(const char *name, enum bx_citizenship *out)
{
    for (int i = 0; i < BX_N_CITIZENSHIPS; ++i)
        if (strcmp(cit_names[i], name) == 0) {
            *out = (enum bx_citizenship)i;
            return true;
        }
    return false;
}

struct bx_pop_config bx_pop_config_default(void)
{
    struct bx_pop_config c = {0};
    const double cit[BX_N_CITIZENSHIPS] = {0.45, 0.08, 0.17, 0.15, 0.06, 0.08, 0.01};
    memcpy(c.citizenship, cit, sizeof cit);
    /* Region of birth by citizenship (assumptions): e_europe, e_asia, s_asia, w_africa,
     * americas, mena. */
    const double reg[BX_N_CITIZENSHIPS][BX_N_REGIONS] = {
        {0.10, 0.06, 0.04, 0.03, 0.74, 0.03}, {0.10, 0.20, 0.15, 0.05, 0.40, 0.10},
        {0.10, 0.30, 0.25, 0.08, 0.17, 0.10}, {0.45, 0.30, 0.02, 0.01, 0.17, 0.05},
        {0.10, 0.08, 0.06, 0.02, 0.72, 0.02}, {0.00, 0.00, 0.00, 0.00, 1.00, 0.00},
        {0.20, 0.20, 0.15, 0.15, 0.15, 0.15}};
    memcpy(c.region, reg, sizeof reg);
    c.female = 0.5;
    const double band[BX_N_AGE_BANDS] = {0.10, 0.22, 0.32, 0.20, 0.12, 0.04};
    memcpy(c.age_band, band, sizeof band);
    const double party[BX_PARTY_MAX] = {0.55, 0.25, 0.08, 0.08, 0.03, 0.01, 0, 0};
    memcpy(c.party_size, party, sizeof party);
    c.photo_age_max_years = 10;
    c.stay_mean_days = 90;
    c.overstay_rate = 175000.0 / 223e6; /* FNN-SABATINO */
    /* Ground truth, not detections: CBP reports some 1,600 impostors *caught* in 223 M
     * travellers (FNN-SABATINO). At the default settings (visa-best, a borrowed document's holder
     * at impostor_similarity 0.3, officer_catch 0.8) bxsim catches about 23% of the impostors it
     * is given (scenarios/airport-day.yaml with impostor_rate 0.01: 118 of 512), so the true rate
     * that yields CBP's caught count is 1600 / 223e6 / 0.23 = 3.1e-5. An inference from the
     * model, documented in docs/scenarios.md: the caught count is an output, compared with
     * CBP's in summary.json's outcomes. */
    c.impostor_rate = 1600.0 / 223e6 / 0.23;
    c.watchlist_rate = 1e-5;
    c.removal_rate = 1e-5;
    /* Assumptions, no published share: about 1 traveller in 100 uses a wheelchair, about 1 adult
     * in 20 travels with a child under 14 (docs/scenarios.md). They matter only where staff
     * exclusions are set (capture.exclusions). */
    c.wheelchair_rate = 0.01;
    c.with_children_rate = 0.05;
    return c;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return BX_FAIL(err, BX_EINVAL, __VA_ARGS__);                                           \
    } while (0)

static bool is_simplex(const double *p, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!(p[i] >= 0))
            return false;
        s += p[i];
    }
    return fabs(s - 1) < 1e-6;
}

enum bx_status bx_pop_config_check(const struct bx_pop_config *c, struct bx_error *err)
{
    CHECK(is_simplex(c->citizenship, BX_N_CITIZENSHIPS), "citizenship shares must sum to 1");
    for (int i = 0; i < BX_N_CITIZENSHIPS; ++i)
        CHECK(is_simplex(c->region[i], BX_N_REGIONS), "region shares of %s must sum to 1",
              cit_names[i]);
    CHECK(c->female >= 0 && c->female <= 1, "female share must lie in [0, 1]");
    CHECK(is_simplex(c->age_band, BX_N_AGE_BANDS), "age band shares must sum to 1");
    CHECK(is_simplex(c->party_size, BX_PARTY_MAX), "party size shares must sum to 1");
    CHECK(c->photo_age_max_years >= 0 && c->photo_age_max_years <= 20,
          "photo_age_max_years must lie in [0, 20]");
    CHECK(c->stay_mean_days > 0, "stay_mean_days must be > 0");
    const double rates[] = {c->overstay_rate, c->impostor_rate,   c->watchlist_rate,
                            c->removal_rate,  c->wheelchair_rate, c->with_children_rate};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; ++i)
        CHECK(rates[i] >= 0 && rates[i] <= 1, "ground-truth rates must lie in [0, 1]");
    return BX_OK;
}

static const double band_lo[] = {0, 14, 30, 50, 65, 80}, band_hi[] = {14, 30, 50, 65, 80, 95};

void bx_pop_draw(const struct bx_pop_config *c, gsl_rng *r, int64_t id, struct bx_traveller *out)
{
    /* A fixed number of draws per traveller, in a fixed order, so that changing one rate does
     * not shift the stream for everyone after (common random numbers across variants). */
    double u[14];
    for (int i = 0; i < 14; ++i)
        u[i] = gsl_rng_uniform(r);
    memset(out, 0, sizeof *out);
    out->id = id;
    out->citizenship = (enum bx_citizenship)bx_pick(u[0], c->citizenship, BX_N_CITIZENSHIPS);
    out->sex = u[1] < c->female ? BX_SEX_FEMALE : BX_SEX_MALE;
    out->region = (enum bx_region)bx_pick(u[2], c->region[out->citizenship], BX_N_REGIONS);
    out->band = (enum bx_age_band)bx_pick(u[3], c->age_band, BX_N_AGE_BANDS);
    out->age_years = band_lo[out->band] + u[4] * (band_hi[out->band] - band_lo[out->band]);
    /* A child's document is at most 5 years old (U.S. and most passports for minors). */
    double max_photo =
        out->band == BX_AGE_0_13 ? fmin(5, c->photo_age_max_years) : c->photo_age_max_years;
    out->photo_age_years = fmin(u[5] * max_photo, out->age_years);
    bool citizen = out->citizenship == BX_CIT_US;
    out->impostor = u[6] < c->impostor_rate;
    if (!citizen) {
        out->overstay = u[7] < c->overstay_rate;
        out->watchlisted = u[8] < c->watchlist_rate;
        out->prior_removal = u[9] < c->removal_rate;
        /* Authorised stay end relative to departure: positive days left, or days overstayed. */
        double stay = -c->stay_mean_days * log1p(-u[10] * 0.999999);
        out->stay_end_days = out->overstay ? -(1 + stay) : stay;
    } else {
        out->stay_end_days = BX_INF;
    }
    out->wheelchair = u[11] < c->wheelchair_rate;
    out->with_children = out->band == BX_AGE_0_13 || u[12] < c->with_children_rate;
    /* A standard normal from the last uniform (clamped away from 0 and 1: |z| <= 5.3). */
    out->difficulty = gsl_cdf_ugaussian_Pinv(fmin(fmax(u[13], 1e-7), 1 - 1e-7));
}

unsigned bx_pop_party_size(const struct bx_pop_config *c, gsl_rng *r)
{
    return (unsigned)bx_pick(gsl_rng_uniform(r), c->party_size, BX_PARTY_MAX) + 1;
}

/* ---------------------------------------------------------------- arrivals */

double bx_arrival_next(const struct bx_arrival_profile *p, gsl_rng *r, double t_s)
{
    double max = 0;
    for (int h = 0; h < 24; ++h)
        max = fmax(max, p->rate_per_h[h]);
    if (!(max > 0))
        return BX_INF;
    double t = t_s, lambda = max / 3600;
    for (;;) {
        t += gsl_ran_exponential(r, 1 / lambda);
        int h = (int)fmod(floor(t / 3600), 24);
        if (gsl_rng_uniform(r) * max < p->rate_per_h[h])
            return t;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bx_arrival_wave(gsl_rng *r, size_t n, double open_s, double mode_s, double close_s,
                     double *out)
{
    BX_REQUIRE(open_s <= mode_s && mode_s <= close_s && open_s < close_s);
    double f = (mode_s - open_s) / (close_s - open_s);
    for (size_t i = 0; i < n; ++i) {
        double u = gsl_rng_uniform(r);
        out[i] = u < f ? open_s + sqrt(u * (close_s - open_s) * (mode_s - open_s))
                       : close_s - sqrt((1 - u) * (close_s - open_s) * (close_s - mode_s));
    }
    qsort(out, n, sizeof *out, cmp_double);
}

/* ---------------------------------------------------------------- capture */

struct bx_capture_config bx_capture_config_default(void)
{
    /* document (not captured at ports), egate, gate_camera, mobile, vehicle, kiosk */
    struct bx_capture_config c = {
        .time_mean_s = {0, 2.5, 2.0, 4.0, 6.0, 5.0},
        .time_sd_s = {0, 1.0, 0.8, 2.0, 3.0, 2.5},
        .fta = {0, 0.01, 0.02, 0.05, 0.15, 0.05},
        .max_attempts = 3,
        .us_optout = 0.02,
    };
    return c;
}

enum bx_status bx_capture_config_check(const struct bx_capture_config *c, struct bx_error *err)
{
    for (int d = 0; d < BX_N_DEVICES; ++d) {
        CHECK(c->time_mean_s[d] >= 0 && c->time_sd_s[d] >= 0, "capture time of %s must be >= 0",
              bx_device_name((enum bx_device)d));
        CHECK(c->fta[d] >= 0 && c->fta[d] < 1, "fta of %s must lie in [0, 1)",
              bx_device_name((enum bx_device)d));
    }
    CHECK(c->max_attempts >= 1 && c->max_attempts <= 20, "max_attempts must lie in [1, 20]");
    CHECK(c->us_optout >= 0 && c->us_optout <= 1, "us_optout must lie in [0, 1]");
    CHECK((c->exempt & ~(unsigned)BX_EXEMPT_ALL) == 0, "unknown exemption bits");
    CHECK(c->difficulty_sd >= 0 && c->difficulty_sd <= 5, "difficulty_sd must lie in [0, 5]");
    CHECK(c->difficulty_quality >= 0 && c->difficulty_quality <= 2,
          "difficulty_quality must lie in [0, 2]");
    CHECK(c->exclude_wheelchair >= 0 && c->exclude_wheelchair <= 1 && c->exclude_family >= 0 &&
              c->exclude_family <= 1,
          "exclusion probabilities must lie in [0, 1]");
    return BX_OK;
}

const char *bx_exempt_name(unsigned bit)
{
    switch (bit) {
    case BX_EXEMPT_UNDER_14:
        return "under_14";
    case BX_EXEMPT_OVER_79:
        return "over_79";
    case BX_EXEMPT_CANADIAN:
        return "canadian";
    case BX_EXEMPT_DIPLOMAT:
        return "diplomat";
    default:
        return NULL;
    }
}

bool bx_capture_exempt(const struct bx_capture_config *c, const struct bx_traveller *t)
{
    unsigned e = c->exempt;
    return e != 0 && t->citizenship != BX_CIT_US &&
           (((e & BX_EXEMPT_UNDER_14) && t->age_years < 14) ||
            ((e & BX_EXEMPT_OVER_79) && t->age_years > 79) ||
            ((e & BX_EXEMPT_CANADIAN) && t->citizenship == BX_CIT_CANADIAN) ||
            ((e & BX_EXEMPT_DIPLOMAT) && t->citizenship == BX_CIT_DIPLOMAT));
}

double bx_capture_quality(const struct bx_capture_config *c, const struct bx_traveller *t)
{
    return t->difficulty > 0 ? fmax(exp(-c->difficulty_quality * t->difficulty), 1e-3) : 1.0;
}

void bx_capture_run(const struct bx_capture_config *c, enum bx_device device,
                    const struct bx_traveller *t, double quality_penalty, gsl_rng *r,
                    struct bx_capture_outcome *out)
{
    BX_REQUIRE((unsigned)device < BX_N_DEVICES && quality_penalty >= 1);
    *out = (struct bx_capture_outcome){0};
    /* Draws in a fixed pattern: one for opt-out, one for a staff exclusion, then per attempt
     * one time and one outcome. */
    double u_opt = gsl_rng_uniform(r), u_ex = gsl_rng_uniform(r);
    if (t->citizenship == BX_CIT_US && u_opt < c->us_optout) {
        out->opted_out = true;
        return;
    }
    if (bx_capture_exempt(c, t)) {
        out->exempt = true;
        return;
    }
    if ((t->wheelchair && u_ex < c->exclude_wheelchair) ||
        (t->with_children && u_ex < c->exclude_family)) {
        out->excluded = true;
        return;
    }
    /* Harder conditions, and a harder traveller, multiply the odds of failure. */
    double p = c->fta[device],
           odds = p / (1 - p) * quality_penalty * exp(c->difficulty_sd * t->difficulty),
           fta = odds / (1 + odds);
    double m = c->time_mean_s[device], sd = c->time_sd_s[device];
    double s2 = m > 0 ? log1p(sd * sd / (m * m)) : 0, mu = m > 0 ? log(m) - s2 / 2 : 0;
    for (unsigned a = 0; a < c->max_attempts && !out->acquired; ++a) {
        if (c->exponential_time)
            out->time_s += m > 0 ? gsl_ran_exponential(r, m) : 0;
        else
            out->time_s += m > 0 ? (sd > 0 ? gsl_ran_lognormal(r, mu, sqrt(s2)) : m) : 0;
        out->acquired = gsl_rng_uniform(r) >= fta;
        out->attempts = a + 1;
    }
}
