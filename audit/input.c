/* SPDX-License-Identifier: MIT */
/* input.c - what an audit reads: score files (CSV through libcsv, RFC 4180, strict; bob's 4- and
 * 5-column whitespace formats) and the matching samples of a `bxsim run` (results.h5). Every
 * file is read twice (bx/audit.h: the threshold first, then the counts at it). Bad input is
 * reported as FILE:LINE:COL with BX_EPARSE.
 */
#define _POSIX_C_SOURCE 200809L
#include "audit_internal.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bx/matcher.h"
#include "bx/models.h"
#include "bx/report.h"

#define MAX_FIELDS 64

/* ---------------------------------------------------------------- numbers */

/* A score: a finite number that float32 holds (scores are kept as float), or empty / nan / NaN
 * for a failed comparison. */
static bool parse_score(const char *s, double *out)
{
    while (isspace((unsigned char)*s))
        ++s;
    if (*s == '\0' || strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "NAN") == 0) {
        *out = BX_NAN;
        return true;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        ++end;
    if (*end != '\0' || (errno == ERANGE && fabs(v) > 1) || !isfinite(v) ||
        fabs(v) > (double)FLT_MAX)
        return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- CSV */

struct csv_ctx {
    const char *path;
    struct bx_audit_opts *o;
    struct bx_audit *a;
    struct bx_error *err;
    enum bx_status st;
    long line;       /* line of the record being parsed */
    const char *raw; /* that line's text (for columns) */
    char *field[MAX_FIELDS];
    size_t n_fields, n_cols;
    bool header;
    bool in_quote;              /* inside a quoted field at the end of what was read */
    long quote_line, quote_col; /* where that field's opening quote is */
    int c_probe, c_ref, c_score;
    int group_col[BX_AUDIT_MAX_GROUPS];
    size_t n_rows;
};

/* 1-based byte column where field k of the current line starts (quotes honoured). */
static long field_col(const char *raw, size_t k)
{
    size_t f = 0;
    bool q = false;
    for (long i = 0; raw && raw[i]; ++i) {
        if (f == k)
            return i + 1;
        if (raw[i] == '"')
            q = !q;
        else if (raw[i] == ',' && !q)
            ++f;
    }
    return 1;
}

static void cb_field(void *s, size_t len, void *data)
{
    struct csv_ctx *c = data;
    if (c->st != BX_OK)
        return;
    if (c->n_fields == MAX_FIELDS) {
        c->st = BX_FAIL(c->err, BX_EPARSE, "%s:%ld:%ld: more than %d columns", c->path, c->line,
                        field_col(c->raw, MAX_FIELDS), MAX_FIELDS);
        return;
    }
    char *v = malloc(len + 1);
    if (v == NULL) {
        c->st = BX_FAIL(c->err, BX_ENOMEM, "out of memory");
        return;
    }
    if (len)
        memcpy(v, s, len);
    v[len] = '\0';
    c->field[c->n_fields++] = v;
}

static void free_fields(struct csv_ctx *c)
{
    for (size_t i = 0; i < c->n_fields; ++i)
        free(c->field[i]);
    c->n_fields = 0;
}

static void header_row(struct csv_ctx *c)
{
    c->c_probe = c->c_ref = c->c_score = -1;
    c->o->n_groups = 0;
    for (size_t i = 0; i < c->n_fields; ++i) {
        const char *h = c->field[i];
        for (size_t j = 0; j < i; ++j)
            if (strcmp(c->field[j], h) == 0) {
                c->st = BX_FAIL(c->err, BX_EPARSE,
                                "%s:%ld:%ld: the column '%s' appears twice in the header (first "
                                "at column %ld)",
                                c->path, c->line, field_col(c->raw, i), h, field_col(c->raw, j));
                return;
            }
        if (strcmp(h, "probe_subject") == 0)
            c->c_probe = (int)i;
        else if (strcmp(h, "reference_subject") == 0)
            c->c_ref = (int)i;
        else if (strcmp(h, "score") == 0)
            c->c_score = (int)i;
        else if (c->o->n_groups < BX_AUDIT_MAX_GROUPS && *h) {
            snprintf(c->o->group_names[c->o->n_groups], sizeof c->o->group_names[0], "%s", h);
            c->group_col[c->o->n_groups++] = (int)i;
        } else {
            c->st = BX_FAIL(c->err, BX_EPARSE,
                            "%s:%ld:%ld: column '%s': at most %d group columns (and no empty "
                            "names)",
                            c->path, c->line, field_col(c->raw, i), h, BX_AUDIT_MAX_GROUPS);
            return;
        }
    }
    bx_audit__set_groups(c->a, c->o);
    const char *missing = c->c_probe < 0   ? "probe_subject"
                          : c->c_ref < 0   ? "reference_subject"
                          : c->c_score < 0 ? "score"
                                           : NULL;
    if (missing)
        c->st = BX_FAIL(c->err, BX_EPARSE,
                        "%s:%ld:1: the header needs the column '%s' (probe_subject, "
                        "reference_subject, score; other columns are groups)",
                        c->path, c->line, missing);
    c->n_cols = c->n_fields;
}

static void cb_row(int term, void *data)
{
    (void)term;
    struct csv_ctx *c = data;
    if (c->st != BX_OK) {
        free_fields(c);
        return;
    }
    if (!c->header) {
        header_row(c);
        c->header = true;
        free_fields(c);
        return;
    }
    if (c->n_fields != c->n_cols) {
        c->st =
            BX_FAIL(c->err, BX_EPARSE, "%s:%ld:%ld: %zu fields, the header has %zu", c->path,
                    c->line, field_col(c->raw, c->n_fields < c->n_cols ? c->n_fields : c->n_cols),
                    c->n_fields, c->n_cols);
        free_fields(c);
        return;
    }
    double score;
    if (!parse_score(c->field[c->c_score], &score)) {
        c->st =
            BX_FAIL(c->err, BX_EPARSE,
                    "%s:%ld:%ld: score must be a number (finite, within float32's range; empty "
                    "or NaN for a failed comparison), got '%s'",
                    c->path, c->line, field_col(c->raw, (size_t)c->c_score), c->field[c->c_score]);
        free_fields(c);
        return;
    }
    const char *p = c->field[c->c_probe], *r = c->field[c->c_ref];
    if (*p == '\0' || *r == '\0') {
        c->st = BX_FAIL(c->err, BX_EPARSE, "%s:%ld:%ld: empty subject", c->path, c->line,
                        field_col(c->raw, (size_t)(*p == '\0' ? c->c_probe : c->c_ref)));
        free_fields(c);
        return;
    }
    const char *groups[BX_AUDIT_MAX_GROUPS];
    for (size_t g = 0; g < c->o->n_groups; ++g)
        groups[g] = c->field[c->group_col[g]];
    struct bx_error e = {0};
    if (bx_audit_add(c->a, p, r, score, groups, &e) != BX_OK)
        c->st = BX_FAIL(c->err, e.code, "%s:%ld: %s", c->path, c->line, e.msg);
    c->n_rows++;
    free_fields(c);
}

/* Follow RFC 4180 quoting over @p line so that a quoted field left open at the end of the file
 * is reported where its opening quote is (libcsv only knows that the input ended). */
static void track_quotes(struct csv_ctx *c, const char *line, size_t len)
{
    long col = 1;
    for (size_t i = 0; i < len; ++i) {
        unsigned char b = (unsigned char)line[i];
        if (b == '"') {
            if (!c->in_quote) {
                c->in_quote = true;
                c->quote_line = c->line;
                c->quote_col = col;
            } else if (i + 1 < len && line[i + 1] == '"') {
                ++i; /* a doubled quote inside the field */
                ++col;
            } else {
                c->in_quote = false;
            }
        }
        if ((b & 0xc0) != 0x80)
            ++col;
    }
}

/* One pass over a CSV score file. */
static enum bx_status csv_pass(const char *path, struct bx_audit_opts *o, struct bx_audit *a,
                               struct bx_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        fclose(f);
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    }
    struct csv_ctx c = {.path = path, .o = o, .a = a, .err = err, .st = BX_OK};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (c.st == BX_OK && (len = getline(&line, &cap, f)) >= 0) {
        c.line++;
        c.raw = line;
        if (c.line == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            c.st = BX_FAIL(err, BX_EPARSE,
                           "%s:1:1: the file starts with a UTF-8 byte-order mark; save it "
                           "without one (plain UTF-8 or ASCII)",
                           path);
            break;
        }
        track_quotes(&c, line, (size_t)len);
        if (csv_parse(&p, line, (size_t)len, cb_field, cb_row, &c) != (size_t)len && c.st == BX_OK)
            c.st = BX_FAIL(err, BX_EPARSE,
                           "%s:%ld:%ld: %s (RFC 4180: quote fields that hold "
                           "commas, quotes or line breaks; double inner quotes)",
                           path, c.line, 1L, csv_strerror(csv_error(&p)));
    }
    if (c.st == BX_OK && c.in_quote)
        c.st = BX_FAIL(err, BX_EPARSE,
                       "%s:%ld:%ld: this quoted field is never closed (the file ends inside it)",
                       path, c.quote_line, c.quote_col);
    if (c.st == BX_OK && csv_fini(&p, cb_field, cb_row, &c) != 0)
        c.st = BX_FAIL(err, BX_EPARSE, "%s:%ld:1: %s", path, c.line, csv_strerror(csv_error(&p)));
    if (c.st == BX_OK && !c.header)
        c.st =
            BX_FAIL(err, BX_EPARSE, "%s:1:1: empty file (a header and comparisons expected)", path);
    free_fields(&c);
    free(line);
    csv_free(&p);
    fclose(f);
    return c.st;
}

