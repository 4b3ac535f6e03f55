/* SPDX-License-Identifier: MIT */
/* matcher.h - the matching engine: template galleries, 1:1 verification, 1:N identification,
 * thresholds and HDF5 template files. Stands on its own: no simulator types.
 *
 * Usage:
 *     struct bx_store *g = bx_store_load_h5("gallery.h5", &err);     // or bx_store_alloc + add
 *     struct bx_search_opts o = bx_search_opts_default();              // k = 10, exact, auto
 * threads struct bx_hit hits[n_probes * o.k]; size_t n_hits[n_probes]; bx_match_one_to_n(g, probes,
 * n_probes, &o, hits, n_hits, &err); bx_store_free(g);
 *
 * Templates are float32 vectors of dimension dim (128 to 1024 in practice, 512 by default); the
 * store keeps them unit-norm (inputs are normalised, and rejected when not finite or of zero
 * norm) and the score is the cosine, i.e. the dot product of the stored unit vectors.
 *
 * Exactness: the exact path returns the same hits, in the same order, as a double-precision brute
 * force over the stored float32 vectors (ties broken by lower gallery index). It selects
 * candidates with float32 SGEMM in gallery blocks, keeps every candidate within a rigorous
 * rounding bound of the k-th score, and re-scores those in double, so the answer does not depend
 * on blocking or thread count. The fast path short-lists with int8 arithmetic (per-template scale;
 * AVX-512 VNNI or AVX2 chosen at run time, portable C otherwise) and re-scores the short list the
 * same way, so its scores are exact and only the candidate set is approximate.
 *
 * Ownership: `_alloc`/`_load` objects are freed with bx_store_free(). Thread safety: searches on
 * one store may run concurrently; adding, removing and compacting need exclusive access.
 *
 * Process-wide effects: the first search sets OpenBLAS to one thread per call
 * (openblas_set_num_threads(1): the matcher spreads gallery ranges over its own threads); the
 * first HDF5 call switches off HDF5's automatic error printing (H5Eset_auto2; errors come back
 * as bx_error naming the file and dataset). CPU features are detected once (pthread_once).
 * HDF5 files written here start with a checksum block (bx_file_stamp in bx/common.h), checked
 * before a file is read.
 */
#ifndef BX_MATCHER_H
#define BX_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BX_TPL_DIM_MIN 8
#define BX_TPL_DIM_MAX 4096
#define BX_TPL_DIM_DEFAULT 512

/** Version of the HDF5 template file format written by bx_store_save_h5 (docs/templates.md). */
#define BX_TPL_FORMAT_VERSION 1

/* ================================================================ templates */

/**
 * Normalise @p v[dim] to unit length in place (computed in double).
 * Fails with BX_EINVAL when a component is not finite or the norm is zero; @p v is then unchanged.
 */
enum bx_status bx_tpl_normalize(float *v, size_t dim, struct bx_error *err);

/** 1:1 verification: the cosine of two templates, computed in double (any norms > 0). */
double bx_match_verify(const float *a, const float *b, size_t dim);

/* ================================================================ galleries */

/** Retention classes (docs/architecture.md: U.S. citizens' photos are purged within 12 h). Append
 * only. */
enum bx_retention { BX_RETAIN_NONCITIZEN = 0, BX_RETAIN_US_CITIZEN = 1 };

/** Built-in metadata of a template. */
struct bx_tpl_meta {
    double enrol_time_s;   /**< when the template was enrolled (s, any epoch) */
    double retain_until_s; /**< removed by bx_store_remove_expired(now >= this); INF: forever */
    int retention_class;   /**< enum bx_retention */
};

struct bx_store;

/** @param capacity_hint rows to reserve (0: grow on demand). NULL with @p err on failure. */
struct bx_store *bx_store_alloc(size_t dim, size_t capacity_hint, struct bx_error *err);
void bx_store_free(struct bx_store *g);

/**
 * Append @p n templates (row-major, n * dim floats), normalising each. @p subject_ids[n] is
 * required; @p meta[n] may be NULL (enrolled at 0, kept forever, non-citizen). All rows are
 * checked before any is added: on failure the store is unchanged and the message names the row.
 */
enum bx_status bx_store_add(struct bx_store *g, const float *tpl, size_t n,
                            const int64_t *subject_ids, const struct bx_tpl_meta *meta,
                            struct bx_error *err);

