/* SPDX-License-Identifier: MIT */
/* report.h - what a run leaves behind: summary.json and results.h5 (written atomically), read
 * back by one reader (bx_rpt_results_read) for the report page and the audit, and the HTML
 * pages with their plots: run, network, audit and sizing.
 *
 * Usage:
 *     struct bx_rpt_run_info info = {.scenario = "mmc-example", .seed = 11, ...};
 *     bx_rpt_write_summary("out/summary.json", &info, &cfg, reps, n_reps, &err);
 *
 * Every reported mean and quantile is the average of the per-replication estimates with a
 * Student-t 95% interval across replications ({"value": v, "ci95": [lo, hi]}; null where a
 * figure or interval cannot be computed). The schema is documented in docs/summary.md. The
 * output depends only on its inputs, so the same scenario and seed give byte-identical files.
 *
 * Process-wide effects: writing or reading results.h5 switches off HDF5's automatic error
 * printing (H5Eset_auto2); plots fork and exec gnuplot (its messages go to gnuplot.log); the
 * temporary files written are registered for removal on SIGINT/SIGTERM (bx_temp_register).
 */
#ifndef BX_REPORT_H
#define BX_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/lifecycle.h"
#include "bx/port.h"
#include "bx/sim.h"
#include "bx/size.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bx_rpt_run_info {
    const char *scenario;      /**< scenario name */
    const char *scenario_file; /**< path as given; may be NULL */
    const char *version;       /**< bxsim version and git revision */
    uint64_t seed;
    double wall_s; /**< NaN: written as null (reproducible output) */
    /* For results.h5 and the report (each may be NULL). */
    const char *git_revision;
    const char *libraries;     /**< library versions, one line */
    const char *scenario_text; /**< the scenario file as it was read */
    const char *profile_text;  /**< the algorithm profile file as it was read */
};

/**
 * Aggregate @p n_reps replication results of network @p cfg and write them to @p path as JSON.
 * @return BX_OK, or BX_EIO/BX_ENOMEM/BX_ELIB with @p err set; @p path is then untouched.
 */
enum bx_status bx_rpt_write_summary(const char *path, const struct bx_rpt_run_info *info,
                                    const struct bx_net_config *cfg,
                                    const struct bx_net_rep_result *reps, size_t n_reps,
                                    struct bx_error *err);

/** The same for a `kind: ports` run: ports, matching rates (pooled, exact binomial intervals),
 *  outcomes and retention (docs/summary.md). */
enum bx_status bx_rpt_write_ports_summary(const char *path, const struct bx_rpt_run_info *info,
                                          const struct bx_ports_config *cfg,
                                          const struct bx_ports_result *reps, size_t n_reps,
                                          struct bx_error *err);

/** DIR/results.h5 of a ports run: hourly series, wait quantiles and matching samples
 *  (docs/results.md); written atomically. */
enum bx_status bx_rpt_write_results_h5(const char *path, const struct bx_rpt_run_info *info,
                                       const struct bx_ports_config *cfg,
                                       const struct bx_ports_result *reps, size_t n_reps,
                                       struct bx_error *err);

/* ================================================================ reading results.h5 back */

/** One port's series in results.h5 (/ports/NAME). */
struct bx_rpt_port {
    char name[BX_NAME_MAX];
    char type[16];      /**< air, sea, private, land */
    char lane_kind[16]; /**< camera, vehicle, pedestrian */
    double gallery_size;
    double thresholds[3]; /**< this port's 1:n, 1:1, watch-list thresholds (NaN: not recorded) */
    size_t R, H, K;       /**< replications, hours, CDF levels */
    double *arrivals, *mean_wait, *queue, *busy, *capacity; /**< R x H */
    double *cdf, *levels;                                   /**< R x K, K */
};

