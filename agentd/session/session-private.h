/* kefu-agentd: what the files of one support session share (not for use outside agentd/session). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SESSION_PRIVATE_H
#define KF_AGENTD_SESSION_PRIVATE_H

#include "agentd/session/session.h"
#include "agentd/firmware/job.h"
#include "agentd/session/streams.h"
#include "agentd/session/summary.h"
#include "proto/session/control.h"
#include "proto/session/core.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * session.c holds the lifecycle and the dispatch table; each feature file
 * holds the handlers of its messages and the state they keep here:
 * grants.c (consent), diag.c (the report), plugins.c (plugin runs),
 * firmware.c (firmware list and updates). README.md says why these seams.
 */

enum kf_agent_session_state {
	KF_AGENT_STATE_TLS,    /* waiting for the TLS handshake */
	KF_AGENT_STATE_PROOF,  /* proof.share sent, waiting for proof.reply */
	KF_AGENT_STATE_HELLO,  /* proof done, waiting for the console's hello */
	KF_AGENT_STATE_ACTIVE, /* set up: chat, ping, actions */
	KF_AGENT_STATE_ENDING, /* we sent end; waiting for the other side to close */
	KF_AGENT_STATE_OVER,   /* rejected or ended; no more events */
};

struct kf_agent_session {
	struct kf_agent_session_events events;
	void *user;
	enum kf_agent_session_state state;
	bool is_heard;               /* the other side has sent its first bytes */
	struct kf_session_core core; /* TLS, control, proof, secret, timer, deferred free */
	struct kf_tls_identity technician;
	struct kf_agent_session_config config;
	struct kf_consent *consent;
	struct kf_summary *summary;
	struct kf_agent_streams *streams;
	/* The plugin run the technician started, if any: one at a time (plugins.c). */
	struct kf_plugin_job *job;
	uint32_t job_request;
	enum kf_capability job_capability;
	char job_plugin[128];
	/* The firmware command the technician started, if any: one at a time (firmware.c). */
	struct kf_firmware_job *firmware;
	uint32_t firmware_request; /* firmware.list's id; 0 for an update */
	char firmware_file[4096];  /* the uploaded update, removed when the job ends */
	char firmware_name[256];
	bool is_firmware_writing;
	json_t *firmware_out;             /* firmware.list: the lines printed */
	bool is_firmware_updates;         /* firmware.list asked for updates, not devices */
	uint32_t firmware_latest_request; /* firmware.latest's id, answered by its result */
	/* The driver package change the technician started, if any (drivers.c). */
	struct kf_firmware_job *drivers_job;
	char drivers_action[16];
	char drivers_packages[1200]; /* the packages asked for, for the customer's summary */
	json_t *drivers_lines;       /* what it printed on stdout: its summary */
	/* The diagnostics report plugins read: kept from the first collection on (diag.c). */
	json_t *report;
	char report_path[64];
	char session_id[33];
	char advice[1024];
	/* Fetches waiting for the customer's answer (grants.c), and the customer's choice. */
	struct kf_agent_fetch {
		uint32_t id; /* kf_agent_streams' id; 0: a free place */
		bool is_secret;
		uint64_t size;
		char path[4096];
	} fetches[8];
	bool is_fetch_without_asking; /* "files without asking", until files is taken back */
};

/* ---- session.c: shared by every feature ---- */

/* Brackets work done from a callback, so that a free inside it waits until the end. */
void kf_agent_session_enter(struct kf_agent_session *session);
void kf_agent_session_leave(struct kf_agent_session *session);

/* Whether messages may still go to the console: set up, or ending but not yet closed. */
bool kf_agent_session_is_open(const struct kf_agent_session *session);

/* Writes event to the audit log (when there is one); takes fields over. */
void kf_agent_session_audit(struct kf_agent_session *session, const char *event, json_t *fields);

/* A line for the customer about what the technician did. */
void kf_agent_session_activity(struct kf_agent_session *session, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Tells the customer who is connected, what is granted and whether the screen is shared. */
void kf_agent_session_status_changed(struct kf_agent_session *session);

/* The folder the report is collected from: the configured one, or "/". */
const char *kf_agent_session_root(const struct kf_agent_session *session);

/* ---- grants.c: the customer's consent ---- */

extern const struct kf_consent_events kf_agent_session_consent_events;

/*
 * Whether msg may run: its row needs no grant, or the customer gave it. When
 * not, the console is answered "denied" and the refusal is audited and noted.
 * The dispatcher asks this once, before any handler runs.
 */
bool kf_agent_session_allows(struct kf_agent_session *session, const struct kf_msg *msg);

/* streams.h's is_allowed: the grant a screen, files or firmware stream needs. */
int kf_agent_session_stream_is_allowed(void *user, const char *purpose, struct kf_error *err);

/* streams.h's on_fetch_ask and on_fetch_expired: each fetch is the customer's to allow. */
void kf_agent_session_fetch_ask(void *user, uint32_t id, const char *path, const char *real_path,
				uint64_t size, bool is_secret);
void kf_agent_session_fetch_expired(void *user, uint32_t id, const char *path);

kf_msg_handler_fn kf_agent_session_on_consent_request;
kf_msg_handler_fn kf_agent_session_on_consent_release;

/* ---- diag.c: the diagnostics report ---- */

kf_msg_handler_fn kf_agent_session_on_diag_request;
/* history.c */
kf_msg_handler_fn kf_agent_session_on_history_request;
/* The case number of an end message (case may be NULL) and the support ID, in the summary. */
void kf_agent_session_summary_case(struct kf_agent_session *session, json_t *case_number);

/* Collects the report the plugins read, once per session, into a private file. */
int kf_agent_session_plugin_report(struct kf_agent_session *session, struct kf_error *err);

/* Drops the plugins' report and its file. */
void kf_agent_session_diag_release(struct kf_agent_session *session);

/* ---- plugins.c: plugin checks and repairs ---- */

kf_msg_handler_fn kf_agent_session_on_plugins_request;
kf_msg_handler_fn kf_agent_session_on_plugin_run;
kf_msg_handler_fn kf_agent_session_on_plugin_repair;

/* The grant capability was taken back: a plugin run under it is cancelled. */
void kf_agent_session_plugins_revoked(struct kf_agent_session *session,
				      enum kf_capability capability);

/* The session goes: a plugin still running is stopped and forgotten. */
void kf_agent_session_plugins_release(struct kf_agent_session *session);

/* ---- drivers.c: drivers matched to packages, and packages changed ---- */

kf_msg_handler_fn kf_agent_session_on_drivers_request;
kf_msg_handler_fn kf_agent_session_on_drivers_change;

/* The session goes: a change still running is left to finish, unobserved. */
void kf_agent_session_drivers_release(struct kf_agent_session *session);

/* ---- firmware.c: firmware list and updates ---- */

kf_msg_handler_fn kf_agent_session_on_firmware_list;
kf_msg_handler_fn kf_agent_session_on_firmware_latest;

/* An update arrived whole through a "firmware" stream: check it, or install it. */
void kf_agent_session_firmware_arrived(struct kf_agent_session *session, json_t *fields);

/* The firmware grant was taken back: the job stops (before it writes). */
void kf_agent_session_firmware_revoked(struct kf_agent_session *session);

/* The session goes: the job is forgotten, the uploaded update removed. */
void kf_agent_session_firmware_release(struct kf_agent_session *session);

#endif
