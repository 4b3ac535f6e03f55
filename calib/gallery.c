/* SPDX-License-Identifier: MIT */
/* gallery.c - synthetic galleries with their metadata (bx_calib_gallery; `bxsim gallery gen`).
 * Subjects are generated a slab at a time, the slab's subjects split over the threads; each
 * template is a pure function of (profile seed, subject, sample), so the gallery does not depend
 * on the thread count. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "bx/calib.h"

enum {
    COL_SEX,
    COL_AGE,
    COL_BAND,
    COL_REGION,
    COL_DEVICE,
    COL_QUALITY,
    COL_YEARS,
    COL_SAMPLE,
    COL_LOOKALIKE,
    COL_HARD,
    N_GEN_COLS
};

/* Subjects [s_begin, s_end) of a slab starting at subject s0: rows, ids and meta at the slab's
 * offsets, metadata columns at the global row. */
struct gen_part {
    const struct bx_tplgen *gen;
    const struct bx_demog_mix *mix;
    enum bx_device device;
    double quality, gap;
    uint64_t samples, first, s0, s_begin, s_end;
    float *rows;
    int64_t *ids;
    struct bx_tpl_meta *meta;
    double **cols;
};

static void *gen_worker(void *arg)
{
    struct gen_part *pt = arg;
    size_t d = bx_tplgen_dim(pt->gen);
    float c[BX_MODELS_DIM_MAX], w[BX_MODELS_DIM_MAX];
    /* Sample 0 is the enrolment photo; the others are taken `gap` years later and need the
     * ageing direction only when that is more than none. */
    float *aged = pt->samples > (pt->first > 1 ? pt->first : 1) && pt->gap != 0 ? w : NULL;
    for (uint64_t sidx = pt->s_begin; sidx < pt->s_end; ++sidx) {
        struct bx_subject sub;
        bx_tplgen_subject(pt->gen, (int64_t)sidx, pt->mix, &sub);
        bx_tplgen_prepare(pt->gen, &sub, c, aged);
        uint64_t per = pt->samples - pt->first; /* rows per subject */
        for (uint64_t k = pt->first; k < pt->samples; ++k) {
            size_t local = (size_t)((sidx - pt->s0) * per + (k - pt->first));
            size_t row = (size_t)(sidx * per + (k - pt->first));
            struct bx_capture cap = k == 0 ? (struct bx_capture){BX_DEVICE_DOCUMENT, 1.0, 0.0}
                                           : (struct bx_capture){pt->device, pt->quality, pt->gap};
            bool hard =
                bx_tplgen_capture_prepared(pt->gen, &sub, c, aged, &cap, k, pt->rows + local * d);
            pt->ids[local] = sub.id;
            pt->meta[local] = (struct bx_tpl_meta){cap.years_since_enrol * 365.25 * 86400, BX_INF,
                                                   BX_RETAIN_NONCITIZEN};
            double age = sub.age_years + cap.years_since_enrol;
            double vals[N_GEN_COLS] = {sub.sex,
                                       age,
                                       bx_age_band_of(age),
                                       sub.region,
                                       cap.device,
                                       cap.quality,
                                       cap.years_since_enrol,
                                       (double)k,
                                       (double)sub.lookalike_of,
                                       hard};
            for (int q = 0; q < N_GEN_COLS; ++q)
                pt->cols[q][row] = vals[q];
        }
    }
    return NULL;
}

const char *const bx_calib_gallery_columns[] = {
    "sex",    "age_years",    "age_band", "region", "device", "quality", "years_since_enrolment",
    "sample", "lookalike_of", "hard"};
const size_t bx_calib_gallery_n_columns = N_GEN_COLS;

struct bx_store *bx_calib_gallery(const struct bx_profile *p, const struct bx_calib_gallery_opts *o,
                                  struct bx_error *err)
{
    uint64_t subjects = o->subjects, samples = o->samples, first = o->first_sample;
    if (subjects == 0 || samples <= first)
        return BX_FAIL(err, BX_EINVAL,
                       first ? "probes only: at least two samples per subject (sample 0 is the "
                               "document photo, left out)"
                             : "a gallery needs at least one subject and one sample"),
               NULL;
    size_t d = p->params.dim, n = (size_t)(subjects * (samples - first));
    unsigned threads = o->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (unsigned)cores : 1;
    }
    if (threads > 64)
        threads = 64;
    struct bx_tplgen *gen = bx_tplgen_alloc(&p->params, err);
    /* Memory: the gallery itself (exactly sized) plus one slab of rows and its metadata. */
    struct bx_store *g = gen ? bx_store_alloc(d, n, err) : NULL;
    const size_t slab = 4096;
    float *rows = malloc(slab * samples * d * sizeof *rows);
    int64_t *ids = malloc(slab * samples * sizeof *ids);
    struct bx_tpl_meta *meta = malloc(slab * samples * sizeof *meta);
    double *cols[N_GEN_COLS] = {0};
    bool ok = gen && g && rows && ids && meta;
    for (int k = 0; ok && k < N_GEN_COLS; ++k)
        ok = (cols[k] = malloc(n * sizeof(double))) != NULL;
    if (!ok) {
        BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto fail;
    }
    size_t per_slab = slab / samples ? slab / samples : 1;
    for (uint64_t s0 = 0; s0 < subjects; s0 += per_slab) {
        uint64_t s1 = s0 + per_slab < subjects ? s0 + per_slab : subjects;
        struct gen_part parts[64];
        unsigned nt = threads;
        for (unsigned t = 0; t < nt; ++t)
            parts[t] = (struct gen_part){gen,
                                         &p->mix,
                                         o->device,
                                         o->quality,
                                         o->years_gap,
                                         samples,
                                         first,
                                         s0,
                                         s0 + (s1 - s0) * t / nt,
                                         s0 + (s1 - s0) * (t + 1) / nt,
                                         rows,
                                         ids,
                                         meta,
                                         cols};
        bx_fork_join(nt, gen_worker, parts, sizeof *parts);
        size_t filled = (size_t)((s1 - s0) * (samples - first));
        if (bx_store_add(g, rows, filled, ids, meta, err) != BX_OK)
            goto fail;
    }
    for (int q = 0; q < N_GEN_COLS; ++q) {
        enum bx_column_type ty = q == COL_AGE || q == COL_QUALITY || q == COL_YEARS
                                     ? BX_COLUMN_FLOAT64
                                     : BX_COLUMN_INT64;
        if (bx_store_set_column(g, bx_calib_gallery_columns[q], ty, cols[q], err) != BX_OK)
            goto fail;
    }
    goto done;
fail:
    bx_store_free(g);
    g = NULL;
done:
    for (int k = 0; k < N_GEN_COLS; ++k)
        free(cols[k]);
    free(meta);
    free(ids);
    free(rows);
    bx_tplgen_free(gen);
    return g;
}
