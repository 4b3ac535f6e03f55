/* SPDX-License-Identifier: MIT */
/* test_queueing.c - validation of the kernel against queueing theory.
 *
 * Exact results used (Gross, Shortle, Thompson and Harris, Fundamentals of Queueing Theory,
 * 4th ed.): M/M/c waiting time through Erlang C, with P(Wq > t) = C exp(-(c mu - lambda) t);
 * M/G/1 (and M/D/1) mean wait by Pollaczek-Khinchine, Wq = lambda E[S^2] / (2 (1 - rho));
 * Jackson's theorem for a tandem of exponential stations; Little's law L = lambda W.
 * Estimates are checked with |z| < 4 against the replication standard error, and the 95%
 * intervals are checked for their coverage over 200 independent runs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bx/sim.h"

/* Erlang C probability of waiting for c servers, offered load a = lambda / mu < c. */
static double erlang_c(double a, unsigned c)
{
    double b = 1;
    for (unsigned k = 1; k <= c; ++k)
        b = a * b / (k + a * b); /* Erlang B recursion */
    double rho = a / c;
    return b / (1 - rho * (1 - b));
}

static double mmc_wq(double lambda, double mu, unsigned c)
{
    return erlang_c(lambda / mu, c) / (c * mu - lambda);
}

static double mmc_wq_quantile(double lambda, double mu, unsigned c, double p)
{
    double pw = erlang_c(lambda / mu, c);
    return pw <= 1 - p ? 0 : log(pw / (1 - p)) / (c * mu - lambda);
}

struct agg {
    struct bx_ci wait, p95, util, qlen, sojourn, in_station, system_time, in_system;
    double little_q, little_station, little_system; /* worst relative gap over replications */
    double arrival_rate;
};

struct ctx {
    const struct bx_net_config *cfg;
    uint64_t seed;
    struct bx_net_rep_result *r;
};

static enum bx_status one(void *vctx, uint32_t rep, struct bx_error *err)
{
    struct ctx *c = vctx;
    return bx_net_run(c->cfg, c->seed, rep, &c->r[rep], err);
}

/* Run R replications and summarise station k. */
static struct agg run(const struct bx_net_config *cfg, size_t k, uint32_t R, uint64_t seed,
                      unsigned threads)
{
    struct bx_net_rep_result *r = calloc(R, sizeof *r);
    for (uint32_t i = 0; i < R; ++i)
        r[i].stations = calloc(cfg->n_stations, sizeof *r[i].stations);
    struct ctx c = {cfg, seed, r};
    struct bx_error err = {0};
    cr_assert_eq(bx_replicate(R, threads, one, &c, NULL, &err), BX_OK, "%s", err.msg);
    double x[8][R];
    struct agg a = {0};
    for (uint32_t i = 0; i < R; ++i) {
        struct bx_net_station_result *s = &r[i].stations[k];
        x[0][i] = s->wait_mean_s;
        x[1][i] = s->wait_p95_s;
        x[2][i] = s->utilization;
        x[3][i] = s->queue_len_mean;
        x[4][i] = s->sojourn_mean_s;
        x[5][i] = s->in_station_mean;
        x[6][i] = r[i].system_time_mean_s;
        x[7][i] = r[i].in_system_mean;
        double lam = (double)s->arrivals / (cfg->horizon_s - cfg->warmup_s);
        a.little_q = fmax(a.little_q, fabs(s->queue_len_mean / (lam * s->wait_mean_s) - 1));
        a.little_station =
            fmax(a.little_station, fabs(s->in_station_mean / (lam * s->sojourn_mean_s) - 1));
        a.little_system = fmax(
            a.little_system,
            fabs(r[i].in_system_mean / (r[i].arrival_rate_per_s * r[i].system_time_mean_s) - 1));
        a.arrival_rate += r[i].arrival_rate_per_s / R;
    }
    a.wait = bx_ci_student(x[0], R, 0.95);
    a.p95 = bx_ci_student(x[1], R, 0.95);
    a.util = bx_ci_student(x[2], R, 0.95);
    a.qlen = bx_ci_student(x[3], R, 0.95);
    a.sojourn = bx_ci_student(x[4], R, 0.95);
    a.in_station = bx_ci_student(x[5], R, 0.95);
    a.system_time = bx_ci_student(x[6], R, 0.95);
    a.in_system = bx_ci_student(x[7], R, 0.95);
    for (uint32_t i = 0; i < R; ++i)
        free(r[i].stations);
    free(r);
    return a;
}

/* |estimate - exact| in standard errors (the 95% half-width over t(0.975, n-1)). */
static double z_of(struct bx_ci ci, double exact, double t975)
{
    double se = (ci.hi - ci.lo) / 2 / t975;
    return fabs(ci.value - exact) / se;
}

