/* SPDX-License-Identifier: MIT */
/* common.h - the small shared base of bxsim: errors, random streams, aligned memory, files.
 *
 * Usage:
 *     struct bx_error err = {0};
 *     struct bx_streams *rs = bx_streams_alloc(seed, replication, &err);
 *     gsl_rng *arrivals = bx_streams_get(rs, "arrivals/gate-a", &err);
 *     double u = gsl_rng_uniform(arrivals);
 *     bx_streams_free(rs);              // frees every generator it handed out
 *
 * Ownership: every `_alloc` has a `_free` that accepts NULL. Thread safety: objects are not
 * shared between threads; distinct objects may be used from distinct threads at once. There is no
 * global mutable state in this module.
 */
#ifndef BX_COMMON_H
#define BX_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A quiet NaN of type double (C's NAN is a float and trips -Wdouble-promotion). */
#define BX_NAN (__builtin_nan(""))
/** Positive infinity of type double. */
#define BX_INF (__builtin_inf())

/** A function compiled for AVX-512 and AVX2 as well as the baseline, the version chosen when the
 *  program loads (GCC's target_clones). For element-wise loops: the same IEEE operations in the
 *  same order on every element, so the same numbers on any CPU (FMA contraction is off
 *  project-wide). Empty where the compiler or the target lacks it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BX_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BX_TARGET_CLONES
#endif

/* ---------------------------------------------------------------- errors */

/** Status codes returned by every fallible bxsim function. Append only. */
enum bx_status {
    BX_OK = 0,
    BX_EINVAL,  /**< invalid argument or value out of range */
    BX_ENOMEM,  /**< allocation failed */
    BX_EIO,     /**< file system or I/O failure */
    BX_EFORMAT, /**< malformed file contents */
    BX_EPARSE,  /**< syntax error in a text input (YAML, CSV) */
    BX_ESCHEMA, /**< well-formed input that breaks the schema: unknown field, wrong type */
    BX_EDIM,    /**< dimension mismatch */
    BX_ESEED,   /**< two random streams would share a seed */
    BX_ELIB,    /**< a third-party library reported a failure */
};

/** An error report owned by the caller. The first failure wins: later BX_FAIL calls keep it. */
struct bx_error {
    enum bx_status code;
    char msg[512];
    const char *file; /**< bxsim source file that raised it */
    int line;
    int src_line; /**< 1-based position in the user's input file; 0 when none */
    int src_col;
};

/**
 * Record a failure in @p err (which may be NULL) unless one is already recorded.
 * @return @p code, so that `return BX_FAIL(err, BX_EIO, "...")` reads naturally.
 */
