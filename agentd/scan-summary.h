/* kefu-agentd: the summary `scan --fix` leaves: what was found, fixed and verified.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SCAN_SUMMARY_H
#define KF_AGENTD_SCAN_SUMMARY_H

#include "proto/error.h"

#include <jansson.h>
#include <stddef.h>

/*
 * Writes a Markdown summary of one scan from its checks (the "checks" array of
 * `scan --json`: plugin, check, title, fix, state, steps) into dir, or when dir
 * is NULL into $XDG_STATE_HOME/kefu/scans/ (by default ~/.local/state/kefu/scans/),
 * as scan-YYYYMMDD-HHMMSS.md, written whole or not at all. path receives its name.
 */
int kf_scan_summary_write(const json_t *checks, const char *root, const char *dir, char *path,
			  size_t path_size, struct kf_error *err);

#endif
