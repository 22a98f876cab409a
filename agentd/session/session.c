/* kefu-agentd: one support session with a technician: set-up, the dispatch table, the end. SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"
#include "agentd/i18n.h"
#include "agentd/session/first-bytes.h"
#include "proto/base/cli.h"
#include "proto/session/file-transfer.h"
#include "proto/session/proof.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KF_AGENT_END_WAIT_MS 3000

static void session_destroy(struct kf_agent_session *session)
{
	kf_agent_session_plugins_release(session);
	kf_agent_session_firmware_release(session);
	kf_agent_session_drivers_release(session);
	kf_agent_session_diag_release(session);
	kf_agent_streams_free(session->streams);
	kf_consent_free(session->consent);
	kf_summary_free(session->summary);
	kf_session_core_release(&session->core); /* the session's memory goes with it */
}

void kf_agent_session_enter(struct kf_agent_session *session)
{
	kf_session_core_enter(&session->core);
}

void kf_agent_session_leave(struct kf_agent_session *session)
{
	if (kf_session_core_leave(&session->core))
		session_destroy(session);
}

bool kf_agent_session_is_open(const struct kf_agent_session *session)
{
	return session->state == KF_AGENT_STATE_ACTIVE || session->state == KF_AGENT_STATE_ENDING;
}

void kf_agent_session_audit(struct kf_agent_session *session, const char *event, json_t *fields)
{
	if (session->config.audit != NULL)
		kf_audit_event(session->config.audit, event, fields, NULL);
	json_decref(fields);
}

void kf_agent_session_activity(struct kf_agent_session *session, const char *format, ...)
{
	char text[1024];
	va_list args;

	if (session->events.on_activity == NULL)
		return;
	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	session->events.on_activity(session, text, session->user);
}

void kf_agent_session_status_changed(struct kf_agent_session *session)
{
	char granted[128], text[512];

	if (session->events.on_status == NULL || session->consent == NULL)
		return;
	kf_consent_describe(session->consent, granted, sizeof(granted));
	/* While anyone watches, the customer is told on every status line. */
	snprintf(text, sizeof(text), _("%s (%s) is connected | allowed: %s%s"),
		 session->technician.name, session->technician.organisation, granted,
		 session->streams != NULL && kf_agent_streams_is_sharing(session->streams)
			 ? _(" | YOUR SCREEN IS SHARED")
			 : "");
	session->events.on_status(session, text, session->user);
}

const char *kf_agent_session_root(const struct kf_agent_session *session)
{
	return session->config.diagnostics_root ? session->config.diagnostics_root : "/";
}

static void reject(struct kf_agent_session *session, int is_wrong_code, const struct kf_error *err)
{
	if (session->state == KF_AGENT_STATE_OVER)
		return;
	session->state = KF_AGENT_STATE_OVER;
	uv_timer_stop(&session->core.timer);
	if (session->events.on_rejected != NULL)
		session->events.on_rejected(session, is_wrong_code, err, session->user);
}

/*
 * reason is the record's (the audit log's, in the helper's own words or the
 * technician's); shown is what the customer reads, in the customer's language
 * when the words are the helper's own.
 */
static void ended(struct kf_agent_session *session, int status, const char *reason,
		  const char *shown)
{
	char md_path[4096] = "", html_path[4096];
	const char *summary_path = NULL;

	if (session->state == KF_AGENT_STATE_OVER)
		return;
	session->state = KF_AGENT_STATE_OVER;
	if (session->consent != NULL)
		kf_consent_revoke_all(session->consent, KF_CONSENT_BY_SESSION_END);
	if (session->summary != NULL) {
		kf_summary_note(session->summary, "access", _("The session ended: %s"), shown);
		if (session->advice[0] != '\0')
			kf_summary_set_advice(session->summary, session->advice);
		if (kf_summary_write(session->summary, session->config.summary_dir, md_path,
				     html_path, sizeof(md_path), NULL) == KF_OK)
			summary_path = md_path;
	}
	if (session->config.audit != NULL && session->consent != NULL) {
		json_t *fields = json_pack("{s:s, s:s}", "reason", reason, "summary",
					   summary_path ? summary_path : "");

		/* What was found, done and advised, for the support journal. */
		if (session->summary != NULL) {
			json_t *facts = kf_summary_facts(session->summary);

			json_object_update(fields, facts);
			json_decref(facts);
		}

		kf_audit_event(session->config.audit, "session-summary", fields, NULL);
		json_decref(fields);
		kf_audit_session_end(session->config.audit, status == KF_OK ? "ended" : "cut-off",
				     NULL);
	}
	if (session->events.on_ended != NULL)
		session->events.on_ended(session, status, shown, summary_path, session->user);
}

