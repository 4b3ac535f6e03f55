/* SPDX-License-Identifier: MIT */
/* lifecycle.c - one replication of entries and exits over the horizon, day by day.
 *
 * The flow of one stay (docs/lifecycle.md):
 *
 *   arrival (class, mode; or a frequent crosser's return)
 *     -> camera met? -> usable photo? -> 1:1 live against the document   (impostors caught)
 *                                     -> 1:N watch list + prior removals (listed people caught)
 *     -> admitted: admit-until date, true departure (on time, late, never), exit mode
 *     -> entry photo enrolled in BIMS (non-citizens; retention deadline)
 *   departure day
 *     -> biographic record? (manifest)
 *     -> camera met? -> usable photo? -> 1:n against the staged gallery (own BIMS photo or the
 *        document, co-travellers, others in the country, other travellers)
 *     -> departure recorded against the person matched (right, wrong) or the manifest's name
 *   evaluation at the horizon's end: the overstay report from what was recorded, beside the truth.
 *
 * Each day: retention expiry, entries (in chunks), exits by mode (in galleries). Every random
 * draw comes from a named stream of the replication in a fixed order; threads only generate
 * templates and search, which are pure functions of their inputs.
 */
#define _POSIX_C_SOURCE 200809L
#include "lc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#define ENTRY_CHUNK 4096
#define EXIT_CHUNK 2048
#define IN_COUNTRY_STAGED 32 /* other in-country people staged in a land gallery */
#define BLOCK_ROWS 2048      /* other travellers of a large gallery come in blocks of this many */
#define BLOCK_SPARE 4        /* blocks beyond a gallery's worth, so that galleries differ */
#define NONE32 UINT32_MAX

struct person {
    int64_t face, doc; /* generator keys */
    double doc_age;    /* years of the document photo at the first entry */
    double first_day;
    double bims_day; /* the enrolled photo's day (NaN: none) */
    uint64_t bims_sample;
    float difficulty, bims_quality;
    uint32_t klass, stay; /* the latest stay (NONE32: none) */
    uint32_t where;       /* index in the in-country list (NONE32: abroad) */
    uint8_t bims_mode, wheelchair, with_children, citizen;
    uint8_t kind; /* enum attempt: an impostor or a listed person comes back as one */
};

struct stay {
    uint32_t person;
    uint8_t klass, entry_mode, exit_mode, cause, resolved;
    double entry_day, admit_until, true_exit, recorded_exit, resolved_day;
};

struct ivec {
    uint32_t *v;
    size_t n, cap;
};

struct lc {
    const struct bx_lc_config *cfg;
    struct bx_lc_result *out;
    struct bx_tplgen *gen;
    struct bx_demog_mix mix;
    size_t dim;
    unsigned threads;
    gsl_rng *arrive, *behave, *capture, *stage, *lists;
    struct person *p;
    size_t np, capp;
    struct stay *s;
    size_t ns, caps;
    struct ivec *exits, *returns; /* by day index */
    size_t n_days;
    long day0; /* day index 0 = -warmup */
    struct ivec incountry;
    /* retention: enrolments in day order */
    struct {
        uint32_t person;
        double day;
    } * fifo;
    size_t fifo_head, fifo_n, fifo_cap;
    struct bx_store *lists_store; /* watch list then prior removals */
    float *fillers;               /* synthetic other travellers' photos */
    size_t n_fillers;
    /* A large gallery's other travellers: whole blocks of the pool, each a store of its own,
     * indexed once for the run (rather than copied and indexed for every gallery). */
    struct bx_store **blocks;
    size_t n_blocks;
    double thr_verify[BX_LC_N_MODES], thr_exit[BX_LC_N_MODES], thr_list[BX_LC_N_MODES];
    uint64_t captures; /* entry photos taken: each one's sample key */
    bool records;      /* keep the records (replication 0 of a run with config.records) */
    enum bx_status st;
    struct bx_error *err;
};

static bool ivec_push(struct ivec *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        uint32_t *nv = realloc(v->v, cap * sizeof *nv);
        if (nv == NULL)
            return false;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *np = realloc(*p, c * size);
    if (np == NULL)
        return false;
    *p = np;
    *cap = c;
    return true;
}

static void oom(struct lc *x)
{
    if (x->st == BX_OK)
        x->st = BX_FAIL(x->err, BX_ENOMEM, "out of memory in the lifecycle run");
}

static void record(struct lc *x, const struct bx_lc_record *r)
{
    struct bx_lc_result *o = x->out;
    if (!x->records)
        return;
    if (!grow((void **)&o->records, &o->cap_records, o->n_records + 1, sizeof *o->records)) {
        oom(x);
        return;
    }
    o->records[o->n_records++] = *r;
}

static uint64_t *count(struct lc *x, size_t k, int mode, enum bx_lc_count c)
{
    return &x->out->counts[bx_lc__at(k, mode, c)];
}

/* ---------------------------------------------------------------- people and templates */

static double years_at(const struct person *p, double day)
{
    return p->doc_age + fmax(0, day - p->first_day) / 365.25;
}

static struct bx_traveller traveller_of(const struct lc *x, const struct person *p,
                                        const struct bx_subject *s)
{
    const struct bx_lc_class *cl = &x->cfg->classes[p->klass];
    return (struct bx_traveller){.id = p->face,
                                 .citizenship = cl->citizenship,
                                 .sex = s->sex,
                                 .region = s->region,
                                 .age_years = s->age_years,
                                 .band = s->band,
                                 .wheelchair = p->wheelchair,
                                 .with_children = p->with_children,
                                 .difficulty = p->difficulty};
}

