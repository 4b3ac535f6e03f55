/* SPDX-License-Identifier: MIT */
/* h5io.c - HDF5 template files (docs/templates.md): load with full validation, save atomically.
 *
 * HDF5's automatic error printing is switched off; every negative return becomes BX_EFORMAT (or
 * BX_EIO for opening and writing) with the file and dataset named. Rows are read and written in
 * slabs so that a large gallery is never held twice in memory.
 */
#define _POSIX_C_SOURCE 200809L
#include "matcher_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#define SLAB_ROWS 65536

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Close an attribute, its type and its space (each when opened). */
static void close_attr(hid_t a, hid_t t, hid_t s)
{
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
}

/* The optional root attribute `provenance`: a string (fixed or variable length) of at most
 * BX_TPL_PROVENANCE_MAX bytes (its text up to a NUL); anything else is refused. */
static enum bx_status read_provenance(hid_t f, const char *path, struct bx_store *g,
                                      struct bx_error *err)
{
    if (H5Aexists(f, "provenance") <= 0)
        return BX_OK;
    hid_t a = H5Aopen(f, "provenance", H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    hid_t s = a >= 0 ? H5Aget_space(a) : -1;
    enum bx_status st = BX_OK;
    char *text = NULL;
    bool var = t >= 0 && H5Tis_variable_str(t) > 0;
    size_t size = t >= 0 ? H5Tget_size(t) : 0;
    if (t < 0 || s < 0 || H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_npoints(s) != 1 ||
        (!var && (size == 0 || size > BX_TPL_PROVENANCE_MAX))) {
        st = BX_FAIL(err, BX_EFORMAT,
                     "%s: root attribute 'provenance' must be one string of at "
                     "most %d bytes",
                     path, BX_TPL_PROVENANCE_MAX);
    } else {
        /* the file's own character set: HDF5 converts no string between ASCII and UTF-8 */
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (mt >= 0 && H5Tset_cset(mt, H5Tget_cset(t)) < 0) {
            H5Tclose(mt);
            mt = -1;
        }
        if (var) {
            char *vs = NULL;
            if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, &vs) < 0)
                st = BX_FAIL(err, BX_EFORMAT, "%s: cannot read root attribute 'provenance'", path);
            else if (vs && strlen(vs) > BX_TPL_PROVENANCE_MAX)
                st = BX_FAIL(err, BX_EFORMAT,
                             "%s: root attribute 'provenance' is longer than %d bytes", path,
                             BX_TPL_PROVENANCE_MAX);
            else if ((text = strdup(vs ? vs : "")) == NULL)
                st = BX_FAIL(err, BX_ENOMEM, "%s: out of memory", path);
            if (vs)
                H5free_memory(vs);
        } else if ((text = calloc(size + 1, 1)) == NULL) {
            st = BX_FAIL(err, BX_ENOMEM, "%s: out of memory", path);
        } else if (mt < 0 || H5Tset_size(mt, size) < 0 || H5Aread(a, mt, text) < 0) {
            st = BX_FAIL(err, BX_EFORMAT, "%s: cannot read root attribute 'provenance'", path);
        }
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (st == BX_OK)
        st = bx_store_set_provenance(g, text, err);
    free(text);
    close_attr(a, t, s);
    return st;
}

/* Read a scalar integer attribute of the root group. */
static enum bx_status read_attr(hid_t f, const char *path, const char *name, long long *out,
                                struct bx_error *err)
{
    if (H5Aexists(f, name) <= 0)
        return BX_FAIL(err, BX_EFORMAT, "%s: root attribute '%s' is missing", path, name);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    hid_t s = a >= 0 ? H5Aget_space(a) : -1;
    enum bx_status st = BX_OK;
    if (t < 0 || s < 0 || H5Tget_class(t) != H5T_INTEGER || H5Sget_simple_extent_npoints(s) != 1)
        st = BX_FAIL(err, BX_EFORMAT, "%s: root attribute '%s' must be one integer", path, name);
    else if (H5Aread(a, H5T_NATIVE_LLONG, out) < 0)
        st = BX_FAIL(err, BX_EFORMAT, "%s: cannot read root attribute '%s'", path, name);
    close_attr(a, t, s);
    return st;
}