#define T975_9 2.262157163 /* t(0.975, 9) */

static struct bx_net_config single(struct bx_net_source *src, struct bx_net_station *st,
                                   double lambda, struct bx_dist service, unsigned c,
                                   double horizon_s, bool exact)
{
    memset(src, 0, sizeof *src);
    memset(st, 0, sizeof *st);
    strcpy(src->name, "arrivals");
    strcpy(st->name, "station");
    struct bx_error err = {0};
    bx_dist_exponential(&src->interarrival, 1 / lambda, &err);
    src->stop_s = horizon_s;
    st->servers = c;
    st->service = service;
    st->next = -1;
    st->balk_queue_len = SIZE_MAX;
    st->balk_prob = 1;
    return (struct bx_net_config){src, 1, st, 1, horizon_s, 0.05 * horizon_s, exact, 0};
}

struct mmc_case {
    double lambda, mu;
    unsigned c;
    double horizon_s;
};

Test(validation_mmc, mean_and_p95_wait_match_erlang_c, .timeout = 300)
{
    const struct mmc_case cases[] = {
        {0.5, 1.0, 1, 2e5},  /* rho 0.5 */
        {0.1, 0.04, 3, 4e6}, /* rho 0.833, the example */
        {3.6, 1.0, 4, 1e5},  /* rho 0.9 */
        {7.0, 1.0, 10, 5e4}, /* rho 0.7, many servers */
        {1.9, 1.0, 2, 6e5},  /* rho 0.95 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const struct mmc_case *k = &cases[i];
        struct bx_net_source src;
        struct bx_net_station st;
        struct bx_dist svc;
        struct bx_error err = {0};
        bx_dist_exponential(&svc, 1 / k->mu, &err);
        struct bx_net_config cfg = single(&src, &st, k->lambda, svc, k->c, k->horizon_s, false);
        struct agg a = run(&cfg, 0, 10, 100 + i, 2);
        double wq = mmc_wq(k->lambda, k->mu, k->c), rho = k->lambda / (k->c * k->mu);
        double p95 = mmc_wq_quantile(k->lambda, k->mu, k->c, 0.95);
        cr_assert_lt(z_of(a.wait, wq, T975_9), 4.0, "case %zu: mean wait %g [%g, %g], Erlang C %g",
                     i, a.wait.value, a.wait.lo, a.wait.hi, wq);
        cr_assert_lt(z_of(a.util, rho, T975_9), 4.0, "case %zu: utilisation %g vs %g", i,
                     a.util.value, rho);
        /* The p95 estimate carries the sketch's 0.5% relative error on top of sampling. */
        double se95 = (a.p95.hi - a.p95.lo) / 2 / T975_9 + 0.005 * p95;
        cr_assert_lt(fabs(a.p95.value - p95) / se95, 4.0, "case %zu: p95 wait %g vs exact %g", i,
                     a.p95.value, p95);
        cr_assert_lt(a.little_q, 0.01, "case %zu: Little's law for the queue off by %g", i,
                     a.little_q);
        cr_assert_lt(a.little_station, 0.01, "case %zu: Little's law for the station off by %g", i,
                     a.little_station);
    }
}

Test(validation_mg1, md1_and_lognormal_mg1_match_pollaczek_khinchine, .timeout = 300)
{
    struct bx_error err = {0};
    struct bx_dist det, logn, gam;
    bx_dist_deterministic(&det, 1.0, &err);
    bx_dist_from_moments(&logn, BX_DIST_LOGNORMAL, 1.0, 1.5, &err);
    bx_dist_from_moments(&gam, BX_DIST_GAMMA, 2.0, 1.0, &err);
    struct {
        const char *what;
        double lambda;
        struct bx_dist s;
        double horizon_s;
    } cases[] = {{"M/D/1", 0.8, det, 4e5},
                 {"M/G/1 lognormal cv 1.5", 0.7, logn, 2e6},
                 {"M/G/1 gamma cv 0.5", 0.45, gam, 4e5}};
    for (size_t i = 0; i < 3; ++i) {
        struct bx_net_source src;
        struct bx_net_station st;
        struct bx_net_config cfg =
            single(&src, &st, cases[i].lambda, cases[i].s, 1, cases[i].horizon_s, false);
        double es = bx_dist_mean(&cases[i].s), es2 = bx_dist_var(&cases[i].s) + es * es;
        double rho = cases[i].lambda * es;
        double wq = cases[i].lambda * es2 / (2 * (1 - rho));
        struct agg a = run(&cfg, 0, 10, 200 + i, 2);
        cr_assert_lt(z_of(a.wait, wq, T975_9), 4.0, "%s: mean wait %g [%g, %g], P-K %g",
                     cases[i].what, a.wait.value, a.wait.lo, a.wait.hi, wq);
        cr_assert_lt(z_of(a.util, rho, T975_9), 4.0, "%s: utilisation %g vs %g", cases[i].what,
                     a.util.value, rho);
        cr_assert_lt(a.little_q, 0.01, "%s: Little's law off by %g", cases[i].what, a.little_q);
    }
}

