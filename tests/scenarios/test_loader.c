/* SPDX-License-Identifier: MIT */
/* test_loader.c - scenario YAML: what loads, and where each mistake is reported. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "bx/scn.h"

#define HEAD "name: t\nhorizon: {hours: 10}\n"

static enum bx_status load(const char *text, struct bx_scn *scn, struct bx_error *err)
{
    return bx_scn_load_string(text, strlen(text), "s.yaml", scn, err);
}

Test(scenarios_loader, the_issue_example_loads_with_its_values)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/mmc-example.yaml", BX_SOURCE_DIR);
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_file(path, &scn, &err), BX_OK, "%s", err.msg);
    cr_assert_str_eq(scn.name, "mmc-example");
    cr_assert_eq(scn.seed, 11);
    cr_assert_eq(scn.replications, 10);
    cr_assert_eq(scn.net.horizon_s, 360000.0);
    cr_assert_eq(scn.net.warmup_s, 36000.0);
    cr_assert_eq(scn.net.n_sources, 1);
    cr_assert_eq(scn.net.n_stations, 1);
    cr_assert_eq(scn.net.sources[0].to, 0);
    cr_assert_eq(scn.net.sources[0].interarrival.kind, BX_DIST_EXPONENTIAL);
    cr_assert_eq(scn.net.sources[0].interarrival.a, 10.0);
    cr_assert_eq(scn.net.stations[0].servers, 3);
    cr_assert_eq(bx_dist_mean(&scn.net.stations[0].service), 25.0);
    cr_assert_eq(scn.net.stations[0].next, -1);
    bx_scn_fini(&scn);
}

Test(scenarios_loader, every_scenario_in_the_library_loads)
{
    /* Every .yaml file in scenarios/, so that a new scenario is always checked. */
    char dirpath[512];
    snprintf(dirpath, sizeof dirpath, "%s/scenarios", BX_SOURCE_DIR);
    DIR *d = opendir(dirpath);
    cr_assert_not_null(d);
    size_t n = 0;
    bool national = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        struct bx_scn scn;
        struct bx_error err = {0};
        cr_assert_eq(bx_scn_load_file(path, &scn, &err), BX_OK, "%s", err.msg);
        national |= strcmp(e->d_name, "national.yaml") == 0;
        bx_scn_fini(&scn);
        ++n;
    }
    closedir(d);
    cr_assert_geq(n, 12, "%zu scenario files", n);
    cr_assert(national);
}

Test(scenarios_loader, full_feature_set_round_trips_into_the_config)
{
    const char *text =
        "name: full\nseed: 5\nreplications: 3\nquantiles: exact\n"
        "horizon: {hours: 48, warmup_hours: 2}\n"
        "network:\n"
        "  sources:\n"
        "    - {name: cars, to: primary, interarrival: {dist: exponential, rate_per_h: 120},\n"
        "       priority: 2, start_hours: 1, stop_hours: 40}\n"
        "  stations:\n"
        "    - name: primary\n"
        "      service: {dist: lognormal, mean_s: 34, sd_s: 20}\n"
        "      next: secondary\n"
        "      queue: priority\n"
        "      balk: {queue_len: 50, prob: 0.5}\n"
        "      patience: {dist: weibull, shape: 2, scale_s: 900}\n"
        "      schedule: {period_hours: 24, steps: [{at_hours: 0, servers: 2},\n"
        "                                           {at_hours: 6.5, servers: 8}]}\n"
        "    - {name: secondary, servers: 2, service: {dist: triangular, min_s: 60, mode_s: 120,"
        " max_s: 600}}\n";
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(load(text, &scn, &err), BX_OK, "%s", err.msg);
    cr_assert(scn.net.exact_quantiles);
    const struct bx_net_source *s = &scn.net.sources[0];
    cr_assert_float_eq(bx_dist_mean(&s->interarrival), 30.0, 1e-12);
    cr_assert_eq(s->priority, 2);
    cr_assert_eq(s->start_s, 3600.0);
    cr_assert_eq(s->stop_s, 40 * 3600.0);
    const struct bx_net_station *p = &scn.net.stations[0];
    cr_assert_eq(p->next, 1);
    cr_assert_eq(p->discipline, BX_QUEUE_PRIORITY);
    cr_assert_eq(p->balk_queue_len, 50);
    cr_assert_eq(p->balk_prob, 0.5);
    cr_assert(p->has_patience);
    cr_assert_eq(p->patience.kind, BX_DIST_WEIBULL);
    cr_assert_eq(p->n_schedule, 2);
    cr_assert_eq(p->schedule[1].t_s, 6.5 * 3600);
    cr_assert_eq(p->schedule[1].servers, 8);
    cr_assert_eq(p->schedule_period_s, 86400.0);
    cr_assert_float_eq(sqrt(bx_dist_var(&p->service)), 20.0, 1e-9);
    cr_assert_eq(scn.net.stations[1].service.c, 600.0);
    bx_scn_fini(&scn);
}

/* Arrays, not pointers: Criterion copies parameters into a freshly started test process. */
struct bad_case {
    char text[640];
    int line, col;
    char says[64];
};

