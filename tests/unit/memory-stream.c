/* kefu tests: a pair of in-memory kf_streams pumped by the test itself. SPDX-License-Identifier: MIT */
#include "tests/unit/memory-stream.h"
#include "proto/base/buffer.h"

#include <stdlib.h>
#include <string.h>

struct memory_stream {
	struct kf_stream stream;
	struct memory_stream *peer;
	struct kf_buf inbox;
	int is_paused;
	int is_closed;
	int is_eof_pending;
	int is_ended;
	int corrupt_next;
};

static int memory_write(struct kf_stream *stream, const void *data, size_t len,
			struct kf_error *err)
{
	struct memory_stream *end = (struct memory_stream *)stream;

	if (end->peer == NULL || end->peer->is_closed)
		return kf_error_set(err, KF_ERR_CLOSED, "peer closed");
	return kf_buf_append(&end->peer->inbox, data, len);
}

static size_t memory_pending(const struct kf_stream *stream)
{
	(void)stream;
	return 0;
}

static void memory_read_pause(struct kf_stream *stream, int paused)
{
	((struct memory_stream *)stream)->is_paused = paused;
}

static void memory_shutdown(struct kf_stream *stream)
{
	struct memory_stream *end = (struct memory_stream *)stream;

	if (end->peer != NULL)
		end->peer->is_eof_pending = 1;
}

static void memory_close(struct kf_stream *stream)
{
	struct memory_stream *end = (struct memory_stream *)stream;

	end->is_closed = 1;
	if (end->peer != NULL)
		end->peer->peer = NULL;
	kf_buf_free(&end->inbox);
	free(end);
}

static const struct kf_stream_ops memory_ops = {
	.write = memory_write,
	.pending = memory_pending,
	.read_pause = memory_read_pause,
	.shutdown = memory_shutdown,
	.close = memory_close,
};

void memory_stream_pair(struct kf_stream **a, struct kf_stream **b)
{
	struct memory_stream *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));

	x->stream.ops = y->stream.ops = &memory_ops;
	x->peer = y;
	y->peer = x;
	*a = &x->stream;
	*b = &y->stream;
}

/* Delivers one end's inbox; returns the bytes delivered. */
static size_t deliver(struct memory_stream *end)
{
	struct kf_buf batch = {0};
	size_t moved;

	if (end->is_closed || end->is_ended || end->is_paused)
		return 0;
	if (end->inbox.len == 0) {
		if (end->is_eof_pending) {
			end->is_ended = 1;
			if (end->stream.on_end != NULL)
				end->stream.on_end(&end->stream, KF_OK, NULL, end->stream.user);
		}
		return 0;
	}
	kf_buf_append(&batch, end->inbox.data, end->inbox.len);
	kf_buf_reset(&end->inbox);
	if (end->corrupt_next) {
		batch.data[batch.len / 2] ^= 0x01;
		end->corrupt_next = 0;
	}
	moved = batch.len;
	if (end->stream.on_read != NULL)
		end->stream.on_read(&end->stream, batch.data, batch.len, end->stream.user);
	kf_buf_free(&batch);
	return moved;
}

size_t memory_stream_pump(struct kf_stream *a, struct kf_stream *b)
{
	struct memory_stream *x = (struct memory_stream *)a, *y = (struct memory_stream *)b;
	size_t total = 0, moved;

	(void)y;
	do {
		/* Re-read the peers each round: a callback may have closed an end. */
		moved = deliver(x);
		if (x->peer != NULL)
			moved += deliver(x->peer);
		total += moved;
	} while (moved > 0);
	return total;
}

void memory_stream_corrupt_next(struct kf_stream *end)
{
	((struct memory_stream *)end)->corrupt_next = 1;
}

void memory_stream_hang_up(struct kf_stream *end)
{
	((struct memory_stream *)end)->is_eof_pending = 1;
}
