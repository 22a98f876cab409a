/* kefu-agentd: the watch's local store of measurements and alerts (SQLite).
 * SPDX-License-Identifier: MIT */
#include "agentd/watch/store.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kf_watch_store {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	" result TEXT);"
	"CREATE TABLE IF NOT EXISTS measurements (run INTEGER NOT NULL, source TEXT NOT NULL,"
	" key TEXT NOT NULL, value REAL NOT NULL, time INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS measurements_series ON measurements (source, key, time);"
	"CREATE TABLE IF NOT EXISTS alerts (rule TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
	" value REAL NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" state TEXT NOT NULL, summary TEXT NOT NULL, advice TEXT NOT NULL,"
	" checkid TEXT NOT NULL);";

static int db_fail(struct kf_watch_store *store, struct kf_error *err, const char *what)
{
	return kf_error_set(err, KF_ERR_IO, "the watch store: %s: %s", what,
			    sqlite3_errmsg(store->db));
}

int kf_watch_store_open(const char *path, struct kf_watch_store **out, struct kf_error *err)
{
	struct kf_watch_store *store;
	int fd;

	*out = NULL;
	if (kf_fs_make_parents(path) < 0)
		return kf_error_set(err, KF_ERR_IO, "%s: cannot create its folder: %s", path,
				    strerror(errno));
	/* Created private before SQLite opens it: measurements say much about the machine. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kf_error_set(err, errno == EACCES ? KF_ERR_DENIED : KF_ERR_IO, "%s: %s",
				    path, strerror(errno));
	close(fd);
	store = calloc(1, sizeof(*store));
	if (store == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		kf_error_set(err, KF_ERR_IO, "%s: %s", path,
			     store->db ? sqlite3_errmsg(store->db) : "cannot open");
		sqlite3_close(store->db);
		free(store);
		return err ? err->code : KF_ERR_IO;
	}
	sqlite3_busy_timeout(store->db, 5000);
	if (sqlite3_exec(store->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		int r = kf_error_set(err, KF_ERR_INVALID, "%s: not a watch store: %s", path,
				     sqlite3_errmsg(store->db));

		sqlite3_close(store->db);
		free(store);
		return r;
	}
	*out = store;
	return KF_OK;
}

void kf_watch_store_close(struct kf_watch_store *store)
{
	if (store == NULL)
		return;
	sqlite3_close(store->db);
	free(store);
}

int kf_watch_store_run_begin(struct kf_watch_store *store, int64_t now, int64_t *run,
			     struct kf_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, "INSERT INTO runs (time) VALUES (?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(store, err, "new run");
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(store, err, "new run");
	*run = sqlite3_last_insert_rowid(store->db);
	return KF_OK;
}

int kf_watch_store_run_end(struct kf_watch_store *store, int64_t run, const json_t *result,
			   struct kf_error *err)
{
	char *text = json_dumps(result, JSON_COMPACT);
	sqlite3_stmt *st;
	int rc;

	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(store->db, "UPDATE runs SET result = ? WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		free(text);
		return db_fail(store, err, "run result");
	}
	sqlite3_bind_text(st, 1, text, -1, free);
	sqlite3_bind_int64(st, 2, run);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? KF_OK : db_fail(store, err, "run result");
}

json_t *kf_watch_store_run_last(struct kf_watch_store *store, int64_t *time)
{
	sqlite3_stmt *st;
	json_t *result = NULL;

	if (sqlite3_prepare_v2(store->db,
			       "SELECT time, result FROM runs WHERE result IS NOT NULL "
			       "ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);

		*time = sqlite3_column_int64(st, 0);
		if (text != NULL)
			result = json_loads(text, 0, NULL);
	}
	sqlite3_finalize(st);
	return result;
}

int kf_watch_store_prune(struct kf_watch_store *store, int64_t before, size_t *removed,
			 struct kf_error *err)
{
	static const char *const statements[] = {
		"DELETE FROM measurements WHERE time < ?",
		"DELETE FROM runs WHERE time < ? AND id NOT IN (SELECT MAX(id) FROM runs)",
	};

	*removed = 0;
	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *st;
		int rc;

		if (sqlite3_prepare_v2(store->db, statements[i], -1, &st, NULL) != SQLITE_OK)
			return db_fail(store, err, "forget old measurements");
		sqlite3_bind_int64(st, 1, before);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_fail(store, err, "forget old measurements");
		if (i == 0)
			*removed = (size_t)sqlite3_changes(store->db);
	}
	return KF_OK;
}

int kf_watch_store_add(struct kf_watch_store *store, int64_t run, const char *source,
		       const char *key, double value, int64_t time, struct kf_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db,
			       "INSERT INTO measurements (run, source, key, value, time) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, err, "measurement");
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 4, value);
	sqlite3_bind_int64(st, 5, time);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? KF_OK : db_fail(store, err, "measurement");
}

int kf_watch_store_history(struct kf_watch_store *store, const char *source, const char *key,
			   int64_t since, int64_t exclude_run, size_t max,
			   struct kf_watch_point **points, size_t *count, struct kf_error *err)
{
	struct kf_watch_point *list;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	*points = NULL;
	*count = 0;
	if (max == 0)
		return KF_OK;
	list = calloc(max, sizeof(*list));
	if (list == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	/* The newest max points, then turned oldest first. */
	if (sqlite3_prepare_v2(store->db,
			       "SELECT time, value FROM measurements WHERE source = ? AND key = ? "
			       "AND time >= ? AND run != ? ORDER BY time DESC, run DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		free(list);
		return db_fail(store, err, "history");
	}
	sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, exclude_run);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		list[n].time = sqlite3_column_int64(st, 0);
		list[n].value = sqlite3_column_double(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		free(list);
		return db_fail(store, err, "history");
	}
	for (size_t i = 0; i < n / 2; i++) {
		struct kf_watch_point t = list[i];

		list[i] = list[n - 1 - i];
		list[n - 1 - i] = t;
	}
	*points = list;
	*count = n;
	return KF_OK;
}