static uint32_t new_person(struct lc *x, uint32_t klass, double day)
{
    if (!grow((void **)&x->p, &x->capp, x->np + 1, sizeof *x->p)) {
        oom(x);
        return NONE32;
    }
    uint32_t i = (uint32_t)x->np++;
    const struct bx_pop_config *pop = &x->cfg->population;
    struct person *p = &x->p[i];
    *p = (struct person){.face = LC_ID_PERSON + i,
                         .doc = LC_ID_PERSON + i,
                         .doc_age = gsl_rng_uniform(x->behave) * pop->photo_age_max_years,
                         .first_day = day,
                         .bims_day = BX_NAN,
                         .difficulty = (float)gsl_ran_gaussian_ziggurat(x->behave, 1),
                         .klass = klass,
                         .stay = NONE32,
                         .where = NONE32,
                         .citizen = x->cfg->classes[klass].citizenship == BX_CIT_US};
    p->wheelchair = gsl_rng_uniform(x->behave) < pop->wheelchair_rate;
    p->with_children = gsl_rng_uniform(x->behave) < pop->with_children_rate;
    return i;
}

static void country_enter(struct lc *x, uint32_t i)
{
    if (x->p[i].where != NONE32)
        return;
    x->p[i].where = (uint32_t)x->incountry.n;
    if (!ivec_push(&x->incountry, i))
        oom(x);
}

static void country_leave(struct lc *x, uint32_t i)
{
    uint32_t w = x->p[i].where;
    if (w == NONE32)
        return;
    uint32_t last = x->incountry.v[--x->incountry.n];
    x->incountry.v[w] = last;
    x->p[last].where = w;
    x->p[i].where = NONE32;
}

static struct bx_subject subject_of(const struct lc *x, int64_t id)
{
    struct bx_subject s;
    bx_tplgen_subject(x->gen, id, &x->mix, &s);
    return s;
}

/* The job for person @p i's photo enrolled in BIMS. */
static struct bx_tpl_job bims_job(const struct lc *x, uint32_t i, float *out)
{
    const struct person *p = &x->p[i];
    return (struct bx_tpl_job){x->gen, subject_of(x, p->face),
                               (struct bx_capture){x->cfg->modes[p->bims_mode].entry_device,
                                                   p->bims_quality, years_at(p, p->bims_day)},
                               p->bims_sample, out};
}

static struct bx_tpl_job doc_job(const struct lc *x, uint32_t i, float *out)
{
    return (struct bx_tpl_job){x->gen, subject_of(x, x->p[i].doc),
                               (struct bx_capture){BX_DEVICE_DOCUMENT, 1, 0}, 0, out};
}

/* ---------------------------------------------------------------- set-up */

static double threshold(struct lc *x, enum bx_device dev, double fmr)
{
    struct bx_port_threshold t;
    if (x->st != BX_OK)
        return BX_NAN;
    x->st = bx_port_threshold_for(&x->cfg->profile, dev, x->cfg->calibration_subjects,
                                  fmin(0.5, fmr), x->cfg->threads, &t, x->err);
    return t.value;
}

