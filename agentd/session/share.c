/* kefu-agentd share: let a technician in through the relay, with a code. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/plugins/job.h"
#include "agentd/policy.h"
#include "agentd/session/session.h"
#include "proto/base/escape.h"
#include "agentd/session/streams.h"
#include "proto/session/code.h"
#include "proto/base/line-reader.h"
#include "proto/base/loop.h"
#include "proto/plugin/package.h"
#include "proto/session/profile.h"
#include "proto/session/ssh-transport.h"

#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A code is good for ten minutes after it is shown, and for three wrong tries. */
#define CODE_LIFETIME_MS  (10 * 60 * 1000)
#define CODE_MAX_FAILURES 3

/*
 * Connections still proving the code, at most this many at once. Anyone on the
 * relay host (or with a technician's relay key) can open one to the forwarded
 * port and say nothing: with several places the real technician comes in beside
 * them, and a small bound keeps a flood of connections from costing memory and
 * TLS work. When every place is taken, a newcomer is not refused: the oldest
 * attempt that has said nothing goes, or else the oldest of all (a real console
 * is through set-up in a few round trips; only an attacker lingers).
 */
#define MAX_ATTEMPTS 4

/*
 * A lone y or n typed this soon after a request expired answers that request,
 * too late: it is not sent to the technician as a chat line.
 */
#define LATE_ANSWER_MS (30 * 1000)

struct share {
	uv_loop_t *loop;
	const char *program;
	struct kf_profile *profile;
	unsigned relay_index;
	SSL_CTX *tls_context;
	struct kf_ssh_key *key;
	struct kf_ssh *ssh;
	uint16_t forwarded_port;
	struct kf_code code;
	int has_code;
	int failures;
	unsigned code_lifetime_ms;
	uv_timer_t code_timer;
	uv_signal_t interrupt, terminate;
	struct kf_agent_session *attempts[MAX_ATTEMPTS]; /* still proving the code, oldest first */
	int attempt_count;
	struct kf_agent_session *session; /* the technician, once proven */
	struct kf_line_reader *input;
	struct kf_policy *policy;
	struct kf_audit *audit;
	unsigned consent_timeout_ms;
	/* Where the technician's plugins come from, and the system they look at. */
	struct kf_plugin_places places;
	char installed_plugins[PATH_MAX];
	struct kf_package_publisher *plugin_publishers; /* the profile's, for installed plugins */
	char trust_problem[KF_ERROR_MESSAGE_SIZE];
	const char *root;
	/* What the session's firmware commands get: the profile (its firmware CAs and
	 * publishers) and, for emulated or test devices, their folder. */
	const char *firmware_args[8];
	/* Requests waiting for the customer, oldest first; y or n answers the first. */
	enum kf_capability asked[KF_CAP_COUNT];
	int asked_count;
	/* Files the technician wants a copy of, oldest first; answered after requests. */
	uint32_t fetches[8];
	int fetch_count;
	char technician[128];
	/* The last request that expired unanswered, and when (uv_now; 0: none). */
	enum kf_capability expired;
	uint64_t expired_at;
	int exit_code;
	int is_done;
};

/*
 * One line on the customer's terminal. The technician's words are in many of them
 * (chat, reasons, file names): escaped, they can neither draw on the screen nor
 * fake a line of the helper's own, such as a consent question.
 */
static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	kf_terminal_vprint(stdout, format, args);
	va_end(args);
	fflush(stdout);
}

static void finish(struct share *share, int exit_code)
{
	if (share->is_done)
		return;
	share->is_done = 1;
	share->exit_code = exit_code;
	uv_stop(share->loop);
}

/* Takes session out of the attempts (it is proven, rejected or dropped). */
static void forget_attempt(struct share *share, struct kf_agent_session *session)
{
	for (int i = 0; i < share->attempt_count; i++) {
		if (share->attempts[i] != session)
			continue;
		memmove(&share->attempts[i], &share->attempts[i + 1],
			(size_t)(share->attempt_count - i - 1) * sizeof(share->attempts[0]));
		share->attempt_count--;
		return;
	}
}

/* Ends every attempt still proving the code: they hold a code that no longer works. */
static void drop_attempts(struct share *share)
{
	while (share->attempt_count > 0) {
		struct kf_agent_session *session = share->attempts[--share->attempt_count];

		kf_agent_session_free(session);
	}
}

/* Makes room for a newcomer: the oldest silent attempt goes, or else the oldest. */
static void make_room(struct share *share)
{
	struct kf_agent_session *session;
	int victim = 0;

	if (share->attempt_count < MAX_ATTEMPTS)
		return;
	for (int i = 0; i < share->attempt_count; i++) {
		if (!kf_agent_session_is_heard(share->attempts[i])) {
			victim = i;
			break;
		}
	}
	session = share->attempts[victim];
	forget_attempt(share, session);
	kf_agent_session_free(session);
}