/* ---------------------------------------------------------------- bob's formats */

/* Whitespace-separated tokens of @p line into tok[] (at most 8); their columns into col[]. */
static size_t tokens(char *line, char *tok[8], long col[8])
{
    size_t n = 0;
    char *s = line;
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            ++s;
        if (!*s)
            break;
        if (n == 8)
            return 9;
        tok[n] = s;
        col[n] = (long)(s - line) + 1;
        ++n;
        while (*s && !isspace((unsigned char)*s))
            ++s;
        if (*s)
            *s++ = '\0';
    }
    return n;
}

/* One pass over a bob score file: "claimed real label score" (4 columns) or "claimed model real
 * label score" (5): the probe's subject is `real`, the reference's `claimed`. */
static enum bx_status bob_pass(const char *path, struct bx_audit *a, size_t ncols,
                               struct bx_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long ln = 0;
    enum bx_status st = BX_OK;
    while (st == BX_OK && getline(&line, &cap, f) >= 0) {
        ++ln;
        char *tok[8];
        long col[8];
        size_t n = tokens(line, tok, col);
        if (n == 0)
            continue;
        if (n != ncols) {
            st = BX_FAIL(err, BX_EPARSE, "%s:%ld:%ld: %zu columns, the file's first line has %zu",
                         path, ln, n > ncols && n < 9 ? col[ncols] : 1L, n > 8 ? 9 : n, ncols);
            break;
        }
        double score;
        if (!parse_score(tok[ncols - 1], &score)) {
            st = BX_FAIL(err, BX_EPARSE, "%s:%ld:%ld: score must be a number, got '%s'", path, ln,
                         col[ncols - 1], tok[ncols - 1]);
            break;
        }
        const char *claimed = tok[0], *real = tok[ncols == 4 ? 1 : 2];
        struct bx_error e = {0};
        if (bx_audit_add(a, real, claimed, score, NULL, &e) != BX_OK)
            st = BX_FAIL(err, e.code, "%s:%ld: %s", path, ln, e.msg);
    }
    free(line);
    fclose(f);
    return st;
}

