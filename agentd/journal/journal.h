/* kefu-agentd: the customer's support journal and support ID. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_JOURNAL_H
#define KF_AGENTD_JOURNAL_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stddef.h>
#include <time.h>

/*
 * The support ID names this installation to the support team across sessions:
 * "KF-" and 12 characters of Crockford base 32 (60 random bits), kept in
 * $XDG_STATE_HOME/kefu/support-id. It is made the first time it is asked for;
 * reset makes a new one, after which the team's earlier cases no longer match.
 */
#define KF_SUPPORT_ID_SIZE 20

const char *kf_support_id_default_path(char *buffer, size_t size);

/* The support ID from path (NULL: the default), made when there is none. */
int kf_support_id_get(const char *path, char id[KF_SUPPORT_ID_SIZE], struct kf_error *err);

/* Replaces the support ID with a new random one. */
int kf_support_id_reset(const char *path, char id[KF_SUPPORT_ID_SIZE], struct kf_error *err);

/*
 * The journal, read from the audit log's JSON lines (text, length bytes): an array
 * of {time, event, summary} in order, one per session (who helped, what was found,
 * what was done, the advice), self-service scan, scan undo, firmware and driver
 * change and watch alert. Events it does not know, and lines that are not JSON
 * objects, are left out, and so is the session exclude_session (may be NULL: the
 * session asking). The caller owns the result.
 */
json_t *kf_journal_from_audit(const char *text, size_t length, const char *exclude_session);

/*
 * The digest a technician reads first, computed at now from the same lines:
 * "Last contact 3 days ago with Bob Li (Example Support): printer queue stopped,
 * fixed; advice: replace the USB cable. Since then: 2 self-service scans, the same
 * problem came back twice (printer-queue)." Returns a string the caller frees.
 */
char *kf_journal_digest(const char *text, size_t length, time_t now, const char *exclude_session);

/* The folder of the copies of what each session was shown: $XDG_STATE_HOME/kefu/shared. */
const char *kf_journal_shared_dir(char *buffer, size_t size);

/*
 * Reads the audit log at path (NULL: the default) whole, at most 64 MiB, into *text
 * (owned by the caller, NUL-terminated). A log that does not exist yet is empty.
 */
int kf_journal_load(const char *path, char **text, size_t *length, struct kf_error *err);

/*
 * What a session is shown when the customer allows "history": {support_id, digest,
 * journal}, computed at now. The caller owns the result.
 */
json_t *kf_journal_share_body(const char *audit_path, time_t now, const char *exclude_session,
			      struct kf_error *err);

#endif
