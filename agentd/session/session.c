/* kefu-agentd: one support session with a technician, from TLS to its end. SPDX-License-Identifier: MIT */
#include "agentd/session/session.h"
#include "agentd/diag/collect.h"
#include "agentd/firmware/job.h"
#include "agentd/plugins/scan-summary.h"
#include "agentd/session/streams.h"
#include "agentd/session/summary.h"
#include "proto/base/cli.h"
#include "proto/session/control.h"
#include "proto/session/proof.h"
#include "proto/session/core.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	struct kf_session_core core; /* TLS, control, proof, secret, timer, deferred free */
	struct kf_tls_identity technician;
	struct kf_agent_session_config config;
	struct kf_consent *consent;
	struct kf_summary *summary;
	struct kf_agent_streams *streams;
	/* The plugin run the technician started, if any: one at a time. */
	struct kf_plugin_job *job;
	uint32_t job_request;
	enum kf_capability job_capability;
	char job_plugin[128];
	/* The firmware command the technician started, if any: one at a time. */
	struct kf_firmware_job *firmware;
	uint32_t firmware_request; /* firmware.list's id; 0 for an update */
	char firmware_file[4096];  /* the uploaded update, removed when the job ends */
	char firmware_name[256];
	bool is_firmware_writing;
	json_t *firmware_out; /* firmware.list: the lines printed */
	/* The diagnostics report plugins read: kept from the first collection on. */
	json_t *report;
	char report_path[64];
	char session_id[33];
	char advice[1024];
};

/* The uploaded update and its private folder go once the firmware command is done. */
static void forget_firmware_file(struct kf_agent_session *session)
{
	char *slash = strrchr(session->firmware_file, '/');

	if (session->firmware_file[0] == '\0')
		return;
	unlink(session->firmware_file);
	if (slash != NULL) {
		*slash = '\0';
		rmdir(session->firmware_file);
	}
	session->firmware_file[0] = '\0';
}

static void session_destroy(struct kf_agent_session *session)
{
	/* A plugin still running is stopped; its end is no one's business any more. */
	kf_plugin_job_detach(session->job);
	kf_firmware_job_detach(session->firmware);
	json_decref(session->firmware_out);
	forget_firmware_file(session);
	json_decref(session->report);
	if (session->report_path[0] != '\0')
		unlink(session->report_path);
	kf_agent_streams_free(session->streams);
	kf_consent_free(session->consent);
	kf_summary_free(session->summary);
	kf_session_core_release(&session->core); /* the session's memory goes with it */
}

static void enter(struct kf_agent_session *session)
{
	kf_session_core_enter(&session->core);
}

static void leave(struct kf_agent_session *session)
{
	if (kf_session_core_leave(&session->core))
		session_destroy(session);
}

static void begin(struct kf_agent_session *session);
static void status_changed(struct kf_agent_session *session);
static int refuse_without(struct kf_agent_session *session, const struct kf_msg *msg,
			  enum kf_capability capability);

static void reject(struct kf_agent_session *session, int is_wrong_code, const struct kf_error *err)
{
	if (session->state == STATE_OVER)
		return;
	session->state = STATE_OVER;
	uv_timer_stop(&session->core.timer);
	if (session->events.on_rejected != NULL)
		session->events.on_rejected(session, is_wrong_code, err, session->user);
}

static void audit(struct kf_agent_session *session, const char *event, json_t *fields)
{
	if (session->config.audit != NULL)
		kf_audit_event(session->config.audit, event, fields, NULL);
	json_decref(fields);
}

static void ended(struct kf_agent_session *session, int status, const char *reason)
{
	char md_path[4096] = "", html_path[4096];
	const char *summary_path = NULL;

	if (session->state == STATE_OVER)
		return;
	session->state = STATE_OVER;
	if (session->consent != NULL)
		kf_consent_revoke_all(session->consent, KF_CONSENT_BY_SESSION_END);
	if (session->summary != NULL) {
		kf_summary_note(session->summary, "access", "The session ended: %s", reason);
		if (session->advice[0] != '\0')
			kf_summary_set_advice(session->summary, session->advice);
		if (kf_summary_write(session->summary, session->config.summary_dir, md_path,
				     html_path, sizeof(md_path), NULL) == KF_OK)
			summary_path = md_path;
	}
	if (session->config.audit != NULL && session->consent != NULL) {
		json_t *fields = json_pack("{s:s, s:s}", "reason", reason, "summary",
					   summary_path ? summary_path : "");

		kf_audit_event(session->config.audit, "session-summary", fields, NULL);
		json_decref(fields);
		kf_audit_session_end(session->config.audit, status == KF_OK ? "ended" : "cut-off",
				     NULL);
	}
	if (session->events.on_ended != NULL)
		session->events.on_ended(session, status, reason, summary_path, session->user);
}