/* ---- the streams after set-up: the screen, files, firmware uploads ---- */

static void stream_file(void *user, const char *purpose, int status, json_t *fields)
{
	struct kf_agent_session *session = user;

	if (strcmp(purpose, "firmware") == 0) {
		if (status == KF_OK) {
			kf_agent_session_firmware_arrived(session, fields);
			return;
		}
		kf_agent_session_audit(
			session, "action-finish",
			json_pack("{s:s, s:s, s:s}", "action", "firmware upload", "result",
				  "failed", "error",
				  json_string_value(json_object_get(fields, "error")) ?: "?"));
		return;
	}
	const char *op = json_string_value(json_object_get(fields, "op"));
	int is_send = op != NULL && strcmp(op, "send") == 0;
	json_t *entry = json_pack("{s:s, s:s}", "action", is_send ? "file send" : "file fetch",
				  "result", status == KF_OK ? "ok" : "failed");

	json_object_update(entry, fields);
	json_object_del(entry, "op");
	kf_agent_session_audit(session, "action-finish", entry);
	if (status != KF_OK) {
		const char *path = json_string_value(json_object_get(fields, "path"));

		/* Why it failed is the technician's detail (and the audit log's, above); the
		 * customer reads what it means for them. */
		if (is_send)
			kf_summary_note(session->summary, "action", "%s",
					_("A file your technician sent could not be saved"));
		else if (path != NULL)
			kf_summary_note(session->summary, "action",
					_("%s was not copied to your technician"), path);
		else
			kf_summary_note(session->summary, "action", "%s",
					_("A file was not copied to your technician"));
		kf_agent_session_activity(session, "%s",
					  is_send ? _("A file from your technician could not be "
						      "saved.")
						  : _("Nothing was copied to your technician."));
	} else if (is_send) {
		const char *saved = json_string_value(json_object_get(fields, "saved"));
		json_int_t size = json_integer_value(json_object_get(fields, "size"));

		kf_summary_note(session->summary, "action",
				ngettext("The technician sent you a file, saved as %s (%lld byte, "
					 "SHA-256 %s)",
					 "The technician sent you a file, saved as %s (%lld bytes, "
					 "SHA-256 %s)",
					 (unsigned long)size),
				saved, (long long)size,
				json_string_value(json_object_get(fields, "sha256")));
		kf_agent_session_activity(session, _("%s sent you a file: %s"),
					  session->technician.name, saved);
	} else {
		const char *path = json_string_value(json_object_get(fields, "path"));
		json_int_t size = json_integer_value(json_object_get(fields, "size"));

		kf_summary_note(session->summary, "action",
				ngettext("The technician fetched %s (%lld byte)",
					 "The technician fetched %s (%lld bytes)",
					 (unsigned long)size),
				path, (long long)size);
		kf_agent_session_activity(session, _("%s fetched a copy of %s"),
					  session->technician.name, path);
	}
}

static void stream_event(void *user, const char *what, const char *detail)
{
	struct kf_agent_session *session = user;

	if (strcmp(what, "input-refused") == 0) {
		/* The viewer typed or clicked without control: dropped by the screen, noted here.
		 */
		kf_agent_session_audit(
			session, "action-refused",
			json_pack("{s:s, s:s}", "action", "input", "missing", "control"));
		kf_summary_note(session->summary, "access",
				_("Refused keyboard or mouse input: it needs control"));
		return;
	}
	if (strcmp(what, "screen-asking") == 0) {
		kf_agent_session_activity(
			session, "%s",
			_("Your desktop may now ask you in a window of its own what to "
			  "share: choose the screen and press Share (or Cancel)."));
		return;
	}
	kf_agent_session_audit(session, what, json_pack("{s:s}", "detail", detail));
	if (strcmp(what, "screen-viewer") == 0)
		kf_summary_note(session->summary, "action", _("The technician viewed your screen"));
	if (strcmp(what, "screen-lost") == 0) {
		/* The desktop itself stopped the sharing (its portal session closed). */
		kf_summary_note(session->summary, "access",
				_("Your desktop stopped sharing your screen"));
		if (kf_agent_session_is_open(session)) {
			json_t *body = json_pack("{s:s}", "reason", detail);

			kf_control_send(session->core.control, "screen.ended", 0, body, NULL, NULL);
			json_decref(body);
		}
		kf_agent_session_activity(
			session,
			_("Your desktop stopped sharing your screen: %s no longer sees "
			  "it. If they view it again, your desktop asks you again."),
			session->technician.name);
	}
	if (strcmp(what, "screen-open-cancelled") == 0)
		kf_summary_note(session->summary, "access",
				_("Viewing your screen was stopped before it began"));
	kf_agent_session_status_changed(session);
}

