/* kefu-agentd: firmware in a session: the device list and the updates the technician uploads. SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"
#include "agentd/i18n.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* A phase of the firmware command (its backends name them) in plain words. */
static const char *phase_words(const char *phase)
{
	static const char *const words[][2] = {
		{"upload", N_("sending the update to the device")},
		{"write", N_("writing the update")},
		{"verify-after-write", N_("reading the update back from the device")},
		{"restart", N_("restarting the device")},
		{"verify", N_("checking the device and the update")},
	};

	/* Other phases are fwupd's own names for its steps, shown as fwupd gives them. */

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(phase, words[i][0]) == 0)
			return _(words[i][1]);
	return phase;
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
			kf_agent_session_activity(
				session,
				session->is_firmware_writing
					? _("Firmware update: %s (do not unplug the device or turn "
					    "off the computer)")
					: _("Firmware update: %s"),
				phase_words(phase));
	} else {
		/* The command's own lines (its plan, the publisher's notes) are the technician's;
		 * the customer follows the phases and the result above, in plain words. */
		body = json_pack("{s:s, s:s, s:b}", "name", session->firmware_name, "line", line,
				 "error", is_error);
	}
	if (kf_agent_session_is_open(session))
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
	kf_agent_session_enter(session);
	if (session->firmware_request != 0) {
		body = json_pack("{s:i, s:O, s:s}", "code", code, "lines", session->firmware_out,
				 "what", session->is_firmware_updates ? "updates" : "devices");
		if (kf_agent_session_is_open(session))
			kf_control_send(session->core.control, "firmware.devices",
					session->firmware_request, body, NULL, NULL);
		json_decref(body);
		json_decref(session->firmware_out);
		session->firmware_out = NULL;
		session->firmware_request = 0;
		kf_agent_session_leave(session);
		return;
	}
	kf_agent_session_audit(session, "action-finish",
			       json_pack("{s:s, s:s, s:s, s:i}", "action", "firmware", "name",
					 session->firmware_name, "result",
					 code == 0 ? "ok" : "failed", "code", code));
	kf_summary_note(session->summary, "action",
			code == 0 ? _("The technician's firmware update %s finished (see "
				      "`kefu-agentd firmware history`)")
				  : _("The technician's firmware update %s did not complete; the "
				      "device keeps working firmware"),
			session->firmware_name);
	kf_agent_session_activity(session,
				  code == 0 ? _("Firmware update %s finished.")
					    : _("Firmware update %s did not complete."),
				  session->firmware_name);
	body = json_pack("{s:s, s:i, s:b}", "name", session->firmware_name, "code", code, "ok",
			 code == 0);
	if (kf_agent_session_is_open(session))
		kf_control_send(session->core.control, "firmware.result",
				session->firmware_latest_request, body, NULL, NULL);
	session->firmware_latest_request = 0;
	json_decref(body);
	forget_firmware_file(session);
	session->is_firmware_writing = false;
	kf_agent_session_status_changed(session);
	kf_agent_session_leave(session);
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
	if (strcmp(what, "list") == 0 || strcmp(what, "updates") == 0) {
		args[n++] = "--json";
	} else if (json_is_string(json_object_get(options, "latest"))) {
		/* apply --latest DEVICE: the device id takes the place of the file. */
		args[n++] = "--latest";
		args[n++] = json_string_value(json_object_get(options, "latest"));
		args[n++] = "--yes";
		args[n++] = "--progress-json";
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

/*
 * firmware.list, or with "updates": true the updates the signed metadata (and fwupd)
 * offer for the devices; the dispatcher has checked the firmware grant.
 */
void kf_agent_session_on_firmware_list(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	bool is_updates = json_is_true(json_object_get(msg->body, "updates"));
	struct kf_error err;

	if (session->firmware != NULL) {
		kf_control_send_error(session->core.control, msg->id, "busy",
				      "a firmware command is already running", NULL);
		return;
	}
	session->firmware_request = msg->id;
	session->firmware_out = json_array();
	session->is_firmware_updates = is_updates;
	if (start_firmware(session, is_updates ? "updates" : "list", NULL, NULL, &err) != KF_OK) {
		session->firmware_request = 0;
		json_decref(session->firmware_out);
		session->firmware_out = NULL;
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
	}
}

/*
 * firmware.latest: the newest update the customer's signed metadata lists for a device,
 * fetched and installed with every check; the dispatcher has checked the firmware grant.
 */
void kf_agent_session_on_firmware_latest(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	const char *device = json_string_value(json_object_get(msg->body, "device"));
	json_t *options;
	struct kf_error err;
	int r;

	if (device == NULL || device[0] == '\0' || device[0] == '-' || strlen(device) > 128) {
		kf_control_send_error(session->core.control, msg->id, "invalid",
				      "firmware.latest needs a device id", NULL);
		return;
	}
	if (session->firmware != NULL) {
		kf_control_send_error(session->core.control, msg->id, "busy",
				      "a firmware command is already running", NULL);
		return;
	}
	snprintf(session->firmware_name, sizeof(session->firmware_name), "latest for %s", device);
	session->firmware_file[0] = '\0';
	session->is_firmware_writing = false;
	kf_agent_session_audit(session, "action-start",
			       json_pack("{s:s, s:s, s:s}", "action", "firmware", "name",
					 session->firmware_name, "mode", "apply-latest"));
	kf_agent_session_activity(session, "%s is installing the newest firmware for %s.",
				  session->technician.name, device);
	options = json_pack("{s:s}", "latest", device);
	session->firmware_latest_request = msg->id;
	r = start_firmware(session, "apply", NULL, options, &err);
	json_decref(options);
	if (r != KF_OK) {
		json_t *body = json_pack("{s:s, s:i, s:b, s:s}", "name", session->firmware_name,
					 "code", -1, "ok", 0, "error", err.message);

		session->firmware_latest_request = 0;
		kf_control_send(session->core.control, "firmware.result", msg->id, body, NULL,
				NULL);
		json_decref(body);
	}
}

void kf_agent_session_firmware_arrived(struct kf_agent_session *session, json_t *fields)
{
	const char *saved = json_string_value(json_object_get(fields, "saved"));
	const char *name = json_string_value(json_object_get(fields, "name"));
	json_t *options = json_object_get(fields, "options");
	int is_check = json_is_true(json_object_get(options, "check"));
	struct kf_error err;

	snprintf(session->firmware_file, sizeof(session->firmware_file), "%s", saved);
	snprintf(session->firmware_name, sizeof(session->firmware_name), "%s", name ? name : "");
	session->is_firmware_writing = false;
	kf_agent_session_audit(session, "action-start",
			       json_pack("{s:s, s:s, s:s, s:s}", "action", "firmware", "name",
					 session->firmware_name, "mode",
					 is_check ? "check" : "apply", "sha256",
					 json_string_value(json_object_get(fields, "sha256"))));
	kf_agent_session_activity(session,
				  is_check ? _("%s is checking the firmware update %s.")
					   : _("%s is installing the firmware update %s."),
				  session->technician.name, session->firmware_name);
	if (start_firmware(session, is_check ? "check" : "apply", saved, options, &err) != KF_OK) {
		json_t *body = json_pack("{s:s, s:i, s:b, s:s}", "name", session->firmware_name,
					 "code", -1, "ok", 0, "error", err.message);

		kf_control_send(session->core.control, "firmware.result", 0, body, NULL, NULL);
		json_decref(body);
	}
}

void kf_agent_session_firmware_revoked(struct kf_agent_session *session)
{
	if (session->firmware == NULL)
		return;
	/* Before the write it stops; once writing, stopping would harm the device. */
	kf_firmware_job_stop(session->firmware);
	kf_agent_session_audit(
		session, "action-stopped",
		json_pack("{s:s, s:s, s:s}", "action", "firmware", "name", session->firmware_name,
			  "why",
			  session->is_firmware_writing
				  ? "the grant was taken back while writing: the write finishes"
				  : "the grant was taken back"));
}

void kf_agent_session_firmware_release(struct kf_agent_session *session)
{
	kf_firmware_job_detach(session->firmware);
	session->firmware = NULL;
	json_decref(session->firmware_out);
	session->firmware_out = NULL;
	forget_firmware_file(session);
}