/* Every mistake names its line and column and says what is wrong. */
static struct bad_case bad_cases[] = {
    {"name: t\nhorizon: {hours: 10\n", 3, 1, "flow mapping"},
    {HEAD "netwrok: {}\n", 3, 1, "unknown field 'netwrok'"},
    {HEAD "network:\n  sources: []\n  stations: [{name: a, service: {dist: exponential, "
          "mean_s: 5}}]\n",
     4, 12, "network needs at least one source"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations:\n    - {name: a, service: {dist: exponential, mean_s: 5}, servrs: 2}\n",
     6, 58, "unknown field 'servrs'"},
    {HEAD "seed: -1\nnetwork: {sources: [], stations: []}\n", 3, 7, "seed must lie in"},
    {HEAD "replications: many\n", 3, 15, "must be an integer"},
    {HEAD "replications: \"10\"\n", 3, 15, "quoted string"},
    {"name: t\nhorizon: {hours: 0}\n", 2, 18, "hours must lie in (0"},
    {"name: t\nhorizon: {hours: 5, warmup_hours: 5}\n", 2, 35, "warmup_hours"},
    {"name: t\n", 1, 1, "needs the field 'horizon'"},
    {"", 1, 1, "empty"},
    {"- a\n- b\n", 1, 1, "must be a mapping"},
    {"name: 'bad name!'\nhorizon: {hours: 1}\n", 1, 7, "may use only"},
    {HEAD "network:\n  sources: [{name: s, to: nowhere, interarrival: {dist: exponential, "
          "mean_s: 1}}]\n  stations: [{name: a, service: {dist: exponential, mean_s: 1}}]\n",
     4, 27, "unknown station 'nowhere'"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: pareto, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: exponential, mean_s: 1}}]\n",
     4, 51, "unknown distribution 'pareto'"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: "
          "-4}}]\n  stations: [{name: a, service: {dist: exponential, mean_s: 1}}]\n",
     4, 44, "exponential mean must be > 0"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: gamma, mean_s: 1}}]\n",
     5, 33, "either mean_s and sd_s, or shape and scale_s"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: exponential, mean_s: 1, sd_s: 2}}]\n",
     5, 64, "unknown field 'sd_s'"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: exponential, mean_s: 1}},\n"
          "             {name: a, service: {dist: exponential, mean_s: 1}}]\n",
     6, 21, "second station is named 'a'"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, next: b, service: {dist: exponential, mean_s: 1}},\n"
          "             {name: b, next: a, service: {dist: exponential, mean_s: 1}}]\n",
     4, 3, "routing cycle"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, servers: 0, service: {dist: exponential, mean_s: 1}}]\n",
     5, 33, "servers must lie in [1"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: exponential, mean_s: 1},\n"
          "              schedule: {period_hours: 24, steps: [{at_hours: 25, servers: 1}]}}]\n",
     6, 63, "at_hours must lie in"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, queue: lifo, service: {dist: exponential, mean_s: 1}}]\n",
     5, 31, "queue must be fifo or priority"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: empirical, values_s: "
          "[1, x]}}]\n  stations: [{name: a, service: {dist: exponential, mean_s: 1}}]\n",
     4, 76, "must be a finite number"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: exponential, mean_s: 1}, service: {dist: "
          "exponential, mean_s: 2}}]\n",
     5, 65, "appears twice"},
    {HEAD "kind: rail\n", 3, 7, "unknown scenario kind"},
    {HEAD "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: 1}}]\n"
          "  stations: [{name: a, service: {dist: weibull, mean_s: 1, sd_s: 0.0001}}]\n",
     5, 33, "weibull: no shape"},
    {HEAD
     "network:\n  sources: [{name: s, to: a, interarrival: {dist: exponential, mean_s: nan}}]\n"
     "  stations: [{name: a, service: {dist: exponential, mean_s: 1}}]\n",
     4, 72, "finite number"},
    /* One document per file: a second one is refused, even a broken one. */
    {HEAD "---\nname: u\n", 3, 1, "second YAML document"},
    {HEAD "...\n: : [ broken\n", 4, 1, "expected <document start>"},
    /* Duplicate keys anywhere, also where the schema reads a free mapping. */
    {HEAD "description: a\ndescription: b\n", 4, 1, "'description' appears twice"},
    /* Encoding errors at their real position (libyaml gives only a byte offset). */
    {HEAD "description: ab\xff\n", 3, 16, "invalid leading UTF-8 octet"},
    {HEAD "description: \xc3\xa9\xc3\xa9\xe2\x82\n", 3, 16, "invalid trailing UTF-8 octet"},
};

ParameterizedTestParameters(scenarios_loader, bad_input_is_reported_at_its_line_and_column)
{
    return cr_make_param_array(struct bad_case, bad_cases, sizeof bad_cases / sizeof bad_cases[0]);
}

ParameterizedTest(struct bad_case *c, scenarios_loader,
                  bad_input_is_reported_at_its_line_and_column)
{
    struct bx_scn scn;
    struct bx_error err = {0};
    enum bx_status st = load(c->text, &scn, &err);
    cr_assert(st == BX_EPARSE || st == BX_ESCHEMA, "status %d for:\n%s", st, c->text);
    char where[64];
    snprintf(where, sizeof where, "s.yaml:%d:%d: ", c->line, c->col);
    cr_assert(strncmp(err.msg, where, strlen(where)) == 0, "expected '%s...', got '%s'", where,
              err.msg);
    cr_assert(strstr(err.msg, c->says) != NULL, "expected '%s' in '%s'", c->says, err.msg);
    cr_assert_eq(err.src_line, c->line);
    cr_assert_eq(err.src_col, c->col);
    cr_assert_eq(scn.net.stations, NULL, "nothing is returned on failure");
}

/* The limits are checked before libyaml builds a tree: deep nesting (quadratic in libyaml's
 * composer) and oversized files are refused at once, at their position. */
