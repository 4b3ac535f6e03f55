/* SPDX-License-Identifier: MIT */
/* test_summary.c - summary.json: schema, intervals, nulls, atomic replacement. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bx/report.h"

static struct bx_net_station st[2];
static struct bx_net_config cfg;
static struct bx_net_station_result sr[3][2];
static struct bx_net_rep_result reps[3];
static char dir[64];

static void setup(void)
{
    memset(st, 0, sizeof st);
    strcpy(st[0].name, "camera");
    st[0].servers = 2;
    strcpy(st[1].name, "officer");
    st[1].servers = 1;
    cfg =
        (struct bx_net_config){.stations = st, .n_stations = 2, .horizon_s = 7200, .warmup_s = 600};
    for (int r = 0; r < 3; ++r) {
        reps[r].stations = sr[r];
        reps[r].events = 1000 + (uint64_t)r;
        reps[r].departed = 10;
        reps[r].system_time_mean_s = 60 + r;
        reps[r].in_system_mean = 2;
        reps[r].arrival_rate_per_s = 0.1;
        for (int s = 0; s < 2; ++s) {
            sr[r][s] = (struct bx_net_station_result){.arrivals = 100,
                                                      .served = 90 + (uint64_t)r,
                                                      .balked = 1,
                                                      .reneged = 2,
                                                      .wait_mean_s = 10.0 + r,
                                                      .wait_p50_s = 5,
                                                      .wait_p95_s = 30.0 + 2 * r,
                                                      .wait_p99_s = 50,
                                                      .wait_max_s = 80,
                                                      .sojourn_mean_s = 40,
                                                      .queue_len_mean = 1.5,
                                                      .in_station_mean = 3,
                                                      .utilization = 0.8,
                                                      .throughput_per_h = 50};
        }
    }
    sr[0][1].wait_p95_s = BX_NAN; /* nobody served in one replication */
    strcpy(dir, "/tmp/bx-rpt-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

TestSuite(reports_summary, .init = setup);

static json_t *write_and_read(double wall_s)
{
    char path[128];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    struct bx_rpt_run_info info = {.scenario = "demo",
                                   .scenario_file = "demo.yaml",
                                   .version = "0.1.0 (git test)",
                                   .seed = 11,
                                   .wall_s = wall_s};
    struct bx_error err = {0};
    cr_assert_eq(bx_rpt_write_summary(path, &info, &cfg, reps, 3, &err), BX_OK, "%s", err.msg);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "invalid JSON: %s line %d", jerr.text, jerr.line);
    return root;
}

Test(reports_summary, holds_every_field_the_issue_names_with_student_intervals)
{
    json_t *root = write_and_read(1.25);
    cr_assert_eq(json_integer_value(json_object_get(root, "seed")), 11);
    cr_assert_eq(json_integer_value(json_object_get(root, "events")), 3003);
    cr_assert_float_eq(json_real_value(json_object_get(root, "wall_s")), 1.25, 1e-12);
    json_t *stations = json_object_get(root, "stations");
    cr_assert_eq(json_array_size(stations), 2);
    json_t *cam = json_array_get(stations, 0);
    cr_assert_str_eq(json_string_value(json_object_get(cam, "name")), "camera");
    cr_assert_eq(json_integer_value(json_object_get(cam, "served")), 273);
    double mean, lo, hi;
    cr_assert_eq(json_unpack(cam, "{s:{s:{s:F,s:[FF]}}}", "wait_s", "mean", "value", &mean, "ci95",
                             &lo, &hi),
                 0);
    /* 10, 11, 12: mean 11, s = 1, t(0.975, 2) = 4.302653 */
    cr_assert_float_eq(mean, 11.0, 1e-9);
    cr_assert_float_eq(hi - mean, 4.302652730 / sqrt(3.0), 1e-6);
    cr_assert_float_eq(mean - lo, 4.302652730 / sqrt(3.0), 1e-6);
    for (const char *const *k = (const char *const[]){"queue_length", "utilization", NULL}; *k;
         ++k) {
        json_t *m = json_object_get(json_object_get(cam, *k), "mean");
        cr_assert(json_is_real(json_object_get(m, "value")), "%s.mean.value", *k);
        cr_assert(json_is_array(json_object_get(m, "ci95")), "%s.mean.ci95", *k);
    }
    json_t *p95 = json_object_get(json_object_get(cam, "wait_s"), "p95");
    cr_assert(json_is_array(json_object_get(p95, "ci95")));
    json_decref(root);
}

Test(reports_summary, figures_that_cannot_be_computed_are_null_not_nan)
{
    json_t *root = write_and_read(BX_NAN);
    cr_assert(json_is_null(json_object_get(root, "wall_s")));
    json_t *off = json_array_get(json_object_get(root, "stations"), 1);
    json_t *p95 = json_object_get(json_object_get(off, "wait_s"), "p95");
    /* Two finite replications remain: the mean is theirs. */
    cr_assert_float_eq(json_real_value(json_object_get(p95, "value")), 33.0, 1e-9);
    json_decref(root);
    reps[1].stations[1].wait_p95_s = BX_NAN;
    root = write_and_read(BX_NAN);
    off = json_array_get(json_object_get(root, "stations"), 1);
    p95 = json_object_get(json_object_get(off, "wait_s"), "p95");
    cr_assert(json_is_null(json_object_get(p95, "ci95")), "one value gives no interval");
    json_decref(root);
}

Test(reports_summary, same_input_gives_byte_identical_output)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    struct bx_rpt_run_info info = {.scenario = "demo", .version = "v", .seed = 1, .wall_s = BX_NAN};
    struct bx_error err = {0};
    cr_assert_eq(bx_rpt_write_summary(a, &info, &cfg, reps, 3, &err), BX_OK);
    cr_assert_eq(bx_rpt_write_summary(b, &info, &cfg, reps, 3, &err), BX_OK);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    cr_assert_eq(system(cmd), 0);
}

Test(reports_summary, unwritable_destination_fails_cleanly)
{
    struct bx_rpt_run_info info = {.scenario = "demo", .version = "v", .seed = 1, .wall_s = BX_NAN};
    struct bx_error err = {0};
    cr_assert_eq(bx_rpt_write_summary("/nonexistent-dir/summary.json", &info, &cfg, reps, 3, &err),
                 BX_EIO);
    cr_assert(strstr(err.msg, "/nonexistent-dir/summary.json") != NULL, "%s", err.msg);
}
