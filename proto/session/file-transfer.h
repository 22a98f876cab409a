/* kefu: files through a session's "files" stream: header lines, receiving, sending.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FILE_TRANSFER_H
#define KF_PROTO_FILE_TRANSFER_H

#include "proto/base/error.h"
#include "proto/session/stream.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A "files" stream carries one file (PROTOCOL.md, "Files"). The console opens
 * it and writes one header line, a JSON object of at most KF_FILE_HEADER_MAX
 * bytes ending in "\n":
 *   {"op":"send","name":NAME,"size":N,"sha256":HEX} then exactly N bytes; or,
 *       to an agent whose hello lists KF_FILE_FEATURE_HASH_AFTER,
 *       {"op":"send","name":NAME,"size":N,"hash":"after"} then exactly N bytes
 *       and the line {"sha256":HEX}, so that the sender reads the file once;
 *       the agent answers {"ok":true,"saved":PATH,"size":N} or {"ok":false,"error":TEXT};
 *   {"op":"fetch","path":PATH}; the agent answers
 *       {"ok":true,"name":NAME,"size":N,"sha256":HEX} then exactly N bytes, or
 *       {"ok":false,"error":TEXT}.
 * Then the agent ends the stream. A file is never larger than KF_FILE_MAX_SIZE.
 */
#define KF_FILE_HEADER_MAX 4096
#define KF_FILE_MAX_SIZE   (256ull * 1024 * 1024)
#define KF_FILE_NAME_MAX   200
/* In the agent's hello "capabilities": it takes a sent file's SHA-256 after its bytes. */
#define KF_FILE_FEATURE_HASH_AFTER "files-hash-after"

/* Collects one header line from a stream's bytes. */
struct kf_file_line {
	char text[KF_FILE_HEADER_MAX + 1];
	size_t len;
};

/*
 * Takes bytes until the line is complete. Returns how many of data were used
 * (the rest follows the line), with *line set to the parsed JSON object once
 * complete (NULL before); KF_ERR_TOO_LARGE or KF_ERR_INVALID for a line that is
 * too long or not a JSON object.
 */
int kf_file_line_take(struct kf_file_line *state, const uint8_t *data, size_t len, json_t **line,
		      struct kf_error *err);

/* Writes object as one compact line to stream. */
int kf_file_line_send(struct kf_stream *stream, json_t *object, struct kf_error *err);

/*
 * Whether name is a plain file name to save under: no '/', not "." or "..", no
 * control characters, at most KF_FILE_NAME_MAX bytes, not starting with '.'
 * (no hidden files, nor a '-' an unwary shell command could take as an option).
 */
bool kf_file_name_is_safe(const char *name);

/* SHA-256 of a whole open file as 64 lowercase hex digits; *size receives its length. */
int kf_file_hash_fd(int fd, char hex[65], uint64_t *size, struct kf_error *err);

/*
 * Receives exactly size bytes into a new file in dir: written to an unnamed file
 * (O_TMPFILE, so that a receiver killed mid-transfer leaves nothing), checked
 * against sha256, synced, then linked under name (or "name (2)", "name (3)",
 * ... when taken: nothing is ever overwritten). Where the file system has no
 * O_TMPFILE, the file on its way is a hidden one named with the process id.
 * A sink made with sha256 NULL learns the hash from kf_file_sink_expect()
 * before kf_file_sink_finish(); without it nothing is ever named.
 */
struct kf_file_sink;

/* Removes the hidden files of receivers in dir whose process is gone. */
void kf_file_sink_sweep(const char *dir);

int kf_file_sink_new(const char *dir, const char *name, uint64_t size, const char *sha256,
		     struct kf_file_sink **out, struct kf_error *err);
/*
 * From now on the sink hashes and writes on a thread of its own, in blocks of
 * KF_FILE_SINK_BLOCK, and starts each block's write-back at once, so that the
 * loop's thread only copies bytes and the sync before naming finds little left.
 * At most KF_FILE_SINK_QUEUED bytes wait for that thread: past that,
 * kf_file_sink_is_full() is true, and on_room(user) runs on loop's thread once
 * the thread has caught up. Called before the first write.
 */
#define KF_FILE_SINK_BLOCK  (1024 * 1024)
#define KF_FILE_SINK_QUEUED (4 * KF_FILE_SINK_BLOCK)

int kf_file_sink_use_thread(struct kf_file_sink *sink, uv_loop_t *loop, void (*on_room)(void *user),
			    void *user, struct kf_error *err);
/* Whether the sink's thread is behind: stop reading until on_room. */
bool kf_file_sink_is_full(const struct kf_file_sink *sink);
/* Takes the next bytes; more than announced is an error. */
int kf_file_sink_write(struct kf_file_sink *sink, const uint8_t *data, size_t len,
		       struct kf_error *err);
bool kf_file_sink_is_complete(const struct kf_file_sink *sink);
/* How many of the announced bytes have not arrived yet. */
uint64_t kf_file_sink_missing(const struct kf_file_sink *sink);
/* The SHA-256 (64 lowercase hex digits) the file must have; KF_ERR_INVALID if malformed. */
int kf_file_sink_expect(struct kf_file_sink *sink, const char *sha256, struct kf_error *err);
/*
 * Checks the hash and names the file; path receives where it is. With a thread,
 * first waits for it to write and hash what is queued (at most
 * KF_FILE_SINK_QUEUED bytes).
 */
int kf_file_sink_finish(struct kf_file_sink *sink, char *path, size_t path_size,
			struct kf_error *err);
/* Frees the sink; an unfinished file is removed. NULL is allowed. */
void kf_file_sink_free(struct kf_file_sink *sink);

/*
 * Sends size bytes of fd from its start to stream, keeping at most
 * KF_STREAM_HIGH_WATER queued: call kf_file_pump_drained() from the stream's
 * on_drain. done runs once, when everything is queued or reading failed. A
 * hashing pump computes the SHA-256 of the bytes as it reads them, for
 * kf_file_pump_sha256() once done ran with KF_OK. With a loop, reading and
 * hashing run on a thread of their own, at most KF_FILE_SINK_QUEUED bytes
 * ahead, which wakes loop; without, they run in the caller's thread.
 */
struct kf_file_pump;

int kf_file_pump_start(struct kf_stream *stream, int fd, uint64_t size, bool is_hashing,
		       uv_loop_t *loop, void (*done)(void *user, int status, const char *message),
		       void *user, struct kf_file_pump **out, struct kf_error *err);
/* The hex SHA-256 of what a hashing pump sent; NULL before it is done or when not hashing. */
const char *kf_file_pump_sha256(const struct kf_file_pump *pump);
void kf_file_pump_drained(struct kf_file_pump *pump);
/* Frees the pump (the fd stays the caller's). NULL is allowed. */
void kf_file_pump_free(struct kf_file_pump *pump);

#endif
