/* kefu-console join: connect to a customer's computer with the code they read out. SPDX-License-Identifier: MIT */
#include "console/cases.h"
#include "console/commands.h"
#include "console/session/join-private.h"
#include "proto/base/loop.h"
#include "proto/session/stream-pending.h"
#include "proto/session/stream-token.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void join_finish(struct join *join, int exit_code)
{
	if (join->is_done)
		return;
	join->is_done = 1;
	join->exit_code = exit_code;
	uv_stop(join->loop);
}

/* The local time, with the date (is_long) or without. */
static void now_text(char *out, size_t size, int is_long)
{
	time_t now = time(NULL);
	struct tm local;

	localtime_r(&now, &local);
	strftime(out, size, is_long ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &local);
}

void join_journal(struct join *join, const char *kind, const char *format, ...)
{
	char time[16], *text = NULL;
	va_list args;

	if (join->journal == NULL)
		return;
	va_start(args, format);
	if (vasprintf(&text, format, args) < 0)
		text = NULL;
	va_end(args);
	if (text == NULL)
		return;
	now_text(time, sizeof(time), 0);
	json_array_append_new(join->journal, json_pack("{s:s, s:s, s:s}", "time", time, "kind",
						       kind, "text", text));
	free(text);
}

void join_record_case(struct join *join, const char *outcome)
{
	char ended[32];
	struct kf_error err;
	int64_t id;
	json_t *record;

	if (join->journal == NULL || join->session_id[0] == '\0' || join->is_case_recorded)
		return;
	join->is_case_recorded = 1;
	now_text(ended, sizeof(ended), 1);
	record = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:O?}", "session",
			   join->session_id, "technician", join->technician.name, "organisation",
			   join->technician.organisation, "started", join->started, "ended", ended,
			   "outcome", outcome, "advice", join->advice, "journal", join->journal,
			   "support_id", join->support_id, "history",
			   join->history ? join->history : "", "notes", join->notes);
	if (record == NULL)
		return;
	if (kf_cases_record(record, &id, &err) != KF_OK) {
		join_report(join, "error", NULL, "The case history was not updated: %s",
			    err.message);
	} else if (id == 0) {
		join_report(join, "case", NULL,
			    "The case database cannot be reached: the case is kept on this "
			    "computer and written there when it is back.");
	} else {
		json_t *fields = json_pack("{s:I}", "id", (json_int_t)id);

		join->case_number = id;
		join_report(join, "case", fields,
			    "Saved as case %lld in the case history (kefu-console "
			    "cases show %lld).",
			    (long long)id, (long long)id);
		json_decref(fields);
	}
	json_decref(record);
}

/* ---- the session's start and end ---- */

void join_on_connected(struct join *join, struct kf_console_session *session, const char *software,
		       const char *session_id)
{
	json_t *fields = json_pack("{s:s, s:s}", "software", software, "session", session_id);

	join->port = join->code.port;
	OPENSSL_cleanse(&join->code, sizeof(join->code));
	join->technician = *kf_console_session_identity(session);
	snprintf(join->session_id, sizeof(join->session_id), "%s", session_id);
	now_text(join->started, sizeof(join->started), 1);
	join->journal = json_array();
	join_journal(join, "session", "Connected to the customer's computer (%s)", software);
	join_report(join, "connected", fields,
		    "Connected to the customer's computer (%s). Type 'help' for commands.",
		    software);
	json_decref(fields);
	join_run_next_command(join);
}

void join_on_ended(struct join *join, int status, const char *reason)
{
	json_t *fields = json_pack("{s:s, s:s}", "status", kf_err_name(status), "reason", reason);

	if (status == KF_OK)
		join_report(join, "ended", fields, "The session has ended: %s", reason);
	else
		join_report(join, "ended", fields, "%s", reason);
	json_decref(fields);
	join_journal(join, "session", "Ended: %s", reason);
	/* Ending the session closes the screen's endpoints and stops a file on its way. */
	kf_view_free(join->view);
	join->view = NULL;
	kf_console_transfer_free(join->transfer);
	join->transfer = NULL;
	join_record_case(join, status == KF_OK ? "ended" : "cut-off");
	join_finish(join, status == KF_OK ? KF_EXIT_OK : KF_EXIT_FAILURE);
}

