/* kefu-console join: what the customer's side says, dispatched in one place. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"
#include "proto/session/messages.h"

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
 * What the console does with each agent message, by type. An answer to a request
 * also lets an --exec script go on (join_answered).
 */
static void consent_answer(void *user, const struct kf_msg *msg)
{
	join_consent_answered(user, msg);
	join_answered(user, msg->re);
}

static void consent_revoked(void *user, const struct kf_msg *msg)
{
	join_consent_revoked(user, msg);
}

static void diag_report(void *user, const struct kf_msg *msg)
{
	join_diag_report(user, msg);
}

static void firmware_devices(void *user, const struct kf_msg *msg)
{
	join_firmware_devices(user, msg);
	join_answered(user, msg->re);
}

static void firmware_progress(void *user, const struct kf_msg *msg)
{
	join_firmware_progress(user, msg);
}

static void firmware_result(void *user, const struct kf_msg *msg)
{
	join_firmware_result(user, msg);
	join_answered(user, msg->re); /* firmware.latest's result answers it */
	join_resume_script(user);
}

static void plugins_list(void *user, const struct kf_msg *msg)
{
	join_plugins_listed(user, msg);
	join_answered(user, msg->re);
}

static void plugin_started(void *user, const struct kf_msg *msg)
{
	join_plugin_started(user, msg);
}

static void plugin_result(void *user, const struct kf_msg *msg)
{
	join_plugin_result(user, msg);
	join_answered(user, msg->re);
}

static void drivers_list(void *user, const struct kf_msg *msg)
{
	join_drivers_listed(user, msg);
	join_answered(user, msg->re);
}

static void drivers_progress(void *user, const struct kf_msg *msg)
{
	join_drivers_progress(user, msg);
}

static void drivers_result(void *user, const struct kf_msg *msg)
{
	join_drivers_result(user, msg);
	join_resume_script(user);
}

static void history_journal(void *user, const struct kf_msg *msg)
{
	join_history_journal(user, msg);
	join_answered(user, msg->re);
}

static void refused(void *user, const struct kf_msg *msg)
{
	struct join *join = user;
	const char *code = json_string_value(json_object_get(msg->body, "code"));
	const char *text = json_string_value(json_object_get(msg->body, "message"));
	json_t *fields = json_pack("{s:s?, s:s?}", "code", code, "message", text);

	join_report(join, "error", fields, "Refused: %s", text ? text : "?");
	json_decref(fields);
	join_answered(join, msg->re);
}

/* The customer's desktop ended the screen share: the viewers were closed, and why. */
static void screen_ended(void *user, const struct kf_msg *msg)
{
	const char *reason = json_string_value(json_object_get(msg->body, "reason"));
	json_t *fields = json_pack("{s:s?}", "reason", reason);

	join_report(user, "view-ended", fields,
		    "The customer's desktop stopped sharing the screen: %s. A viewer that "
		    "connects again makes the desktop ask the customer again.",
		    reason ? reason : "?");
	json_decref(fields);
}

static const struct kf_msg_handlers handlers = {
	.handlers =
		{
			[KF_MSG_CONSENT_ANSWER] = consent_answer,
			[KF_MSG_CONSENT_REVOKED] = consent_revoked,
			[KF_MSG_DIAG_REPORT] = diag_report,
			[KF_MSG_FIRMWARE_DEVICES] = firmware_devices,
			[KF_MSG_FIRMWARE_PROGRESS] = firmware_progress,
			[KF_MSG_FIRMWARE_RESULT] = firmware_result,
			[KF_MSG_PLUGINS_LIST] = plugins_list,
			[KF_MSG_PLUGIN_STARTED] = plugin_started,
			[KF_MSG_PLUGIN_RESULT] = plugin_result,
			[KF_MSG_DRIVERS_LIST] = drivers_list,
			[KF_MSG_DRIVERS_PROGRESS] = drivers_progress,
			[KF_MSG_DRIVERS_RESULT] = drivers_result,
			[KF_MSG_HISTORY_JOURNAL] = history_journal,
			[KF_MSG_SCREEN_ENDED] = screen_ended,
			[KF_MSG_ERROR] = refused,
		},
};

/* The session core has answered ping, pong, chat and end; the rest is ours. */
static void on_message(struct kf_console_session *session, const struct kf_msg *msg, void *user)
{
	(void)session;
	/* The control channel lets through only what an agent may send; a type kept for
	 * later versions has no handler here and is left alone. */
	kf_msg_dispatch(&handlers, user, msg, NULL);
}

const struct kf_console_session_events join_session_events = {
	.on_connected = on_connected,
	.on_message = on_message,
	.on_chat = on_chat,
	.on_pong = on_pong,
	.on_ended = on_ended,
};
