/* kefu: unit tests for the kf_stream over a connected socket. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/stream-socket.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct seen {
	uint8_t data[4096];
	size_t len;
	int ends;
	int end_status;
	int drains;
	int is_closed_on_end;
};

static void on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	(void)stream;
	struct seen *seen = user;
	if (seen->len + len <= sizeof(seen->data)) {
		memcpy(seen->data + seen->len, data, len);
		seen->len += len;
	}
}

static void on_end(struct kf_stream *stream, int status, const struct kf_error *err, void *user)
{
	(void)err;
	struct seen *seen = user;
	seen->ends++;
	seen->end_status = status;
	if (seen->is_closed_on_end)
		kf_stream_close(stream);
}

static void on_drain(struct kf_stream *stream, void *user)
{
	(void)stream;
	((struct seen *)user)->drains++;
}

static struct kf_stream *open_pair(uv_loop_t *loop, int *peer, struct seen *seen)
{
	int pair[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	struct kf_stream *stream;
	assert_int_equal(kf_stream_socket_new(loop, pair[0], &stream, NULL), 0);
	stream->on_read = on_read;
	stream->on_end = on_end;
	stream->on_drain = on_drain;
	stream->user = seen;
	*peer = pair[1];
	return stream;
}

static void bytes_cross_both_ways_and_eof_ends_once(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct seen seen = {.is_closed_on_end = 1};
	int peer;
	struct kf_stream *stream = open_pair(&loop, &peer, &seen);
	assert_int_equal(kf_stream_write(stream, "hello", 5, NULL), 0);
	assert_int_equal(kf_stream_pending(stream), 5);
	uv_run(&loop, UV_RUN_NOWAIT);
	char got[8] = {0};
	assert_int_equal(read(peer, got, sizeof(got)), 5);
	assert_memory_equal(got, "hello", 5);
	assert_int_equal(kf_stream_pending(stream), 0);
	assert_int_equal(write(peer, "world", 5), 5);
	close(peer);
	/* Runs until the stream, closed from its own end callback, is gone. */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(seen.len, 5);
	assert_memory_equal(seen.data, "world", 5);
	assert_int_equal(seen.ends, 1);
	assert_int_equal(seen.end_status, KF_OK);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void paused_stream_delivers_nothing_until_resumed(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct seen seen = {0};
	int peer;
	struct kf_stream *stream = open_pair(&loop, &peer, &seen);
	kf_stream_read_pause(stream, 1);
	assert_int_equal(write(peer, "abc", 3), 3);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(seen.len, 0);
	kf_stream_read_pause(stream, 0);
	for (int i = 0; i < 100 && seen.len < 3; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(seen.len, 3);
	kf_stream_close(stream);
	close(peer);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(seen.ends, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void drain_fires_after_high_water_is_written(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct seen seen = {0};
	int peer;
	struct kf_stream *stream = open_pair(&loop, &peer, &seen);
	size_t size = KF_STREAM_HIGH_WATER + 1;
	uint8_t *big = calloc(1, size);
	assert_non_null(big);
	assert_int_equal(kf_stream_write(stream, big, size, NULL), 0);
	assert_true(kf_stream_pending(stream) >= KF_STREAM_HIGH_WATER);
	size_t drained = 0;
	while (drained < size) {
		uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t n = recv(peer, big, size, MSG_DONTWAIT);
		if (n > 0)
			drained += (size_t)n;
	}
	for (int i = 0; i < 100 && seen.drains == 0; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(seen.drains, 1);
	free(big);
	kf_stream_close(stream);
	close(peer);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void write_after_peer_end_fails_cleanly(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct seen seen = {0};
	int peer;
	struct kf_stream *stream = open_pair(&loop, &peer, &seen);
	close(peer);
	for (int i = 0; i < 100 && seen.ends == 0; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(seen.ends, 1);
	struct kf_error err;
	assert_int_equal(kf_stream_write(stream, "x", 1, &err), KF_ERR_CLOSED);
	kf_stream_close(stream);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_cross_both_ways_and_eof_ends_once),
		cmocka_unit_test(paused_stream_delivers_nothing_until_resumed),
		cmocka_unit_test(drain_fires_after_high_water_is_written),
		cmocka_unit_test(write_after_peer_end_fails_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
