/* kefu-console: sending a file to the customer's computer and fetching one from it.
 * SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_TRANSFER_H
#define KF_CONSOLE_TRANSFER_H

#include "proto/base/error.h"
#include "proto/session/stream.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

/*
 * One transfer over one "files" stream of the session (proto/session/file-transfer.h).
 * done is called once: status KF_OK or a negative code, fields (borrowed) with
 * what the agent answered ({saved, size, sha256} for a send; {name, size,
 * sha256, saved} for a fetch, saved being the local file) or {error}. The
 * transfer closes its stream then; free it afterwards (or to cancel).
 */
struct kf_console_transfer;

typedef void (*kf_console_transfer_done_fn)(struct kf_console_transfer *transfer, int status,
					    json_t *fields, void *user);

/*
 * Sends local_path (a regular file, at most KF_FILE_MAX_SIZE). Takes over
 * stream. options (may be NULL, borrowed) go with the header: what the agent is
 * to do with the file (a firmware update: check or apply, and its flags). With
 * is_hash_after (the agent's hello offers it), the file is read once, hashed as
 * it goes, and its SHA-256 follows the bytes; a file that changes meanwhile is
 * not sent whole. Otherwise it is hashed first and the SHA-256 leads. The file
 * is read on a thread of its own that wakes loop.
 */
int kf_console_transfer_send(struct kf_stream *stream, uv_loop_t *loop, const char *local_path,
			     const json_t *options, bool is_hash_after,
			     kf_console_transfer_done_fn done, void *user,
			     struct kf_console_transfer **out, struct kf_error *err);

/*
 * Fetches remote_path (absolute) into local_dir under the name the agent gives
 * (checked to be a plain name; never over an existing file). Takes over stream.
 */
int kf_console_transfer_fetch(struct kf_stream *stream, const char *remote_path,
			      const char *local_dir, kf_console_transfer_done_fn done, void *user,
			      struct kf_console_transfer **out, struct kf_error *err);

/* NULL is allowed. No callback follows. */
void kf_console_transfer_free(struct kf_console_transfer *transfer);

#endif
