/* kefu-agentd share: the customer's terminal, one front end of the session core. SPDX-License-Identifier: MIT */
#include "agentd/session/share.h"
#include "agentd/commands.h"
#include "agentd/consent.h"
#include "agentd/i18n.h"
#include "agentd/policy.h"
#include "proto/base/escape.h"
#include "proto/base/line-reader.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * A lone y or n typed this soon after a request expired answers that request,
 * too late: it is not sent to the technician as a chat line.
 */
#define LATE_ANSWER_MS (30 * 1000)

struct terminal {
	uv_loop_t *loop;
	struct share *share;
	struct kf_line_reader *input;
	uv_signal_t interrupt, terminate;
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

/* ---- what the session core tells the customer ---- */

static void show_connecting(void *user, const char *organisation, const char *relay_host)
{
	(void)user;
	say(_("Connecting to %s's relay %s..."), organisation, relay_host);
}

static void show_policy(void *user, const char *name, const char *description,
			const enum kf_policy_rule rules[KF_CAP_COUNT])
{
	(void)user;
	if (description[0] != '\0')
		say(_("This computer follows the policy \"%s\": %s."), name, description);
	else
		say(_("This computer follows the policy \"%s\"."), name);
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		if (rules[i] == KF_POLICY_ASK)
			continue;
		if (rules[i] == KF_POLICY_ALLOW)
			say(_("  Allowed without asking you: the technician may %s."),
			    _(kf_capability_plain((enum kf_capability)i)));
		else
			say(_("  Always refused: the technician may %s."),
			    _(kf_capability_plain((enum kf_capability)i)));
	}
	say("%s", _("  For everything else, you are asked."));
}

static void show_code(void *user, const char *code, unsigned lifetime_ms, const char *organisation)
{
	(void)user;
	putchar('\n');
	say(_("    Your code:  %s"), code);
	putchar('\n');
	if (lifetime_ms >= 60000)
		say(ngettext("Read it to your technician from %s. It works once, for %u minute.",
			     "Read it to your technician from %s. It works once, for %u minutes.",
			     lifetime_ms / 60000),
		    organisation, lifetime_ms / 60000);
	else
		say(ngettext("Read it to your technician from %s. It works once, for %u second.",
			     "Read it to your technician from %s. It works once, for %u seconds.",
			     lifetime_ms / 1000),
		    organisation, lifetime_ms / 1000);
	say("%s", _("Waiting for the technician..."));
}

static void show_code_expired(void *user)
{
	(void)user;
	say("%s", _("The code has expired. Run 'kefu-agentd share' again when your technician is "
		    "ready."));
}

static void show_wrong_code(void *user, int failures, int max_failures)
{
	(void)user;
	if (failures < max_failures)
		say(_("Someone tried a wrong code (%d of %d tries)."), failures, max_failures);
	else
		say("%s", _("Three wrong codes were tried: that code no longer works. Here is a "
			    "new one."));
}

static void show_notice(void *user, const char *text)
{
	(void)user;
	say("%s", text);
}

static void show_connected(void *user, const char *name, const char *organisation)
{
	struct terminal *terminal = user;

	snprintf(terminal->technician, sizeof(terminal->technician), "%s", name);
	say(_("Connected: %s from %s is now with you."), name, organisation);
	say("%s", _("Type a message and press Enter to chat. Type /stop (or press Ctrl-C) to end "
		    "everything at once, /help for more."));
}

static void show_request(void *user, enum kf_capability capability, const char *reason,
			 uint64_t deadline_ms, unsigned timeout_ms)
{
	struct terminal *terminal = user;
	unsigned seconds = timeout_ms / 1000;

	(void)deadline_ms;
	if (terminal->asked_count < KF_CAP_COUNT)
		terminal->asked[terminal->asked_count++] = capability;
	putchar('\n');
	say(_(">>> Your technician asks to %s."), _(kf_capability_plain(capability)));
	if (reason[0] != '\0')
		say(_("    Why: %s"), reason);
	if (capability == KF_CAP_FILES)
		say(ngettext("    Allow it? Type y (yes: you are asked before each file is copied "
			     "from this computer), all (yes, and copy files without asking me; "
			     "secrets are still asked) or n (no). No answer within %u s means no.",
			     "    Allow it? Type y (yes: you are asked before each file is copied "
			     "from this computer), all (yes, and copy files without asking me; "
			     "secrets are still asked) or n (no). No answer within %u s means no.",
			     seconds),
		    seconds);
	else
		say(ngettext("    Allow it? Type y (yes) or n (no) and press Enter. No answer "
			     "within "
			     "%u s means no.",
			     "    Allow it? Type y (yes) or n (no) and press Enter. No answer "
			     "within "
			     "%u s means no.",
			     seconds),
		    seconds);
}

