/* kefu-agentd: one file sent to or fetched from this computer in a session.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FILES_H
#define KF_AGENTD_FILES_H

#include "proto/session/stream.h"

#include <jansson.h>
#include <uv.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Serves one proven "files" stream (proto/session/file-transfer.h): a file the
 * technician sends is saved in a new file in the downloads folder, never over
 * another; a file the technician fetches is read as the customer's user can
 * read it (regular files only, at most KF_FILE_MAX_SIZE). The caller has
 * checked the customer's `files` grant before.
 */
struct kf_agent_file;

/*
 * Called once with the outcome: status KF_OK or a negative code. fields
 * (borrowed) say what: {op: "send"|"fetch", name, path, size, sha256} or
 * {op, error}. The file may still wait for the console to close its stream
 * after this; it frees itself then, or at kf_agent_file_stop().
 */
typedef void (*kf_agent_file_done_fn)(struct kf_agent_file *file, int status, json_t *fields,
				      void *user);

/* Called when the file freed itself after its stream ended (not after kf_agent_file_stop). */
typedef void (*kf_agent_file_closed_fn)(struct kf_agent_file *file, void *user);

/*
 * A fetch is never answered before the customer is asked: once the file is
 * open and checked (regular, not too large), ask gets the path asked for, the
 * path really opened (links resolved), its size, and whether it is a known
 * secret (kf_agent_file_is_secret). Nothing is read until kf_agent_file_answer().
 */
typedef void (*kf_agent_file_ask_fn)(struct kf_agent_file *file, const char *path,
				     const char *real_path, uint64_t size, bool is_secret,
				     void *user);

/*
 * Takes over stream. download_dir is copied; it is created (0700) when a file
 * arrives. ask NULL: this stream only receives (a fetch is refused). A file
 * that arrives is hashed and written on a thread of its own, which wakes loop.
 */
struct kf_agent_file *kf_agent_file_serve(struct kf_stream *stream, uv_loop_t *loop,
					  const char *download_dir, kf_agent_file_done_fn done,
					  kf_agent_file_closed_fn closed, kf_agent_file_ask_fn ask,
					  void *user);

/* The customer's answer to ask: the file goes, or the fetch fails with why. */
void kf_agent_file_answer(struct kf_agent_file *file, bool is_allowed, const char *why);

/* Whether the file waits for the customer's answer. */
bool kf_agent_file_is_asking(const struct kf_agent_file *file);

/*
 * Whether path is a known secret: /etc/shadow, /etc/gshadow, SSH private keys
 * (~/.ssh/id_* but not .pub), GPG private keys, browser profiles (Firefox,
 * Chrome, Chromium), in any home.
 */
bool kf_agent_file_is_secret(const char *path);

/*
 * Stops at once: the stream closes and a partly received file is removed. done
 * is called (KF_ERR_DENIED) if it was not yet. The file is freed.
 */
void kf_agent_file_stop(struct kf_agent_file *file, const char *why);

/* The folder files are saved in: $XDG_DOWNLOAD_DIR/kefu, else ~/Downloads/kefu. */
const char *kf_agent_download_dir(char *buffer, size_t size);

#endif
