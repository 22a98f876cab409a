/* kefu-agentd: the firmware update history on the customer's machine. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_HISTORY_H
#define KF_AGENTD_FW_HISTORY_H

#include "agentd/firmware/backend.h"
#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * $XDG_STATE_HOME/kefu/firmware-history.json (by default
 * ~/.local/state/kefu/firmware-history.json): a JSON array of updates, oldest first,
 * each {"device", "device_name", "from", "to", "file", "when", "result", "detail",
 * "boot_id"}. The file is replaced whole (temporary file, fsync, rename), so a crash
 * leaves either the old or the new history. At most KF_FW_HISTORY_MAX entries are kept.
 *
 * Results: "writing" (the update had started when the helper stopped; settled on the
 * next run), "success", "failed", "interrupted", "pending-reboot" (settled after the
 * computer restarts).
 */
#define KF_FW_HISTORY_MAX 1000

/* Writes the default path into buffer and returns it. */
const char *kf_fw_history_default_path(char *buffer, size_t size);

/* Loads the history (an empty array when the file does not exist). The caller owns *entries. */
int kf_fw_history_load(const char *path, json_t **entries, struct kf_error *err);

/* Replaces the file with entries (the last KF_FW_HISTORY_MAX of them); entries stays the caller's.
 */
int kf_fw_history_save(const char *path, json_t *entries, struct kf_error *err);

/*
 * Settles entries that an earlier run could not finish: "writing" (the helper stopped
 * in the middle) and "pending-reboot" once the computer has restarted (its boot id is no
 * longer boot_id). The device's running version decides; the backends that can find a
 * device again by its id (reopen) are asked. Returns true when an entry changed.
 */
bool kf_fw_history_settle(json_t *history, const char *boot_id,
			  const struct kf_fw_settings *settings);

/* The current time as "2026-11-22T10:40:01Z" in out (at least 32 bytes). */
void kf_fw_history_now(char *out, size_t size);

#endif