static void forget_asked(struct terminal *terminal, enum kf_capability capability)
{
	for (int i = 0; i < terminal->asked_count; i++) {
		if (terminal->asked[i] != capability)
			continue;
		memmove(&terminal->asked[i], &terminal->asked[i + 1],
			(size_t)(terminal->asked_count - i - 1) * sizeof(terminal->asked[0]));
		terminal->asked_count--;
		return;
	}
}

static void show_settled(void *user, enum kf_capability capability, bool is_granted,
			 enum kf_consent_source source)
{
	struct terminal *terminal = user;

	(void)is_granted;
	/* A request settled elsewhere (timeout, policy) no longer waits for y/n. */
	forget_asked(terminal, capability);
	if (source != KF_CONSENT_BY_TIMEOUT)
		return;
	terminal->expired = capability;
	terminal->expired_at = uv_now(terminal->loop);
	say(_("The request for '%s' expired; nothing was allowed."),
	    kf_capability_name(capability));
}

/* A size as a person reads it: 31 KB, 4.2 MB. */
static void size_text(uint64_t size, char *out, size_t out_size)
{
	if (size < 1024)
		snprintf(out, out_size, ngettext("%llu byte", "%llu bytes", (unsigned long)size),
			 (unsigned long long)size);
	else if (size < 1024 * 1024)
		snprintf(out, out_size, _("%llu KB"), (unsigned long long)((size + 1023) / 1024));
	else
		snprintf(out, out_size, _("%.1f MB"), (double)size / (1024.0 * 1024.0));
}

static void show_fetch(void *user, uint32_t id, const char *path, const char *real_path,
		       uint64_t size, bool is_secret)
{
	struct terminal *terminal = user;
	char amount[32];

	if (terminal->fetch_count < (int)(sizeof(terminal->fetches) / sizeof(terminal->fetches[0])))
		terminal->fetches[terminal->fetch_count++] = id;
	size_text(size, amount, sizeof(amount));
	putchar('\n');
	if (real_path != NULL)
		say(_(">>> %s wants a copy of %s (%s; it leads to %s)."), terminal->technician,
		    path, amount, real_path);
	else
		say(_(">>> %s wants a copy of %s (%s)."), terminal->technician, path, amount);
	if (is_secret)
		say("%s", _("    This file holds secrets (passwords, private keys or a browser's "
			    "saved logins). To allow it, type its path exactly as shown; anything "
			    "else refuses."));
	else
		say("%s", _("    Allow? y/n"));
}

static void forget_fetch(struct terminal *terminal, int index)
{
	memmove(&terminal->fetches[index], &terminal->fetches[index + 1],
		(size_t)(terminal->fetch_count - index - 1) * sizeof(terminal->fetches[0]));
	terminal->fetch_count--;
}

static void show_chat(void *user, const char *text)
{
	(void)user;
	say(_("Technician: %s"), text);
}

static void show_status(void *user, const char *text)
{
	struct terminal *terminal = user;

	/* A file question settled elsewhere (its time ran out) no longer waits for y/n. */
	for (int i = terminal->fetch_count - 1; i >= 0; i--)
		if (!kf_share_is_asking_fetch(terminal->share, terminal->fetches[i]))
			forget_fetch(terminal, i);
	say("[%s]", text);
}

static void show_activity(void *user, const char *text)
{
	(void)user;
	say("%s", text);
}

static void show_ended(void *user, bool is_orderly, const char *reason, const char *advice,
		       const char *summary_path)
{
	(void)user;
	if (is_orderly)
		say(_("The session has ended: %s"), reason);
	else
		say(_("The session was cut off: %s"), reason);
	if (advice[0] != '\0')
		say(_("Your technician's advice: %s"), advice);
	if (summary_path != NULL)
		say(_("A summary of this session is in %s (and as a web page beside it)."),
		    summary_path);
}

static void show_failed(void *user, const char *text)
{
	(void)user;
	say("%s", text);
}

static void show_stopped(void *user, const char *why)
{
	(void)user;
	/* why is the helper's own words (the record's, in English), said here in the customer's. */
	say(_("Stopped: %s."), _(why));
}

static const struct kf_ui_ops terminal_ops = {
	.connecting = show_connecting,
	.policy = show_policy,
	.code_shown = show_code,
	.code_expired = show_code_expired,
	.wrong_code = show_wrong_code,
	.notice = show_notice,
	.technician_connected = show_connected,
	.consent_request = show_request,
	.consent_settled = show_settled,
	.fetch_request = show_fetch,
	.chat = show_chat,
	.status = show_status,
	.activity = show_activity,
	.session_ended = show_ended,
	.failed = show_failed,
	.stopped = show_stopped,
};

