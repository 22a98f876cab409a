/* kefu-agentd share: the customer's terminal, where the technician's requests are answered. SPDX-License-Identifier: MIT */
#include "agentd/session/share-private.h"
#include "agentd/commands.h"
#include "agentd/session/streams.h"
#include "proto/base/escape.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the technician's session ---- */

static void on_connected(struct kf_agent_session *session, const struct kf_tls_identity *technician,
			 void *user)
{
	struct share *share = user;

	/* The code is used up: nobody else can come in with it. */
	kf_share_forget_attempt(share, session);
	share->session = session;
	kf_share_forget_code(share);
	snprintf(share->technician, sizeof(share->technician), "%s", technician->name);
	kf_share_say("Connected: %s from %s is now with you.", technician->name,
		     technician->organisation);
	kf_share_say("Type a message and press Enter to chat. Type /stop (or press Ctrl-C) to end "
		     "everything at once, /help for more.");
}

static void on_rejected(struct kf_agent_session *session, int is_wrong_code,
			const struct kf_error *err, void *user)
{
	struct share *share = user;

	kf_share_forget_attempt(share, session);
	kf_agent_session_free(session);
	if (!is_wrong_code) {
		/* Not a guess at the code (no certificate, a timeout): the code stays valid. */
		kf_share_say("A connection was refused: %s", err->message);
		return;
	}
	share->failures++;
	if (share->failures < CODE_MAX_FAILURES) {
		kf_share_say("Someone tried a wrong code (%d of %d tries).", share->failures,
			     CODE_MAX_FAILURES);
		return;
	}
	kf_share_say("Three wrong codes were tried: that code no longer works. Here is a new one.");
	kf_share_forget_code(share);
	kf_share_show_new_code(share);
}

static void on_chat(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	(void)user;
	kf_share_say("Technician: %s", text);
}

static void on_ended(struct kf_agent_session *session, int status, const char *reason,
		     const char *summary_path, void *user)
{
	struct share *share = user;

	if (status == KF_OK)
		kf_share_say("The session has ended: %s", reason);
	else
		kf_share_say("The session was cut off: %s", reason);
	if (kf_agent_session_advice(session)[0] != '\0')
		kf_share_say("Your technician's advice: %s", kf_agent_session_advice(session));
	if (summary_path != NULL)
		kf_share_say("A summary of this session is in %s (and as a web page beside it).",
			     summary_path);
	kf_share_finish(share, status == KF_OK ? KF_EXIT_OK : KF_EXIT_FAILURE);
}

static void on_ask(struct kf_agent_session *session, enum kf_capability capability,
		   const char *reason, void *user)
{
	struct share *share = user;

	(void)session;
	if (share->asked_count < KF_CAP_COUNT)
		share->asked[share->asked_count++] = capability;
	putchar('\n');
	kf_share_say(">>> Your technician asks to %s.", kf_capability_plain(capability));
	if (reason != NULL && reason[0] != '\0')
		kf_share_say("    Why: %s", reason);
	if (capability == KF_CAP_FILES)
		kf_share_say(
			"    Allow it? Type y (yes: you are asked before each file is copied from "
			"this "
			"computer), all (yes, and copy files without asking me; secrets are still "
			"asked) or n (no). No answer within %u s means no.",
			share->consent_timeout_ms / 1000);
	else
		kf_share_say("    Allow it? Type y (yes) or n (no) and press Enter. No answer "
			     "within %u s "
			     "means no.",
			     share->consent_timeout_ms / 1000);
}

/* A size as a person reads it: 31 KB, 4.2 MB. */
static void size_text(uint64_t size, char *out, size_t out_size)
{
	if (size < 1024)
		snprintf(out, out_size, "%llu bytes", (unsigned long long)size);
	else if (size < 1024 * 1024)
		snprintf(out, out_size, "%llu KB", (unsigned long long)((size + 1023) / 1024));
	else
		snprintf(out, out_size, "%.1f MB", (double)size / (1024.0 * 1024.0));
}

