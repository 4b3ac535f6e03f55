/* SPDX-License-Identifier: MIT */
/* rng.c - named random streams: seeds are a pure function of (master seed, replication, name).
 *
 * The seed of a stream never depends on which other streams exist, so a scenario variant that adds
 * a kiosk leaves every other stream's numbers unchanged (common random numbers). The generator is
 * xoshiro256++ (Blackman and Vigna, "Scrambled linear pseudorandom number generators", 2021),
 * exposed as a gsl_rng_type so that every gsl_ran_* sampler works on it, and seeded with the full
 * 64-bit seed through splitmix64 as its authors recommend. GSL's own generators take at most 32
 * seed bits (doc/rng.rst), which makes collisions between thousands of streams plausible; with 64
 * bits they are not, and bx_streams_get() still checks.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"
#include "bx/normal.h"

uint64_t bx_hash64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* FNV-1a over the stream name. */
static uint64_t hash_name(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; ++p) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

size_t bx_pick(double u, const double *p, size_t n)
{
    double c = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
        c += p[i];
        if (u < c)
            return i;
    }
    return n - 1;
}

uint64_t bx_rng_seed(uint64_t master_seed, uint32_t replication, const char *name)
{
    uint64_t h = bx_hash64(master_seed ^ 0x9e3779b97f4a7c15ULL);
    h = bx_hash64(h ^ ((uint64_t)replication * 0xbf58476d1ce4e5b9ULL + 0x94d049bb133111ebULL));
    h = bx_hash64(h ^ hash_name(name));
    return h;
}

/* ---------------------------------------------------------------- xoshiro256++ as a gsl_rng */

/* The generator itself is bx/normal.h's (inline), so that the template generator's inline draws
 * and this gsl_rng's are the same numbers. */
static unsigned long xoshiro_get(void *vstate)
{
    return (unsigned long)bx_xoshiro_next(vstate);
}

static double xoshiro_get_double(void *vstate)
{
    return bx_xoshiro_uniform(vstate); /* 53 random bits in [0, 1) */
}

static void xoshiro_set(void *vstate, unsigned long seed)
{
    bx_xoshiro_seed(vstate, (uint64_t)seed);
}

static const gsl_rng_type xoshiro_type = {"bx-xoshiro256++",         ULONG_MAX,    0,
                                          sizeof(struct bx_xoshiro), &xoshiro_set, &xoshiro_get,
                                          &xoshiro_get_double};

const gsl_rng_type *bx_rng_xoshiro256pp = &xoshiro_type;

/* ---------------------------------------------------------------- stream sets */

struct stream {
    char *name;
    uint64_t seed; /* the seed handed to gsl_rng_set (folded for narrow generators) */
    gsl_rng *rng;
};

struct bx_streams {
    uint64_t master_seed;
    uint32_t replication;
    const gsl_rng_type *type;
    bool narrow_seed; /* generator uses only 32 seed bits */
    size_t n, cap;
    struct stream *v;
};

struct bx_streams *bx_streams_alloc(uint64_t master_seed, uint32_t replication,
                                    const gsl_rng_type *type, struct bx_error *err)
{
    struct bx_streams *s = calloc(1, sizeof *s);
    if (s == NULL) {
        BX_FAIL(err, BX_ENOMEM, "cannot allocate random stream set");
        return NULL;
    }
    s->master_seed = master_seed;
    s->replication = replication;
    s->type = type ? type : bx_rng_xoshiro256pp;
    s->narrow_seed = s->type != bx_rng_xoshiro256pp;
    return s;
}

void bx_streams_free(struct bx_streams *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; ++i) {
        gsl_rng_free(s->v[i].rng);
        free(s->v[i].name);
    }
    free(s->v);
    free(s);
}

gsl_rng *bx_streams_get(struct bx_streams *s, const char *name, struct bx_error *err)
{
    BX_REQUIRE(s != NULL && name != NULL);
    for (size_t i = 0; i < s->n; ++i)
        if (strcmp(s->v[i].name, name) == 0)
            return s->v[i].rng;

    uint64_t seed = bx_rng_seed(s->master_seed, s->replication, name);
    if (s->narrow_seed) {
        /* GSL treats seed 0 as "use the default seed": map into [1, 2^32 - 1]. */
        seed = ((seed ^ (seed >> 32)) & 0xffffffffULL) % 0xffffffffULL + 1;
    }
    for (size_t i = 0; i < s->n; ++i) {
        if (s->v[i].seed == seed) {
            BX_FAIL(err, BX_ESEED, "random streams '%s' and '%s' would share seed %llu",
                    s->v[i].name, name, (unsigned long long)seed);
            return NULL;
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct stream *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            goto fail_nomem;
        s->v = v;
        s->cap = cap;
    }
    gsl_rng *r = gsl_rng_alloc(s->type);
    char *copy = strdup(name);
    if (r == NULL || copy == NULL) {
        gsl_rng_free(r);
        free(copy);
        goto fail_nomem;
    }
    gsl_rng_set(r, (unsigned long)seed);
    s->v[s->n++] = (struct stream){copy, seed, r};
    return r;

fail_nomem:
    BX_FAIL(err, BX_ENOMEM, "cannot allocate random stream '%s'", name);
    return NULL;
}

size_t bx_streams_count(const struct bx_streams *s)
{
    return s->n;
}

const char *bx_streams_name(const struct bx_streams *s, size_t i, uint64_t *seed)
{
    BX_REQUIRE(i < s->n);
    if (seed)
        *seed = s->v[i].seed;
    return s->v[i].name;
}
