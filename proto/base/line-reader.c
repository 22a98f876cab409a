/* kefu: lines from standard input (a terminal, a pipe or a file) on a libuv loop. SPDX-License-Identifier: MIT */
#include "proto/base/line-reader.h"
#include "proto/base/guard.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kf_line_reader {
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tty_t tty;
		uv_pipe_t pipe;
	} input;
	uv_idle_t file_reader; /* regular files and /dev/null cannot be polled */
	int fd;
	int is_file;
	int is_eof;
	struct kf_guard guard; /* defers destroying it while on_line or on_eof runs */
	struct kf_line_reader_callbacks callbacks;
	void *user;
	char line[KF_LINE_MAX + 1];
	size_t line_len;
	char read_buffer[4096];
};

static void reader_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void reader_destroy(struct kf_line_reader *reader)
{
	if (reader->is_file)
		uv_close((uv_handle_t *)&reader->file_reader, reader_closed);
	else
		uv_close(&reader->input.handle, reader_closed);
}

static void emit_eof(struct kf_line_reader *reader)
{
	if (reader->is_eof)
		return;
	reader->is_eof = 1;
	if (reader->line_len > 0 && reader->callbacks.on_line != NULL) {
		reader->line[reader->line_len] = '\0';
		reader->line_len = 0;
		reader->callbacks.on_line(reader, reader->line, reader->user);
	}
	if (!kf_guard_is_freed(&reader->guard) && reader->callbacks.on_eof != NULL)
		reader->callbacks.on_eof(reader, reader->user);
}

static void take_bytes(struct kf_line_reader *reader, const char *data, size_t len)
{
	for (size_t i = 0; i < len && !kf_guard_is_freed(&reader->guard); i++) {
		if (data[i] == '\n') {
			reader->line[reader->line_len] = '\0';
			if (reader->line_len > 0 && reader->line[reader->line_len - 1] == '\r')
				reader->line[reader->line_len - 1] = '\0';
			reader->line_len = 0;
			if (reader->callbacks.on_line != NULL)
				reader->callbacks.on_line(reader, reader->line, reader->user);
		} else if (reader->line_len < KF_LINE_MAX) {
			reader->line[reader->line_len++] = data[i];
		}
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct kf_line_reader *reader = handle->data;

	(void)suggested;
	buf->base = reader->read_buffer;
	buf->len = sizeof(reader->read_buffer);
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct kf_line_reader *reader = stream->data;

	kf_guard_enter(&reader->guard);
	if (n > 0)
		take_bytes(reader, buf->base, (size_t)n);
	else if (n < 0) {
		uv_read_stop(stream);
		emit_eof(reader);
	}
	if (kf_guard_leave(&reader->guard))
		reader_destroy(reader);
}

static void on_file_idle(uv_idle_t *idle)
{
	struct kf_line_reader *reader = idle->data;
	ssize_t n = read(reader->fd, reader->read_buffer, sizeof(reader->read_buffer));

	kf_guard_enter(&reader->guard);
	if (n > 0) {
		take_bytes(reader, reader->read_buffer, (size_t)n);
	} else {
		uv_idle_stop(idle);
		emit_eof(reader);
	}
	if (kf_guard_leave(&reader->guard))
		reader_destroy(reader);
}

int kf_line_reader_new(uv_loop_t *loop, int fd, const struct kf_line_reader_callbacks *callbacks,
		       void *user, struct kf_line_reader **out, struct kf_error *err)
{
	struct kf_line_reader *reader = calloc(1, sizeof(*reader));
	int r;

	*out = NULL;
	if (reader == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	reader->fd = fd;
	reader->callbacks = *callbacks;
	reader->user = user;
	switch (uv_guess_handle(fd)) {
	case UV_TTY:
		r = uv_tty_init(loop, &reader->input.tty, fd, 1);
		break;
	case UV_NAMED_PIPE:
		r = uv_pipe_init(loop, &reader->input.pipe, 0);
		if (r == 0)
			r = uv_pipe_open(&reader->input.pipe, fd);
		break;
	default:
		reader->is_file = 1;
		uv_idle_init(loop, &reader->file_reader);
		reader->file_reader.data = reader;
		uv_idle_start(&reader->file_reader, on_file_idle);
		*out = reader;
		return KF_OK;
	}
	if (r == 0) {
		reader->input.handle.data = reader;
		r = uv_read_start(&reader->input.stream, on_alloc, on_read);
	}
	if (r != 0) {
		free(reader);
		return kf_error_set(err, KF_ERR_IO, "cannot read standard input: %s",
				    uv_strerror(r));
	}
	*out = reader;
	return KF_OK;
}

void kf_line_reader_free(struct kf_line_reader *reader)
{
	if (reader != NULL && kf_guard_free(&reader->guard))
		reader_destroy(reader);
}