static enum bx_status setup(struct lc *x, struct bx_streams *rs)
{
    const struct bx_lc_config *c = x->cfg;
    struct bx_error *err = x->err;
    if ((x->gen = bx_tplgen_alloc(&c->profile, err)) == NULL)
        return err->code ? err->code : BX_ENOMEM;
    x->dim = bx_tplgen_dim(x->gen);
    x->mix = bx_demog_mix_default();
    if (!(x->arrive = bx_streams_get(rs, "lifecycle/arrivals", err)) ||
        !(x->behave = bx_streams_get(rs, "lifecycle/behaviour", err)) ||
        !(x->capture = bx_streams_get(rs, "lifecycle/capture", err)) ||
        !(x->stage = bx_streams_get(rs, "lifecycle/staging", err)) ||
        !(x->lists = bx_streams_get(rs, "lifecycle/lists", err)))
        return err->code;
    size_t W = c->watchlist_size, R = c->removal_size;
    bool used[BX_LC_N_MODES] = {false};
    for (size_t k = 0; k < c->n_classes; ++k)
        for (int m = 0; m < BX_LC_N_MODES; ++m) {
            const struct bx_lc_class *cl = &c->classes[k];
            if (cl->arrivals_per_day[m] > 0)
                used[m] = true;
            for (int e = 0; e < BX_LC_N_MODES; ++e)
                if (cl->arrivals_per_day[e] > 0 && cl->exit_mode[e][m] > 0)
                    used[m] = true;
        }
    for (int m = 0; m < BX_LC_N_MODES && x->st == BX_OK; ++m) {
        const struct bx_lc_mode_config *md = &c->modes[m];
        if (!used[m]) { /* no traveller meets this mode's cameras: no thresholds to set */
            x->thr_verify[m] = x->thr_exit[m] = x->thr_list[m] = BX_NAN;
            x->out->thresholds[m][0] = x->out->thresholds[m][1] = x->out->thresholds[m][2] = BX_NAN;
            continue;
        }
        x->thr_verify[m] = threshold(x, md->entry_device, c->verify_fmr);
        x->thr_exit[m] = threshold(x, md->exit_device, c->exit_fpir / md->gallery_size);
        x->thr_list[m] = threshold(x, md->entry_device, c->watchlist_fpir / (double)(W + R));
        x->out->thresholds[m][0] = x->thr_verify[m];
        x->out->thresholds[m][1] = x->thr_exit[m];
        x->out->thresholds[m][2] = x->thr_list[m];
    }
    if (x->st != BX_OK)
        return x->st;
    /* The watch list and the prior-removal gallery: booking photos (document device). */
    size_t nl = W + R, d = x->dim;
    float *t = malloc(nl * d * sizeof *t);
    int64_t *ids = malloc(nl * sizeof *ids);
    struct bx_tpl_job *jobs = malloc(nl * sizeof *jobs);
    x->lists_store = bx_store_alloc(d, nl, err);
    enum bx_status st = BX_OK;
    if (!t || !ids || !jobs || !x->lists_store) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory for the watch list");
    } else {
        for (size_t i = 0; i < nl; ++i) {
            ids[i] = i < W ? LC_ID_WATCH + (int64_t)i : LC_ID_REMOVAL + (int64_t)(i - W);
            jobs[i] =
                (struct bx_tpl_job){x->gen, subject_of(x, ids[i]),
                                    (struct bx_capture){BX_DEVICE_DOCUMENT, 1, 0}, 0, t + i * d};
        }
        bx_port_generate(jobs, nl, x->threads);
        st = bx_store_add(x->lists_store, t, nl, ids, NULL, err);
    }
    free(jobs);
    free(ids);
    free(t);
    if (st != BX_OK)
        return st;
    /* Other travellers: entry photos of people not simulated, as many as the largest gallery
     * (in whole blocks, and some to spare, when a gallery is large enough to use them). */
    size_t nf = 0, nb = 0;
    for (int m = 0; m < BX_LC_N_MODES; ++m) {
        size_t g = c->modes[m].gallery_size;
        nf = g > nf ? g : nf;
        if (g >= 4 * BLOCK_ROWS && g / BLOCK_ROWS + BLOCK_SPARE > nb)
            nb = g / BLOCK_ROWS + BLOCK_SPARE;
    }
    nf = nb * BLOCK_ROWS > nf ? nb * BLOCK_ROWS : nf;
    x->n_fillers = nf;
    x->fillers = malloc(nf * d * sizeof *x->fillers);
    jobs = malloc(nf * sizeof *jobs);
    if (!x->fillers || !jobs) {
        free(jobs);
        return BX_FAIL(err, BX_ENOMEM, "out of memory for staged galleries");
    }
    for (size_t i = 0; i < nf; ++i) {
        struct bx_subject s = subject_of(x, LC_ID_FILLER + (int64_t)i);
        double years = (double)(bx_hash64(i) % 1000) / 100.0; /* 0..10 y */
        jobs[i] = (struct bx_tpl_job){
            x->gen, s, (struct bx_capture){c->modes[i % BX_LC_N_MODES].entry_device, 1, years}, 1,
            x->fillers + i * d};
    }
    bx_port_generate(jobs, nf, x->threads);
    free(jobs);
    if (nb == 0)
        return BX_OK;
    if ((x->blocks = calloc(nb, sizeof *x->blocks)) == NULL ||
        (ids = malloc(BLOCK_ROWS * sizeof *ids)) == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory for staged galleries");
    x->n_blocks = nb;
    enum bx_status bst = BX_OK;
    for (size_t b = 0; b < nb && bst == BX_OK; ++b) {
        for (size_t r = 0; r < BLOCK_ROWS; ++r)
            ids[r] = -1 - (int64_t)(b * BLOCK_ROWS + r);
        if ((x->blocks[b] = bx_store_alloc(d, BLOCK_ROWS, err)) == NULL)
            bst = err->code ? err->code : BX_ENOMEM;
        else
            bst = bx_store_add(x->blocks[b], x->fillers + b * BLOCK_ROWS * d, BLOCK_ROWS, ids, NULL,
                               err);
    }
    free(ids);
    return bst;
}

/* ---------------------------------------------------------------- entries */

enum attempt { A_NORMAL, A_IMPOSTOR, A_WATCH, A_REMOVAL };

struct entrant {
    uint32_t person;
    uint8_t mode, kind, photographed, acquired;
    float quality;
};

static bool reported(const struct lc *x, double day)
{
    return day >= 0 && day < x->cfg->horizon_days;
}

/* The stay person @p i begins on @p day after being admitted at mode @p mode. */
static void admit(struct lc *x, const struct entrant *e, double day)
{
    const struct bx_lc_config *c = x->cfg;
    uint32_t i = e->person;
    struct person *p = &x->p[i];
    const struct bx_lc_class *cl = &c->classes[p->klass];
    /* A return closes the previous stay if no departure was recorded: the person was abroad. */
    if (p->stay != NONE32) {
        struct stay *prev = &x->s[p->stay];
        if (isnan(prev->recorded_exit) && !prev->resolved) {
            prev->resolved = 1;
            prev->resolved_day = day;
        }
    }
    if (!grow((void **)&x->s, &x->caps, x->ns + 1, sizeof *x->s)) {
        oom(x);
        return;
    }
    struct stay *s = &x->s[x->ns];
    double admit_until = BX_NAN, exit_day;
    double authorised = cl->admitted_until ? round(bx_dist_sample(&cl->authorised, x->behave)) : 0;
    double trip = floor(bx_dist_sample(&cl->trip, x->behave));
    double u = gsl_rng_uniform(x->behave);
    if (cl->admitted_until) {
        admit_until = day + authorised;
        if (u < cl->never_leave_rate)
            exit_day = BX_INF;
        else if (u < cl->never_leave_rate + cl->overstay_rate)
            exit_day = admit_until + fmax(1, ceil(bx_dist_sample(&cl->overstay, x->behave)));
        else
            exit_day = day + fmin(trip, authorised);
    } else {
        exit_day = u < cl->never_leave_rate ? BX_INF : day + trip;
    }
    const double *row = cl->exit_mode[e->mode];
    double rs = 0;
    for (int m = 0; m < BX_LC_N_MODES; ++m)
        rs += row[m];
    uint8_t exit_mode =
        rs > 0 ? (uint8_t)bx_pick(gsl_rng_uniform(x->behave), row, BX_LC_N_MODES) : e->mode;
    *s = (struct stay){.person = i,
                       .klass = (uint8_t)p->klass,
                       .entry_mode = e->mode,
                       .exit_mode = exit_mode,
                       .cause = 255,
                       .entry_day = day,
                       .admit_until = admit_until,
                       .true_exit = exit_day,
                       .recorded_exit = BX_NAN,
                       .resolved_day = BX_NAN};
    p->stay = (uint32_t)x->ns++;
    country_enter(x, i);
    double idx = exit_day - (double)x->day0;
    if (idx < (double)x->n_days && !ivec_push(&x->exits[(size_t)idx], p->stay))
        oom(x);
}

