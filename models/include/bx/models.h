/* SPDX-License-Identifier: MIT */
/* models.h - everything stochastic about the world that the matcher sees: synthetic identities
 * with demographic structure and face templates captured by devices under given conditions.
 *
 * Usage:
 *     struct bx_tplgen_params p = bx_tplgen_params_default(512);   // or from a profile file
 *     struct bx_tplgen *gen = bx_tplgen_alloc(&p, &err);
 *     struct bx_subject s;
 *     bx_tplgen_subject(gen, 42, &mix, &s);                 // demographics of subject 42
 *     bx_tplgen_capture(gen, &s, &cond, 0, out);            // its template under `cond`
 *     bx_tplgen_free(gen);
 *
 * The model (docs/sources.md section 7): subject i has an identity centre
 * c_i = norm(sqrt(a_sex) g_sex + sqrt(a_region) g_region + sqrt(a_age) g_age + sqrt(1 - sum) u_i)
 * with shared group directions g, so impostors of the same sex, region and age band score higher
 * (NIST IR 8280); a fraction of subjects are look-alikes of another subject. A capture taken Y
 * years after enrolment is x = norm(c_i + drift * sqrt(Y / 10) * w_i + sigma * e), e ~ N(0, I/d),
 * where w_i is the subject's own ageing direction and sigma depends on device, image quality, age
 * band and a heavy "hard sample" tail. Everything is a pure function of (profile seed, subject id,
 * sample key): templates can be generated in any order or on any thread with the same result.
 * The module fills caller-owned float buffers and knows nothing of the matcher.
 *
 * Ownership: bx_tplgen_alloc/free. Thread safety: a bx_tplgen is read-only after allocation and
 * may be shared by threads; each call uses only its arguments and stack.
 */
#ifndef BX_MODELS_H
#define BX_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "bx/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest template dimension the generator supports (it keeps two vectors on the stack). */
#define BX_MODELS_DIM_MAX 4096
/** Smallest template dimension: room for the 14 orthogonal group directions and more. */
#define BX_MODELS_DIM_MIN 16

enum bx_sex { BX_SEX_FEMALE, BX_SEX_MALE, BX_N_SEXES };

/** Regions of birth (the NIST FRTE 1:N demographic groups, plus two). Append only. */
enum bx_region {
    BX_REGION_E_EUROPE,
    BX_REGION_E_ASIA,
    BX_REGION_S_ASIA,
    BX_REGION_W_AFRICA,
    BX_REGION_AMERICAS,
    BX_REGION_MENA,
    BX_N_REGIONS
};

/** Age bands at capture: 0-13, 14-29, 30-49, 50-64, 65-79, 80+. */
enum bx_age_band {
    BX_AGE_0_13,
    BX_AGE_14_29,
    BX_AGE_30_49,
    BX_AGE_50_64,
    BX_AGE_65_79,
    BX_AGE_80_UP,
    BX_N_AGE_BANDS
};

/** Capture devices (the world model, docs/architecture.md). Append only. */
enum bx_device {
    BX_DEVICE_DOCUMENT,    /**< passport/visa photo: the enrolment image */
    BX_DEVICE_EGATE,       /**< self-service e-gate */
    BX_DEVICE_GATE_CAMERA, /**< departure-gate camera (air, sea) */
    BX_DEVICE_MOBILE,      /**< handheld or mobile unit (land pedestrians, private aircraft) */
    BX_DEVICE_VEHICLE,     /**< camera through a windshield */
    BX_DEVICE_KIOSK,       /**< kiosk (NIST visa -> kiosk) */
    BX_N_DEVICES
};

const char *bx_sex_name(enum bx_sex s);
const char *bx_region_name(enum bx_region r);
const char *bx_age_band_name(enum bx_age_band b);
const char *bx_device_name(enum bx_device d);
/** Parse a name back; false if unknown. */
bool bx_region_parse(const char *name, enum bx_region *out);
bool bx_age_band_parse(const char *name, enum bx_age_band *out);
bool bx_device_parse(const char *name, enum bx_device *out);
enum bx_age_band bx_age_band_of(double age_years);

