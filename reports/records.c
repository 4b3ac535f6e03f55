/* SPDX-License-Identifier: MIT */
/* records.c - records.sqlite of a lifecycle run (`bxsim run --records`; schema and queries in
 * docs/lifecycle.md): every simulated entry, exit, link and overstay flag of replication 0, with
 * its ground truth and cause, so that a reviewer can ask questions in SQL. Written to a temporary
 * file in one transaction, then renamed into place: the file appears whole or not at all. */
#define _POSIX_C_SOURCE 200809L
#include "report_internal.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bx/report.h"

static const char schema[] =
    "CREATE TABLE classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL, citizenship TEXT NOT NULL,"
    " admitted_until INTEGER NOT NULL);\n"
    "CREATE TABLE modes (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE TABLE entries (id INTEGER PRIMARY KEY, person INTEGER NOT NULL, stay INTEGER,"
    " class INTEGER NOT NULL REFERENCES classes(id), mode INTEGER NOT NULL REFERENCES modes(id),"
    " day INTEGER NOT NULL, date TEXT NOT NULL, admitted INTEGER NOT NULL,"
    " admit_until TEXT, photographed INTEGER NOT NULL, enrolled INTEGER NOT NULL,"
    " impostor INTEGER NOT NULL, watchlisted INTEGER NOT NULL, prior_removal INTEGER NOT NULL,"
    " caught INTEGER NOT NULL, verify_score REAL);\n"
    "CREATE TABLE exits (id INTEGER PRIMARY KEY, person INTEGER NOT NULL, stay INTEGER NOT NULL,"
    " class INTEGER NOT NULL REFERENCES classes(id), mode INTEGER NOT NULL REFERENCES modes(id),"
    " day INTEGER NOT NULL, date TEXT NOT NULL, admit_until TEXT, photographed INTEGER NOT NULL,"
    " acquired INTEGER NOT NULL, staged TEXT NOT NULL, biographic INTEGER NOT NULL,"
    " link TEXT NOT NULL, linked_person INTEGER, score REAL);\n"
    "CREATE TABLE flags (id INTEGER PRIMARY KEY, person INTEGER NOT NULL, stay INTEGER NOT NULL,"
    " class INTEGER NOT NULL REFERENCES classes(id), entry_mode INTEGER NOT NULL REFERENCES"
    " modes(id), kind TEXT NOT NULL, admit_until TEXT NOT NULL, date TEXT NOT NULL,"
    " truth TEXT NOT NULL, cause TEXT);\n"
    "CREATE INDEX exits_stay ON exits(stay);\nCREATE INDEX flags_stay ON flags(stay);\n";

