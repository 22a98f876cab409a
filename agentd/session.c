/* kefu-agentd: one support session with a technician, from TLS to its end. SPDX-License-Identifier: MIT */
#include "agentd/session.h"
#include "proto/cli.h"
#include "proto/control.h"
#include "proto/proof.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

enum session_state {
	STATE_TLS,    /* waiting for the TLS handshake */
	STATE_PROOF,  /* proof.share sent, waiting for proof.reply */
	STATE_HELLO,  /* proof done, waiting for the console's hello */
	STATE_ACTIVE, /* set up: chat, ping, actions */
	STATE_ENDING, /* we sent end; waiting for the other side to close */
	STATE_OVER,   /* rejected or ended; no more events */
};

struct kf_agent_session {
	struct kf_agent_session_events events;
	void *user;
	enum session_state state;
	struct kf_stream *tls;
	struct kf_control *control;
	struct kf_proof proof;
	struct kf_tls_identity technician;
	char *secret;
	uv_timer_t setup_timer;
	int depth;
	int is_freed;
};

static void timer_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void session_destroy(struct kf_agent_session *session)
{
	kf_proof_clear(&session->proof);
	if (session->control != NULL)
		kf_control_free(session->control); /* closes TLS and the channel below */
	else if (session->tls != NULL)
		kf_stream_close(session->tls);
	if (session->secret != NULL) {
		OPENSSL_cleanse(session->secret, strlen(session->secret));
		free(session->secret);
	}
	/* The timer lives in the session's memory: free it once libuv let go. */
	uv_close((uv_handle_t *)&session->setup_timer, timer_closed);
}

static void enter(struct kf_agent_session *session)
{
	session->depth++;
}

static void leave(struct kf_agent_session *session)
{
	if (--session->depth == 0 && session->is_freed)
		session_destroy(session);
}

static void reject(struct kf_agent_session *session, int is_wrong_code, const struct kf_error *err)
{
	if (session->state == STATE_OVER)
		return;
	session->state = STATE_OVER;
	uv_timer_stop(&session->setup_timer);
	if (session->events.on_rejected != NULL)
		session->events.on_rejected(session, is_wrong_code, err, session->user);
}

static void ended(struct kf_agent_session *session, int status, const char *reason)
{
	if (session->state == STATE_OVER)
		return;
	session->state = STATE_OVER;
	if (session->events.on_ended != NULL)
		session->events.on_ended(session, status, reason, session->user);
}

static int send_hello(struct kf_agent_session *session, struct kf_error *err)
{
	json_t *body = json_pack("{s:s, s:s, s:[s]}", "software", "kefu-agentd " KF_VERSION, "role",
				 "agent", "capabilities", "chat");
	int r = kf_control_send(session->control, "hello", 0, body, NULL, err);

	json_decref(body);
	return r;
}

static void handle_setup_message(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_error err;
	int r;

	if (session->state == STATE_PROOF && strcmp(msg->type, "proof.reply") == 0) {
		r = kf_proof_agent_on_reply(&session->proof, session->control, msg, &err);
		if (r == KF_ERR_AUTH) {
			kf_control_send_error(session->control, msg->id, KF_PROOF_ERROR_WRONG_CODE,
					      "the code is wrong", NULL);
			kf_control_shutdown(session->control);
			reject(session, 1, &err);
			return;
		}
		if (r == KF_OK)
			r = send_hello(session, &err);
		if (r != KF_OK) {
			reject(session, 0, &err);
			return;
		}
		session->state = STATE_HELLO;
		return;
	}
	if (session->state == STATE_HELLO && strcmp(msg->type, "hello") == 0) {
		uv_timer_stop(&session->setup_timer);
		session->state = STATE_ACTIVE;
		if (session->events.on_connected != NULL)
			session->events.on_connected(session, &session->technician, session->user);
		return;
	}
	/* Before the code is proven, anything else ends the attempt. */
	kf_error_set(&err, KF_ERR_DENIED, "the other side sent '%s' before proving the code",
		     msg->type);
	kf_control_send_error(session->control, msg->id, "denied", err.message, NULL);
	reject(session, 0, &err);
}

#define KF_AGENT_END_WAIT_MS 3000

/*
 * The one place every message of an established session arrives. Actions that need
 * a grant are checked here, in the core, before anything runs.
 */
static void handle_session_message(struct kf_agent_session *session, const struct kf_msg *msg)
{
	json_t *text;

	if (strcmp(msg->type, "ping") == 0) {
		kf_control_send(session->control, "pong", msg->id, NULL, NULL, NULL);
	} else if (strcmp(msg->type, "chat") == 0) {
		text = json_object_get(msg->body, "text");
		if (!json_is_string(text)) {
			kf_control_send_error(session->control, msg->id, "bad-message",
					      "chat needs a text", NULL);
			return;
		}
		if (session->events.on_chat != NULL)
			session->events.on_chat(session, json_string_value(text), session->user);
	} else if (strcmp(msg->type, "end") == 0) {
		text = json_object_get(msg->body, "reason");
		kf_control_shutdown(session->control);
		ended(session, KF_OK,
		      json_is_string(text) ? json_string_value(text) : "the technician ended it");
	} else if (strcmp(msg->type, "pong") == 0 || strcmp(msg->type, "error") == 0) {
		/* Answers to our own messages; nothing to do. */
	} else {
		kf_control_send_error(session->control, msg->id, "unexpected",
				      "this message does not fit an established session", NULL);
	}
}