static void copy_column(sqlite3_stmt *st, int column, char *out, size_t cap)
{
	const unsigned char *text = sqlite3_column_text(st, column);

	snprintf(out, cap, "%s", text ? (const char *)text : "");
}

static void alert_from_row(sqlite3_stmt *st, struct kf_watch_alert *a)
{
	copy_column(st, 0, a->rule, sizeof(a->rule));
	copy_column(st, 1, a->fingerprint, sizeof(a->fingerprint));
	a->value = sqlite3_column_double(st, 2);
	a->first = sqlite3_column_int64(st, 3);
	a->last = sqlite3_column_int64(st, 4);
	copy_column(st, 5, a->state, sizeof(a->state));
	copy_column(st, 6, a->summary, sizeof(a->summary));
	copy_column(st, 7, a->advice, sizeof(a->advice));
	copy_column(st, 8, a->check, sizeof(a->check));
}

#define ALERT_COLUMNS "rule, fingerprint, value, first, last, state, summary, advice, checkid"

int kf_watch_store_alert_get(struct kf_watch_store *store, const char *rule,
			     struct kf_watch_alert *alert, struct kf_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, "SELECT " ALERT_COLUMNS " FROM alerts WHERE rule = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return db_fail(store, err, "alert");
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		alert_from_row(st, alert);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return KF_OK;
	if (rc == SQLITE_DONE)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "no alert %s", rule);
	return db_fail(store, err, "alert");
}

int kf_watch_store_alert_seen(struct kf_watch_store *store, const struct kf_watch_finding *f,
			      int64_t now, bool *is_new, struct kf_error *err)
{
	struct kf_watch_alert old;
	struct kf_error lookup = {0};
	sqlite3_stmt *st;
	bool had;
	int r, rc;

	r = kf_watch_store_alert_get(store, f->rule, &old, &lookup);
	if (r != KF_OK && r != KF_ERR_NOT_FOUND) {
		if (err != NULL)
			*err = lookup;
		return r;
	}
	had = r == KF_OK && strcmp(old.state, "active") == 0;
	*is_new = !had || (strcmp(old.fingerprint, f->fingerprint) != 0 && f->value > old.value);
	if (sqlite3_prepare_v2(
		    store->db,
		    "INSERT INTO alerts (" ALERT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?4, 'active', "
		    "?5, ?6, ?7) ON CONFLICT (rule) DO UPDATE SET fingerprint = ?2, value = ?3, "
		    "first = CASE WHEN ?8 THEN ?4 ELSE first END, last = ?4, state = 'active', "
		    "summary = CASE WHEN ?8 THEN ?5 ELSE summary END, advice = ?6, checkid = ?7",
		    -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, err, "alert");
	sqlite3_bind_text(st, 1, f->rule, -1, SQLITE_TRANSIENT);
	/* An alert that is not told again keeps the fingerprint and value it was told with. */
	sqlite3_bind_text(st, 2, *is_new ? f->fingerprint : old.fingerprint, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 3, *is_new ? f->value : old.value);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, f->summary, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, f->advice ? f->advice : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, f->check ? f->check : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, *is_new);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? KF_OK : db_fail(store, err, "alert");
}

int kf_watch_store_alert_clear_unseen(struct kf_watch_store *store, int64_t now, size_t *cleared,
				      struct kf_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db,
			       "UPDATE alerts SET state = 'cleared' WHERE state = 'active' AND "
			       "last < ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, err, "clear alerts");
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(store, err, "clear alerts");
	*cleared = (size_t)sqlite3_changes(store->db);
	return KF_OK;
}

int kf_watch_store_alerts_active(struct kf_watch_store *store, struct kf_watch_alert **alerts,
				 size_t *count, struct kf_error *err)
{
	struct kf_watch_alert *list = NULL;
	size_t n = 0, size = 0;
	sqlite3_stmt *st;
	int rc;

	*alerts = NULL;
	*count = 0;
	if (sqlite3_prepare_v2(store->db,
			       "SELECT " ALERT_COLUMNS " FROM alerts WHERE state = 'active' "
			       "ORDER BY first DESC, rule",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, err, "alerts");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == size) {
			size_t grown = size ? 2 * size : 8;
			struct kf_watch_alert *more = realloc(list, grown * sizeof(*more));

			if (more == NULL) {
				sqlite3_finalize(st);
				free(list);
				return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
			}
			list = more;
			size = grown;
		}
		alert_from_row(st, &list[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return db_fail(store, err, "alerts");
	}
	*alerts = list;
	*count = n;
	return KF_OK;
}