static void process_entries(struct lc *x, const struct entrant *e, size_t n, double day,
                            float *live, float *doc, struct bx_tpl_job *jobs, struct bx_hit *hit,
                            size_t *nh)
{
    const struct bx_lc_config *c = x->cfg;
    size_t d = x->dim, nj = 0;
    /* templates of those photographed with a usable photo */
    size_t *slot = malloc((n ? n : 1) * sizeof *slot);
    uint64_t *sample = malloc((n ? n : 1) * sizeof *sample);
    if (slot == NULL || sample == NULL) {
        free(slot);
        free(sample);
        oom(x);
        return;
    }
    size_t na = 0;
    for (size_t j = 0; j < n; ++j) {
        slot[j] = SIZE_MAX;
        if (!e[j].acquired)
            continue;
        const struct person *p = &x->p[e[j].person];
        slot[j] = na;
        sample[j] = x->captures++ * 4 + 1;
        jobs[nj++] = (struct bx_tpl_job){
            x->gen, subject_of(x, p->face),
            (struct bx_capture){c->modes[e[j].mode].entry_device, e[j].quality, years_at(p, day)},
            sample[j], live + na * d};
        jobs[nj++] = doc_job(x, e[j].person, doc + na * d);
        na++;
    }
    bx_port_generate(jobs, nj, x->threads);
    /* one search per mode's threshold: the lists are the same, the thresholds differ */
    for (int m = 0; m < BX_LC_N_MODES && x->st == BX_OK; ++m) {
        size_t cnt = 0;
        for (size_t j = 0; j < n; ++j)
            cnt += e[j].acquired && e[j].mode == m;
        if (cnt == 0)
            continue;
        float *q = malloc(cnt * d * sizeof *q);
        struct bx_hit *h = malloc(cnt * sizeof *h);
        size_t *hn = malloc(cnt * sizeof *hn);
        if (!q || !h || !hn) {
            free(q), free(h), free(hn);
            oom(x);
            break;
        }
        size_t k = 0;
        for (size_t j = 0; j < n; ++j)
            if (e[j].acquired && e[j].mode == m)
                memcpy(q + k++ * d, live + slot[j] * d, d * sizeof *q);
        struct bx_search_opts so = bx_search_opts_default();
        so.k = 1;
        so.threshold = x->thr_list[m];
        so.threads = x->threads;
        so.fast = bx_store_rows(x->lists_store) > 1024;
        x->st = bx_match_one_to_n(x->lists_store, q, cnt, &so, h, hn, x->err);
        k = 0;
        for (size_t j = 0; j < n && x->st == BX_OK; ++j)
            if (e[j].acquired && e[j].mode == m) {
                hit[slot[j]] = h[k];
                nh[slot[j]] = hn[k++];
            }
        free(q), free(h), free(hn);
    }
    if (x->st != BX_OK) {
        free(slot);
        free(sample);
        return;
    }
    for (size_t j = 0; j < n; ++j) {
        const struct entrant *en = &e[j];
        uint32_t i = en->person;
        struct person *p = &x->p[i];
        uint64_t *fl = x->out->flows[en->mode];
        bool rep_day = reported(x, day), caught = false;
        double score = BX_NAN;
        if (en->acquired) {
            size_t a = slot[j];
            score = bx_match_verify(live + a * d, doc + a * d, d);
            bool verified = score >= x->thr_verify[en->mode];
            bool listed = en->kind == A_WATCH || en->kind == A_REMOVAL;
            bool hit_self = nh[a] == 1 && hit[a].subject == p->face;
            if (en->kind == A_IMPOSTOR)
                caught = !verified;
            else if (listed)
                caught = hit_self;
            if (rep_day && !verified && en->kind != A_IMPOSTOR)
                fl[BX_LC_VERIFY_REJECTS]++;
            if (rep_day && !listed && nh[a] == 1)
                fl[BX_LC_FALSE_ALERTS]++;
        }
        if (rep_day) {
            fl[BX_LC_ENTRY_ATTEMPTS]++;
            fl[BX_LC_ENTRY_PHOTOGRAPHED] += en->photographed;
            static const enum bx_lc_flow who[] = {BX_LC_N_FLOWS, BX_LC_IMPOSTORS, BX_LC_WATCHLISTED,
                                                  BX_LC_REMOVALS};
            if (en->kind != A_NORMAL) {
                fl[who[en->kind]]++;
                fl[who[en->kind] + 1] += caught;
            }
        }
        bool enrol = en->acquired && !caught && !p->citizen;
        if (!caught) {
            if (enrol) {
                p->bims_day = day;
                p->bims_sample = sample[j];
                p->bims_quality = en->quality;
                p->bims_mode = en->mode;
            }
            admit(x, en, day);
            if (x->st != BX_OK)
                break;
            if (rep_day)
                fl[BX_LC_ENTRIES]++;
        }
        if (enrol) {
            if (!grow((void **)&x->fifo, &x->fifo_cap, x->fifo_n + 1, sizeof *x->fifo)) {
                oom(x);
                break;
            }
            x->fifo[x->fifo_n].person = i;
            x->fifo[x->fifo_n++].day = day;
            if (rep_day) {
                fl[BX_LC_ENROLLED]++;
                x->out->store.enrolled++;
            }
        }
        const struct stay *s = caught ? NULL : &x->s[p->stay];
        record(x, &(struct bx_lc_record){
                      .person = i,
                      .stay = s ? p->stay : UINT64_MAX,
                      .kind = 0,
                      .klass = (uint8_t)p->klass,
                      .mode = en->mode,
                      .outcome = caught,
                      .truth = 255,
                      .cause = 255,
                      .flags = (uint8_t)((en->kind == A_IMPOSTOR) | (en->kind == A_WATCH) << 1 |
                                         (en->kind == A_REMOVAL) << 2 | caught << 3 |
                                         en->photographed << 4 | enrol << 5),
                      .day = day,
                      .admit_until = s ? s->admit_until : BX_NAN,
                      .score = score,
                      .linked = UINT64_MAX});
    }
    free(slot);
    free(sample);
}

