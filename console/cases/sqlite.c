/* kefu-console: the case store in one SQLite file. SPDX-License-Identifier: MIT */
#include "console/cases/store-private.h"
#include "proto/base/fs.h"

#include <sqlite3.h>
#include <stdlib.h>

static const char *const migrations[] = {
	/* 1: the history of a single technician, as every console before the team store kept it. */
	"CREATE TABLE IF NOT EXISTS cases ("
	" id INTEGER PRIMARY KEY,"
	" session TEXT NOT NULL,"
	" technician TEXT NOT NULL,"
	" organisation TEXT NOT NULL,"
	" started TEXT NOT NULL,"
	" ended TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"
	" advice TEXT NOT NULL,"
	" journal TEXT NOT NULL)",
	/* 2: the team's cases: the customer, the technicians, notes, tags, a status, search. */
	"ALTER TABLE cases ADD COLUMN support_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE cases ADD COLUMN computer TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE cases ADD COLUMN technicians TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE cases ADD COLUMN status TEXT NOT NULL DEFAULT 'solved';"
	"ALTER TABLE cases ADD COLUMN problems TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE cases ADD COLUMN actions TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE cases ADD COLUMN history TEXT NOT NULL DEFAULT '';"
	"UPDATE cases SET technicians = json_array(technician);"
	"CREATE INDEX cases_support_id ON cases (support_id);"
	"CREATE INDEX cases_session ON cases (session);"
	"CREATE TABLE case_notes ("
	" id INTEGER PRIMARY KEY,"
	" case_id INTEGER NOT NULL REFERENCES cases (id),"
	" time TEXT NOT NULL,"
	" author TEXT NOT NULL,"
	" text TEXT NOT NULL);"
	"CREATE TABLE case_tags ("
	" case_id INTEGER NOT NULL REFERENCES cases (id),"
	" tag TEXT NOT NULL,"
	" PRIMARY KEY (case_id, tag));"
	"CREATE VIRTUAL TABLE case_search USING fts5 (body);"
	"INSERT INTO case_search (rowid, body) SELECT id, technician || ' ' || organisation"
	" || ' ' || outcome || ' ' || advice || ' ' || journal FROM cases",
};

static const char *const index_statements[] = {
	"DELETE FROM case_search WHERE rowid = ?",
	"INSERT INTO case_search (rowid, body) VALUES (?, ?)",
};

static int fail(struct kf_case_store *store, struct kf_error *err)
{
	return kf_error_set(err, KF_ERR_IO, "the case history: %s",
			    sqlite3_errmsg((sqlite3 *)store->handle));
}

static int run_one(sqlite3 *db, sqlite3_stmt *statement, const char *const *params, int count,
		   kf_case_row_fn row, void *context)
{
	int columns = sqlite3_column_count(statement), r;
	const char *values[32];

	(void)db;
	for (int i = 0; i < count; i++)
		sqlite3_bind_text(statement, i + 1, params[i], -1, SQLITE_STATIC);
	while ((r = sqlite3_step(statement)) == SQLITE_ROW) {
		if (row == NULL || columns > 32)
			continue;
		for (int i = 0; i < columns; i++)
			values[i] = (const char *)sqlite3_column_text(statement, i);
		if (row(context, values, columns) != 0)
			return SQLITE_ABORT;
	}
	return r == SQLITE_DONE ? SQLITE_OK : r;
}

static int sqlite_exec(struct kf_case_store *store, const char *sql, const char *const *params,
		       int count, kf_case_row_fn row, void *context, struct kf_error *err)
{
	sqlite3 *db = store->handle;
	const char *tail = sql;

	/* Several statements in one string only without parameters (the migrations). */
	while (tail != NULL && *tail != '\0') {
		sqlite3_stmt *statement = NULL;
		int r;

		if (sqlite3_prepare_v2(db, tail, -1, &statement, &tail) != SQLITE_OK)
			return fail(store, err);
		if (statement == NULL)
			break;
		r = run_one(db, statement, params, count, row, context);
		sqlite3_finalize(statement);
		if (r != SQLITE_OK)
			return fail(store, err);
		if (count > 0)
			break;
	}
	return KF_OK;
}

static void sqlite_close(struct kf_case_store *store)
{
	sqlite3_close(store->handle);
}

static const struct kf_case_backend sqlite_backend = {
	.name = "sqlite",
	.migrations = migrations,
	.migration_count = sizeof(migrations) / sizeof(migrations[0]),
	.begin_exclusive = "BEGIN IMMEDIATE",
	.table_exists = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
	.search = "SELECT rowid FROM case_search WHERE case_search MATCH ?",
	.index = index_statements,
	.index_count = 2,
	.is_quoted_search = 1,
	.exec = sqlite_exec,
	.close = sqlite_close,
};

int kf_case_sqlite_open(const char *path, struct kf_case_store *store, struct kf_error *err)
{
	sqlite3 *db = NULL;

	if (kf_fs_make_parents(path) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder for %s", path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		kf_error_set(err, KF_ERR_IO, "cannot open the case history %s: %s", path,
			     db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return KF_ERR_IO;
	}
	/* Two consoles finishing a case at once wait for each other rather than fail. */
	sqlite3_busy_timeout(db, 10000);
	sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	store->backend = &sqlite_backend;
	store->handle = db;
	return KF_OK;
}
