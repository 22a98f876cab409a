/* kefu-agentd: a session's grants: the customer decides, the console is told, the log keeps it. SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"

#include <stdio.h>
#include <string.h>

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
	if (session->state == KF_AGENT_STATE_ACTIVE)
		kf_control_send(session->core.control, "consent.answer", request_id, body, NULL,
				NULL);
	json_decref(body);
	kf_agent_session_audit(session, "consent-answered",
			       json_pack("{s:s, s:b, s:s}", "capability",
					 kf_capability_name(capability), "granted", is_granted,
					 "by", by));
	kf_summary_note(session->summary, "access", "%s to %s (%s)",
			is_granted ? "Allowed" : "Refused", kf_capability_plain(capability),
			source == KF_CONSENT_BY_CUSTOMER  ? "by you"
			: source == KF_CONSENT_BY_POLICY  ? "by the policy"
			: source == KF_CONSENT_BY_TIMEOUT ? "no answer in time"
							  : by);
	if (source == KF_CONSENT_BY_TIMEOUT && session->events.on_expired != NULL)
		session->events.on_expired(session, capability, session->user);
	kf_agent_session_status_changed(session);
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
	if (capability == KF_CAP_FIRMWARE)
		kf_agent_session_firmware_revoked(session);
	kf_agent_session_plugins_revoked(session, capability);
	if (capability == KF_CAP_CONTROL && session->streams != NULL)
		kf_agent_streams_set_input(session->streams, 0);
	body = json_pack("{s:s, s:s}", "capability", kf_capability_name(capability), "by",
			 kf_consent_source_name(source));
	if (kf_agent_session_is_open(session))
		kf_control_send(session->core.control, "consent.revoked", 0, body, NULL, NULL);
	json_decref(body);
	kf_agent_session_audit(session, "consent-revoked",
			       json_pack("{s:s, s:s}", "capability", kf_capability_name(capability),
					 "by", kf_consent_source_name(source)));
	if (source == KF_CONSENT_BY_SESSION_END)
		kf_summary_note(session->summary, "access", "Ended with the session: %s",
				kf_capability_plain(capability));
	else
		kf_summary_note(session->summary, "access", "Taken back (%s): %s",
				source == KF_CONSENT_BY_CUSTOMER ? "by you"
								 : kf_consent_source_name(source),
				kf_capability_plain(capability));
	kf_agent_session_status_changed(session);
}

const struct kf_consent_events kf_agent_session_consent_events = {
	.on_ask = on_consent_ask,
	.on_decided = on_consent_decided,
	.on_revoked = on_consent_revoked,
};

bool kf_agent_session_allows(struct kf_agent_session *session, const struct kf_msg *msg)
{
	enum kf_capability needs = msg->row != NULL ? msg->row->capability : KF_CAP_NONE;
	char text[160];

	if (needs == KF_CAP_NONE || kf_consent_check(session->consent, needs))
		return true;
	snprintf(text, sizeof(text), "'%s' needs the customer's '%s' grant", msg->type,
		 kf_capability_name(needs));
	kf_control_send_error(session->core.control, msg->id, "denied", text, NULL);
	kf_agent_session_audit(
		session, "action-refused",
		json_pack("{s:s, s:s}", "action", msg->type, "missing", kf_capability_name(needs)));
	kf_summary_note(session->summary, "access", "Refused '%s': it needs %s", msg->type,
			kf_capability_name(needs));
	return false;
}

int kf_agent_session_stream_is_allowed(void *user, const char *purpose, struct kf_error *err)
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
	kf_agent_session_audit(
		session, "action-refused",
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

/* The capability a consent message names; answers msg "bad-message" when it names none. */
static int named_capability(struct kf_agent_session *session, const struct kf_msg *msg,
			    enum kf_capability *capability)
{
	json_t *name = json_object_get(msg->body, "capability");

	if (json_is_string(name) &&
	    kf_capability_parse(json_string_value(name), capability) == KF_OK)
		return KF_OK;
	kf_control_send_error(session->core.control, msg->id, "bad-message", "unknown capability",
			      NULL);
	return KF_ERR_INVALID;
}

void kf_agent_session_on_consent_request(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	json_t *reason = json_object_get(msg->body, "reason");
	enum kf_capability capability;
	struct kf_error err;

	if (named_capability(session, msg, &capability) != KF_OK)
		return;
	kf_agent_session_audit(session, "consent-requested",
			       json_pack("{s:s, s:s}", "capability", kf_capability_name(capability),
					 "reason",
					 json_is_string(reason) ? json_string_value(reason) : ""));
	if (kf_consent_request(session->consent, capability, msg->id,
			       json_is_string(reason) ? json_string_value(reason) : "",
			       &err) != KF_OK)
		kf_control_send_error(session->core.control, msg->id, "busy", err.message, NULL);
}

void kf_agent_session_on_consent_release(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	enum kf_capability capability;

	if (named_capability(session, msg, &capability) != KF_OK)
		return;
	kf_consent_revoke(session->consent, capability, KF_CONSENT_BY_TECHNICIAN);
}
