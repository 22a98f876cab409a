/* kefu-console: the technician's side of one support session. SPDX-License-Identifier: MIT */
#include "console/session/session.h"
#include "proto/base/cli.h"
#include "proto/session/control.h"
#include "proto/session/proof.h"
#include "proto/session/core.h"
#include "proto/session/file-transfer.h"
#include "proto/session/stream-token.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define END_WAIT_MS     3000
#define PINGS_IN_FLIGHT 16

enum session_state {
	STATE_TLS,
	STATE_PROOF, /* waiting for proof.share, then proof.confirm */
	STATE_HELLO, /* proof done, waiting for the agent's hello */
	STATE_ACTIVE,
	STATE_ENDING,
	STATE_OVER,
};

struct kf_console_session {
	struct kf_console_session_events events;
	void *user;
	enum session_state state;
	struct kf_session_core core; /* TLS, control, proof, secret, timer, deferred free */
	struct kf_tls_identity own;
	char end_reason[256];  /* what the technician said when ending */
	long long case_number; /* the case in the team's store, 0 when it has none yet */
	bool agent_takes_hash_after;
	struct {
		uint32_t id;
		uint64_t sent_ns;
	} pings[PINGS_IN_FLIGHT];
};

static void enter(struct kf_console_session *session)
{
	kf_session_core_enter(&session->core);
}

static void leave(struct kf_console_session *session)
{
	/* The session's memory goes with its core. */
	if (kf_session_core_leave(&session->core))
		kf_session_core_release(&session->core);
}

static void ended(struct kf_console_session *session, int status, const char *reason)
{
	if (session->state == STATE_OVER)
		return;
	session->state = STATE_OVER;
	uv_timer_stop(&session->core.timer);
	if (session->events.on_ended != NULL)
		session->events.on_ended(session, status, reason, session->user);
}

/* ---- set-up: the agent's proof, then hello; anything else ends the attempt ---- */

static void setup_error(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;
	json_t *code = json_object_get(msg->body, "code");

	if (json_is_string(code) && strcmp(json_string_value(code), KF_PROOF_ERROR_WRONG_CODE) == 0)
		ended(session, KF_ERR_AUTH, "the code is wrong: ask the customer to read it again");
	else
		ended(session, KF_ERR_DENIED, "the customer's computer refused the session");
}

static void setup_out_of_turn(struct kf_console_session *session, const struct kf_msg *msg)
{
	struct kf_error err;

	kf_error_set(&err, KF_ERR_DENIED, "the other side sent '%s' out of turn", msg->type);
	ended(session, KF_ERR_DENIED, err.message);
}

static void setup_proof_share(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;
	struct kf_error err;
	int r;

	if (session->state != STATE_PROOF || session->core.proof.pake != NULL) {
		setup_out_of_turn(session, msg);
		return;
	}
	r = kf_proof_console_on_share(&session->core.proof, session->core.control,
				      session->core.tls, session->core.secret,
				      session->own.fingerprint, msg, &err);
	if (r != KF_OK)
		ended(session, r, err.message);
}

static void setup_proof_confirm(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;
	struct kf_error err;
	json_t *body;
	int r;

	if (session->state != STATE_PROOF) {
		setup_out_of_turn(session, msg);
		return;
	}
	r = kf_proof_console_on_confirm(&session->core.proof, msg, &err);
	if (r == KF_OK) {
		body = json_pack("{s:s, s:s}", "software", "kefu-console " KF_VERSION, "role",
				 "console");
		r = kf_control_send(session->core.control, "hello", 0, body, NULL, &err);
		json_decref(body);
	}
	if (r != KF_OK) {
		ended(session, r, err.message);
		return;
	}
	session->state = STATE_HELLO;
}

static void setup_hello(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;
	json_t *software = json_object_get(msg->body, "software");
	json_t *id = json_object_get(msg->body, "session");
	json_t *feature;
	size_t index;

	if (session->state != STATE_HELLO) {
		setup_out_of_turn(session, msg);
		return;
	}
	uv_timer_stop(&session->core.timer);
	session->state = STATE_ACTIVE;
	json_array_foreach(
		json_object_get(msg->body, "capabilities"), index,
		feature) if (json_is_string(feature) &&
			     strcmp(json_string_value(feature), KF_FILE_FEATURE_HASH_AFTER) == 0)
		session->agent_takes_hash_after = true;
	if (session->events.on_connected != NULL)
		session->events.on_connected(
			session, json_is_string(software) ? json_string_value(software) : "",
			json_is_string(id) ? json_string_value(id) : "", session->user);
}