/* The format from the first non-empty line: a CSV header has commas; bob's lines have 4 or 5
 * whitespace-separated columns. */
static enum bx_status detect(const char *path, size_t *bob_cols, struct bx_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    *bob_cols = 0;
    enum bx_status st = BX_EPARSE;
    bool seen = false;
    long ln = 0;
    while (getline(&line, &cap, f) >= 0) {
        ++ln;
        if (strchr(line, ',')) {
            st = BX_OK;
            break;
        }
        char *tok[8];
        long col[8];
        size_t n = tokens(line, tok, col);
        if (n == 0)
            continue;
        seen = true;
        if (n == 4 || n == 5) {
            *bob_cols = n;
            st = BX_OK;
        } else {
            st = BX_FAIL(err, BX_EPARSE,
                         "%s:%ld:1: neither a CSV header (probe_subject,reference_subject,score"
                         ",...) nor a bob score line (4 or 5 columns): %zu columns",
                         path, ln, n > 8 ? 9 : n);
        }
        break;
    }
    free(line);
    fclose(f);
    if (st != BX_OK && !seen)
        st = BX_FAIL(err, BX_EPARSE, "%s:1:1: empty file", path);
    return st;
}

enum bx_status bx_audit_read_scores(const char *path, struct bx_audit_opts *o,
                                    struct bx_audit **out, struct bx_error *err)
{
    *out = NULL;
    size_t bob = 0;
    enum bx_status st = detect(path, &bob, err);
    if (st != BX_OK)
        return st;
    /* Group columns come from the CSV header (header_row sets them in the audit). */
    o->n_groups = 0;
    struct bx_audit *a = bx_audit_alloc(o, err);
    if (a == NULL)
        return bx_err_code(err, BX_ENOMEM);
    for (int pass = 0; pass < 2 && st == BX_OK; ++pass) {
        if (pass == 1)
            bx_audit_second_pass(a);
        st = bob ? bob_pass(path, a, bob, err) : csv_pass(path, o, a, err);
    }
    if (st != BX_OK) {
        bx_audit_free(a);
        return st;
    }
    *out = a;
    return BX_OK;
}

