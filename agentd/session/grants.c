/* kefu-agentd: a session's grants: the customer decides, the console is told, the log keeps it. SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"
#include "agentd/i18n.h"

#include <stdio.h>
#include <string.h>

/* Who decided, in the customer's summary. */
static const char *source_words(enum kf_consent_source source)
{
	switch (source) {
	case KF_CONSENT_BY_CUSTOMER:
		return _("by you");
	case KF_CONSENT_BY_POLICY:
		return _("by the policy");
	case KF_CONSENT_BY_TIMEOUT:
		return _("no answer in time");
	case KF_CONSENT_BY_TECHNICIAN:
		return _("by your technician");
	case KF_CONSENT_BY_SESSION_END:
		return _("with the session");
	}
	return "?";
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
	if (session->state == KF_AGENT_STATE_ACTIVE)
		kf_control_send(session->core.control, "consent.answer", request_id, body, NULL,
				NULL);
	json_decref(body);
	kf_agent_session_audit(session, "consent-answered",
			       json_pack("{s:s, s:b, s:s}", "capability",
					 kf_capability_name(capability), "granted", is_granted,
					 "by", by));
	kf_summary_note(session->summary, "access",
			is_granted ? _("Allowed to %s (%s)") : _("Refused to %s (%s)"),
			_(kf_capability_plain(capability)), source_words(source));
	if (session->events.on_decided != NULL)
		session->events.on_decided(session, capability, is_granted, source, session->user);
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
	if (capability == KF_CAP_FILES)
		session->is_fetch_without_asking = false;
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
		kf_summary_note(session->summary, "access", _("Ended with the session: %s"),
				_(kf_capability_plain(capability)));
	else
		kf_summary_note(session->summary, "access", _("Taken back (%s): %s"),
				source_words(source), _(kf_capability_plain(capability)));
	if (session->events.on_revoked != NULL)
		session->events.on_revoked(session, capability, source, session->user);
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
	/* TRANSLATORS: the first %s is a message type, the second what it needs, in plain words. */
	kf_summary_note(session->summary, "access",
			_("Refused '%s': it needs your permission to %s"), msg->type,
			_(kf_capability_plain(needs)));
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
	kf_summary_note(session->summary, "access",
			is_files ? _("Refused to send or fetch a file: it needs your permission "
				     "to %s")
			: is_firmware
				? _("Refused to update firmware: it needs your permission to %s")
				: _("Refused to show the screen: it needs your permission to %s"),
			_(kf_capability_plain(needs)));
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

/* ---- fetches: each file that leaves this computer is the customer's to allow ---- */

static struct kf_agent_fetch *find_fetch(struct kf_agent_session *session, uint32_t id)
{
	for (size_t i = 0; i < sizeof(session->fetches) / sizeof(session->fetches[0]); i++)
		if (id != 0 && session->fetches[i].id == id)
			return &session->fetches[i];
	return NULL;
}

/* why goes to the technician; why_shown is the same in the customer's language. */
static void answer_fetch(struct kf_agent_session *session, struct kf_agent_fetch *fetch,
			 bool is_allowed, const char *by, const char *why, const char *why_shown)
{
	uint32_t id = fetch->id;

	kf_agent_session_audit(
		session, "fetch-answered",
		json_pack("{s:s, s:b, s:s}", "path", fetch->path, "allowed", is_allowed, "by", by));
	if (!is_allowed)
		kf_summary_note(session->summary, "access", _("Refused a copy of %s (%s)"),
				fetch->path, why_shown);
	fetch->id = 0;
	kf_agent_streams_answer_fetch(session->streams, id, is_allowed, why, NULL);
}

void kf_agent_session_fetch_ask(void *user, uint32_t id, const char *path, const char *real_path,
				uint64_t size, bool is_secret)
{
	struct kf_agent_session *session = user;
	struct kf_agent_fetch *fetch = NULL;

	for (size_t i = 0;
	     fetch == NULL && i < sizeof(session->fetches) / sizeof(session->fetches[0]); i++)
		if (session->fetches[i].id == 0)
			fetch = &session->fetches[i];
	if (fetch == NULL) {
		kf_agent_streams_answer_fetch(session->streams, id, false,
					      "the customer has too many questions waiting", NULL);
		return;
	}
	*fetch = (struct kf_agent_fetch){.id = id, .is_secret = is_secret, .size = size};
	snprintf(fetch->path, sizeof(fetch->path), "%s", path);
	kf_agent_session_audit(session, "fetch-asked",
			       json_pack("{s:s, s:s, s:I, s:b}", "path", path, "opened", real_path,
					 "size", (json_int_t)size, "secret", is_secret));
	if (session->is_fetch_without_asking && !is_secret) {
		answer_fetch(session, fetch, true, "files-without-asking", NULL, NULL);
		return;
	}
	if (session->events.on_fetch_ask == NULL) {
		answer_fetch(session, fetch, false, "helper", "this helper cannot ask the customer",
			     _("this helper cannot ask you"));
		return;
	}
	session->events.on_fetch_ask(session, id, path,
				     strcmp(real_path, path) != 0 ? real_path : NULL, size,
				     is_secret, session->user);
}

void kf_agent_session_fetch_expired(void *user, uint32_t id, const char *path)
{
	struct kf_agent_session *session = user;
	struct kf_agent_fetch *fetch = find_fetch(session, id);

	if (fetch == NULL)
		return;
	kf_agent_session_audit(
		session, "fetch-answered",
		json_pack("{s:s, s:b, s:s}", "path", fetch->path, "allowed", 0, "by", "timeout"));
	kf_summary_note(session->summary, "access", _("Refused a copy of %s (no answer in time)"),
			path);
	fetch->id = 0;
	kf_agent_session_activity(
		session, _("The request for a copy of %s expired; nothing was sent."), path);
}

int kf_agent_session_answer_fetch(struct kf_agent_session *session, uint32_t id, const char *answer,
				  bool *is_allowed, struct kf_error *err)
{
	struct kf_agent_fetch *fetch = find_fetch(session, id);
	bool is_yes = strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0;
	char why[4200], why_shown[4200];

	*is_allowed = false;
	if (fetch == NULL || session->state != KF_AGENT_STATE_ACTIVE)
		return kf_error_set(err, KF_ERR_STATE, "that file is no longer waiting");
	kf_agent_session_enter(session);
	if (fetch->is_secret) {
		/* A secret goes only when the customer typed its path back: a y is not enough. */
		*is_allowed = strcmp(answer, fetch->path) == 0;
		snprintf(why, sizeof(why),
			 "%s holds secrets; the customer did not type its path to allow it",
			 fetch->path);
		snprintf(why_shown, sizeof(why_shown), "%s",
			 _("it holds secrets and its path was not typed to allow it"));
	} else {
		*is_allowed = is_yes;
		snprintf(why, sizeof(why), "the customer refused to let %s be copied", fetch->path);
		snprintf(why_shown, sizeof(why_shown), "%s", _("you refused"));
	}
	answer_fetch(session, fetch, *is_allowed, "customer", why, why_shown);
	kf_agent_session_leave(session);
	return KF_OK;
}

bool kf_agent_session_is_asking_fetch(struct kf_agent_session *session, uint32_t id)
{
	return find_fetch(session, id) != NULL;
}

void kf_agent_session_set_fetch_without_asking(struct kf_agent_session *session, bool is_on)
{
	session->is_fetch_without_asking = is_on;
	kf_agent_session_audit(session, "files-without-asking", json_pack("{s:b}", "on", is_on));
	if (is_on)
		kf_summary_note(session->summary, "access",
				_("You let files be copied without asking (secrets excepted)"));
}