bool kf_console_session_agent_takes_hash_after(const struct kf_console_session *session)
{
	return session->agent_takes_hash_after;
}

static const struct kf_msg_handlers setup_handlers = {
	.handlers =
		{
			[KF_MSG_ERROR] = setup_error,
			[KF_MSG_PROOF_SHARE] = setup_proof_share,
			[KF_MSG_PROOF_CONFIRM] = setup_proof_confirm,
			[KF_MSG_HELLO] = setup_hello,
		},
};

/* ---- the established session: what the session core answers itself ---- */

static void session_pong(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;

	for (int i = 0; i < PINGS_IN_FLIGHT; i++) {
		if (session->pings[i].id == 0 || session->pings[i].id != msg->re)
			continue;
		session->pings[i].id = 0;
		if (session->events.on_pong != NULL)
			session->events.on_pong(
				session, (double)(uv_hrtime() - session->pings[i].sent_ns) / 1e6,
				session->user);
		return;
	}
}

static void session_ping(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;

	kf_control_send(session->core.control, "pong", msg->id, NULL, NULL, NULL);
}

static void session_chat(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;
	json_t *text = json_object_get(msg->body, "text");

	if (json_is_string(text) && session->events.on_chat != NULL)
		session->events.on_chat(session, json_string_value(text), session->user);
}

static void session_end(void *user, const struct kf_msg *msg)
{
	struct kf_console_session *session = user;
	json_t *text = json_object_get(msg->body, "reason");

	kf_control_shutdown(session->core.control);
	ended(session, KF_OK,
	      json_is_string(text) ? json_string_value(text) : "the customer ended it");
}

static const struct kf_msg_handlers session_handlers = {
	.handlers =
		{
			[KF_MSG_PONG] = session_pong,
			[KF_MSG_PING] = session_ping,
			[KF_MSG_CHAT] = session_chat,
			[KF_MSG_END] = session_end,
		},
};

static void on_message(struct kf_control *control, const struct kf_msg *msg, void *user)
{
	struct kf_console_session *session = user;

	(void)control;
	enter(session);
	if (session->state == STATE_ACTIVE) {
		/* The rest is the program's: kefu-console join registers its own table. */
		if (kf_msg_dispatch(&session_handlers, session, msg, NULL) != KF_OK &&
		    session->events.on_message != NULL)
			session->events.on_message(session, msg, session->user);
	} else if (session->state < STATE_ACTIVE &&
		   kf_msg_dispatch(&setup_handlers, session, msg, NULL) != KF_OK) {
		setup_out_of_turn(session, msg);
	}
	leave(session);
}

/*
 * The agent closes a connection it will not set up (its code was used, expired or
 * replaced) without a word, since it cannot know yet who is calling: say what that
 * means rather than how the bytes ended.
 */
#define SETUP_CLOSED_REASON                                                                        \
	"the customer's helper closed the connection before the session began: its code may "      \
	"have been used already, have expired or been replaced (ask the customer for the code "    \
	"it shows now)"

static void setup_ended(struct kf_console_session *session, int status, const char *reason)
{
	if (status == KF_ERR_CLOSED)
		ended(session, status, SETUP_CLOSED_REASON);
	else
		ended(session, status, reason);
}

static void on_closed(struct kf_control *control, int status, const struct kf_error *err,
		      void *user)
{
	struct kf_console_session *session = user;

	(void)control;
	enter(session);
	if (session->state == STATE_ENDING)
		ended(session, KF_OK, session->end_reason);
	else if (session->state == STATE_ACTIVE)
		ended(session, status == KF_OK ? KF_ERR_CLOSED : status,
		      err != NULL ? err->message : "the customer's computer went away");
	else
		setup_ended(session, status == KF_OK ? KF_ERR_CLOSED : status,
			    err != NULL ? err->message : SETUP_CLOSED_REASON);
	leave(session);
}

static void on_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct kf_console_session *session = user;
	struct kf_control_callbacks callbacks = {on_message, on_closed};
	struct kf_error failure;

	enter(session);
	if (err != NULL) {
		setup_ended(session, err->code, err->message);
	} else if (kf_tls_stream_local_identity(tls, &session->own, &failure) != KF_OK ||
		   kf_control_new(tls, KF_PARTY_CONSOLE, &callbacks, session,
				  &session->core.control, &failure) != KF_OK) {
		ended(session, failure.code, failure.message);
	} else {
		session->state = STATE_PROOF;
	}
	leave(session);
}

