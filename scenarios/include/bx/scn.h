/* SPDX-License-Identifier: MIT */
/* scn.h - scenario files: YAML in, validated configuration structs out.
 *
 * Usage:
 *     struct bx_scn scn;
 *     if (bx_scn_load_file("scenarios/mmc-example.yaml", &scn, &err) != BX_OK)
 *         fprintf(stderr, "%s\n", err.msg);   // "FILE:LINE:COL: message"
 *     ... bx_net_run(&scn.net, scn.seed, rep, &result, &err) ...
 *     bx_scn_fini(&scn);
 *
 * Every problem (bad YAML, an unknown field, a wrong type, a value out of range, a reference to
 * an unknown station) fails with BX_EPARSE or BX_ESCHEMA and a message that starts with the file
 * name, line and column of the offending node; err->src_line and err->src_col hold the position
 * too. The whole file is validated before anything is returned. The format is documented in
 * docs/scenarios.md. Thread safety: none needed; the loader keeps no state between calls.
 */
#ifndef BX_SCN_H
#define BX_SCN_H

#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/lifecycle.h"
#include "bx/models.h"
#include "bx/port.h"
#include "bx/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Scenario kinds; append only. */
enum bx_scn_kind {
    BX_SCN_NETWORK,   /**< the generic station network (sources, stations, routing) */
    BX_SCN_PORTS,     /**< ports of the exit system (air, sea, private aircraft; bx/port.h) */
    BX_SCN_LIFECYCLE, /**< entry to exit over months and years (bx/lifecycle.h) */
};

/** A loaded scenario. Owns everything it points to; release with bx_scn_fini(). */
struct bx_scn {
    enum bx_scn_kind kind;
    char name[BX_NAME_MAX];
    char *description; /**< may be NULL */
    uint64_t seed;
    uint32_t replications;
    struct bx_net_config net;
    struct bx_ports_config ports;  /**< BX_SCN_PORTS; its `profile` is filled by the caller from
                                        `profile_name` (profiles live outside the scenario) */
    struct bx_lc_config lifecycle; /**< BX_SCN_LIFECYCLE; its profile filled like ports' */
    char profile_name[256];
};

/** Load and validate @p path. On failure @p out is left empty (nothing to free). */
enum bx_status bx_scn_load_file(const char *path, struct bx_scn *out, struct bx_error *err);

/** Same, from memory; @p label names the input in messages. */
enum bx_status bx_scn_load_string(const char *text, size_t len, const char *label,
                                  struct bx_scn *out, struct bx_error *err);

void bx_scn_fini(struct bx_scn *scn);

/* ================================================================ algorithm profiles */

/** What a calibration target measures. */
enum bx_target_metric {
    BX_TARGET_FNMR_AT_FMR,  /**< 1:1 FNMR at the threshold giving `fmr` over all impostors */
    BX_TARGET_FMR_RATIO,    /**< same-group impostor FMR of `group` over that of `reference`, at
                                 the threshold giving `fmr` for the reference group */
    BX_TARGET_FNIR_AT_FPIR, /**< 1:N FNIR at the threshold giving FPIR `fmr` (key `fpir`) with
                                 galleries of `gallery_size` (a flight's manifest) */
};

/** A demographic group: sex and region of birth (either may be "any": -1). */
struct bx_group {
    int sex;    /**< enum bx_sex or -1 */
    int region; /**< enum bx_region or -1 */
};

struct bx_profile_target {
    char name[32];
    enum bx_target_metric metric;
    double fmr;
    enum bx_device enrol_device, probe_device;
    double probe_quality, years;
    size_t gallery_size;              /**< FNIR targets: enrolled subjects per gallery */
    struct bx_group group, reference; /**< FMR ratio targets */
    double value;                     /**< the published figure */
    double tolerance;                 /**< accepted relative error of the achieved value */
    char source[256];
    bool has_achieved; /**< last recorded calibration result */
    double achieved, achieved_lo, achieved_hi;
    double achieved_seed_lo, achieved_seed_hi; /**< range over the seeds (NaN: not recorded) */
};

/** An algorithm profile: generator parameters fitted to published figures (models/profiles/). */
struct bx_profile {
    char name[BX_NAME_MAX];
    char *description;
    struct bx_tplgen_params params;
    struct bx_demog_mix mix;
    struct bx_profile_target *targets;
    size_t n_targets;
    char fit[8][48]; /**< parameters `bxsim calibrate --fit` may move ("noise.gate_camera") */
    size_t n_fit;
};

/** Load a profile file; errors as FILE:LINE:COL. */
enum bx_status bx_scn_load_profile(const char *path, struct bx_profile *out, struct bx_error *err);
enum bx_status bx_scn_load_profile_string(const char *text, size_t len, const char *label,
                                          struct bx_profile *out, struct bx_error *err);
void bx_scn_profile_fini(struct bx_profile *p);

/** The address of the named generator parameter in @p p ("hard.fraction", "noise.kiosk",
 *  "ageing.drift_per_decade", "shared.region.e_asia", ...), or NULL if there is none. */
double *bx_scn_profile_param(struct bx_tplgen_params *p, const char *name);

/** The profile folder: $BX_PROFILE_PATH, else the folder built in (models/profiles). */
const char *bx_scn_profile_dir(void);
/** Resolve a profile NAME to its file: a path if it contains '/' or ends in .yaml, else
 *  PROFILE_DIR/NAME.yaml (bx_scn_profile_dir). */
void bx_scn_profile_path(const char *name, char *out, size_t len);
/** The names of @p dir's *.yaml entries (not hidden ones), sorted, listed with readdir. Free with
 *  bx_scn_profile_names_free. BX_EIO ("DIR: reason") when the folder cannot be read. */
enum bx_status bx_scn_profile_names(const char *dir, char ***names, size_t *n,
                                    struct bx_error *err);
void bx_scn_profile_names_free(char **names, size_t n);
/** Load a ports (or lifecycle) scenario's algorithm profile (scn->profile_name, resolved by
 *  bx_scn_profile_path) into scn->ports (scn->lifecycle): generator parameters and name. @p ppath
 * (may be NULL) receives the profile file's path. Errors read "profile 'NAME': FILE:LINE:COL:
 * message". */
enum bx_status bx_scn_ports_profile(struct bx_scn *scn, char *ppath, size_t len,
                                    struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_SCN_H */
