/* SPDX-License-Identifier: MIT */
/* cmd_run.c - `bxsim run` and `bxsim validate`. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bx/common.h"
#include "bx/par.h"
#include "bx/report.h"
#include "bx/scn.h"
#include "bx/sim.h"

#include "app.h"

static const char run_usage[] =
    "usage: bxsim run FILE.yaml --out DIR [options]\n"
    "\n"
    "Run every replication of a scenario and write DIR/summary.json (atomically).\n"
    "\n"
    "options:\n"
    "  --out DIR            output directory (created if missing)\n"
    "  --seed N             master seed (default: the scenario's `seed`)\n"
    "  --replications R     number of replications (default: the scenario's)\n"
    "  --threads T          worker threads, 0 = one per core (default 0); results do not\n"
    "                       depend on it\n"
    "  --reproducible       write wall_s as null so that the file is byte-identical across runs\n"
    "  --records            lifecycle scenarios: also write DIR/records.sqlite (every entry,\n"
    "                       exit, link and overstay flag of replication 0, with the truth)\n"
    "  --quiet              no progress bar or table (warnings and errors still go to stderr)\n"
    "  -h, --help           this text\n";

/* Options shared by the option loop: "--name value" or "--name=value". */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *bad)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "bxsim: option %s needs a value\n", name);
        *bad = true;
        return NULL;
    }
    return argv[++*i];
}

/* "s" unless @p n is 1: "1 replication", "2 replications". */
static const char *plural(unsigned long long n)
{
    return n == 1 ? "" : "s";
}

/* " over N ranks" under mpirun, else "". */
static const char *ranks_note(void)
{
    static char buf[48];
    if (bx_par_size() == 1)
        return "";
    snprintf(buf, sizeof buf, " over %d MPI ranks", bx_par_size());
    return buf;
}

struct run_ctx {
    const struct bx_scn *scn;
    uint64_t seed;
    struct bx_net_rep_result *reps;
    double t_start;
    bool progress;
};

static enum bx_status run_one(void *vctx, uint32_t rep, struct bx_error *err)
{
    struct run_ctx *ctx = vctx;
    return bx_net_run(&ctx->scn->net, ctx->seed, rep, &ctx->reps[rep], err);
}

/* Under mpirun: replications travel to rank 0 (bx/par.h). */
static void pack_one(void *vctx, uint32_t rep, struct bx_buf *b)
{
    struct run_ctx *ctx = vctx;
    bx_net_rep_pack(&ctx->reps[rep], ctx->scn->net.n_stations, b);
}

static enum bx_status unpack_one(void *vctx, uint32_t rep, struct bx_reader *r,
                                 struct bx_error *err)
{
    struct run_ctx *ctx = vctx;
    return bx_net_rep_unpack(r, ctx->scn->net.n_stations, &ctx->reps[rep], err);
}

/* Draw the bar: @p work of @p total replications done (fractions count), @p done whole. */
static void draw_bar(double t_start, double work, uint32_t done, uint32_t total)
{
    char what[64];
    snprintf(what, sizeof what, "%u/%u replications", done, total);
    bx_app_bar(t_start, work, total, what, done == total);
}

/* A one-line progress bar on stderr, only when it is a terminal (never in logs or CI). */
static void show_progress(void *vctx, uint32_t done, uint32_t total)
{
    struct run_ctx *ctx = vctx;
    if (!ctx->progress)
        return;
    draw_bar(ctx->t_start, done, done, total);
}

static void print_table(const struct bx_scn *scn, const struct bx_net_rep_result *reps,
                        uint32_t n_reps)
{
    double *buf = malloc(n_reps * sizeof *buf);
    if (buf == NULL)
        return;
    printf("%-20s %10s %22s %12s %12s\n", "station", "served/rep", "mean wait s (95% CI)",
           "p95 wait s", "utilization");
    for (size_t i = 0; i < scn->net.n_stations; ++i) {
        double served = 0;
        for (uint32_t r = 0; r < n_reps; ++r)
            served += (double)reps[r].stations[i].served;
        for (uint32_t r = 0; r < n_reps; ++r)
            buf[r] = reps[r].stations[i].wait_mean_s;
        struct bx_ci w = bx_ci_student(buf, n_reps, 0.95);
        for (uint32_t r = 0; r < n_reps; ++r)
            buf[r] = reps[r].stations[i].wait_p95_s;
        struct bx_ci p = bx_ci_student(buf, n_reps, 0.95);
        for (uint32_t r = 0; r < n_reps; ++r)
            buf[r] = reps[r].stations[i].utilization;
        struct bx_ci u = bx_ci_student(buf, n_reps, 0.95);
        char ci[64];
        if (isfinite(w.lo))
            snprintf(ci, sizeof ci, "%.2f [%.2f, %.2f]", w.value, w.lo, w.hi);
        else
            snprintf(ci, sizeof ci, "%.2f", w.value);
        printf("%-20s %10.0f %22s %12.2f %12.3f\n", scn->net.stations[i].name, served / n_reps, ci,
               p.value, u.value);
    }
    free(buf);
}

