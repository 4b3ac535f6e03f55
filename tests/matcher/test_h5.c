/* SPDX-License-Identifier: MIT */
/* test_h5.c - HDF5 template files: round trip, and every malformed file rejected by name. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <hdf5.h>

#include "bx/matcher.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/bx-h5-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

TestSuite(matcher_h5, .init = setup);

static struct bx_store *sample(size_t n, size_t d)
{
    struct bx_error err = {0};
    struct bx_store *g = bx_store_alloc(d, n, &err);
    float *v = malloc(n * d * sizeof *v);
    int64_t *ids = malloc(n * sizeof *ids);
    struct bx_tpl_meta *m = malloc(n * sizeof *m);
    double *age = malloc(n * sizeof *age), *q = malloc(n * sizeof *q);
    for (size_t i = 0; i < n * d; ++i)
        v[i] = (float)sin(0.37 * (double)i + 1.0);
    for (size_t i = 0; i < n; ++i) {
        ids[i] = (int64_t)(i * 7919) - 3;
        m[i] = (struct bx_tpl_meta){1e9 + (double)i, i % 2 ? BX_INF : 43200.0, (int)(i % 2)};
        age[i] = (double)(i % 90);
        q[i] = 0.5 + 0.001 * (double)i;
    }
    cr_assert_eq(bx_store_add(g, v, n, ids, m, &err), BX_OK, "%s", err.msg);
    cr_assert_eq(bx_store_set_column(g, "age", BX_COLUMN_INT64, age, &err), BX_OK);
    cr_assert_eq(bx_store_set_column(g, "quality", BX_COLUMN_FLOAT64, q, &err), BX_OK);
    free(v);
    free(ids);
    free(m);
    free(age);
    free(q);
    return g;
}

Test(matcher_h5, round_trip_keeps_rows_ids_and_metadata)
{
    char path[128];
    snprintf(path, sizeof path, "%s/g.h5", dir);
    struct bx_store *g = sample(70000, 130); /* more than one 65,536-row slab */
    bx_store_remove_subject(g, bx_store_subject(g, 5));
    struct bx_error err = {0};
    cr_assert_eq(bx_store_save_h5(g, path, &err), BX_OK, "%s", err.msg);
    struct bx_store *h = bx_store_load_h5(path, &err);
    cr_assert_not_null(h, "%s", err.msg);
    cr_assert_eq(bx_store_rows(h), 69999, "tombstoned rows are not saved");
    cr_assert_eq(bx_store_dim(h), 130);
    for (size_t r = 0; r < bx_store_rows(h); r += 997) {
        size_t src = r < 5 ? r : r + 1;
        cr_assert_eq(memcmp(bx_store_row(h, r), bx_store_row(g, src), 130 * sizeof(float)), 0,
                     "row %zu", r);
        cr_assert_eq(bx_store_subject(h, r), bx_store_subject(g, src));
        struct bx_tpl_meta a = bx_store_meta(h, r), b = bx_store_meta(g, src);
        cr_assert(a.enrol_time_s == b.enrol_time_s && a.retain_until_s == b.retain_until_s &&
                  a.retention_class == b.retention_class);
    }
    cr_assert_eq(bx_store_columns(h), 2);
    const char *name;
    enum bx_column_type t;
    const double *age = bx_store_column(h, 0, &name, &t);
    cr_assert_str_eq(name, "age");
    cr_assert_eq(t, BX_COLUMN_INT64);
    cr_assert_eq(age[6], 7);
    const double *q = bx_store_column(h, 1, &name, &t);
    cr_assert_str_eq(name, "quality");
    cr_assert_eq(t, BX_COLUMN_FLOAT64);
    cr_assert_eq(q[6], 0.5 + 0.001 * 7);
    /* No temporary left behind. */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "ls %s | grep -q tmp", dir);
    cr_assert_neq(system(tmp), 0);
    bx_store_free(h);
    bx_store_free(g);
}

Test(matcher_h5, shards_partition_the_file_rows_and_metadata)
{
    char path[128];
    snprintf(path, sizeof path, "%s/s.h5", dir);
    struct bx_store *g = sample(1001, 130);
    struct bx_error err = {0};
    cr_assert_eq(bx_store_save_h5(g, path, &err), BX_OK, "%s", err.msg);
    for (size_t n_sh = 1; n_sh <= 7; n_sh += 3) {
        size_t next = 0;
        for (size_t s = 0; s < n_sh; ++s) {
            size_t row0 = 99;
            struct bx_store *h = bx_store_load_h5_shard(path, s, n_sh, &row0, &err);
            cr_assert_not_null(h, "%s", err.msg);
            cr_assert_eq(row0, next, "shard %zu of %zu starts where the last ended", s, n_sh);
            size_t n = bx_store_rows(h);
            cr_assert(n == 1001 / n_sh || n == 1001 / n_sh + 1, "balanced: %zu rows", n);
            const char *name;
            enum bx_column_type t;
            const double *age = bx_store_column(h, 0, &name, &t);
            for (size_t r = 0; r < n; ++r) {
                cr_assert_eq(
                    memcmp(bx_store_row(h, r), bx_store_row(g, row0 + r), 130 * sizeof(float)), 0);
                cr_assert_eq(bx_store_subject(h, r), bx_store_subject(g, row0 + r));
                cr_assert_eq(bx_store_meta(h, r).enrol_time_s,
                             bx_store_meta(g, row0 + r).enrol_time_s);
                cr_assert_eq(age[r], (double)((row0 + r) % 90));
            }
            next += n;
            bx_store_free(h);
        }
        cr_assert_eq(next, 1001);
    }
    size_t row0;
    cr_assert_null(bx_store_load_h5_shard(path, 3, 3, &row0, &err));
    bx_store_free(g);
}

