/* kefu-agentd share: the session's events, told to the customer's front end. SPDX-License-Identifier: MIT */
#include "agentd/session/share-private.h"
#include "agentd/commands.h"
#include "agentd/i18n.h"

#include <stdbool.h>
#include <stdio.h>

#define UI(share, op, ...)                                                                         \
	do {                                                                                       \
		if ((share)->ui->op != NULL)                                                       \
			(share)->ui->op((share)->ui_user, __VA_ARGS__);                            \
	} while (0)

static void on_connected(struct kf_agent_session *session, const struct kf_tls_identity *technician,
			 void *user)
{
	struct share *share = user;

	/* The code is used up: nobody else can come in with it. */
	kf_share_forget_attempt(share, session);
	share->session = session;
	kf_share_forget_code(share);
	snprintf(share->technician, sizeof(share->technician), "%s", technician->name);
	UI(share, technician_connected, technician->name, technician->organisation);
}

static void on_rejected(struct kf_agent_session *session, int is_wrong_code,
			const struct kf_error *err, void *user)
{
	struct share *share = user;
	char text[KF_ERROR_MESSAGE_SIZE + 64];

	kf_share_forget_attempt(share, session);
	kf_agent_session_free(session);
	if (!is_wrong_code) {
		/* Not a guess at the code (no certificate, a timeout): the code stays valid. */
		snprintf(text, sizeof(text), _("A connection was refused: %s"), err->message);
		UI(share, notice, text);
		return;
	}
	share->failures++;
	UI(share, wrong_code, share->failures, CODE_MAX_FAILURES);
	if (share->failures < CODE_MAX_FAILURES)
		return;
	kf_share_forget_code(share);
	kf_share_show_new_code(share);
}

static void on_chat(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	UI((struct share *)user, chat, text);
}

static void view_ends(struct share *share)
{
	if (!share->is_viewed)
		return;
	share->is_viewed = 0;
	if (share->ui->view_ended != NULL)
		share->ui->view_ended(share->ui_user);
}

static void on_ended(struct kf_agent_session *session, int status, const char *reason,
		     const char *summary_path, void *user)
{
	struct share *share = user;

	view_ends(share);
	UI(share, session_ended, status == KF_OK, reason, kf_agent_session_advice(session),
	   summary_path);
	kf_share_finish(share, status == KF_OK ? KF_EXIT_OK : KF_EXIT_FAILURE);
}

static void on_ask(struct kf_agent_session *session, enum kf_capability capability,
		   const char *reason, void *user)
{
	struct share *share = user;

	(void)session;
	UI(share, consent_request, capability, reason != NULL ? reason : "",
	   uv_now(share->loop) + share->consent_timeout_ms, share->consent_timeout_ms);
}

static void on_decided(struct kf_agent_session *session, enum kf_capability capability,
		       int is_granted, enum kf_consent_source source, void *user)
{
	struct share *share = user;

	(void)session;
	UI(share, consent_settled, capability, is_granted != 0, source);
	if (capability == KF_CAP_VIEW && is_granted && !share->is_viewed) {
		share->is_viewed = 1;
		UI(share, view_started, share->technician);
	}
}

static void on_revoked(struct kf_agent_session *session, enum kf_capability capability,
		       enum kf_consent_source source, void *user)
{
	struct share *share = user;

	(void)session;
	UI(share, grant_revoked, capability, source);
	if (capability == KF_CAP_VIEW)
		view_ends(share);
}

static void on_fetch_ask(struct kf_agent_session *session, uint32_t id, const char *path,
			 const char *real_path, uint64_t size, bool is_secret, void *user)
{
	(void)session;
	UI((struct share *)user, fetch_request, id, path, real_path, size, is_secret);
}

static void on_status(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	UI((struct share *)user, status, text);
}

static void on_activity(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	UI((struct share *)user, activity, text);
}

const struct kf_agent_session_events kf_share_session_events = {
	.on_activity = on_activity,
	.on_connected = on_connected,
	.on_rejected = on_rejected,
	.on_chat = on_chat,
	.on_ask = on_ask,
	.on_fetch_ask = on_fetch_ask,
	.on_decided = on_decided,
	.on_revoked = on_revoked,
	.on_status = on_status,
	.on_ended = on_ended,
};