Test(scenarios_loader, nesting_size_and_alias_limits_are_refused_before_parsing, .timeout = 20)
{
    size_t n = 200000; /* 400 KB of nested flow lists */
    char *t = malloc(2 * n + 16);
    cr_assert_not_null(t);
    strcpy(t, "a: ");
    memset(t + 3, '[', n);
    memset(t + 3 + n, ']', n);
    strcpy(t + 3 + 2 * n, "\n");
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_string(t, strlen(t), "d.yaml", &scn, &err), BX_EPARSE);
    cr_assert(strstr(err.msg, "d.yaml:1:67: nested more than 64 levels") != NULL, "%s", err.msg);
    /* The same in block style. */
    size_t len = 0;
    for (int i = 0; i < 100; ++i)
        len += (size_t)sprintf(t + len, "%*sk%d:\n", 2 * i, "", i);
    memset(&err, 0, sizeof err);
    cr_assert_eq(bx_scn_load_string(t, len, "b.yaml", &scn, &err), BX_EPARSE);
    cr_assert(strstr(err.msg, "b.yaml:65:") != NULL, "%s", err.msg);
    free(t);
    /* More than the file size limit: refused before parsing. */
    size_t big = ((size_t)4 << 20) + 1;
    t = malloc(big);
    memset(t, '#', big);
    memset(&err, 0, sizeof err);
    cr_assert_eq(bx_scn_load_string(t, big, "big.yaml", &scn, &err), BX_EPARSE);
    cr_assert(strstr(err.msg, "big.yaml: 4194305 bytes, more than the 4 MiB") != NULL, "%s",
              err.msg);
    free(t);
    /* Aliases: at most 1000 (each would make the schema read its anchor's tree again). */
    t = malloc(16 * 2100);
    len = (size_t)sprintf(t, "x: &a [1, 2]\ny: [");
    for (int i = 0; i < 1001; ++i)
        len += (size_t)sprintf(t + len, "*a, ");
    len += (size_t)sprintf(t + len, "*a]\n");
    memset(&err, 0, sizeof err);
    cr_assert_eq(bx_scn_load_string(t, len, "al.yaml", &scn, &err), BX_EPARSE);
    cr_assert(strstr(err.msg, "al.yaml:2:") && strstr(err.msg, "more than 1000 aliases"), "%s",
              err.msg);
    free(t);
}

Test(scenarios_loader, missing_file_is_an_io_error_naming_it)
{
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_file("/nonexistent/x.yaml", &scn, &err), BX_EIO);
    cr_assert(strstr(err.msg, "/nonexistent/x.yaml: cannot open") != NULL, "%s", err.msg);
}

/* ---------------------------------------------------------------- algorithm profiles */

Test(scenarios_profile, the_library_profiles_load_with_targets_and_sources)
{
    const char *names[] = {"visa-best", "visa-median"};
    for (int i = 0; i < 2; ++i) {
        char path[512];
        snprintf(path, sizeof path, "%s/models/profiles/%s.yaml", BX_SOURCE_DIR, names[i]);
        struct bx_profile p;
        struct bx_error err = {0};
        cr_assert_eq(bx_scn_load_profile(path, &p, &err), BX_OK, "%s", err.msg);
        cr_assert_str_eq(p.name, names[i]);
        cr_assert_eq(p.params.dim, 512);
        cr_assert_geq(p.n_targets, 4);
        cr_assert_eq(p.targets[0].metric, BX_TARGET_FNMR_AT_FMR);
        cr_assert_eq(p.targets[0].fmr, 1e-6);
        cr_assert_eq(p.targets[1].probe_device, BX_DEVICE_GATE_CAMERA);
        cr_assert(strstr(p.targets[0].source, "NIST") != NULL);
        cr_assert_eq(p.targets[3].metric, BX_TARGET_FMR_RATIO);
        cr_assert_eq(p.targets[3].group.sex, BX_SEX_FEMALE);
        cr_assert_eq(p.targets[3].reference.region, BX_REGION_E_EUROPE);
        cr_assert_geq(p.n_fit, 3);
        cr_assert_not_null(bx_scn_profile_param(&p.params, p.fit[0]));
        bx_scn_profile_fini(&p);
    }
}

Test(scenarios_profile, parameters_are_addressable_by_name)
{
    struct bx_tplgen_params p = bx_tplgen_params_default(128);
    *bx_scn_profile_param(&p, "noise.kiosk") = 2.5;
    *bx_scn_profile_param(&p, "shared.region.w_africa") = 0.07;
    *bx_scn_profile_param(&p, "ageing.age_multiplier.0-13") = 4;
    cr_assert_eq(p.noise[BX_DEVICE_KIOSK], 2.5);
    cr_assert_eq(p.shared_region[BX_REGION_W_AFRICA], 0.07);
    cr_assert_eq(p.age_drift[BX_AGE_0_13], 4);
    cr_assert_eq(bx_scn_profile_param(&p, "hard.fraction"), &p.hard_fraction);
    cr_assert_null(bx_scn_profile_param(&p, "noise.drone"));
    cr_assert_null(bx_scn_profile_param(&p, "nonsense"));
}

Test(scenarios_profile, names_resolve_to_files_in_the_profile_folder)
{
    char out[512];
    setenv("BX_PROFILE_PATH", "/opt/p", 1);
    bx_scn_profile_path("visa-best", out, sizeof out);
    cr_assert_str_eq(out, "/opt/p/visa-best.yaml");
    bx_scn_profile_path("mine.yaml", out, sizeof out); /* a file, as given */
    cr_assert_str_eq(out, "mine.yaml");
    bx_scn_profile_path("dir/x", out, sizeof out);
    cr_assert_str_eq(out, "dir/x");
    cr_assert_str_eq(bx_scn_profile_dir(), "/opt/p");
    unsetenv("BX_PROFILE_PATH");
    cr_assert(strstr(bx_scn_profile_dir(), "models/profiles") != NULL);
}

Test(scenarios_profile, the_folder_lists_its_yaml_files_sorted)
{
    char dir[] = "/tmp/bx-profiles-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *files[] = {"b.yaml", "a.yaml", ".hidden.yaml", "notes.txt", "c.yml", "$(x).yaml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; ++i) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fclose(f);
    }
    char **names = NULL;
    size_t n = 0;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_profile_names(dir, &names, &n, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(names[0], "$(x).yaml");
    cr_assert_str_eq(names[1], "a.yaml");
    cr_assert_str_eq(names[2], "b.yaml");
    bx_scn_profile_names_free(names, n);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; ++i) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    cr_assert_eq(bx_scn_profile_names(dir, &names, &n, &err), BX_OK);
    cr_assert_eq(n, 0);
    rmdir(dir);
    cr_assert_eq(bx_scn_profile_names(dir, &names, &n, &err), BX_EIO);
    cr_assert(strstr(err.msg, dir) != NULL, "%s", err.msg);
}

