/* kefu-agentd: the vendor's plugins in a session: list, checks and repairs (agentd/plugins/job.h). SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"
#include "agentd/i18n.h"
#include "agentd/plugins/scan-summary.h"

#include <stdio.h>
#include <string.h>

/* Plugins need a folder to come from and the report they read; answers msg if not. */
static bool is_ready_for_plugins(struct kf_agent_session *session, const struct kf_msg *msg)
{
	struct kf_error err;

	if (session->config.plugin_places == NULL) {
		kf_control_send_error(session->core.control, msg->id, "failed",
				      "this helper has no plugins", NULL);
		return false;
	}
	if (kf_agent_session_plugin_report(session, &err) != KF_OK) {
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
		return false;
	}
	return true;
}

void kf_agent_session_on_plugins_request(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	json_t *list, *body;

	if (!is_ready_for_plugins(session, msg))
		return;
	list = kf_plugin_places_list(session->config.plugin_places, session->report,
				     kf_agent_session_root(session));
	body = json_pack("{s:O, s:o, s:o}", "plugins", list, "tried", kf_scan_summary_last(),
			 "skipped", kf_plugin_places_skipped(session->config.plugin_places));
	kf_control_send(session->core.control, "plugins.list", msg->id, body, NULL, NULL);
	json_decref(body);
	kf_agent_session_audit(session, "action-finish",
			       json_pack("{s:s, s:s, s:I}", "action", "plugin list", "result", "ok",
					 "plugins", (json_int_t)json_array_size(list)));
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
	kf_agent_session_enter(session);
	kf_agent_session_audit(
		session, "action-finish",
		json_pack("{s:s, s:s, s:s, s:b, s:O}", "action",
			  is_repair ? "plugin repair" : "plugin check", "plugin",
			  session->job_plugin, "result",
			  json_is_true(json_object_get(result, "stopped")) ? "stopped" : "ok",
			  "stopped", json_is_true(json_object_get(result, "stopped")), "checks",
			  checks));
	json_array_foreach(checks, i, check)
	{
		const char *state = json_string_value(json_object_get(check, "state"));

		if (strcmp(state, "not-applicable") == 0)
			continue;
		/* TRANSLATORS: a plugin's title, one of its checks' title, what came of it. */
		kf_summary_note(session->summary, is_repair ? "action" : "finding",
				_("%s: %s (%s)"), title,
				json_string_value(json_object_get(check, "title")),
				kf_plugin_state_words(state));
	}
	if (kf_agent_session_is_open(session))
		kf_control_send(session->core.control, "plugin.result", session->job_request,
				(json_t *)result, NULL, NULL);
	kf_agent_session_status_changed(session);
	kf_agent_session_leave(session);
}

/* plugin.run and plugin.repair; the dispatcher has checked the row's grant. */
static void run_plugin(struct kf_agent_session *session, const struct kf_msg *msg, bool is_repair)
{
	const char *id = json_string_value(json_object_get(msg->body, "plugin"));
	struct kf_plugin_job_request request;
	struct kf_error err;
	json_t *body;

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
		.root = kf_agent_session_root(session),
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
	/* The grant the run stands on: taking it back cancels the run. */
	session->job_capability = msg->row->capability;
	kf_agent_session_audit(session, "action-start",
			       json_pack("{s:s, s:s}", "action",
					 is_repair ? "plugin repair" : "plugin check", "plugin",
					 id));
	body = json_pack("{s:s, s:s}", "plugin", id, "mode", is_repair ? "repair" : "detect");
	kf_control_send(session->core.control, "plugin.started", msg->id, body, NULL, NULL);
	json_decref(body);
	kf_agent_session_status_changed(session);
}

void kf_agent_session_on_plugin_run(void *user, const struct kf_msg *msg)
{
	run_plugin(user, msg, false);
}

void kf_agent_session_on_plugin_repair(void *user, const struct kf_msg *msg)
{
	run_plugin(user, msg, true);
}

void kf_agent_session_plugins_revoked(struct kf_agent_session *session,
				      enum kf_capability capability)
{
	if (session->job == NULL || capability != session->job_capability)
		return;
	kf_plugin_job_cancel(session->job);
	kf_agent_session_audit(session, "action-stopped",
			       json_pack("{s:s, s:s, s:s}", "action", "plugin", "plugin",
					 session->job_plugin, "why", "the grant was taken back"));
}

void kf_agent_session_plugins_release(struct kf_agent_session *session)
{
	/* A plugin still running is stopped; its end is no one's business any more. */
	kf_plugin_job_detach(session->job);
	session->job = NULL;
}