/* Open dataset `name`, check its rank, class (and size when `size` > 0) and extents. */
static hid_t open_checked(hid_t f, const char *path, const char *name, int rank, H5T_class_t cls,
                          size_t size, hsize_t *dims, struct bx_error *err)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        BX_FAIL(err, BX_EFORMAT, "%s: dataset %s is missing", path, name);
        return -1;
    }
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) {
        BX_FAIL(err, BX_EFORMAT, "%s: %s is not a readable dataset", path, name);
        return -1;
    }
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    bool ok = t >= 0 && s >= 0;
    const char *want = cls == H5T_FLOAT ? (size == 4 ? "float32" : "floating point")
                                        : (size == 8 ? "int64" : "integer");
    if (ok && (H5Tget_class(t) != cls || (size && H5Tget_size(t) != size))) {
        BX_FAIL(err, BX_EFORMAT, "%s: dataset %s must be %s", path, name, want);
        ok = false;
    } else if (ok && H5Sget_simple_extent_ndims(s) != rank) {
        BX_FAIL(err, BX_EFORMAT, "%s: dataset %s must have %d dimension%s, has %d", path, name,
                rank, rank > 1 ? "s" : "", H5Sget_simple_extent_ndims(s));
        ok = false;
    } else if (ok) {
        H5Sget_simple_extent_dims(s, dims, NULL);
    } else {
        BX_FAIL(err, BX_EFORMAT, "%s: cannot inspect dataset %s", path, name);
    }
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    if (!ok) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

/* Read rows [r0, r0 + n) of a dataset of `cols` columns as `mem_type`. */
static herr_t read_rows(hid_t d, hid_t mem_type, hsize_t r0, hsize_t n, hsize_t cols, int rank,
                        void *buf)
{
    hid_t fs = H5Dget_space(d);
    hsize_t start[2] = {r0, 0}, count[2] = {n, cols};
    hid_t ms = H5Screate_simple(rank, count, NULL);
    herr_t rc =
        fs < 0 || ms < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0)
        rc = H5Dread(d, mem_type, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

struct meta_ctx {
    const char *path;
    hsize_t n, r0, total; /* rows [r0, r0 + n) of the file's total */
    hid_t meta;
    struct bx_store *g;
    double *buf;
    struct bx_error *err;
};

static herr_t load_meta_one(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    struct meta_ctx *c = data;
    (void)group;
    (void)info;
    char full[300];
    snprintf(full, sizeof full, "/meta/%s", name);
    hsize_t dims[1];
    hid_t d = H5Dopen2(c->meta, name, H5P_DEFAULT);
    if (d < 0) {
        BX_FAIL(c->err, BX_EFORMAT, "%s: %s is not a dataset", c->path, full);
        return -1;
    }
    hid_t t = H5Dget_type(d);
    H5T_class_t cls = H5Tget_class(t);
    H5Tclose(t);
    H5Dclose(d);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        BX_FAIL(c->err, BX_EFORMAT, "%s: dataset %s must be numeric (integer or float)", c->path,
                full);
        return -1;
    }
    d = open_checked(c->meta, c->path, name, 1, cls, 0, dims, c->err);
    if (d < 0)
        return -1;
    herr_t rc = 0;
    if (dims[0] != c->total) {
        BX_FAIL(c->err, BX_EFORMAT, "%s: dataset %s has %llu values for %llu templates", c->path,
                full, (unsigned long long)dims[0], (unsigned long long)c->total);
        rc = -1;
    } else if (c->n && read_rows(d, H5T_NATIVE_DOUBLE, c->r0, c->n, 1, 1, c->buf) < 0) {
        BX_FAIL(c->err, BX_EFORMAT, "%s: cannot read dataset %s", c->path, full);
        rc = -1;
    }
    H5Dclose(d);
    if (rc < 0)
        return -1;
    struct bx_store *g = c->g;
    if (strcmp(name, "enrol_time_s") == 0 || strcmp(name, "retain_until_s") == 0 ||
        strcmp(name, "retention_class") == 0) {
        for (hsize_t r = 0; r < c->n; ++r) {
            double v = c->buf[r];
            if (isnan(v) || (strcmp(name, "retention_class") == 0 && (v != 0 && v != 1))) {
                BX_FAIL(c->err, BX_EFORMAT, "%s: dataset %s: invalid value %g at index %llu",
                        c->path, full, v, (unsigned long long)(c->r0 + r));
                return -1;
            }
            if (strcmp(name, "enrol_time_s") == 0)
                g->meta[r].enrol_time_s = v;
            else if (strcmp(name, "retain_until_s") == 0)
                g->meta[r].retain_until_s = v;
            else
                g->meta[r].retention_class = (int)v;
        }
        return 0;
    }
    struct bx_error cerr = {0};
    if (bx_store_set_column(g, name, cls == H5T_INTEGER ? BX_COLUMN_INT64 : BX_COLUMN_FLOAT64,
                            c->buf, &cerr) != BX_OK) {
        BX_FAIL(c->err, BX_EFORMAT, "%s: dataset %s: %s", c->path, full, cerr.msg);
        return -1;
    }
    return 0;
}

