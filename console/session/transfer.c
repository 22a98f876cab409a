/* kefu-console: sending a file to the customer's computer and fetching one from it.
 * SPDX-License-Identifier: MIT */
#include "console/session/transfer.h"
#include "proto/session/file-transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum transfer_state {
	SENDING,   /* the file goes out; then the agent's answer */
	ANSWER,    /* reading the agent's answer line */
	RECEIVING, /* a fetched file's bytes arrive */
	DONE,
};

struct kf_console_transfer {
	struct kf_stream *stream;
	enum transfer_state state;
	int is_fetch;
	int fd;
	bool is_hash_after;
	struct stat sent_stat; /* the file as it was when its bytes started out */
	struct kf_file_pump *pump;
	struct kf_file_sink *sink;
	struct kf_file_line line;
	char local_dir[PATH_MAX];
	json_t *fields;
	kf_console_transfer_done_fn done;
	void *user;
	/* A failure while the pump starts is returned by the call, not reported. */
	int is_starting, start_status;
	char start_error[KF_ERROR_MESSAGE_SIZE];
};

static void complete(struct kf_console_transfer *t, int status, const char *error)
{
	if (t->state == DONE)
		return;
	t->state = DONE;
	if (error != NULL)
		json_object_set_new(t->fields, "error", json_string(error));
	kf_stream_close(t->stream);
	t->stream = NULL;
	kf_file_sink_free(t->sink);
	t->sink = NULL;
	t->done(t, status, t->fields, t->user);
}

static void take_file_bytes(struct kf_console_transfer *t, const uint8_t *data, size_t len)
{
	char saved[PATH_MAX + KF_FILE_NAME_MAX + 16];
	struct kf_error err;

	if (kf_file_sink_write(t->sink, data, len, &err) != KF_OK) {
		complete(t, err.code, err.message);
		return;
	}
	if (!kf_file_sink_is_complete(t->sink))
		return;
	if (kf_file_sink_finish(t->sink, saved, sizeof(saved), &err) != KF_OK) {
		complete(t, err.code, err.message);
		return;
	}
	json_object_set_new(t->fields, "saved", json_string(saved));
	complete(t, KF_OK, NULL);
}

static void answered(struct kf_console_transfer *t, json_t *answer, const uint8_t *rest,
		     size_t rest_len)
{
	const char *error = json_string_value(json_object_get(answer, "error"));
	struct kf_error err;

	if (!json_is_true(json_object_get(answer, "ok"))) {
		complete(t, KF_ERR_DENIED, error ? error : "the customer's computer refused");
		return;
	}
	json_object_update(t->fields, answer);
	json_object_del(t->fields, "ok");
	if (!t->is_fetch) {
		complete(t, KF_OK, NULL);
		return;
	}
	/* The name comes from the other side: it must be a plain name for our folder. */
	json_t *size = json_object_get(answer, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0 ||
	    kf_file_sink_new(t->local_dir, json_string_value(json_object_get(answer, "name")) ?: "",
			     (uint64_t)json_integer_value(size),
			     json_string_value(json_object_get(answer, "sha256")), &t->sink,
			     &err) != KF_OK) {
		complete(t, KF_ERR_INVALID,
			 json_is_integer(size) ? err.message : "the answer has no size");
		return;
	}
	t->state = RECEIVING;
	take_file_bytes(t, rest, rest_len);
}

static void on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct kf_console_transfer *t = user;
	struct kf_error err;
	json_t *answer;
	int used;

	(void)stream;
	if (t->state == RECEIVING) {
		take_file_bytes(t, data, len);
		return;
	}
	if (t->state == DONE)
		return;
	/* A send's answer may come early (a refusal before the bytes went out). */
	used = kf_file_line_take(&t->line, data, len, &answer, &err);
	if (used < 0) {
		complete(t, used, err.message);
		return;
	}
	if (answer == NULL)
		return;
	answered(t, answer, data + used, len - (size_t)used);
	json_decref(answer);
}

static void on_end(struct kf_stream *stream, int status, const struct kf_error *err, void *user)
{
	struct kf_console_transfer *t = user;

	(void)stream;
	(void)status;
	complete(t, KF_ERR_CLOSED,
		 err != NULL ? err->message : "the customer's computer ended the transfer early");
}

static void on_drain(struct kf_stream *stream, void *user)
{
	struct kf_console_transfer *t = user;

	(void)stream;
	if (t->state == SENDING)
		kf_file_pump_drained(t->pump);
}

/* The SHA-256 after the bytes, unless the file changed while they went out. */
static int send_trailer(struct kf_console_transfer *t, char *error, size_t error_size)
{
	struct stat now;
	json_t *line;
	struct kf_error err;
	int r;

	if (fstat(t->fd, &now) != 0 || now.st_size != t->sent_stat.st_size ||
	    now.st_mtim.tv_sec != t->sent_stat.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != t->sent_stat.st_mtim.tv_nsec) {
		snprintf(error, error_size, "the file changed while it was sent; send it again");
		return KF_ERR_IO;
	}
	line = json_pack("{s:s}", "sha256", kf_file_pump_sha256(t->pump));
	r = kf_file_line_send(t->stream, line, &err);
	json_decref(line);
	if (r != KF_OK)
		snprintf(error, error_size, "%s", err.message);
	return r;
}