/* ---------------------------------------------------------------- results.h5 */

enum bx_status bx_audit_read_run(const char *dir, struct bx_audit_opts *o, struct bx_audit **out,
                                 struct bx_error *err)
{
    *out = NULL;
    /* The run's results.h5 through the one reader of the file (reports/), which also refuses a
     * summary.json from another run beside it. */
    struct bx_rpt_results d;
    enum bx_status st = bx_rpt_results_read_dir(dir, &d, err);
    if (st != BX_OK)
        return st;
    /* The run decided at its own 1:1 threshold: judge it there unless told otherwise (a
     * threshold picked from these very scores would test a claim on the data it was tuned on). */
    bool per_port = false;
    if (o->run_threshold && isnan(o->threshold) && !(o->holdout > 0) && isfinite(d.thresholds[1])) {
        /* Each port decided at its own 1:1 threshold (older files: one for the run). */
        double first = d.n_ports && isfinite(d.ports[0].thresholds[1]) ? d.ports[0].thresholds[1]
                                                                       : d.thresholds[1];
        for (size_t i = 1; i < d.n_ports; ++i)
            per_port |= isfinite(d.ports[i].thresholds[1]) && d.ports[i].thresholds[1] != first;
        if (!per_port)
            o->threshold = first;
        snprintf(o->threshold_source, sizeof o->threshold_source, "%s",
                 per_port ? "each port's own 1:1 operating threshold (results.h5)"
                          : "the run's own 1:1 operating threshold (results.h5)");
    }
    o->n_groups = 4;
    strcpy(o->group_names[0], "port_type");
    strcpy(o->group_names[1], "sex");
    strcpy(o->group_names[2], "age_band");
    strcpy(o->group_names[3], "region");
    struct bx_audit *a = bx_audit_alloc(o, err);
    if (a == NULL) {
        st = err->code;
        goto done;
    }
    /* The port column indexes the scenario's list of ports; each one's type is in the summary. */
    char types[256][16];
    json_t *ports = json_object_get(d.summary, "ports");
    size_t n_types = json_array_size(ports) < 256 ? json_array_size(ports) : 256;
    for (size_t i = 0; i < n_types; ++i) {
        const char *t = json_string_value(json_object_get(json_array_get(ports, i), "type"));
        snprintf(types[i], sizeof types[i], "%s", t ? t : "?");
    }
    for (int pass = 0; pass < 2 && st == BX_OK; ++pass) {
        if (pass == 1)
            bx_audit_second_pass(a);
        for (size_t i = 0; i < d.n && st == BX_OK; ++i) {
            char ps[32], rs[32];
            const char *groups[4] = {
                d.port[i] >= 0 && (size_t)d.port[i] < n_types ? types[d.port[i]] : "?",
                bx_sex_name((enum bx_sex)d.sex[i]),
                bx_age_band_name((enum bx_age_band)d.age_band[i]),
                bx_region_name((enum bx_region)d.region[i])};
            snprintf(ps, sizeof ps, "%lld", d.subject[i]);
            /* Genuine: the live capture against the traveller's own document (travellers on a
             * look-alike's document are attacks, not zero-effort impostors: left out). */
            double thr = per_port && d.port[i] >= 0 && (size_t)d.port[i] < d.n_ports
                             ? d.ports[d.port[i]].thresholds[1]
                             : BX_NAN;
            if (d.mated[i])
                st = per_port ? bx_audit__add_at(a, ps, ps, d.verify[i], groups, thr, err)
                              : bx_audit_add(a, ps, ps, d.verify[i], groups, err);
            if (st == BX_OK && isfinite(d.impostor[i]) && d.impostor_subject[i] >= 0) {
                snprintf(rs, sizeof rs, "%lld", d.impostor_subject[i]);
                st = per_port ? bx_audit__add_at(a, ps, rs, d.impostor[i], groups, thr, err)
                              : bx_audit_add(a, ps, rs, d.impostor[i], groups, err);
            }
        }
    }
    /* FTA from the run's summary (captures that failed are not in the samples). */
    json_t *fta = json_object_get(json_object_get(d.summary, "matching"), "fta");
    if (st == BX_OK && json_is_object(fta)) {
        json_int_t e = json_integer_value(json_object_get(fta, "errors")),
                   t = json_integer_value(json_object_get(fta, "trials"));
        bx_audit__set_fta(a, (uint64_t)e, (uint64_t)t);
    }
    if (st != BX_OK)
        bx_audit_free(a);
    else
        *out = a;
done:
    bx_rpt_results_fini(&d);
    return st;
}

