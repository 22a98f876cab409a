/* kefu-agentd: the summary `scan --fix` leaves: what was found, fixed and verified.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SCAN_SUMMARY_H
#define KF_AGENTD_SCAN_SUMMARY_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Writes a Markdown summary of one scan from its checks (the "checks" array of
 * `scan --json`: plugin, check, title, fix, state, steps) into dir, or when dir
 * is NULL into $XDG_STATE_HOME/kefu/scans/ (by default ~/.local/state/kefu/scans/),
 * as scan-YYYYMMDD-HHMMSS.md, written whole or not at all. path receives its name.
 */
int kf_scan_summary_write(const json_t *checks, const char *root, const char *dir, char *path,
			  size_t path_size, struct kf_error *err);

/*
 * Keeps what the customer's last scan found and did (plugin, check, title, state
 * of each check that applied) in $XDG_STATE_HOME/kefu/scans/last.json, replaced
 * whole, for a technician to see what was already tried.
 */
int kf_scan_summary_record(const json_t *checks, const char *root, bool is_fix,
			   struct kf_error *err);

/* That record ({when, root, fix, checks}), or JSON null when there is none. */
json_t *kf_scan_summary_last(void);

#endif