/* floor(total * s / n) without overflow (total = a n + b: a s + floor(b s / n)). */
static hsize_t shard_start(hsize_t total, size_t s, size_t n)
{
    return total / n * s + total % n * s / n;
}

struct bx_store *bx_store_load_h5(const char *path, struct bx_error *err)
{
    size_t row0;
    return bx_store_load_h5_shard(path, 0, 1, &row0, err);
}

struct bx_store *bx_store_load_h5_shard(const char *path, size_t shard, size_t n_shards,
                                        size_t *row0, struct bx_error *err)
{
    *row0 = 0;
    if (n_shards == 0 || shard >= n_shards) {
        BX_FAIL(err, BX_EINVAL, "%s: shard %zu of %zu", path, shard, n_shards);
        return NULL;
    }
    pthread_once(&quiet_once, quiet);
    struct bx_store *g = NULL;
    float *slab = NULL;
    int64_t *ids = NULL;
    double *mbuf = NULL;
    hid_t tpl = -1, sid = -1;
    if (access(path, R_OK) != 0) {
        BX_FAIL(err, BX_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* A file bxsim wrote carries a checksum: a damaged one never reaches libhdf5. */
    struct stat sb;
    if (bx_file_verify(path, NULL, err) != BX_OK || stat(path, &sb) != 0) /* sb: for messages */
        return NULL;
    if (H5Fis_hdf5(path) <= 0) {
        BX_FAIL(err, BX_EFORMAT, "%s: not an HDF5 file (or truncated/corrupted)", path);
        return NULL;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        BX_FAIL(err, BX_EFORMAT, "%s: cannot open as HDF5 (truncated or corrupted?)", path);
        return NULL;
    }
    long long dim_attr, version;
    if (read_attr(f, path, "format_version", &version, err) != BX_OK ||
        read_attr(f, path, "dim", &dim_attr, err) != BX_OK)
        goto fail;
    if (version != BX_TPL_FORMAT_VERSION) {
        BX_FAIL(err, BX_EFORMAT, "%s: format_version %lld is not supported (this bxsim reads %d)",
                path, version, BX_TPL_FORMAT_VERSION);
        goto fail;
    }
    hsize_t tdims[2], sdims[1];
    tpl = open_checked(f, path, "/templates", 2, H5T_FLOAT, 4, tdims, err);
    if (tpl < 0)
        goto fail;
    sid = open_checked(f, path, "/subject_id", 1, H5T_INTEGER, 0, sdims, err);
    if (sid < 0)
        goto fail;
    if ((long long)tdims[1] != dim_attr) {
        BX_FAIL(err, BX_EFORMAT,
                "%s: dataset /templates has %llu columns but attribute dim is %lld", path,
                (unsigned long long)tdims[1], dim_attr);
        goto fail;
    }
    if (sdims[0] != tdims[0]) {
        BX_FAIL(err, BX_EFORMAT, "%s: dataset /subject_id has %llu entries for %llu templates",
                path, (unsigned long long)sdims[0], (unsigned long long)tdims[0]);
        goto fail;
    }
    hsize_t total = tdims[0], d = tdims[1];
    /* Sizes read from the file are checked against the file before anything is allocated:
     * deflate stores at most about 1032 values in a byte. */
    if (d > BX_TPL_DIM_MAX || (double)total * (4.0 * (double)d + 8) > bx_file_read_limit(path)) {
        BX_FAIL(err, BX_EFORMAT,
                "%s: dataset /templates claims %llu x %llu values, more than a file of %lld "
                "bytes can hold (damaged?)",
                path, (unsigned long long)total, (unsigned long long)d, (long long)sb.st_size);
        goto fail;
    }
    /* This shard's rows [first, first + n). */
    hsize_t first = shard_start(total, shard, n_shards);
    hsize_t n = shard_start(total, shard + 1, n_shards) - first;
    *row0 = (size_t)first;
    if (d < BX_TPL_DIM_MIN || d > BX_TPL_DIM_MAX) {
        BX_FAIL(err, BX_EFORMAT, "%s: dataset /templates: dimension %llu outside [%d, %d]", path,
                (unsigned long long)d, BX_TPL_DIM_MIN, BX_TPL_DIM_MAX);
        goto fail;
    }
    struct bx_error aerr = {0};
    g = bx_store_alloc((size_t)d, (size_t)n, &aerr);
    size_t slab_rows = n < SLAB_ROWS ? (size_t)n : SLAB_ROWS;
    slab = malloc((slab_rows ? slab_rows : 1) * d * sizeof *slab);
    ids = malloc((slab_rows ? slab_rows : 1) * sizeof *ids);
    if (g == NULL || slab == NULL || ids == NULL) {
        BX_FAIL(err, BX_ENOMEM, "%s: cannot allocate %llu templates of dimension %llu%s%s", path,
                (unsigned long long)n, (unsigned long long)d, aerr.code ? ": " : "", aerr.msg);
        goto fail;
    }
    for (hsize_t r0 = 0; r0 < n; r0 += slab_rows) {
        hsize_t m = n - r0 < slab_rows ? n - r0 : slab_rows;
        if (read_rows(tpl, H5T_NATIVE_FLOAT, first + r0, m, d, 2, slab) < 0 ||
            read_rows(sid, H5T_NATIVE_INT64, first + r0, m, 1, 1, ids) < 0) {
            BX_FAIL(err, BX_EFORMAT,
                    "%s: cannot read rows %llu-%llu of /templates or /subject_id "
                    "(truncated or corrupted?)",
                    path, (unsigned long long)(first + r0),
                    (unsigned long long)(first + r0 + m - 1));
            goto fail;
        }
        memset(&aerr, 0, sizeof aerr);
        if (bx_store_add(g, slab, (size_t)m, ids, NULL, &aerr) != BX_OK) {
            /* aerr names the row within the slab: make it absolute. */
            size_t row = 0;
            sscanf(aerr.msg, "template %zu", &row);
            const char *why = strchr(aerr.msg, ':');
            BX_FAIL(err, BX_EFORMAT, "%s: dataset /templates row %llu%s", path,
                    (unsigned long long)(first + r0 + row), why ? why : aerr.msg);
            goto fail;
        }
    }
    if (read_provenance(f, path, g, err) != BX_OK)
        goto fail;
    if (H5Lexists(f, "/meta", H5P_DEFAULT) > 0) {
        hid_t meta = H5Gopen2(f, "/meta", H5P_DEFAULT);
        mbuf = malloc((n ? n : 1) * sizeof *mbuf);
        if (meta < 0 || mbuf == NULL) {
            if (meta >= 0)
                H5Gclose(meta);
            BX_FAIL(err, BX_EFORMAT, "%s: /meta is not a readable group", path);
            goto fail;
        }
        struct meta_ctx c = {path, n, first, total, meta, g, mbuf, err};
        herr_t rc = H5Literate(meta, H5_INDEX_NAME, H5_ITER_INC, NULL, load_meta_one, &c);
        H5Gclose(meta);
        if (rc < 0) {
            BX_FAIL(err, BX_EFORMAT, "%s: cannot read /meta", path);
            goto fail;
        }
    }
    H5Dclose(sid);
    H5Dclose(tpl);
    H5Fclose(f);
    free(mbuf);
    free(ids);
    free(slab);
    return g;

fail:
    if (sid >= 0)
        H5Dclose(sid);
    if (tpl >= 0)
        H5Dclose(tpl);
    H5Fclose(f);
    free(mbuf);
    free(ids);
    free(slab);
    bx_store_free(g);
    return NULL;
}

/* ---------------------------------------------------------------- saving */

static herr_t write_string_attr(hid_t f, const char *name, const char *text)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    hid_t s = H5Screate(H5S_SCALAR);
    herr_t rc = t < 0 || s < 0 ? -1 : H5Tset_size(t, strlen(text) ? strlen(text) : 1);
    if (rc >= 0)
        rc = H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t a = rc < 0 ? -1 : H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    rc = a < 0 ? -1 : H5Awrite(a, t, text);
    close_attr(a, t, s);
    return rc;
}

static herr_t write_attr(hid_t f, const char *name, long long v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_LLONG, &v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return rc;
}

static hid_t create_ds(hid_t loc, const char *name, hid_t file_type, int rank, const hsize_t *dims)
{
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, file_type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(s);
    return d;
}

static herr_t write_rows(hid_t d, hid_t mem_type, hsize_t r0, hsize_t n, hsize_t cols, int rank,
                         const void *buf)
{
    hid_t fs = H5Dget_space(d);
    hsize_t start[2] = {r0, 0}, count[2] = {n, cols};
    hid_t ms = H5Screate_simple(rank, count, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0)
        rc = H5Dwrite(d, mem_type, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

/* Write the live values of a per-row double array as a 1-D dataset. */
static herr_t write_column(hid_t loc, const char *name, hid_t file_type, const struct bx_store *g,
                           const double *v, size_t stride_bytes, double *buf)
{
    hsize_t n = g->n_live;
    hid_t d = create_ds(loc, name, file_type, 1, &n);
    if (d < 0)
        return -1;
    size_t w = 0;
    for (size_t r = 0; r < g->n; ++r)
        if (g->live[r])
            buf[w++] = *(const double *)(const void *)((const char *)v + r * stride_bytes);
    herr_t rc = n ? write_rows(d, H5T_NATIVE_DOUBLE, 0, n, 1, 1, buf) : 0;
    H5Dclose(d);
    return rc;
}

enum bx_status bx_store_save_h5(const struct bx_store *g, const char *path, struct bx_error *err)
{
    pthread_once(&quiet_once, quiet);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    float *slab = malloc(SLAB_ROWS * g->dim * sizeof *slab);
    int64_t *ids = malloc(SLAB_ROWS * sizeof *ids);
    double *col = malloc((g->n ? g->n : 1) * sizeof *col);
    enum bx_status st = BX_OK;
    hid_t f = -1;
    int slot = -1;
    if (tmp == NULL || slab == NULL || ids == NULL || col == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    slot = bx_temp_register(tmp); /* removed if a signal stops the process */
    /* The first BX_FILESUM_BLOCK bytes are left to us: the checksum goes there at the end. */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0 && H5Pset_userblock(fcpl, BX_FILESUM_BLOCK) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (f < 0) {
        st = BX_FAIL(err, BX_EIO, "%s: cannot create '%s'", path, tmp);
        goto done;
    }
    herr_t rc = write_attr(f, "format_version", BX_TPL_FORMAT_VERSION);
    if (rc >= 0)
        rc = write_attr(f, "dim", (long long)g->dim);
    if (rc >= 0 && g->provenance)
        rc = write_string_attr(f, "provenance", g->provenance);
    hsize_t tdims[2] = {g->n_live, g->dim};
    hid_t tpl = rc < 0 ? -1 : create_ds(f, "/templates", H5T_IEEE_F32LE, 2, tdims);
    hid_t sid = tpl < 0 ? -1 : create_ds(f, "/subject_id", H5T_STD_I64LE, 1, tdims);
    rc = tpl < 0 || sid < 0 ? -1 : 0;
    size_t r = 0, w = 0;
    while (rc >= 0 && r < g->n) {
        size_t m = 0;
        for (; r < g->n && m < SLAB_ROWS; ++r) {
            if (!g->live[r])
                continue;
            memcpy(slab + m * g->dim, g->tpl + r * g->stride, g->dim * sizeof(float));
            ids[m++] = g->subject[r];
        }
        if (m == 0)
            break;
        rc = write_rows(tpl, H5T_NATIVE_FLOAT, w, m, g->dim, 2, slab);
        if (rc >= 0)
            rc = write_rows(sid, H5T_NATIVE_INT64, w, m, 1, 1, ids);
        w += m;
    }
    if (sid >= 0)
        H5Dclose(sid);
    if (tpl >= 0)
        H5Dclose(tpl);
    hid_t meta = rc < 0 ? -1 : H5Gcreate2(f, "/meta", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (meta < 0)
        rc = -1;
    if (rc >= 0) {
        size_t ms = sizeof(struct bx_tpl_meta);
        rc = write_column(meta, "enrol_time_s", H5T_IEEE_F64LE, g, &g->meta[0].enrol_time_s, ms,
                          col);
        if (rc >= 0)
            rc = write_column(meta, "retain_until_s", H5T_IEEE_F64LE, g, &g->meta[0].retain_until_s,
                              ms, col);
        if (rc >= 0) {
            /* retention_class is an int in memory: widen through a temporary. */
            double *cls = malloc((g->n ? g->n : 1) * sizeof *cls);
            for (size_t i = 0; cls && i < g->n; ++i)
                cls[i] = g->meta[i].retention_class;
            rc = cls ? write_column(meta, "retention_class", H5T_STD_I32LE, g, cls, sizeof(double),
                                    col)
                     : -1;
            free(cls);
        }
        for (size_t j = 0; rc >= 0 && j < g->n_cols; ++j)
            rc = write_column(meta, g->cols[j].name,
                              g->cols[j].type == BX_COLUMN_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE,
                              g, g->cols[j].v, sizeof(double), col);
    }
    if (meta >= 0)
        H5Gclose(meta);
    if (rc < 0) {
        st = BX_FAIL(err, BX_EIO, "%s: cannot write templates to '%s'", path, tmp);
        goto done;
    }
    herr_t closed = H5Fclose(f);
    f = -1;
    if (closed < 0) {
        st = BX_FAIL(err, BX_EIO, "%s: cannot close '%s'", path, tmp);
        goto done;
    }
    /* HDF5 has closed the file: stamp its checksum, make its bytes durable, publish it. */
    st = bx_file_stamp(tmp, err);
    if (st == BX_OK)
        st = bx_file_commit(tmp, path, err);
done:
    if (f >= 0)
        H5Fclose(f);
    if (st != BX_OK && tmp)
        unlink(tmp);
    bx_temp_unregister(slot);
    free(col);
    free(ids);
    free(slab);
    free(tmp);
    return st;
}
