/* kefu-agentd: the audit log on the customer's machine, JSON lines. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_AUDIT_H
#define KF_AGENTD_AUDIT_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Every request, answer, revocation and action of a session is appended to one
 * file the customer can read: $XDG_STATE_HOME/kefu/audit.jsonl (by default
 * ~/.local/state/kefu/audit.jsonl). Each event is one line written with one
 * write() on a file opened O_APPEND, so a crash loses at most that line; session
 * starts and ends are also fsync'd. kefu never truncates or rewrites the file.
 * Opening it marks sessions that started but never ended, and whose helper is
 * gone, as interrupted; `kefu-agentd audit` shows them so before that.
 *
 * A line: {"time": "2026-11-22T10:40:01.123Z", "session": "3f2a...", "event": "...",
 *          "technician": {"name": ..., "organisation": ..., "fingerprint": ...}, ...}
 */
struct kf_audit;

/*
 * Whether the helper that wrote start (a "session-start" line, which names its
 * process: {"helper": {"pid": ..., "boot": ..., "started": ...}}) still runs:
 * the same boot, the same pid, started at the same moment. A session whose
 * helper is gone and that has no end was cut (kill -9, a crash, the power).
 */
bool kf_audit_is_running(json_t *start);

/* Writes the default path into buffer and returns it. */
const char *kf_audit_default_path(char *buffer, size_t size);

/* Opens (creating it and its folders, 0600) the log at path, or the default when NULL. */
int kf_audit_open(const char *path, struct kf_audit **audit, struct kf_error *err);

/* Starts a session: later events carry its id and the technician. */
int kf_audit_session_start(struct kf_audit *audit, const char *session_id,
			   const char *technician_name, const char *organisation,
			   const char *fingerprint, struct kf_error *err);

/* Appends one event; fields (may be NULL) is borrowed and merged into the line. */
int kf_audit_event(struct kf_audit *audit, const char *event, json_t *fields, struct kf_error *err);

/* Ends the session (outcome such as "ended", "stopped-by-customer", "relay-lost"). */
int kf_audit_session_end(struct kf_audit *audit, const char *outcome, struct kf_error *err);

void kf_audit_close(struct kf_audit *audit);

#endif
