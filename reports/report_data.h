/* SPDX-License-Identifier: MIT */
/* report_data.h - what the report reads back from results.h5 (report.c) and plots (plots.c);
 * shared by reports/'s files, never installed. */
#ifndef BX_REPORT_DATA_H
#define BX_REPORT_DATA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bx/common.h"
#include "bx/sim.h"

struct rpt_port {
    char name[BX_NAME_MAX];
    char type[16];      /* air, sea, private, land */
    char lane_kind[16]; /* camera, vehicle, pedestrian */
    double gallery_size;
    size_t R, H, K;                                         /* replications, hours, CDF levels */
    double *arrivals, *mean_wait, *queue, *busy, *capacity; /* R x H */
    double *cdf, *levels;                                   /* R x K, K */
};

struct rpt_data {
    json_t *summary, *resolved; /* summary.json and the resolved scenario */
    char *scenario, *scenario_file, *scenario_yaml, *profile, *profile_yaml;
    char *version, *git, *libraries;
    long long seed, replications;
    double horizon_s;
    double thresholds[3]; /* 1:n, verify, watch list */
    struct rpt_port *ports;
    size_t n_ports;
    /* /matching: one entry per captured traveller */
    size_t n;
    float *verify, *impostor;
    signed char *mated, *sex, *age_band, *region, *device;
    int *port;
};

/* Read and check a ports run's results.h5 into @p d (its checksum, then every dataset the report
 * uses, no size trusted beyond the file's); bx_rpt__data_free releases it. */
enum bx_status bx_rpt__read_results(const char *file, struct rpt_data *d, struct bx_error *err);
void bx_rpt__data_free(struct rpt_data *d);

/* One plot of the report: plots/<name>.{dat,gp,png,svg}. */
struct rpt_plot {
    char name[64];
    char title[160];
    char caption[400];
};

struct rpt_plots {
    struct rpt_plot *v;
    size_t n, cap;
};

/* Text from a data file, a scenario or a results file never reaches gnuplot as code.
 * bx_rpt__gp_string writes @p text as a gnuplot double-quoted string literal (titles, labels,
 * keys) that gnuplot reads back as exactly @p text, shown literally in enhanced-text mode;
 * bx_rpt__gp_datum writes it as a quoted field of a data file (xtic labels). Both replace bytes
 * that are not UTF-8 and control characters with '?'; the datum also turns '"' into '\''. */
void bx_rpt__gp_string(FILE *f, const char *text);
void bx_rpt__gp_datum(FILE *f, const char *text);

/* Write every plot's data and gnuplot script into @p dir (which exists) and list them in @p out.
 * Images are not made here (see bx_rpt__run_gnuplot). */
enum bx_status bx_rpt__write_plots(const struct rpt_data *d, const char *dir, struct rpt_plots *out,
                                   struct bx_error *err);

/* The plots of a station-network run, from its summary.json. */
enum bx_status bx_rpt__write_network_plots(json_t *summary, const char *dir, struct rpt_plots *out,
                                           struct bx_error *err);

/* The plots of an audit (DET, ROC, rates by group), from audit.json's object. */
enum bx_status bx_rpt__write_audit_plots(json_t *audit, const char *dir, struct rpt_plots *out,
                                         struct bx_error *err);

/* The capacity curves of a sizing (size.json's object). */
enum bx_status bx_rpt__write_size_plots(json_t *size, const char *dir, struct rpt_plots *out,
                                        struct bx_error *err);

/* Run gnuplot on every script in @p dir; false (nothing made) when @p gnuplot cannot be run or
 * fails, and with *cut set when it exited 0 but left an image incomplete (a failed write).
 * gnuplot's messages go to dir/gnuplot.log. */
bool bx_rpt__run_gnuplot(const char *gnuplot, const char *dir, const struct rpt_plots *plots,
                         bool *cut, struct bx_error *err);

#endif /* BX_REPORT_DATA_H */
