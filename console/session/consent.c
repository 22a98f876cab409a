/* kefu-console join: asking the customer for permissions, and their answers. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include "proto/session/messages.h"

/* Sets or clears the bit of a capability named in a message. */
static void note_grant(struct join *join, const char *capability, int granted)
{
	enum kf_capability cap;

	if (capability == NULL || kf_capability_parse(capability, &cap) != KF_OK)
		return;
	if (granted)
		join->granted |= 1u << cap;
	else
		join->granted &= ~(1u << cap);
}

int join_is_granted(const struct join *join, const char *capability)
{
	enum kf_capability cap;

	return capability != NULL && kf_capability_parse(capability, &cap) == KF_OK &&
	       (join->granted & (1u << cap)) != 0;
}

void join_cmd_request(struct join *join, char *args)
{
	char *capability = args, *reason;
	struct kf_error err;
	json_t *body;
	uint32_t id;

	reason = capability + strcspn(capability, " \t");
	if (*reason != '\0')
		*reason++ = '\0';
	if (*capability == '\0') {
		join_report(join, "error", NULL,
			    "Which permission? request view|control|diagnose|"
			    "repair|firmware|files|history [REASON]");
		return;
	}
	body = json_pack("{s:s, s:s}", "capability", capability, "reason", reason);
	if (kf_console_session_send(join->session, "consent.request", body, &id, &err) != KF_OK)
		join_report(join, "error", NULL, "Could not ask: %s", err.message);
	else {
		json_t *fields = json_pack("{s:s}", "capability", capability);

		join_report(join, "asked", fields,
			    "Asked the customer for '%s'; waiting for the answer.", capability);
		json_decref(fields);
		join_wait_for(join, id);
	}
	json_decref(body);
}

void join_cmd_release(struct join *join, char *args)
{
	json_t *body = json_pack("{s:s}", "capability", args);
	struct kf_error err;

	if (kf_console_session_send(join->session, "consent.release", body, NULL, &err) != KF_OK)
		join_report(join, "error", NULL, "Could not release: %s", err.message);
	else
		note_grant(join, args, 0);
	json_decref(body);
}

void join_consent_answered(struct join *join, const struct kf_msg *msg)
{
	const char *capability = json_string_value(json_object_get(msg->body, "capability"));
	const char *by = json_string_value(json_object_get(msg->body, "by"));
	int granted = json_is_true(json_object_get(msg->body, "granted"));
	json_t *fields = json_pack("{s:s?, s:b, s:s?}", "capability", capability, "granted",
				   granted, "by", by);

	note_grant(join, capability, granted);
	join_journal(join, "access", "'%s' %s (%s)", capability ? capability : "?",
		     granted ? "allowed" : "refused", by ? by : "?");
	join_report(join, "consent", fields, "The customer %s '%s' (%s).",
		    granted ? "allowed" : "refused", capability ? capability : "?", by ? by : "?");
	json_decref(fields);
	if (granted && capability != NULL && strcmp(capability, "history") == 0)
		join_history_allowed(join, msg->re);
}

void join_consent_revoked(struct join *join, const struct kf_msg *msg)
{
	const char *capability = json_string_value(json_object_get(msg->body, "capability"));
	json_t *fields = json_pack("{s:s?}", "capability", capability);

	note_grant(join, capability, 0);
	join_journal(join, "access", "'%s' taken back", capability ? capability : "?");
	join_report(join, "revoked", fields, "The customer took back '%s'.",
		    capability ? capability : "?");
	json_decref(fields);
}