/** Parameters of the template generator: an algorithm profile's "generator" block. */
struct bx_tplgen_params {
    size_t dim;
    uint64_t seed;                 /**< fixes the group directions and every subject's draws */
    double shared_sex[BX_N_SEXES]; /**< a: share of the centre along the group axis */
    double shared_region[BX_N_REGIONS];
    double shared_age[BX_N_AGE_BANDS];
    double lookalike_fraction;             /**< subjects that are near copies of another */
    double lookalike_cosine;               /**< their centres' cosine with the original */
    double noise[BX_N_DEVICES];            /**< sigma at quality 1 */
    double quality_exponent;               /**< sigma *= quality^-exponent, quality in (0, 1] */
    double age_noise[BX_N_AGE_BANDS];      /**< sigma multiplier by age band at capture */
    double hard_fraction, hard_multiplier; /**< heavy tail: some captures are much noisier */
    double drift_per_decade;               /**< ageing: centre moves drift * sqrt(years / 10) */
    double age_drift[BX_N_AGE_BANDS];      /**< drift multiplier by age band (children fastest) */
};

/** Plausible defaults for dimension @p dim (not calibrated to any target). */
struct bx_tplgen_params bx_tplgen_params_default(size_t dim);
/** Check ranges (shares in [0, 1) summing below 1, noises >= 0, ...); BX_EINVAL naming a field. */
enum bx_status bx_tplgen_params_check(const struct bx_tplgen_params *p, struct bx_error *err);

/** The population a gallery is drawn from (probabilities; each set sums to 1). */
struct bx_demog_mix {
    double female;
    double region[BX_N_REGIONS];
    double age_band[BX_N_AGE_BANDS];
};
struct bx_demog_mix bx_demog_mix_default(void);
enum bx_status bx_demog_mix_check(const struct bx_demog_mix *m, struct bx_error *err);

/** A subject's demographics and the handles the generator needs (no heap memory). */
struct bx_subject {
    int64_t id;
    enum bx_sex sex;
    enum bx_region region;
    enum bx_age_band band; /**< at enrolment */
    double age_years;      /**< at enrolment */
    int64_t lookalike_of;  /**< -1, or the subject whose look-alike this is */
};

/** Capture conditions of one image. */
struct bx_capture {
    enum bx_device device;
    double quality;           /**< (0, 1]; 1 = as good as the device gets */
    double years_since_enrol; /**< 0 for the enrolment photo itself */
};

struct bx_tplgen;
struct bx_tplgen *bx_tplgen_alloc(const struct bx_tplgen_params *p, struct bx_error *err);
void bx_tplgen_free(struct bx_tplgen *g);
size_t bx_tplgen_dim(const struct bx_tplgen *g);

/** Draw subject @p id's demographics from @p mix (a pure function of the seed and id). A
 *  look-alike shares the demographics of the subject it resembles. */
void bx_tplgen_subject(const struct bx_tplgen *g, int64_t id, const struct bx_demog_mix *mix,
                       struct bx_subject *out);

/**
 * Write one unit-norm template of subject @p s captured under @p c into @p out[dim]. @p sample
 * distinguishes captures of the same subject (same sample, same template). Does not allocate.
 * @return whether this capture drew the heavy-tail ("hard") noise.
 */
bool bx_tplgen_capture(const struct bx_tplgen *g, const struct bx_subject *s,
                       const struct bx_capture *c, uint64_t sample, float *out);

/** The identity centre of @p s at enrolment and its ageing direction (unit vectors, dim floats
 *  each). Computing them once per subject and calling bx_tplgen_capture_prepared() for each of
 *  its captures saves two thirds of the work. @p ageing may be NULL where the captures are all
 *  at enrolment (years_since_enrol 0, no ageing to add): a third less work. */
void bx_tplgen_prepare(const struct bx_tplgen *g, const struct bx_subject *s, float *centre,
                       float *ageing);