static const struct kf_agent_streams_callbacks stream_callbacks = {
	.is_allowed = kf_agent_session_stream_is_allowed,
	.on_event = stream_event,
	.on_file = stream_file,
	.on_fetch_ask = kf_agent_session_fetch_ask,
	.on_fetch_expired = kf_agent_session_fetch_expired,
};

static void begin(struct kf_agent_session *session)
{
	session->streams = kf_agent_streams_new(session->core.loop, session->config.tls_context,
						session->core.tls, session->technician.fingerprint,
						&stream_callbacks, session);
	kf_agent_streams_set_monitor(session->streams, session->config.screen_monitor);
	kf_agent_streams_set_fetch_timeout(session->streams,
					   session->config.consent_timeout_ms
						   ? session->config.consent_timeout_ms
						   : KF_CONSENT_DEFAULT_TIMEOUT_MS);
	session->consent = kf_consent_new(session->core.loop, session->config.policy,
					  session->config.consent_timeout_ms,
					  &kf_agent_session_consent_events, session);
	session->summary = kf_summary_new(session->session_id, session->technician.name,
					  session->technician.organisation);
	kf_summary_set_contact(session->summary, session->config.contact);
	if (session->config.audit != NULL)
		kf_audit_session_start(session->config.audit, session->session_id,
				       session->technician.name, session->technician.organisation,
				       session->technician.fingerprint, NULL);
	if (session->config.case_number != NULL)
		kf_summary_note(session->summary, "access", _("Case number: %s"),
				session->config.case_number);
	if (session->config.policy != NULL) {
		kf_summary_note(session->summary, "access", _("The policy \"%s\" applied"),
				session->config.policy->name);
		kf_agent_session_audit(session, "policy",
				       json_pack("{s:s}", "name", session->config.policy->name));
	}
}

/* ---- set-up: proof of the code, then hello ---- */

static int send_hello(struct kf_agent_session *session, struct kf_error *err)
{
	uint8_t random[16];
	json_t *body;
	int r;

	/* The session's name in both sides' records: the audit log and the case history. */
	RAND_bytes(random, sizeof(random));
	for (int i = 0; i < 16; i++)
		snprintf(session->session_id + 2 * i, 3, "%02x", random[i]);
	body = json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "software", "kefu-agentd " KF_VERSION,
			 "role", "agent", "session", session->session_id, "capabilities", "chat",
			 "diagnose", KF_FILE_FEATURE_HASH_AFTER);
	r = kf_control_send(session->core.control, "hello", 0, body, NULL, err);

	json_decref(body);
	return r;
}

/* Before the code is proven, anything out of turn ends the attempt. */
static void refuse_setup(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_error err;

	/* The other side reads the helper's own words; the customer, theirs. */
	kf_error_set(&err, KF_ERR_DENIED, "the other side sent '%s' before proving the code",
		     msg->type);
	kf_control_send_error(session->core.control, msg->id, "denied", err.message, NULL);
	kf_error_set(&err, KF_ERR_DENIED, _("the other side sent '%s' before proving the code"),
		     msg->type);
	reject(session, 0, &err);
}

static void handle_proof_reply(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	struct kf_error err;
	int r;

	if (session->state != KF_AGENT_STATE_PROOF) {
		refuse_setup(session, msg);
		return;
	}
	r = kf_proof_agent_on_reply(&session->core.proof, session->core.control, msg, &err);
	if (r == KF_ERR_AUTH) {
		kf_control_send_error(session->core.control, msg->id, KF_PROOF_ERROR_WRONG_CODE,
				      "the code is wrong", NULL);
		kf_control_shutdown(session->core.control);
		reject(session, 1, &err);
		return;
	}
	if (r == KF_OK)
		r = send_hello(session, &err);
	if (r != KF_OK) {
		reject(session, 0, &err);
		return;
	}
	session->state = KF_AGENT_STATE_HELLO;
}

