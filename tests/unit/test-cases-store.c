/* kefu: unit tests for the case store on SQLite, its spool and its configuration (console/cases/). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "console/cases/store-private.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct folder {
	char path[64];
	char db[128];
};

static int make_folder(void **state)
{
	struct folder *f = calloc(1, sizeof(*f));

	snprintf(f->path, sizeof(f->path), "/tmp/kefu-cases-XXXXXX");
	assert_non_null(mkdtemp(f->path));
	snprintf(f->db, sizeof(f->db), "%s/cases.sqlite", f->path);
	*state = f;
	return 0;
}

static int remove_folder(void **state)
{
	struct folder *f = *state;
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", f->path);
	assert_int_equal(system(command), 0);
	free(f);
	return 0;
}

static json_t *a_case(const char *session, const char *support_id, const char *advice)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:[s], s:[{s:s, s:s, s:s}]}", "session", session,
			 "support_id", support_id, "technician", "Alice Tan", "advice", advice,
			 "problems", "printer queue stopped", "notes", "time", "10:00", "author",
			 "Alice Tan", "text", "asked to call back");
}

static int64_t record(struct kf_case_store *store, json_t *record)
{
	struct kf_error err;
	int64_t id = 0;

	assert_int_equal(kf_case_store_record(store, record, &id, &err), KF_OK);
	json_decref(record);
	return id;
}

static void a_new_store_is_at_the_latest_schema_and_keeps_cases(void **state)
{
	struct folder *f = *state;
	struct kf_case_store *store;
	struct kf_error err;
	json_t *got;
	int version;

	assert_int_equal(kf_case_store_open(f->db, &store, &err), KF_OK);
	assert_string_equal(kf_case_store_backend(store), "sqlite");
	assert_int_equal(kf_case_store_version(store, &version, &err), KF_OK);
	assert_int_equal(version, KF_CASE_SCHEMA_VERSION);
	assert_int_equal(record(store, a_case("s1", "KF-A", "replace the USB cable")), 1);
	/* The same session again is the same case. */
	assert_int_equal(record(store, a_case("s1", "KF-A", "other")), 1);
	assert_int_equal(kf_case_store_get(store, 1, &got, &err), KF_OK);
	assert_string_equal(json_string_value(json_object_get(got, "advice")),
			    "replace the USB cable");
	assert_string_equal(json_string_value(json_object_get(got, "status")), "open");
	assert_int_equal(json_array_size(json_object_get(got, "notes")), 1);
	json_decref(got);
	assert_int_equal(kf_case_store_get(store, 2, &got, &err), KF_ERR_NOT_FOUND);
	kf_case_store_free(store);
}

static void schema_one_migrates_with_its_cases(void **state)
{
	struct folder *f = *state;
	struct kf_case_store *store;
	struct kf_error err;
	sqlite3 *db;
	json_t *found;
	int version;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE cases (id INTEGER PRIMARY KEY, session TEXT NOT "
			     "NULL, technician TEXT NOT NULL, organisation TEXT NOT NULL, "
			     "started TEXT NOT NULL, ended TEXT NOT NULL, outcome TEXT NOT "
			     "NULL, advice TEXT NOT NULL, journal TEXT NOT NULL);"
			     "INSERT INTO cases VALUES (1, 'old', 'Carol Diaz', 'X', '', '',"
			     " 'ended', 'keep the scanner on the hub', '[]')",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(kf_case_store_open(f->db, &store, &err), KF_OK);
	assert_int_equal(kf_case_store_version(store, &version, &err), KF_OK);
	assert_int_equal(version, 2);
	assert_int_equal(kf_case_store_search(store, "scanner hub", &found, &err), KF_OK);
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
	assert_int_equal(record(store, a_case("new", "KF-B", "x")), 2);
	kf_case_store_free(store);
}

static void notes_tags_status_and_search_and_bad_values(void **state)
{
	struct folder *f = *state;
	struct kf_case_store *store;
	struct kf_error err;
	json_t *found;

	assert_int_equal(kf_case_store_open(f->db, &store, &err), KF_OK);
	record(store, a_case("s1", "KF-A", "replace the USB cable"));
	record(store, a_case("s2", "KF-B", "update the BIOS"));
	assert_int_equal(kf_case_store_note(store, 2, "Bob Li", "fan is loud", &err), KF_OK);
	assert_int_equal(kf_case_store_tag(store, 2, "noise", &err), KF_OK);
	assert_int_equal(kf_case_store_status(store, 2, "waiting", &err), KF_OK);
	assert_int_equal(kf_case_store_status(store, 2, "closed", &err), KF_ERR_INVALID);
	assert_int_equal(kf_case_store_note(store, 9, "Bob Li", "x", &err), KF_ERR_NOT_FOUND);
	assert_int_equal(kf_case_store_search(store, "loud", &found, &err), KF_OK);
	assert_int_equal(json_array_size(found), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(found, 0), "id")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "status")),
			    "waiting");
	json_decref(found);
	/* FTS5's own syntax in the technician's words is only words. */
	assert_int_equal(kf_case_store_search(store, "NEAR(\"usb\" * OR", &found, &err), KF_OK);
	json_decref(found);
	assert_int_equal(kf_case_store_search(store, "\"*(", &found, &err), KF_ERR_INVALID);
	assert_int_equal(kf_case_store_customer(store, "KF-A", &found, &err), KF_OK);
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
	assert_int_equal(kf_case_store_latest(store, 1, &found, &err), KF_OK);
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
	kf_case_store_free(store);
}

