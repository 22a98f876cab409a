/* kefu: an ordered, reliable byte stream driven by a libuv loop. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_STREAM_H
#define KF_PROTO_STREAM_H

#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Every layer of a session is a kf_stream stacked on another: an SSH channel
 * (proto/ssh-*.c), TLS inside it (proto/tls-*.c), frames on top. A layer
 * implements kf_stream_ops; its user sets the callbacks.
 *
 * Rules every implementation keeps:
 * - write() copies the bytes and never blocks; it fails only when the stream is
 *   closed or memory runs out. pending() tells how much is still queued, and
 *   on_drain fires when the queue falls to zero after having been above
 *   KF_STREAM_HIGH_WATER, so that producers (bulk transfers, the screen) can
 *   stop writing while pending() >= KF_STREAM_HIGH_WATER.
 * - on_read delivers bytes in order; read_pause(1) stops delivery until
 *   read_pause(0) (back-pressure towards the peer).
 * - on_end fires once, with KF_OK for an orderly end of the peer's data (EOF)
 *   or a negative code and a message for a failure. No on_read follows it.
 * - close() releases the stream at once; no callback fires after it. It may be
 *   called from inside any callback of the same stream.
 */
#define KF_STREAM_HIGH_WATER (256u * 1024u)

struct kf_stream;

struct kf_stream_ops {
	int (*write)(struct kf_stream *stream, const void *data, size_t len, struct kf_error *err);
	size_t (*pending)(const struct kf_stream *stream);
	void (*read_pause)(struct kf_stream *stream, int paused);
	/* Sends EOF once everything queued has been written. */
	void (*shutdown)(struct kf_stream *stream);
	void (*close)(struct kf_stream *stream);
};

struct kf_stream {
	const struct kf_stream_ops *ops;
	void (*on_read)(struct kf_stream *stream, const uint8_t *data, size_t len, void *user);
	void (*on_end)(struct kf_stream *stream, int status, const struct kf_error *err,
		       void *user);
	void (*on_drain)(struct kf_stream *stream, void *user);
	void *user;
};

static inline int kf_stream_write(struct kf_stream *stream, const void *data, size_t len,
				  struct kf_error *err)
{
	return stream->ops->write(stream, data, len, err);
}

static inline size_t kf_stream_pending(const struct kf_stream *stream)
{
	return stream->ops->pending(stream);
}

static inline void kf_stream_read_pause(struct kf_stream *stream, int paused)
{
	stream->ops->read_pause(stream, paused);
}

static inline void kf_stream_shutdown(struct kf_stream *stream)
{
	stream->ops->shutdown(stream);
}

static inline void kf_stream_close(struct kf_stream *stream)
{
	stream->ops->close(stream);
}

#endif