Test(validation_tandem, two_exponential_stations_behave_as_jackson_predicts, .timeout = 300)
{
    /* lambda 0.5 into M/M/1 (mu 1), then M/M/2 (mu 0.4): by Burke's theorem the second station
     * sees Poisson arrivals and each behaves as an independent M/M/c. */
    struct bx_error err = {0};
    struct bx_net_source src = {.name = "in", .to = 0, .stop_s = 4e5};
    bx_dist_exponential(&src.interarrival, 2.0, &err);
    struct bx_net_station st[2] = {
        {.name = "first", .servers = 1, .next = 1, .balk_queue_len = SIZE_MAX, .balk_prob = 1},
        {.name = "second", .servers = 2, .next = -1, .balk_queue_len = SIZE_MAX, .balk_prob = 1}};
    bx_dist_exponential(&st[0].service, 1.0, &err);
    bx_dist_exponential(&st[1].service, 2.5, &err);
    struct bx_net_config cfg = {&src, 1, st, 2, 4e5, 2e4, false, 0};
    double wq1 = mmc_wq(0.5, 1.0, 1), wq2 = mmc_wq(0.5, 0.4, 2);
    struct agg a = run(&cfg, 0, 10, 300, 2), b = run(&cfg, 1, 10, 300, 2);
    cr_assert_lt(z_of(a.wait, wq1, T975_9), 4.0, "first: %g vs %g", a.wait.value, wq1);
    cr_assert_lt(z_of(b.wait, wq2, T975_9), 4.0, "second: %g vs %g", b.wait.value, wq2);
    double w_sys = wq1 + 1.0 + wq2 + 2.5;
    cr_assert_lt(z_of(a.system_time, w_sys, T975_9), 4.0, "system time %g vs %g",
                 a.system_time.value, w_sys);
    /* Little's law over the whole network: L = lambda W with the observed rates. */
    cr_assert_lt(a.little_system, 0.01, "network Little's law off by %g", a.little_system);
    cr_assert_lt(z_of(a.in_system, 0.5 * w_sys, T975_9), 4.0, "L %g vs lambda W %g",
                 a.in_system.value, 0.5 * w_sys);
}

Test(validation_coverage, intervals_cover_exact_values_at_the_nominal_rate, .timeout = 600)
{
    /* 200 independent runs (distinct master seeds) of 10 replications of M/M/1 at rho 0.7:
     * count how often each 95% interval holds the exact value. Binomial(200, 0.95) lies in
     * [0.90, 0.99] with probability > 0.999. */
    const double lambda = 0.7, mu = 1.0;
    const double wq = mmc_wq(lambda, mu, 1), p95 = mmc_wq_quantile(lambda, mu, 1, 0.95);
    const int runs = 200;
    int cover_wait = 0, cover_p95 = 0, cover_util = 0;
    struct bx_error err = {0};
    struct bx_dist svc;
    bx_dist_exponential(&svc, 1 / mu, &err);
    for (int k = 0; k < runs; ++k) {
        struct bx_net_source src;
        struct bx_net_station st;
        struct bx_net_config cfg = single(&src, &st, lambda, svc, 1, 2e4, true);
        struct agg a = run(&cfg, 0, 10, 5000 + (uint64_t)k, 1);
        cover_wait += a.wait.lo <= wq && wq <= a.wait.hi;
        cover_p95 += a.p95.lo <= p95 && p95 <= a.p95.hi;
        cover_util += a.util.lo <= 0.7 && 0.7 <= a.util.hi;
    }
    double cw = (double)cover_wait / runs, cp = (double)cover_p95 / runs,
           cu = (double)cover_util / runs;
    cr_log_info("coverage: mean wait %.3f, p95 wait %.3f, utilisation %.3f", cw, cp, cu);
    cr_assert(cw >= 0.90 && cw <= 0.99, "mean-wait interval coverage %.3f", cw);
    cr_assert(cp >= 0.90 && cp <= 0.99, "p95-wait interval coverage %.3f", cp);
    cr_assert(cu >= 0.90 && cu <= 0.99, "utilisation interval coverage %.3f", cu);
}
