/* kefu: unit tests for the "files" stream pieces: header lines, names, receiving. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/file-transfer.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SHA-256 of "hello\n" */
#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void make_dir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/kefu-test-files-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
	char command[PATH_MAX + 16];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	assert_int_equal(system(command), 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(kf_file_name_is_safe("report.pdf"));
	assert_true(kf_file_name_is_safe("a b (2).txt"));
	assert_false(kf_file_name_is_safe(""));
	assert_false(kf_file_name_is_safe("."));
	assert_false(kf_file_name_is_safe(".."));
	assert_false(kf_file_name_is_safe(".bashrc"));
	assert_false(kf_file_name_is_safe("-rf"));
	assert_false(kf_file_name_is_safe("../etc/passwd"));
	assert_false(kf_file_name_is_safe("a/b"));
	assert_false(kf_file_name_is_safe("line\nbreak"));
	char long_name[KF_FILE_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(kf_file_name_is_safe(long_name));
}

static void test_header_line_in_pieces(void **state)
{
	struct kf_file_line line = {0};
	const char text[] = "{\"op\":\"send\",\"size\":6}\nhello\n";
	json_t *header = NULL;
	int used;

	(void)state;
	used = kf_file_line_take(&line, (const uint8_t *)text, 5, &header, NULL);
	assert_int_equal(used, 5);
	assert_null(header);
	used = kf_file_line_take(&line, (const uint8_t *)text + 5, sizeof(text) - 1 - 5, &header,
				 NULL);
	assert_non_null(header);
	/* The line ends at its newline; the file's bytes are left for the caller. */
	assert_int_equal(5 + used, strchr(text, '\n') - text + 1);
	assert_string_equal(json_string_value(json_object_get(header, "op")), "send");
	json_decref(header);
}

static void test_header_line_refusals(void **state)
{
	struct kf_file_line line = {0};
	char big[KF_FILE_HEADER_MAX + 10];
	struct kf_error err;
	json_t *header;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(kf_file_line_take(&line, (uint8_t *)big, sizeof(big), &header, &err),
			 KF_ERR_TOO_LARGE);
	memset(&line, 0, sizeof(line));
	assert_int_equal(kf_file_line_take(&line, (const uint8_t *)"[1]\n", 4, &header, &err),
			 KF_ERR_INVALID);
	memset(&line, 0, sizeof(line));
	assert_int_equal(
		kf_file_line_take(&line, (const uint8_t *)"{\"a\":1,\"a\":2}\n", 14, &header, &err),
		KF_ERR_INVALID);
}

static void test_sink_saves_whole_files_and_never_overwrites(void **state)
{
	char dir[64], path[PATH_MAX], second[PATH_MAX];
	struct kf_file_sink *sink;
	struct stat st;

	(void)state;
	make_dir(dir, sizeof(dir));
	for (int round = 0; round < 2; round++) {
		assert_int_equal(kf_file_sink_new(dir, "notes.txt", 6, HELLO_SHA, &sink, NULL),
				 KF_OK);
		assert_int_equal(kf_file_sink_write(sink, (const uint8_t *)"hel", 3, NULL), KF_OK);
		assert_false(kf_file_sink_is_complete(sink));
		assert_int_equal(kf_file_sink_write(sink, (const uint8_t *)"lo\n", 3, NULL), KF_OK);
		assert_int_equal(kf_file_sink_finish(sink, round ? second : path, PATH_MAX, NULL),
				 KF_OK);
		kf_file_sink_free(sink);
	}
	assert_non_null(strstr(path, "/notes.txt"));
	assert_non_null(strstr(second, "/notes (2).txt"));
	assert_int_equal(stat(second, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_entries(dir), 2);
	remove_dir(dir);
}

static void test_sink_refusals_leave_nothing(void **state)
{
	char dir[64], path[PATH_MAX];
	struct kf_file_sink *sink;
	struct kf_error err;

	(void)state;
	make_dir(dir, sizeof(dir));
	/* Unsafe names, no hash, too large: refused before any file exists. */
	assert_int_equal(kf_file_sink_new(dir, "../x", 1, HELLO_SHA, &sink, &err), KF_ERR_INVALID);
	assert_int_equal(kf_file_sink_new(dir, "x", 1, "abc", &sink, &err), KF_ERR_INVALID);
	assert_int_equal(kf_file_sink_new(dir, "x", KF_FILE_MAX_SIZE + 1, HELLO_SHA, &sink, &err),
			 KF_ERR_TOO_LARGE);
	/* More bytes than announced. */
	assert_int_equal(kf_file_sink_new(dir, "x", 2, HELLO_SHA, &sink, NULL), KF_OK);
	assert_int_equal(kf_file_sink_write(sink, (const uint8_t *)"abc", 3, &err), KF_ERR_INVALID);
	kf_file_sink_free(sink);
	/* Changed on the way. */
	assert_int_equal(kf_file_sink_new(dir, "x", 6, HELLO_SHA, &sink, NULL), KF_OK);
	assert_int_equal(kf_file_sink_write(sink, (const uint8_t *)"HELLO\n", 6, NULL), KF_OK);
	assert_int_equal(kf_file_sink_finish(sink, path, sizeof(path), &err), KF_ERR_AUTH);
	kf_file_sink_free(sink);
	/* Cut short. */
	assert_int_equal(kf_file_sink_new(dir, "x", 6, HELLO_SHA, &sink, NULL), KF_OK);
	assert_int_equal(kf_file_sink_write(sink, (const uint8_t *)"hel", 3, NULL), KF_OK);
	assert_int_equal(kf_file_sink_finish(sink, path, sizeof(path), &err), KF_ERR_CLOSED);
	kf_file_sink_free(sink);
	assert_int_equal(count_entries(dir), 0);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_header_line_in_pieces),
		cmocka_unit_test(test_header_line_refusals),
		cmocka_unit_test(test_sink_saves_whole_files_and_never_overwrites),
		cmocka_unit_test(test_sink_refusals_leave_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