void join_end(struct join *join, const char *advice)
{
	if (advice != NULL && advice[0] != '\0') {
		snprintf(join->advice, sizeof(join->advice), "%s", advice);
		join_journal(join, "advice", "%s", advice);
	}
	/* Recorded now, so that the customer's summary carries the case number; the
	 * session's last lines after this are not in the case. */
	join_record_case(join, "ended");
	kf_console_session_set_case(join->session, join->case_number);
	kf_console_session_end(join->session, NULL, advice);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

/* ---- further streams of the session ---- */

struct side_open {
	struct join *join;
	struct kf_stream *pending;
	const char *purpose; /* "screen" or "files" */
};

static void side_tls_ready(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct side_open *open = user;
	uint8_t preamble[KF_STREAM_PREAMBLE_SIZE];
	struct kf_error failure;

	if (err != NULL) {
		kf_stream_pending_fail(open->pending, err);
		kf_stream_close(tls);
	} else if (open->join->session == NULL ||
		   kf_console_session_stream_preamble(open->join->session, open->purpose, preamble,
						      &failure) != KF_OK ||
		   kf_stream_write(tls, preamble, sizeof(preamble), &failure) != KF_OK) {
		kf_stream_pending_fail(open->pending, &failure);
		kf_stream_close(tls);
	} else {
		kf_stream_pending_connect(open->pending, tls);
	}
	free(open);
}

static void side_channel_open(struct kf_ssh *ssh, struct kf_stream *channel,
			      const struct kf_error *err, void *user)
{
	struct side_open *open = user;
	struct kf_stream *tls;
	struct kf_error failure;

	(void)ssh;
	if (channel == NULL) {
		kf_stream_pending_fail(open->pending, err);
		free(open);
		return;
	}
	if (kf_tls_stream_new(open->join->tls_context, 1, channel, side_tls_ready, open, &tls,
			      &failure) != KF_OK) {
		kf_stream_close(channel);
		kf_stream_pending_fail(open->pending, &failure);
		free(open);
	}
}

int join_open_side_stream(struct join *join, const char *purpose, struct kf_stream **out,
			  struct kf_error *err)
{
	struct side_open *open = calloc(1, sizeof(*open));
	int r;

	if (open == NULL || (open->pending = kf_stream_pending_new()) == NULL) {
		free(open);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	open->join = join;
	open->purpose = purpose;
	r = kf_ssh_open(join->ssh, "localhost", join->port, side_channel_open, open, err);
	if (r != KF_OK) {
		kf_stream_close(open->pending);
		free(open);
		return r;
	}
	*out = open->pending;
	return KF_OK;
}

/* ---- the relay ---- */

static void on_open(struct kf_ssh *ssh, struct kf_stream *stream, const struct kf_error *err,
		    void *user)
{
	struct join *join = user;
	struct kf_error failure;

	(void)ssh;
	if (stream == NULL) {
		join_report(join, "ended", NULL,
			    "No customer is waiting behind this code (%s). Check the code with the "
			    "customer.",
			    err->message);
		join_finish(join, KF_EXIT_FAILURE);
		return;
	}
	if (kf_console_session_start(join->loop, stream, join->tls_context, join->code.secret,
				     &join_session_events, join, &join->session,
				     &failure) != KF_OK ||
	    join_start_input(join, &failure) != KF_OK) {
		join_report(join, "ended", NULL, "%s", failure.message);
		join_finish(join, KF_EXIT_FAILURE);
	}
}

static void on_ssh_ready(struct kf_ssh *ssh, void *user)
{
	struct join *join = user;
	struct kf_error err;

	if (kf_ssh_open(ssh, "localhost", join->code.port, on_open, join, &err) != KF_OK) {
		join_report(join, "ended", NULL, "%s", err.message);
		join_finish(join, KF_EXIT_FAILURE);
	}
}

static void on_ssh_failed(struct kf_ssh *ssh, const struct kf_error *err, void *user)
{
	struct join *join = user;

	(void)ssh;
	join_report(join, "ended", NULL, "%s", err->message);
	join_finish(join, KF_EXIT_FAILURE);
}

static const char *default_path(char *buffer, size_t size, const char *name)
{
	const char *dir = getenv("KEFU_CONSOLE_DIR"), *home = getenv("HOME");

	if (dir != NULL)
		snprintf(buffer, size, "%s/%s", dir, name);
	else
		snprintf(buffer, size, "%s/.config/kefu/console/%s", home ? home : ".", name);
	return buffer;
}

int kf_console_cmd_join(int argc, char **argv)
{
	static const struct option options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"ssh-key", required_argument, NULL, 's'},
		{"exec", required_argument, NULL, 'e'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"join", KF_CONSOLE_JOIN_USAGE, "", NULL};
	char cert_buffer[4096], key_buffer[4096], ssh_key_buffer[4096];
	const char *profile_path = kf_profile_default_path();
	const char *cert = default_path(cert_buffer, sizeof(cert_buffer), "technician.pem");
	const char *key = default_path(key_buffer, sizeof(key_buffer), "technician.key");
	const char *ssh_key = default_path(ssh_key_buffer, sizeof(ssh_key_buffer), "relay_ed25519");
	struct join join = {.program = KF_CONSOLE_PROGRAM};
	const struct kf_profile_relay *relay;
	struct kf_ssh_options ssh_options = {0};
	struct kf_ssh_callbacks ssh_callbacks = {.on_ready = on_ssh_ready,
						 .on_failed = on_ssh_failed};
	struct kf_error err;
	int opt, code = KF_EXIT_FAILURE;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			profile_path = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 's':
			ssh_key = optarg;
			break;
		case 'e':
			join.script = strdup(optarg);
			join.script_next = join.script;
			break;
		case 'j':
			join.is_json = 1;
			break;
		default:
			return kf_cli_usage(join.program, &usage);
		}
	}
	/* The code may be typed in groups: "1234 5678 9012" as one or three arguments. */
	{
		char typed[64] = "";

		if (optind >= argc) {
			free(join.script);
			return kf_cli_usage(join.program, &usage);
		}
		for (int i = optind; i < argc; i++) {
			strncat(typed, argv[i], sizeof(typed) - strlen(typed) - 2);
			strcat(typed, " ");
		}
		if (kf_code_parse(typed, &join.code, &err) != KF_OK) {
			free(join.script);
			return kf_cli_fail(join.program, "%s", err.message);
		}
		OPENSSL_cleanse(typed, sizeof(typed));
	}

	join.loop = uv_default_loop();
	if (kf_profile_load(profile_path, &join.profile, &err) != KF_OK) {
		kf_cli_fail(join.program, "%s", err.message);
		goto out;
	}
	if (join.code.relay_index >= join.profile->relay_count) {
		kf_cli_fail(join.program,
			    "this code names relay %u, which the profile does not have",
			    join.code.relay_index);
		goto out;
	}
	join.tls_context = kf_tls_server_context(cert, key, &err);
	if (join.tls_context == NULL || kf_ssh_key_load(&join.key, ssh_key, &err) != KF_OK) {
		kf_cli_fail(join.program, "%s", err.message);
		goto out;
	}
	relay = &join.profile->relays[join.code.relay_index];
	ssh_options.host = relay->host;
	ssh_options.port = relay->port;
	ssh_options.user = relay->technician_user;
	ssh_options.key = join.key;
	ssh_options.host_keys = (const char *const *)relay->host_keys;
	ssh_options.host_key_count = relay->host_key_count;
	uv_signal_init(join.loop, &join.interrupt);
	join.interrupt.data = &join;
	uv_signal_start(&join.interrupt, join_on_interrupt, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (kf_ssh_connect(join.loop, &ssh_options, &ssh_callbacks, &join, &join.ssh, &err) !=
	    KF_OK) {
		kf_cli_fail(join.program, "%s", err.message);
		goto out;
	}
	uv_run(join.loop, UV_RUN_DEFAULT);
	code = join.exit_code;
out:
	join_stop_input(&join);
	OPENSSL_cleanse(&join.code, sizeof(join.code));
	kf_view_free(join.view);
	kf_console_transfer_free(join.transfer);
	kf_console_session_free(join.session);
	kf_line_reader_free(join.input);
	kf_ssh_close(join.ssh);
	kf_loop_close(join.loop);
	kf_ssh_key_free(join.key);
	SSL_CTX_free(join.tls_context);
	kf_profile_free(join.profile);
	free(join.script);
	free(join.report_file);
	json_decref(join.journal);
	json_decref(join.notes);
	free(join.history);
	return code;
}
