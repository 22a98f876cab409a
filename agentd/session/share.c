/* kefu-agentd share: let a technician in through the relay, with a code. SPDX-License-Identifier: MIT */
#include "agentd/session/share-private.h"
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

/*
 * One line on the customer's terminal. The technician's words are in many of them
 * (chat, reasons, file names): escaped, they can neither draw on the screen nor
 * fake a line of the helper's own, such as a consent question.
 */
void kf_share_say(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	kf_terminal_vprint(stdout, format, args);
	va_end(args);
	fflush(stdout);
}

void kf_share_finish(struct share *share, int exit_code)
{
	if (share->is_done)
		return;
	share->is_done = 1;
	share->exit_code = exit_code;
	uv_stop(share->loop);
}

/* Takes session out of the attempts (it is proven, rejected or dropped). */
void kf_share_forget_attempt(struct share *share, struct kf_agent_session *session)
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
	kf_share_forget_attempt(share, session);
	kf_agent_session_free(session);
}

void kf_share_forget_code(struct share *share)
{
	OPENSSL_cleanse(&share->code, sizeof(share->code));
	share->has_code = 0;
	uv_timer_stop(&share->code_timer);
	drop_attempts(share);
}

static void on_code_expired(uv_timer_t *timer)
{
	struct share *share = timer->data;

	kf_share_forget_code(share);
	kf_share_say("The code has expired. Run 'kefu-agentd share' again when your technician is "
		     "ready.");
	kf_share_finish(share, KF_EXIT_FAILURE);
}

void kf_share_show_new_code(struct share *share)
{
	char text[32];
	struct kf_error err;

	if (kf_code_make(&share->code, share->relay_index, share->forwarded_port, &err) != KF_OK) {
		kf_share_say("Could not make a code: %s", err.message);
		kf_share_finish(share, KF_EXIT_FAILURE);
		return;
	}
	share->has_code = 1;
	share->failures = 0;
	kf_code_format(&share->code, text, sizeof(text));
	putchar('\n');
	kf_share_say("    Your code:  %s", text);
	putchar('\n');
	if (share->code_lifetime_ms >= 60000)
		kf_share_say("Read it to your technician from %s. It works once, for %u minutes.",
			     share->profile->organisation, share->code_lifetime_ms / 60000);
	else
		kf_share_say("Read it to your technician from %s. It works once, for %u seconds.",
			     share->profile->organisation, share->code_lifetime_ms / 1000);
	kf_share_say("Waiting for the technician...");
	OPENSSL_cleanse(text, sizeof(text));
	uv_timer_start(&share->code_timer, on_code_expired, share->code_lifetime_ms, 0);
}

/* ---- the relay ---- */

static void on_ssh_ready(struct kf_ssh *ssh, void *user)
{
	struct share *share = user;
	struct kf_error err;

	if (kf_ssh_listen(ssh, &err) != KF_OK) {
		kf_share_say("The relay would not take this session: %s", err.message);
		kf_share_finish(share, KF_EXIT_FAILURE);
	}
}

static void on_ssh_failed(struct kf_ssh *ssh, const struct kf_error *err, void *user)
{
	struct share *share = user;

	(void)ssh;
	kf_share_say("%s", err->message);
	kf_share_finish(share, KF_EXIT_FAILURE);
}

static void on_listening(struct kf_ssh *ssh, uint16_t port, void *user)
{
	struct share *share = user;

	(void)ssh;
	share->forwarded_port = port;
	kf_share_show_new_code(share);
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
		.contact = share->profile->contact,
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
	if (kf_agent_session_start(share->loop, channel, &config, &kf_share_session_events, share,
				   &attempt, &err) != KF_OK) {
		kf_share_say("A connection could not start: %s", err.message);
		kf_agent_session_free(attempt);
		return;
	}
	share->attempts[share->attempt_count++] = attempt;
}

static void on_signal(uv_signal_t *handle, int signum)
{
	(void)signum;
	kf_share_stop_everything(handle->data, "the customer pressed Ctrl-C");
}

/* A policy is never a surprise: the customer sees it before anyone connects. */
static void show_policy(struct share *share)
{
	const struct kf_policy *policy = share->policy;

	if (policy == NULL)
		return;
	kf_share_say("This computer follows the policy \"%s\"%s%s.", policy->name,
		     policy->description[0] ? ": " : "", policy->description);
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		enum kf_policy_rule rule = policy->rules[i];

		if (rule == KF_POLICY_ASK)
			continue;
		kf_share_say("  %s: the technician may %s.",
			     rule == KF_POLICY_ALLOW ? "Allowed without asking you"
						     : "Always refused",
			     kf_capability_plain((enum kf_capability)i));
	}
	kf_share_say("  For everything else, you are asked.");
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

	kf_share_say("Connecting to %s's relay %s...", share->profile->organisation, relay->host);
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
	struct kf_line_reader_callbacks input_callbacks = {kf_share_on_line, kf_share_on_input_eof};
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
	kf_share_forget_code(&share);
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