enum bx_status bx_err_set(struct bx_error *err, enum bx_status code, const char *file, int line,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define BX_FAIL(err, code, ...) bx_err_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/** Forget a recorded failure. */
void bx_err_clear(struct bx_error *err);

/** A short constant name for a status ("invalid argument"). */
const char *bx_status_str(enum bx_status code);

/** The status @p err holds, or @p fallback when @p err is NULL or holds none: for returning a
 *  failure that a callee reported through @p err (which callers may pass as NULL). */
enum bx_status bx_err_code(const struct bx_error *err, enum bx_status fallback);

/** Abort with file, line and expression: for contract violations (bugs), never for bad input. */
_Noreturn void bx__require_fail(const char *file, int line, const char *expr);
#define BX_REQUIRE(expr) ((expr) ? (void)0 : bx__require_fail(__FILE__, __LINE__, #expr))

/* ---------------------------------------------------------------- memory */

/** Allocate @p size bytes aligned to 64 (zeroed). Free with bx_free_aligned(). NULL on failure. */
void *bx_alloc_aligned(size_t size);
void bx_free_aligned(void *p);

/**
 * Run @p fn on each of @p n items (item t at items + t * item_size): item 0 on the calling
 * thread, the others on threads of their own, and returns when all are done. An item whose
 * thread cannot be started runs on the calling thread, so the work is always done.
 */
void bx_fork_join(unsigned n, void *(*fn)(void *), void *items, size_t item_size);

/** Multiply two sizes; false when the product overflows. */
bool bx_size_mul(size_t a, size_t b, size_t *out);

/* ---------------------------------------------------------------- random streams */

/**
 * The 64-bit seed of stream @p name in replication @p replication of a run with @p master_seed.
 * A pure function: adding or removing other streams never changes it, so scenario variants that
 * use the same stream names share random numbers (common random numbers).
 */
uint64_t bx_rng_seed(uint64_t master_seed, uint32_t replication, const char *name);

/** MurmurHash3's 64-bit finalizer: a bijection with full avalanche, for deriving keys. */
uint64_t bx_hash64(uint64_t k);

/** The index in [0, n) that the uniform @p u in [0, 1) selects from probabilities @p p: the
 *  first i with u < p[0] + ... + p[i]; the last index takes whatever the others leave, so @p p
 *  need not sum to exactly 1. Draw u with gsl_rng_uniform. */
size_t bx_pick(double u, const double *p, size_t n);

/** bxsim's default GSL generator: xoshiro256++ seeded with all 64 bits through splitmix64. */
extern const gsl_rng_type *bx_rng_xoshiro256pp;

/** The set of named random streams of one replication. Not thread-safe; one per replication. */
struct bx_streams;

/**
 * @param[in] type generator type; NULL selects bx_rng_xoshiro256pp. Generators whose seed is
 *            narrower than 64 bits (GSL's mt19937 uses 32) get the seed folded to 32 bits.
 * @return a new set, or NULL with @p err set.
 */
struct bx_streams *bx_streams_alloc(uint64_t master_seed, uint32_t replication,
                                    const gsl_rng_type *type, struct bx_error *err);
void bx_streams_free(struct bx_streams *s);

/**
 * The generator for stream @p name, created on first use. The pointer stays valid until
 * bx_streams_free(). Fails with BX_ESEED if the stream's seed equals another stream's seed in this
 * set (two names that would produce the same numbers), BX_ENOMEM on allocation failure.
 */
gsl_rng *bx_streams_get(struct bx_streams *s, const char *name, struct bx_error *err);

/** Number of streams created so far and the i-th one's name and seed (for the stream map). */
size_t bx_streams_count(const struct bx_streams *s);
const char *bx_streams_name(const struct bx_streams *s, size_t i, uint64_t *seed);

/* ---------------------------------------------------------------- byte buffers */

/**
 * A growable byte buffer: results packed by one process and unpacked by another (bx/par.h).
 * Values are stored in the machine's own representation; writer and reader are the same build
 * of bxsim. A failed allocation sets `failed` and later puts are ignored, so a caller checks once
 * at the end.
 */
struct bx_buf {
    unsigned char *data;
    size_t len, cap;
    bool failed;
};
void bx_buf_fini(struct bx_buf *b); /* frees data; the buffer is empty again */
void bx_buf_put(struct bx_buf *b, const void *p, size_t n);
void bx_buf_put_u64(struct bx_buf *b, uint64_t v);
void bx_buf_put_f64(struct bx_buf *b, double v);
void bx_buf_put_str(struct bx_buf *b, const char *s); /* NULL is kept apart from "" */

/** Reads what a bx_buf holds; a read past the end sets `failed` and yields zeros. */
struct bx_reader {
    const unsigned char *p;
    size_t len, pos;
    bool failed;
};
bool bx_reader_get(struct bx_reader *r, void *p, size_t n);
uint64_t bx_reader_u64(struct bx_reader *r);
double bx_reader_f64(struct bx_reader *r);
/** A string put by bx_buf_put_str, newly allocated (NULL for a NULL put or on failure). */
char *bx_reader_str(struct bx_reader *r);
/** @p n elements of @p size bytes newly allocated and read (NULL for n = 0 or on failure). */
void *bx_reader_array(struct bx_reader *r, size_t n, size_t size);

/* ---------------------------------------------------------------- the k largest values */

/**
 * The k largest of a stream of values, in a min-heap over caller storage of k doubles: after the
 * pushes, bx_topk_min() is the k-th largest value seen (-inf while fewer than k were pushed). For
 * thresholds at a target false-match rate: the (m + 1)-th highest impostor score.
 *
 *     double store[11]; struct bx_topk t; bx_topk_init(&t, store, 11);
 *     for (...) bx_topk_push(&t, score);
 *     double eleventh = bx_topk_min(&t);
 */
struct bx_topk {
    double *v; /**< the heap (v[0] the smallest kept) */
    size_t k, n;
};
void bx_topk_init(struct bx_topk *t, double *storage, size_t k);
void bx_topk_push(struct bx_topk *t, double x);
double bx_topk_min(const struct bx_topk *t);

/* ---------------------------------------------------------------- files */

/**
 * Write @p len bytes to @p path atomically: a temporary file in the same directory is written,
 * flushed to disk and renamed over @p path. On failure @p path is untouched and no temporary
 * file is left behind.
 */
enum bx_status bx_file_write_atomic(const char *path, const void *data, size_t len,
                                    struct bx_error *err);

/**
 * Publish a finished temporary file: flush @p tmp to disk and rename it to @p path. On failure
 * @p tmp is removed and @p path untouched. For writers (HDF5) that produce the file themselves.
 */
enum bx_status bx_file_commit(const char *tmp, const char *path, struct bx_error *err);

/** Create directory @p path and its parents (mode 0777 & ~umask); existing ones are fine. */
enum bx_status bx_mkdir_p(const char *path, struct bx_error *err);

/* ---------------------------------------------------------------- outputs: all or nothing */

/**
 * An output folder whose files appear together. bx_outdir_open() creates DIR if needed, checks
 * that it can be written (before any work starts: BX_EINVAL names @p option) and opens a staging
 * folder inside it (DIR/.bxsim-stage.XXXXXX), where everything is written (bx_outdir_path).
 * bx_outdir_commit() flushes the staged files to disk and moves them into DIR - folders first
 * (exchanged whole with the folder they replace), JSON files last - then removes the staging
 * folder; bx_outdir_abort() removes it and leaves DIR as it was. The staging folder is removed
 * if SIGINT/SIGTERM/SIGHUP stops the process (see bx_temp_cleanup_on_signals).
 *
 *     struct bx_outdir o;
 *     if (bx_outdir_open(&o, "out", "--out", &err) != BX_OK) return 2;
 *     bx_outdir_path(&o, "summary.json", path, sizeof path, &err);   // write there
 *     if (failed) bx_outdir_abort(&o); else bx_outdir_commit(&o, &err);
 */
struct bx_outdir {
    char dir[4096];   /**< the target folder */
    char stage[4096]; /**< the staging folder inside it; "" once committed or aborted */
    int slot;         /**< its entry among the paths removed on a signal */
    bool created;     /**< the target folder was made by bx_outdir_open (removed again by
                           bx_outdir_abort when it is still empty) */
};
enum bx_status bx_outdir_open(struct bx_outdir *o, const char *dir, const char *option,
                              struct bx_error *err);
/** @p name's path inside the staging folder. */
enum bx_status bx_outdir_path(const struct bx_outdir *o, const char *name, char *buf, size_t len,
                              struct bx_error *err);
enum bx_status bx_outdir_commit(struct bx_outdir *o, struct bx_error *err);
void bx_outdir_abort(struct bx_outdir *o);

/**
 * Check, before any work, that @p path can be created as a file: not a folder, its folder
 * exists and is writable. BX_EINVAL with a message naming @p option otherwise.
 */
enum bx_status bx_out_file_check(const char *path, const char *option, struct bx_error *err);

/**
 * Temporary paths removed if the process is stopped by SIGINT, SIGTERM or SIGHUP (after
 * bx_temp_cleanup_on_signals, which a program calls once; the signal then takes its default
 * effect). bx_temp_register returns a slot for bx_temp_unregister (-1 when all 16 are taken:
 * the path is then not cleaned on a signal). Process-wide; safe from any thread.
 */
int bx_temp_register(const char *path);
void bx_temp_unregister(int slot);
void bx_temp_cleanup_on_signals(void);
/** Remove @p path and everything under it (at most 16 folders deep); no error if absent. */
void bx_rm_tree(const char *path);

/* ---------------------------------------------------------------- file checksums */

/**
 * bxsim's HDF5 files (results.h5, template files) start with a block of BX_FILESUM_BLOCK bytes
 * that HDF5 leaves to its user (the "user block": create the file with
 * H5Pset_userblock(fcpl, BX_FILESUM_BLOCK)) holding, as text, the file's length and a 64-bit hash
 * of every byte after the block. bx_file_stamp() writes it once the file is complete;
 * bx_file_verify() checks it before the file is parsed: BX_EFORMAT naming the file when the
 * block or the content is damaged, or when the file is neither HDF5 nor stamped. A plain HDF5
 * file (signature at byte 0, e.g. written by h5py) passes with *stamped = false.
 */
#define BX_FILESUM_BLOCK 512
enum bx_status bx_file_stamp(const char *path, struct bx_error *err);
enum bx_status bx_file_verify(const char *path, bool *stamped, struct bx_error *err);
/** The most bytes one dataset or string read from @p path can decode to (1100 x its size: deflate
 *  stores at most about 1032 bytes in one); 0 when @p path cannot be read. No size read from a
 *  file is trusted beyond it. */
double bx_file_read_limit(const char *path);

/** Days since 1970-01-01 of a strict YYYY-MM-DD date (1900 on); false if @p s is not one. */
bool bx_date_parse(const char *s, long *days);

/** Monotonic wall-clock seconds, for timing only (never inside a model). */
double bx_wall_s(void);

#ifdef __cplusplus
}
#endif
#endif /* BX_COMMON_H */
