/* kefu: unit tests for the agent's side of a sent file: the SHA-256 before or after the bytes,
 * and each way a console could lie about it. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/session/files.h"
#include "proto/session/file-transfer.h"
#include "tests/unit/memory-stream.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SHA-256 of "hello\n" */
#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
/* Well formed, and the SHA-256 of nothing these tests send. */
#define OTHER_SHA "7a8c4e5e6c4e2b5b6d0e8a9c3b2f0f6f2a1c9e8d7b6a5f4e3d2c1b0a99887766"

struct receive {
	uv_loop_t loop;
	char dir[64];
	struct kf_stream *agent_end, *console_end;
	struct kf_agent_file *file;
	int done_count, closed_count, status;
	char answer[4096];
	size_t answer_len;
	int is_answer_ended;
};

static void on_done(struct kf_agent_file *file, int status, json_t *fields, void *user)
{
	struct receive *r = user;

	(void)file;
	(void)fields;
	r->done_count++;
	r->status = status;
}

static void on_closed(struct kf_agent_file *file, void *user)
{
	struct receive *r = user;

	(void)file;
	r->closed_count++;
	r->file = NULL;
}

static void console_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct receive *r = user;

	(void)stream;
	assert_true(r->answer_len + len < sizeof(r->answer));
	memcpy(r->answer + r->answer_len, data, len);
	r->answer_len += len;
	r->answer[r->answer_len] = '\0';
}

static void console_end(struct kf_stream *stream, int status, const struct kf_error *err,
			void *user)
{
	struct receive *r = user;

	(void)stream;
	(void)status;
	(void)err;
	r->is_answer_ended = 1;
}

static void start(struct receive *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/kefu-test-receive-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	assert_int_equal(uv_loop_init(&r->loop), 0);
	memory_stream_pair(&r->agent_end, &r->console_end);
	r->console_end->on_read = console_read;
	r->console_end->on_end = console_end;
	r->console_end->user = r;
	r->file = kf_agent_file_serve(r->agent_end, &r->loop, r->dir, on_done, on_closed, NULL, r);
	assert_non_null(r->file);
}

/* What the console sends, in pieces of at most piece bytes (0: all at once). */
static void console_sends(struct receive *r, const char *text, size_t len, size_t piece)
{
	size_t sent = 0;

	while (sent < len) {
		size_t n = piece == 0 || len - sent < piece ? len - sent : piece;

		assert_int_equal(kf_stream_write(r->console_end, text + sent, n, NULL), KF_OK);
		memory_stream_pump(r->console_end, r->agent_end);
		sent += n;
	}
}

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

static void read_saved(const struct receive *r, char *out, size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/notes.txt", r->dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
}

/*
 * The console closes its end; the agent's file frees itself. Pumps start at the
 * console's end: the agent's end closes itself inside the pump.
 */
static void finish(struct receive *r)
{
	char command[128];

	if (r->file != NULL) {
		kf_stream_shutdown(r->console_end);
		memory_stream_pump(r->console_end, r->agent_end);
	}
	if (r->file != NULL)
		kf_agent_file_stop(r->file, "test over");
	kf_stream_close(r->console_end);
	/* The sink's thread leaves a handle for the loop to close. */
	uv_run(&r->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&r->loop), 0);
	snprintf(command, sizeof(command), "rm -rf '%s'", r->dir);
	assert_int_equal(system(command), 0);
}

static const char after_header[] =
	"{\"op\":\"send\",\"name\":\"notes.txt\",\"size\":6,\"hash\":\"after\"}\n";

static void test_hash_after_the_bytes_saves_the_file_whole(void **state)
{
	static const size_t pieces[] = {0, 1, 7};
	char text[512], saved[64];
	struct receive r;

	(void)state;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		start(&r);
		snprintf(text, sizeof(text), "%shello\n{\"sha256\":\"%s\"}\n", after_header,
			 HELLO_SHA);
		console_sends(&r, text, strlen(text), pieces[i]);
		assert_int_equal(r.done_count, 1);
		assert_int_equal(r.status, KF_OK);
		read_saved(&r, saved, sizeof(saved));
		assert_string_equal(saved, "hello\n");
		assert_non_null(strstr(r.answer, "\"ok\":true"));
		assert_non_null(strstr(r.answer, HELLO_SHA));
		assert_true(r.is_answer_ended);
		finish(&r);
	}
}

static void test_hash_before_the_bytes_still_saves_the_file(void **state)
{
	char text[512], saved[64];
	struct receive r;

	(void)state;
	start(&r);
	snprintf(text, sizeof(text),
		 "{\"op\":\"send\",\"name\":\"notes.txt\",\"size\":6,\"sha256\":\"%s\"}\nhello\n",
		 HELLO_SHA);
	console_sends(&r, text, strlen(text), 0);
	assert_int_equal(r.status, KF_OK);
	read_saved(&r, saved, sizeof(saved));
	assert_string_equal(saved, "hello\n");
	finish(&r);
}