static void forget_code(struct share *share)
{
	OPENSSL_cleanse(&share->code, sizeof(share->code));
	share->has_code = 0;
	uv_timer_stop(&share->code_timer);
	drop_attempts(share);
}

static void on_code_expired(uv_timer_t *timer)
{
	struct share *share = timer->data;

	forget_code(share);
	say("The code has expired. Run 'kefu-agentd share' again when your technician is ready.");
	finish(share, KF_EXIT_FAILURE);
}

static void show_new_code(struct share *share)
{
	char text[32];
	struct kf_error err;

	if (kf_code_make(&share->code, share->relay_index, share->forwarded_port, &err) != KF_OK) {
		say("Could not make a code: %s", err.message);
		finish(share, KF_EXIT_FAILURE);
		return;
	}
	share->has_code = 1;
	share->failures = 0;
	kf_code_format(&share->code, text, sizeof(text));
	putchar('\n');
	say("    Your code:  %s", text);
	putchar('\n');
	if (share->code_lifetime_ms >= 60000)
		say("Read it to your technician from %s. It works once, for %u minutes.",
		    share->profile->organisation, share->code_lifetime_ms / 60000);
	else
		say("Read it to your technician from %s. It works once, for %u seconds.",
		    share->profile->organisation, share->code_lifetime_ms / 1000);
	say("Waiting for the technician...");
	OPENSSL_cleanse(text, sizeof(text));
	uv_timer_start(&share->code_timer, on_code_expired, share->code_lifetime_ms, 0);
}

/* ---- the technician's session ---- */

static void on_connected(struct kf_agent_session *session, const struct kf_tls_identity *technician,
			 void *user)
{
	struct share *share = user;

	/* The code is used up: nobody else can come in with it. */
	forget_attempt(share, session);
	share->session = session;
	forget_code(share);
	snprintf(share->technician, sizeof(share->technician), "%s", technician->name);
	say("Connected: %s from %s is now with you.", technician->name, technician->organisation);
	say("Type a message and press Enter to chat. Type /stop (or press Ctrl-C) to end "
	    "everything at once, /help for more.");
}

static void on_rejected(struct kf_agent_session *session, int is_wrong_code,
			const struct kf_error *err, void *user)
{
	struct share *share = user;

	forget_attempt(share, session);
	kf_agent_session_free(session);
	if (!is_wrong_code) {
		/* Not a guess at the code (no certificate, a timeout): the code stays valid. */
		say("A connection was refused: %s", err->message);
		return;
	}
	share->failures++;
	if (share->failures < CODE_MAX_FAILURES) {
		say("Someone tried a wrong code (%d of %d tries).", share->failures,
		    CODE_MAX_FAILURES);
		return;
	}
	say("Three wrong codes were tried: that code no longer works. Here is a new one.");
	forget_code(share);
	show_new_code(share);
}

static void on_chat(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	(void)user;
	say("Technician: %s", text);
}

static void on_ended(struct kf_agent_session *session, int status, const char *reason,
		     const char *summary_path, void *user)
{
	struct share *share = user;

	if (status == KF_OK)
		say("The session has ended: %s", reason);
	else
		say("The session was cut off: %s", reason);
	if (kf_agent_session_advice(session)[0] != '\0')
		say("Your technician's advice: %s", kf_agent_session_advice(session));
	if (summary_path != NULL)
		say("A summary of this session is in %s (and as a web page beside it).",
		    summary_path);
	finish(share, status == KF_OK ? KF_EXIT_OK : KF_EXIT_FAILURE);
}

