/* kefu-console: the case store on a PostgreSQL server (libpq), for a team. SPDX-License-Identifier: MIT */
#include "console/cases/store-private.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1: the single technician's history, with the same columns as in SQLite. */
	"CREATE TABLE IF NOT EXISTS cases ("
	" id BIGSERIAL PRIMARY KEY,"
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
	"ALTER TABLE cases ADD COLUMN search tsvector;"
	"UPDATE cases SET technicians = json_build_array(technician)::text,"
	" search = to_tsvector('simple', technician || ' ' || organisation || ' ' || outcome"
	" || ' ' || advice || ' ' || journal);"
	"CREATE INDEX cases_support_id ON cases (support_id);"
	"CREATE INDEX cases_session ON cases (session);"
	"CREATE INDEX cases_search ON cases USING gin (search);"
	"CREATE TABLE case_notes ("
	" id BIGSERIAL PRIMARY KEY,"
	" case_id BIGINT NOT NULL REFERENCES cases (id),"
	" time TEXT NOT NULL,"
	" author TEXT NOT NULL,"
	" text TEXT NOT NULL);"
	"CREATE TABLE case_tags ("
	" case_id BIGINT NOT NULL REFERENCES cases (id),"
	" tag TEXT NOT NULL,"
	" PRIMARY KEY (case_id, tag))",
};

/* 'simple' as FTS5's tokenizer: words as written, no stemming, so both stores agree. */
static const char *const index_statements[] = {
	"UPDATE cases SET search = to_tsvector('simple', $2) WHERE id = $1",
};

/* Statements are written with '?' once for both stores; libpq numbers them. */
static char *number_placeholders(const char *sql)
{
	size_t length = strlen(sql), n = 0;
	char *out = malloc(length * 4 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (const char *s = sql; *s != '\0'; s++) {
		if (*s == '?' && s[1] >= '0' && s[1] <= '9')
			*p++ = '$'; /* ?NNN names its parameter, as $NNN does */
		else if (*s == '?')
			p += sprintf(p, "$%zu", ++n);
		else
			*p++ = *s;
	}
	*p = '\0';
	return out;
}

static int fail(struct kf_case_store *store, const PGresult *result, struct kf_error *err)
{
	PGconn *conn = store->handle;
	const char *message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
	char line[200];
	size_t n;

	snprintf(line, sizeof(line), "%s", message && message[0] ? message : "no answer");
	n = strcspn(line, "\n");
	line[n] = '\0';
	/* A server gone away is told apart: the case then waits in the spool. */
	if (PQstatus(conn) == CONNECTION_BAD)
		return kf_error_set(err, KF_ERR_CLOSED, "the case database went away: %s", line);
	return kf_error_set(err, KF_ERR_IO, "the case database: %s", line);
}

static int pg_exec(struct kf_case_store *store, const char *sql, const char *const *params,
		   int count, kf_case_row_fn row, void *context, struct kf_error *err)
{
	PGconn *conn = store->handle;
	PGresult *result;
	ExecStatusType status;
	char *numbered;
	int r = KF_OK;

	if (count == 0) {
		/* Several statements in one string only without parameters (the migrations). */
		result = PQexec(conn, sql);
	} else {
		if ((numbered = number_placeholders(sql)) == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		result = PQexecParams(conn, numbered, count, NULL, params, NULL, NULL, 0);
		free(numbered);
	}
	status = PQresultStatus(result);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		r = fail(store, result, err);
	} else if (status == PGRES_TUPLES_OK && row != NULL) {
		int columns = PQnfields(result);
		const char *values[32];

		for (int i = 0; i < PQntuples(result) && columns <= 32; i++) {
			for (int c = 0; c < columns; c++)
				values[c] =
					PQgetisnull(result, i, c) ? NULL : PQgetvalue(result, i, c);
			if (row(context, values, columns) != 0)
				break;
		}
	}
	PQclear(result);
	return r;
}

static void pg_close(struct kf_case_store *store)
{
	PQfinish(store->handle);
}

static void ignore_notice(void *context, const char *message)
{
	(void)context;
	(void)message;
}

static const struct kf_case_backend postgresql_backend = {
	.name = "postgresql",
	.migrations = migrations,
	.migration_count = sizeof(migrations) / sizeof(migrations[0]),
	/* Two consoles migrating at once: the second waits for the first, then sees its work. */
	.begin_exclusive = "BEGIN; SELECT pg_advisory_xact_lock(7510241)",
	.table_exists = "SELECT count(*) FROM pg_catalog.pg_tables"
			" WHERE schemaname = current_schema() AND tablename = ?",
	.search = "SELECT id FROM cases WHERE search @@ plainto_tsquery('simple', ?)",
	.index = index_statements,
	.index_count = 1,
	.is_quoted_search = 0,
	.exec = pg_exec,
	.close = pg_close,
};

int kf_case_postgresql_open(const char *uri, struct kf_case_store *store, struct kf_error *err)
{
	/* The URI's own connect_timeout wins: keywords after dbname override it. */
	static const char *const keywords[] = {"connect_timeout", "dbname", NULL};
	const char *values[] = {"10", uri, NULL};
	PQconninfoOption *options;
	char *message = NULL;
	PGconn *conn;

	if ((options = PQconninfoParse(uri, &message)) == NULL) {
		kf_error_set(err, KF_ERR_INVALID, "the database setting is not a valid URI: %s",
			     message ? message : "out of memory");
		PQfreemem(message);
		return KF_ERR_INVALID;
	}
	for (PQconninfoOption *o = options; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
			PQconninfoFree(options);
			return kf_error_set(err, KF_ERR_DENIED,
					    "the database setting holds a password: put it in "
					    "the password file (PGPASSFILE or ~/.pgpass) instead");
		}
	}
	PQconninfoFree(options);
	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		char line[200];

		snprintf(line, sizeof(line), "%s", PQerrorMessage(conn));
		line[strcspn(line, "\n")] = '\0';
		PQfinish(conn);
		return kf_error_set(err, KF_ERR_CLOSED, "cannot reach the case database: %s", line);
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	store->backend = &postgresql_backend;
	store->handle = conn;
	return KF_OK;
}