/** Tombstone every live row of @p subject_id; @return rows removed. */
size_t bx_store_remove_subject(struct bx_store *g, int64_t subject_id);
/** Tombstone every live row with retain_until_s <= @p now_s; @return rows removed. */
size_t bx_store_remove_expired(struct bx_store *g, double now_s);
/** Drop tombstoned rows; row indices of later rows shift down. @return rows dropped. */
size_t bx_store_compact(struct bx_store *g);

size_t bx_store_dim(const struct bx_store *g);
size_t bx_store_rows(const struct bx_store *g); /**< including tombstones */
size_t bx_store_live(const struct bx_store *g); /**< excluding tombstones */
bool bx_store_is_live(const struct bx_store *g, size_t row);
/** Row @p row's unit vector (dim floats), valid until the next add or compact. */
const float *bx_store_row(const struct bx_store *g, size_t row);
int64_t bx_store_subject(const struct bx_store *g, size_t row);
struct bx_tpl_meta bx_store_meta(const struct bx_store *g, size_t row);

/** Extra numeric metadata columns (one value per row), persisted under /meta/ in HDF5. */
enum bx_column_type { BX_COLUMN_INT64, BX_COLUMN_FLOAT64 };
/**
 * Set column @p name (letters, digits, '_'; not a built-in name) to @p values[rows]; replaces an
 * existing column. Rows added later get 0. Int64 columns hold integers exactly up to 2^53.
 */
enum bx_status bx_store_set_column(struct bx_store *g, const char *name, enum bx_column_type type,
                                   const double *values, struct bx_error *err);
size_t bx_store_columns(const struct bx_store *g);
/** Column @p j's name and type; its values (rows) valid until the next add or compact. */
const double *bx_store_column(const struct bx_store *g, size_t j, const char **name,
                              enum bx_column_type *type);

/* ================================================================ HDF5 template files */

/**
 * Load a template file (docs/templates.md): /templates float32 [N][d], /subject_id int64 [N],
 * optional numeric /meta/<name> [N], root attributes `dim` and `format_version`. Wrong shapes,
 * types, missing datasets, non-finite or zero rows fail with BX_EFORMAT (BX_EIO when the file
 * cannot be opened) and a message that names the file and the dataset.
 */
struct bx_store *bx_store_load_h5(const char *path, struct bx_error *err);

/**
 * Load one shard of a template file, for a search spread over processes (bx/par.h): rows
 * [N * shard / n_shards, N * (shard + 1) / n_shards) of its N, with their metadata; *row0 is the
 * first one's index in the file. Checks as bx_store_load_h5 (on the shard's rows).
 */
struct bx_store *bx_store_load_h5_shard(const char *path, size_t shard, size_t n_shards,
                                        size_t *row0, struct bx_error *err);

/** The most bytes of a template file's `provenance` attribute. */
#define BX_TPL_PROVENANCE_MAX 65536

/**
 * How the rows were made, saved as the file's root attribute `provenance` (UTF-8 text; bxsim
 * writes a JSON object: generator, version, profile, seed, samples...; docs/templates.md) and
 * read back by bx_store_load_h5; NULL clears it. BX_EINVAL above BX_TPL_PROVENANCE_MAX bytes.
 */
enum bx_status bx_store_set_provenance(struct bx_store *g, const char *text, struct bx_error *err);
/** The provenance text, or NULL when the rows have none. */
const char *bx_store_provenance(const struct bx_store *g);

/** Write the live rows of @p g to @p path atomically (temporary file, then rename). */
enum bx_status bx_store_save_h5(const struct bx_store *g, const char *path, struct bx_error *err);

/* ================================================================ 1:N search */

struct bx_search_opts {
    size_t k;         /**< hits per probe (>= 1) */
    double threshold; /**< only hits with score >= threshold; -BX_INF: none */
    bool fast;        /**< int8 short list + exact re-scoring */
    unsigned threads; /**< 0: automatic (one per core when the work is large enough) */
};
struct bx_search_opts bx_search_opts_default(void);

struct bx_hit {
    double score;    /**< cosine, computed in double */
    int64_t row;     /**< gallery row index */
    int64_t subject; /**< the row's subject id */
};

