/* kefu-agentd share: what the command and the customer's terminal share. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SHARE_PRIVATE_H
#define KF_AGENTD_SHARE_PRIVATE_H

#include "agentd/audit.h"
#include "agentd/plugins/job.h"
#include "agentd/policy.h"
#include "agentd/session/session.h"
#include "agentd/session/share.h"
#include "agentd/ui.h"
#include "proto/base/error.h"
#include "proto/plugin/package.h"
#include "proto/session/code.h"
#include "proto/session/profile.h"
#include "proto/session/ssh-transport.h"

#include <limits.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <uv.h>

/* A code is good for ten minutes after it is shown, and for three wrong tries. */
#define CODE_LIFETIME_MS  (10 * 60 * 1000)
#define CODE_MAX_FAILURES 3

/*
 * Connections still proving the code, at most this many at once. Anyone on the
 * relay host (or with a technician's relay key) can open one to the forwarded
 * port and say nothing: with several places the real technician comes in beside
 * them, and a small bound keeps a flood of connections from costing memory and
 * TLS work. When every place is taken, a newcomer is not refused: the oldest
 * attempt that has said nothing goes, or else the oldest of all (a real console
 * is through set-up in a few round trips; only an attacker lingers).
 */
#define MAX_ATTEMPTS 4

struct share {
	uv_loop_t *loop;
	const char *program;
	const struct kf_ui_ops *ui;
	void *ui_user;
	struct kf_profile *profile;
	unsigned relay_index;
	SSL_CTX *tls_context;
	struct kf_ssh_key *key;
	struct kf_ssh *ssh;
	uint16_t forwarded_port;
	struct kf_code code;
	int has_code;
	int failures;
	unsigned code_lifetime_ms;
	uv_timer_t code_timer;
	int has_timer;
	struct kf_agent_session *attempts[MAX_ATTEMPTS]; /* still proving the code, oldest first */
	int attempt_count;
	struct kf_agent_session *session; /* the technician, once proven */
	struct kf_policy *policy;
	struct kf_audit *audit;
	unsigned consent_timeout_ms;
	/* Where the technician's plugins come from, and the system they look at. */
	struct kf_plugin_places places;
	char installed_plugins[PATH_MAX];
	struct kf_package_publisher *plugin_publishers; /* the profile's, for installed plugins */
	char trust_problem[KF_ERROR_MESSAGE_SIZE];
	const char *root;
	const char *case_number;
	int monitor; /* -1: the whole desktop */
	/* What the session's firmware commands get: the profile (its firmware CAs and
	 * publishers) and, for emulated or test devices, their folder. */
	const char *firmware_args[8];
	char technician[128];
	int is_viewed; /* view is granted: the front end shows it */
	int exit_code;
	int is_done;
};

/* Ends the command with exit_code once the loop has let go. */
void kf_share_finish(struct share *share, int exit_code);

/* A connection that was proving the code is gone (proven, refused or dropped). */
void kf_share_forget_attempt(struct share *share, struct kf_agent_session *session);

/* The code in use ends: it can no longer be proven. */
void kf_share_forget_code(struct share *share);

/* A new code, shown to the customer. */
void kf_share_show_new_code(struct share *share);

/* share-events.c: the session's events, told to the front end. */
extern const struct kf_agent_session_events kf_share_session_events;

#endif
