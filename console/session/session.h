/* kefu-console: the technician's side of one support session. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_SESSION_H
#define KF_CONSOLE_SESSION_H

#include "proto/base/error.h"
#include "proto/session/message.h"
#include "proto/session/stream.h"
#include "proto/session/tls-stream.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <uv.h>

/*
 * On a channel opened through the relay to the customer's forwarded port: TLS
 * with the technician's certificate, the proof of the code's secret, hello, and
 * then the control channel.
 */
struct kf_console_session;

struct kf_console_session_events {
	/* The customer's computer proved the code and said hello. */
	void (*on_connected)(struct kf_console_session *session, const char *software,
			     const char *session_id, void *user);
	void (*on_chat)(struct kf_console_session *session, const char *text, void *user);
	void (*on_pong)(struct kf_console_session *session, double milliseconds, void *user);
	/* Any other message of an established session (consent answers, reports, errors). */
	void (*on_message)(struct kf_console_session *session, const struct kf_msg *msg,
			   void *user);
	/*
	 * The session is over or could not start: status KF_OK for an orderly end,
	 * KF_ERR_AUTH for a wrong code, another code for a failure; reason is for people.
	 */
	void (*on_ended)(struct kf_console_session *session, int status, const char *reason,
			 void *user);
};

#define KF_CONSOLE_SETUP_TIMEOUT_MS 30000

/*
 * Starts on channel (owned by the session from now on). secret is copied and wiped
 * on free. The caller owns *session and frees it with kf_console_session_free().
 */
int kf_console_session_start(uv_loop_t *loop, struct kf_stream *channel, SSL_CTX *tls_context,
			     const char *secret, const struct kf_console_session_events *events,
			     void *user, struct kf_console_session **session, struct kf_error *err);

/* The preamble that names a further stream of this session (proto/session/stream-token.h). */
int kf_console_session_stream_preamble(struct kf_console_session *session, const char *purpose,
				       uint8_t *out, struct kf_error *err);

/*
 * Whether the agent's hello listed KF_FILE_FEATURE_HASH_AFTER: a file sent to it
 * may carry its SHA-256 after the bytes (proto/session/file-transfer.h).
 */
bool kf_console_session_agent_takes_hash_after(const struct kf_console_session *session);

/* The technician's own identity, from the certificate the session runs with. */
const struct kf_tls_identity *kf_console_session_identity(struct kf_console_session *session);

int kf_console_session_chat(struct kf_console_session *session, const char *text,
			    struct kf_error *err);

/* Sends a ping; on_pong reports the round trip. */
int kf_console_session_ping(struct kf_console_session *session, struct kf_error *err);

/* Sends a message of the session (body borrowed, may be NULL); its id goes to *id. */
int kf_console_session_send(struct kf_console_session *session, const char *type, json_t *body,
			    uint32_t *id, struct kf_error *err);

/*
 * Ends the session in order with the technician's reason (NULL: none given, and the
 * customer's helper says it in the customer's language) and closing advice for the
 * customer (may be NULL); on_ended follows when the customer's side has closed.
 */
void kf_console_session_end(struct kf_console_session *session, const char *reason,
			    const char *advice);

/* The case number the end message gives the customer's summary (0: none). */
void kf_console_session_set_case(struct kf_console_session *session, long long case_number);

void kf_console_session_free(struct kf_console_session *session);

#endif
