/* kefu-agentd: one file sent to or fetched from this computer in a session.
 * SPDX-License-Identifier: MIT */
#include "agentd/session/files.h"
#include "proto/session/file-transfer.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum file_state {
	HEADER,    /* reading the console's header line */
	ASKING,    /* a fetch waits for the customer's answer */
	RECEIVING, /* a sent file's bytes arrive */
	TRAILER,   /* after them, the line with their SHA-256 ("hash":"after") */
	SENDING,   /* a fetched file's bytes go out */
	FINISHED,  /* answered; waiting for the console to close */
};

struct kf_agent_file {
	struct kf_stream *stream;
	uv_loop_t *loop;
	bool is_paused; /* reading waits for the sink's thread to catch up */
	enum file_state state;
	struct kf_file_line line;
	struct kf_file_sink *sink;
	struct kf_file_pump *pump;
	int fd;
	char dir[PATH_MAX];
	json_t *fields;
	kf_agent_file_done_fn done;
	kf_agent_file_closed_fn closed;
	kf_agent_file_ask_fn ask; /* NULL: this stream does not fetch */
	void *user;
	bool is_secret;
	bool is_hash_after;       /* the SHA-256 follows the bytes, in a line of its own */
	char real_path[PATH_MAX]; /* what the fetch opened, symbolic links resolved */
	int is_reported;
};

const char *kf_agent_download_dir(char *buffer, size_t size)
{
	const char *downloads = getenv("XDG_DOWNLOAD_DIR"), *home = getenv("HOME");

	if (downloads != NULL && downloads[0] == '/')
		snprintf(buffer, size, "%s/kefu", downloads);
	else if (home != NULL && home[0] == '/')
		snprintf(buffer, size, "%s/Downloads/kefu", home);
	else
		return NULL;
	return buffer;
}

static void report(struct kf_agent_file *file, int status)
{
	if (file->is_reported)
		return;
	file->is_reported = 1;
	/* What arrived of a file that failed is gone before anyone hears of it. */
	kf_file_sink_free(file->sink);
	file->sink = NULL;
	file->done(file, status, file->fields, file->user);
}

static void release(struct kf_agent_file *file)
{
	/* A partial file goes before the console can hear that the stream closed. */
	kf_file_sink_free(file->sink);
	file->sink = NULL;
	if (file->stream != NULL)
		kf_stream_close(file->stream);
	kf_file_pump_free(file->pump);
	if (file->fd >= 0)
		close(file->fd);
	json_decref(file->fields);
	free(file);
}

/* Answers, reports and waits for the console to close. */
static void finish(struct kf_agent_file *file, int status, const char *error)
{
	json_t *answer;

	if (status == KF_OK) {
		answer = json_pack("{s:b}", "ok", 1);
		json_object_update(answer, file->fields);
	} else {
		answer = json_pack("{s:b, s:s}", "ok", 0, "error", error);
		json_object_set_new(file->fields, "error", json_string(error));
	}
	if (file->state != SENDING || status != KF_OK)
		kf_file_line_send(file->stream, answer, NULL);
	json_decref(answer);
	kf_stream_shutdown(file->stream);
	file->state = FINISHED;
	kf_file_sink_free(file->sink);
	file->sink = NULL;
	report(file, status);
}

static void fail(struct kf_agent_file *file, int status, const char *error)
{
	finish(file, status < 0 ? status : KF_ERR_INVALID, error);
}

/* The sink's thread caught up: read on. */
static void on_room(void *user)
{
	struct kf_agent_file *file = user;

	if (!file->is_paused)
		return;
	file->is_paused = false;
	/* Last: records TLS holds may arrive at once and end the file. */
	kf_stream_read_pause(file->stream, 0);
}

