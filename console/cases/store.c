/* kefu-console: the case store's one interface; migrations, queries and the spool. SPDX-License-Identifier: MIT */
#include "console/cases/store-private.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int exec0(struct kf_case_store *store, const char *sql, struct kf_error *err)
{
	return store->backend->exec(store, sql, NULL, 0, NULL, NULL, err);
}

static int exec_params(struct kf_case_store *store, const char *sql, const char *const *params,
		       int count, struct kf_error *err)
{
	return store->backend->exec(store, sql, params, count, NULL, NULL, err);
}

/* The first column of the first row, as a number (or -1 when there is no row). */
static int first_number(void *context, const char *const *values, int columns)
{
	int64_t *out = context;

	if (columns > 0 && values[0] != NULL && *out < 0)
		*out = strtoll(values[0], NULL, 10);
	return 0;
}

static int query_number(struct kf_case_store *store, const char *sql, const char *const *params,
			int count, int64_t *out, struct kf_error *err)
{
	*out = -1;
	return store->backend->exec(store, sql, params, count, first_number, out, err);
}

static void rollback(struct kf_case_store *store)
{
	struct kf_error ignored;

	exec0(store, "ROLLBACK", &ignored);
}

int kf_case_store_version(struct kf_case_store *store, int *version, struct kf_error *err)
{
	int64_t value;
	int r;

	if ((r = query_number(store, "SELECT version FROM kefu_schema", NULL, 0, &value, err)) !=
	    KF_OK)
		return r;
	*version = value < 0 ? 0 : (int)value;
	return KF_OK;
}

static int migrate(struct kf_case_store *store, struct kf_error *err)
{
	const struct kf_case_backend *backend = store->backend;
	const char *cases_name[] = {"cases"};
	int64_t version, has_cases;
	char text[24];
	int r;

	if ((r = exec0(store, backend->begin_exclusive, err)) != KF_OK)
		return r;
	if ((r = exec0(store, "CREATE TABLE IF NOT EXISTS kefu_schema (version INTEGER NOT NULL)",
		       err)) != KF_OK ||
	    (r = query_number(store, "SELECT version FROM kefu_schema", NULL, 0, &version, err)) !=
		    KF_OK)
		goto out;
	if (version < 0) {
		/* A cases table without a version is the first schema, from before versions. */
		if ((r = query_number(store, backend->table_exists, cases_name, 1, &has_cases,
				      err)) != KF_OK)
			goto out;
		version = has_cases > 0 ? 1 : 0;
		snprintf(text, sizeof(text), "%" PRId64, version);
		const char *params[] = {text};
		if ((r = exec_params(store, "INSERT INTO kefu_schema (version) VALUES (?)", params,
				     1, err)) != KF_OK)
			goto out;
	}
	if (version > backend->migration_count) {
		r = kf_error_set(err, KF_ERR_UNSUPPORTED,
				 "the case history is at schema %" PRId64
				 ", made by a newer kefu-console (this one knows %d)",
				 version, backend->migration_count);
		goto out;
	}
	for (; version < backend->migration_count; version++) {
		snprintf(text, sizeof(text), "%" PRId64, version + 1);
		const char *params[] = {text};
		if ((r = exec0(store, backend->migrations[version], err)) != KF_OK ||
		    (r = exec_params(store, "UPDATE kefu_schema SET version = ?", params, 1,
				     err)) != KF_OK)
			goto out;
	}
	r = exec0(store, "COMMIT", err);
out:
	if (r != KF_OK)
		rollback(store);
	return r;
}

