/* kefu-agentd: one support session with a technician, from TLS to its end. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SESSION_H
#define KF_AGENTD_SESSION_H

#include "agentd/audit.h"
#include "agentd/consent.h"
#include "agentd/plugins/job.h"
#include "proto/base/error.h"
#include "proto/session/stream.h"
#include "proto/session/tls-stream.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/*
 * The agent's side of a session on one channel that arrived through the relay:
 * TLS (the agent checks the technician's certificate against the support CA),
 * then the proof of the code's secret, then hello, and from then on the control
 * channel (chat, ping, end). Until the proof succeeds nothing else is accepted.
 *
 * Every message the technician sends after set-up passes through one dispatcher
 * in session.c; each action is checked against the customer's consent
 * (agentd/consent.h) right where it is carried out, never in the UI, and every
 * request, answer, refusal and action goes to the audit log and the summary.
 */
struct kf_agent_session;

struct kf_agent_session_events {
	/* The technician proved the code; identity comes from the certificate. */
	void (*on_connected)(struct kf_agent_session *session,
			     const struct kf_tls_identity *technician, void *user);
	/* The attempt failed before set-up: a wrong code (is_wrong_code) or another reason. */
	void (*on_rejected)(struct kf_agent_session *session, int is_wrong_code,
			    const struct kf_error *err, void *user);
	void (*on_chat)(struct kf_agent_session *session, const char *text, void *user);
	/* The technician asks for a capability: ask the customer, then kf_agent_session_answer().
	 */
	void (*on_ask)(struct kf_agent_session *session, enum kf_capability capability,
		       const char *reason, void *user);
	/*
	 * The technician wants a copy of path (size bytes; real_path when links led
	 * elsewhere, else NULL); is_secret: a known secret, allowed only when the
	 * customer types its path back. Answer with kf_agent_session_answer_fetch(id).
	 */
	void (*on_fetch_ask)(struct kf_agent_session *session, uint32_t id, const char *path,
			     const char *real_path, uint64_t size, bool is_secret, void *user);
	/* A request on_ask showed got no answer in time: it was refused. */
	void (*on_expired)(struct kf_agent_session *session, enum kf_capability capability,
			   void *user);
	/* A request was decided (by the customer, a policy or the time-out); may be NULL. */
	void (*on_decided)(struct kf_agent_session *session, enum kf_capability capability,
			   int is_granted, enum kf_consent_source source, void *user);
	/* A grant ended, after what it allowed has stopped; may be NULL. */
	void (*on_revoked)(struct kf_agent_session *session, enum kf_capability capability,
			   enum kf_consent_source source, void *user);
	/* Something changed that the customer must see: who is connected, what is granted. */
	void (*on_status)(struct kf_agent_session *session, const char *text, void *user);
	/* Something the technician did that the customer should read ("... sent you a file"). */
	void (*on_activity)(struct kf_agent_session *session, const char *text, void *user);
	/*
	 * After on_connected: the session is over (status KF_OK for an orderly end);
	 * summary_path is the customer's summary (Markdown; HTML beside it), or NULL.
	 */
	void (*on_ended)(struct kf_agent_session *session, int status, const char *reason,
			 const char *summary_path, void *user);
};

struct kf_agent_session_config {
	SSL_CTX *tls_context;
	const char *secret;             /* the code's secret, copied and wiped */
	const struct kf_policy *policy; /* may be NULL; borrowed */
	unsigned consent_timeout_ms;    /* 0: KF_CONSENT_DEFAULT_TIMEOUT_MS */
	struct kf_audit *audit;         /* may be NULL; borrowed */
	const char *summary_dir;        /* NULL: the default folder */
	const char *diagnostics_root;   /* NULL: "/" */
	/* Where the technician's `plugins`, `run` and `repair` find plugins; borrowed. */
	const struct kf_plugin_places *plugin_places;
	/* Arguments every `firmware` command of the session gets (--profile, --devices...). */
	const char *const *firmware_args;
	/* The one monitor the screen stream shows (XRandR's number); -1: the whole desktop. */
	int screen_monitor;
	/* The organisation's case number the customer came with, or NULL; kept in the summary. */
	const char *case_number;
	/* The organisation's contact from the support profile (may be NULL); borrowed. */
	const char *contact;
};

/* How long a connection may take from arriving to a proven code. */
#define KF_AGENT_SETUP_TIMEOUT_MS 30000

/*
 * How long a connection may stay silent after it arrives. The agent speaks first
 * (its TLS ClientHello) and a real console answers within a round trip, so this
 * only ends connections that say nothing (anyone on the relay host can open
 * one), which would otherwise hold a place for the whole set-up time.
 */
#define KF_AGENT_FIRST_BYTES_MS 5000

/*
 * Starts a session attempt on channel (which the session owns from now on). secret
 * is copied and wiped when the session is freed. The caller owns *session and
 * frees it with kf_agent_session_free(), at the latest after on_rejected or on_ended.
 */
int kf_agent_session_start(uv_loop_t *loop, struct kf_stream *channel,
			   const struct kf_agent_session_config *config,
			   const struct kf_agent_session_events *events, void *user,
			   struct kf_agent_session **session, struct kf_error *err);

/* The customer's answer to the request on_ask showed. */
int kf_agent_session_answer(struct kf_agent_session *session, enum kf_capability capability,
			    int is_granted, struct kf_error *err);

/*
 * The customer's answer to fetch id, as typed: "y" or "yes" allows a file,
 * anything else refuses it; a known secret is allowed only by its path typed
 * back exactly. The decision is made here, whatever the terminal shows.
 * Returns KF_OK when the answer was taken (allowed or not); *is_allowed says.
 */
int kf_agent_session_answer_fetch(struct kf_agent_session *session, uint32_t id, const char *answer,
				  bool *is_allowed, struct kf_error *err);

/* Whether fetch id still waits for the customer. */
bool kf_agent_session_is_asking_fetch(struct kf_agent_session *session, uint32_t id);

/* "Files without asking": while files is granted, fetches other than secrets go unasked. */
void kf_agent_session_set_fetch_without_asking(struct kf_agent_session *session, bool is_on);

/* The customer takes one grant back. */
void kf_agent_session_revoke(struct kf_agent_session *session, enum kf_capability capability);

/* A further channel of this session (the screen); the session owns it from now on. */
void kf_agent_session_attach_stream(struct kf_agent_session *session, struct kf_stream *channel);

/* The technician's closing advice ("" until the technician ends the session with some). */
const char *kf_agent_session_advice(struct kf_agent_session *session);

/* Whether anything has come from the other side of this connection yet. */
int kf_agent_session_is_heard(const struct kf_agent_session *session);

/* Whether a request for capability waits for the customer's answer. */
int kf_agent_session_is_asking(struct kf_agent_session *session, enum kf_capability capability);

/* Whether capability is granted now. */
bool kf_agent_session_is_granted(const struct kf_agent_session *session,
				 enum kf_capability capability);

/* Granted capabilities as text ("view, diagnose" or "nothing"). */
void kf_agent_session_describe(struct kf_agent_session *session, char *out, size_t size);

/* Sends a chat line from the customer. */
int kf_agent_session_chat(struct kf_agent_session *session, const char *text, struct kf_error *err);

/* Stops everything: every grant ends, the session ends, the technician is told at once. */
void kf_agent_session_end(struct kf_agent_session *session, const char *reason);

/* Frees at once; safe inside the session's own callbacks. */
void kf_agent_session_free(struct kf_agent_session *session);

#endif