/* ---------------------------------------------------------------- template files */

enum bx_status bx_audit_read_templates(const char *gallery, const char *probes,
                                       struct bx_audit_opts *o, unsigned rank,
                                       struct bx_audit **out, struct bx_error *err)
{
    *out = NULL;
    struct bx_store *g = bx_store_load_h5(gallery, err);
    if (g == NULL)
        return bx_err_code(err, BX_ENOMEM);
    struct bx_store *p = bx_store_load_h5(probes, err);
    if (p == NULL) {
        bx_store_free(g);
        return bx_err_code(err, BX_ENOMEM);
    }
    enum bx_status st = BX_OK;
    size_t dim = bx_store_dim(g), N = bx_store_rows(g), P = bx_store_rows(p);
    if (bx_store_dim(p) != dim) {
        st = BX_FAIL(err, BX_EFORMAT, "%s: templates of dimension %zu, the gallery %s has %zu",
                     probes, bx_store_dim(p), gallery, dim);
        bx_store_free(p);
        bx_store_free(g);
        return st;
    }
    o->n_groups = 0;
    struct bx_audit *a = bx_audit_alloc(o, err);
    int64_t *refs = malloc((N ? N : 1) * sizeof *refs);
    float *pv = malloc((P ? P : 1) * dim * sizeof *pv);
    /* Probes per block: at most 2^24 scores (64 MB) at a time. */
    size_t block = N ? (size_t)fmax(1, (double)(1u << 24) / (double)N) : 1;
    float *sc = malloc(block * (N ? N : 1) * sizeof *sc);
    if (a == NULL || refs == NULL || pv == NULL || sc == NULL) {
        st = err && err->code ? err->code : BX_FAIL(err, BX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < N; ++r)
        refs[r] = bx_store_subject(g, r);
    for (size_t q = 0; q < P; ++q)
        memcpy(pv + q * dim, bx_store_row(p, q), dim * sizeof *pv);
    uint64_t mated = 0, nonmated = 0, fnir = 0, fpir = 0, miss1 = 0, missk = 0;
    for (int pass = 0; pass < 2 && st == BX_OK; ++pass) {
        if (pass == 1)
            bx_audit_second_pass(a);
        double t = pass == 1 ? bx_audit_threshold(a) : BX_NAN;
        for (size_t q0 = 0; q0 < P && st == BX_OK; q0 += block) {
            size_t nq = P - q0 < block ? P - q0 : block;
            if ((st = bx_match_scores(g, pv + q0 * dim, nq, sc, err)) != BX_OK)
                break;
            for (size_t j = 0; j < nq && st == BX_OK; ++j) {
                int64_t id = bx_store_subject(p, q0 + j);
                const float *row = sc + j * N;
                st = bx_audit__add_row(a, id, refs, row, N, err);
                if (pass == 0)
                    continue;
                /* 1:N with ground truth: the mate's best score and rank, the best non-mate. */
                double mate = -BX_INF, top_non = -BX_INF;
                bool has_mate = false;
                for (size_t r = 0; r < N; ++r) {
                    if (refs[r] == id) {
                        has_mate = true;
                        mate = fmax(mate, (double)row[r]);
                    } else {
                        top_non = fmax(top_non, (double)row[r]);
                    }
                }
                if (has_mate) {
                    size_t above = 0;
                    for (size_t r = 0; r < N; ++r)
                        above += refs[r] != id && (double)row[r] > mate;
                    mated++;
                    miss1 += above >= 1;
                    missk += above >= rank;
                    fnir += !(above == 0 && mate >= t);
                } else {
                    nonmated++;
                    fpir += top_non >= t;
                }
            }
        }
    }
    if (st == BX_OK) {
        char key[32];
        snprintf(key, sizeof key, "rank%u_miss", rank);
        json_t *one = json_pack("{sIsIsIso}", "gallery_size", (json_int_t)N, "mated_searches",
                                (json_int_t)mated, "non_mated_searches", (json_int_t)nonmated,
                                "threshold", json_real(bx_audit_threshold(a)));
        json_object_set_new(one, "fpir", bx_audit__rate(a, fpir, nonmated));
        json_object_set_new(one, "fnir", bx_audit__rate(a, fnir, mated));
        json_object_set_new(one, "rank1_miss", bx_audit__rate(a, miss1, mated));
        json_object_set_new(one, key, bx_audit__rate(a, missk, mated));
        json_object_set_new(one, "rank", json_integer((json_int_t)rank));
        bx_audit__set_extra(a, "one_to_n", one);
    }
done:
    free(sc);
    free(pv);
    free(refs);
    bx_store_free(p);
    bx_store_free(g);
    if (st != BX_OK)
        bx_audit_free(a);
    else
        *out = a;
    return st;
}