static void handle_hello(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;

	if (session->state != KF_AGENT_STATE_HELLO) {
		refuse_setup(session, msg);
		return;
	}
	uv_timer_stop(&session->core.timer);
	session->state = KF_AGENT_STATE_ACTIVE;
	begin(session);
	if (session->events.on_connected != NULL)
		session->events.on_connected(session, &session->technician, session->user);
	kf_agent_session_status_changed(session);
}

/* ---- the established session's own messages ---- */

static void handle_ping(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;

	kf_control_send(session->core.control, "pong", msg->id, NULL, NULL, NULL);
}

/* pong and error answer our own messages; nothing to do. */
static void handle_answer(void *user, const struct kf_msg *msg)
{
	(void)user;
	(void)msg;
}

static void handle_chat(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	json_t *text = json_object_get(msg->body, "text");

	if (!json_is_string(text)) {
		kf_control_send_error(session->core.control, msg->id, "bad-message",
				      "chat needs a text", NULL);
		return;
	}
	kf_agent_session_audit(session, "chat",
			       json_pack("{s:s, s:I}", "from", "technician", "length",
					 (json_int_t)json_string_length(text)));
	/* TRANSLATORS: a chat line in the summary: the technician's name, then their words. */
	kf_summary_note(session->summary, "chat", _("%s: %s"), session->technician.name,
			json_string_value(text));
	if (session->events.on_chat != NULL)
		session->events.on_chat(session, json_string_value(text), session->user);
}

static void handle_end(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	json_t *advice = json_object_get(msg->body, "advice");
	json_t *reason = json_object_get(msg->body, "reason");

	if (json_is_string(advice))
		snprintf(session->advice, sizeof(session->advice), "%s", json_string_value(advice));
	kf_agent_session_summary_case(session, json_object_get(msg->body, "case"));
	kf_control_shutdown(session->core.control);
	/* The technician's own words are theirs; without any, the helper says it. */
	if (json_is_string(reason))
		ended(session, KF_OK, json_string_value(reason), json_string_value(reason));
	else
		ended(session, KF_OK, "the technician ended the session",
		      _("the technician ended the session"));
}

/* ---- the dispatch table ---- */

/* Until the code is proven and hello has come, only these; each checks its turn. */
static const struct kf_msg_handlers setup_handlers = {
	.handlers =
		{
			[KF_MSG_PROOF_REPLY] = handle_proof_reply,
			[KF_MSG_HELLO] = handle_hello,
		},
};

/*
 * What the technician may send in an established session. The grant a type
 * needs is its row's capability (proto/session/messages.c), checked once in
 * dispatch() before any of these runs; a type without a handler here (hello
 * again, proof.reply) is answered "unexpected".
 */
static const struct kf_msg_handlers session_handlers = {
	.handlers =
		{
			[KF_MSG_PING] = handle_ping,
			[KF_MSG_PONG] = handle_answer,
			[KF_MSG_ERROR] = handle_answer,
			[KF_MSG_CHAT] = handle_chat,
			[KF_MSG_END] = handle_end,
			[KF_MSG_CONSENT_REQUEST] = kf_agent_session_on_consent_request,
			[KF_MSG_CONSENT_RELEASE] = kf_agent_session_on_consent_release,
			[KF_MSG_DIAG_REQUEST] = kf_agent_session_on_diag_request,
			[KF_MSG_PLUGINS_REQUEST] = kf_agent_session_on_plugins_request,
			[KF_MSG_PLUGIN_RUN] = kf_agent_session_on_plugin_run,
			[KF_MSG_PLUGIN_REPAIR] = kf_agent_session_on_plugin_repair,
			[KF_MSG_FIRMWARE_LIST] = kf_agent_session_on_firmware_list,
			[KF_MSG_DRIVERS_REQUEST] = kf_agent_session_on_drivers_request,
			[KF_MSG_DRIVERS_CHANGE] = kf_agent_session_on_drivers_change,
			[KF_MSG_HISTORY_REQUEST] = kf_agent_session_on_history_request,
			[KF_MSG_FIRMWARE_LATEST] = kf_agent_session_on_firmware_latest,
		},
};

/*
 * The one place every message of an established session arrives. Actions that
 * need a grant are checked here, in the core, before anything runs.
 */