Test(scenarios_profile, a_ports_scenario_gets_its_profile_or_a_located_error)
{
    struct bx_scn scn;
    struct bx_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/default.yaml", BX_SOURCE_DIR);
    cr_assert_eq(bx_scn_load_file(path, &scn, &err), BX_OK, "%s", err.msg);
    setenv("BX_PROFILE_PATH", BX_SOURCE_DIR "/models/profiles", 1);
    char ppath[512];
    cr_assert_eq(bx_scn_ports_profile(&scn, ppath, sizeof ppath, &err), BX_OK, "%s", err.msg);
    cr_assert_str_eq(scn.ports.profile_name, scn.profile_name);
    cr_assert(strstr(ppath, scn.profile_name) != NULL);
    cr_assert_eq(scn.ports.profile.dim, 512);
    snprintf(scn.profile_name, sizeof scn.profile_name, "no-such-profile");
    cr_assert_neq(bx_scn_ports_profile(&scn, NULL, 0, &err), BX_OK);
    cr_assert(strstr(err.msg, "profile 'no-such-profile': ") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "no-such-profile.yaml") != NULL, "%s", err.msg);
    unsetenv("BX_PROFILE_PATH");
    bx_scn_fini(&scn);
}

static struct bad_case bad_profiles[] = {
    {"name: p\ngenerator: {noise: {drone: 1}}\n", 2, 21, "unknown key 'drone'"},
    {"name: p\ngenerator: {hard: {fraction: 2}}\n", 2, 12, "hard.fraction must lie in"},
    {"name: p\nfit: [noise.kiosk, hard.size]\n", 2, 20, "unknown generator parameter"},
    {"name: p\ntargets:\n  - {name: T1, metric: fnmr_at_fmr, fmr: 1e-6, value: 0.1, probe: "
     "drone}\n",
     3, 67, "unknown device 'drone'"},
    {"name: p\ntargets:\n  - {name: T1, metric: eer, fmr: 1e-6, value: 0.1}\n", 3, 24,
     "metric must be"},
    {"name: p\ntargets:\n  - {name: T1, metric: fmr_ratio, fmr: 1e-3, value: 2}\n", 3, 5,
     "needs a group"},
    {"name: p\npopulation: {female: 0.5, region: {e_asia: 0.5}}\n", 2, 13, "region shares sum"},
    {"name: p\ngenerator: {shared: {region: {e_asia: 0.8}, sex: {female: 0.3}}}\n", 2, 12,
     "shared components"},
    {"name: p\ndim: 3\n", 2, 6, "dim must lie in"},
    {"name: p\nseeds: 3\n", 2, 1, "unknown field 'seeds'"},
    {"name: p\npopulation: {female: 0.5, female: 0.4}\n", 2, 27, "'female' appears twice"},
    {"name: p\n---\nname: q\n", 2, 1, "second YAML document"},
};

ParameterizedTestParameters(scenarios_profile, bad_profiles_are_reported_at_line_and_column)
{
    return cr_make_param_array(struct bad_case, bad_profiles,
                               sizeof bad_profiles / sizeof bad_profiles[0]);
}

ParameterizedTest(struct bad_case *c, scenarios_profile,
                  bad_profiles_are_reported_at_line_and_column)
{
    struct bx_profile p;
    struct bx_error err = {0};
    enum bx_status st = bx_scn_load_profile_string(c->text, strlen(c->text), "p.yaml", &p, &err);
    cr_assert(st == BX_EPARSE || st == BX_ESCHEMA, "status %d for:\n%s", st, c->text);
    char where[64];
    snprintf(where, sizeof where, "p.yaml:%d:%d: ", c->line, c->col);
    cr_assert(strncmp(err.msg, where, strlen(where)) == 0, "expected '%s...', got '%s'", where,
              err.msg);
    cr_assert(strstr(err.msg, c->says) != NULL, "expected '%s' in '%s'", c->says, err.msg);
}

/* ---------------------------------------------------------------- kind: ports */

Test(scenarios_ports, the_airport_day_loads_with_its_values)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/airport-day.yaml", BX_SOURCE_DIR);
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_file(path, &scn, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(scn.kind, BX_SCN_PORTS);
    cr_assert_str_eq(scn.profile_name, "visa-best");
    cr_assert_eq(scn.ports.n_ports, 1);
    const struct bx_port_config *p = &scn.ports.ports[0];
    cr_assert_eq(p->type, BX_PORT_AIR);
    cr_assert_eq(p->departures_per_day, 120);
    cr_assert_eq(p->first_s, 6 * 3600.0);
    cr_assert_eq(p->open_s, 45 * 60.0);
    cr_assert_eq(p->gates, 40);
    cr_assert_eq(p->device, BX_DEVICE_GATE_CAMERA);
    cr_assert_eq(bx_dist_mean(&p->secondary_service), 600);
    cr_assert_eq(scn.ports.verify_fmr, 1e-5);
    cr_assert_eq(scn.ports.watchlist_size, 2000);
    bx_scn_fini(&scn);
}

#define PORTS_HEAD "name: t\nkind: ports\nhorizon: {hours: 24}\n"