static void on_ask(struct kf_agent_session *session, enum kf_capability capability,
		   const char *reason, void *user)
{
	struct share *share = user;

	(void)session;
	if (share->asked_count < KF_CAP_COUNT)
		share->asked[share->asked_count++] = capability;
	putchar('\n');
	say(">>> Your technician asks to %s.", kf_capability_plain(capability));
	if (reason != NULL && reason[0] != '\0')
		say("    Why: %s", reason);
	if (capability == KF_CAP_FILES)
		say("    Allow it? Type y (yes: you are asked before each file is copied from this "
		    "computer), all (yes, and copy files without asking me; secrets are still "
		    "asked) or n (no). No answer within %u s means no.",
		    share->consent_timeout_ms / 1000);
	else
		say("    Allow it? Type y (yes) or n (no) and press Enter. No answer within %u s "
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
		say(">>> %s wants a copy of %s (%s; it leads to %s).", share->technician, path,
		    amount, real_path);
	else
		say(">>> %s wants a copy of %s (%s).", share->technician, path, amount);
	if (is_secret)
		say("    This file holds secrets (passwords, private keys or a browser's saved "
		    "logins). To allow it, type its path exactly as shown; anything else "
		    "refuses.");
	else
		say("    Allow? y/n");
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
		say("That file is no longer waiting (%s).", err.message);
	else if (is_allowed)
		say("[allowed: the copy goes to your technician]");
	else
		say("[refused: nothing was copied]");
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
	say("The request for '%s' expired; nothing was allowed.", kf_capability_name(capability));
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
	say("[%s]", text);
}

static void on_activity(struct kf_agent_session *session, const char *text, void *user)
{
	(void)session;
	(void)user;
	say("%s", text);
}

static const struct kf_agent_session_events session_events = {
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

/* ---- the relay ---- */

static void on_ssh_ready(struct kf_ssh *ssh, void *user)
{
	struct share *share = user;
	struct kf_error err;

	if (kf_ssh_listen(ssh, &err) != KF_OK) {
		say("The relay would not take this session: %s", err.message);
		finish(share, KF_EXIT_FAILURE);
	}
}

static void on_ssh_failed(struct kf_ssh *ssh, const struct kf_error *err, void *user)
{
	struct share *share = user;

	(void)ssh;
	say("%s", err->message);
	finish(share, KF_EXIT_FAILURE);
}

static void on_listening(struct kf_ssh *ssh, uint16_t port, void *user)
{
	struct share *share = user;

	(void)ssh;
	share->forwarded_port = port;
	show_new_code(share);
}

static void on_channel(struct kf_ssh *ssh, struct kf_stream *channel, void *user)
{
	struct share *share = user;
	struct kf_agent_session_config config = {
		.tls_context = share->tls_context,
		.secret = share->code.secret,
		.policy = share->policy,
		.consent_timeout_ms = share->consent_timeout_ms,
		.audit = share->audit,
		.diagnostics_root = share->root,
		.plugin_places = &share->places,
		.firmware_args = share->firmware_args,
	};
	struct kf_agent_session *attempt;
	struct kf_error err;

	(void)ssh;
	/* The session's own further streams (the screen) prove themselves inside it. */
	if (share->session != NULL) {
		kf_agent_session_attach_stream(share->session, channel);
		return;
	}
	/* A used or expired code admits nobody. */
	if (!share->has_code) {
		kf_stream_close(channel);
		return;
	}
	make_room(share);
	if (kf_agent_session_start(share->loop, channel, &config, &session_events, share, &attempt,
				   &err) != KF_OK) {
		say("A connection could not start: %s", err.message);
		kf_agent_session_free(attempt);
		return;
	}
	share->attempts[share->attempt_count++] = attempt;
}

/* ---- the customer's keyboard ---- */

static void stop_everything(struct share *share, const char *why)
{
	if (share->session != NULL) {
		kf_agent_session_end(share->session, why);
		return;
	}
	say("Stopped: %s.", why);
	finish(share, KF_EXIT_OK);
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
		say("Nothing is waiting for your answer.");
		return;
	}
	capability = share->asked[0];
	forget_asked(share, capability);
	if (kf_agent_session_answer(share->session, capability, is_granted, &err) != KF_OK)
		say("That request is no longer waiting (%s).", err.message);
}

static void revoke_grant(struct share *share, const char *name)
{
	enum kf_capability capability;

	if (share->session == NULL) {
		say("No technician is connected.");
		return;
	}
	if (strcmp(name, "all") == 0) {
		for (int i = 0; i < KF_CAP_COUNT; i++)
			kf_agent_session_revoke(share->session, (enum kf_capability)i);
		return;
	}
	if (kf_capability_parse(name, &capability) != KF_OK) {
		say("There is no permission called '%s'.", name);
		return;
	}
	kf_agent_session_revoke(share->session, capability);
}

static void on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct share *share = user;
	struct kf_error err;
	char granted[128];
	bool is_answer;

	(void)reader;
	if (strcmp(line, "/stop") == 0) {
		stop_everything(share, "the customer stopped the session");
		return;
	}
	if (line[0] == '\0')
		return;
	if (strcmp(line, "/help") == 0) {
		say("%s", customer_help);
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
		say("Too late: the request for '%s' had already expired and nothing was allowed. "
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
			say("[waiting for the technician]");
		} else {
			kf_agent_session_describe(share->session, granted, sizeof(granted));
			say("[allowed: %s]", granted);
		}
		return;
	}
	if (share->session == NULL) {
		say("No technician is connected yet.");
		return;
	}
	/* y, n or a path typed back (a secret) answer the oldest file waiting. */
	if (share->fetch_count > 0 && (is_answer || line[0] == '/')) {
		answer_fetch(share, line);
		return;
	}
	if (kf_agent_session_chat(share->session, line, &err) != KF_OK)
		say("Could not send: %s", err.message);
}