/** A ports run read back from its results.h5: what `bxsim report` and `bxsim audit --run` use. */
struct bx_rpt_results {
    json_t *summary, *resolved; /**< summary.json and the resolved scenario */
    char *scenario, *scenario_file, *scenario_yaml, *profile, *profile_yaml;
    char *version, *git, *libraries;
    long long seed, replications;
    double horizon_s;
    double thresholds[3]; /**< 1:n, verify, watch list */
    struct bx_rpt_port *ports;
    size_t n_ports;
    /* /matching: one row per captured traveller (docs/results.md) */
    size_t n;
    float *verify, *impostor;
    signed char *mated, *sex, *age_band, *region, *device;
    int *port;
    long long *subject, *impostor_subject;
};

/**
 * Read and check results.h5 @p file (its checksum first, then every dataset and attribute; no
 * size read from the file is trusted beyond the file's own size). BX_EIO when it cannot be read,
 * BX_EPARSE naming the dataset or attribute that is missing or malformed.
 */
enum bx_status bx_rpt_results_read(const char *file, struct bx_rpt_results *r,
                                   struct bx_error *err);
/**
 * DIR/results.h5 of a run folder (bx_rpt_results_read), and, when DIR/summary.json is there, a
 * check that it is the same run (a set mixed by an interrupted publish is refused: BX_EPARSE).
 */
enum bx_status bx_rpt_results_read_dir(const char *dir, struct bx_rpt_results *r,
                                       struct bx_error *err);
void bx_rpt_results_fini(struct bx_rpt_results *r);

/** Options of bx_rpt_write_report(). */
struct bx_rpt_report_opts {
    const char *gnuplot; /**< the program that draws the plots; NULL = "gnuplot" from PATH */
    const char *out;     /**< write the page and its plots here instead of into DIR (a staging
                              folder: bx_outdir_open in bx/common.h) */
};

/** What bx_rpt_write_report() made. */
struct bx_rpt_report_result {
    size_t n_plots;           /**< plots with data and scripts in DIR/plots */
    bool images;              /**< gnuplot drew them (PNG and SVG) */
    char note[128];           /**< why not, when !images */
    const char *page, *plots; /**< the page written and its plot folder (names in DIR) */
};

/**
 * DIR/report.html and DIR/plots/ from DIR/results.h5 of a ports run: the scenario summary, a
 * table per port, matching rates with intervals, outcome tallies, retention, assumptions and the
 * calibration profile, and the plots (data file, gnuplot script, PNG and SVG each). Without
 * gnuplot the page, data and scripts are still written (res->images false, res->note says why).
 * The page is written atomically and the plot folder replaced whole. BX_EIO/BX_EPARSE name the
 * file and the dataset when results.h5 is missing or malformed.
 */
enum bx_status bx_rpt_write_report(const char *dir, const struct bx_rpt_report_opts *o,
                                   struct bx_rpt_report_result *res, struct bx_error *err);

/** DIR/audit.html and DIR/audit_plots/ (DET and ROC curves, group rates) from the object of
 *  audit.json (bx/audit.h, docs/audit.md); like bx_rpt_write_report() without gnuplot. */
enum bx_status bx_rpt_write_audit_report(const char *dir, json_t *audit,
                                         const struct bx_rpt_report_opts *o,
                                         struct bx_rpt_report_result *res, struct bx_error *err);

/* ================================================================ lifecycle runs */

/** What a lifecycle run produced, for overstay.json. */
struct bx_rpt_lifecycle {
    const struct bx_rpt_run_info *info;
    const struct bx_lc_config *cfg;
    const struct bx_lc_result *reps;
    size_t n_reps;
    const struct bx_lc_fmr *fmr; /**< the whole store's FMR at the exit threshold; NULL: none */
    const struct bx_lc_fpir_point *fpir;
    size_t n_fpir;
};

