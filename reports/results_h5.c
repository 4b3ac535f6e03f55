/* SPDX-License-Identifier: MIT */
/* results_h5.c - DIR/results.h5 of a ports run: per-port hourly series and wait quantiles, and
 * the matching samples audits need (layout in docs/results.md). Written to a temporary file and
 * renamed when complete. */
#define _POSIX_C_SOURCE 200809L
#include "report_internal.h"

#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "bx/report.h"

#define RESULTS_FORMAT_VERSION 2
#define CHUNK 65536

static herr_t attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

static herr_t attr_num(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *v,
                       hsize_t n)
{
    hid_t s = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(loc, name, file_type, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, mem_type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return rc;
}

/* A dataset of rank 1 or 2 with a `units` attribute; chunked and compressed when large. */
static herr_t dataset(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                      const hsize_t *dims, const void *data, const char *units)
{
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t total = rank == 1 ? dims[0] : dims[0] * dims[1];
    if (rank == 1 && total > CHUNK) {
        hsize_t chunk = CHUNK;
        H5Pset_chunk(plist, 1, &chunk);
        H5Pset_deflate(plist, 4);
    }
    hid_t d = H5Dcreate2(loc, name, file_type, s, H5P_DEFAULT, plist, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : 0;
    if (rc >= 0 && total > 0)
        rc = H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (rc >= 0 && units)
        rc = attr_str(d, "units", units);
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(plist);
    H5Sclose(s);
    return rc;
}

/* A rank-1 dataset of variable-length UTF-8 strings. */
static herr_t dataset_strings(hid_t loc, const char *name, const char *const *v, hsize_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0;
    if (rc >= 0)
        rc = attr_str(d, "units", "name");
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

/* Levels of the wait-time CDF stored per port: 0.01 to 0.99 by 0.01, then 0.995 and 0.999. */
#define CDF_LEVELS 101
static double cdf_level(size_t k)
{
    return k < 99 ? (double)(k + 1) / 100 : k == 99 ? 0.995 : 0.999;
}

static herr_t write_port(hid_t ports, const struct bx_port_config *pc, size_t i,
                         const struct bx_ports_result *reps, size_t n_reps)
{
    hid_t g = H5Gcreate2(ports, pc->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    herr_t rc = attr_str(g, "type", bx_port_type_name(pc->type));
    size_t H = n_reps ? reps[0].ports[i].n_hours : 0;
    double *buf = malloc((n_reps * H > 0 ? n_reps * H : 1) * sizeof *buf);
    hid_t hg = H5Gcreate2(g, "hourly", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (buf == NULL || hg < 0)
        rc = -1;
    static const char *const names[] = {"arrivals", "mean_wait_s", "queue", "busy", "capacity"};
    static const char *const units[] = {"travellers/h", "s", "travellers", "servers", "servers"};
    hsize_t dims[2] = {n_reps, H};
    for (int f = 0; rc >= 0 && f < 5; ++f) {
        for (size_t r = 0; r < n_reps; ++r)
            for (size_t h = 0; h < H; ++h) {
                const struct bx_port_hourly *x = &reps[r].ports[i].hourly[h];
                double v[5] = {x->arrivals, x->arrivals > 0 ? x->wait_sum_s / x->arrivals : BX_NAN,
                               x->queue, x->busy, x->capacity};
                buf[r * H + h] = v[f];
            }
        rc = dataset(hg, names[f], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, buf, units[f]);
    }
    if (rc >= 0) {
        double *q = malloc((n_reps ? n_reps : 1) * 3 * sizeof *q);
        const double ps[3] = {0.5, 0.95, 0.99};
        for (size_t r = 0; q && r < n_reps; ++r)
            for (size_t k = 0; k < 3; ++k)
                q[r * 3 + k] = bx_quantiles_get(reps[r].ports[i].wait_q, ps[k]);
        hsize_t qd[2] = {n_reps, 3};
        rc = q ? dataset(g, "wait_quantiles_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, qd, q, "s")
               : -1;
        if (rc >= 0)
            rc = attr_num(g, "quantile_levels", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ps, 3);
        free(q);
    }
    if (rc >= 0) {
        /* The wait distribution: quantiles at CDF_LEVELS levels (the CDF plots). */
        double *c = malloc((n_reps ? n_reps : 1) * CDF_LEVELS * sizeof *c), lv[CDF_LEVELS];
        for (size_t k = 0; k < CDF_LEVELS; ++k)
            lv[k] = cdf_level(k);
        for (size_t r = 0; c && r < n_reps; ++r)
            for (size_t k = 0; k < CDF_LEVELS; ++k)
                c[r * CDF_LEVELS + k] = bx_quantiles_get(reps[r].ports[i].wait_q, lv[k]);
        hsize_t cd[2] = {n_reps, CDF_LEVELS};
        rc = c ? dataset(g, "wait_cdf_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, cd, c, "s") : -1;
        if (rc >= 0) {
            hid_t d = H5Dopen2(g, "wait_cdf_s", H5P_DEFAULT);
            rc = d < 0
                     ? -1
                     : attr_num(d, "cdf_levels", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, lv, CDF_LEVELS);
            if (d >= 0)
                H5Dclose(d);
        }
        free(c);
    }
    if (rc >= 0)
        rc = attr_str(g, "lane_kind",
                      pc->type != BX_PORT_LAND                ? "camera"
                      : pc->land.lane_kind == BX_LANE_VEHICLE ? "vehicle"
                                                              : "pedestrian");
    if (rc >= 0) {
        double size =
            pc->type == BX_PORT_LAND ? (double)pc->land.expected_gallery : pc->passengers_mean;
        rc = attr_num(g, "gallery_size", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &size, 1);
    }
    if (rc >= 0 && n_reps > 0) { /* this port's 1:n, 1:1 and watch-list thresholds */
        double th[3];
        for (int k = 0; k < 3; ++k)
            th[k] = reps[0].ports[i].thr[k].value;
        rc = attr_num(g, "thresholds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, th, 3);
    }
    if (hg >= 0)
        H5Gclose(hg);
    free(buf);
    H5Gclose(g);
    return rc;
}

/* The /matching columns (docs/results.md): one dataset per field of struct bx_match_sample, the
 * samples of every replication one after the other; `replication` is the sample's replication. */
enum col_type { COL_F32, COL_I64, COL_I32, COL_I8 };
struct sample_col {
    const char *name, *units;
    enum col_type type;
    size_t offset, size; /* the field in struct bx_match_sample; size 0: the replication */
};
#define FIELD(f) offsetof(struct bx_match_sample, f), sizeof(((struct bx_match_sample *)0)->f)
static const struct sample_col sample_cols[] = {
    /* scores */
    {"verify_score", "cosine", COL_F32, FIELD(verify_score)},
    {"top_score", "cosine", COL_F32, FIELD(top_score)},
    {"impostor_score", "cosine", COL_F32, FIELD(impostor_score)},
    /* identities (for subject-level resampling in audits) */
    {"subject", "id", COL_I64, FIELD(subject)},
    {"impostor_subject", "id", COL_I64, FIELD(impostor_subject)},
    /* small integers */
    {"replication", "index", COL_I32, 0, 0},
    {"port", "index", COL_I32, FIELD(port)},
    {"mated", "flag", COL_I8, FIELD(mated)},
    {"accepted", "flag", COL_I8, FIELD(accepted)},
    {"watchlisted", "flag", COL_I8, FIELD(watchlisted)},
    {"watchlist_hit", "flag", COL_I8, FIELD(watchlist_hit)},
    {"citizenship", "code", COL_I8, FIELD(citizenship)},
    {"sex", "code", COL_I8, FIELD(sex)},
    {"region", "code", COL_I8, FIELD(region)},
    {"age_band", "code", COL_I8, FIELD(age_band)},
    {"device", "code", COL_I8, FIELD(device)},
};
#undef FIELD

/* A field of a sample as a signed integer (unsigned fields are small: ports, flags, codes). */
static long long field_int(const struct bx_match_sample *s, const struct sample_col *c)
{
    const unsigned char *p = (const unsigned char *)s + c->offset;
    switch (c->size) {
    case 8: {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    default:
        return *p;
    }
}

/* Column @p c of the concatenated samples as a dataset of /matching. */
static herr_t sample_column(hid_t m, const struct sample_col *c, const struct bx_ports_result *reps,
                            size_t n_reps, hsize_t total)
{
    static const size_t elem[] = {sizeof(float), sizeof(long long), sizeof(int), 1};
    unsigned char *col = malloc((total ? total : 1) * elem[c->type]);
    if (col == NULL)
        return -1;
    size_t k = 0;
    for (size_t r = 0; r < n_reps; ++r)
        for (size_t j = 0; j < reps[r].n_samples; ++j, ++k) {
            const struct bx_match_sample *s = &reps[r].samples[j];
            long long v = c->size ? (c->type == COL_F32 ? 0 : field_int(s, c)) : (long long)r;
            switch (c->type) {
            case COL_F32: {
                float f;
                memcpy(&f, (const unsigned char *)s + c->offset, sizeof f);
                memcpy(col + k * sizeof f, &f, sizeof f);
                break;
            }
            case COL_I64:
                memcpy(col + k * sizeof v, &v, sizeof v);
                break;
            case COL_I32: {
                int i = (int)v;
                memcpy(col + k * sizeof i, &i, sizeof i);
                break;
            }
            case COL_I8:
                col[k] = (unsigned char)(signed char)v;
                break;
            }
        }
    hid_t ftype = c->type == COL_F32   ? H5T_IEEE_F32LE
                  : c->type == COL_I64 ? H5T_STD_I64LE
                  : c->type == COL_I32 ? H5T_STD_I32LE
                                       : H5T_STD_I8LE;
    hid_t mtype = c->type == COL_F32   ? H5T_NATIVE_FLOAT
                  : c->type == COL_I64 ? H5T_NATIVE_LLONG
                  : c->type == COL_I32 ? H5T_NATIVE_INT
                                       : H5T_NATIVE_SCHAR;
    herr_t rc = dataset(m, c->name, ftype, mtype, 1, &total, col, c->units);
    free(col);
    return rc;
}

static const char *citizenship_name(int c)
{
    return bx_citizenship_name((enum bx_citizenship)c);
}
static const char *region_name(int c)
{
    return bx_region_name((enum bx_region)c);
}
static const char *age_band_name(int c)
{
    return bx_age_band_name((enum bx_age_band)c);
}
static const char *device_name(int c)
{
    return bx_device_name((enum bx_device)c);
}

/* An attribute "0 name, 1 name, ..." mapping the codes of a column to names. */
static herr_t codes_attr(hid_t loc, const char *attr, int n, const char *(*name)(int))
{
    char codes[512];
    size_t len = 0;
    for (int c = 0; c < n && len < sizeof codes; ++c)
        len +=
            (size_t)snprintf(codes + len, sizeof codes - len, "%s%d %s", c ? ", " : "", c, name(c));
    return attr_str(loc, attr, codes);
}

static herr_t write_matching(hid_t root, const struct bx_ports_result *reps, size_t n_reps)
{
    hid_t m = H5Gcreate2(root, "matching", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (m < 0)
        return -1;
    hsize_t total = 0;
    for (size_t r = 0; r < n_reps; ++r)
        total += reps[r].n_samples;
    herr_t rc = 0;
    if (n_reps)
        rc = attr_num(m, "thresholds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, reps[0].thresholds, 3);
    if (rc >= 0)
        rc = attr_str(m, "threshold_names", "one_to_n, verify, watchlist");
    for (size_t i = 0; rc >= 0 && i < sizeof sample_cols / sizeof *sample_cols; ++i)
        rc = sample_column(m, &sample_cols[i], reps, n_reps, total);
    /* The code tables, so the file is self-describing. */
    if (rc >= 0)
        rc = codes_attr(m, "citizenship_codes", BX_N_CITIZENSHIPS, citizenship_name);
    if (rc >= 0)
        rc = codes_attr(m, "region_codes", BX_N_REGIONS, region_name);
    if (rc >= 0)
        rc = codes_attr(m, "age_band_codes", BX_N_AGE_BANDS, age_band_name);
    if (rc >= 0)
        rc = codes_attr(m, "device_codes", BX_N_DEVICES, device_name);
    if (rc >= 0)
        rc = attr_str(m, "sex_codes", "0 female, 1 male");
    H5Gclose(m);
    return rc;
}

/* /streams: the stream map (names, and each replication's seeds). */
static herr_t write_streams(hid_t root, const struct bx_ports_result *reps, size_t n_reps)
{
    hid_t g = H5Gcreate2(root, "streams", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    size_t S = n_reps ? reps[0].n_streams : 0;
    herr_t rc =
        dataset_strings(g, "names", (const char *const *)(n_reps ? reps[0].stream_names : NULL), S);
    unsigned long long *seeds = malloc((n_reps * S > 0 ? n_reps * S : 1) * sizeof *seeds);
    if (seeds == NULL)
        rc = -1;
    for (size_t r = 0; rc >= 0 && r < n_reps; ++r)
        for (size_t k = 0; k < S; ++k)
            seeds[r * S + k] = k < reps[r].n_streams ? reps[r].stream_seeds[k] : 0;
    hsize_t dims[2] = {n_reps, S};
    if (rc >= 0)
        rc = dataset(g, "seeds", H5T_STD_U64LE, H5T_NATIVE_ULLONG, 2, dims, seeds, "seed");
    free(seeds);
    H5Gclose(g);
    return rc;
}

enum bx_status bx_rpt_write_results_h5(const char *path, const struct bx_rpt_run_info *info,
                                       const struct bx_ports_config *cfg,
                                       const struct bx_ports_result *reps, size_t n_reps,
                                       struct bx_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (tmp == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    enum bx_status st = BX_OK;
    int slot = bx_temp_register(tmp); /* removed if a signal stops the process */
    /* The first BX_FILESUM_BLOCK bytes are left to us: the checksum goes there at the end. */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), f = -1;
    if (fcpl >= 0 && H5Pset_userblock(fcpl, BX_FILESUM_BLOCK) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (f < 0) {
        st = BX_FAIL(err, BX_EIO, "%s: cannot create '%s'", path, tmp);
        goto done;
    }
    long long version = RESULTS_FORMAT_VERSION, seed = (long long)info->seed,
              nr = (long long)n_reps;
    herr_t rc = attr_num(f, "format_version", H5T_STD_I64LE, H5T_NATIVE_LLONG, &version, 1);
    if (rc >= 0)
        rc = attr_str(f, "bxsim_version", info->version);
    if (rc >= 0)
        rc = attr_str(f, "scenario", info->scenario);
    if (rc >= 0)
        rc = attr_str(f, "kind", "ports");
    if (rc >= 0)
        rc = attr_str(f, "profile", cfg->profile_name);
    if (rc >= 0)
        rc = attr_num(f, "seed", H5T_STD_I64LE, H5T_NATIVE_LLONG, &seed, 1);
    if (rc >= 0)
        rc = attr_num(f, "replications", H5T_STD_I64LE, H5T_NATIVE_LLONG, &nr, 1);
    if (rc >= 0)
        rc = attr_num(f, "horizon_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &cfg->horizon_s, 1);
    /* Self-description: where the numbers come from. */
    if (rc >= 0)
        rc = attr_str(f, "git_revision", info->git_revision ? info->git_revision : "unknown");
    if (rc >= 0)
        rc = attr_str(f, "libraries", info->libraries ? info->libraries : "");
    if (rc >= 0)
        rc = attr_str(f, "scenario_file", info->scenario_file ? info->scenario_file : "");
    if (rc >= 0)
        rc = attr_str(f, "scenario_yaml", info->scenario_text ? info->scenario_text : "");
    if (rc >= 0)
        rc = attr_str(f, "profile_yaml", info->profile_text ? info->profile_text : "");
    json_t *resolved = bx_rpt__ports_config(cfg);
    char *text = resolved ? json_dumps(resolved, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) : NULL;
    rc = rc >= 0 && text ? attr_str(f, "scenario_resolved", text) : -1;
    free(text);
    json_decref(resolved);
    json_t *summary = rc >= 0 ? bx_rpt__ports_summary(info, cfg, reps, n_reps, err) : NULL;
    text = summary ? json_dumps(summary, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) : NULL;
    rc = rc >= 0 && text ? attr_str(f, "summary_json", text) : -1;
    free(text);
    json_decref(summary);
    if (rc >= 0)
        rc = write_streams(f, reps, n_reps);
    hid_t ports = rc < 0 ? -1 : H5Gcreate2(f, "ports", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (size_t i = 0; ports >= 0 && rc >= 0 && i < cfg->n_ports; ++i)
        rc = write_port(ports, &cfg->ports[i], i, reps, n_reps);
    if (ports >= 0)
        H5Gclose(ports);
    else
        rc = -1;
    if (rc >= 0)
        rc = write_matching(f, reps, n_reps);
    herr_t closed = H5Fclose(f);
    if (rc < 0 || closed < 0) {
        st = BX_FAIL(err, BX_EIO, "%s: cannot write '%s'", path, tmp);
        goto done;
    }
    /* HDF5 has closed the file: stamp its checksum, make its bytes durable, publish it. */
    st = bx_file_stamp(tmp, err);
    if (st == BX_OK)
        st = bx_file_commit(tmp, path, err);
done:
    if (st != BX_OK)
        unlink(tmp);
    bx_temp_unregister(slot);
    free(tmp);
    return st;
}