static void on_input_eof(struct kf_line_reader *reader, void *user)
{
	(void)reader;
	(void)user;
	/* Without input the session goes on; /stop or Ctrl-C end it. */
}

static void on_signal(uv_signal_t *handle, int signum)
{
	(void)signum;
	stop_everything(handle->data, "the customer pressed Ctrl-C");
}

/* A policy is never a surprise: the customer sees it before anyone connects. */
static void show_policy(struct share *share)
{
	const struct kf_policy *policy = share->policy;

	if (policy == NULL)
		return;
	say("This computer follows the policy \"%s\"%s%s.", policy->name,
	    policy->description[0] ? ": " : "", policy->description);
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		enum kf_policy_rule rule = policy->rules[i];

		if (rule == KF_POLICY_ASK)
			continue;
		say("  %s: the technician may %s.",
		    rule == KF_POLICY_ALLOW ? "Allowed without asking you" : "Always refused",
		    kf_capability_plain((enum kf_capability)i));
	}
	say("  For everything else, you are asked.");
}

static int load_setup(struct share *share, const char *profile_path)
{
	struct kf_error err;

	if (kf_profile_load(profile_path, &share->profile, &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	if (share->relay_index >= share->profile->relay_count)
		return kf_cli_fail(share->program, "the support profile has no relay number %u",
				   share->relay_index);
	share->tls_context = kf_tls_client_context(share->profile->support_ca_pem, &err);
	if (share->tls_context == NULL)
		return kf_cli_fail(share->program, "%s", err.message);
	if (kf_ssh_key_generate(&share->key, "kefu-agentd", &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	/* Installed plugins run only while this profile trusts their publisher. */
	if (kf_plugin_package_trust(share->profile, &share->plugin_publishers,
				    &share->places.n_trusted, &err) != KF_OK) {
		snprintf(share->trust_problem, sizeof(share->trust_problem), "%s", err.message);
		share->places.trust_problem = share->trust_problem;
	}
	share->places.trusted = share->plugin_publishers;
	return KF_EXIT_OK;
}

static int connect_relay(struct share *share)
{
	const struct kf_profile_relay *relay = &share->profile->relays[share->relay_index];
	struct kf_ssh_options options = {
		.host = relay->host,
		.port = relay->port,
		.user = relay->agent_user,
		.key = share->key,
		.host_keys = (const char *const *)relay->host_keys,
		.host_key_count = relay->host_key_count,
	};
	struct kf_ssh_callbacks callbacks = {
		.on_ready = on_ssh_ready,
		.on_failed = on_ssh_failed,
		.on_listening = on_listening,
		.on_channel = on_channel,
	};
	struct kf_error err;

	say("Connecting to %s's relay %s...", share->profile->organisation, relay->host);
	if (kf_ssh_connect(share->loop, &options, &callbacks, share, &share->ssh, &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	return KF_EXIT_OK;
}

int kf_agent_cmd_share(int argc, char **argv)
{
	static const struct option options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"relay", required_argument, NULL, 'r'},
		{"code-minutes", required_argument, NULL, 'm'},
		{"policy", required_argument, NULL, 'P'},
		{"consent-timeout", required_argument, NULL, 't'},
		{"plugins", required_argument, NULL, 'g'},
		{"root", required_argument, NULL, 'R'},
		{"firmware-devices", required_argument, NULL, 'F'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"share", KF_AGENTD_SHARE_USAGE, "", NULL};
	const char *plugin_folders[KF_PLUGIN_PLACES_MAX];
	size_t n_plugin_folders = 0;
	const char *firmware_devices = NULL;
	size_t n_firmware_args = 0;
	struct kf_line_reader_callbacks input_callbacks = {on_line, on_input_eof};
	struct share share = {.program = KF_AGENTD_PROGRAM,
			      .code_lifetime_ms = CODE_LIFETIME_MS,
			      .consent_timeout_ms = KF_CONSENT_DEFAULT_TIMEOUT_MS};
	const char *profile_path = kf_profile_default_path(), *policy_path = NULL;
	struct kf_error err;
	int opt, code;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			profile_path = optarg;
			break;
		case 'r':
			share.relay_index = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm': {
			char *end;
			double minutes = strtod(optarg, &end);

			/* Shorter codes are safer; 0.05 (three seconds) is the least. */
			if (*end != '\0' || !(minutes >= 0.05 && minutes <= 10))
				return kf_cli_fail(share.program,
						   "--code-minutes takes 0.05 to 10 (minutes)");
			share.code_lifetime_ms = (unsigned)(minutes * 60000);
			break;
		}
		case 'P':
			policy_path = optarg;
			break;
		case 't': {
			char *end;
			unsigned long seconds = strtoul(optarg, &end, 10);

			if (*end != '\0' || seconds < 1 || seconds > 600)
				return kf_cli_fail(share.program,
						   "--consent-timeout takes 1 to 600 (seconds)");
			share.consent_timeout_ms = (unsigned)seconds * 1000;
			break;
		}
		case 'g':
			if (n_plugin_folders == KF_PLUGIN_PLACES_MAX)
				return kf_cli_fail(share.program, "at most %d --plugins folders",
						   KF_PLUGIN_PLACES_MAX);
			plugin_folders[n_plugin_folders++] = optarg;
			break;
		case 'R':
			share.root = optarg;
			break;
		case 'F':
			firmware_devices = optarg;
			break;
		default:
			return kf_cli_usage(share.program, &usage);
		}
	}
	if (optind != argc)
		return kf_cli_usage(share.program, &usage);
	/* Named folders replace the default ones (shipped, then installed from packages). */
	if (n_plugin_folders == 0) {
		kf_plugin_places_default(&share.places, share.installed_plugins,
					 sizeof(share.installed_plugins));
	} else {
		for (size_t i = 0; i < n_plugin_folders; i++) {
			if (access(plugin_folders[i], R_OK | X_OK) != 0)
				return kf_cli_fail(share.program,
						   "%s: cannot read the plugin folder",
						   plugin_folders[i]);
			share.places.folders[share.places.n_folders++] = plugin_folders[i];
		}
	}
	if (share.root != NULL && access(share.root, R_OK | X_OK) != 0)
		return kf_cli_fail(share.program, "%s: cannot read this folder", share.root);
	share.firmware_args[n_firmware_args++] = "--profile";
	share.firmware_args[n_firmware_args++] = profile_path;
	if (firmware_devices != NULL) {
		share.firmware_args[n_firmware_args++] = "--devices";
		share.firmware_args[n_firmware_args++] = firmware_devices;
	}
	/* Not --root: firmware goes into this computer's devices, whatever tree is repaired. */
	share.firmware_args[n_firmware_args] = NULL;
	if (policy_path != NULL && kf_policy_load(policy_path, &share.policy, &err) != KF_OK)
		return kf_cli_fail(share.program, "%s", err.message);
	/* No session without its record: the customer must be able to read what happened. */
	if (kf_audit_open(NULL, &share.audit, &err) != KF_OK) {
		kf_policy_free(share.policy);
		return kf_cli_fail(share.program, "%s", err.message);
	}

	share.loop = uv_default_loop();
	if ((code = load_setup(&share, profile_path)) != KF_EXIT_OK)
		goto out;
	uv_timer_init(share.loop, &share.code_timer);
	share.code_timer.data = &share;
	uv_signal_init(share.loop, &share.interrupt);
	uv_signal_init(share.loop, &share.terminate);
	share.interrupt.data = share.terminate.data = &share;
	uv_signal_start(&share.interrupt, on_signal, SIGINT);
	uv_signal_start(&share.terminate, on_signal, SIGTERM);
	/* The screen server writes to sockets that may close: never die of it. */
	signal(SIGPIPE, SIG_IGN);
	if (kf_line_reader_new(share.loop, STDIN_FILENO, &input_callbacks, &share, &share.input,
			       &err) != KF_OK) {
		code = kf_cli_fail(share.program, "%s", err.message);
		goto out;
	}
	show_policy(&share);
	/* A helper killed mid-transfer before this one leaves nothing behind for long. */
	kf_agent_streams_sweep();
	if ((code = connect_relay(&share)) != KF_EXIT_OK)
		goto out;
	uv_run(share.loop, UV_RUN_DEFAULT);
	code = share.exit_code;
out:
	forget_code(&share);
	kf_agent_session_free(share.session);
	kf_line_reader_free(share.input);
	kf_ssh_close(share.ssh);
	kf_loop_close(share.loop);
	kf_ssh_key_free(share.key);
	SSL_CTX_free(share.tls_context);
	free(share.plugin_publishers);
	kf_profile_free(share.profile);
	kf_policy_free(share.policy);
	kf_audit_close(share.audit);
	return code;
}
