/* kefu-console: cases waiting on this machine while the team's database is away. SPDX-License-Identifier: MIT */
#include "console/cases/store-private.h"
#include "proto/base/fs.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The spool is a SQLite file of whole case records (JSON), one row each. A case is
 * removed from it only after the server holds it; the store writes a session's case
 * once, so a case sent again after a crash between the two steps is not doubled.
 */

const char *kf_case_spool_default_path(char *buffer, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(buffer, size, "%s/kefu/console/spool.sqlite", state);
	else
		snprintf(buffer, size, "%s/.local/state/kefu/console/spool.sqlite",
			 home ? home : "/tmp");
	return buffer;
}

static int open_spool(const char *path, int is_create, sqlite3 **db, struct kf_error *err)
{
	int flags = SQLITE_OPEN_READWRITE | (is_create ? SQLITE_OPEN_CREATE : 0);

	if (is_create && kf_fs_make_parents(path) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder for %s", path);
	if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
		kf_error_set(err, KF_ERR_IO, "cannot open the case spool %s: %s", path,
			     *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return KF_ERR_IO;
	}
	sqlite3_busy_timeout(*db, 10000);
	if (sqlite3_exec(*db,
			 "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY,"
			 " record TEXT NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		kf_error_set(err, KF_ERR_IO, "cannot prepare the case spool: %s",
			     sqlite3_errmsg(*db));
		sqlite3_close(*db);
		*db = NULL;
		return KF_ERR_IO;
	}
	return KF_OK;
}

static int queue(const char *path, json_t *record, struct kf_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *statement = NULL;
	char *text = json_dumps(record, JSON_COMPACT);
	int r;

	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if ((r = open_spool(path, 1, &db, err)) != KF_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO spool (record) VALUES (?)", -1, &statement, NULL) !=
		    SQLITE_OK ||
	    sqlite3_bind_text(statement, 1, text, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(statement) != SQLITE_DONE)
		r = kf_error_set(err, KF_ERR_IO, "cannot queue the case: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(statement);
	sqlite3_close(db);
	free(text);
	return r;
}

int kf_case_spool_flush(struct kf_case_store *store, const char *path, struct kf_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *next = NULL, *done = NULL;
	int r;

	if (access(path, F_OK) != 0)
		return KF_OK;
	if ((r = open_spool(path, 0, &db, err)) != KF_OK)
		return r;
	if (sqlite3_prepare_v2(db, "SELECT id, record FROM spool ORDER BY id LIMIT 1", -1, &next,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM spool WHERE id = ?", -1, &done, NULL) !=
		    SQLITE_OK) {
		r = kf_error_set(err, KF_ERR_IO, "cannot read the case spool: %s",
				 sqlite3_errmsg(db));
		goto out;
	}
	/* One at a time, so that two consoles flushing at once do not both hold a batch. */
	for (int round = 0; round < 100000 && sqlite3_step(next) == SQLITE_ROW; round++) {
		int64_t row = sqlite3_column_int64(next, 0), id;
		json_t *record = json_loads((const char *)sqlite3_column_text(next, 1), 0, NULL);

		sqlite3_reset(next);
		if (record != NULL) {
			r = kf_case_store_record(store, record, &id, err);
			json_decref(record);
			if (r != KF_OK)
				goto out;
		}
		sqlite3_bind_int64(done, 1, row);
		sqlite3_step(done);
		sqlite3_reset(done);
	}
	r = KF_OK;
out:
	sqlite3_finalize(next);
	sqlite3_finalize(done);
	sqlite3_close(db);
	return r;
}

int kf_case_store_record_or_queue(const char *location, const char *spool_path, json_t *record,
				  int64_t *id, struct kf_error *err)
{
	struct kf_case_store *store = NULL;
	char default_spool[4096];
	int r;

	if (spool_path == NULL)
		spool_path = kf_case_spool_default_path(default_spool, sizeof(default_spool));
	*id = 0;
	if ((r = kf_case_store_open(location, &store, err)) == KF_OK) {
		r = kf_case_store_record(store, record, id, err);
		kf_case_store_free(store);
	}
	if (r != KF_ERR_CLOSED)
		return r;
	/* The server is away: the case waits here and loses nothing. */
	*id = 0;
	return queue(spool_path, record, err);
}
