/* kefu: unit tests for the "files" stream pieces: header lines, names, receiving. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/file-transfer.h"
#include "tests/unit/memory-stream.h"

#include <openssl/evp.h>
#include <uv.h>

#include <dirent.h>
#include <fcntl.h>
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

struct room {
	uv_loop_t loop;
	int count;
};

static void on_room(void *user)
{
	((struct room *)user)->count++;
}

/* Bytes that differ from block to block, so that a block written twice or dropped shows. */
static void fill(uint8_t *data, size_t len, uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)((offset + i) * 2654435761u >> 13);
}

static void test_sink_on_its_thread_holds_back_and_saves_whole_files(void **state)
{
	const size_t total = 5 * KF_FILE_SINK_QUEUED + 12345, piece = 16 * 1024 + 3;
	uint8_t *data = malloc(total), digest[32];
	char dir[64], path[PATH_MAX], hex[65];
	struct kf_file_sink *sink;
	struct room room = {0};
	size_t sent = 0;
	int fulls = 0;

	(void)state;
	assert_non_null(data);
	fill(data, total, 0);
	EVP_Digest(data, total, digest, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	make_dir(dir, sizeof(dir));
	assert_int_equal(uv_loop_init(&room.loop), 0);
	assert_int_equal(kf_file_sink_new(dir, "big.bin", total, NULL, &sink, NULL), KF_OK);
	assert_int_equal(kf_file_sink_use_thread(sink, &room.loop, on_room, &room, NULL), KF_OK);
	while (sent < total) {
		size_t n = total - sent < piece ? total - sent : piece;

		assert_int_equal(kf_file_sink_write(sink, data + sent, n, NULL), KF_OK);
		sent += n;
		if (kf_file_sink_is_full(sink)) {
			/* The reader stops here; the thread says when there is room again. */
			int before = room.count;

			fulls++;
			for (int turn = 0; turn < 10000 && room.count == before; turn++)
				uv_run(&room.loop, UV_RUN_ONCE);
			assert_int_equal(room.count, before + 1);
			assert_false(kf_file_sink_is_full(sink));
		}
	}
	/* A writer far ahead of the disk was held back, not buffered without end. */
	assert_true(fulls > 0);
	assert_int_equal(kf_file_sink_finish(sink, path, sizeof(path), NULL), KF_ERR_INVALID);
	assert_int_equal(kf_file_sink_expect(sink, hex, NULL), KF_OK);
	assert_int_equal(kf_file_sink_finish(sink, path, sizeof(path), NULL), KF_OK);
	kf_file_sink_free(sink);
	{
		FILE *f = fopen(path, "rb");
		uint8_t *back = malloc(total + 1);

		assert_non_null(f);
		assert_int_equal(fread(back, 1, total + 1, f), total);
		assert_memory_equal(back, data, total);
		fclose(f);
		free(back);
	}
	/* Changed on the way: the thread's hash is the one checked. */
	data[total / 2] ^= 1;
	assert_int_equal(kf_file_sink_new(dir, "changed.bin", total, hex, &sink, NULL), KF_OK);
	assert_int_equal(kf_file_sink_use_thread(sink, &room.loop, on_room, &room, NULL), KF_OK);
	assert_int_equal(kf_file_sink_write(sink, data, total, NULL), KF_OK);
	assert_int_equal(kf_file_sink_finish(sink, path, sizeof(path), NULL), KF_ERR_AUTH);
	kf_file_sink_free(sink);
	/* Freed half-way, as when the customer takes files back: nothing stays. */
	assert_int_equal(kf_file_sink_new(dir, "cut.bin", total, hex, &sink, NULL), KF_OK);
	assert_int_equal(kf_file_sink_use_thread(sink, &room.loop, on_room, &room, NULL), KF_OK);
	assert_int_equal(kf_file_sink_write(sink, data, total / 2, NULL), KF_OK);
	kf_file_sink_free(sink);
	uv_run(&room.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&room.loop), 0);
	assert_int_equal(count_entries(dir), 1);
	free(data);
	remove_dir(dir);
}

struct pumped {
	int count, status;
	uint8_t *received;
	size_t len;
};

static void on_pumped(void *user, int status, const char *message)
{
	struct pumped *p = user;

	(void)message;
	p->count++;
	p->status = status;
}

static void on_pumped_bytes(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct pumped *p = user;

	(void)stream;
	memcpy(p->received + p->len, data, len);
	p->len += len;
}

/* Sends path through a pump on its reading thread; the peer's bytes land in p->received. */
static void pump_file(const char *path, uint64_t size, struct pumped *p, char sha256[65])
{
	struct kf_stream *a, *b;
	struct kf_file_pump *pump;
	uv_loop_t loop;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	memory_stream_pair(&a, &b);
	b->on_read = on_pumped_bytes;
	b->user = p;
	assert_int_equal(kf_file_pump_start(a, fd, size, true, &loop, on_pumped, p, &pump, NULL),
			 KF_OK);
	for (int turn = 0; turn < 100000 && p->count == 0; turn++) {
		uv_run(&loop, UV_RUN_ONCE);
		memory_stream_pump(a, b);
	}
	memory_stream_pump(a, b);
	sha256[0] = '\0';
	if (kf_file_pump_sha256(pump) != NULL)
		memcpy(sha256, kf_file_pump_sha256(pump), 65);
	kf_file_pump_free(pump);
	kf_stream_close(a);
	kf_stream_close(b);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(fd);
}

static void test_pump_on_its_thread_sends_and_hashes_what_it_read(void **state)
{
	const size_t total = 3 * KF_FILE_SINK_QUEUED + 777;
	uint8_t *data = malloc(total), digest[32];
	char dir[64], path[PATH_MAX], hex[65], sha256[65];
	struct pumped p = {0};
	FILE *f;

	(void)state;
	assert_non_null(data);
	fill(data, total, 7);
	EVP_Digest(data, total, digest, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	make_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/payload", dir);
	f = fopen(path, "wb");
	assert_int_equal(fwrite(data, 1, total, f), total);
	fclose(f);
	p.received = malloc(total + KF_FILE_SINK_BLOCK);
	pump_file(path, total, &p, sha256);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.status, KF_OK);
	assert_int_equal(p.len, total);
	assert_memory_equal(p.received, data, total);
	assert_string_equal(sha256, hex);
	/* A file shorter than it was said to be fails, and is never said to be whole. */
	free(p.received);
	memset(&p, 0, sizeof(p));
	p.received = malloc(total + KF_FILE_SINK_BLOCK);
	pump_file(path, total + 10, &p, sha256);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.status, KF_ERR_IO);
	assert_string_equal(sha256, "");
	free(p.received);
	free(data);
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
		cmocka_unit_test(test_sink_on_its_thread_holds_back_and_saves_whole_files),
		cmocka_unit_test(test_pump_on_its_thread_sends_and_hashes_what_it_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
