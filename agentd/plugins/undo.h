/* kefu-agentd: what a repair changed, kept so that `scan --undo` can put it back.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_PLUGINS_UNDO_H
#define KF_AGENTD_PLUGINS_UNDO_H

#include "proto/base/error.h"
#include "proto/plugin/manifest.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Regular files up to this size are kept whole before a repair; larger ones by hash only. */
#define KF_UNDO_KEEP_FILE_MAX  ((size_t)1 << 20)
#define KF_UNDO_KEEP_TOTAL_MAX ((size_t)64 << 20)
#define KF_UNDO_HASH_FILE_MAX  ((size_t)64 << 20)
#define KF_UNDO_HASH_TOTAL_MAX ((size_t)256 << 20) /* beyond: size, inode and time */
#define KF_UNDO_ENTRIES_MAX    200000

/* The state of every entry under the paths a step may write, taken inside a root. */
struct kf_undo_snapshot;

/*
 * Takes the state (type, mode, owner, SHA-256 or link target, and the bytes of small
 * files) of everything under the repair step's `writes` paths inside ROOT. Links are never
 * followed. The step must outlive the snapshot. The caller owns *out (kf_undo_snapshot_free).
 */
int kf_undo_snapshot_take(const char *root, const struct kf_plugin_step *step,
			  struct kf_undo_snapshot **out, struct kf_error *err);

void kf_undo_snapshot_free(struct kf_undo_snapshot *snapshot);

/*
 * Compares BEFORE with the tree now and returns the changes (a new reference; an empty
 * array when nothing changed). When something changed, what it replaced is kept in a new
 * undo record under STATE_DIR/SCAN_ID/PLUGIN.CHECK.N for the check's repair N (from 0);
 * record_dir receives its folder, or "".
 */
json_t *kf_undo_keep(const struct kf_undo_snapshot *before, const char *root, const char *state_dir,
		     const char *scan_id, const char *plugin, const char *check, size_t repair,
		     const char *title, char *record_dir, size_t record_size);

/* The folder of undo records: $XDG_STATE_HOME/kefu/undo (or ~/.local/state/kefu/undo). */
void kf_undo_state_dir(char *dir, size_t size);

/*
 * `scan --undo [ID]`: puts back what the last fixes changed in ROOT (ID: the latest fix
 * of that check or plugin; NULL: every fix of the last scan that changed something),
 * when each file is still as the repair left it. Audited as `scan-undo`. Returns the
 * program's exit code.
 */
int kf_undo_run(const char *root, const char *id, bool json);

#endif
