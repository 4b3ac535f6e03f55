/* SPDX-License-Identifier: MIT */
/* size.c - queueing approximations and the confirmed search (bx/size.h). */
#include "bx/size.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double bx_size_erlang_c(unsigned c, double a)
{
    if (c == 0 || a >= (double)c)
        return 1;
    /* Erlang B by its stable recursion, then C = B / (1 - rho (1 - B)). */
    double b = 1;
    for (unsigned k = 1; k <= c; ++k)
        b = a * b / ((double)k + a * b);
    return b / (1 - a / (double)c * (1 - b));
}

double bx_size_wait_quantile(unsigned c, double lambda, double mean_s, double ca2, double cs2,
                             double p)
{
    BX_REQUIRE(lambda >= 0 && mean_s > 0 && p > 0 && p < 1);
    double mu = 1 / mean_s, a = lambda / mu;
    if (c == 0 || a >= (double)c)
        return BX_INF;
    double C = bx_size_erlang_c(c, a);
    if (C <= 1 - p)
        return 0;
    double rate = ((double)c * mu - lambda) * 2 / (ca2 + cs2);
    return log(C / (1 - p)) / rate;
}

unsigned bx_size_approx_level(double lambda, double mean_s, double ca2, double cs2, double p,
                              double target_s)
{
    unsigned c = (unsigned)floor(lambda * mean_s) + 1;
    while (c < 1000000 && bx_size_wait_quantile(c, lambda, mean_s, ca2, cs2, p) > target_s)
        ++c;
    return c;
}

void bx_size_result_fini(struct bx_size_result *r)
{
    if (r == NULL)
        return;
    free(r->curve);
    memset(r, 0, sizeof *r);
}

bool bx_size_meets(const struct bx_size_point *p, double target_s)
{
    double up = isfinite(p->hi) ? p->hi : p->value; /* one replication: no interval */
    return !p->failed && isfinite(up) && up <= target_s;
}

const struct bx_size_point *bx_size_best(const struct bx_size_result *r)
{
    for (size_t j = 0; r->found && j < r->n_curve; ++j)
        if (r->curve[j].level == r->level)
            return &r->curve[j];
    return NULL;
}

/* The simulated point of @p level, simulating it first if needed. */
static enum bx_status point(struct bx_size_result *r, unsigned level, bx_size_sim_fn *fn, void *ctx,
                            const struct bx_size_point **out, struct bx_error *err)
{
    size_t i = 0;
    while (i < r->n_curve && r->curve[i].level < level)
        ++i;
    if (i < r->n_curve && r->curve[i].level == level) {
        *out = &r->curve[i];
        return BX_OK;
    }
    struct bx_size_point p = {
        .level = level, .value = BX_NAN, .lo = BX_NAN, .hi = BX_NAN, .utilization = BX_NAN};
    enum bx_status st = fn(ctx, level, &p, err);
    if (st != BX_OK)
        return st;
    p.level = level;
    struct bx_size_point *v = realloc(r->curve, (r->n_curve + 1) * sizeof *v);
    if (v == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    r->curve = v;
    memmove(&v[i + 1], &v[i], (r->n_curve - i) * sizeof *v);
    v[i] = p;
    r->n_curve++;
    *out = &v[i];
    return BX_OK;
}

enum bx_status bx_size_search(unsigned approx, unsigned min_level, unsigned max_level,
                              double target_s, bx_size_sim_fn *fn, void *ctx,
                              struct bx_size_result *res, struct bx_error *err)
{
    memset(res, 0, sizeof *res);
    if (min_level < 1)
        min_level = 1;
    if (max_level < min_level)
        return BX_FAIL(err, BX_EINVAL, "no level to search: [%u, %u]", min_level, max_level);
    unsigned L = approx < min_level ? min_level : approx > max_level ? max_level : approx;
    res->approx = approx;
    const struct bx_size_point *p;
    enum bx_status st = point(res, L, fn, ctx, &p, err);
    if (st != BX_OK)
        return st;
    unsigned good, bad;
    if (bx_size_meets(p, target_s)) {
        /* Down until a level fails (or the minimum meets). */
        good = L;
        bad = 0;
        while (good > min_level) {
            if ((st = point(res, good - 1, fn, ctx, &p, err)) != BX_OK)
                return st;
            if (!bx_size_meets(p, target_s)) {
                bad = good - 1;
                break;
            }
            --good;
        }
    } else {
        /* Up with doubling steps, then bisect between the last failure and the first success. */
        bad = L;
        unsigned step = 1;
        good = 0;
        while (bad < max_level) {
            unsigned next = bad + step > max_level ? max_level : bad + step;
            if ((st = point(res, next, fn, ctx, &p, err)) != BX_OK)
                return st;
            if (bx_size_meets(p, target_s)) {
                good = next;
                break;
            }
            bad = next;
            step *= 2;
        }
        if (good == 0)
            return BX_OK; /* nothing up to max_level meets the target: res->found false */
        while (good - bad > 1) {
            unsigned mid = bad + (good - bad) / 2;
            if ((st = point(res, mid, fn, ctx, &p, err)) != BX_OK)
                return st;
            if (bx_size_meets(p, target_s))
                good = mid;
            else
                bad = mid;
        }
    }
    res->found = true;
    res->level = good;
    return BX_OK;
}