static void on_message(struct kf_control *control, const struct kf_msg *msg, void *user)
{
	struct kf_agent_session *session = user;

	(void)control;
	enter(session);
	if (session->state == STATE_ACTIVE)
		handle_session_message(session, msg);
	else if (session->state < STATE_ACTIVE)
		handle_setup_message(session, msg);
	leave(session);
}

static void on_closed(struct kf_control *control, int status, const struct kf_error *err,
		      void *user)
{
	struct kf_agent_session *session = user;
	struct kf_error early;

	(void)control;
	enter(session);
	if (session->state == STATE_ENDING) {
		ended(session, KF_OK, "the customer ended the session");
	} else if (session->state == STATE_ACTIVE) {
		ended(session, status == KF_OK ? KF_ERR_CLOSED : status,
		      err != NULL ? err->message : "the technician's side went away");
	} else {
		if (err == NULL) {
			kf_error_set(&early, KF_ERR_CLOSED, "the connection closed during set-up");
			err = &early;
		}
		reject(session, 0, err);
	}
	leave(session);
}

static void on_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct kf_agent_session *session = user;
	struct kf_control_callbacks callbacks = {on_message, on_closed};
	struct kf_error failure;

	enter(session);
	if (err != NULL) {
		reject(session, 0, err);
		goto out;
	}
	if (kf_tls_stream_peer_identity(tls, &session->technician, &failure) != KF_OK ||
	    kf_control_new(tls, &callbacks, session, &session->control, &failure) != KF_OK ||
	    kf_proof_agent_start(&session->proof, session->control, tls, session->secret,
				 session->technician.fingerprint, &failure) != KF_OK) {
		reject(session, 0, &failure);
		goto out;
	}
	session->state = STATE_PROOF;
out:
	leave(session);
}

static void on_setup_timeout(uv_timer_t *timer)
{
	struct kf_agent_session *session = timer->data;
	struct kf_error err;

	enter(session);
	if (session->state == STATE_ENDING) {
		ended(session, KF_OK, "the customer ended the session");
		leave(session);
		return;
	}
	kf_error_set(&err, KF_ERR_TIMEOUT, "the connection did not finish setting up within %d s",
		     KF_AGENT_SETUP_TIMEOUT_MS / 1000);
	reject(session, 0, &err);
	leave(session);
}

int kf_agent_session_start(uv_loop_t *loop, struct kf_stream *channel, SSL_CTX *tls_context,
			   const char *secret, const struct kf_agent_session_events *events,
			   void *user, struct kf_agent_session **out, struct kf_error *err)
{
	struct kf_agent_session *session = calloc(1, sizeof(*session));
	int r;

	*out = NULL;
	if (session == NULL || (session->secret = strdup(secret)) == NULL) {
		free(session);
		kf_stream_close(channel);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a session");
	}
	session->events = *events;
	session->user = user;
	uv_timer_init(loop, &session->setup_timer);
	session->setup_timer.data = session;
	uv_timer_start(&session->setup_timer, on_setup_timeout, KF_AGENT_SETUP_TIMEOUT_MS, 0);
	*out = session;
	enter(session);
	r = kf_tls_stream_new(tls_context, 0, channel, on_handshake, session, &session->tls, err);
	if (r != KF_OK) {
		kf_stream_close(channel);
		session->state = STATE_OVER;
	}
	leave(session);
	return r;
}

int kf_agent_session_chat(struct kf_agent_session *session, const char *text, struct kf_error *err)
{
	json_t *body;
	int r;

	if (session->state != STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	body = json_pack("{s:s}", "text", text);
	if (body == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "the message is not valid text");
	r = kf_control_send(session->control, "chat", 0, body, NULL, err);
	json_decref(body);
	return r;
}

void kf_agent_session_end(struct kf_agent_session *session, const char *reason)
{
	json_t *body;

	if (session->state != STATE_ACTIVE)
		return;
	body = json_pack("{s:s}", "reason", reason);
	kf_control_send(session->control, "end", 0, body, NULL, NULL);
	json_decref(body);
	kf_control_shutdown(session->control);
	/* on_ended fires when the console closes its side, or after a short wait. */
	session->state = STATE_ENDING;
	uv_timer_start(&session->setup_timer, on_setup_timeout, KF_AGENT_END_WAIT_MS, 0);
}

void kf_agent_session_free(struct kf_agent_session *session)
{
	if (session == NULL || session->is_freed)
		return;
	session->is_freed = 1;
	session->state = STATE_OVER;
	if (session->depth == 0)
		session_destroy(session);
}