/**
 * Identify @p n_q probes (row-major, n_q * dim floats, any norm > 0) against the live rows of
 * @p g. For probe q, hits[q * k .. q * k + n_hits[q]) hold its hits by descending score (ties:
 * lower row first); unused entries have row = -1. The full probe x gallery score matrix is never
 * materialised. Results do not depend on o->threads.
 * @param[out] hits n_q * k entries. @param[out] n_hits n_q entries.
 */
enum bx_status bx_match_one_to_n(const struct bx_store *g, const float *probes, size_t n_q,
                                 const struct bx_search_opts *o, struct bx_hit *hits,
                                 size_t *n_hits, struct bx_error *err);

/** A candidate from one shard of a gallery (bx_match_shard), to be merged with the others'. */
struct bx_shard_hit {
    struct bx_hit hit; /**< exact score; row in the whole gallery (the shard's row0 added) */
    float approx;      /**< the int8 score that short-listed it (fast search), NaN: exact */
};

/** Candidates per probe bx_match_shard may return: k, or a fast search's short list. */
size_t bx_match_shard_cap(const struct bx_search_opts *o);

/**
 * Search one shard @p g of a larger gallery, whose first row is row @p row0 of the whole: for
 * probe q, out[q * cap .. q * cap + n_out[q]) (cap = bx_match_shard_cap(o)) hold the candidates
 * bx_match_merge needs so that merging every shard's equals bx_match_one_to_n on the whole
 * gallery (an exact search: its top k; a fast one: its int8 short list, re-scored).
 */
enum bx_status bx_match_shard(const struct bx_store *g, size_t row0, const float *probes,
                              size_t n_q, const struct bx_search_opts *o, struct bx_shard_hit *out,
                              size_t *n_out, struct bx_error *err);

/**
 * Merge one probe's candidates from every shard (@p cand, @p n of them, any order; reordered)
 * into its hits (at most o->k, as bx_match_one_to_n orders them). @return the number of hits.
 */
size_t bx_match_merge(const struct bx_search_opts *o, struct bx_shard_hit *cand, size_t n,
                      struct bx_hit *hits);

/**
 * Every score of @p n_q probes against every row of @p g (tombstoned rows included, so that
 * out[q * rows + r] is row r): an explicit, materialised score matrix for audits and
 * calibration of modest sizes (n_q * rows floats; float32 SGEMM, within the rounding bound of
 * the exact scores). Probes are normalised like bx_match_one_to_n's.
 */
enum bx_status bx_match_scores(const struct bx_store *g, const float *probes, size_t n_q,
                               float *out, struct bx_error *err);

/**
 * bx_match_scores of @p n_q probes in blocks of @p block, spread over up to @p threads threads
 * for score matrices too large to hold at once (calibration samples of n^2 scores): block b
 * (probes [b block, b block + nb)) goes to thread b mod T, which calls
 * fn(ctx + t ctx_size, b block, nb, scores) with the block's nb x rows scores. Each thread has
 * its own context, so a callback that only accumulates into it needs no lock. The scores are
 * bx_match_scores' of each block (SGEMM's rounding depends on the block size, never on the
 * thread count); what a callback accumulates must not depend on the order of blocks if the
 * result is not to depend on the thread count. Returns the first failure.
 */
enum bx_status bx_match_score_blocks(const struct bx_store *g, const float *probes, size_t n_q,
                                     size_t block, unsigned threads,
                                     void (*fn)(void *ctx, size_t q0, size_t nq,
                                                const float *scores),
                                     void *ctx, size_t ctx_size, struct bx_error *err);

/** What serves a call of @p n_q probes: "f32-stream" (fewer than 4 probes, exact),
 *  "f32-microkernel" (4 to 64 probes, exact, where the CPU has AVX-512: register-blocked, no
 *  packing), "sgemm" (batches, exact; also the fast path's choice for 512 or more probes on CPUs
 *  without VNNI or AMX), or "int8-amx" / "int8-avx512-vnni" / "int8-avx2" / "int8-portable"
 *  (fast path). BX_MATCH_NO_MICROKERNEL set: SGEMM instead of the micro-kernel (benchmarks). */
const char *bx_match_engine(bool fast, size_t n_q);