struct ports_ctx {
    const struct bx_ports_config *cfg;
    uint64_t seed;
    struct bx_ports_result *reps;
    double t_start;
    bool progress;
    /* Progress within replications (simulated hours), from the replications' threads. */
    pthread_mutex_t mu;
    double *fraction; /* per replication */
    uint32_t n, done;
    double last_draw;
};

static enum bx_status run_one_port(void *vctx, uint32_t rep, struct bx_error *err)
{
    struct ports_ctx *c = vctx;
    return bx_ports_run(c->cfg, c->seed, rep, &c->reps[rep], err);
}

static void pack_one_port(void *vctx, uint32_t rep, struct bx_buf *b)
{
    struct ports_ctx *c = vctx;
    bx_ports_result_pack(&c->reps[rep], b);
}

static enum bx_status unpack_one_port(void *vctx, uint32_t rep, struct bx_reader *r,
                                      struct bx_error *err)
{
    struct ports_ctx *c = vctx;
    return bx_ports_result_unpack(r, &c->reps[rep], err);
}

static void ports_progress(void *vctx, uint32_t done, uint32_t total)
{
    struct ports_ctx *c = vctx;
    if (!c->progress)
        return;
    pthread_mutex_lock(&c->mu);
    c->done = done;
    double work = 0;
    for (uint32_t r = 0; r < c->n; ++r)
        work += c->fraction[r];
    draw_bar(c->t_start, fmax(work, (double)done), done, total);
    pthread_mutex_unlock(&c->mu);
}

/* Called every simulated hour of every replication; draws at most 4 times a second. */
static void ports_hour(void *vctx, uint32_t rep, double fraction)
{
    struct ports_ctx *c = vctx;
    pthread_mutex_lock(&c->mu);
    if (rep < c->n)
        c->fraction[rep] = fraction;
    double now = bx_wall_s();
    if (now - c->last_draw >= 0.25) {
        c->last_draw = now;
        double work = 0;
        for (uint32_t r = 0; r < c->n; ++r)
            work += c->fraction[r];
        draw_bar(c->t_start, work, c->done, c->n);
    }
    pthread_mutex_unlock(&c->mu);
}

/* Publish the staged outputs when all went well (@p rc), else drop them: the folder keeps the
 * previous run's files either way. */