static void start_send(struct kf_agent_file *file, const json_t *header)
{
	const char *name = json_string_value(json_object_get(header, "name"));
	const char *sha256 = json_string_value(json_object_get(header, "sha256"));
	const char *hash = json_string_value(json_object_get(header, "hash"));
	json_t *size = json_object_get(header, "size");
	char probe[PATH_MAX + 2];
	struct kf_error err;

	json_object_set_new(file->fields, "name", json_string(name ? name : ""));
	if (name == NULL || !json_is_integer(size) || json_integer_value(size) < 0) {
		fail(file, KF_ERR_INVALID, "a file needs a name and a size");
		return;
	}
	json_object_set_new(file->fields, "size", json_integer(json_integer_value(size)));
	/* The hash comes first, or after the bytes when the header says so: never neither. */
	file->is_hash_after = hash != NULL && strcmp(hash, "after") == 0;
	if (file->is_hash_after ? json_object_get(header, "sha256") != NULL
				: hash != NULL || sha256 == NULL) {
		fail(file, KF_ERR_INVALID, "no SHA-256 for the file");
		return;
	}
	snprintf(probe, sizeof(probe), "%s/", file->dir);
	if (kf_fs_make_parents(probe) != 0) {
		fail(file, KF_ERR_IO, "the downloads folder cannot be created");
		return;
	}
	if (kf_file_sink_new(file->dir, name, (uint64_t)json_integer_value(size),
			     file->is_hash_after ? NULL : sha256, &file->sink, &err) != KF_OK) {
		fail(file, err.code, err.message);
		return;
	}
	if (sha256 != NULL)
		json_object_set_new(file->fields, "sha256", json_string(sha256));
	/*
	 * Hashing and writing on a thread of their own leave this one to TLS and SSH,
	 * the larger part of a transfer. Without a thread the same work runs here.
	 */
	kf_file_sink_use_thread(file->sink, file->loop, on_room, file, NULL);
	file->state = RECEIVING;
}

static void on_pumped(void *user, int status, const char *message)
{
	struct kf_agent_file *file = user;

	if (status != KF_OK) {
		/* The header promised bytes that cannot come: end without an answer line. */
		json_object_set_new(file->fields, "error", json_string(message));
		kf_stream_shutdown(file->stream);
		file->state = FINISHED;
		report(file, status);
		return;
	}
	finish(file, KF_OK, NULL);
}

/*
 * Files that hold secrets: passwords' hashes, SSH and GPG private keys, browser
 * profiles (saved passwords, cookies). Matched in every home (a helper running
 * as root reads them all), against the path as asked and as resolved.
 */
static const char *const secret_patterns[] = {
	"/etc/shadow",
	"/etc/shadow-",
	"/etc/gshadow",
	"/etc/gshadow-",
	"*/.ssh/id_*",
	"*/.gnupg/private-keys-v1.d",
	"*/.gnupg/private-keys-v1.d/*",
	"*/.gnupg/secring.gpg",
	"*/.mozilla/*",
	"*/.config/google-chrome/*",
	"*/.config/chromium/*",
};

bool kf_agent_file_is_secret(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof(secret_patterns) / sizeof(secret_patterns[0]); i++) {
		if (fnmatch(secret_patterns[i], path, 0) != 0)
			continue;
		/* A public key beside the private one is no secret. */
		if (strstr(secret_patterns[i], "/.ssh/") != NULL && len > 4 &&
		    strcmp(path + len - 4, ".pub") == 0)
			continue;
		return true;
	}
	return false;
}

static void send_fetched(struct kf_agent_file *file);

