/* kefu-agentd: a stream that tells when the other side's first bytes arrive. SPDX-License-Identifier: MIT */
#include "agentd/session/first-bytes.h"
#include "proto/base/guard.h"

#include <stdbool.h>
#include <stdlib.h>

struct first_bytes {
	struct kf_stream stream; /* first: the stream pointer is the watcher's */
	struct kf_stream *lower;
	void (*on_heard)(void *user);
	void *user;
	bool is_heard;
	struct kf_guard guard; /* close waits for the user's callbacks that run now */
};

static void leave(struct first_bytes *watch)
{
	if (kf_guard_leave(&watch->guard))
		free(watch);
}

static void lower_on_read(struct kf_stream *lower, const uint8_t *data, size_t len, void *user)
{
	struct first_bytes *watch = user;

	(void)lower;
	kf_guard_enter(&watch->guard);
	if (!watch->is_heard) {
		watch->is_heard = true;
		watch->on_heard(watch->user);
	}
	if (!kf_guard_is_freed(&watch->guard) && watch->stream.on_read != NULL)
		watch->stream.on_read(&watch->stream, data, len, watch->stream.user);
	leave(watch);
}

static void lower_on_end(struct kf_stream *lower, int status, const struct kf_error *err,
			 void *user)
{
	struct first_bytes *watch = user;

	(void)lower;
	kf_guard_enter(&watch->guard);
	if (!kf_guard_is_freed(&watch->guard) && watch->stream.on_end != NULL)
		watch->stream.on_end(&watch->stream, status, err, watch->stream.user);
	leave(watch);
}

static void lower_on_drain(struct kf_stream *lower, void *user)
{
	struct first_bytes *watch = user;

	(void)lower;
	kf_guard_enter(&watch->guard);
	if (!kf_guard_is_freed(&watch->guard) && watch->stream.on_drain != NULL)
		watch->stream.on_drain(&watch->stream, watch->stream.user);
	leave(watch);
}

static int watch_write(struct kf_stream *stream, const void *data, size_t len, struct kf_error *err)
{
	return kf_stream_write(((struct first_bytes *)stream)->lower, data, len, err);
}

static size_t watch_pending(const struct kf_stream *stream)
{
	return kf_stream_pending(((const struct first_bytes *)stream)->lower);
}

static void watch_read_pause(struct kf_stream *stream, int paused)
{
	kf_stream_read_pause(((struct first_bytes *)stream)->lower, paused);
}

static void watch_shutdown(struct kf_stream *stream)
{
	kf_stream_shutdown(((struct first_bytes *)stream)->lower);
}

static void watch_close(struct kf_stream *stream)
{
	struct first_bytes *watch = (struct first_bytes *)stream;

	if (kf_guard_is_freed(&watch->guard))
		return;
	/* Marked freed first, so that nothing the lower stream says while it closes is passed on.
	 */
	kf_guard_enter(&watch->guard);
	kf_guard_free(&watch->guard);
	kf_stream_close(watch->lower);
	leave(watch);
}

static const struct kf_stream_ops watch_ops = {
	.write = watch_write,
	.pending = watch_pending,
	.read_pause = watch_read_pause,
	.shutdown = watch_shutdown,
	.close = watch_close,
};

struct kf_stream *kf_first_bytes_stream_new(struct kf_stream *lower, void (*on_heard)(void *user),
					    void *user)
{
	struct first_bytes *watch = calloc(1, sizeof(*watch));

	if (watch == NULL)
		return NULL;
	watch->stream.ops = &watch_ops;
	watch->lower = lower;
	watch->on_heard = on_heard;
	watch->user = user;
	lower->on_read = lower_on_read;
	lower->on_end = lower_on_end;
	lower->on_drain = lower_on_drain;
	lower->user = watch;
	return &watch->stream;
}
