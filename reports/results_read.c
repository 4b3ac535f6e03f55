/* SPDX-License-Identifier: MIT */
/* results_read.c - a ports run's results.h5 read back (bx_rpt_results_read): the one reader of
 * the file, used by `bxsim report` and `bxsim audit --run`. The checksum is verified before
 * libhdf5 sees the file, and no size read from it is trusted beyond the file's own size. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "bx/report.h"

struct reader {
    const char *file;
    struct bx_error *err;
    double max_bytes; /* no dataset or string read from the file may be larger */
};

static enum bx_status bad(struct reader *rd, const char *what)
{
    return BX_FAIL(rd->err, BX_EPARSE,
                   "%s: %s missing or malformed (not a bxsim ports results file?)", rd->file, what);
}

/* A string attribute (variable or fixed length), or NULL. */
static char *attr_string(const struct reader *rd, hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ft = a < 0 ? -1 : H5Aget_type(a);
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            char *v = NULL;
            if (H5Aread(a, mt, &v) >= 0 && v != NULL) {
                out = strdup(v);
                H5free_memory(v);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            out = (double)n <= rd->max_bytes ? calloc(n + 1, 1) : NULL;
            if (out && H5Aread(a, ft, out) < 0) {
                free(out);
                out = NULL;
            }
        }
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

static bool attr_doubles(hid_t loc, const char *name, double *out, size_t n)
{
    if (H5Aexists(loc, name) <= 0)
        return false;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t s = a < 0 ? -1 : H5Aget_space(a);
    bool ok = s >= 0 && (size_t)H5Sget_simple_extent_npoints(s) == n &&
              H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0;
    if (s >= 0)
        H5Sclose(s);
    if (a >= 0)
        H5Aclose(a);
    return ok;
}

/* A numeric dataset of rank <= 2 converted to @p mem_type; dims[] set (dims[1] = 1 for rank 1). */
static void *read_dataset(const struct reader *rd, hid_t loc, const char *path, hid_t mem_type,
                          size_t elem, hsize_t dims[2])
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    hid_t s = d < 0 ? -1 : H5Dget_space(d);
    int rank = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    void *buf = NULL;
    if (rank >= 1 && rank <= 2) {
        hsize_t dd[2] = {0, 1};
        H5Sget_simple_extent_dims(s, dd, NULL);
        dims[0] = dd[0];
        dims[1] = rank == 2 ? dd[1] : 1;
        size_t n = (size_t)(dims[0] * dims[1]);
        bool fits = (double)dims[0] * (double)dims[1] * (double)elem <= rd->max_bytes;
        buf = fits ? malloc((n ? n : 1) * elem) : NULL;
        if (buf && n && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            buf = NULL;
        }
    }
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return buf;
}

void bx_rpt_results_fini(struct bx_rpt_results *d)
{
    json_decref(d->summary);
    json_decref(d->resolved);
    free(d->scenario);
    free(d->scenario_file);
    free(d->scenario_yaml);
    free(d->profile);
    free(d->profile_yaml);
    free(d->version);
    free(d->git);
    free(d->libraries);
    for (size_t i = 0; d->ports && i < d->n_ports; ++i) {
        struct bx_rpt_port *p = &d->ports[i];
        free(p->arrivals);
        free(p->mean_wait);
        free(p->queue);
        free(p->busy);
        free(p->capacity);
        free(p->cdf);
        free(p->levels);
    }
    free(d->ports);
    free(d->verify);
    free(d->impostor);
    free(d->mated);
    free(d->sex);
    free(d->age_band);
    free(d->region);
    free(d->device);
    free(d->port);
    free(d->subject);
    free(d->impostor_subject);
    memset(d, 0, sizeof *d);
}