static void dispatch(struct kf_agent_session *session, const struct kf_msg *msg)
{
	if (!kf_agent_session_allows(session, msg))
		return;
	if (kf_msg_dispatch(&session_handlers, session, msg, NULL) != KF_OK)
		kf_control_send_error(session->core.control, msg->id, "unexpected",
				      "this message does not fit an established session", NULL);
}

static void on_message(struct kf_control *control, const struct kf_msg *msg, void *user)
{
	struct kf_agent_session *session = user;

	(void)control;
	kf_agent_session_enter(session);
	if (session->state == KF_AGENT_STATE_ACTIVE)
		dispatch(session, msg);
	else if (session->state < KF_AGENT_STATE_ACTIVE &&
		 kf_msg_dispatch(&setup_handlers, session, msg, NULL) != KF_OK)
		refuse_setup(session, msg);
	kf_agent_session_leave(session);
}

static void on_closed(struct kf_control *control, int status, const struct kf_error *err,
		      void *user)
{
	struct kf_agent_session *session = user;
	struct kf_error early;

	(void)control;
	kf_agent_session_enter(session);
	if (session->state == KF_AGENT_STATE_ENDING) {
		ended(session, KF_OK, "the customer ended the session", _("you ended the session"));
	} else if (session->state == KF_AGENT_STATE_ACTIVE) {
		/* The cause in the record; the customer is told what it means for them. */
		ended(session, status == KF_OK ? KF_ERR_CLOSED : status,
		      err != NULL ? err->message : "the technician's side went away",
		      _("the connection to your technician was lost"));
	} else {
		if (err == NULL) {
			kf_error_set(&early, KF_ERR_CLOSED, "%s",
				     _("the connection closed during set-up"));
			err = &early;
		}
		reject(session, 0, err);
	}
	kf_agent_session_leave(session);
}

static void on_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct kf_agent_session *session = user;
	struct kf_control_callbacks callbacks = {on_message, on_closed};
	struct kf_error failure;

	kf_agent_session_enter(session);
	if (err != NULL) {
		reject(session, 0, err);
		goto out;
	}
	if (kf_tls_stream_peer_identity(tls, &session->technician, &failure) != KF_OK ||
	    kf_control_new(tls, KF_PARTY_AGENT, &callbacks, session, &session->core.control,
			   &failure) != KF_OK ||
	    kf_proof_agent_start(&session->core.proof, session->core.control, tls,
				 session->core.secret, session->technician.fingerprint,
				 &failure) != KF_OK) {
		reject(session, 0, &failure);
		goto out;
	}
	session->state = KF_AGENT_STATE_PROOF;
out:
	kf_agent_session_leave(session);
}

static void on_setup_timeout(uv_timer_t *timer)
{
	struct kf_agent_session *session = timer->data;
	struct kf_error err;

	kf_agent_session_enter(session);
	if (session->state == KF_AGENT_STATE_ENDING) {
		ended(session, KF_OK, "the customer ended the session", _("you ended the session"));
		kf_agent_session_leave(session);
		return;
	}
	if (!session->is_heard)
		kf_error_set(&err, KF_ERR_TIMEOUT,
			     _("nothing came from the other side within %d s"),
			     KF_AGENT_FIRST_BYTES_MS / 1000);
	else
		kf_error_set(&err, KF_ERR_TIMEOUT,
			     _("the connection did not finish setting up within %d s"),
			     KF_AGENT_SETUP_TIMEOUT_MS / 1000);
	reject(session, 0, &err);
	kf_agent_session_leave(session);
}

/* The other side spoke: from now on it has the whole set-up time. */
static void on_heard(void *user)
{
	struct kf_agent_session *session = user;

	session->is_heard = true;
	if (session->state < KF_AGENT_STATE_ACTIVE)
		uv_timer_start(&session->core.timer, on_setup_timeout, KF_AGENT_SETUP_TIMEOUT_MS,
			       0);
}

int kf_agent_session_is_heard(const struct kf_agent_session *session)
{
	return session->is_heard;
}

int kf_agent_session_start(uv_loop_t *loop, struct kf_stream *channel,
			   const struct kf_agent_session_config *config,
			   const struct kf_agent_session_events *events, void *user,
			   struct kf_agent_session **out, struct kf_error *err)
{
	struct kf_agent_session *session = calloc(1, sizeof(*session));
	struct kf_stream *watched;
	int r;