/* ---- the customer's keyboard ---- */

static const char customer_help[] =
	N_("  y / n           answer the technician's request (the oldest first), then a\n"
	   "                  file the technician wants a copy of (for a file holding\n"
	   "                  secrets, type its path to allow it)\n"
	   "  /revoke NAME    take back one permission (view, control, diagnose, repair,\n"
	   "                  firmware, files), or /revoke all\n"
	   "  /status         who is connected and what is allowed\n"
	   "  /stop           end everything at once (Ctrl-C does the same)\n"
	   "  anything else   a chat message to the technician");

/* The customer's line answers the oldest file waiting; the session decides what it means. */
static void answer_fetch(struct terminal *terminal, const char *line)
{
	struct kf_error err;
	bool is_allowed;
	uint32_t id = terminal->fetches[0];

	forget_fetch(terminal, 0);
	if (kf_share_answer_fetch(terminal->share, id, line, &is_allowed, &err) != KF_OK)
		say(_("That file is no longer waiting (%s)."), err.message);
	else if (is_allowed)
		say("%s", _("[allowed: the copy goes to your technician]"));
	else
		say("%s", _("[refused: nothing was copied]"));
}

static void answer(struct terminal *terminal, int is_granted)
{
	enum kf_capability capability;
	struct kf_error err;

	if (!kf_share_is_connected(terminal->share) || terminal->asked_count == 0) {
		say("%s", _("Nothing is waiting for your answer."));
		return;
	}
	capability = terminal->asked[0];
	forget_asked(terminal, capability);
	if (kf_share_answer(terminal->share, capability, is_granted, &err) != KF_OK)
		say(_("That request is no longer waiting (%s)."), err.message);
}

static void revoke_grant(struct terminal *terminal, const char *name)
{
	enum kf_capability capability;

	if (!kf_share_is_connected(terminal->share)) {
		say("%s", _("No technician is connected."));
		return;
	}
	if (strcmp(name, "all") == 0) {
		for (int i = 0; i < KF_CAP_COUNT; i++)
			kf_share_revoke(terminal->share, (enum kf_capability)i);
		return;
	}
	if (kf_capability_parse(name, &capability) != KF_OK) {
		say(_("There is no permission called '%s'."), name);
		return;
	}
	kf_share_revoke(terminal->share, capability);
}

static void on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct terminal *terminal = user;
	struct share *share = terminal->share;
	struct kf_error err;
	char granted[128];
	bool is_answer;

	(void)reader;
	if (strcmp(line, "/stop") == 0) {
		kf_share_stop_everything(share, N_("the customer stopped the session"));
		return;
	}
	if (line[0] == '\0')
		return;
	if (strcmp(line, "/help") == 0) {
		say("%s", _(customer_help));
		return;
	}
	is_answer = strcmp(line, "y") == 0 || strcmp(line, "yes") == 0 || strcmp(line, "n") == 0 ||
		    strcmp(line, "no") == 0;
	if (terminal->asked_count > 0 && strcmp(line, "all") == 0 &&
	    terminal->asked[0] == KF_CAP_FILES) {
		answer(terminal, 1);
		kf_share_set_fetch_without_asking(share, true);
		return;
	}
	if (terminal->asked_count > 0 && is_answer) {
		answer(terminal, line[0] == 'y');
		return;
	}
	if (is_answer && terminal->fetch_count == 0 && terminal->expired_at != 0 &&
	    uv_now(terminal->loop) - terminal->expired_at < LATE_ANSWER_MS) {
		say(_("Too late: the request for '%s' had already expired and nothing was allowed. "
		      "Your '%s' was not sent to the technician."),
		    kf_capability_name(terminal->expired), line);
		return;
	}
	if (strncmp(line, "/revoke ", 8) == 0) {
		revoke_grant(terminal, line + 8);
		return;
	}
	if (strcmp(line, "/status") == 0) {
		if (!kf_share_is_connected(share)) {
			say("%s", _("[waiting for the technician]"));
		} else {
			kf_share_describe(share, granted, sizeof(granted));
			say(_("[allowed: %s]"), granted);
		}
		return;
	}
	if (!kf_share_is_connected(share)) {
		say("%s", _("No technician is connected yet."));
		return;
	}
	/* y, n or a path typed back (a secret) answer the oldest file waiting. */
	if (terminal->fetch_count > 0 && (is_answer || line[0] == '/')) {
		answer_fetch(terminal, line);
		return;
	}
	if (kf_share_chat(share, line, &err) != KF_OK)
		say(_("Could not send: %s"), err.message);
}