/** bx_tplgen_capture() from prepared vectors: the same template. @p ageing NULL (not
 *  prepared): computed here when the capture ages the centre. */
bool bx_tplgen_capture_prepared(const struct bx_tplgen *g, const struct bx_subject *s,
                                const float *centre, const float *ageing,
                                const struct bx_capture *c, uint64_t sample, float *out);

/* ================================================================ travellers */

/** Citizenship classes (the world model, docs/architecture.md). Append only. */
enum bx_citizenship {
    BX_CIT_US,          /**< U.S. citizen: may opt out; photo purged within 12 h */
    BX_CIT_LPR,         /**< lawful permanent resident */
    BX_CIT_VISA,        /**< non-immigrant visa holder */
    BX_CIT_VISA_WAIVER, /**< Visa Waiver Program (ESTA) */
    BX_CIT_CANADIAN,
    BX_CIT_MEXICAN_BCC, /**< Mexican national with a border-crossing card */
    BX_CIT_DIPLOMAT,
    BX_N_CITIZENSHIPS
};
const char *bx_citizenship_name(enum bx_citizenship c);
bool bx_citizenship_parse(const char *name, enum bx_citizenship *out);

#define BX_PARTY_MAX 8

/** The traveller population of a port or flow (all shares sum to 1 where they are a set). */
struct bx_pop_config {
    double citizenship[BX_N_CITIZENSHIPS];
    double region[BX_N_CITIZENSHIPS][BX_N_REGIONS]; /**< region of birth by citizenship */
    double female;
    double age_band[BX_N_AGE_BANDS];
    double party_size[BX_PARTY_MAX]; /**< P(party of 1..BX_PARTY_MAX) */
    double photo_age_max_years;      /**< enrolment photo age ~ U(0, max): passports last 10 y */
    double stay_mean_days;           /**< authorised stay of non-citizens (exponential) */
    /* Ground-truth rates per non-citizen traveller (U.S. citizens: impostor only). */
    double overstay_rate, impostor_rate, watchlist_rate, removal_rate;
    /* Who staff may wave past the camera (GAO-20-568): travellers using a wheelchair, and
     * adults travelling with small children (children under 14 count themselves). Shares of
     * travellers; assumptions (docs/scenarios.md). */
    double wheelchair_rate, with_children_rate;
};
/** A documented default mix; see models/population.c for its sources. */
struct bx_pop_config bx_pop_config_default(void);
enum bx_status bx_pop_config_check(const struct bx_pop_config *c, struct bx_error *err);

struct bx_traveller {
    int64_t id;
    enum bx_citizenship citizenship;
    enum bx_sex sex;
    enum bx_region region;
    double age_years;
    enum bx_age_band band;
    double photo_age_years; /**< age of the enrolment (document) photo at departure */
    double stay_end_days;   /**< authorised stay end relative to departure (< 0: overstay) */
    bool overstay, impostor, watchlisted, prior_removal;
    bool wheelchair;    /**< uses a wheelchair */
    bool with_children; /**< a child under 14, or an adult travelling with one */
    double difficulty;  /**< latent capture difficulty, standard normal, shared by every attempt
                             (glasses, height, posture, lighting where the traveller stands) */
};

/** Draw traveller @p id from @p c with generator @p r (one population stream, ID order). */
void bx_pop_draw(const struct bx_pop_config *c, gsl_rng *r, int64_t id, struct bx_traveller *out);
/** Draw a party size (1..BX_PARTY_MAX). */
unsigned bx_pop_party_size(const struct bx_pop_config *c, gsl_rng *r);

/* ================================================================ arrivals */

/** A non-homogeneous Poisson process with a piecewise-constant hourly rate repeating daily. */
struct bx_arrival_profile {
    double rate_per_h[24];
};
/**
 * The first arrival after @p t_s (seconds from midnight of day 0), by thinning (Lewis and
 * Shedler 1979) against the profile's maximum; BX_INF if every rate is 0.
 */
double bx_arrival_next(const struct bx_arrival_profile *p, gsl_rng *r, double t_s);