static void on_fetch_ask(struct kf_agent_session *session, uint32_t id, const char *path,
			 const char *real_path, uint64_t size, bool is_secret, void *user)
{
	struct share *share = user;
	char amount[32];

	(void)session;
	if (share->fetch_count < (int)(sizeof(share->fetches) / sizeof(share->fetches[0])))
		share->fetches[share->fetch_count++] = id;
	size_text(size, amount, sizeof(amount));
	putchar('\n');
	if (real_path != NULL)
		kf_share_say(">>> %s wants a copy of %s (%s; it leads to %s).", share->technician,
			     path, amount, real_path);
	else
		kf_share_say(">>> %s wants a copy of %s (%s).", share->technician, path, amount);
	if (is_secret)
		kf_share_say(
			"    This file holds secrets (passwords, private keys or a browser's saved "
			"logins). To allow it, type its path exactly as shown; anything else "
			"refuses.");
	else
		kf_share_say("    Allow? y/n");
}

static void forget_fetch(struct share *share, int index)
{
	memmove(&share->fetches[index], &share->fetches[index + 1],
		(size_t)(share->fetch_count - index - 1) * sizeof(share->fetches[0]));
	share->fetch_count--;
}

/* The customer's line answers the oldest file waiting; the session decides what it means. */
static void answer_fetch(struct share *share, const char *line)
{
	struct kf_error err;
	bool is_allowed;
	uint32_t id = share->fetches[0];

	forget_fetch(share, 0);
	if (kf_agent_session_answer_fetch(share->session, id, line, &is_allowed, &err) != KF_OK)
		kf_share_say("That file is no longer waiting (%s).", err.message);
	else if (is_allowed)
		kf_share_say("[allowed: the copy goes to your technician]");
	else
		kf_share_say("[refused: nothing was copied]");
}

static void forget_asked(struct share *share, enum kf_capability capability)
{
	for (int i = 0; i < share->asked_count; i++) {
		if (share->asked[i] != capability)
			continue;
		memmove(&share->asked[i], &share->asked[i + 1],
			(size_t)(share->asked_count - i - 1) * sizeof(share->asked[0]));
		share->asked_count--;
		return;
	}
}

static void on_expired(struct kf_agent_session *session, enum kf_capability capability, void *user)
{
	struct share *share = user;

	(void)session;
	forget_asked(share, capability);
	share->expired = capability;
	share->expired_at = uv_now(share->loop);
	kf_share_say("The request for '%s' expired; nothing was allowed.",
		     kf_capability_name(capability));
}

static void on_status(struct kf_agent_session *session, const char *text, void *user)
{
	struct share *share = user;

	/* A request that was settled elsewhere (timeout, policy) no longer waits for y/n. */
	for (int i = share->asked_count - 1; i >= 0; i--)
		if (!kf_agent_session_is_asking(session, share->asked[i]))
			forget_asked(share, share->asked[i]);
	for (int i = share->fetch_count - 1; i >= 0; i--)
		if (!kf_agent_session_is_asking_fetch(session, share->fetches[i]))
			forget_fetch(share, i);
	kf_share_say("[%s]", text);
}

static void on_activity(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	(void)user;
	kf_share_say("%s", text);
}

const struct kf_agent_session_events kf_share_session_events = {
	.on_activity = on_activity,
	.on_connected = on_connected,
	.on_rejected = on_rejected,
	.on_chat = on_chat,
	.on_ask = on_ask,
	.on_fetch_ask = on_fetch_ask,
	.on_expired = on_expired,
	.on_status = on_status,
	.on_ended = on_ended,
};

/* ---- the customer's keyboard ---- */

void kf_share_stop_everything(struct share *share, const char *why)
{
	if (share->session != NULL) {
		kf_agent_session_end(share->session, why);
		return;
	}
	kf_share_say("Stopped: %s.", why);
	kf_share_finish(share, KF_EXIT_OK);
}