static void on_input_eof(struct kf_line_reader *reader, void *user)
{
	(void)reader;
	(void)user;
	/* Without input the session goes on; /stop or Ctrl-C end it. */
}

static void on_signal(uv_signal_t *handle, int signum)
{
	struct terminal *terminal = handle->data;

	(void)signum;
	kf_share_stop_everything(terminal->share, N_("the customer pressed Ctrl-C"));
}

/* ---- the command ---- */

static int parse_options(int argc, char **argv, struct kf_share_options *options)
{
	static const struct option long_options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"relay", required_argument, NULL, 'r'},
		{"code-minutes", required_argument, NULL, 'm'},
		{"policy", required_argument, NULL, 'P'},
		{"consent-timeout", required_argument, NULL, 't'},
		{"plugins", required_argument, NULL, 'g'},
		{"root", required_argument, NULL, 'R'},
		{"firmware-devices", required_argument, NULL, 'F'},
		{"terminal", no_argument, NULL, 'T'},
		{"monitor", required_argument, NULL, 'M'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"share", KF_AGENTD_SHARE_USAGE, "", NULL};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			options->profile_path = optarg;
			break;
		case 'r':
			options->relay_index = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm': {
			char *end;
			double minutes = strtod(optarg, &end);

			/* Shorter codes are safer; 0.05 (three seconds) is the least. */
			if (*end != '\0' || !(minutes >= 0.05 && minutes <= 10))
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--code-minutes takes 0.05 to 10 (minutes)");
			options->code_lifetime_ms = (unsigned)(minutes * 60000);
			break;
		}
		case 'P':
			options->policy_path = optarg;
			break;
		case 't': {
			char *end;
			unsigned long seconds = strtoul(optarg, &end, 10);

			if (*end != '\0' || seconds < 1 || seconds > 600)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--consent-timeout takes 1 to 600 (seconds)");
			options->consent_timeout_ms = (unsigned)seconds * 1000;
			break;
		}
		case 'g':
			if (options->n_plugin_folders == KF_PLUGIN_PLACES_MAX)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "at most %d --plugins folders",
						   KF_PLUGIN_PLACES_MAX);
			options->plugin_folders[options->n_plugin_folders++] = optarg;
			break;
		case 'R':
			options->root = optarg;
			break;
		case 'F':
			options->firmware_devices = optarg;
			break;
		case 'M': {
			char *end;
			long monitor = strtol(optarg, &end, 10);

			if (*end != '\0' || optarg[0] == '\0' || monitor < 0 || monitor > 15)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--monitor takes a monitor's number, 0 to 15");
			options->is_one_monitor = true;
			options->monitor = (int)monitor;
			break;
		}
		case 'T':
			/* The terminal is this command's only front end; the window is kefu-helper.
			 */
			break;
		default:
			return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
		}
	}
	if (optind != argc)
		return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
	return KF_EXIT_OK;
}

int kf_agent_cmd_share(int argc, char **argv)
{
	struct kf_line_reader_callbacks input_callbacks = {on_line, on_input_eof};
	struct kf_share_options options = {0};
	struct terminal terminal = {0};
	struct kf_error err;
	int code;

	kf_i18n_init();
	if ((code = parse_options(argc, argv, &options)) != KF_EXIT_OK)
		return code;
	terminal.loop = uv_default_loop();
	if ((code = kf_share_new(terminal.loop, KF_AGENTD_PROGRAM, &options, &terminal_ops,
				 &terminal, &terminal.share)) != KF_EXIT_OK)
		return code;
	uv_signal_init(terminal.loop, &terminal.interrupt);
	uv_signal_init(terminal.loop, &terminal.terminate);
	terminal.interrupt.data = terminal.terminate.data = &terminal;
	uv_signal_start(&terminal.interrupt, on_signal, SIGINT);
	uv_signal_start(&terminal.terminate, on_signal, SIGTERM);
	if (kf_line_reader_new(terminal.loop, STDIN_FILENO, &input_callbacks, &terminal,
			       &terminal.input, &err) != KF_OK) {
		code = kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
		goto out;
	}
	if ((code = kf_share_start(terminal.share)) != KF_EXIT_OK)
		goto out;
	uv_run(terminal.loop, UV_RUN_DEFAULT);
	code = kf_share_exit_code(terminal.share);
out:
	kf_line_reader_free(terminal.input);
	kf_share_free(terminal.share);
	return code;
}