/* Build a file by hand: tdims/ttype for /templates, n_ids entries of /subject_id. */
struct spec {
    int rank;
    hsize_t n, d;
    hid_t ttype;
    hsize_t n_ids;
    hid_t idtype;
    bool has_ids, has_dim_attr, has_version;
    long long dim_attr, version;
    double poison; /* written into row 3, column 2 when not 0 */
    bool meta_string;
};

static void write_spec(const char *path, const struct spec *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {s->n, s->d};
    hid_t sp = H5Screate_simple(s->rank, dims, NULL);
    hid_t d = H5Dcreate2(f, "/templates", s->ttype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double *v = calloc(s->n * s->d, sizeof *v);
    for (size_t i = 0; i < s->n * s->d; ++i)
        v[i] = 1.0 + (double)(i % 5);
    if (s->poison != 0)
        v[3 * s->d + 2] = s->poison;
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Sclose(sp);
    if (s->has_ids) {
        sp = H5Screate_simple(1, &s->n_ids, NULL);
        d = H5Dcreate2(f, "/subject_id", s->idtype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        long long *ids = calloc(s->n_ids, sizeof *ids);
        H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids);
        free(ids);
        H5Dclose(d);
        H5Sclose(sp);
    }
    if (s->meta_string) {
        hid_t gm = H5Gcreate2(f, "/meta", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, 4);
        sp = H5Screate_simple(1, &s->n, NULL);
        d = H5Dcreate2(gm, "region", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dclose(d);
        H5Sclose(sp);
        H5Tclose(st);
        H5Gclose(gm);
    }
    long long attrs[2] = {s->dim_attr, s->version};
    const char *names[2] = {"dim", "format_version"};
    bool has[2] = {s->has_dim_attr, s->has_version};
    for (int i = 0; i < 2; ++i) {
        if (!has[i])
            continue;
        sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, names[i], H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_LLONG, &attrs[i]);
        H5Aclose(a);
        H5Sclose(sp);
    }
    H5Fclose(f);
    free(v);
}

static struct spec good(void)
{
    return (struct spec){2,  10, 16, H5T_IEEE_F32LE, 10, H5T_STD_I64LE, true, true, true,
                         16, 1,  0,  false};
}

static void expect_error(const struct spec *s, const char *says)
{
    char path[128];
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    write_spec(path, s);
    struct bx_error err = {0};
    struct bx_store *g = bx_store_load_h5(path, &err);
    cr_assert_null(g, "loaded a bad file (expected '%s')", says);
    cr_assert_eq(err.code, BX_EFORMAT, "%s", err.msg);
    cr_assert(strncmp(err.msg, path, strlen(path)) == 0, "names the file: %s", err.msg);
    cr_assert(strstr(err.msg, says) != NULL, "expected '%s' in '%s'", says, err.msg);
}

Test(matcher_h5, a_well_formed_hand_made_file_loads)
{
    char path[128];
    snprintf(path, sizeof path, "%s/ok.h5", dir);
    struct spec s = good();
    write_spec(path, &s);
    struct bx_error err = {0};
    struct bx_store *g = bx_store_load_h5(path, &err);
    cr_assert_not_null(g, "%s", err.msg);
    cr_assert_eq(bx_store_rows(g), 10);
    bx_store_free(g);
}

Test(matcher_h5, malformed_files_are_rejected_naming_the_dataset)
{
    struct spec s = good();
    s.ttype = H5T_IEEE_F64LE;
    expect_error(&s, "dataset /templates must be float32");
    s = good();
    s.rank = 1;
    expect_error(&s, "dataset /templates must have 2 dimensions");
    s = good();
    s.has_ids = false;
    expect_error(&s, "dataset /subject_id is missing");
    s = good();
    s.n_ids = 9;
    expect_error(&s, "/subject_id has 9 entries for 10 templates");
    s = good();
    s.idtype = H5T_IEEE_F64LE;
    expect_error(&s, "dataset /subject_id must be integer");
    s = good();
    s.dim_attr = 17;
    expect_error(&s, "attribute dim is 17");
    s = good();
    s.has_version = false;
    expect_error(&s, "'format_version' is missing");
    s = good();
    s.version = 2;
    expect_error(&s, "format_version 2 is not supported");
    s = good();
    s.poison = BX_NAN;
    expect_error(&s, "/templates row 3: component 2 is not finite");
    s = good();
    s.poison = BX_INF;
    expect_error(&s, "row 3");
    s = good();
    s.meta_string = true;
    expect_error(&s, "dataset /meta/region must be numeric");
    s = good();
    s.d = 4;
    s.dim_attr = 4;
    expect_error(&s, "dimension 4 outside");
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
}

Test(matcher_h5, truncated_corrupted_and_foreign_files_are_rejected)
{
    char path[128], bad[128];
    snprintf(path, sizeof path, "%s/g.h5", dir);
    snprintf(bad, sizeof bad, "%s/cut.h5", dir);
    struct bx_store *g = sample(2000, 128);
    struct bx_error err = {0};
    cr_assert_eq(bx_store_save_h5(g, path, &err), BX_OK);
    bx_store_free(g);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    long cuts[] = {n / 2, n - 100, 1000, 10};
    for (int i = 0; i < 4; ++i) {
        write_bytes(bad, buf, (size_t)cuts[i]);
        bx_err_clear(&err);
        cr_assert_null(bx_store_load_h5(bad, &err), "truncated at %ld bytes loaded", cuts[i]);
        cr_assert(strstr(err.msg, bad) != NULL, "%s", err.msg);
    }
    /* Overwrite the middle of the data with garbage: the file's checksum no longer matches, so
     * it is refused before HDF5 reads it (a silently different gallery is not acceptable). */
    char *c = malloc((size_t)n);
    memcpy(c, buf, (size_t)n);
    for (long i = n / 2; i < n / 2 + 64; ++i)
        c[i] = (char)0xff;
    write_bytes(bad, c, (size_t)n);
    bx_err_clear(&err);
    cr_assert_null(bx_store_load_h5(bad, &err));
    cr_assert(strstr(err.msg, "damaged: its content does not match its checksum") != NULL, "%s",
              err.msg);
    /* One flipped bit anywhere after the checksum block is found. */
    for (long i = BX_FILESUM_BLOCK; i < n; i += n / 37) {
        memcpy(c, buf, (size_t)n);
        c[i] ^= 0x10;
        write_bytes(bad, c, (size_t)n);
        bx_err_clear(&err);
        cr_assert_null(bx_store_load_h5(bad, &err), "a flipped bit at %ld went unnoticed", i);
        cr_assert(strstr(err.msg, "damaged") != NULL, "%s", err.msg);
    }
    write_bytes(bad, "name: not hdf5\n", 15);
    bx_err_clear(&err);
    cr_assert_null(bx_store_load_h5(bad, &err));
    cr_assert(strstr(err.msg, "not an HDF5 file") != NULL, "%s", err.msg);
    bx_err_clear(&err);
    cr_assert_null(bx_store_load_h5("/nonexistent/g.h5", &err));
    cr_assert_eq(err.code, BX_EIO);
    free(c);
    free(buf);
}

Test(matcher_h5, provenance_round_trips_and_a_non_string_is_refused)
{
    char path[128];
    snprintf(path, sizeof path, "%s/p.h5", dir);
    struct bx_store *g = sample(20, 16);
    struct bx_error err = {0};
    cr_assert_null(bx_store_provenance(g));
    const char *text = "{\"generator\":\"test\",\"seed\":7,\"note\":\"caf\u00e9\"}";
    cr_assert_eq(bx_store_set_provenance(g, text, &err), BX_OK);
    cr_assert_eq(bx_store_save_h5(g, path, &err), BX_OK, "%s", err.msg);
    struct bx_store *h = bx_store_load_h5(path, &err);
    cr_assert_not_null(h, "%s", err.msg);
    cr_assert_str_eq(bx_store_provenance(h), text);
    bx_store_free(h);
    /* too long to set */
    char *big = malloc(BX_TPL_PROVENANCE_MAX + 2);
    memset(big, 'x', BX_TPL_PROVENANCE_MAX + 1);
    big[BX_TPL_PROVENANCE_MAX + 1] = '\0';
    cr_assert_eq(bx_store_set_provenance(g, big, &err), BX_EINVAL);
    free(big);
    bx_store_free(g);
    /* a hand-made file whose provenance is a number */
    struct spec s = good();
    snprintf(path, sizeof path, "%s/pn.h5", dir);
    write_spec(path, &s);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "provenance", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    long long v = 3;
    H5Awrite(a, H5T_NATIVE_LLONG, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Fclose(f);
    err = (struct bx_error){0};
    cr_assert_null(bx_store_load_h5(path, &err));
    cr_assert(strstr(err.msg, "root attribute 'provenance' must be one string") != NULL, "%s",
              err.msg);
}
