/* kefu-console: the technician's case history, in SQLite. SPDX-License-Identifier: MIT */
#include "console/cases.h"
#include "console/commands.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema[] = "CREATE TABLE IF NOT EXISTS cases ("
			     " id INTEGER PRIMARY KEY,"
			     " session TEXT NOT NULL,"
			     " technician TEXT NOT NULL,"
			     " organisation TEXT NOT NULL,"
			     " started TEXT NOT NULL,"
			     " ended TEXT NOT NULL,"
			     " outcome TEXT NOT NULL,"
			     " advice TEXT NOT NULL,"
			     " journal TEXT NOT NULL)";

const char *kf_cases_default_path(char *buffer, size_t size)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (data != NULL && data[0] == '/')
		snprintf(buffer, size, "%s/kefu/console/cases.sqlite", data);
	else
		snprintf(buffer, size, "%s/.local/share/kefu/console/cases.sqlite",
			 home ? home : "/tmp");
	return buffer;
}

static int open_db(const char *path, sqlite3 **db, int is_writable, struct kf_error *err)
{
	int flags = is_writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;

	if (is_writable && kf_fs_make_parents(path) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder for %s", path);
	if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
		kf_error_set(err, KF_ERR_IO, "cannot open the case history %s: %s", path,
			     *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return KF_ERR_IO;
	}
	sqlite3_busy_timeout(*db, 5000);
	if (is_writable && sqlite3_exec(*db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		kf_error_set(err, KF_ERR_IO, "cannot prepare the case history: %s",
			     sqlite3_errmsg(*db));
		sqlite3_close(*db);
		*db = NULL;
		return KF_ERR_IO;
	}
	return KF_OK;
}

static const char *field(json_t *record, const char *name)
{
	const char *value = json_string_value(json_object_get(record, name));

	return value != NULL ? value : "";
}

int kf_cases_record(const char *path, json_t *record, int64_t *id, struct kf_error *err)
{
	static const char insert[] =
		"INSERT INTO cases (session, technician, organisation, started,"
		" ended, outcome, advice, journal) VALUES (?,?,?,?,?,?,?,?)";
	static const char *const names[] = {"session", "technician", "organisation", "started",
					    "ended",   "outcome",    "advice"};
	sqlite3 *db;
	sqlite3_stmt *statement = NULL;
	char *journal;
	int r;

	if ((r = open_db(path, &db, 1, err)) != KF_OK)
		return r;
	journal = json_dumps(json_object_get(record, "journal"), JSON_COMPACT | JSON_ENCODE_ANY);
	if (journal == NULL || sqlite3_prepare_v2(db, insert, -1, &statement, NULL) != SQLITE_OK) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write the case history: %s",
				 sqlite3_errmsg(db));
		goto out;
	}
	/* Bound parameters only: nothing from the customer's side is ever SQL. */
	for (int i = 0; i < 7; i++)
		sqlite3_bind_text(statement, i + 1, field(record, names[i]), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(statement, 8, journal, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(statement) != SQLITE_DONE) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write the case history: %s",
				 sqlite3_errmsg(db));
		goto out;
	}
	*id = sqlite3_last_insert_rowid(db);
	r = KF_OK;
out:
	sqlite3_finalize(statement);
	free(journal);
	sqlite3_close(db);
	return r;
}

static int list_cases(sqlite3 *db)
{
	sqlite3_stmt *statement;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, started, technician, outcome, advice FROM cases"
			       " ORDER BY id DESC LIMIT 100",
			       -1, &statement, NULL) != SQLITE_OK)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "cannot read the case history: %s",
				   sqlite3_errmsg(db));
	while (sqlite3_step(statement) == SQLITE_ROW)
		printf("%5lld  %.16s  %-20s  %-10s  %.60s\n",
		       (long long)sqlite3_column_int64(statement, 0),
		       (const char *)sqlite3_column_text(statement, 1),
		       (const char *)sqlite3_column_text(statement, 2),
		       (const char *)sqlite3_column_text(statement, 3),
		       (const char *)sqlite3_column_text(statement, 4));
	sqlite3_finalize(statement);
	return KF_EXIT_OK;
}

static int show_case(sqlite3 *db, const char *id_text, int is_json)
{
	sqlite3_stmt *statement;
	json_t *journal, *entry;
	char *end;
	long long id = strtoll(id_text, &end, 10);
	size_t i;

	if (*end != '\0' || id < 1)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "a case number is a positive number");
	if (sqlite3_prepare_v2(db,
			       "SELECT session, technician, organisation, started, ended, outcome,"
			       " advice, journal FROM cases WHERE id = ?",
			       -1, &statement, NULL) != SQLITE_OK)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "cannot read the case history: %s",
				   sqlite3_errmsg(db));
	sqlite3_bind_int64(statement, 1, id);
	if (sqlite3_step(statement) != SQLITE_ROW) {
		sqlite3_finalize(statement);
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "there is no case %lld", id);
	}
	journal = json_loads((const char *)sqlite3_column_text(statement, 7), 0, NULL);
	if (is_json) {
		json_t *record =
			json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O?}", "id",
				  (json_int_t)id, "session", sqlite3_column_text(statement, 0),
				  "technician", sqlite3_column_text(statement, 1), "organisation",
				  sqlite3_column_text(statement, 2), "started",
				  sqlite3_column_text(statement, 3), "ended",
				  sqlite3_column_text(statement, 4), "outcome",
				  sqlite3_column_text(statement, 5), "advice",
				  sqlite3_column_text(statement, 6), "journal", journal);

		json_dumpf(record, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(record);
	} else {
		printf("Case %lld, session %s\nTechnician: %s (%s)\nFrom %s to %s: %s\n\n", id,
		       sqlite3_column_text(statement, 0), sqlite3_column_text(statement, 1),
		       sqlite3_column_text(statement, 2), sqlite3_column_text(statement, 3),
		       sqlite3_column_text(statement, 4), sqlite3_column_text(statement, 5));
		json_array_foreach(journal, i, entry)
		{
			printf("  %s  %-8s %s\n", field(entry, "time"), field(entry, "kind"),
			       field(entry, "text"));
		}
		printf("\nAdvice: %s\n", sqlite3_column_text(statement, 6));
	}
	json_decref(journal);
	sqlite3_finalize(statement);
	return KF_EXIT_OK;
}

int kf_console_cmd_cases(int argc, char **argv)
{
	static const struct option options[] = {
		{"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"cases", KF_CONSOLE_CASES_USAGE, "", NULL};
	char default_path[PATH_MAX];
	const char *path = NULL;
	struct kf_error err;
	sqlite3 *db;
	int opt, is_json = 0, code;

	optind = 1;
	opterr = 0;
	/* Options may come after the subcommand: "cases show 3 --json". */
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			path = optarg;
			break;
		case 'j':
			is_json = 1;
			break;
		default:
			return kf_cli_usage(KF_CONSOLE_PROGRAM, &usage);
		}
	}
	if (path == NULL)
		path = kf_cases_default_path(default_path, sizeof(default_path));
	if (access(path, F_OK) != 0) {
		printf("No cases yet.\n");
		return KF_EXIT_OK;
	}
	if (open_db(path, &db, 0, &err) != KF_OK)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "%s", err.message);
	if (optind == argc || (optind == argc - 1 && strcmp(argv[optind], "list") == 0))
		code = list_cases(db);
	else if (optind == argc - 2 && strcmp(argv[optind], "show") == 0)
		code = show_case(db, argv[optind + 1], is_json);
	else
		code = kf_cli_usage(KF_CONSOLE_PROGRAM, &usage);
	sqlite3_close(db);
	return code;
}