Test(scenarios_ports, retention_sets_when_citizen_photos_are_deleted)
{
    struct bx_scn scn;
    struct bx_error err = {0};
    const char *y = PORTS_HEAD "retention: {purge_after_hours: 11, purge_every_minutes: 15}\n"
                               "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n";
    cr_assert_eq(load(y, &scn, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(scn.ports.purge_after_s, 11 * 3600.0);
    cr_assert_eq(scn.ports.purge_every_s, 15 * 60.0);
    bx_scn_fini(&scn);
    y = PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n";
    cr_assert_eq(load(y, &scn, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(scn.ports.purge_after_s, 12 * 3600.0, "the rule's 12 h by default");
    cr_assert_eq(scn.ports.purge_every_s, 0);
    bx_scn_fini(&scn);
}

static struct bad_case bad_ports[] = {
    {PORTS_HEAD "retention: {purge_every_minutes: -5}\nports:\n  - {name: a, type: air, "
                "departures: {per_day: 4}}\n",
     4, 34, "purge_every_minutes must lie in"},
    {PORTS_HEAD "retention: {purge_after: 12}\nports:\n  - {name: a, type: air, "
                "departures: {per_day: 4}}\n",
     4, 13, "unknown field 'purge_after'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     population: {citizenship: {visa: 0.5, lpr: 0.2, visa: 0.3}}}\n",
     6, 54, "'visa' appears twice"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     officer_shifts: [{at_hours: 6, count: 2}, {at_hours: 5, count: 1}]}\n",
     6, 59, "shifts must be in time order"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     officer_shifts: [{at_hours: 0, count: 0}]}\n",
     6, 22, "no officer on duty"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4}, gates: -1}\n", 5, 59,
     "gates must lie in [1"},
    {PORTS_HEAD "ports:\n  - {name: a, type: rail, departures: {per_day: 4}}\n", 5, 21,
     "type must be air, sea, private or land"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4}, device: drone}\n", 5,
     60, "device must be"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_dy: 4}}\n", 5, 39,
     "unknown field 'per_dy'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: -4}}\n", 5, 48,
     "per_day must lie in"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     boarding: {open_min: 10, close_min: 20}}\n",
     6, 16, "boarding needs"},
    {PORTS_HEAD "ports: []\n", 4, 8, "at least one port"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     population: {citizenship: {martian: 1}}}\n",
     6, 33, "unknown citizenship class 'martian'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     capture: {exempt: [under_14, martians]}}\n",
     6, 35, "unknown exemption 'martians'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     capture: {exempt: canadian}}\n",
     6, 24, "exempt"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air}\n", 5, 5, "needs the field 'departures'"},
    {"name: t\nkind: ports\nhorizon: {hours: 24, warmup_hours: 2}\nports: []\n", 3, 36,
     "no warm-up"},
    {PORTS_HEAD "network: {}\nports: []\n", 4, 1, "unknown field 'network'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     camera_rollout: [{at_hours: 6, count: 0}]}\n",
     6, 44, "count must lie in [1"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     camera_rollout: [{at_hours: 6, count: 2}, {at_hours: 5, count: 3}]}\n",
     6, 59, "rollout steps must be in time order"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     secondary: {shifts: [{at_hours: 0, count: 0}]}}\n",
     6, 26, "no secondary booth on duty"},
    /* The shared matching service (issue 17). */
    {PORTS_HEAD "tvs: {workers: 0}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 16, "workers must lie in [1"},
    {PORTS_HEAD "tvs: {fallback: retry}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 17, "tvs.fallback must be manual or hold, got 'retry'"},
    {PORTS_HEAD "tvs: {outages: [{from_hours: 5, to_hours: 4}]}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 43, "must end after it starts"},
    {PORTS_HEAD "tvs: {outages: [{from_hours: 5, to_hours: 8}, {from_hours: 7, to_hours: 9}]}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 60, "time order and disjoint"},
    {PORTS_HEAD "tvs: {outages: [{from_hours: 30, to_hours: 31}]}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 30, "past the horizon"},
    {PORTS_HEAD "tvs: {random_outages: {mtbf_hours: 0, mttr_hours: 1}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 36, "mtbf_hours must lie in"},
    {PORTS_HEAD "tvs: {random_outages: {mtbf_hours: 10}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 23, "needs the field 'mttr_hours'"},
    {PORTS_HEAD "tvs: {outages: [{from_date: 2026-01-03, to_hours: 60}]}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 29, "from_date needs the scenario's start_date"},
    {PORTS_HEAD "tvs: {outages: [{from_hours: 2, from_date: 2026-01-03, to_hours: 60}]}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 17, "exactly one of from_hours, from_date"},
    /* Equipment that fails (issue 17). */
    {PORTS_HEAD "equipment: {gate_camera: {mtbf_hours: 0}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 39, "mtbf_hours must lie in"},
    {PORTS_HEAD "equipment: {gate_camera: {mtbf_hours: 10, mttr_hours: -1}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 55, "mttr_hours must lie in"},
    {PORTS_HEAD "equipment: {scanner: {}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 13, "unknown equipment 'scanner'"},
    {PORTS_HEAD "equipment: {mobile: {mttr_hours: 1, repair: {dist: exponential, mean_s: 60}}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 45, "either mttr_hours or repair"},
    {PORTS_HEAD "equipment: {egate: {mtbf_hours: 9, failure: {dist: exponential, mean_s: 60}}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 45, "either mtbf_hours or failure"},
    {PORTS_HEAD "equipment: [gate_camera]\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 12, "equipment must be a mapping"},
    {PORTS_HEAD "equipment: {mobile: {mtbf_hours: 9, lifetime: 3}}\n"
                "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n",
     4, 37, "unknown field 'lifetime'"},
    /* Who is not photographed (issue 17). */
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     unphotographed: maybe}\n",
     6, 22, "unphotographed must be manual or board, got 'maybe'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     capture: {exclusions: {wheelchair: 2}}}\n",
     6, 41, "wheelchair must lie in [0"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     capture: {exclusions: {strollers: 0.5}}}\n",
     6, 29, "unknown field 'strollers'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     capture: {difficulty_sd: -1}}\n",
     6, 31, "difficulty_sd must lie in [0"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4},\n"
                "     population: {wheelchair_rate: 1.5}}\n",
     6, 36, "wheelchair_rate must lie in [0"},
    /* Wrong types. */
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4}, gates: many}\n", 5, 59,
     "gates must be an integer, got 'many'"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: 4}\n", 5, 38,
     "departures must be a mapping, got a scalar"},
    {PORTS_HEAD "ports:\n  - {name: a, type: air, departures: {per_day: 4}, passengers: [1]}\n", 5,
     64, "passengers must be a number, got a list"},
    {PORTS_HEAD "ports: {name: a}\n", 4, 8, "ports must be a list, got a mapping"},
    {PORTS_HEAD "ports:\n  - {name: a, type: land, lanes: {count: 2}, arrivals_per_hour: [1, 2]}\n",
     5, 65, "needs 24 rates"},
    /* Negative rates. */
    {PORTS_HEAD
     "ports:\n  - {name: a, type: land, lanes: {count: 2},\n"
     "     arrivals_per_hour: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
     "1, 1, 1, -1]}\n",
     6, 95, "an hourly rate must lie in [0"},
};

ParameterizedTestParameters(scenarios_ports, bad_port_scenarios_are_reported_at_line_and_column)
{
    return cr_make_param_array(struct bad_case, bad_ports, sizeof bad_ports / sizeof bad_ports[0]);
}

ParameterizedTest(struct bad_case *c, scenarios_ports,
                  bad_port_scenarios_are_reported_at_line_and_column)
{
    struct bx_scn scn;
    struct bx_error err = {0};
    enum bx_status st = load(c->text, &scn, &err);
    cr_assert(st == BX_EPARSE || st == BX_ESCHEMA, "status %d for:\n%s", st, c->text);
    char where[64];
    snprintf(where, sizeof where, "s.yaml:%d:%d: ", c->line, c->col);
    cr_assert(strncmp(err.msg, where, strlen(where)) == 0, "expected '%s...', got '%s'", where,
              err.msg);
    cr_assert(strstr(err.msg, c->says) != NULL, "expected '%s' in '%s'", c->says, err.msg);
}

/* `equipment`: a device listed with nothing takes the documented defaults, figures replace
 * them, a repair distribution replaces the exponential; devices not listed do not fail. */
Test(scenarios_ports, equipment_failures_load_with_their_defaults)
{
    const char *text =
        PORTS_HEAD "equipment:\n  gate_camera:\n  mobile: {mtbf_hours: 50}\n"
                   "  vehicle: {mtbf_hours: 100, repair: {dist: deterministic, value_s: 1800}}\n"
                   "  egate: {failure: {dist: weibull, shape: 2, scale_s: 360000}, mttr_hours: 2}\n"
                   "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n";
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(load(text, &scn, &err), BX_OK, "%s", err.msg);
    const struct bx_failure_config *f = scn.ports.failures;
    double mtbf, mttr;
    bx_failure_defaults(BX_DEVICE_GATE_CAMERA, &mtbf, &mttr);
    cr_assert(f[BX_DEVICE_GATE_CAMERA].on);
    cr_assert_float_eq(f[BX_DEVICE_GATE_CAMERA].mtbf_s, mtbf * 3600, 1e-9);
    cr_assert_float_eq(bx_dist_mean(&f[BX_DEVICE_GATE_CAMERA].repair), mttr * 3600, 1e-6);
    bx_failure_defaults(BX_DEVICE_MOBILE, &mtbf, &mttr);
    cr_assert_float_eq(f[BX_DEVICE_MOBILE].mtbf_s, 50 * 3600.0, 1e-9);
    cr_assert_float_eq(bx_dist_mean(&f[BX_DEVICE_MOBILE].repair), mttr * 3600, 1e-6);
    cr_assert_float_eq(bx_dist_mean(&f[BX_DEVICE_VEHICLE].repair), 1800, 1e-9);
    cr_assert(f[BX_DEVICE_EGATE].on);
    cr_assert_float_eq(f[BX_DEVICE_EGATE].mtbf_s, bx_dist_mean(&f[BX_DEVICE_EGATE].up), 1e-9);
    cr_assert_float_eq(f[BX_DEVICE_EGATE].mtbf_s, 360000 * 0.886226925, 1.0); /* scale G(1.5) */
    cr_assert_not(f[BX_DEVICE_KIOSK].on);
    bx_scn_fini(&scn);
}

/* `tvs` loads with its defaults, dates and hours: an outage from a date is hours from the
 * scenario's start_date. */
Test(scenarios_ports, tvs_loads_with_outage_dates_and_hours)
{
    const char *text = "name: t\nkind: ports\nhorizon: {hours: 96}\nstart_date: 2026-01-01\n"
                       "tvs: {workers: 12, fallback: hold, hold_timeout_s: 30,\n"
                       "      outages: [{from_hours: 5, to_hours: 6},\n"
                       "                {from_date: 2026-01-03, to_hours: 49.5}],\n"
                       "      random_outages: {mtbf_hours: 100, mttr_hours: 0.5}}\n"
                       "ports:\n  - {name: a, type: air, departures: {per_day: 4}}\n";
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(load(text, &scn, &err), BX_OK, "%s", err.msg);
    const struct bx_tvs_config *v = &scn.ports.tvs;
    cr_assert(v->on && v->fallback_hold);
    cr_assert_eq(v->workers, 12);
    cr_assert_float_eq(v->hold_timeout_s, 30, 1e-12);
    cr_assert_eq(v->n_outages, 2);
    cr_assert_float_eq(v->outages[1].from_s, 48 * 3600.0, 1e-9);
    cr_assert_float_eq(v->outages[1].to_s, 49.5 * 3600, 1e-9);
    cr_assert_float_eq(v->outage_mtbf_s, 100 * 3600.0, 1e-9);
    cr_assert_float_eq(bx_dist_mean(&v->service), 0.25, 1e-12);
    cr_assert_float_eq(bx_dist_mean(&v->latency[BX_PORT_LAND]), 0.6, 1e-12);
    bx_scn_fini(&scn);
}

Test(scenarios_ports, camera_rollout_and_secondary_shifts_load)
{
    const char *text =
        PORTS_HEAD "start_date: 2026-01-01\n"
                   "ports:\n  - {name: a, type: sea, departures: {per_day: 1},\n"
                   "     cameras_per_gate: 2, camera_rollout: [{at_date: 2026-01-03, "
                   "count: 6}],\n"
                   "     secondary: {booths: 1, shifts: [{at_hours: 8, count: 2}, "
                   "{at_hours: 20, count: 0}]}}\n";
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(load(text, &scn, &err), BX_OK, "%s", err.msg);
    const struct bx_port_config *p = &scn.ports.ports[0];
    cr_assert_eq(p->n_camera_schedule, 2);
    cr_assert_eq(p->camera_schedule[0].t_s, 0);
    cr_assert_eq(p->camera_schedule[0].servers, 2);
    cr_assert_eq(p->camera_schedule[1].t_s, 2 * 86400.0);
    cr_assert_eq(p->camera_schedule[1].servers, 6);
    cr_assert_eq(p->n_secondary_shifts, 2);
    cr_assert_eq(p->secondary_shifts[0].t_s, 8 * 3600.0);
    cr_assert_eq(p->secondary_shifts[1].servers, 0);
    bx_scn_fini(&scn);
}

Test(scenarios_ports, rollout_dates_become_hours_after_the_start_date)
{
    const char *text = PORTS_HEAD "start_date: 2026-01-01\n"
                                  "ports:\n  - {name: a, type: land, lanes: {count: 2, rollout: "
                                  "[{at_date: 2026-03-01, count: 4}]},\n"
                                  "     arrivals_per_hour: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
                                  "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n";
    struct bx_scn scn;
    struct bx_error err = {0};
    cr_assert_eq(load(text, &scn, &err), BX_OK, "%s", err.msg);
    const struct bx_land_config *l = &scn.ports.ports[0].land;
    cr_assert_eq(l->n_schedule, 2);
    cr_assert_eq(l->schedule[0].servers, 2);
    cr_assert_eq(l->schedule[1].t_s, (31 + 28) * 86400.0, "January and February 2026");
    cr_assert_eq(l->schedule[1].servers, 4);
    bx_scn_fini(&scn);
}

#define LAND_PORT(rollout)                                                                         \
    "ports:\n  - {name: a, type: land, lanes: {count: 2, rollout: [" rollout "]},\n"               \
    "     arrivals_per_hour: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "  \
    "1, 1]}\n"

static struct bad_case bad_dates[] = {
    {PORTS_HEAD "start_date: 2026-02-30\n" LAND_PORT("{at_hours: 5, count: 4}"), 4, 13,
     "must be a date YYYY-MM-DD"},
    {PORTS_HEAD "start_date: 26-01-01\n" LAND_PORT("{at_hours: 5, count: 4}"), 4, 13,
     "must be a date"},
    {PORTS_HEAD LAND_PORT("{at_date: 2026-01-05, count: 4}"), 5, 65, "needs the scenario's"},
    {PORTS_HEAD "start_date: 2026-01-10\n" LAND_PORT("{at_date: 2026-01-05, count: 4}"), 6, 65,
     "must be after start_date"},
    {PORTS_HEAD "start_date: 2026-01-01\n" LAND_PORT("{at_date: 2026-13-01, count: 4}"), 6, 65,
     "must be a date"},
    {PORTS_HEAD "start_date: 2026-01-01\n" LAND_PORT("{count: 4}"), 6, 55,
     "exactly one of at_hours, at_date"},
};

ParameterizedTestParameters(scenarios_ports, bad_dates_are_reported_at_line_and_column)
{
    return cr_make_param_array(struct bad_case, bad_dates, sizeof bad_dates / sizeof bad_dates[0]);
}

ParameterizedTest(struct bad_case *c, scenarios_ports, bad_dates_are_reported_at_line_and_column)
{
    struct bx_scn scn;
    struct bx_error err = {0};
    enum bx_status st = load(c->text, &scn, &err);
    cr_assert(st == BX_EPARSE || st == BX_ESCHEMA, "status %d for:\n%s", st, c->text);
    char where[64];
    snprintf(where, sizeof where, "s.yaml:%d:%d: ", c->line, c->col);
    cr_assert(strncmp(err.msg, where, strlen(where)) == 0, "expected '%s...', got '%s'", where,
              err.msg);
    cr_assert(strstr(err.msg, c->says) != NULL, "expected '%s' in '%s'", c->says, err.msg);
}

/* The loader's defaults are bx_port_config_default's, field by field (one source: the tests'
 * fixtures start from it too). */
Test(scenarios_ports, a_minimal_port_gets_exactly_the_type_defaults)
{
    static const char *const types[] = {"air", "sea", "private"};
    static const enum bx_port_type codes[] = {BX_PORT_AIR, BX_PORT_SEA, BX_PORT_PRIVATE};
    for (int k = 0; k < 4; ++k) {
        char text[512];
        if (k < 3)
            snprintf(text, sizeof text,
                     PORTS_HEAD "ports:\n  - {name: a, type: %s, departures: {per_day: 1}}\n",
                     types[k]);
        else
            snprintf(text, sizeof text,
                     PORTS_HEAD "ports:\n  - {name: a, type: land, lanes: {count: 2},\n"
                                "     arrivals_per_hour: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
                                "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n");
        struct bx_scn scn;
        struct bx_error err = {0};
        cr_assert_eq(load(text, &scn, &err), BX_OK, "%s", err.msg);
        struct bx_port_config d = bx_port_config_default(k < 3 ? codes[k] : BX_PORT_LAND);
        const struct bx_port_config *p = &scn.ports.ports[0];
        cr_assert_eq(p->type, d.type);
        cr_assert_eq(p->device, d.device, "%s", k < 3 ? types[k] : "land");
        cr_assert_eq(p->passengers_mean, d.passengers_mean);
        cr_assert_eq(p->open_s, d.open_s);
        cr_assert_eq(p->gates, d.gates);
        cr_assert_eq(p->cameras_per_gate, d.cameras_per_gate);
        cr_assert_eq(p->officers, d.officers);
        cr_assert_eq(p->secondary_booths, d.secondary_booths);
        cr_assert_eq(p->match_time_s, d.match_time_s);
        cr_assert_eq(p->officer_catch, d.officer_catch);
        cr_assert_eq(bx_dist_mean(&p->manual_service), bx_dist_mean(&d.manual_service));
        cr_assert_eq(bx_dist_mean(&p->secondary_service), 600);
        cr_assert_eq(bx_dist_mean(&d.secondary_service), 600);
        cr_assert_eq(memcmp(&p->pop, &d.pop, sizeof d.pop), 0, "population defaults");
        cr_assert_eq(memcmp(&p->capture, &d.capture, sizeof d.capture), 0, "capture defaults");
        bx_dist_fini(&d.manual_service);
        bx_dist_fini(&d.secondary_service);
        bx_scn_fini(&scn);
    }
}

/* ---------------------------------------------------------------- variants (base:) */

static void put(const char *dir, const char *name, const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static const char base_yaml[] =
    "name: plan-a\nkind: ports\nseed: 7\nreplications: 3\nhorizon: {hours: 6}\n"
    "thresholds: {verify_fmr: 1.0e-5}\n"
    "ports:\n"
    "  - name: walk\n    type: land\n    lanes: {kind: pedestrian, count: 2}\n"
    "    arrivals_per_hour: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,\n"
    "                        100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]\n"
    "    officers: 2\n"
    "  - name: gate\n    type: land\n    lanes: {kind: vehicle, count: 2}\n"
    "    arrivals_per_hour: [50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50,\n"
    "                        50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50]\n";

Test(scenarios_loader, a_variant_is_its_base_with_its_own_fields_laid_over)
{
    char dir[] = "/tmp/bx_variant_XXXXXX", bpath[256], vpath[256];
    cr_assert_not_null(mkdtemp(dir));
    put(dir, "a.yaml", base_yaml, bpath, sizeof bpath);
    put(dir, "b.yaml",
        "base: a.yaml\nname: plan-b\nthresholds: {watchlist_fpir: 0.01}\n"
        "ports:\n  - name: walk\n    lanes: {kind: pedestrian, count: 3}\n"
        "  - name: stroll\n    type: land\n    lanes: {kind: pedestrian, count: 1}\n"
        "    arrivals_per_hour: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,\n"
        "                        10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]\n",
        vpath, sizeof vpath);
    struct bx_scn a, b;
    struct bx_error err = {0};
    cr_assert_eq(bx_scn_load_file(bpath, &a, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(bx_scn_load_file(vpath, &b, &err), BX_OK, "%s", err.msg);
    cr_expect_str_eq(b.name, "plan-b");
    cr_expect_eq(b.seed, 7);
    cr_expect_eq(b.replications, 3);
    cr_expect_eq(b.ports.verify_fmr, a.ports.verify_fmr, "kept from the base");
    cr_expect_eq(b.ports.watchlist_fpir, 0.01);
    cr_assert_eq(b.ports.n_ports, 3, "walk and gate from the base, stroll added");
    cr_expect_str_eq(b.ports.ports[0].name, "walk");
    cr_expect_eq(b.ports.ports[0].land.lanes, 3);
    cr_expect_eq(b.ports.ports[0].officers, a.ports.ports[0].officers);
    cr_expect_eq(b.ports.ports[0].land.arrivals.rate_per_h[5],
                 a.ports.ports[0].land.arrivals.rate_per_h[5]);
    cr_expect_str_eq(b.ports.ports[1].name, "gate");
    cr_expect_str_eq(b.ports.ports[2].name, "stroll");
    bx_scn_fini(&a);
    bx_scn_fini(&b);
    /* a fault is reported in the file that holds it */
    put(dir, "c.yaml",
        "base: a.yaml\nname: plan-c\nports:\n  - name: walk\n    lanes: {kind: pedestrian, "
        "count: -1}\n",
        vpath, sizeof vpath);
    cr_assert_neq(bx_scn_load_file(vpath, &b, &err), BX_OK);
    cr_expect(strstr(err.msg, "c.yaml:5:") != NULL, "%s", err.msg);
    char bad_base[1024];
    snprintf(bad_base, sizeof bad_base, "%s", base_yaml);
    char *at = strstr(bad_base, "officers: 2");
    cr_assert_not_null(at);
    memcpy(at, "officers: x", 11);
    put(dir, "a2.yaml", bad_base, bpath, sizeof bpath);
    put(dir, "d.yaml", "base: a2.yaml\nname: plan-d\n", vpath, sizeof vpath);
    memset(&err, 0, sizeof err);
    cr_assert_neq(bx_scn_load_file(vpath, &b, &err), BX_OK);
    cr_expect(strstr(err.msg, "a2.yaml:13:15") != NULL, "%s", err.msg);
    /* no base of a base, no missing file, not itself */
    put(dir, "e.yaml", "base: b.yaml\nname: plan-e\n", vpath, sizeof vpath);
    memset(&err, 0, sizeof err);
    cr_assert_neq(bx_scn_load_file(vpath, &b, &err), BX_OK);
    cr_expect(strstr(err.msg, "base of its own") != NULL, "%s", err.msg);
    put(dir, "f.yaml", "base: nowhere.yaml\nname: plan-f\n", vpath, sizeof vpath);
    memset(&err, 0, sizeof err);
    cr_assert_neq(bx_scn_load_file(vpath, &b, &err), BX_OK);
    cr_expect(strstr(err.msg, "f.yaml:1:7: base:") != NULL, "%s", err.msg);
    put(dir, "g.yaml", "base: g.yaml\nname: plan-g\n", vpath, sizeof vpath);
    memset(&err, 0, sizeof err);
    cr_assert_neq(bx_scn_load_file(vpath, &b, &err), BX_OK);
    cr_expect(strstr(err.msg, "is this file") != NULL, "%s", err.msg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