static void on_pumped(void *user, int status, const char *message)
{
	struct kf_console_transfer *t = user;
	char error[KF_ERROR_MESSAGE_SIZE];

	if (status == KF_OK && t->is_hash_after &&
	    (status = send_trailer(t, error, sizeof(error))) != KF_OK)
		message = error;
	if (status != KF_OK && t->is_starting) {
		t->start_status = status;
		snprintf(t->start_error, sizeof(t->start_error), "%s", message);
		return;
	}
	if (status != KF_OK) {
		complete(t, status, message);
		return;
	}
	if (t->state == SENDING)
		t->state = ANSWER;
}

static struct kf_console_transfer *transfer_new(struct kf_stream *stream,
						kf_console_transfer_done_fn done, void *user)
{
	struct kf_console_transfer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->stream = stream;
	t->fd = -1;
	t->fields = json_object();
	t->done = done;
	t->user = user;
	stream->on_read = on_read;
	stream->on_end = on_end;
	stream->on_drain = on_drain;
	stream->user = t;
	return t;
}

int kf_console_transfer_send(struct kf_stream *stream, uv_loop_t *loop, const char *local_path,
			     const json_t *options, bool is_hash_after,
			     kf_console_transfer_done_fn done, void *user,
			     struct kf_console_transfer **out, struct kf_error *err)
{
	const char *name = strrchr(local_path, '/') ? strrchr(local_path, '/') + 1 : local_path;
	struct kf_console_transfer *t;
	struct stat st;
	char sha256[65];
	uint64_t size;
	json_t *header;
	int fd, r;

	*out = NULL;
	if (!kf_file_name_is_safe(name)) {
		kf_stream_close(stream);
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s: name the file plainly (no leading dot or dash)",
				    local_path);
	}
	fd = open(local_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > KF_FILE_MAX_SIZE) {
		r = kf_error_set(err, KF_ERR_INVALID, "%s: %s", local_path,
				 fd < 0                 ? strerror(errno)
				 : !S_ISREG(st.st_mode) ? "not a regular file"
							: "larger than 256 MiB");
		if (fd >= 0)
			close(fd);
		kf_stream_close(stream);
		return r;
	}
	size = (uint64_t)st.st_size;
	if (!is_hash_after && (r = kf_file_hash_fd(fd, sha256, &size, err)) != KF_OK) {
		close(fd);
		kf_stream_close(stream);
		return r;
	}
	t = transfer_new(stream, done, user);
	if (t == NULL) {
		close(fd);
		kf_stream_close(stream);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	t->fd = fd;
	t->is_hash_after = is_hash_after;
	t->sent_stat = st;
	header = json_pack("{s:s, s:s, s:I, s:s}", "op", "send", "name", name, "size",
			   (json_int_t)size, is_hash_after ? "hash" : "sha256",
			   is_hash_after ? "after" : sha256);
	if (options != NULL)
		json_object_set(header, "options", (json_t *)options);
	r = kf_file_line_send(stream, header, err);
	json_decref(header);
	if (r == KF_OK) {
		t->is_starting = 1;
		r = kf_file_pump_start(stream, fd, size, is_hash_after, loop, on_pumped, t,
				       &t->pump, err);
		t->is_starting = 0;
		if (r == KF_OK && t->start_status != KF_OK)
			r = kf_error_set(err, t->start_status, "%s: %s", local_path,
					 t->start_error);
	}
	if (r != KF_OK) {
		t->state = DONE; /* no callback for a transfer that never started */
		kf_console_transfer_free(t);
		return r;
	}
	*out = t;
	return KF_OK;
}

int kf_console_transfer_fetch(struct kf_stream *stream, const char *remote_path,
			      const char *local_dir, kf_console_transfer_done_fn done, void *user,
			      struct kf_console_transfer **out, struct kf_error *err)
{
	struct kf_console_transfer *t;
	json_t *header;
	int r;

	*out = NULL;
	if (remote_path[0] != '/') {
		kf_stream_close(stream);
		return kf_error_set(err, KF_ERR_INVALID, "fetch needs an absolute path");
	}
	t = transfer_new(stream, done, user);
	if (t == NULL) {
		kf_stream_close(stream);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	t->is_fetch = 1;
	t->state = ANSWER;
	snprintf(t->local_dir, sizeof(t->local_dir), "%s", local_dir);
	header = json_pack("{s:s, s:s}", "op", "fetch", "path", remote_path);
	r = kf_file_line_send(stream, header, err);
	json_decref(header);
	if (r != KF_OK) {
		t->state = DONE;
		kf_console_transfer_free(t);
		return r;
	}
	*out = t;
	return KF_OK;
}

void kf_console_transfer_free(struct kf_console_transfer *t)
{
	if (t == NULL)
		return;
	if (t->stream != NULL)
		kf_stream_close(t->stream);
	kf_file_sink_free(t->sink);
	kf_file_pump_free(t->pump);
	if (t->fd >= 0)
		close(t->fd);
	json_decref(t->fields);
	free(t);
}