static void on_timer(uv_timer_t *timer)
{
	struct kf_console_session *session = timer->data;

	enter(session);
	if (session->state == STATE_ENDING)
		ended(session, KF_OK, session->end_reason);
	else
		ended(session, KF_ERR_TIMEOUT,
		      "the customer's computer did not finish setting up the session in time");
	leave(session);
}

int kf_console_session_start(uv_loop_t *loop, struct kf_stream *channel, SSL_CTX *tls_context,
			     const char *secret, const struct kf_console_session_events *events,
			     void *user, struct kf_console_session **out, struct kf_error *err)
{
	struct kf_console_session *session = calloc(1, sizeof(*session));
	int r;

	*out = NULL;
	if (session == NULL) {
		kf_stream_close(channel);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a session");
	}
	session->events = *events;
	session->user = user;
	enter(session);
	r = kf_session_core_open(&session->core, loop, session, secret, channel, tls_context, 1,
				 on_handshake, on_timer, KF_CONSOLE_SETUP_TIMEOUT_MS, err);
	if (!kf_session_core_is_open(&session->core)) {
		free(session);
		return r;
	}
	*out = session;
	if (r != KF_OK)
		session->state = STATE_OVER;
	leave(session);
	return r;
}

int kf_console_session_chat(struct kf_console_session *session, const char *text,
			    struct kf_error *err)
{
	if (session->state != STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "not connected to the customer");
	return kf_session_core_chat(&session->core, text, err);
}

int kf_console_session_ping(struct kf_console_session *session, struct kf_error *err)
{
	uint32_t id;
	int slot = -1, r;

	if (session->state != STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "not connected to the customer");
	for (int i = 0; i < PINGS_IN_FLIGHT && slot < 0; i++)
		if (session->pings[i].id == 0)
			slot = i;
	if (slot < 0)
		return kf_error_set(err, KF_ERR_STATE, "too many pings without an answer");
	r = kf_control_send(session->core.control, "ping", 0, NULL, &id, err);
	if (r == KF_OK) {
		session->pings[slot].id = id;
		session->pings[slot].sent_ns = uv_hrtime();
	}
	return r;
}

int kf_console_session_send(struct kf_console_session *session, const char *type, json_t *body,
			    uint32_t *id, struct kf_error *err)
{
	if (session->state != STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "not connected to the customer");
	return kf_control_send(session->core.control, type, 0, body, id, err);
}

void kf_console_session_end(struct kf_console_session *session, const char *reason,
			    const char *advice)
{
	json_t *body;

	if (session->state != STATE_ACTIVE)
		return;
	/* Without words of the technician's own, the customer's helper says it in theirs. */
	body = reason != NULL ? json_pack("{s:s}", "reason", reason) : json_object();
	if (advice != NULL && advice[0] != '\0')
		json_object_set_new(body, "advice", json_string(advice));
	if (session->case_number > 0)
		json_object_set_new(body, "case", json_integer(session->case_number));
	kf_control_send(session->core.control, "end", 0, body, NULL, NULL);
	json_decref(body);
	kf_control_shutdown(session->core.control);
	snprintf(session->end_reason, sizeof(session->end_reason), "%s",
		 reason != NULL ? reason : "the technician ended the session");
	session->state = STATE_ENDING;
	uv_timer_start(&session->core.timer, on_timer, END_WAIT_MS, 0);
}

void kf_console_session_set_case(struct kf_console_session *session, long long case_number)
{
	session->case_number = case_number;
}

void kf_console_session_free(struct kf_console_session *session)
{
	if (session == NULL || kf_session_core_is_freed(&session->core))
		return;
	session->state = STATE_OVER;
	if (kf_session_core_free(&session->core))
		kf_session_core_release(&session->core);
}

const struct kf_tls_identity *kf_console_session_identity(struct kf_console_session *session)
{
	return &session->own;
}

int kf_console_session_stream_preamble(struct kf_console_session *session, const char *purpose,
				       uint8_t *out, struct kf_error *err)
{
	if (session->state != STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "not connected to the customer");
	return kf_stream_token_preamble(session->core.tls, purpose, out, err);
}