static enum bx_status sql_fail(sqlite3 *db, const char *path, struct bx_error *err)
{
    return BX_FAIL(err, BX_EIO, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
}

static void bind_date(sqlite3_stmt *s, int i, long start, double day)
{
    if (!isfinite(day)) {
        sqlite3_bind_null(s, i);
        return;
    }
    char d[16];
    bx_rpt_date(start + (long)floor(day), d);
    sqlite3_bind_text(s, i, d, -1, SQLITE_TRANSIENT);
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

enum bx_status bx_rpt_write_records(const char *path, const struct bx_lc_config *cfg,
                                    const struct bx_lc_result *rep0, struct bx_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return BX_FAIL(err, BX_EINVAL, "%s: path too long", path);
    unlink(tmp);
    int slot = bx_temp_register(tmp);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins[5] = {0};
    enum bx_status st = BX_OK;
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        st = sql_fail(db, path, err);
        goto done;
    }
    static const char *const sql[5] = {
        "INSERT INTO classes VALUES (?,?,?,?)", "INSERT INTO modes VALUES (?,?)",
        "INSERT INTO entries (person, stay, class, mode, day, date, admitted, admit_until, "
        "photographed, enrolled, impostor, watchlisted, prior_removal, caught, verify_score) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        "INSERT INTO exits (person, stay, class, mode, day, date, admit_until, photographed, "
        "acquired, staged, biographic, link, linked_person, score) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        "INSERT INTO flags (person, stay, class, entry_mode, kind, admit_until, date, truth, "
        "cause) VALUES (?,?,?,?,?,?,?,?,?)"};
    for (int i = 0; i < 5; ++i)
        if (sqlite3_prepare_v2(db, sql[i], -1, &ins[i], NULL) != SQLITE_OK) {
            st = sql_fail(db, path, err);
            goto done;
        }
    for (size_t k = 0; k < cfg->n_classes && st == BX_OK; ++k) {
        sqlite3_stmt *s = ins[0];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)k);
        sqlite3_bind_text(s, 2, cfg->classes[k].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, bx_citizenship_name(cfg->classes[k].citizenship), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(s, 4, cfg->classes[k].admitted_until);
        if (sqlite3_step(s) != SQLITE_DONE)
            st = sql_fail(db, path, err);
        sqlite3_reset(s);
    }
    for (int m = 0; m < BX_LC_N_MODES && st == BX_OK; ++m) {
        sqlite3_stmt *s = ins[1];
        sqlite3_bind_int(s, 1, m);
        sqlite3_bind_text(s, 2, bx_lc_mode_name((enum bx_lc_mode)m), -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            st = sql_fail(db, path, err);
        sqlite3_reset(s);
    }
    static const char *const links[] = {"right", "wrong", "none", "unphotographed"};
    static const char *const staged[] = {"nothing", "bims_photo", "document"};
    long t0 = cfg->start_day;
    for (size_t i = 0; i < rep0->n_records && st == BX_OK; ++i) {
        const struct bx_lc_record *r = &rep0->records[i];
        sqlite3_stmt *s = ins[2 + (r->kind < 3 ? r->kind : 0)];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)r->person);
        if (r->stay == UINT64_MAX)
            sqlite3_bind_null(s, 2);
        else
            sqlite3_bind_int64(s, 2, (sqlite3_int64)r->stay);
        sqlite3_bind_int(s, 3, r->klass);
        sqlite3_bind_int(s, 4, r->mode);
        if (r->kind == 0) {
            sqlite3_bind_int64(s, 5, (sqlite3_int64)floor(r->day));
            bind_date(s, 6, t0, r->day);
            sqlite3_bind_int(s, 7, r->outcome == 0);
            bind_date(s, 8, t0, r->admit_until);
            sqlite3_bind_int(s, 9, (r->flags >> 4) & 1);
            sqlite3_bind_int(s, 10, (r->flags >> 5) & 1);
            sqlite3_bind_int(s, 11, r->flags & 1);
            sqlite3_bind_int(s, 12, (r->flags >> 1) & 1);
            sqlite3_bind_int(s, 13, (r->flags >> 2) & 1);
            sqlite3_bind_int(s, 14, (r->flags >> 3) & 1);
            bind_real(s, 15, r->score);
        } else if (r->kind == 1) {
            sqlite3_bind_int64(s, 5, (sqlite3_int64)floor(r->day));
            bind_date(s, 6, t0, r->day);
            bind_date(s, 7, t0, r->admit_until);
            sqlite3_bind_int(s, 8, r->truth);
            sqlite3_bind_int(s, 9, (r->flags >> 1) & 1);
            sqlite3_bind_text(s, 10, staged[((r->flags >> 2) & 3) % 3], -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 11, r->flags & 1);
            sqlite3_bind_text(s, 12, links[r->outcome & 3], -1, SQLITE_STATIC);
            if (r->linked == UINT64_MAX)
                sqlite3_bind_null(s, 13);
            else
                sqlite3_bind_int64(s, 13, (sqlite3_int64)r->linked);
            bind_real(s, 14, r->score);
        } else {
            sqlite3_bind_text(s, 5, r->outcome ? "out_of_country" : "suspected_in_country", -1,
                              SQLITE_STATIC);
            bind_date(s, 6, t0, r->admit_until);
            bind_date(s, 7, t0, r->day);
            sqlite3_bind_text(s, 8, r->truth ? "true" : "false", -1, SQLITE_STATIC);
            if (r->cause < BX_LC_N_CAUSES)
                sqlite3_bind_text(s, 9, bx_lc_cause_name((enum bx_lc_cause)r->cause), -1,
                                  SQLITE_STATIC);
            else
                sqlite3_bind_null(s, 9);
        }
        if (sqlite3_step(s) != SQLITE_DONE)
            st = sql_fail(db, path, err);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
    if (st == BX_OK && sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
        st = sql_fail(db, path, err);
done:
    for (int i = 0; i < 5; ++i)
        sqlite3_finalize(ins[i]);
    if (db && sqlite3_close(db) != SQLITE_OK && st == BX_OK)
        st = BX_FAIL(err, BX_EIO, "%s: cannot close", path);
    if (st == BX_OK && rename(tmp, path) != 0)
        st = BX_FAIL(err, BX_EIO, "%s: cannot rename into place", path);
    if (st != BX_OK)
        unlink(tmp);
    bx_temp_unregister(slot);
    return st;
}
