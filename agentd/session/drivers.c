/* kefu-agentd: drivers in a session: the listing under diagnose, package changes under repair. SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"
#include "agentd/drivers/listing.h"
#include "agentd/drivers/packages.h"
#include "agentd/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGE_MAX 16

/* drivers.request; the dispatcher has checked the diagnose grant. */
void kf_agent_session_on_drivers_request(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	struct kf_error err = {0};
	json_t *listing = NULL, *body;
	int r;

	kf_agent_session_audit(session, "action-start", json_pack("{s:s}", "action", "drivers"));
	r = kf_drivers_list(kf_agent_session_root(session), &listing, &err);
	if (r == KF_OK) {
		body = json_pack("{s:O}", "listing", listing);
		r = kf_control_send(session->core.control, "drivers.list", msg->id, body, NULL,
				    &err);
		json_decref(body);
	}
	if (r != KF_OK)
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
	kf_agent_session_audit(session, "action-finish",
			       json_pack("{s:s, s:s}", "action", "drivers", "result",
					 r == KF_OK ? "ok" : "failed"));
	if (r == KF_OK)
		kf_summary_note(session->summary, "action", "%s",
				_("The technician looked at your devices' drivers"));
	json_decref(listing);
}

static void drivers_line(struct kf_firmware_job *job, const char *line, bool is_error, void *user)
{
	struct kf_agent_session *session = user;
	json_t *body;

	(void)job;
	if (!is_error && session->drivers_lines != NULL)
		json_array_append_new(session->drivers_lines, json_string(line));
	body = json_pack("{s:s, s:s, s:b}", "action", session->drivers_action, "line", line,
			 "error", is_error);
	if (kf_agent_session_is_open(session))
		kf_control_send(session->core.control, "drivers.progress", 0, body, NULL, NULL);
	json_decref(body);
}

static void drivers_exit(struct kf_firmware_job *job, int code, void *user)
{
	struct kf_agent_session *session = user;
	const char *summary = session->drivers_packages;
	json_t *body;
	bool is_install = strcmp(session->drivers_action, "install") == 0;

	(void)job;
	session->drivers_job = NULL;
	kf_agent_session_enter(session);
	kf_agent_session_audit(session, "action-finish",
			       json_pack("{s:s, s:s, s:s, s:i}", "action", "drivers", "mode",
					 session->drivers_action, "result",
					 code == 0 ? "ok" : "failed", "code", code));
	/* The packages are the customer's record of what changed (names, as apt knows them). */
	if (summary[0] == '\0')
		summary = _("every driver package that had a newer version");
	if (is_install)
		kf_summary_note(
			session->summary, "action",
			code == 0 ? _("The technician's driver installation finished: %s")
				  : _("The technician's driver installation did not complete: "
				      "%s"),
			summary);
	else
		kf_summary_note(session->summary, "action",
				code == 0
					? _("The technician's driver upgrade finished: %s")
					: _("The technician's driver upgrade did not complete: %s"),
				summary);
	if (is_install)
		kf_agent_session_activity(session, "%s",
					  code == 0 ? _("Driver installation finished.")
						    : _("Driver installation did not complete."));
	else
		kf_agent_session_activity(session, "%s",
					  code == 0 ? _("Driver upgrade finished.")
						    : _("Driver upgrade did not complete."));
	body = json_pack("{s:s, s:i, s:b, s:O}", "action", session->drivers_action, "code", code,
			 "ok", code == 0, "lines", session->drivers_lines);
	if (kf_agent_session_is_open(session))
		kf_control_send(session->core.control, "drivers.result", 0, body, NULL, NULL);
	json_decref(body);
	json_decref(session->drivers_lines);
	session->drivers_lines = NULL;
	kf_agent_session_leave(session);
}

static const struct kf_firmware_job_events drivers_events = {drivers_line, drivers_exit};

/*
 * drivers.change {action: "install"|"upgrade", packages: [...]}; the dispatcher has
 * checked the repair grant, which is the customer's consent. The command itself
 * installs only what its own listing offers and writes drivers-install/-upgrade.
 */
void kf_agent_session_on_drivers_change(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	const char *action = json_string_value(json_object_get(msg->body, "action"));
	json_t *packages = json_object_get(msg->body, "packages"), *name;
	const char *args[CHANGE_MAX + 12];
	struct kf_error err;
	size_t n = 0, i;

	if (session->drivers_job != NULL) {
		kf_control_send_error(session->core.control, msg->id, "busy",
				      "a driver change is already running", NULL);
		return;
	}
	if (action == NULL || (strcmp(action, "install") != 0 && strcmp(action, "upgrade") != 0) ||
	    !json_is_array(packages) || json_array_size(packages) > CHANGE_MAX ||
	    (strcmp(action, "install") == 0 && json_array_size(packages) == 0)) {
		kf_control_send_error(
			session->core.control, msg->id, "invalid",
			"drivers.change wants install or upgrade and up to 16 packages", NULL);
		return;
	}
	json_array_foreach(packages, i, name) if (!json_is_string(name) ||
						  !kf_pkg_name_is_valid(json_string_value(name)))
	{
		kf_control_send_error(session->core.control, msg->id, "invalid",
				      "drivers.change names something that is not a package", NULL);
		return;
	}
	snprintf(session->drivers_action, sizeof(session->drivers_action), "%s", action);
	session->drivers_packages[0] = '\0';
	json_array_foreach(packages, i, name)
	{
		size_t used = strlen(session->drivers_packages);

		snprintf(session->drivers_packages + used, sizeof(session->drivers_packages) - used,
			 "%s%s", used > 0 ? ", " : "", json_string_value(name));
	}
	args[n++] = action;
	args[n++] = "--yes";
	args[n++] = "--root";
	args[n++] = kf_agent_session_root(session);
	if (getenv("KEFU_DRIVERS_APT_CONFIG") != NULL) {
		/* A private apt configuration, for a recorded tree: what tests use. */
		args[n++] = "--apt-config";
		args[n++] = getenv("KEFU_DRIVERS_APT_CONFIG");
	}
	if (getenv("KEFU_DRIVERS_BACKEND") != NULL) {
		/* packagekit or apt, forced: a recorded tree that a test's PackageKit works on. */
		args[n++] = "--backend";
		args[n++] = getenv("KEFU_DRIVERS_BACKEND");
	}
	args[n++] = "--";
	json_array_foreach(packages, i, name) args[n++] = json_string_value(name);
	args[n] = NULL;
	kf_agent_session_audit(session, "action-start",
			       json_pack("{s:s, s:s, s:O}", "action", "drivers", "mode", action,
					 "packages", packages));
	kf_agent_session_activity(session,
				  strcmp(action, "install") == 0
					  ? _("%s is installing driver packages.")
					  : _("%s is upgrading driver packages."),
				  session->technician.name);
	session->drivers_lines = json_array();
	if (kf_agent_job_start(session->core.loop, "drivers", args, &drivers_events, session,
			       &session->drivers_job, &err) != KF_OK) {
		json_decref(session->drivers_lines);
		session->drivers_lines = NULL;
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
	}
}

void kf_agent_session_drivers_release(struct kf_agent_session *session)
{
	kf_firmware_job_detach(session->drivers_job);
	session->drivers_job = NULL;
	json_decref(session->drivers_lines);
	session->drivers_lines = NULL;
}