static int send_hello(struct kf_agent_session *session, struct kf_error *err)
{
	uint8_t random[16];
	json_t *body;
	int r;

	/* The session's name in both sides' records: the audit log and the case history. */
	RAND_bytes(random, sizeof(random));
	for (int i = 0; i < 16; i++)
		snprintf(session->session_id + 2 * i, 3, "%02x", random[i]);
	body = json_pack("{s:s, s:s, s:s, s:[s,s]}", "software", "kefu-agentd " KF_VERSION, "role",
			 "agent", "session", session->session_id, "capabilities", "chat",
			 "diagnose");
	r = kf_control_send(session->core.control, "hello", 0, body, NULL, err);

	json_decref(body);
	return r;
}

static void handle_setup_message(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_error err;
	int r;

	if (session->state == STATE_PROOF && strcmp(msg->type, "proof.reply") == 0) {
		r = kf_proof_agent_on_reply(&session->core.proof, session->core.control, msg, &err);
		if (r == KF_ERR_AUTH) {
			kf_control_send_error(session->core.control, msg->id,
					      KF_PROOF_ERROR_WRONG_CODE, "the code is wrong", NULL);
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
		session->state = STATE_HELLO;
		return;
	}
	if (session->state == STATE_HELLO && strcmp(msg->type, "hello") == 0) {
		uv_timer_stop(&session->core.timer);
		session->state = STATE_ACTIVE;
		begin(session);
		if (session->events.on_connected != NULL)
			session->events.on_connected(session, &session->technician, session->user);
		status_changed(session);
		return;
	}
	/* Before the code is proven, anything else ends the attempt. */
	kf_error_set(&err, KF_ERR_DENIED, "the other side sent '%s' before proving the code",
		     msg->type);
	kf_control_send_error(session->core.control, msg->id, "denied", err.message, NULL);
	reject(session, 0, &err);
}

/* ---- consent: the customer decides, the console is told, the log keeps it ---- */

static void status_changed(struct kf_agent_session *session)
{
	char granted[128], text[512];

	if (session->events.on_status == NULL || session->consent == NULL)
		return;
	kf_consent_describe(session->consent, granted, sizeof(granted));
	/* While anyone watches, the customer is told on every status line. */
	snprintf(text, sizeof(text), "%s (%s) is connected | allowed: %s%s",
		 session->technician.name, session->technician.organisation, granted,
		 session->streams != NULL && kf_agent_streams_is_sharing(session->streams)
			 ? " | YOUR SCREEN IS SHARED"
			 : "");
	session->events.on_status(session, text, session->user);
}

static void on_consent_ask(struct kf_consent *consent, enum kf_capability capability,
			   const char *reason, void *user)
{
	struct kf_agent_session *session = user;

	(void)consent;
	if (session->events.on_ask != NULL)
		session->events.on_ask(session, capability, reason, session->user);
}

static void on_consent_decided(struct kf_consent *consent, enum kf_capability capability,
			       uint32_t request_id, int is_granted, enum kf_consent_source source,
			       void *user)
{
	struct kf_agent_session *session = user;
	const char *by = kf_consent_source_name(source);
	json_t *body;

	(void)consent;
	/* Input reaches the desktop only while control is granted. */
	if (capability == KF_CAP_CONTROL && session->streams != NULL)
		kf_agent_streams_set_input(session->streams, is_granted);
	body = json_pack("{s:s, s:b, s:s}", "capability", kf_capability_name(capability), "granted",
			 is_granted, "by", by);
	if (session->state == STATE_ACTIVE)
		kf_control_send(session->core.control, "consent.answer", request_id, body, NULL,
				NULL);
	json_decref(body);
	audit(session, "consent-answered",
	      json_pack("{s:s, s:b, s:s}", "capability", kf_capability_name(capability), "granted",
			is_granted, "by", by));
	kf_summary_note(session->summary, "access", "%s to %s (%s)",
			is_granted ? "Allowed" : "Refused", kf_capability_plain(capability),
			source == KF_CONSENT_BY_CUSTOMER  ? "by you"
			: source == KF_CONSENT_BY_POLICY  ? "by the policy"
			: source == KF_CONSENT_BY_TIMEOUT ? "no answer in time"
							  : by);
	status_changed(session);
}

static void on_consent_revoked(struct kf_consent *consent, enum kf_capability capability,
			       enum kf_consent_source source, void *user)
{
	struct kf_agent_session *session = user;
	json_t *body;

	(void)consent;
	/* Activities under this grant stop here, before anything else runs. */
	if (capability == KF_CAP_VIEW && session->streams != NULL)
		kf_agent_streams_stop_screen(session->streams);
	if (capability == KF_CAP_FILES && session->streams != NULL)
		kf_agent_streams_stop_files(session->streams, 0);
	if (capability == KF_CAP_FIRMWARE && session->streams != NULL)
		kf_agent_streams_stop_files(session->streams, 1);
	if (capability == KF_CAP_FIRMWARE && session->firmware != NULL) {
		/* Before the write it stops; once writing, stopping would harm the device. */
		kf_firmware_job_stop(session->firmware);
		audit(session, "action-stopped",
		      json_pack(
			      "{s:s, s:s, s:s}", "action", "firmware", "name",
			      session->firmware_name, "why",
			      session->is_firmware_writing
				      ? "the grant was taken back while writing: the write finishes"
				      : "the grant was taken back"));
	}
	if (session->job != NULL && capability == session->job_capability) {
		kf_plugin_job_cancel(session->job);
		audit(session, "action-stopped",
		      json_pack("{s:s, s:s, s:s}", "action", "plugin", "plugin",
				session->job_plugin, "why", "the grant was taken back"));
	}
	if (capability == KF_CAP_CONTROL && session->streams != NULL)
		kf_agent_streams_set_input(session->streams, 0);
	body = json_pack("{s:s, s:s}", "capability", kf_capability_name(capability), "by",
			 kf_consent_source_name(source));
	if (session->state == STATE_ACTIVE || session->state == STATE_ENDING)
		kf_control_send(session->core.control, "consent.revoked", 0, body, NULL, NULL);
	json_decref(body);
	audit(session, "consent-revoked",
	      json_pack("{s:s, s:s}", "capability", kf_capability_name(capability), "by",
			kf_consent_source_name(source)));
	if (source == KF_CONSENT_BY_SESSION_END)
		kf_summary_note(session->summary, "access", "Ended with the session: %s",
				kf_capability_plain(capability));
	else
		kf_summary_note(session->summary, "access", "Taken back (%s): %s",
				source == KF_CONSENT_BY_CUSTOMER ? "by you"
								 : kf_consent_source_name(source),
				kf_capability_plain(capability));
	status_changed(session);
}

static const struct kf_consent_events consent_events = {
	.on_ask = on_consent_ask,
	.on_decided = on_consent_decided,
	.on_revoked = on_consent_revoked,
};

static int stream_is_allowed(void *user, const char *purpose, struct kf_error *err)
{
	struct kf_agent_session *session = user;
	int is_files = strcmp(purpose, "files") == 0;
	int is_firmware = strcmp(purpose, "firmware") == 0;
	enum kf_capability needs = is_files      ? KF_CAP_FILES
				   : is_firmware ? KF_CAP_FIRMWARE
						 : KF_CAP_VIEW;
	const char *what = is_files ? "file" : is_firmware ? "firmware" : "screen";

	if (is_firmware && kf_consent_check(session->consent, needs) && session->firmware != NULL) {
		kf_error_set(err, KF_ERR_STATE, "a firmware update is already running");
		return 0;
	}
	if (kf_consent_check(session->consent, needs))
		return 1;
	audit(session, "action-refused",
	      json_pack("{s:s, s:s}", "action", what, "missing", kf_capability_name(needs)));
	kf_summary_note(session->summary, "access", "Refused to %s: it needs %s",
			is_files      ? "send or fetch a file"
			: is_firmware ? "update firmware"
				      : "show the screen",
			kf_capability_name(needs));
	kf_error_set(err, KF_ERR_DENIED, "%s needs the customer's '%s' grant", what,
		     kf_capability_name(needs));
	return 0;
}

static void activity(struct kf_agent_session *session, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* A line for the customer about what the technician did. */
static void activity(struct kf_agent_session *session, const char *format, ...)
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

static void firmware_line(struct kf_firmware_job *job, const char *line, bool is_error, void *user)
{
	struct kf_agent_session *session = user;
	json_t *progress = line[0] == '{' ? json_loads(line, 0, NULL) : NULL;
	json_t *body;

	(void)job;
	if (session->firmware_request != 0) {
		/* firmware.list: collect, answer at the end. */
		if (!is_error)
			json_array_append_new(session->firmware_out, json_string(line));
		json_decref(progress);
		return;
	}
	if (json_is_object(progress)) {
		const char *phase = json_string_value(json_object_get(progress, "phase"));

		if (phase != NULL && (strcmp(phase, "write") == 0 || strcmp(phase, "upload") == 0))
			session->is_firmware_writing = true;
		body = json_pack("{s:s, s:O}", "name", session->firmware_name, "progress",
				 progress);
		if (phase != NULL && json_object_get(progress, "percent") == NULL)
			activity(session, "Firmware update: %s%s", phase,
				 session->is_firmware_writing
					 ? " (do not unplug the device or turn off the computer)"
					 : "");
	} else {
		body = json_pack("{s:s, s:s, s:b}", "name", session->firmware_name, "line", line,
				 "error", is_error);
		activity(session, "Firmware: %s", line);
	}
	if (session->state == STATE_ACTIVE || session->state == STATE_ENDING)
		kf_control_send(session->core.control, "firmware.progress", 0, body, NULL, NULL);
	json_decref(body);
	json_decref(progress);
}

static void firmware_exit(struct kf_firmware_job *job, int code, void *user)
{
	struct kf_agent_session *session = user;
	json_t *body;

	(void)job;
	session->firmware = NULL;
	enter(session);
	if (session->firmware_request != 0) {
		body = json_pack("{s:i, s:O}", "code", code, "lines", session->firmware_out);
		if (session->state == STATE_ACTIVE || session->state == STATE_ENDING)
			kf_control_send(session->core.control, "firmware.devices",
					session->firmware_request, body, NULL, NULL);
		json_decref(body);
		json_decref(session->firmware_out);
		session->firmware_out = NULL;
		session->firmware_request = 0;
		leave(session);
		return;
	}
	audit(session, "action-finish",
	      json_pack("{s:s, s:s, s:s, s:i}", "action", "firmware", "name",
			session->firmware_name, "result", code == 0 ? "ok" : "failed", "code",
			code));
	kf_summary_note(session->summary, "action", "The technician's firmware update %s %s",
			session->firmware_name,
			code == 0 ? "finished (see `kefu-agentd firmware history`)"
				  : "did not complete; the device keeps working firmware");
	activity(session, "Firmware update %s %s.", session->firmware_name,
		 code == 0 ? "finished" : "did not complete");
	body = json_pack("{s:s, s:i, s:b}", "name", session->firmware_name, "code", code, "ok",
			 code == 0);
	if (session->state == STATE_ACTIVE || session->state == STATE_ENDING)
		kf_control_send(session->core.control, "firmware.result", 0, body, NULL, NULL);
	json_decref(body);
	forget_firmware_file(session);
	session->is_firmware_writing = false;
	status_changed(session);
	leave(session);
}

static const struct kf_firmware_job_events firmware_events = {firmware_line, firmware_exit};

/* Runs `kefu-agentd firmware WHAT [FILE] ...` with the session's arguments and options. */
static int start_firmware(struct kf_agent_session *session, const char *what, const char *file,
			  const json_t *options, struct kf_error *err)
{
	const char *args[24];
	size_t n = 0;

	args[n++] = what;
	if (file != NULL)
		args[n++] = file;
	if (strcmp(what, "list") == 0) {
		args[n++] = "--json";
	} else {
		/* The technician's grant is the customer's consent; the output is for both. */
		if (strcmp(what, "apply") == 0)
			args[n++] = "--yes";
		args[n++] = "--progress-json";
		if (json_is_true(json_object_get(options, "reinstall")))
			args[n++] = "--reinstall";
		if (json_is_true(json_object_get(options, "downgrade")))
			args[n++] = "--downgrade";
		if (json_is_string(json_object_get(options, "device"))) {
			args[n++] = "--device";
			args[n++] = json_string_value(json_object_get(options, "device"));
		}
	}
	for (size_t i = 0; session->config.firmware_args != NULL &&
			   session->config.firmware_args[i] != NULL && n < 23;
	     i++)
		args[n++] = session->config.firmware_args[i];
	args[n] = NULL;
	return kf_firmware_job_start(session->core.loop, args, &firmware_events, session,
				     &session->firmware, err);
}

static void list_firmware(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_error err;

	if (refuse_without(session, msg, KF_CAP_FIRMWARE))
		return;
	if (session->firmware != NULL) {
		kf_control_send_error(session->core.control, msg->id, "busy",
				      "a firmware command is already running", NULL);
		return;
	}
	session->firmware_request = msg->id;
	session->firmware_out = json_array();
	if (start_firmware(session, "list", NULL, NULL, &err) != KF_OK) {
		session->firmware_request = 0;
		json_decref(session->firmware_out);
		session->firmware_out = NULL;
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
	}
}

/* An update arrived whole through a "firmware" stream: check it, or install it. */
static void firmware_arrived(struct kf_agent_session *session, json_t *fields)
{
	const char *saved = json_string_value(json_object_get(fields, "saved"));
	const char *name = json_string_value(json_object_get(fields, "name"));
	json_t *options = json_object_get(fields, "options");
	int is_check = json_is_true(json_object_get(options, "check"));
	struct kf_error err;

	snprintf(session->firmware_file, sizeof(session->firmware_file), "%s", saved);
	snprintf(session->firmware_name, sizeof(session->firmware_name), "%s", name ? name : "");
	session->is_firmware_writing = false;
	audit(session, "action-start",
	      json_pack("{s:s, s:s, s:s, s:s}", "action", "firmware", "name",
			session->firmware_name, "mode", is_check ? "check" : "apply", "sha256",
			json_string_value(json_object_get(fields, "sha256"))));
	activity(session, "%s is %s the firmware update %s.", session->technician.name,
		 is_check ? "checking" : "installing", session->firmware_name);
	if (start_firmware(session, is_check ? "check" : "apply", saved, options, &err) != KF_OK) {
		json_t *body = json_pack("{s:s, s:i, s:b, s:s}", "name", session->firmware_name,
					 "code", -1, "ok", 0, "error", err.message);

		kf_control_send(session->core.control, "firmware.result", 0, body, NULL, NULL);
		json_decref(body);
	}
}

static void stream_file(void *user, const char *purpose, int status, json_t *fields)
{
	struct kf_agent_session *session = user;

	if (strcmp(purpose, "firmware") == 0) {
		if (status == KF_OK) {
			firmware_arrived(session, fields);
			return;
		}
		audit(session, "action-finish",
		      json_pack("{s:s, s:s, s:s}", "action", "firmware upload", "result", "failed",
				"error",
				json_string_value(json_object_get(fields, "error")) ?: "?"));
		return;
	}
	const char *op = json_string_value(json_object_get(fields, "op"));
	const char *error = json_string_value(json_object_get(fields, "error"));
	int is_send = op != NULL && strcmp(op, "send") == 0;
	json_t *entry = json_pack("{s:s, s:s}", "action", is_send ? "file send" : "file fetch",
				  "result", status == KF_OK ? "ok" : "failed");

	json_object_update(entry, fields);
	json_object_del(entry, "op");
	audit(session, "action-finish", entry);
	if (status != KF_OK) {
		kf_summary_note(session->summary, "action", "A file %s failed: %s",
				is_send ? "sent to you" : "fetched from this computer",
				error ? error : "?");
		activity(session, "A file %s failed: %s",
			 is_send ? "from your technician" : "your technician asked for",
			 error ? error : "?");
	} else if (is_send) {
		const char *saved = json_string_value(json_object_get(fields, "saved"));

		kf_summary_note(session->summary, "action",
				"The technician sent you a file, saved as %s (%" JSON_INTEGER_FORMAT
				" bytes, SHA-256 %s)",
				saved, json_integer_value(json_object_get(fields, "size")),
				json_string_value(json_object_get(fields, "sha256")));
		activity(session, "%s sent you a file: %s", session->technician.name, saved);
	} else {
		const char *path = json_string_value(json_object_get(fields, "path"));

		kf_summary_note(session->summary, "action",
				"The technician fetched %s (%" JSON_INTEGER_FORMAT " bytes)", path,
				json_integer_value(json_object_get(fields, "size")));
		activity(session, "%s fetched a copy of %s", session->technician.name, path);
	}
}

static void stream_event(void *user, const char *what, const char *detail)
{
	struct kf_agent_session *session = user;

	if (strcmp(what, "input-refused") == 0) {
		/* The viewer typed or clicked without control: dropped by the screen, noted here.
		 */
		audit(session, "action-refused",
		      json_pack("{s:s, s:s}", "action", "input", "missing", "control"));
		kf_summary_note(session->summary, "access",
				"Refused keyboard or mouse input: it needs control");
		return;
	}
	audit(session, what, json_pack("{s:s}", "detail", detail));
	if (strcmp(what, "screen-viewer") == 0)
		kf_summary_note(session->summary, "action", "The technician viewed your screen");
	status_changed(session);
}

static const struct kf_agent_streams_callbacks stream_callbacks = {
	.is_allowed = stream_is_allowed,
	.on_event = stream_event,
	.on_file = stream_file,
};

static void begin(struct kf_agent_session *session)
{
	session->streams = kf_agent_streams_new(session->core.loop, session->config.tls_context,
						session->core.tls, session->technician.fingerprint,
						&stream_callbacks, session);
	session->consent =
		kf_consent_new(session->core.loop, session->config.policy,
			       session->config.consent_timeout_ms, &consent_events, session);
	session->summary = kf_summary_new(session->session_id, session->technician.name,
					  session->technician.organisation);
	if (session->config.audit != NULL)
		kf_audit_session_start(session->config.audit, session->session_id,
				       session->technician.name, session->technician.organisation,
				       session->technician.fingerprint, NULL);
	if (session->config.policy != NULL) {
		kf_summary_note(session->summary, "access", "The policy \"%s\" applied",
				session->config.policy->name);
		audit(session, "policy", json_pack("{s:s}", "name", session->config.policy->name));
	}
}

/* ---- actions: each checked against consent right here ---- */

/* Refuses an action that lacks its grant: the console is told, the log keeps it. */
static int refuse_without(struct kf_agent_session *session, const struct kf_msg *msg,
			  enum kf_capability capability)
{
	char text[160];

	if (kf_consent_check(session->consent, capability))
		return 0;
	snprintf(text, sizeof(text), "'%s' needs the customer's '%s' grant", msg->type,
		 kf_capability_name(capability));
	kf_control_send_error(session->core.control, msg->id, "denied", text, NULL);
	audit(session, "action-refused",
	      json_pack("{s:s, s:s}", "action", msg->type, "missing",
			kf_capability_name(capability)));
	kf_summary_note(session->summary, "access", "Refused '%s': it needs %s", msg->type,
			kf_capability_name(capability));
	return 1;
}

static void run_diagnostics(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_collect_ctx ctx;
	struct kf_error err;
	json_t *problems, *body;
	int r;

	if (refuse_without(session, msg, KF_CAP_DIAGNOSE))
		return;
	audit(session, "action-start", json_pack("{s:s}", "action", "diagnostics report"));
	memset(&ctx, 0, sizeof(ctx));
	ctx.root = session->config.diagnostics_root ? session->config.diagnostics_root : "/";
	ctx.is_live = strcmp(ctx.root, "/") == 0;
	ctx.tool_timeout_ms = KF_TOOL_TIMEOUT_MS;
	ctx.report = kf_report_new();
	if (ctx.report == NULL) {
		kf_control_send_error(session->core.control, msg->id, "failed", "out of memory",
				      NULL);
		return;
	}
	kf_collect_all(&ctx);
	problems = json_object_get(ctx.report->root, "problems");
	/* However large, the report is one message; the control channel cuts it into parts. */
	body = json_pack("{s:O}", "report", ctx.report->root);
	r = body != NULL ? kf_control_send(session->core.control, "diag.report", msg->id, body,
					   NULL, &err)
			 : kf_error_set(&err, KF_ERR_NOMEM, "out of memory for the report");
	json_decref(body);
	if (r != KF_OK)
		kf_control_send_error(session->core.control, msg->id,
				      r == KF_ERR_TOO_LARGE ? "too-large" : "failed", err.message,
				      NULL);
	audit(session, "action-finish",
	      json_pack("{s:s, s:s, s:I}", "action", "diagnostics report", "result",
			r == KF_OK ? "ok" : "failed", "problems",
			(json_int_t)json_array_size(problems)));
	kf_summary_note(session->summary, "action",
			"The technician collected a diagnostics report");
	for (size_t i = 0; i < json_array_size(problems); i++) {
		const char *summary =
			json_string_value(json_object_get(json_array_get(problems, i), "summary"));

		if (summary != NULL)
			kf_summary_note(session->summary, "finding", "%s", summary);
	}
	if (json_array_size(problems) == 0)
		kf_summary_note(session->summary, "finding", "The diagnostics found no problem");
	kf_collect_ctx_release(&ctx);
	kf_report_free(ctx.report);
}

/* The report the plugins read, collected once per session and kept in a private file. */
static int ensure_report(struct kf_agent_session *session, const char *root, struct kf_error *err)
{
	struct kf_collect_ctx ctx;
	int fd;

	if (session->report != NULL)
		return KF_OK;
	memset(&ctx, 0, sizeof(ctx));
	ctx.root = root;
	ctx.is_live = strcmp(root, "/") == 0;
	ctx.tool_timeout_ms = KF_TOOL_TIMEOUT_MS;
	ctx.report = kf_report_new();
	if (ctx.report == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	kf_collect_all(&ctx);
	snprintf(session->report_path, sizeof(session->report_path),
		 "/tmp/kefu-session-report-XXXXXX");
	fd = mkstemp(session->report_path);
	if (fd < 0 || json_dumpfd(ctx.report->root, fd, JSON_COMPACT) != 0) {
		if (fd >= 0) {
			close(fd);
			unlink(session->report_path);
		}
		session->report_path[0] = '\0';
		kf_collect_ctx_release(&ctx);
		kf_report_free(ctx.report);
		return kf_error_set(err, KF_ERR_IO, "the diagnostics report could not be written");
	}
	close(fd);
	session->report = json_incref(ctx.report->root);
	kf_collect_ctx_release(&ctx);
	kf_report_free(ctx.report);
	return KF_OK;
}

static const char *session_root(const struct kf_agent_session *session)
{
	return session->config.diagnostics_root ? session->config.diagnostics_root : "/";
}

/* Plugins need a folder to come from and the report they read; answers msg if not. */
static bool is_ready_for_plugins(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_error err;

	if (session->config.plugin_places == NULL) {
		kf_control_send_error(session->core.control, msg->id, "failed",
				      "this helper has no plugins", NULL);
		return false;
	}
	if (ensure_report(session, session_root(session), &err) != KF_OK) {
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
		return false;
	}
	return true;
}

static void list_plugins(struct kf_agent_session *session, const struct kf_msg *msg)
{
	json_t *list, *body;

	if (refuse_without(session, msg, KF_CAP_DIAGNOSE))
		return;
	if (!is_ready_for_plugins(session, msg))
		return;
	list = kf_plugin_places_list(session->config.plugin_places, session->report,
				     session_root(session));
	body = json_pack("{s:O, s:o, s:o}", "plugins", list, "tried", kf_scan_summary_last(),
			 "skipped", kf_plugin_places_skipped(session->config.plugin_places));
	kf_control_send(session->core.control, "plugins.list", msg->id, body, NULL, NULL);
	json_decref(body);
	audit(session, "action-finish",
	      json_pack("{s:s, s:s, s:I}", "action", "plugin list", "result", "ok", "plugins",
			(json_int_t)json_array_size(list)));
	json_decref(list);
}

static void on_plugin_done(struct kf_plugin_job *job, const json_t *result, void *user)
{
	struct kf_agent_session *session = user;
	json_t *checks = json_object_get(result, "checks");
	int is_repair = strcmp(json_string_value(json_object_get(result, "mode")), "repair") == 0;
	const char *title = json_string_value(json_object_get(result, "title"));
	size_t i;
	json_t *check;

	(void)job;
	session->job = NULL;
	enter(session);
	audit(session, "action-finish",
	      json_pack("{s:s, s:s, s:s, s:b, s:O}", "action",
			is_repair ? "plugin repair" : "plugin check", "plugin", session->job_plugin,
			"result",
			json_is_true(json_object_get(result, "stopped")) ? "stopped" : "ok",
			"stopped", json_is_true(json_object_get(result, "stopped")), "checks",
			checks));
	json_array_foreach(checks, i, check)
	{
		const char *state = json_string_value(json_object_get(check, "state"));

		if (strcmp(state, "not-applicable") == 0)
			continue;
		kf_summary_note(session->summary, is_repair ? "action" : "finding", "%s: %s (%s)",
				title, json_string_value(json_object_get(check, "title")), state);
	}
	if (session->state == STATE_ACTIVE || session->state == STATE_ENDING)
		kf_control_send(session->core.control, "plugin.result", session->job_request,
				(json_t *)result, NULL, NULL);
	status_changed(session);
	leave(session);
}

static void run_plugin(struct kf_agent_session *session, const struct kf_msg *msg, int is_repair)
{
	enum kf_capability needs = is_repair ? KF_CAP_REPAIR : KF_CAP_DIAGNOSE;
	const char *id = json_string_value(json_object_get(msg->body, "plugin"));
	struct kf_plugin_job_request request;
	struct kf_error err;
	json_t *body;

	if (refuse_without(session, msg, needs))
		return;
	if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(session->job_plugin)) {
		kf_control_send_error(session->core.control, msg->id, "bad-message",
				      "name the plugin to run", NULL);
		return;
	}
	if (session->job != NULL) {
		kf_control_send_error(session->core.control, msg->id, "busy",
				      "a plugin is already running", NULL);
		return;
	}
	if (!is_ready_for_plugins(session, msg))
		return;
	request = (struct kf_plugin_job_request){
		.places = session->config.plugin_places,
		.plugin_id = id,
		.root = session_root(session),
		.report_path = session->report_path,
		.report = session->report,
		.is_repair = is_repair,
	};
	if (kf_plugin_job_start(session->core.loop, &request, on_plugin_done, session,
				&session->job, &err) != KF_OK) {
		kf_control_send_error(session->core.control, msg->id, "not-found", err.message,
				      NULL);
		return;
	}
	snprintf(session->job_plugin, sizeof(session->job_plugin), "%s", id);
	session->job_request = msg->id;
	session->job_capability = needs;
	audit(session, "action-start",
	      json_pack("{s:s, s:s}", "action", is_repair ? "plugin repair" : "plugin check",
			"plugin", id));
	body = json_pack("{s:s, s:s}", "plugin", id, "mode", is_repair ? "repair" : "detect");
	kf_control_send(session->core.control, "plugin.started", msg->id, body, NULL, NULL);
	json_decref(body);
	status_changed(session);
}

static void handle_consent_message(struct kf_agent_session *session, const struct kf_msg *msg)
{
	json_t *name = json_object_get(msg->body, "capability");
	json_t *reason = json_object_get(msg->body, "reason");
	enum kf_capability capability;
	struct kf_error err;

	if (!json_is_string(name) ||
	    kf_capability_parse(json_string_value(name), &capability) != KF_OK) {
		kf_control_send_error(session->core.control, msg->id, "bad-message",
				      "unknown capability", NULL);
		return;
	}
	if (strcmp(msg->type, "consent.release") == 0) {
		kf_consent_revoke(session->consent, capability, KF_CONSENT_BY_TECHNICIAN);
		return;
	}
	audit(session, "consent-requested",
	      json_pack("{s:s, s:s}", "capability", kf_capability_name(capability), "reason",
			json_is_string(reason) ? json_string_value(reason) : ""));
	if (kf_consent_request(session->consent, capability, msg->id,
			       json_is_string(reason) ? json_string_value(reason) : "",
			       &err) != KF_OK)
		kf_control_send_error(session->core.control, msg->id, "busy", err.message, NULL);
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
		kf_control_send(session->core.control, "pong", msg->id, NULL, NULL, NULL);
	} else if (strcmp(msg->type, "consent.request") == 0 ||
		   strcmp(msg->type, "consent.release") == 0) {
		handle_consent_message(session, msg);
	} else if (strcmp(msg->type, "diag.request") == 0) {
		run_diagnostics(session, msg);
	} else if (strcmp(msg->type, "firmware.list") == 0) {
		list_firmware(session, msg);
	} else if (strcmp(msg->type, "plugins.request") == 0) {
		list_plugins(session, msg);
	} else if (strcmp(msg->type, "plugin.run") == 0) {
		run_plugin(session, msg, 0);
	} else if (strcmp(msg->type, "plugin.repair") == 0) {
		run_plugin(session, msg, 1);
	} else if (strcmp(msg->type, "chat") == 0) {
		text = json_object_get(msg->body, "text");
		if (!json_is_string(text)) {
			kf_control_send_error(session->core.control, msg->id, "bad-message",
					      "chat needs a text", NULL);
			return;
		}
		audit(session, "chat",
		      json_pack("{s:s, s:I}", "from", "technician", "length",
				(json_int_t)json_string_length(text)));
		kf_summary_note(session->summary, "chat", "%s: %s", session->technician.name,
				json_string_value(text));
		if (session->events.on_chat != NULL)
			session->events.on_chat(session, json_string_value(text), session->user);
	} else if (strcmp(msg->type, "end") == 0) {
		json_t *advice = json_object_get(msg->body, "advice");

		if (json_is_string(advice))
			snprintf(session->advice, sizeof(session->advice), "%s",
				 json_string_value(advice));
		text = json_object_get(msg->body, "reason");
		kf_control_shutdown(session->core.control);
		ended(session, KF_OK,
		      json_is_string(text) ? json_string_value(text) : "the technician ended it");
	} else if (strcmp(msg->type, "pong") == 0 || strcmp(msg->type, "error") == 0) {
		/* Answers to our own messages; nothing to do. */
	} else {
		kf_control_send_error(session->core.control, msg->id, "unexpected",
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
	    kf_control_new(tls, KF_PARTY_AGENT, &callbacks, session, &session->core.control,
			   &failure) != KF_OK ||
	    kf_proof_agent_start(&session->core.proof, session->core.control, tls,
				 session->core.secret, session->technician.fingerprint,
				 &failure) != KF_OK) {
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

int kf_agent_session_start(uv_loop_t *loop, struct kf_stream *channel,
			   const struct kf_agent_session_config *config,
			   const struct kf_agent_session_events *events, void *user,
			   struct kf_agent_session **out, struct kf_error *err)
{
	struct kf_agent_session *session = calloc(1, sizeof(*session));
	int r;

	*out = NULL;
	if (session == NULL || (session->core.secret = strdup(config->secret)) == NULL) {
		free(session);
		kf_stream_close(channel);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a session");
	}
	session->events = *events;
	session->user = user;
	session->config = *config;
	session->config.secret = NULL;
	kf_session_core_init(&session->core, loop, session);
	uv_timer_start(&session->core.timer, on_setup_timeout, KF_AGENT_SETUP_TIMEOUT_MS, 0);
	*out = session;
	enter(session);
	r = kf_tls_stream_new(config->tls_context, 0, channel, on_handshake, session,
			      &session->core.tls, err);
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
	r = kf_control_send(session->core.control, "chat", 0, body, NULL, err);
	json_decref(body);
	return r;
}

void kf_agent_session_end(struct kf_agent_session *session, const char *reason)
{
	json_t *body;

	if (session->state != STATE_ACTIVE)
		return;
	/* Every grant ends first, so nothing more runs while the end travels. */
	kf_consent_revoke_all(session->consent, KF_CONSENT_BY_CUSTOMER);
	audit(session, "stop", json_pack("{s:s}", "reason", reason));
	body = json_pack("{s:s}", "reason", reason);
	kf_control_send(session->core.control, "end", 0, body, NULL, NULL);
	json_decref(body);
	kf_control_shutdown(session->core.control);
	/* on_ended fires when the console closes its side, or after a short wait. */
	session->state = STATE_ENDING;
	uv_timer_start(&session->core.timer, on_setup_timeout, KF_AGENT_END_WAIT_MS, 0);
}

void kf_agent_session_free(struct kf_agent_session *session)
{
	if (session == NULL || session->core.is_freed)
		return;
	session->core.is_freed = true;
	session->state = STATE_OVER;
	if (session->core.depth == 0)
		session_destroy(session);
}

int kf_agent_session_answer(struct kf_agent_session *session, enum kf_capability capability,
			    int is_granted, struct kf_error *err)
{
	int r;

	if (session->state != STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	enter(session);
	r = kf_consent_answer(session->consent, capability, is_granted, err);
	leave(session);
	return r;
}

void kf_agent_session_revoke(struct kf_agent_session *session, enum kf_capability capability)
{
	if (session->state != STATE_ACTIVE)
		return;
	enter(session);
	kf_consent_revoke(session->consent, capability, KF_CONSENT_BY_CUSTOMER);
	leave(session);
}

void kf_agent_session_describe(struct kf_agent_session *session, char *out, size_t size)
{
	if (session->consent == NULL)
		snprintf(out, size, "nothing");
	else
		kf_consent_describe(session->consent, out, size);
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
	if (session->state != STATE_ACTIVE || session->streams == NULL) {
		kf_stream_close(channel);
		return;
	}
	enter(session);
	kf_agent_streams_attach(session->streams, channel);
	leave(session);
}