/* Decide at the camera: met it, and a usable photo. */
static void at_camera(struct lc *x, const struct person *p, const struct bx_lc_mode_config *md,
                      enum bx_device dev, double photographed, uint8_t *met, uint8_t *acq,
                      float *quality)
{
    *met = gsl_rng_uniform(x->capture) < photographed;
    *acq = 0;
    *quality = 1;
    if (!*met)
        return;
    struct bx_subject s = subject_of(x, p->face);
    struct bx_traveller t = traveller_of(x, p, &s);
    struct bx_capture_outcome o;
    bx_capture_run(&md->capture, dev, &t, 1.0, x->capture, &o);
    if (o.excluded || o.opted_out)
        *met = 0;
    *acq = o.acquired && *met;
    *quality = (float)bx_capture_quality(&md->capture, &t);
}

static void entries_of_day(struct lc *x, long day)
{
    const struct bx_lc_config *c = x->cfg;
    double dd = (double)day;
    /* the calendar: start_day + day */
    long civil = c->start_day + day;
    int dow = (int)(((civil % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday: Monday = 0 */
    /* month from the civil day (Hinnant's civil_from_days) */
    long z = civil + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int month = (int)(mp < 10 ? mp + 3 : mp - 9) - 1;
    double f = c->weekly[dow] * c->monthly[month] * c->sample;
    struct entrant *e = NULL;
    size_t n = 0, cap = 0;
    for (size_t k = 0; k < c->n_classes; ++k) {
        const struct bx_lc_class *cl = &c->classes[k];
        for (int m = 0; m < BX_LC_N_MODES; ++m) {
            double mean = cl->arrivals_per_day[m] * f;
            unsigned a = mean > 0 ? gsl_ran_poisson(x->arrive, mean) : 0;
            for (unsigned j = 0; j < a; ++j) {
                double u = gsl_rng_uniform(x->arrive);
                uint8_t kind = u < cl->impostor_rate                        ? A_IMPOSTOR
                               : u < cl->impostor_rate + cl->watchlist_rate ? A_WATCH
                               : u < cl->impostor_rate + cl->watchlist_rate + cl->removal_rate
                                   ? A_REMOVAL
                                   : A_NORMAL;
                uint32_t i = new_person(x, (uint32_t)k, dd);
                if (i == NONE32 || !grow((void **)&e, &cap, n + 1, sizeof *e)) {
                    oom(x);
                    free(e);
                    return;
                }
                struct person *p = &x->p[i];
                if (kind == A_IMPOSTOR)
                    p->face = LC_ID_IMPOSTOR + i;
                else if (kind == A_WATCH)
                    p->face = p->doc =
                        LC_ID_WATCH + (int64_t)gsl_rng_uniform_int(x->lists, c->watchlist_size);
                else if (kind == A_REMOVAL)
                    p->face = p->doc =
                        LC_ID_REMOVAL + (int64_t)gsl_rng_uniform_int(x->lists, c->removal_size);
                p->kind = kind;
                e[n++] = (struct entrant){.person = i, .mode = (uint8_t)m, .kind = kind};
            }
        }
    }
    /* frequent crossers coming back, by the mode they left by */
    struct ivec *ret = &x->returns[(size_t)(day - x->day0)];
    for (size_t j = 0; j < ret->n; ++j) {
        uint32_t i = ret->v[j];
        if (!grow((void **)&e, &cap, n + 1, sizeof *e)) {
            oom(x);
            free(e);
            return;
        }
        e[n++] = (struct entrant){
            .person = i, .mode = x->s[x->p[i].stay].exit_mode, .kind = x->p[i].kind};
    }
    for (size_t j = 0; j < n; ++j) {
        const struct person *p = &x->p[e[j].person];
        const struct bx_lc_mode_config *md = &c->modes[e[j].mode];
        at_camera(x, p, md, md->entry_device, md->entry_photographed, &e[j].photographed,
                  &e[j].acquired, &e[j].quality);
    }
    size_t d = x->dim, chunk = n < ENTRY_CHUNK ? n : ENTRY_CHUNK;
    float *live = malloc((chunk ? chunk : 1) * d * sizeof *live);
    float *doc = malloc((chunk ? chunk : 1) * d * sizeof *doc);
    struct bx_tpl_job *jobs = malloc((chunk ? chunk : 1) * 2 * sizeof *jobs);
    struct bx_hit *hit = malloc((chunk ? chunk : 1) * sizeof *hit);
    size_t *nh = malloc((chunk ? chunk : 1) * sizeof *nh);
    if (!live || !doc || !jobs || !hit || !nh)
        oom(x);
    for (size_t j0 = 0; j0 < n && x->st == BX_OK; j0 += ENTRY_CHUNK) {
        size_t m = n - j0 < ENTRY_CHUNK ? n - j0 : ENTRY_CHUNK;
        process_entries(x, e + j0, m, dd, live, doc, jobs, hit, nh);
    }
    free(nh);
    free(hit);
    free(jobs);
    free(doc);
    free(live);
    free(e);
}

/* ---------------------------------------------------------------- exits */

/* Record a departure on stay @p si (if none yet). */
static void record_exit(struct lc *x, uint32_t si, double day)
{
    struct stay *s = &x->s[si];
    if (isnan(s->recorded_exit))
        s->recorded_exit = day;
}

/* Exits of @p n stays @p st[] by mode @p m on @p day: one staged gallery. */
static void exit_group(struct lc *x, int m, const uint32_t *st, size_t n, double day)
{
    const struct bx_lc_config *c = x->cfg;
    const struct bx_lc_mode_config *md = &c->modes[m];
    size_t d = x->dim, G = md->gallery_size;
    uint8_t *met = calloc(n, 1), *acq = calloc(n, 1), *staged = calloc(n, 1);
    float *qual = calloc(n, sizeof *qual);
    size_t n_real_max = n + (m >= BX_LC_VEHICLE ? IN_COUNTRY_STAGED : 0);
    /* staged photos and the copied part of the other travellers (the blocks are not copied) */
    size_t copied = G >= 4 * BLOCK_ROWS && x->n_blocks > 0 ? BLOCK_ROWS : G;
    float *gal = malloc((n_real_max + copied) * d * sizeof *gal);
    float *probes = malloc((n ? n : 1) * d * sizeof *probes);
    int64_t *gid = malloc((n_real_max + copied) * sizeof *gid);
    struct bx_tpl_job *jobs = malloc((2 * n + IN_COUNTRY_STAGED + 1) * sizeof *jobs);
    struct bx_hit *hit = malloc((n ? n : 1) * sizeof *hit),
                  *bhit = malloc((n ? n : 1) * sizeof *bhit);
    size_t *nh = malloc((n ? n : 1) * sizeof *nh), *pslot = malloc((n ? n : 1) * sizeof *pslot);
    size_t *bnh = malloc((n ? n : 1) * sizeof *bnh);
    if (!met || !acq || !staged || !qual || !gal || !probes || !gid || !jobs || !hit || !nh ||
        !pslot || !bhit || !bnh) {
        oom(x);
        goto done;
    }
    size_t nj = 0, ng = 0, npb = 0;
    for (size_t j = 0; j < n; ++j) {
        const struct person *p = &x->p[x->s[st[j]].person];
        at_camera(x, p, md, md->exit_device, md->exit_photographed, &met[j], &acq[j], &qual[j]);
        /* what TVS stages for this traveller: the BIMS photo, else the document's */
        bool has_bims = !isnan(p->bims_day);
        bool in = gsl_rng_uniform(x->stage) < md->staged_rate;
        staged[j] = in && has_bims ? 1 : in && md->stage_document ? 2 : 0;
        if (staged[j]) {
            uint32_t i = x->s[st[j]].person;
            jobs[nj++] =
                staged[j] == 1 ? bims_job(x, i, gal + ng * d) : doc_job(x, i, gal + ng * d);
            gid[ng++] = (int64_t)i;
        }
        pslot[j] = SIZE_MAX;
        if (acq[j]) {
            pslot[j] = npb;
            jobs[nj++] =
                (struct bx_tpl_job){x->gen, subject_of(x, p->face),
                                    (struct bx_capture){md->exit_device, qual[j], years_at(p, day)},
                                    (uint64_t)st[j] * 4 + 2, probes + npb++ * d};
        }
    }
    /* land: others in the country expected at the crossing */
    if (m >= BX_LC_VEHICLE)
        for (size_t k = 0; k < IN_COUNTRY_STAGED && x->incountry.n > 0; ++k) {
            uint32_t i = x->incountry.v[gsl_rng_uniform_int(x->stage, x->incountry.n)];
            if (isnan(x->p[i].bims_day) || ng >= G)
                continue;
            jobs[nj++] = bims_job(x, i, gal + ng * d);
            gid[ng++] = (int64_t)i;
        }
    bx_port_generate(jobs, nj, x->threads);
    /* Other travellers up to the gallery's size, from a random place in the pool: a large
     * gallery takes whole blocks (searched as they are) and copies only the rest. */
    size_t fill = ng < G ? G - ng : 0, whole = 0, b0 = 0;
    if (G >= 4 * BLOCK_ROWS && x->n_blocks > 0) {
        whole = fill / BLOCK_ROWS;
        b0 = gsl_rng_uniform_int(x->stage, x->n_blocks);
        size_t from = ((b0 + whole) % x->n_blocks) * BLOCK_ROWS;
        for (size_t k = 0; k < fill % BLOCK_ROWS; ++k) {
            memcpy(gal + ng * d, x->fillers + (from + k) * d, d * sizeof *gal);
            gid[ng++] = -1 - (int64_t)(from + k);
        }
    } else if (fill > 0) {
        size_t off = gsl_rng_uniform_int(x->stage, x->n_fillers);
        for (size_t k = 0; ng < G && k < x->n_fillers; ++k) {
            size_t f = (off + k) % x->n_fillers;
            memcpy(gal + ng * d, x->fillers + f * d, d * sizeof *gal);
            gid[ng++] = -1 - (int64_t)f;
        }
    }
    if (npb > 0) {
        struct bx_store *g = bx_store_alloc(d, ng, x->err);
        if (g == NULL || (x->st = bx_store_add(g, gal, ng, gid, NULL, x->err)) != BX_OK) {
            if (x->st == BX_OK)
                oom(x);
            bx_store_free(g);
            goto done;
        }
        struct bx_search_opts so = bx_search_opts_default();
        so.k = 1;
        so.threshold = x->thr_exit[m];
        so.threads = x->threads;
        so.fast = ng > 1024;
        x->st = bx_match_one_to_n(g, probes, npb, &so, hit, nh, x->err);
        bx_store_free(g);
        /* the whole blocks: a probe's best candidate over every part (the first on a tie) */
        for (size_t w = 0; w < whole && x->st == BX_OK; ++w) {
            const struct bx_store *blk = x->blocks[(b0 + w) % x->n_blocks];
            so.fast = true;
            x->st = bx_match_one_to_n(blk, probes, npb, &so, bhit, bnh, x->err);
            for (size_t q = 0; q < npb && x->st == BX_OK; ++q)
                if (bnh[q] == 1 && (nh[q] == 0 || bhit[q].score > hit[q].score)) {
                    hit[q] = bhit[q];
                    nh[q] = 1;
                }
        }
        if (x->st != BX_OK)
            goto done;
    }
    /* decisions, in order: the manifest, then the biometric links */
    bool rep = reported(x, day);
    uint64_t *fl = x->out->flows[m];
    for (size_t j = 0; j < n; ++j) {
        struct stay *s = &x->s[st[j]];
        uint32_t i = s->person;
        double pb = isnan(c->classes[s->klass].biographic[m]) ? md->biographic
                                                              : c->classes[s->klass].biographic[m];
        bool bio = gsl_rng_uniform(x->stage) < pb;
        uint8_t link = BX_LC_UNPHOTOGRAPHED;
        uint64_t linked = UINT64_MAX;
        double score = BX_NAN;
        if (acq[j]) {
            size_t a = pslot[j];
            link = BX_LC_LINKED_NONE;
            if (nh[a] == 1) {
                score = hit[a].score;
                int64_t who = hit[a].subject;
                link = who == (int64_t)i ? BX_LC_LINKED_RIGHT : BX_LC_LINKED_WRONG;
                linked = who >= 0 ? (uint64_t)who : UINT64_MAX;
                if (who == (int64_t)i)
                    record_exit(x, st[j], day);
                else if (who >= 0 && x->p[who].stay != NONE32)
                    record_exit(x, x->p[who].stay, day);
            }
        }
        if (bio)
            record_exit(x, st[j], day);
        if (isnan(s->recorded_exit))
            s->cause = md->exit_photographed == 0 && pb == 0 ? BX_LC_NO_RECORD
                       : !met[j]                             ? BX_LC_NOT_PHOTOGRAPHED
                       : !acq[j]                             ? BX_LC_FTA
                       : link == BX_LC_LINKED_WRONG          ? BX_LC_WRONG_LINK
                       : !staged[j]                          ? BX_LC_NOT_STAGED
                                                             : BX_LC_FALSE_NON_MATCH;
        if (rep) {
            fl[BX_LC_EXITS]++;
            fl[BX_LC_EXIT_PHOTOGRAPHED] += met[j];
            fl[BX_LC_EXIT_ACQUIRED] += acq[j];
            fl[BX_LC_LINK_RIGHT] += link == BX_LC_LINKED_RIGHT;
            fl[BX_LC_LINK_WRONG] += link == BX_LC_LINKED_WRONG;
            fl[BX_LC_LINK_NONE] += link == BX_LC_LINKED_NONE;
            fl[BX_LC_BIOGRAPHIC] += bio;
        }
        record(x, &(struct bx_lc_record){.person = i,
                                         .stay = st[j],
                                         .kind = 1,
                                         .klass = s->klass,
                                         .mode = (uint8_t)m,
                                         .outcome = link,
                                         .truth = met[j],
                                         .cause = 255,
                                         .flags = (uint8_t)(bio | acq[j] << 1 | staged[j] << 2),
                                         .day = day,
                                         .admit_until = s->admit_until,
                                         .score = score,
                                         .linked = linked});
    }
    /* recorded departures of this group (others' wrong links may add some later) */
    for (size_t j = 0; j < n; ++j) {
        struct stay *s = &x->s[st[j]];
        if (rep && !isnan(s->recorded_exit))
            fl[BX_LC_RECORDED]++;
        uint32_t i = s->person;
        country_leave(x, i);
        const struct bx_lc_class *cl = &c->classes[s->klass];
        if (cl->repeat_rate > 0 && gsl_rng_uniform(x->behave) < cl->repeat_rate) {
            double back = day + fmax(1, ceil(bx_dist_sample(&cl->repeat_gap, x->behave)));
            double idx = back - (double)x->day0;
            if (idx < (double)x->n_days && !ivec_push(&x->returns[(size_t)idx], i))
                oom(x);
        }
    }
done:
    free(bnh), free(bhit);
    free(pslot), free(nh), free(hit), free(jobs), free(gid), free(probes), free(gal);
    free(qual), free(staged), free(acq), free(met);
}

static void exits_of_day(struct lc *x, long day)
{
    struct ivec *ex = &x->exits[(size_t)(day - x->day0)];
    for (int m = 0; m < BX_LC_N_MODES && x->st == BX_OK; ++m) {
        size_t G = x->cfg->modes[m].gallery_size;
        size_t chunk = G < EXIT_CHUNK ? G : EXIT_CHUNK;
        uint32_t *grp = malloc((ex->n ? ex->n : 1) * sizeof *grp);
        if (grp == NULL) {
            oom(x);
            return;
        }
        size_t n = 0;
        for (size_t j = 0; j < ex->n; ++j)
            if (x->s[ex->v[j]].exit_mode == m)
                grp[n++] = ex->v[j];
        for (size_t j0 = 0; j0 < n && x->st == BX_OK; j0 += chunk)
            exit_group(x, m, grp + j0, n - j0 < chunk ? n - j0 : chunk, (double)day);
        free(grp);
    }
    free(ex->v);
    *ex = (struct ivec){0};
}

/* Retention: records whose deadline has come are deleted (tombstoned). */
static void expire(struct lc *x, double day)
{
    double keep = x->cfg->bims.retention_years * 365.25;
    while (x->fifo_head < x->fifo_n && x->fifo[x->fifo_head].day + keep <= day) {
        uint32_t i = x->fifo[x->fifo_head].person;
        struct person *p = &x->p[i];
        if (p->bims_day == x->fifo[x->fifo_head].day)
            p->bims_day = BX_NAN; /* the photo TVS could stage is gone */
        if (reported(x, x->fifo[x->fifo_head].day))
            x->out->store.expired++;
        x->fifo_head++;
    }
}

/* ---------------------------------------------------------------- the report */

static void evaluate(struct lc *x)
{
    const struct bx_lc_config *c = x->cfg;
    double eval = c->horizon_days;
    for (size_t si = 0; si < x->ns; ++si) {
        const struct stay *s = &x->s[si];
        if (isnan(s->admit_until) || s->admit_until < c->report_from ||
            s->admit_until >= c->report_to)
            continue;
        size_t k = s->klass;
        int m = s->entry_mode;
        (*count(x, k, m, BX_LC_EXPECTED))++;
        bool gone = s->true_exit < eval; /* departures are processed on days < eval */
        bool late = s->true_exit > s->admit_until;
        (*count(x, k, m, BX_LC_TRUE_OVERSTAY)) += late;
        (*count(x, k, m, BX_LC_TRUE_IN_COUNTRY)) += !gone;
        double rec = s->recorded_exit;
        struct bx_lc_record flag = {.person = s->person,
                                    .stay = si,
                                    .kind = 2,
                                    .klass = s->klass,
                                    .mode = s->entry_mode,
                                    .cause = 255,
                                    .day = s->admit_until,
                                    .admit_until = s->admit_until,
                                    .score = BX_NAN,
                                    .linked = UINT64_MAX};
        if (!isnan(rec)) {
            if (!gone)
                (*count(x, k, m, BX_LC_MISSED))++;
            if (rec <= s->admit_until) {
                (*count(x, k, m, BX_LC_ON_TIME))++;
            } else {
                (*count(x, k, m, BX_LC_OUT_OF_COUNTRY))++;
                (*count(x, k, m, late && gone ? BX_LC_OUT_TRUE : BX_LC_OUT_FALSE))++;
                double dl = rec - s->admit_until;
                x->out->delay_sum[m] += dl;
                x->out->delay_sq[m] += dl * dl;
                flag.outcome = 1;
                flag.truth = late && gone;
                flag.day = rec;
                record(x, &flag);
            }
        } else if (s->resolved && s->resolved_day < eval) {
            (*count(x, k, m, BX_LC_RESOLVED))++;
            x->out->resolve_sum += fmax(0, s->resolved_day - s->admit_until);
        } else {
            (*count(x, k, m, BX_LC_IN_COUNTRY))++;
            (*count(x, k, m, gone ? BX_LC_IN_COUNTRY_FALSE : BX_LC_IN_COUNTRY_TRUE))++;
            if (gone)
                (*count(x, k, m, BX_LC_CAUSE0 + s->cause))++;
            flag.outcome = 0;
            flag.truth = !gone;
            flag.cause = gone ? s->cause : 255;
            record(x, &flag);
        }
    }
    /* the records the store still holds of those enrolled in the horizon */
    x->out->store.live = 0;
    for (size_t i = x->fifo_head; i < x->fifo_n; ++i)
        x->out->store.live += reported(x, x->fifo[i].day);
    x->out->enrolled_per_day = (double)x->out->store.enrolled / c->sample / c->horizon_days;
}

/* ---------------------------------------------------------------- the run */

enum bx_status bx_lc_run(const struct bx_lc_config *cfg, uint64_t seed, uint32_t rep,
                         struct bx_lc_result *out, struct bx_error *err)
{
    double t0 = bx_wall_s();
    enum bx_status st = bx_lc_config_check(cfg, err);
    if (st != BX_OK)
        return st;
    size_t nk = out->n_classes;
    if (nk != cfg->n_classes)
        return BX_FAIL(err, BX_EINVAL, "lifecycle result sized for %zu classes, not %zu", nk,
                       cfg->n_classes);
    memset(out->counts, 0, nk * BX_LC_N_MODES * BX_LC_N_COUNTS * sizeof *out->counts);
    memset(out->flows, 0, sizeof out->flows);
    memset(out->delay_sum, 0, sizeof out->delay_sum);
    memset(out->delay_sq, 0, sizeof out->delay_sq);
    out->resolve_sum = 0;
    out->store = (struct bx_lc_store){0};
    out->n_records = 0;
    struct lc x = {.cfg = cfg,
                   .out = out,
                   .err = err,
                   .threads = cfg->threads ? cfg->threads : 1,
                   .records = cfg->records && rep == 0};
    struct bx_streams *rs = bx_streams_alloc(seed, rep, NULL, err);
    if (rs == NULL)
        return err->code;
    long first = -(long)ceil(cfg->warmup_days), last = (long)ceil(cfg->horizon_days);
    x.day0 = first;
    x.n_days = (size_t)(last - first);
    x.exits = calloc(x.n_days, sizeof *x.exits);
    x.returns = calloc(x.n_days, sizeof *x.returns);
    if (x.exits == NULL || x.returns == NULL)
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
    if (st == BX_OK)
        st = setup(&x, rs);
    x.st = st;
    for (long day = first; day < last && x.st == BX_OK; ++day) {
        expire(&x, (double)day);
        entries_of_day(&x, day);
        if (x.st == BX_OK)
            exits_of_day(&x, day);
        if (cfg->progress)
            cfg->progress(cfg->progress_ctx, rep, (double)(day - first + 1) / (double)x.n_days);
    }
    if (x.st == BX_OK)
        evaluate(&x);
    st = x.st;
    for (size_t i = 0; x.exits && i < x.n_days; ++i)
        free(x.exits[i].v);
    for (size_t i = 0; x.returns && i < x.n_days; ++i)
        free(x.returns[i].v);
    free(x.exits);
    free(x.returns);
    free(x.incountry.v);
    free(x.fifo);
    free(x.fillers);
    free(x.p);
    free(x.s);
    bx_store_free(x.lists_store);
    for (size_t b = 0; b < x.n_blocks; ++b)
        bx_store_free(x.blocks[b]);
    free(x.blocks);
    bx_tplgen_free(x.gen);
    bx_streams_free(rs);
    out->wall_s = bx_wall_s() - t0;
    return st;
}