	*out = NULL;
	if (session == NULL ||
	    (watched = kf_first_bytes_stream_new(channel, on_heard, session)) == NULL) {
		free(session);
		kf_stream_close(channel);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a session");
	}
	session->events = *events;
	session->user = user;
	session->config = *config;
	session->config.secret = NULL;
	kf_agent_session_enter(session);
	/* Until the console's first bytes, only the short deadline for them runs. */
	r = kf_session_core_open(&session->core, loop, session, config->secret, watched,
				 config->tls_context, 0, on_handshake, on_setup_timeout,
				 KF_AGENT_FIRST_BYTES_MS, err);
	if (!kf_session_core_is_open(&session->core)) {
		free(session);
		return r;
	}
	*out = session;
	if (r != KF_OK)
		session->state = KF_AGENT_STATE_OVER;
	kf_agent_session_leave(session);
	return r;
}

int kf_agent_session_chat(struct kf_agent_session *session, const char *text, struct kf_error *err)
{
	int r;

	if (session->state != KF_AGENT_STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	r = kf_session_core_chat(&session->core, text, err);
	if (r == KF_OK) {
		/* Both sides of the conversation are kept, by the technician's rule: the
		 * audit log has the length, the customer's own summary the words. */
		kf_agent_session_audit(session, "chat",
				       json_pack("{s:s, s:I}", "from", "customer", "length",
						 (json_int_t)strlen(text)));
		kf_summary_note(session->summary, "chat", _("You: %s"), text);
	}
	return r;
}

void kf_agent_session_end(struct kf_agent_session *session, const char *reason)
{
	json_t *body;

	if (session->state != KF_AGENT_STATE_ACTIVE)
		return;
	/* Every grant ends first, so nothing more runs while the end travels. */
	kf_consent_revoke_all(session->consent, KF_CONSENT_BY_CUSTOMER);
	kf_agent_session_audit(session, "stop", json_pack("{s:s}", "reason", reason));
	body = json_pack("{s:s}", "reason", reason);
	kf_control_send(session->core.control, "end", 0, body, NULL, NULL);
	json_decref(body);
	kf_control_shutdown(session->core.control);
	/* on_ended fires when the console closes its side, or after a short wait. */
	session->state = KF_AGENT_STATE_ENDING;
	uv_timer_start(&session->core.timer, on_setup_timeout, KF_AGENT_END_WAIT_MS, 0);
}

void kf_agent_session_free(struct kf_agent_session *session)
{
	if (session == NULL || kf_session_core_is_freed(&session->core))
		return;
	session->state = KF_AGENT_STATE_OVER;
	if (kf_session_core_free(&session->core))
		session_destroy(session);
}

int kf_agent_session_answer(struct kf_agent_session *session, enum kf_capability capability,
			    int is_granted, struct kf_error *err)
{
	int r;

	if (session->state != KF_AGENT_STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	kf_agent_session_enter(session);
	r = kf_consent_answer(session->consent, capability, is_granted, err);
	kf_agent_session_leave(session);
	return r;
}

void kf_agent_session_revoke(struct kf_agent_session *session, enum kf_capability capability)
{
	if (session->state != KF_AGENT_STATE_ACTIVE)
		return;
	kf_agent_session_enter(session);
	kf_consent_revoke(session->consent, capability, KF_CONSENT_BY_CUSTOMER);
	kf_agent_session_leave(session);
}

void kf_agent_session_describe(struct kf_agent_session *session, char *out, size_t size)
{
	if (session->consent == NULL)
		snprintf(out, size, "%s", _("nothing"));
	else
		kf_consent_describe(session->consent, out, size);
}

bool kf_agent_session_is_granted(const struct kf_agent_session *session,
				 enum kf_capability capability)
{
	return session->consent != NULL && kf_consent_check(session->consent, capability);
}

int kf_agent_session_is_asking(struct kf_agent_session *session, enum kf_capability capability)
{
	return session->consent != NULL && kf_consent_is_pending(session->consent, capability);
}

const char *kf_agent_session_advice(struct kf_agent_session *session)
{
	return session->advice;
}

void kf_agent_session_attach_stream(struct kf_agent_session *session, struct kf_stream *channel)
{
	if (session->state != KF_AGENT_STATE_ACTIVE || session->streams == NULL) {
		kf_stream_close(channel);
		return;
	}
	kf_agent_session_enter(session);
	kf_agent_streams_attach(session->streams, channel);
	kf_agent_session_leave(session);
}