/**
 * A schedule-driven wave: @p n arrivals between @p open_s and @p close_s (a boarding window, a
 * sailing's check-in), triangular with its mode at @p mode_s, written sorted into @p out[n].
 */
void bx_arrival_wave(gsl_rng *r, size_t n, double open_s, double mode_s, double close_s,
                     double *out);

/* ================================================================ capture */

/** Per-device capture behaviour: time per attempt, failure to acquire, retries, opt-out. */
struct bx_capture_config {
    double time_mean_s[BX_N_DEVICES]; /**< lognormal time per attempt */
    double time_sd_s[BX_N_DEVICES];
    double fta[BX_N_DEVICES]; /**< failure-to-acquire probability per attempt */
    unsigned max_attempts;    /**< then the traveller goes to manual inspection */
    bool exponential_time;    /**< exponential attempt times with the given means (sd ignored):
                                   for checks against queueing theory */
    double us_optout;         /**< share of U.S. citizens who opt out */
    /** Spread of the traveller's latent difficulty on the log-odds of failure: an attempt fails
     *  with odds fta / (1 - fta) x exp(difficulty_sd x difficulty), so that a traveller who
     *  failed once is likelier to fail again (0: independent attempts). */
    double difficulty_sd;
    /** How a harder traveller's usable photo is also a poorer one: a traveller with difficulty
     *  z > 0 is captured at quality exp(-difficulty_quality x z) (1 for z <= 0), which raises the
     *  template noise by the inverse (with the profile's quality_exponent 1): light and posture
     *  that do not defeat the camera still cost matches. 0: every usable photo at quality 1. */
    double difficulty_quality;
    /** Staff exclusions: the probability that a wheelchair user, or a traveller with small
     *  children, is waved past the camera unphotographed. */
    double exclude_wheelchair, exclude_family;
    /** Exemptions before the 2025 rule (BX_EXEMPT_* bits): those travellers were not required
     *  to give biometrics at exit and walk past the camera; 0 (the default): the rule, no
     *  exemption. */
    unsigned exempt;
};
/** The exemptions the 2025 rule ended (8 CFR 215.8 before it): children under 14, adults over
 *  79, Canadian citizens, diplomats (A and G visas). */
enum {
    BX_EXEMPT_UNDER_14 = 1u << 0,
    BX_EXEMPT_OVER_79 = 1u << 1,
    BX_EXEMPT_CANADIAN = 1u << 2,
    BX_EXEMPT_DIPLOMAT = 1u << 3,
    BX_EXEMPT_ALL = 15u
};
/** The name of exemption bit @p bit (under_14, over_79, canadian, diplomat), or NULL. */
const char *bx_exempt_name(unsigned bit);
/** Whether traveller @p t is exempt under @p c (never a U.S. citizen: they are out of scope). */
bool bx_capture_exempt(const struct bx_capture_config *c, const struct bx_traveller *t);
struct bx_capture_config bx_capture_config_default(void);
enum bx_status bx_capture_config_check(const struct bx_capture_config *c, struct bx_error *err);

struct bx_capture_outcome {
    bool acquired;     /**< a usable image within max_attempts */
    unsigned attempts; /**< attempts made (0 when opted out) */
    double time_s;     /**< total capture time */
    bool opted_out;
    bool excluded; /**< waved past the camera by staff (no attempt) */
    bool exempt;   /**< exempt (bx_capture_exempt): no attempt */
};
/** The quality (0, 1] of traveller @p t's usable photo under @p c (difficulty_quality). */
double bx_capture_quality(const struct bx_capture_config *c, const struct bx_traveller *t);
/** One traveller's capture at @p device; @p quality_penalty (>= 1) multiplies the FTA odds for
 *  harder conditions (glare through a windshield, a child held up). */
void bx_capture_run(const struct bx_capture_config *c, enum bx_device device,
                    const struct bx_traveller *t, double quality_penalty, gsl_rng *r,
                    struct bx_capture_outcome *out);

#ifdef __cplusplus
}
#endif
#endif /* BX_MODELS_H */