/** overstay.json's object (docs/lifecycle.md); write it with bx_rpt_write_json. */
json_t *bx_rpt_overstay_json(const struct bx_rpt_lifecycle *lc);
/** records.sqlite from replication 0's records (schema in docs/lifecycle.md): one transaction
 *  into a temporary file, renamed into place. */
enum bx_status bx_rpt_write_records(const char *path, const struct bx_lc_config *cfg,
                                    const struct bx_lc_result *rep0, struct bx_error *err);
/** DIR/overstay.html and DIR/overstay_plots/ from overstay.json's object. */
enum bx_status bx_rpt_write_overstay_report(const char *dir, json_t *overstay,
                                            const struct bx_rpt_report_opts *o,
                                            struct bx_rpt_report_result *res, struct bx_error *err);

/* ================================================================ compare.json */

/** Two ports scenarios run with the same seed and replications (`bxsim compare`). */
struct bx_rpt_compare {
    const char *a_name, *a_file, *b_name, *b_file;
    uint64_t seed;
    const struct bx_ports_config *a, *b;
    const struct bx_ports_result *a_reps, *b_reps;
    size_t n_reps;
};
/** Write @p root to @p path as JSON (2-space indent, 12 significant digits, final newline),
 *  atomically. Does not take ownership of @p root. */
enum bx_status bx_rpt_write_json(const char *path, const json_t *root, struct bx_error *err);
/** compare.json's object (docs/compare.md): per port in both, and for all ports, each figure's
 *  means and the paired difference B - A with its Student-t interval. NULL: out of memory. */
json_t *bx_rpt_compare_json(const struct bx_rpt_compare *c);
/** DIR/compare.html from compare.json's object. */
enum bx_status bx_rpt_write_compare_report(const char *dir, json_t *cmp,
                                           const struct bx_rpt_report_opts *o,
                                           struct bx_rpt_report_result *res, struct bx_error *err);

/* ================================================================ size.json */

/** One sized port and resource of `bxsim size`. */
struct bx_rpt_size_row {
    const struct bx_port_config *port;
    enum bx_size_resource resource;
    const struct bx_size_port_result *r;
};

/** One land port's rollout: the units it needs (sized lanes; -1 not met, 0 not sized) and the
 *  waits of its first weeks as units arrive. */
struct bx_rpt_size_rollout {
    const struct bx_port_config *port;
    long needed;
    const struct bx_size_week *weeks;
};

/** What a sizing found, for size.json (docs/sizing.md). */
struct bx_rpt_size {
    const char *scenario, *scenario_file;
    const struct bx_size_opts *opts;
    const struct bx_rpt_size_row *rows;
    size_t n_rows;
    unsigned weeks; /**< 0: no rollout plan */
    const struct bx_rpt_size_rollout *rollout;
    size_t n_rollout;
    const struct bx_size_phase *phases; /**< bx_size_rollout_phases */
    size_t n_phases;
    bool dated;     /**< the scenario has a start_date: weeks and phases get dates */
    long start_day; /**< its days since 1970-01-01 */
};

/** YYYY-MM-DD of @p days since 1970-01-01 (Hinnant's civil_from_days). */
void bx_rpt_date(long days, char out[16]);

/** What port @p pc itself has of resource @p r at t = 0 (lanes or units, cameras per gate,
 *  officers); -1 for a resource it has no count of. */
long bx_rpt_size_current(const struct bx_port_config *pc, enum bx_size_resource r);
/** size.json's object (new reference, or NULL when out of memory): the one schema `bxsim size`
 *  writes and size.html reads (reports/page_size.c holds both). */
json_t *bx_rpt_size_json(const struct bx_rpt_size *s);

/** DIR/size.html and DIR/size_plots/ (a capacity curve per port and resource) from the object
 *  of size.json (docs/sizing.md). */
enum bx_status bx_rpt_write_size_report(const char *dir, json_t *size,
                                        const struct bx_rpt_report_opts *o,
                                        struct bx_rpt_report_result *res, struct bx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BX_REPORT_H */