static enum bx_status read_port(struct reader *rd, hid_t f, const char *name, struct bx_rpt_port *p)
{
    char path[512], what[600];
    snprintf(p->name, sizeof p->name, "%s", name);
    if (snprintf(path, sizeof path, "/ports/%s", name) >= (int)sizeof path)
        return bad(rd, "a port name");
    if (H5Lexists(f, "/ports", H5P_DEFAULT) <= 0 || H5Lexists(f, path, H5P_DEFAULT) <= 0) {
        snprintf(what, sizeof what, "group %s", path);
        return bad(rd, what);
    }
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    char *type = attr_string(rd, g, "type"), *lane = attr_string(rd, g, "lane_kind");
    snprintf(p->type, sizeof p->type, "%s", type ? type : "?");
    snprintf(p->lane_kind, sizeof p->lane_kind, "%s", lane ? lane : "camera");
    free(type);
    free(lane);
    if (!attr_doubles(g, "gallery_size", &p->gallery_size, 1))
        p->gallery_size = BX_NAN;
    if (!attr_doubles(g, "thresholds", p->thresholds, 3))
        p->thresholds[0] = p->thresholds[1] = p->thresholds[2] = BX_NAN;
    static const char *const sets[] = {"hourly/arrivals", "hourly/mean_wait_s", "hourly/queue",
                                       "hourly/busy", "hourly/capacity"};
    double **dst[] = {&p->arrivals, &p->mean_wait, &p->queue, &p->busy, &p->capacity};
    enum bx_status st = BX_OK;
    for (int k = 0; k < 5 && st == BX_OK; ++k) {
        hsize_t dims[2];
        *dst[k] = read_dataset(rd, g, sets[k], H5T_NATIVE_DOUBLE, sizeof(double), dims);
        if (*dst[k] == NULL || (k > 0 && (dims[0] != p->R || dims[1] != p->H))) {
            snprintf(what, sizeof what, "dataset %s/%s", path, sets[k]);
            st = bad(rd, what);
        }
        p->R = (size_t)dims[0];
        p->H = (size_t)dims[1];
    }
    if (st == BX_OK) {
        hsize_t dims[2];
        p->cdf = read_dataset(rd, g, "wait_cdf_s", H5T_NATIVE_DOUBLE, sizeof(double), dims);
        p->K = p->cdf ? (size_t)dims[1] : 0;
        p->levels = malloc((p->K ? p->K : 1) * sizeof *p->levels);
        if (p->cdf == NULL || dims[0] != p->R || p->levels == NULL) {
            snprintf(what, sizeof what, "dataset %s/wait_cdf_s", path);
            st = bad(rd, what);
        } else {
            hid_t d = H5Dopen2(g, "wait_cdf_s", H5P_DEFAULT);
            if (!attr_doubles(d, "cdf_levels", p->levels, p->K)) {
                snprintf(what, sizeof what, "attribute cdf_levels of %s/wait_cdf_s", path);
                st = bad(rd, what);
            }
            H5Dclose(d);
        }
    }
    H5Gclose(g);
    return st;
}

