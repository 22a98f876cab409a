/* kefu-agentd share: let a technician in through the relay, with a code. SPDX-License-Identifier: MIT */
#include "agentd/commands.h"
#include "agentd/session.h"
#include "proto/code.h"
#include "proto/line-reader.h"
#include "proto/profile.h"
#include "proto/ssh-transport.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A code is good for ten minutes after it is shown, and for three wrong tries. */
#define CODE_LIFETIME_MS  (10 * 60 * 1000)
#define CODE_MAX_FAILURES 3

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
	struct kf_agent_session *attempt; /* a connection still proving the code */
	struct kf_agent_session *session; /* the technician, once proven */
	struct kf_line_reader *input;
	int exit_code;
	int is_done;
};

/* One line on the customer's terminal. */
static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	putchar('\n');
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

static void forget_code(struct share *share)
{
	OPENSSL_cleanse(&share->code, sizeof(share->code));
	share->has_code = 0;
	uv_timer_stop(&share->code_timer);
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
	share->attempt = NULL;
	share->session = session;
	forget_code(share);
	say("Connected: %s from %s is now with you.", technician->name, technician->organisation);
	say("Type a message and press Enter to chat. Type /stop to end the session at once.");
}

static void on_rejected(struct kf_agent_session *session, int is_wrong_code,
			const struct kf_error *err, void *user)
{
	struct share *share = user;

	if (share->attempt == session)
		share->attempt = NULL;
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

static void on_ended(struct kf_agent_session *session, int status, const char *reason, void *user)
{
	struct share *share = user;

	(void)session;
	if (status == KF_OK)
		say("The session has ended: %s", reason);
	else
		say("The session was cut off: %s", reason);
	finish(share, status == KF_OK ? KF_EXIT_OK : KF_EXIT_FAILURE);
}

static const struct kf_agent_session_events session_events = {
	.on_connected = on_connected,
	.on_rejected = on_rejected,
	.on_chat = on_chat,
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
	struct kf_error err;

	(void)ssh;
	/* One technician, one attempt at a time; a used or expired code admits nobody. */
	if (!share->has_code || share->attempt != NULL || share->session != NULL) {
		kf_stream_close(channel);
		return;
	}
	if (kf_agent_session_start(share->loop, channel, share->tls_context, share->code.secret,
				   &session_events, share, &share->attempt, &err) != KF_OK) {
		say("A connection could not start: %s", err.message);
		kf_agent_session_free(share->attempt);
		share->attempt = NULL;
	}
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

static void on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct share *share = user;
	struct kf_error err;

	(void)reader;
	if (strcmp(line, "/stop") == 0) {
		stop_everything(share, "the customer stopped the session");
		return;
	}
	if (line[0] == '\0')
		return;
	if (share->session == NULL) {
		say("No technician is connected yet.");
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

static void close_walk(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

int kf_agentd_cmd_share(int argc, char **argv)
{
	static const struct option options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"relay", required_argument, NULL, 'r'},
		{"code-minutes", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"share", KF_AGENTD_SHARE_USAGE, "", NULL};
	struct kf_line_reader_callbacks input_callbacks = {on_line, on_input_eof};
	struct share share = {.program = KF_AGENTD_PROGRAM, .code_lifetime_ms = CODE_LIFETIME_MS};
	const char *profile_path = kf_profile_default_path();
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
		default:
			return kf_cli_usage(share.program, &usage);
		}
	}
	if (optind != argc)
		return kf_cli_usage(share.program, &usage);

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
	signal(SIGPIPE, SIG_IGN);
	if (kf_line_reader_new(share.loop, STDIN_FILENO, &input_callbacks, &share, &share.input,
			       &err) != KF_OK) {
		code = kf_cli_fail(share.program, "%s", err.message);
		goto out;
	}
	if ((code = connect_relay(&share)) != KF_EXIT_OK)
		goto out;
	uv_run(share.loop, UV_RUN_DEFAULT);
	code = share.exit_code;
out:
	forget_code(&share);
	kf_agent_session_free(share.attempt);
	kf_agent_session_free(share.session);
	kf_line_reader_free(share.input);
	kf_ssh_close(share.ssh);
	/* Let every handle finish closing so nothing leaks at exit. */
	uv_walk(share.loop, close_walk, NULL);
	uv_run(share.loop, UV_RUN_DEFAULT);
	uv_loop_close(share.loop);
	kf_ssh_key_free(share.key);
	SSL_CTX_free(share.tls_context);
	kf_profile_free(share.profile);
	return code;
}