int kf_case_store_open(const char *location, struct kf_case_store **out, struct kf_error *err)
{
	struct kf_case_store *store = calloc(1, sizeof(*store));
	int is_postgresql = strncmp(location, "postgresql://", 13) == 0 ||
			    strncmp(location, "postgres://", 11) == 0;
	int r;

	*out = NULL;
	if (store == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	r = is_postgresql ? kf_case_postgresql_open(location, store, err)
			  : kf_case_sqlite_open(location, store, err);
	if (r != KF_OK) {
		free(store);
		return r;
	}
	if ((r = migrate(store, err)) != KF_OK) {
		kf_case_store_free(store);
		return r;
	}
	if (is_postgresql) {
		char spool[4096];
		struct kf_error ignored;

		/* A spool that cannot be written yet stays for the next time. */
		kf_case_spool_flush(store, kf_case_spool_default_path(spool, sizeof(spool)),
				    &ignored);
	}
	*out = store;
	return KF_OK;
}

void kf_case_store_free(struct kf_case_store *store)
{
	if (store == NULL)
		return;
	store->backend->close(store);
	free(store);
}

const char *kf_case_store_backend(const struct kf_case_store *store)
{
	return store->backend->name;
}

int kf_case_status_is_valid(const char *status)
{
	return status != NULL && (strcmp(status, "open") == 0 || strcmp(status, "waiting") == 0 ||
				  strcmp(status, "solved") == 0);
}

/* ---- reading ---- */

static const char *string_or_empty(json_t *object, const char *name)
{
	const char *value = json_string_value(json_object_get(object, name));

	return value != NULL ? value : "";
}

static json_t *parse_array(const char *text)
{
	json_t *value = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	if (!json_is_array(value)) {
		json_decref(value);
		value = json_array();
	}
	return value;
}

static const char *const summary_columns[] = {"id",     "started", "technician", "support_id",
					      "status", "outcome", "advice"};
#define SUMMARY_SELECT                                                                             \
	"SELECT id, started, technician, support_id, status, outcome, advice FROM cases"

static int add_summary(void *context, const char *const *values, int columns)
{
	json_t *list = context, *item = json_object();

	for (int i = 0; i < columns && i < 7; i++) {
		if (i == 0)
			json_object_set_new(item, "id", json_integer(strtoll(values[0], NULL, 10)));
		else
			json_object_set_new(item, summary_columns[i],
					    json_string(values[i] ? values[i] : ""));
	}
	json_array_append_new(list, item);
	return 0;
}

static int list_query(struct kf_case_store *store, const char *sql, const char *const *params,
		      int count, json_t **out, struct kf_error *err)
{
	json_t *list = json_array();
	int r = store->backend->exec(store, sql, params, count, add_summary, list, err);

	if (r != KF_OK) {
		json_decref(list);
		return r;
	}
	*out = list;
	return KF_OK;
}

int kf_case_store_latest(struct kf_case_store *store, int limit, json_t **out, struct kf_error *err)
{
	char text[16];
	const char *params[] = {text};

	snprintf(text, sizeof(text), "%d", limit);
	return list_query(store, SUMMARY_SELECT " ORDER BY id DESC LIMIT ?", params, 1, out, err);
}

int kf_case_store_customer(struct kf_case_store *store, const char *support_id, json_t **out,
			   struct kf_error *err)
{
	const char *params[] = {support_id};

	return list_query(store, SUMMARY_SELECT " WHERE support_id = ? ORDER BY id DESC", params, 1,
			  out, err);
}

/*
 * The technician's words, as a query both engines read the same way: the letters and
 * digits of each word, all of them required. No operator of either query language
 * survives, so a search cannot be a syntax error.
 */
static char *search_words(const char *text, int is_quoted)
{
	size_t length = strlen(text);
	char *out = malloc(length * 3 + 1), *p = out;
	int in_word = 0;

	if (out == NULL)
		return NULL;
	for (const unsigned char *s = (const unsigned char *)text;; s++) {
		int is_word = *s != '\0' && (isalnum(*s) || *s >= 0x80);

		if (is_word && !in_word) {
			if (p != out)
				*p++ = ' ';
			if (is_quoted)
				*p++ = '"';
		} else if (!is_word && in_word && is_quoted) {
			*p++ = '"';
		}
		if (*s == '\0')
			break;
		if (is_word)
			*p++ = (char)*s;
		in_word = is_word;
	}
	*p = '\0';
	return out;
}

int kf_case_store_search(struct kf_case_store *store, const char *text, json_t **out,
			 struct kf_error *err)
{
	char *words = search_words(text, store->backend->is_quoted_search), *sql;
	int r;

	if (words == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (words[0] == '\0') {
		free(words);
		return kf_error_set(err, KF_ERR_INVALID, "search for at least one word");
	}
	if (asprintf(&sql, SUMMARY_SELECT " WHERE id IN (%s) ORDER BY id DESC LIMIT 100",
		     store->backend->search) < 0) {
		free(words);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	const char *params[] = {words};
	r = list_query(store, sql, params, 1, out, err);
	free(sql);
	free(words);
	return r;
}

static const char *const case_columns[] = {
	"session",  "support_id", "technician", "technicians", "organisation",
	"computer", "started",    "ended",      "outcome",     "status",
	"advice",   "problems",   "actions",    "journal",     "history"};
#define CASE_SELECT                                                                                \
	"SELECT session, support_id, technician, technicians, organisation, computer, started,"    \
	" ended, outcome, status, advice, problems, actions, journal, history FROM cases"          \
	" WHERE id = ?"

static int fill_case(void *context, const char *const *values, int columns)
{
	json_t *record = context;

	for (int i = 0; i < columns && i < 15; i++) {
		const char *name = case_columns[i];
		int is_array = strcmp(name, "technicians") == 0 || strcmp(name, "problems") == 0 ||
			       strcmp(name, "actions") == 0 || strcmp(name, "journal") == 0;

		json_object_set_new(record, name,
				    is_array ? parse_array(values[i])
					     : json_string(values[i] ? values[i] : ""));
	}
	return 0;
}

static int add_note(void *context, const char *const *values, int columns)
{
	if (columns == 3)
		json_array_append_new(context, json_pack("{s:s, s:s, s:s}", "time",
							 values[0] ? values[0] : "", "author",
							 values[1] ? values[1] : "", "text",
							 values[2] ? values[2] : ""));
	return 0;
}

static int add_tag(void *context, const char *const *values, int columns)
{
	if (columns == 1 && values[0] != NULL)
		json_array_append_new(context, json_string(values[0]));
	return 0;
}

int kf_case_store_get(struct kf_case_store *store, int64_t id, json_t **out, struct kf_error *err)
{
	json_t *record = json_object(), *notes = json_array(), *tags = json_array();
	char text[24];
	const char *params[] = {text};
	int r;

	snprintf(text, sizeof(text), "%" PRId64, id);
	if ((r = store->backend->exec(store, CASE_SELECT, params, 1, fill_case, record, err)) !=
		    KF_OK ||
	    (r = store->backend->exec(store,
				      "SELECT time, author, text FROM case_notes WHERE case_id = ?"
				      " ORDER BY id",
				      params, 1, add_note, notes, err)) != KF_OK ||
	    (r = store->backend->exec(store,
				      "SELECT tag FROM case_tags WHERE case_id = ? ORDER BY tag",
				      params, 1, add_tag, tags, err)) != KF_OK)
		goto fail;
	if (json_object_size(record) == 0) {
		r = kf_error_set(err, KF_ERR_NOT_FOUND, "there is no case %" PRId64, id);
		goto fail;
	}
	json_object_set_new(record, "id", json_integer(id));
	json_object_set_new(record, "notes", notes);
	json_object_set_new(record, "tags", tags);
	*out = record;
	return KF_OK;
fail:
	json_decref(record);
	json_decref(notes);
	json_decref(tags);
	return r;
}

/* ---- writing ---- */

static void append_strings(FILE *stream, json_t *value)
{
	size_t i;
	const char *key;
	json_t *item;

	if (json_is_string(value)) {
		fputs(json_string_value(value), stream);
		fputc(' ', stream);
	} else if (json_is_array(value)) {
		json_array_foreach(value, i, item) append_strings(stream, item);
	} else if (json_is_object(value)) {
		json_object_foreach(value, key, item)
		{
			if (strcmp(key, "time") != 0)
				append_strings(stream, item);
		}
	}
}

/* Every word of the case, its notes and tags, for the full-text search. */
static int reindex(struct kf_case_store *store, int64_t id, struct kf_error *err)
{
	json_t *record;
	char *body = NULL, text[24];
	size_t size = 0;
	FILE *stream;
	int r;

	if ((r = kf_case_store_get(store, id, &record, err)) != KF_OK)
		return r;
	json_object_del(record, "id");
	if ((stream = open_memstream(&body, &size)) == NULL) {
		json_decref(record);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	append_strings(stream, record);
	fclose(stream);
	json_decref(record);
	snprintf(text, sizeof(text), "%" PRId64, id);
	const char *params[] = {text, body};
	for (int i = 0; i < store->backend->index_count && r == KF_OK; i++)
		r = exec_params(store, store->backend->index[i], params, 2, err);
	free(body);
	return r;
}

/* The notes written during the session: [{time, author, text}]. */
static int add_notes(struct kf_case_store *store, int64_t id, json_t *notes, struct kf_error *err)
{
	char text[24];
	json_t *note;
	size_t i;
	int r = KF_OK;

	snprintf(text, sizeof(text), "%" PRId64, id);
	json_array_foreach(notes, i, note)
	{
		const char *params[] = {text, string_or_empty(note, "time"),
					string_or_empty(note, "author"),
					string_or_empty(note, "text")};

		if (params[3][0] == '\0')
			continue;
		if ((r = exec_params(store,
				     "INSERT INTO case_notes (case_id, time, author, text)"
				     " VALUES (?, ?, ?, ?)",
				     params, 4, err)) != KF_OK)
			break;
	}
	return r;
}

static char *dump_array(json_t *value)
{
	json_t *empty;
	char *text;

	if (json_is_array(value))
		return json_dumps(value, JSON_COMPACT);
	empty = json_array();
	text = json_dumps(empty, JSON_COMPACT);
	json_decref(empty);
	return text;
}

int kf_case_store_record(struct kf_case_store *store, json_t *record, int64_t *id,
			 struct kf_error *err)
{
	static const char insert[] =
		"INSERT INTO cases (session, support_id, technician, technicians, organisation,"
		" computer, started, ended, outcome, status, advice, problems, actions, journal,"
		" history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
	const char *session = string_or_empty(record, "session");
	const char *status = string_or_empty(record, "status");
	json_t *technicians = json_object_get(record, "technicians");
	char *arrays[4] = {NULL};
	int64_t existing;
	int r;

	if (session[0] == '\0')
		return kf_error_set(err, KF_ERR_INVALID, "a case needs its session");
	if (status[0] == '\0')
		status = "open";
	if (!kf_case_status_is_valid(status))
		return kf_error_set(err, KF_ERR_INVALID,
				    "a case's status is open, waiting or solved");
	if (!json_is_array(technicians)) {
		json_t *one = json_pack("[s]", string_or_empty(record, "technician"));

		arrays[0] = dump_array(one);
		json_decref(one);
	} else {
		arrays[0] = dump_array(technicians);
	}
	arrays[1] = dump_array(json_object_get(record, "problems"));
	arrays[2] = dump_array(json_object_get(record, "actions"));
	arrays[3] = dump_array(json_object_get(record, "journal"));
	for (int i = 0; i < 4; i++) {
		if (arrays[i] == NULL) {
			r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
			goto done;
		}
	}
	const char *params[] = {session,
				string_or_empty(record, "support_id"),
				string_or_empty(record, "technician"),
				arrays[0],
				string_or_empty(record, "organisation"),
				string_or_empty(record, "computer"),
				string_or_empty(record, "started"),
				string_or_empty(record, "ended"),
				string_or_empty(record, "outcome"),
				status,
				string_or_empty(record, "advice"),
				arrays[1],
				arrays[2],
				arrays[3],
				string_or_empty(record, "history")};
	if ((r = exec0(store, store->backend->begin_exclusive, err)) != KF_OK)
		goto done;
	/* A case queued twice (the spool, then a retry) is written once. */
	if ((r = query_number(store, "SELECT id FROM cases WHERE session = ?", params, 1, &existing,
			      err)) != KF_OK)
		goto out;
	if (existing > 0) {
		*id = existing;
		r = exec0(store, "COMMIT", err);
		goto done;
	}
	if ((r = query_number(store, insert, params, 15, id, err)) != KF_OK ||
	    (r = add_notes(store, *id, json_object_get(record, "notes"), err)) != KF_OK ||
	    (r = reindex(store, *id, err)) != KF_OK)
		goto out;
	r = exec0(store, "COMMIT", err);
out:
	if (r != KF_OK)
		rollback(store);
done:
	for (int i = 0; i < 4; i++)
		free(arrays[i]);
	return r;
}

/* Runs sql with (id, more...) on an existing case, then refreshes its search text. */
static int change_case(struct kf_case_store *store, int64_t id, const char *sql,
		       const char *const *more, int more_count, struct kf_error *err)
{
	char text[24];
	const char *params[4] = {text};
	int64_t found;
	int r;

	snprintf(text, sizeof(text), "%" PRId64, id);
	for (int i = 0; i < more_count && i < 3; i++)
		params[i + 1] = more[i];
	if ((r = exec0(store, store->backend->begin_exclusive, err)) != KF_OK)
		return r;
	if ((r = query_number(store, "SELECT id FROM cases WHERE id = ?", params, 1, &found,
			      err)) != KF_OK)
		goto out;
	if (found < 0) {
		r = kf_error_set(err, KF_ERR_NOT_FOUND, "there is no case %" PRId64, id);
		goto out;
	}
	if ((r = exec_params(store, sql, params, more_count + 1, err)) != KF_OK ||
	    (r = reindex(store, id, err)) != KF_OK)
		goto out;
	r = exec0(store, "COMMIT", err);
out:
	if (r != KF_OK)
		rollback(store);
	return r;
}

int kf_case_store_note(struct kf_case_store *store, int64_t id, const char *author,
		       const char *text, struct kf_error *err)
{
	char when[32];
	time_t now = time(NULL);
	struct tm local;

	if (text == NULL || text[0] == '\0')
		return kf_error_set(err, KF_ERR_INVALID, "a note needs some text");
	localtime_r(&now, &local);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &local);
	const char *more[] = {when, author ? author : "", text};
	return change_case(
		store, id,
		"INSERT INTO case_notes (case_id, time, author, text) VALUES (?, ?, ?, ?)", more, 3,
		err);
}

int kf_case_store_tag(struct kf_case_store *store, int64_t id, const char *tag,
		      struct kf_error *err)
{
	const char *more[] = {tag};

	if (tag == NULL || tag[0] == '\0')
		return kf_error_set(err, KF_ERR_INVALID, "a tag needs a name");
	return change_case(store, id,
			   "INSERT INTO case_tags (case_id, tag) VALUES (?, ?)"
			   " ON CONFLICT DO NOTHING",
			   more, 1, err);
}

int kf_case_store_status(struct kf_case_store *store, int64_t id, const char *status,
			 struct kf_error *err)
{
	const char *more[] = {status};

	if (!kf_case_status_is_valid(status))
		return kf_error_set(err, KF_ERR_INVALID,
				    "a case's status is open, waiting or solved");
	/* The parameters are (id, status): name them in that order for both engines. */
	return change_case(store, id, "UPDATE cases SET status = ?2 WHERE id = ?1", more, 1, err);
}