static const char customer_help[] =
	"  y / n           answer the technician's request (the oldest first), then a\n"
	"                  file the technician wants a copy of (for a file holding\n"
	"                  secrets, type its path to allow it)\n"
	"  /revoke NAME    take back one permission (view, control, diagnose, repair,\n"
	"                  firmware, files), or /revoke all\n"
	"  /status         who is connected and what is allowed\n"
	"  /stop           end everything at once (Ctrl-C does the same)\n"
	"  anything else   a chat message to the technician";

static void answer(struct share *share, int is_granted)
{
	enum kf_capability capability;
	struct kf_error err;

	if (share->session == NULL || share->asked_count == 0) {
		kf_share_say("Nothing is waiting for your answer.");
		return;
	}
	capability = share->asked[0];
	forget_asked(share, capability);
	if (kf_agent_session_answer(share->session, capability, is_granted, &err) != KF_OK)
		kf_share_say("That request is no longer waiting (%s).", err.message);
}

static void revoke_grant(struct share *share, const char *name)
{
	enum kf_capability capability;

	if (share->session == NULL) {
		kf_share_say("No technician is connected.");
		return;
	}
	if (strcmp(name, "all") == 0) {
		for (int i = 0; i < KF_CAP_COUNT; i++)
			kf_agent_session_revoke(share->session, (enum kf_capability)i);
		return;
	}
	if (kf_capability_parse(name, &capability) != KF_OK) {
		kf_share_say("There is no permission called '%s'.", name);
		return;
	}
	kf_agent_session_revoke(share->session, capability);
}

void kf_share_on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct share *share = user;
	struct kf_error err;
	char granted[128];
	bool is_answer;

	(void)reader;
	if (strcmp(line, "/stop") == 0) {
		kf_share_stop_everything(share, "the customer stopped the session");
		return;
	}
	if (line[0] == '\0')
		return;
	if (strcmp(line, "/help") == 0) {
		kf_share_say("%s", customer_help);
		return;
	}
	is_answer = strcmp(line, "y") == 0 || strcmp(line, "yes") == 0 || strcmp(line, "n") == 0 ||
		    strcmp(line, "no") == 0;
	if (share->asked_count > 0 && strcmp(line, "all") == 0 && share->asked[0] == KF_CAP_FILES) {
		answer(share, 1);
		if (share->session != NULL)
			kf_agent_session_set_fetch_without_asking(share->session, true);
		return;
	}
	if (share->asked_count > 0 && is_answer) {
		answer(share, line[0] == 'y');
		return;
	}
	if (is_answer && share->fetch_count == 0 && share->expired_at != 0 &&
	    uv_now(share->loop) - share->expired_at < LATE_ANSWER_MS) {
		kf_share_say("Too late: the request for '%s' had already expired and nothing was "
			     "allowed. "
			     "Your '%s' was not sent to the technician.",
			     kf_capability_name(share->expired), line);
		return;
	}
	if (strncmp(line, "/revoke ", 8) == 0) {
		revoke_grant(share, line + 8);
		return;
	}
	if (strcmp(line, "/status") == 0) {
		if (share->session == NULL) {
			kf_share_say("[waiting for the technician]");
		} else {
			kf_agent_session_describe(share->session, granted, sizeof(granted));
			kf_share_say("[allowed: %s]", granted);
		}
		return;
	}
	if (share->session == NULL) {
		kf_share_say("No technician is connected yet.");
		return;
	}
	/* y, n or a path typed back (a secret) answer the oldest file waiting. */
	if (share->fetch_count > 0 && (is_answer || line[0] == '/')) {
		answer_fetch(share, line);
		return;
	}
	if (kf_agent_session_chat(share->session, line, &err) != KF_OK)
		kf_share_say("Could not send: %s", err.message);
}

void kf_share_on_input_eof(struct kf_line_reader *reader, void *user)
{
	(void)reader;
	(void)user;
	/* Without input the session goes on; /stop or Ctrl-C end it. */
}