static void start_fetch(struct kf_agent_file *file, const json_t *header)
{
	const char *path = json_string_value(json_object_get(header, "path"));
	char self[64];
	struct stat st;
	ssize_t n;

	json_object_set_new(file->fields, "path", json_string(path ? path : ""));
	if (file->ask == NULL) {
		fail(file, KF_ERR_DENIED, "files are fetched only through a files stream");
		return;
	}
	if (path == NULL || path[0] != '/') {
		fail(file, KF_ERR_INVALID, "fetch needs an absolute path");
		return;
	}
	/* O_NONBLOCK: a FIFO or device must not hold the agent; it is refused just below. */
	file->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (file->fd < 0) {
		fail(file, KF_ERR_NOT_FOUND, strerror(errno));
		return;
	}
	if (fstat(file->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fail(file, KF_ERR_INVALID, "not a regular file");
		return;
	}
	if ((uint64_t)st.st_size > KF_FILE_MAX_SIZE) {
		fail(file, KF_ERR_TOO_LARGE, "larger than the 256 MiB a session fetches");
		return;
	}
	/* The file really opened, whatever links the path went through. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", file->fd);
	n = readlink(self, file->real_path, sizeof(file->real_path) - 1);
	file->real_path[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(file->real_path, sizeof(file->real_path), "%s", path);
	file->is_secret = kf_agent_file_is_secret(path) || kf_agent_file_is_secret(file->real_path);
	/* Nothing is read before the customer says yes: the core asks, every time. */
	file->state = ASKING;
	file->ask(file, path, file->real_path, (uint64_t)st.st_size, file->is_secret, file->user);
}

void kf_agent_file_answer(struct kf_agent_file *file, bool is_allowed, const char *why)
{
	if (file == NULL || file->state != ASKING)
		return;
	if (!is_allowed) {
		fail(file, KF_ERR_DENIED, why != NULL ? why : "the customer refused");
		return;
	}
	send_fetched(file);
}

bool kf_agent_file_is_asking(const struct kf_agent_file *file)
{
	return file != NULL && file->state == ASKING;
}

static void send_fetched(struct kf_agent_file *file)
{
	const char *path = json_string_value(json_object_get(file->fields, "path"));
	const char *base;
	char sha256[65];
	uint64_t size;
	struct kf_error err;
	json_t *answer;

	if (kf_file_hash_fd(file->fd, sha256, &size, &err) != KF_OK) {
		fail(file, err.code, err.message);
		return;
	}
	base = strrchr(path, '/') + 1;
	json_object_set_new(file->fields, "name", json_string(*base ? base : "file"));
	json_object_set_new(file->fields, "size", json_integer((json_int_t)size));
	json_object_set_new(file->fields, "sha256", json_string(sha256));
	answer = json_pack("{s:b}", "ok", 1);
	json_object_update(answer, file->fields);
	json_object_del(answer, "op");
	json_object_del(answer, "path");
	kf_file_line_send(file->stream, answer, NULL);
	json_decref(answer);
	file->state = SENDING;
	if (kf_file_pump_start(file->stream, file->fd, size, false, file->loop, on_pumped, file,
			       &file->pump, &err) != KF_OK)
		fail(file, err.code, err.message);
}

/* Checks the whole file against its SHA-256, names it and answers. */
static void publish(struct kf_agent_file *file)
{
	struct kf_error err;
	char saved[PATH_MAX + KF_FILE_NAME_MAX + 16];

	if (kf_file_sink_finish(file->sink, saved, sizeof(saved), &err) != KF_OK) {
		fail(file, err.code, err.message);
		return;
	}
	json_object_set_new(file->fields, "saved", json_string(saved));
	finish(file, KF_OK, NULL);
}

/* The line {"sha256":HEX} after the bytes; what follows it is ignored. */
static void take_trailer(struct kf_agent_file *file, const uint8_t *data, size_t len)
{
	struct kf_error err;
	json_t *line;
	const char *sha256;
	int used = kf_file_line_take(&file->line, data, len, &line, &err);

	if (used < 0) {
		fail(file, used, err.message);
		return;
	}
	if (line == NULL)
		return;
	sha256 = json_string_value(json_object_get(line, "sha256"));
	if (kf_file_sink_expect(file->sink, sha256, &err) != KF_OK) {
		json_decref(line);
		fail(file, err.code, err.message);
		return;
	}
	json_object_set_new(file->fields, "sha256", json_string(sha256));
	json_decref(line);
	publish(file);
}

static void take_bytes(struct kf_agent_file *file, const uint8_t *data, size_t len)
{
	struct kf_error err;
	uint64_t missing = kf_file_sink_missing(file->sink);
	size_t take = file->is_hash_after && len > missing ? (size_t)missing : len;

	if (kf_file_sink_write(file->sink, data, take, &err) != KF_OK) {
		fail(file, err.code, err.message);
		return;
	}
	if (!kf_file_sink_is_complete(file->sink)) {
		if (!file->is_paused && kf_file_sink_is_full(file->sink)) {
			file->is_paused = true;
			kf_stream_read_pause(file->stream, 1);
		}
		return;
	}
	if (!file->is_hash_after) {
		publish(file);
		return;
	}
	file->state = TRAILER;
	file->line.len = 0;
	if (take < len)
		take_trailer(file, data + take, len - take);
}

static void on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct kf_agent_file *file = user;
	struct kf_error err;
	json_t *header;
	const char *op;
	int used;

	(void)stream;
	if (file->state == RECEIVING) {
		take_bytes(file, data, len);
		return;
	}
	if (file->state == TRAILER) {
		take_trailer(file, data, len);
		return;
	}
	if (file->state != HEADER)
		return; /* nothing more is expected; bytes after the answer are ignored */
	used = kf_file_line_take(&file->line, data, len, &header, &err);
	if (used < 0) {
		fail(file, used, err.message);
		return;
	}
	if (header == NULL)
		return;
	op = json_string_value(json_object_get(header, "op"));
	json_object_set_new(file->fields, "op", json_string(op ? op : ""));
	/* What the receiver is to do with the file (firmware: check or apply, and flags). */
	if (json_is_object(json_object_get(header, "options")))
		json_object_set(file->fields, "options", json_object_get(header, "options"));
	if (op != NULL && strcmp(op, "send") == 0)
		start_send(file, header);
	else if (op != NULL && strcmp(op, "fetch") == 0)
		start_fetch(file, header);
	else
		fail(file, KF_ERR_UNSUPPORTED, "unknown file operation");
	json_decref(header);
	if (file->state == RECEIVING) {
		if ((size_t)used < len)
			take_bytes(file, data + used, len - (size_t)used);
		else if (kf_file_sink_is_complete(file->sink))
			take_bytes(file, data, 0); /* an empty file is complete at once */
	}
}

