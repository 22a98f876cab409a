/* kefu: a kf_stream handed out at once and connected when its transport is ready. SPDX-License-Identifier: MIT */
#include "proto/session/stream-pending.h"
#include "proto/base/buffer.h"

#include <stdlib.h>

struct pending {
	struct kf_stream stream; /* first: the stream pointer is the struct pointer */
	struct kf_stream *real;
	struct kf_buf queue;
	int is_paused;
	int wants_shutdown;
	int is_user_closed;
	int is_resolved;
};

static void maybe_free(struct pending *pending)
{
	if (!pending->is_user_closed || !pending->is_resolved)
		return;
	if (pending->real != NULL)
		kf_stream_close(pending->real);
	kf_buf_free(&pending->queue);
	free(pending);
}

static int pending_write(struct kf_stream *stream, const void *data, size_t len,
			 struct kf_error *err)
{
	struct pending *pending = (struct pending *)stream;

	if (pending->real != NULL)
		return kf_stream_write(pending->real, data, len, err);
	if (pending->is_resolved)
		return kf_error_set(err, KF_ERR_CLOSED, "the stream could not be opened");
	return kf_buf_append(&pending->queue, data, len) == KF_OK
		       ? KF_OK
		       : kf_error_set(err, KF_ERR_NOMEM, "out of memory");
}

static size_t pending_pending(const struct kf_stream *stream)
{
	const struct pending *pending = (const struct pending *)stream;

	return pending->real != NULL ? kf_stream_pending(pending->real) : pending->queue.len;
}

static void pending_read_pause(struct kf_stream *stream, int paused)
{
	struct pending *pending = (struct pending *)stream;

	pending->is_paused = paused;
	if (pending->real != NULL)
		kf_stream_read_pause(pending->real, paused);
}

static void pending_shutdown(struct kf_stream *stream)
{
	struct pending *pending = (struct pending *)stream;

	pending->wants_shutdown = 1;
	if (pending->real != NULL)
		kf_stream_shutdown(pending->real);
}

static void pending_close(struct kf_stream *stream)
{
	struct pending *pending = (struct pending *)stream;

	pending->is_user_closed = 1;
	maybe_free(pending);
}

static const struct kf_stream_ops pending_ops = {
	.write = pending_write,
	.pending = pending_pending,
	.read_pause = pending_read_pause,
	.shutdown = pending_shutdown,
	.close = pending_close,
};

/* The real stream's events, passed on to the user's callbacks. */
static void real_on_read(struct kf_stream *real, const uint8_t *data, size_t len, void *user)
{
	struct pending *pending = user;

	(void)real;
	if (pending->stream.on_read != NULL)
		pending->stream.on_read(&pending->stream, data, len, pending->stream.user);
}

static void real_on_end(struct kf_stream *real, int status, const struct kf_error *err, void *user)
{
	struct pending *pending = user;

	(void)real;
	if (pending->stream.on_end != NULL)
		pending->stream.on_end(&pending->stream, status, err, pending->stream.user);
}

static void real_on_drain(struct kf_stream *real, void *user)
{
	struct pending *pending = user;

	(void)real;
	if (pending->stream.on_drain != NULL)
		pending->stream.on_drain(&pending->stream, pending->stream.user);
}

struct kf_stream *kf_stream_pending_new(void)
{
	struct pending *pending = calloc(1, sizeof(*pending));

	if (pending == NULL)
		return NULL;
	pending->stream.ops = &pending_ops;
	return &pending->stream;
}

void kf_stream_pending_connect(struct kf_stream *stream, struct kf_stream *real)
{
	struct pending *pending = (struct pending *)stream;

	pending->is_resolved = 1;
	pending->real = real;
	if (pending->is_user_closed) {
		maybe_free(pending);
		return;
	}
	real->on_read = real_on_read;
	real->on_end = real_on_end;
	real->on_drain = real_on_drain;
	real->user = pending;
	if (pending->queue.len > 0)
		kf_stream_write(real, pending->queue.data, pending->queue.len, NULL);
	kf_buf_free(&pending->queue);
	if (pending->is_paused)
		kf_stream_read_pause(real, 1);
	if (pending->wants_shutdown)
		kf_stream_shutdown(real);
}

void kf_stream_pending_fail(struct kf_stream *stream, const struct kf_error *err)
{
	struct pending *pending = (struct pending *)stream;

	pending->is_resolved = 1;
	if (pending->is_user_closed) {
		maybe_free(pending);
		return;
	}
	if (pending->stream.on_end != NULL)
		pending->stream.on_end(&pending->stream, err != NULL ? err->code : KF_ERR_CLOSED,
				       err, pending->stream.user);
}
