/* kefu-console join: what the customer's side says, dispatched in one place. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <string.h>

static void on_connected(struct kf_console_session *session, const char *software,
			 const char *session_id, void *user)
{
	join_on_connected(user, session, software, session_id);
}

static void on_chat(struct kf_console_session *session, const char *text, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:s, s:s}", "from", "customer", "text", text);

	(void)session;
	join_journal(join, "chat", "Customer: %s", text);
	join_report(join, "chat", fields, "Customer: %s", text);
	json_decref(fields);
}

static void on_pong(struct kf_console_session *session, double milliseconds, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:f}", "milliseconds", milliseconds);

	(void)session;
	join_report(join, "pong", fields, "Round trip to the customer: %.1f ms", milliseconds);
	json_decref(fields);
	if (join->is_waiting) {
		join->is_waiting = 0;
		join_run_next_command(join);
	}
}

static void on_ended(struct kf_console_session *session, int status, const char *reason, void *user)
{
	(void)session;
	join_on_ended(user, status, reason);
}

/*
 * Every message of an established session goes through this one chain; each feature's
 * file does the work. An answer to a request lets an --exec script go on.
 */
static void on_message(struct kf_console_session *session, const struct kf_msg *msg, void *user)
{
	struct join *join = user;
	json_t *fields;

	(void)session;
	if (strcmp(msg->type, "consent.answer") == 0) {
		join_consent_answered(join, msg);
		join_answered(join, msg->re);
	} else if (strcmp(msg->type, "consent.revoked") == 0) {
		join_consent_revoked(join, msg);
	} else if (strcmp(msg->type, "diag.report") == 0 && msg->re == join->report_id) {
		join_diag_report_part(join, msg);
	} else if (strcmp(msg->type, "firmware.devices") == 0) {
		join_firmware_devices(join, msg);
		join_answered(join, msg->re);
	} else if (strcmp(msg->type, "firmware.progress") == 0) {
		join_firmware_progress(join, msg);
	} else if (strcmp(msg->type, "firmware.result") == 0) {
		join_firmware_result(join, msg);
		join_resume_script(join);
	} else if (strcmp(msg->type, "plugins.list") == 0) {
		join_plugins_listed(join, msg);
		join_answered(join, msg->re);
	} else if (strcmp(msg->type, "plugin.started") == 0) {
		join_plugin_started(join, msg);
	} else if (strcmp(msg->type, "plugin.result") == 0) {
		join_plugin_result(join, msg);
		join_answered(join, msg->re);
	} else if (strcmp(msg->type, "error") == 0) {
		const char *code = json_string_value(json_object_get(msg->body, "code"));
		const char *text = json_string_value(json_object_get(msg->body, "message"));

		fields = json_pack("{s:s?, s:s?}", "code", code, "message", text);
		join_report(join, "error", fields, "Refused: %s", text ? text : "?");
		json_decref(fields);
		join_answered(join, msg->re);
	}
}

const struct kf_console_session_events join_session_events = {
	.on_connected = on_connected,
	.on_message = on_message,
	.on_chat = on_chat,
	.on_pong = on_pong,
	.on_ended = on_ended,
};