static int finish_outputs(struct bx_outdir *o, int rc)
{
    struct bx_error err = {0};
    if (rc == BX_EXIT_OK && bx_outdir_commit(o, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: --out %s: %s\n", o->dir, err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    if (rc != BX_EXIT_OK && o->stage[0] != '\0')
        bx_app_explain_write_failure("run", o->dir);
    bx_outdir_abort(o);
    return rc;
}

/* A `kind: ports` scenario: load its algorithm profile, run, write summary.json. */
static int run_ports(struct bx_scn *scn, const char *file, struct bx_outdir *o, unsigned threads,
                     bool quiet, bool reproducible)
{
    const char *out = o->dir;
    char ppath[1024];
    if (!bx_app_ports_profile(scn, file, ppath, sizeof ppath))
        return BX_EXIT_USAGE;
    struct bx_error err = {0};
    int rc = BX_EXIT_OK;
    uint32_t n = scn->replications;
    /* Threads left over by the replications go into each large search. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned total = threads ? threads : cores > 0 ? (unsigned)cores : 1;
    scn->ports.search_threads = total > n ? total / n : 1;
    struct ports_ctx ctx = {.cfg = &scn->ports,
                            .seed = scn->seed,
                            .reps = calloc(n, sizeof(struct bx_ports_result)),
                            .t_start = bx_wall_s(),
                            .progress = !quiet && isatty(STDERR_FILENO) && bx_par_rank() == 0,
                            .fraction = calloc(n, sizeof(double)),
                            .n = n};
    pthread_mutex_init(&ctx.mu, NULL);
    if (ctx.reps == NULL || ctx.fraction == NULL) {
        free(ctx.reps);
        free(ctx.fraction);
        return BX_EXIT_RUNTIME;
    }
    if (ctx.progress) {
        scn->ports.progress = ports_hour;
        scn->ports.progress_ctx = &ctx;
    }
    for (uint32_t r = 0; r < n && rc == BX_EXIT_OK; ++r)
        if (bx_ports_result_init(&ctx.reps[r], scn->ports.n_ports, &err) != BX_OK)
            rc = BX_EXIT_RUNTIME;
    if (!quiet && bx_par_rank() == 0)
        fprintf(stderr, "bxsim run: %s (ports, profile %s), seed %llu, %u replication%s%s\n",
                scn->name, scn->ports.profile_name, (unsigned long long)scn->seed, n, plural(n),
                ranks_note());
    if (!bx_par_all_ok(rc == BX_EXIT_OK)) {
        rc = BX_EXIT_RUNTIME;
    } else if (bx_par_replicate(n, threads, run_one_port, &ctx, pack_one_port, unpack_one_port,
                                false, ports_progress, &err) != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim run: %s: %s\n", file, err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    /* Rank 0 writes; the other ranks' part is done. */
    if (bx_par_rank() != 0)
        goto done_ports;
    double wall = bx_wall_s() - ctx.t_start;
    char path[4096], h5[4096];
    if (rc == BX_EXIT_OK && (bx_outdir_path(o, "summary.json", path, sizeof path, &err) != BX_OK ||
                             bx_outdir_path(o, "results.h5", h5, sizeof h5, &err) != BX_OK)) {
        fprintf(stderr, "bxsim run: --out %s: %s\n", out, err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    char libs[512];
    bx_app_libraries(libs, sizeof libs);
    char *scn_text = bx_app_read_text(file), *prof_text = bx_app_read_text(ppath);
    struct bx_rpt_run_info info = {.scenario = scn->name,
                                   .scenario_file = file,
                                   .version = bx_app_version(),
                                   .seed = scn->seed,
                                   .wall_s = reproducible ? BX_NAN : wall,
                                   .git_revision = bx_app_git_revision(),
                                   .libraries = libs,
                                   .scenario_text = scn_text,
                                   .profile_text = prof_text};
    if (rc == BX_EXIT_OK &&
        bx_rpt_write_ports_summary(path, &info, &scn->ports, ctx.reps, n, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    if (rc == BX_EXIT_OK &&
        bx_rpt_write_results_h5(h5, &info, &scn->ports, ctx.reps, n, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    struct bx_rpt_report_result rep = {0};
    if (rc == BX_EXIT_OK && bx_rpt_write_report(o->stage, NULL, &rep, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: report: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    rc = finish_outputs(o, rc);
    if (rc == BX_EXIT_OK && !rep.images)
        fprintf(stderr,
                "bxsim run: plots skipped (%s); their data and gnuplot scripts are in "
                "%s/plots\n",
                rep.note, out);
    if (rc == BX_EXIT_OK && !quiet) {
        /* per replication, with Student-t intervals across replications; waits are from
         * arrival at the camera queue to the end of processing (docs/summary.md) */
        int w_name = 4;
        for (size_t i = 0; i < scn->ports.n_ports; ++i) {
            int l = (int)strlen(scn->ports.ports[i].name);
            w_name = l > w_name ? l : w_name;
        }
        double *buf = malloc(3 * (size_t)n * sizeof *buf);
        if (buf != NULL) {
            printf("%-*s  %-7s %14s %12s %24s %24s\n", w_name, "port", "type", "travellers/rep",
                   "manual/rep", "mean wait s (95% CI)", "p95 wait s (95% CI)");
            for (size_t i = 0; i < scn->ports.n_ports; ++i) {
                double trav = 0, man = 0;
                for (uint32_t r = 0; r < n; ++r) {
                    const struct bx_port_result *pr = &ctx.reps[r].ports[i];
                    trav += (double)pr->travellers / n;
                    man += (double)pr->manual / n;
                    buf[r] = bx_tally_mean(&pr->wait);
                    buf[n + r] = pr->wait_q ? bx_quantiles_get(pr->wait_q, 0.95) : BX_NAN;
                }
                struct bx_ci mw = bx_ci_student(buf, n, 0.95), pw = bx_ci_student(buf + n, n, 0.95);
                char a[64], b[64];
                if (isfinite(mw.lo))
                    snprintf(a, sizeof a, "%.1f [%.1f, %.1f]", mw.value, mw.lo, mw.hi);
                else
                    snprintf(a, sizeof a, "%.1f", mw.value);
                if (isfinite(pw.lo))
                    snprintf(b, sizeof b, "%.1f [%.1f, %.1f]", pw.value, pw.lo, pw.hi);
                else
                    snprintf(b, sizeof b, "%.1f", pw.value);
                printf("%-*s  %-7s %14.0f %12.0f %24s %24s\n", w_name, scn->ports.ports[i].name,
                       bx_port_type_name(scn->ports.ports[i].type), trav, man, a, b);
            }
            free(buf);
        }
        printf("wrote %s/summary.json, results.h5 and report.html (%zu plot%s) (%.2f s)\n", out,
               rep.n_plots, plural(rep.n_plots), wall);
    }
    free(scn_text);
    free(prof_text);
done_ports:
    for (uint32_t r = 0; r < n; ++r)
        bx_ports_result_fini(&ctx.reps[r]);
    free(ctx.reps);
    free(ctx.fraction);
    pthread_mutex_destroy(&ctx.mu);
    scn->ports.progress = NULL;
    return rc;
}

/* ---------------------------------------------------------------- lifecycle runs */

struct lc_ctx {
    const struct bx_lc_config *cfg;
    uint64_t seed;
    struct bx_lc_result *reps;
    struct ports_ctx *bar; /* the progress bar's state (shared with ports runs) */
};

static enum bx_status run_one_lc(void *vctx, uint32_t rep, struct bx_error *err)
{
    struct lc_ctx *c = vctx;
    return bx_lc_run(c->cfg, c->seed, rep, &c->reps[rep], err);
}

static void pack_one_lc(void *vctx, uint32_t rep, struct bx_buf *b)
{
    struct lc_ctx *c = vctx;
    bx_lc_result_pack(&c->reps[rep], b);
}

static enum bx_status unpack_one_lc(void *vctx, uint32_t rep, struct bx_reader *r,
                                    struct bx_error *err)
{
    struct lc_ctx *c = vctx;
    return bx_lc_result_unpack(r, &c->reps[rep], err);
}

static void lc_progress(void *vctx, uint32_t done, uint32_t total)
{
    struct lc_ctx *c = vctx;
    ports_progress(c->bar, done, total);
}

static enum bx_status lc_par_search(void *ctx, const struct bx_store *g, size_t row0,
                                    const float *probes, size_t n_q, const struct bx_search_opts *o,
                                    struct bx_hit *hits, size_t *nh, struct bx_error *err)
{
    (void)ctx;
    size_t total;
    return bx_par_search(g, row0, probes, n_q, o, hits, nh, &total, err);
}

/* The whole store's FPIR at air's exit threshold: measured at the configured sizes, the model
 * at those and at the store's size after 1, 5, 10, 25, 50 and 75 years of this run's rate. */
static enum bx_status lc_store(const struct bx_lc_config *cfg, const struct bx_lc_result *reps,
                               uint32_t n, unsigned threads, struct bx_lc_fmr *fmr,
                               struct bx_lc_fpir_point *pts, size_t *n_pts, struct bx_error *err)
{
    double per_year = 0;
    for (uint32_t r = 0; r < n; ++r)
        per_year += reps[r].enrolled_per_day * 365.25 / n;
    double sizes[16];
    size_t k = 0;
    for (size_t i = 0; i < cfg->bims.n_measure; ++i)
        sizes[k++] = (double)cfg->bims.measure_sizes[i];
    static const double years[] = {1, 5, 10, 25, 50, 75};
    for (size_t i = 0; i < 6; ++i)
        if (per_year > 0 && years[i] <= cfg->bims.retention_years)
            sizes[k++] = per_year * years[i];
    /* the first mode in use: air's when it is */
    double thr = BX_NAN;
    for (int m = 0; m < BX_LC_N_MODES && !isfinite(thr); ++m)
        thr = reps[0].thresholds[m][1];
    enum bx_status st = bx_par_agree(bx_lc_fmr_at(cfg, thr, 10000, fmr, err), err);
    /* under mpirun the stores are split over the ranks (collective) */
    struct bx_lc_searcher sh = {(unsigned)bx_par_rank(), (unsigned)bx_par_size(), lc_par_search,
                                NULL};
    if (st == BX_OK)
        st = bx_par_agree(bx_lc_store_fpir(cfg, fmr, sizes, k, threads, &sh, pts, err), err);
    *n_pts = k;
    return st;
}

static int run_lifecycle(struct bx_scn *scn, const char *file, struct bx_outdir *o,
                         unsigned threads, bool quiet, bool reproducible, bool records)
{
    char ppath[1024];
    if (!bx_app_ports_profile(scn, file, ppath, sizeof ppath))
        return BX_EXIT_USAGE;
    struct bx_error err = {0};
    int rc = BX_EXIT_OK;
    uint32_t n = scn->replications;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned total = threads ? threads : cores > 0 ? (unsigned)cores : 1;
    struct bx_lc_config *cfg = &scn->lifecycle;
    cfg->threads = total > n ? total / n : 1;
    cfg->records = records;
    struct ports_ctx bar = {.t_start = bx_wall_s(),
                            .progress = !quiet && isatty(STDERR_FILENO) && bx_par_rank() == 0,
                            .fraction = calloc(n, sizeof(double)),
                            .n = n};
    pthread_mutex_init(&bar.mu, NULL);
    struct lc_ctx ctx = {
        .cfg = cfg, .seed = scn->seed, .reps = calloc(n, sizeof *ctx.reps), .bar = &bar};
    if (ctx.reps == NULL || bar.fraction == NULL) {
        free(ctx.reps);
        free(bar.fraction);
        return BX_EXIT_RUNTIME;
    }
    if (bar.progress) {
        cfg->progress = ports_hour;
        cfg->progress_ctx = &bar;
    }
    for (uint32_t r = 0; r < n && rc == BX_EXIT_OK; ++r)
        if (bx_lc_result_init(&ctx.reps[r], cfg->n_classes, &err) != BX_OK)
            rc = BX_EXIT_RUNTIME;
    if (!quiet && bx_par_rank() == 0)
        fprintf(stderr,
                "bxsim run: %s (lifecycle, profile %s), seed %llu, %u replication%s of %g "
                "days at sample %g%s\n",
                scn->name, cfg->profile_name, (unsigned long long)scn->seed, n, plural(n),
                cfg->horizon_days, cfg->sample, ranks_note());
    if (!bx_par_all_ok(rc == BX_EXIT_OK)) {
        rc = BX_EXIT_RUNTIME;
    } else if (bx_par_replicate(n, threads, run_one_lc, &ctx, pack_one_lc, unpack_one_lc, true,
                                lc_progress, &err) != BX_OK) {
        /* every rank holds every replication: the store's search below needs the threshold */
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim run: %s: %s\n", file, err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    struct bx_lc_fmr fmr = {0};
    struct bx_lc_fpir_point pts[16];
    size_t n_pts = 0;
    if (rc == BX_EXIT_OK && lc_store(cfg, ctx.reps, n, total, &fmr, pts, &n_pts, &err) != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim run: the whole store: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    if (bx_par_rank() != 0)
        goto done;
    double wall = bx_wall_s() - bar.t_start;
    char path[4096], db[4096];
    if (rc == BX_EXIT_OK && (bx_outdir_path(o, "overstay.json", path, sizeof path, &err) != BX_OK ||
                             bx_outdir_path(o, "records.sqlite", db, sizeof db, &err) != BX_OK)) {
        fprintf(stderr, "bxsim run: --out %s: %s\n", o->dir, err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    struct bx_rpt_run_info info = {.scenario = scn->name,
                                   .scenario_file = file,
                                   .version = bx_app_version(),
                                   .seed = scn->seed,
                                   .wall_s = reproducible ? BX_NAN : wall};
    struct bx_rpt_lifecycle lc = {&info, cfg, ctx.reps, n, &fmr, pts, n_pts};
    json_t *ov = rc == BX_EXIT_OK ? bx_rpt_overstay_json(&lc) : NULL;
    if (rc == BX_EXIT_OK && (ov == NULL || bx_rpt_write_json(path, ov, &err) != BX_OK)) {
        fprintf(stderr, "bxsim run: %s\n", ov ? err.msg : "out of memory");
        rc = BX_EXIT_RUNTIME;
    }
    if (rc == BX_EXIT_OK && records && bx_rpt_write_records(db, cfg, &ctx.reps[0], &err) != BX_OK) {
        fprintf(stderr, "bxsim run: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    struct bx_rpt_report_result rep = {0};
    if (rc == BX_EXIT_OK && bx_rpt_write_overstay_report(o->stage, ov, NULL, &rep, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: report: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
    }
    rc = finish_outputs(o, rc);
    if (rc == BX_EXIT_OK && !rep.images)
        fprintf(stderr,
                "bxsim run: plots skipped (%s); their data and scripts are in "
                "%s/overstay_plots\n",
                rep.note, o->dir);
    if (rc == BX_EXIT_OK && !quiet) {
        json_t *r = json_object_get(ov, "report"), *c = json_object_get(r, "counts");
        double sus = json_number_value(
                   json_object_get(json_object_get(c, "suspected_in_country"), "value")),
               fal = json_number_value(
                   json_object_get(json_object_get(c, "in_country_false"), "value")),
               exp = json_number_value(json_object_get(json_object_get(c, "expected"), "value"));
        printf("%-30s %14.0f\n%-30s %14.0f (%.4f%% of expected)\n%-30s %14.0f (%.1f%% of "
               "suspected)\n",
               "expected departures", exp, "suspected in-country", sus,
               exp > 0 ? 100 * sus / exp : 0.0, "  of which false", fal,
               sus > 0 ? 100 * fal / sus : 0.0);
        printf("wrote %s/overstay.json%s and overstay.html (%zu plot%s) (%.2f s)\n", o->dir,
               records ? ", records.sqlite" : "", rep.n_plots, plural(rep.n_plots), wall);
    }
    json_decref(ov);
done:
    for (uint32_t r = 0; r < n; ++r)
        bx_lc_result_fini(&ctx.reps[r]);
    free(ctx.reps);
    free(bar.fraction);
    pthread_mutex_destroy(&bar.mu);
    cfg->progress = NULL;
    return rc;
}

int bx_cmd_run(int argc, char **argv)
{
    const char *file = NULL, *out = NULL, *v;
    uint64_t seed = 0, reps = 0, threads = 0;
    bool has_seed = false, has_reps = false, quiet = false, reproducible = false, bad = false,
         records = false;
    for (int i = 1; i < argc && !bad; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(run_usage, stdout);
            return BX_EXIT_OK;
        } else if ((v = opt_value(argc, argv, &i, "--out", &bad))) {
            out = v;
        } else if ((v = opt_value(argc, argv, &i, "--seed", &bad))) {
            bad = !bx_app_parse_u64("run", "--seed", v, 0, INT64_MAX, &seed);
            has_seed = true;
        } else if ((v = opt_value(argc, argv, &i, "--replications", &bad))) {
            bad = !bx_app_parse_u64("run", "--replications", v, 1, 1000000, &reps);
            has_reps = true;
        } else if ((v = opt_value(argc, argv, &i, "--threads", &bad))) {
            bad = !bx_app_parse_u64("run", "--threads", v, 0, 1024, &threads);
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--reproducible") == 0) {
            reproducible = true;
        } else if (strcmp(a, "--records") == 0) {
            records = true;
        } else if (bad) {
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "bxsim run: unknown option '%s' (try bxsim run --help)\n", a);
            bad = true;
        } else if (file == NULL) {
            file = a;
        } else {
            fprintf(stderr, "bxsim run: unexpected argument '%s' (one scenario file)\n", a);
            bad = true;
        }
    }
    if (!bad && (file == NULL || out == NULL)) {
        fprintf(stderr, "bxsim run: %s\n%s", file ? "--out DIR is required" : "no scenario file",
                run_usage);
        bad = true;
    }
    if (bad)
        return BX_EXIT_USAGE;

    struct bx_error err = {0};
    struct bx_scn scn;
    int lrc = bx_app_load_scenario(file, &scn);
    if (lrc != BX_EXIT_OK)
        return lrc;
    if (has_seed)
        scn.seed = seed;
    if (has_reps)
        scn.replications = (uint32_t)reps;
    /* The output folder is checked (and its staging folder made) before anything runs; only
     * rank 0 writes. */
    struct bx_outdir o;
    bool out_ok = bx_par_rank() != 0 || bx_outdir_open(&o, out, "--out", &err) == BX_OK;
    if (bx_par_rank() != 0)
        memset(&o, 0, sizeof o), o.slot = -1;
    if (!bx_par_all_ok(out_ok)) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim run: %s\n", err.code ? err.msg : "--out: another rank failed");
        bx_scn_fini(&scn);
        return err.code == BX_EIO ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    if (scn.kind == BX_SCN_LIFECYCLE) {
        int lc_rc = run_lifecycle(&scn, file, &o, (unsigned)threads, quiet, reproducible, records);
        bx_outdir_abort(&o);
        bx_scn_fini(&scn);
        return lc_rc;
    }
    if (records) {
        fprintf(stderr, "bxsim run: --records is for lifecycle scenarios (kind: lifecycle)\n");
        bx_outdir_abort(&o);
        bx_scn_fini(&scn);
        return BX_EXIT_USAGE;
    }
    if (scn.kind == BX_SCN_PORTS) {
        int prc = run_ports(&scn, file, &o, (unsigned)threads, quiet, reproducible);
        bx_outdir_abort(&o);
        bx_scn_fini(&scn);
        return prc;
    }

    int rc = BX_EXIT_OK;
    struct run_ctx ctx = {.scn = &scn,
                          .seed = scn.seed,
                          .t_start = bx_wall_s(),
                          .progress = !quiet && isatty(STDERR_FILENO) && bx_par_rank() == 0};
    ctx.reps = calloc(scn.replications, sizeof *ctx.reps);
    bool alloc_ok = ctx.reps != NULL;
    for (uint32_t r = 0; alloc_ok && r < scn.replications; ++r) {
        ctx.reps[r].stations = calloc(scn.net.n_stations, sizeof *ctx.reps[r].stations);
        alloc_ok = ctx.reps[r].stations != NULL;
    }
    if (!bx_par_all_ok(alloc_ok)) {
        fprintf(stderr, "bxsim run: out of memory for %u replications\n", scn.replications);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    if (!quiet && bx_par_rank() == 0)
        fprintf(stderr, "bxsim run: %s, seed %llu, %u replication%s%s\n", scn.name,
                (unsigned long long)scn.seed, scn.replications, plural(scn.replications),
                ranks_note());
    if (bx_par_replicate(scn.replications, (unsigned)threads, run_one, &ctx, pack_one, unpack_one,
                         false, show_progress, &err) != BX_OK) {
        if (bx_par_rank() == 0)
            fprintf(stderr, "bxsim run: %s: %s\n", file, err.msg);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    if (bx_par_rank() != 0)
        goto done;
    double wall = bx_wall_s() - ctx.t_start;
    char path[4096];
    if (bx_outdir_path(&o, "summary.json", path, sizeof path, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: --out %s: %s\n", out, err.msg);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    struct bx_rpt_run_info info = {.scenario = scn.name,
                                   .scenario_file = file,
                                   .version = bx_app_version(),
                                   .seed = scn.seed,
                                   .wall_s = reproducible ? BX_NAN : wall};
    if (bx_rpt_write_summary(path, &info, &scn.net, ctx.reps, scn.replications, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    struct bx_rpt_report_result rep = {0};
    if (bx_rpt_write_report(o.stage, NULL, &rep, &err) != BX_OK) {
        fprintf(stderr, "bxsim run: report: %s\n", err.msg);
        rc = BX_EXIT_RUNTIME;
        goto done;
    }
    if ((rc = finish_outputs(&o, rc)) != BX_EXIT_OK)
        goto done;
    if (!rep.images)
        fprintf(stderr,
                "bxsim run: plots skipped (%s); their data and gnuplot scripts are in "
                "%s/plots\n",
                rep.note, out);
    if (!quiet) {
        print_table(&scn, ctx.reps, scn.replications);
        printf("wrote %s/summary.json and report.html (%.2f s)\n", out, wall);
    }
done:
    if (o.stage[0] != '\0')
        rc = finish_outputs(&o, rc != BX_EXIT_OK ? rc : BX_EXIT_RUNTIME);
    if (ctx.reps)
        for (uint32_t r = 0; r < scn.replications; ++r)
            free(ctx.reps[r].stations);
    free(ctx.reps);
    bx_scn_fini(&scn);
    return rc;
}

int bx_cmd_validate(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        puts("usage: bxsim validate FILE.yaml...\n\nCheck scenario files without running them; "
             "exit 2 at the first bad one.");
        return BX_EXIT_OK;
    }
    if (argc < 2) {
        fputs("bxsim validate: no scenario file (usage: bxsim validate FILE.yaml...)\n", stderr);
        return BX_EXIT_USAGE;
    }
    for (int i = 1; i < argc; ++i) {
        if (argv[i][0] == '-') {
            fprintf(stderr, "bxsim validate: unknown option '%s'\n", argv[i]);
            return BX_EXIT_USAGE;
        }
        struct bx_scn scn;
        int lrc = bx_app_load_scenario(argv[i], &scn);
        if (lrc != BX_EXIT_OK)
            return lrc;
        /* The profile is part of what a ports scenario needs: check it too. */
        if (scn.kind != BX_SCN_NETWORK && !bx_app_ports_profile(&scn, argv[i], NULL, 0)) {
            bx_scn_fini(&scn);
            return BX_EXIT_USAGE;
        }
        if (scn.kind == BX_SCN_LIFECYCLE)
            printf("%s: ok (%s: lifecycle, %zu classes, profile %s, %u replication%s of %g days "
                   "at sample %g)\n",
                   argv[i], scn.name, scn.lifecycle.n_classes, scn.profile_name, scn.replications,
                   plural(scn.replications), scn.lifecycle.horizon_days, scn.lifecycle.sample);
        else if (scn.kind == BX_SCN_PORTS)
            printf("%s: ok (%s: %zu port%s, profile %s, %u replication%s of %g h)\n", argv[i],
                   scn.name, scn.ports.n_ports, plural(scn.ports.n_ports), scn.profile_name,
                   scn.replications, plural(scn.replications), scn.ports.horizon_s / 3600);
        else
            printf("%s: ok (%s: %zu sources, %zu stations, %u replication%s of %g h)\n", argv[i],
                   scn.name, scn.net.n_sources, scn.net.n_stations, scn.replications,
                   plural(scn.replications), scn.net.horizon_s / 3600);
        bx_scn_fini(&scn);
    }
    return BX_EXIT_OK;
}

int bx_cmd_report(int argc, char **argv)
{
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: bxsim report DIR [--quiet]\n\n"
                 "Rebuild DIR/report.html and DIR/plots/ from DIR/results.h5 (a ports run's\n"
                 "output), or DIR/overstay.html from DIR/overstay.json (a lifecycle run's).\n"
                 "Plots are drawn by gnuplot when it is on PATH; without it the page,\n"
                 "the plot data and the gnuplot scripts are still written.");
            return BX_EXIT_OK;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "bxsim report: unknown option '%s' (try bxsim report --help)\n",
                    argv[i]);
            return BX_EXIT_USAGE;
        } else if (dir == NULL) {
            dir = argv[i];
        } else {
            fprintf(stderr, "bxsim report: unexpected argument '%s' (one run directory)\n",
                    argv[i]);
            return BX_EXIT_USAGE;
        }
    }
    if (dir == NULL) {
        fputs("bxsim report: no run directory (usage: bxsim report DIR)\n", stderr);
        return BX_EXIT_USAGE;
    }
    struct bx_error err = {0};
    struct bx_rpt_report_result rep = {0};
    /* The page and plots are made in a staging folder inside DIR, then moved in together. */
    struct bx_outdir od;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "bxsim report: %s: no such folder (a run's folder with results.h5 or a "
                "network run's summary.json expected)\n",
                dir);
        return BX_EXIT_USAGE;
    }
    if (bx_outdir_open(&od, dir, "report", &err) != BX_OK) {
        fprintf(stderr, "bxsim report: %s\n", err.msg);
        return err.code == BX_EIO ? BX_EXIT_RUNTIME : BX_EXIT_USAGE;
    }
    struct bx_rpt_report_opts ro = {.out = od.stage};
    if (bx_rpt_write_report(dir, &ro, &rep, &err) != BX_OK) {
        fprintf(stderr, "bxsim report: %s\n", err.msg);
        bool full = bx_app_explain_write_failure("report", dir);
        bx_outdir_abort(&od);
        return !full && (err.code == BX_EPARSE || err.code == BX_EIO || err.code == BX_EFORMAT ||
                         err.code == BX_ESCHEMA)
                   ? BX_EXIT_USAGE
                   : BX_EXIT_RUNTIME;
    }
    if (bx_outdir_commit(&od, &err) != BX_OK) {
        fprintf(stderr, "bxsim report: %s\n", err.msg);
        bx_app_explain_write_failure("report", dir);
        return BX_EXIT_RUNTIME;
    }
    if (!rep.images)
        fprintf(stderr,
                "bxsim report: plots skipped (%s); their data and gnuplot scripts are in "
                "%s/%s\n",
                rep.note, dir, rep.plots);
    if (!quiet)
        printf("wrote %s/%s (%zu plot%s)\n", dir, rep.page, rep.n_plots, plural(rep.n_plots));
    return BX_EXIT_OK;
}