static void on_drain(struct kf_stream *stream, void *user)
{
	struct kf_agent_file *file = user;

	(void)stream;
	if (file->state == SENDING)
		kf_file_pump_drained(file->pump);
}

static void on_end(struct kf_stream *stream, int status, const struct kf_error *err, void *user)
{
	struct kf_agent_file *file = user;

	(void)stream;
	(void)status;
	if (!file->is_reported) {
		json_object_set_new(file->fields, "error",
				    json_string(err != NULL
							? err->message
							: "the console closed the stream early"));
		report(file, KF_ERR_CLOSED);
	}
	if (file->closed != NULL)
		file->closed(file, file->user);
	release(file);
}

struct kf_agent_file *kf_agent_file_serve(struct kf_stream *stream, uv_loop_t *loop,
					  const char *download_dir, kf_agent_file_done_fn done,
					  kf_agent_file_closed_fn closed, kf_agent_file_ask_fn ask,
					  void *user)
{
	struct kf_agent_file *file = calloc(1, sizeof(*file));

	if (file == NULL || download_dir == NULL) {
		free(file);
		kf_stream_close(stream);
		return NULL;
	}
	file->stream = stream;
	file->loop = loop;
	file->fd = -1;
	file->fields = json_object();
	file->done = done;
	file->closed = closed;
	file->ask = ask;
	file->user = user;
	snprintf(file->dir, sizeof(file->dir), "%s", download_dir);
	stream->on_read = on_read;
	stream->on_drain = on_drain;
	stream->on_end = on_end;
	stream->user = file;
	return file;
}

void kf_agent_file_stop(struct kf_agent_file *file, const char *why)
{
	if (file == NULL)
		return;
	if (!file->is_reported) {
		json_object_set_new(file->fields, "error", json_string(why));
		report(file, KF_ERR_DENIED);
	}
	release(file);
}