static void test_a_wrong_hash_after_the_bytes_saves_nothing(void **state)
{
	char text[512];
	struct receive r;

	(void)state;
	start(&r);
	snprintf(text, sizeof(text), "%sHELLO\n{\"sha256\":\"%s\"}\n", after_header, HELLO_SHA);
	console_sends(&r, text, strlen(text), 0);
	assert_int_equal(r.done_count, 1);
	assert_int_equal(r.status, KF_ERR_AUTH);
	assert_non_null(strstr(r.answer, "\"ok\":false"));
	assert_int_equal(count_entries(r.dir), 0);
	finish(&r);
}

static void test_bytes_without_their_hash_save_nothing(void **state)
{
	char text[512];
	struct receive r;

	(void)state;
	/* The console stops after the bytes: no trailer ever comes. */
	start(&r);
	snprintf(text, sizeof(text), "%shello\n", after_header);
	console_sends(&r, text, strlen(text), 0);
	assert_int_equal(r.done_count, 0);
	kf_stream_shutdown(r.console_end);
	memory_stream_pump(r.console_end, r.agent_end);
	assert_int_equal(r.done_count, 1);
	assert_int_not_equal(r.status, KF_OK);
	assert_int_equal(count_entries(r.dir), 0);
	finish(&r);
	/* Half a trailer, then the end. */
	start(&r);
	snprintf(text, sizeof(text), "%shello\n{\"sha256\":\"%.20s", after_header, HELLO_SHA);
	console_sends(&r, text, strlen(text), 0);
	kf_stream_shutdown(r.console_end);
	memory_stream_pump(r.console_end, r.agent_end);
	assert_int_not_equal(r.status, KF_OK);
	assert_int_equal(count_entries(r.dir), 0);
	finish(&r);
}

static void test_a_malformed_hash_line_saves_nothing(void **state)
{
	static const char *const trailers[] = {
		"{\"sha256\":\"abc\"}\n",
		"{\"sha256\":5}\n",
		"{}\n",
		"not json\n",
		"{\"sha256\":\"" OTHER_SHA "\",\"sha256\":\"" HELLO_SHA "\"}\n",
	};
	char text[512];
	struct receive r;

	(void)state;
	for (size_t i = 0; i < sizeof(trailers) / sizeof(trailers[0]); i++) {
		start(&r);
		snprintf(text, sizeof(text), "%shello\n%s", after_header, trailers[i]);
		console_sends(&r, text, strlen(text), 0);
		assert_int_equal(r.done_count, 1);
		assert_int_not_equal(r.status, KF_OK);
		assert_int_equal(count_entries(r.dir), 0);
		finish(&r);
	}
}

static void test_a_header_with_both_hashes_or_neither_is_refused(void **state)
{
	static const char *const headers[] = {
		"{\"op\":\"send\",\"name\":\"notes.txt\",\"size\":6}\n",
		"{\"op\":\"send\",\"name\":\"notes.txt\",\"size\":6,\"hash\":\"later\"}\n",
		"{\"op\":\"send\",\"name\":\"notes.txt\",\"size\":6,\"hash\":\"after\",\"sha256\":"
		"\"" HELLO_SHA "\"}\n",
		"{\"op\":\"send\",\"name\":\"notes.txt\",\"size\":6,\"hash\":\"before\",\"sha256\":"
		"\"" HELLO_SHA "\"}\n",
	};
	struct receive r;

	(void)state;
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		start(&r);
		console_sends(&r, headers[i], strlen(headers[i]), 0);
		assert_int_equal(r.done_count, 1);
		assert_int_equal(r.status, KF_ERR_INVALID);
		assert_non_null(strstr(r.answer, "no SHA-256"));
		assert_int_equal(count_entries(r.dir), 0);
		finish(&r);
	}
}

static void test_more_bytes_than_announced_never_become_the_hash(void **state)
{
	char text[512];
	struct receive r;

	(void)state;
	/* Seven bytes for six announced: the seventh starts a line that is no JSON object. */
	start(&r);
	snprintf(text, sizeof(text), "%shello!\n{\"sha256\":\"%s\"}\n", after_header, HELLO_SHA);
	console_sends(&r, text, strlen(text), 0);
	assert_int_equal(r.done_count, 1);
	assert_int_not_equal(r.status, KF_OK);
	assert_int_equal(count_entries(r.dir), 0);
	finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_after_the_bytes_saves_the_file_whole),
		cmocka_unit_test(test_hash_before_the_bytes_still_saves_the_file),
		cmocka_unit_test(test_a_wrong_hash_after_the_bytes_saves_nothing),
		cmocka_unit_test(test_bytes_without_their_hash_save_nothing),
		cmocka_unit_test(test_a_malformed_hash_line_saves_nothing),
		cmocka_unit_test(test_a_header_with_both_hashes_or_neither_is_refused),
		cmocka_unit_test(test_more_bytes_than_announced_never_become_the_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