enum bx_status bx_rpt_results_read(const char *file, struct bx_rpt_results *d, struct bx_error *err)
{
    struct reader rd = {file, err, bx_file_read_limit(file)};
    memset(d, 0, sizeof *d);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(file, R_OK) != 0)
        return BX_FAIL(err, BX_EIO, "%s: %s", file, strerror(errno));
    /* bxsim's results.h5 carries a checksum: a damaged file never reaches libhdf5. */
    if (bx_file_verify(file, NULL, err) != BX_OK)
        return BX_EPARSE;
    if (H5Fis_hdf5(file) <= 0)
        return BX_FAIL(err, BX_EPARSE, "%s: not an HDF5 file", file);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return BX_FAIL(err, BX_EIO, "%s: cannot open", file);
    enum bx_status st = BX_OK;
    char *kind = attr_string(&rd, f, "kind"), *summary = attr_string(&rd, f, "summary_json"),
         *resolved = attr_string(&rd, f, "scenario_resolved");
    json_error_t je;
    if (kind == NULL || strcmp(kind, "ports") != 0)
        st = bad(&rd, "root attribute kind = \"ports\"");
    else if (summary == NULL || (d->summary = json_loads(summary, 0, &je)) == NULL)
        st = bad(&rd, "root attribute summary_json");
    else if (resolved == NULL || (d->resolved = json_loads(resolved, 0, &je)) == NULL)
        st = bad(&rd, "root attribute scenario_resolved");
    free(kind);
    free(summary);
    free(resolved);
    if (st != BX_OK)
        goto done;
    d->scenario = attr_string(&rd, f, "scenario");
    d->scenario_file = attr_string(&rd, f, "scenario_file");
    d->scenario_yaml = attr_string(&rd, f, "scenario_yaml");
    d->profile = attr_string(&rd, f, "profile");
    d->profile_yaml = attr_string(&rd, f, "profile_yaml");
    d->version = attr_string(&rd, f, "bxsim_version");
    d->git = attr_string(&rd, f, "git_revision");
    d->libraries = attr_string(&rd, f, "libraries");
    double v;
    d->seed = attr_doubles(f, "seed", &v, 1) ? (long long)v : 0;
    d->replications = attr_doubles(f, "replications", &v, 1) ? (long long)v : 0;
    if (!attr_doubles(f, "horizon_s", &d->horizon_s, 1)) {
        st = bad(&rd, "root attribute horizon_s");
        goto done;
    }
    json_t *ports = json_object_get(d->summary, "ports");
    d->n_ports = json_array_size(ports);
    d->ports = calloc(d->n_ports ? d->n_ports : 1, sizeof *d->ports);
    if (d->ports == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < d->n_ports && st == BX_OK; ++i) {
        const char *name = json_string_value(json_object_get(json_array_get(ports, i), "name"));
        st = name ? read_port(&rd, f, name, &d->ports[i]) : bad(&rd, "summary_json ports[].name");
    }
    if (st != BX_OK)
        goto done;
    if (H5Lexists(f, "/matching", H5P_DEFAULT) <= 0) {
        st = bad(&rd, "group /matching");
        goto done;
    }
    hid_t m = H5Gopen2(f, "/matching", H5P_DEFAULT);
    if (!attr_doubles(m, "thresholds", d->thresholds, 3))
        st = bad(&rd, "attribute /matching thresholds");
    hsize_t dims[2] = {0, 1}, n = 0;
    struct {
        const char *name;
        void **dst;
        hid_t type;
        size_t size;
    } cols[] = {
        {"verify_score", (void **)&d->verify, H5T_NATIVE_FLOAT, sizeof(float)},
        {"impostor_score", (void **)&d->impostor, H5T_NATIVE_FLOAT, sizeof(float)},
        {"mated", (void **)&d->mated, H5T_NATIVE_SCHAR, 1},
        {"sex", (void **)&d->sex, H5T_NATIVE_SCHAR, 1},
        {"age_band", (void **)&d->age_band, H5T_NATIVE_SCHAR, 1},
        {"region", (void **)&d->region, H5T_NATIVE_SCHAR, 1},
        {"device", (void **)&d->device, H5T_NATIVE_SCHAR, 1},
        {"port", (void **)&d->port, H5T_NATIVE_INT, sizeof(int)},
        {"subject", (void **)&d->subject, H5T_NATIVE_LLONG, sizeof(long long)},
        {"impostor_subject", (void **)&d->impostor_subject, H5T_NATIVE_LLONG, sizeof(long long)},
    };
    for (size_t k = 0; k < sizeof cols / sizeof cols[0] && st == BX_OK; ++k) {
        *cols[k].dst = read_dataset(&rd, m, cols[k].name, cols[k].type, cols[k].size, dims);
        if (k == 0)
            n = dims[0];
        if (*cols[k].dst == NULL || dims[0] != n || dims[1] != 1) {
            char what[96];
            snprintf(what, sizeof what, "dataset /matching/%s", cols[k].name);
            st = bad(&rd, what);
        }
    }
    d->n = (size_t)n;
    H5Gclose(m);
done:
    H5Fclose(f);
    if (st != BX_OK)
        bx_rpt_results_fini(d);
    return st;
}

enum bx_status bx_rpt_results_read_dir(const char *dir, struct bx_rpt_results *d,
                                       struct bx_error *err)
{
    memset(d, 0, sizeof *d);
    char file[4096], sjson[4096];
    if (strlen(dir) > 3000 ||
        snprintf(file, sizeof file, "%s/results.h5", dir) >= (int)sizeof file ||
        snprintf(sjson, sizeof sjson, "%s/summary.json", dir) >= (int)sizeof sjson)
        return BX_FAIL(err, BX_EINVAL, "%s: path too long", dir);
    enum bx_status st = bx_rpt_results_read(file, d, err);
    if (st != BX_OK)
        return st;
    /* results.h5 holds its run's summary: a summary.json beside it must be the same run (the
     * outputs are published together; a set mixed by an interrupted publish is refused). */
    if (access(sjson, F_OK) == 0) {
        json_error_t je;
        json_t *sj = json_load_file(sjson, 0, &je);
        bool same = sj != NULL && json_equal(sj, d->summary);
        json_decref(sj);
        if (!same) {
            bx_rpt_results_fini(d);
            return BX_FAIL(err, BX_EPARSE,
                           "%s and %s come from different runs (or summary.json is damaged): "
                           "run the scenario again",
                           sjson, file);
        }
    }
    return BX_OK;
}