/** The int8 kernel the fast path uses on this CPU: "amx-int8" (where Linux grants the process
 *  the AMX tile state), "avx512-vnni", "avx2" or "portable". BX_MATCH_ISA=portable|avx2|
 *  avx512-vnni|amx-int8 forces a kernel the CPU supports (tests, benchmarks). */
const char *bx_match_fast_isa(void);

/** The int8 kernels this CPU runs, best first (at most 4 names into @p names); @return how
 *  many. */
size_t bx_match_i8_kernels(const char **names, size_t max);
/** Probes int8 kernel @p name takes per pass over the index (0 for an unknown name). */
size_t bx_match_i8_probes_per_pass(const char *name);

/**
 * The compute ceiling of int8 kernel @p name on the calling thread: int8 multiply-adds per
 * second of its core instruction on register- or tile-resident operands (AMX: tdpbssd into four
 * tiles; AVX-512 VNNI: vpdpbusd into twelve registers; AVX2: vpmaddubsw, vpaddw, vpmaddwd,
 * vpaddd as the kernel uses them; portable: the portable kernel on rows in L1), timed over
 * about @p seconds. NaN when this CPU cannot run the kernel. For `bxsim bench` (bench/matcher.c),
 * which divides measured throughputs by it.
 */
double bx_match_i8_peak(const char *name, double seconds);

/* ================================================================ thresholds */

/**
 * The smallest observed score t such that the empirical FMR, #(impostor >= t) / n, is at most
 * @p target_fmr; when even the highest score is too frequent, the next float above it (no
 * impostor matches). NaN scores count as non-matches. @p n >= 1, 0 <= target_fmr < 1.
 */
double bx_threshold_at_fmr(const double *impostor, size_t n, double target_fmr);

/** Sort @p n scores in descending order (for bx_threshold_at_fmr_sorted). */
void bx_scores_sort_desc(double *scores, size_t n);

/** bx_threshold_at_fmr on scores already sorted by bx_scores_sort_desc, without NaN: many
 *  thresholds from one sample cost one sort. */
double bx_threshold_at_fmr_sorted(const double *desc, size_t n, double target_fmr);
/** The same from only the @p m highest of @p n scores (descending, no NaN), e.g. kept by a
 *  bx_topk heap: exact when m exceeds floor(target_fmr n) plus the ties at the threshold. */
double bx_threshold_at_fmr_top(const double *desc, size_t m, size_t n, double target_fmr);

/** A threshold beyond what a sample resolves, from a model of its upper tail. */
struct bx_tail_threshold {
    double value;       /**< the score with exceedance probability target_fmr under the model */
    double lo, hi;      /**< 95% bootstrap interval of value (NaN when it could not be formed) */
    double xi, sigma;   /**< generalised Pareto shape and scale of the exceedances over u */
    double u;           /**< the tail's level: the (k + 1)-th highest score */
    size_t exceedances; /**< k */
};

/**
 * The threshold at @p target_fmr from the @p k + 1 highest of @p n scores (descending, no NaN):
 * a generalised Pareto distribution fitted by probability-weighted moments (Hosking and Wallis
 * 1987) to the k exceedances over u = desc[k] models P(score > t) = (k / n) (1 + xi (t - u) /
 * sigma)^(-1 / xi) for t >= u, and value solves P = target_fmr. The interval is the 2.5 and
 * 97.5 percentiles over @p boot resamplings of the exceedances (deterministic in @p seed).
 * Meant for targets below what the sample resolves (target_fmr n well under 30) with k of a few
 * hundred to a few thousand. False when the moments admit no fit (e.g. all exceedances 0).
 */
bool bx_threshold_tail(const double *desc, size_t k, size_t n, double target_fmr, unsigned boot,
                       uint64_t seed, struct bx_tail_threshold *out);

/** Empirical FMR at threshold @p t: #(impostor >= t) / n. */
double bx_fmr_at(const double *impostor, size_t n, double t);

/**
 * FPIR of a 1:N search against @p n_gallery non-mated templates at a threshold whose 1:1 FMR is
 * @p fmr, assuming independent comparisons: 1 - (1 - fmr)^N (computed stably).
 */
double bx_fpir_expected(double fmr, size_t n_gallery);

#ifdef __cplusplus
}
#endif
#endif /* BX_MATCHER_H */
