/* kefu: a kf_stream over a connected socket. SPDX-License-Identifier: MIT */
#include "proto/session/stream-socket.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_SIZE (64u * 1024u)

struct socket_stream {
	struct kf_stream base;
	uv_pipe_t pipe;
	size_t pending;
	int is_above_high_water;
	int is_closed;
	int is_ended;
	int is_paused;
};

struct socket_write {
	uv_write_t req;
	struct socket_stream *stream;
	size_t len;
	uint8_t data[];
};

static void end_once(struct socket_stream *s, int status, const char *what, int uv_status)
{
	if (s->is_ended || s->is_closed)
		return;
	s->is_ended = 1;
	uv_read_stop((uv_stream_t *)&s->pipe);
	struct kf_error err;
	kf_error_clear(&err);
	if (status != KF_OK)
		kf_error_set(&err, status, "%s: %s", what, uv_strerror(uv_status));
	if (s->base.on_end)
		s->base.on_end(&s->base, status, status == KF_OK ? NULL : &err, s->base.user);
}

static void on_written(uv_write_t *req, int status)
{
	struct socket_write *w = (struct socket_write *)req;
	struct socket_stream *s = w->stream;
	s->pending -= w->len;
	free(w);
	if (s->is_closed)
		return;
	if (status < 0) {
		end_once(s, KF_ERR_CLOSED, "socket write", status);
		return;
	}
	if (s->is_above_high_water && s->pending == 0) {
		s->is_above_high_water = 0;
		if (s->base.on_drain)
			s->base.on_drain(&s->base, s->base.user);
	}
}

static int socket_write(struct kf_stream *stream, const void *data, size_t len,
			struct kf_error *err)
{
	struct socket_stream *s = (struct socket_stream *)stream;
	if (s->is_closed || s->is_ended)
		return kf_error_set(err, KF_ERR_CLOSED, "the stream is closed");
	if (len == 0)
		return 0;
	struct socket_write *w = malloc(sizeof(*w) + len);
	if (w == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	w->stream = s;
	w->len = len;
	memcpy(w->data, data, len);
	uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)len);
	int rc = uv_write(&w->req, (uv_stream_t *)&s->pipe, &buf, 1, on_written);
	if (rc < 0) {
		free(w);
		return kf_error_set(err, KF_ERR_CLOSED, "socket write: %s", uv_strerror(rc));
	}
	s->pending += len;
	if (s->pending >= KF_STREAM_HIGH_WATER)
		s->is_above_high_water = 1;
	return 0;
}

static size_t socket_pending(const struct kf_stream *stream)
{
	return ((const struct socket_stream *)stream)->pending;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	buf->base = malloc(READ_SIZE);
	buf->len = buf->base ? READ_SIZE : 0;
}

static void on_read(uv_stream_t *handle, ssize_t nread, const uv_buf_t *buf)
{
	struct socket_stream *s = handle->data;
	if (nread > 0 && !s->is_closed && s->base.on_read)
		s->base.on_read(&s->base, (const uint8_t *)buf->base, (size_t)nread, s->base.user);
	else if (nread == UV_EOF)
		end_once(s, KF_OK, "", 0);
	else if (nread < 0)
		end_once(s, KF_ERR_CLOSED, "socket read", (int)nread);
	free(buf->base);
}

static void socket_read_pause(struct kf_stream *stream, int paused)
{
	struct socket_stream *s = (struct socket_stream *)stream;
	if (s->is_closed || s->is_ended || s->is_paused == (paused != 0))
		return;
	s->is_paused = paused != 0;
	if (paused)
		uv_read_stop((uv_stream_t *)&s->pipe);
	else
		uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

static void socket_shutdown(struct kf_stream *stream)
{
	struct socket_stream *s = (struct socket_stream *)stream;
	if (s->is_closed)
		return;
	uv_shutdown_t *req = malloc(sizeof(*req));
	if (req != NULL && uv_shutdown(req, (uv_stream_t *)&s->pipe, on_shutdown) < 0)
		free(req);
}

static void on_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void socket_close(struct kf_stream *stream)
{
	struct socket_stream *s = (struct socket_stream *)stream;
	if (s->is_closed)
		return;
	s->is_closed = 1;
	uv_close((uv_handle_t *)&s->pipe, on_closed);
}

static const struct kf_stream_ops socket_ops = {
	.write = socket_write,
	.pending = socket_pending,
	.read_pause = socket_read_pause,
	.shutdown = socket_shutdown,
	.close = socket_close,
};

int kf_stream_socket_new(uv_loop_t *loop, int fd, struct kf_stream **out, struct kf_error *err)
{
	*out = NULL;
	struct socket_stream *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	s->base.ops = &socket_ops;
	uv_pipe_init(loop, &s->pipe, 0);
	s->pipe.data = s;
	int rc = uv_pipe_open(&s->pipe, fd);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read);
	if (rc < 0) {
		s->is_closed = 1;
		uv_close((uv_handle_t *)&s->pipe, on_closed);
		return kf_error_set(err, KF_ERR_IO, "cannot use socket %d: %s", fd,
				    uv_strerror(rc));
	}
	*out = &s->base;
	return 0;
}