static void the_spool_is_emptied_into_the_store_once(void **state)
{
	struct folder *f = *state;
	struct kf_case_store *store;
	struct kf_error err;
	char spool[160];
	sqlite3 *db;
	json_t *all;

	snprintf(spool, sizeof(spool), "%s/spool.sqlite", f->path);
	assert_int_equal(sqlite3_open(spool, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE spool (id INTEGER PRIMARY KEY, record TEXT NOT "
				      "NULL); INSERT INTO spool (record) VALUES "
				      "('{\"session\":\"q1\"}'), ('not json'),"
				      " ('{\"session\":\"q1\"}'), ('{\"session\":\"q2\"}')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(kf_case_store_open(f->db, &store, &err), KF_OK);
	assert_int_equal(kf_case_spool_flush(store, spool, &err), KF_OK);
	assert_int_equal(kf_case_store_latest(store, 10, &all, &err), KF_OK);
	assert_int_equal(json_array_size(all), 2);
	json_decref(all);
	assert_int_equal(sqlite3_open(spool, &db), SQLITE_OK);
	{
		sqlite3_stmt *count;

		sqlite3_prepare_v2(db, "SELECT count(*) FROM spool", -1, &count, NULL);
		assert_int_equal(sqlite3_step(count), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(count, 0), 0);
		sqlite3_finalize(count);
	}
	sqlite3_close(db);
	kf_case_store_free(store);
}

static void the_configuration_names_the_store_or_says_what_is_wrong(void **state)
{
	struct folder *f = *state;
	char config[160], buffer[512];
	struct kf_error err;
	FILE *file;

	snprintf(config, sizeof(config), "%s/console.conf", f->path);
	/* No file: the default SQLite file. */
	assert_non_null(kf_case_store_location(config, buffer, sizeof(buffer), &err));
	assert_non_null(strstr(buffer, "kefu/console/cases.sqlite"));
	file = fopen(config, "w");
	fputs("# team\n  theme = dark\ndatabase = postgresql:///cases?host=/run/pg\n", file);
	fclose(file);
	assert_non_null(kf_case_store_location(config, buffer, sizeof(buffer), &err));
	assert_string_equal(buffer, "postgresql:///cases?host=/run/pg");
	file = fopen(config, "w");
	fputs("database postgresql://x\n", file);
	fclose(file);
	assert_null(kf_case_store_location(config, buffer, sizeof(buffer), &err));
	assert_non_null(strstr(err.message, "line 1"));
	/* A password in the URI is refused before any connection is tried. */
	{
		struct kf_case_store *store = NULL;

		assert_int_equal(
			kf_case_store_open("postgresql://kefu:secret@127.0.0.1:1/x", &store, &err),
			KF_ERR_DENIED);
		assert_null(store);
		assert_null(strstr(err.message, "secret"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_new_store_is_at_the_latest_schema_and_keeps_cases,
						make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(schema_one_migrates_with_its_cases, make_folder,
						remove_folder),
		cmocka_unit_test_setup_teardown(notes_tags_status_and_search_and_bad_values,
						make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(the_spool_is_emptied_into_the_store_once,
						make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(
			the_configuration_names_the_store_or_says_what_is_wrong, make_folder,
			remove_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
