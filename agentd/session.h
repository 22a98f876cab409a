/* kefu-agentd: one support session with a technician, from TLS to its end. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SESSION_H
#define KF_AGENTD_SESSION_H

#include "proto/error.h"
#include "proto/stream.h"
#include "proto/tls-stream.h"

#include <openssl/ssl.h>
#include <uv.h>

/*
 * The agent's side of a session on one channel that arrived through the relay:
 * TLS (the agent checks the technician's certificate against the support CA),
 * then the proof of the code's secret, then hello, and from then on the control
 * channel (chat, ping, end). Until the proof succeeds nothing else is accepted.
 *
 * Every message the technician sends after set-up passes through one dispatcher
 * in session.c; actions that need the customer's consent are checked there, in the
 * agent's core, never in the UI.
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
	/* After on_connected: the session is over (status KF_OK for an orderly end). */
	void (*on_ended)(struct kf_agent_session *session, int status, const char *reason,
			 void *user);
};

/* How long a connection may take from arriving to a proven code. */
#define KF_AGENT_SETUP_TIMEOUT_MS 30000

/*
 * Starts a session attempt on channel (which the session owns from now on). secret
 * is copied and wiped when the session is freed. The caller owns *session and
 * frees it with kf_agent_session_free(), at the latest after on_rejected or on_ended.
 */
int kf_agent_session_start(uv_loop_t *loop, struct kf_stream *channel, SSL_CTX *tls_context,
			   const char *secret, const struct kf_agent_session_events *events,
			   void *user, struct kf_agent_session **session, struct kf_error *err);

/* Sends a chat line from the customer. */
int kf_agent_session_chat(struct kf_agent_session *session, const char *text, struct kf_error *err);

/* Ends the session in order with a reason the technician sees. */
void kf_agent_session_end(struct kf_agent_session *session, const char *reason);

/* Frees at once; safe inside the session's own callbacks. */
void kf_agent_session_free(struct kf_agent_session *session);

#endif
