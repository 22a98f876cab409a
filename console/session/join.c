/* kefu-console join: connect to a customer's computer with the code they read out. SPDX-License-Identifier: MIT */
#include "console/cases.h"
#include "console/commands.h"
#include "console/session/session.h"
#include "console/session/transfer.h"
#include "console/screen/view.h"
#include "proto/base/buffer.h"
#include "proto/session/code.h"
#include "proto/base/line-reader.h"
#include "proto/base/loop.h"
#include "proto/session/profile.h"
#include "proto/session/ssh-transport.h"
#include "proto/session/stream-pending.h"
#include "proto/session/stream-token.h"

#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

struct join {
	uv_loop_t *loop;
	const char *program;
	struct kf_profile *profile;
	struct kf_code code;
	SSL_CTX *tls_context;
	struct kf_ssh_key *key;
	struct kf_ssh *ssh;
	struct kf_console_session *session;
	struct kf_line_reader *input;
	uv_poll_t terminal; /* stdin when it is a terminal: line editing with libedit */
	struct kf_tls_identity technician;
	uint16_t port; /* the customer's forward on the relay, for further streams */
	struct kf_view *view;
	struct kf_console_transfer *transfer; /* one file at a time */
	int is_terminal;
	uv_signal_t interrupt;
	int is_json;
	/* --exec: the commands left to run, one at a time. */
	char *script;
	char *script_next;
	int is_waiting;         /* a command of the script waits for its answer */
	uint32_t waiting_for;   /* the id of the request it waits for */
	int is_awaiting_advice; /* the next typed line is the closing advice */
	/* The diagnostics report arriving in parts. */
	uint32_t report_id;
	char *report_file;
	/* The case history's record of this session. */
	json_t *journal;
	char session_id[64];
	char started[32];
	char advice[1024];
	int exit_code;
	int is_done;
};

static void run_next_command(struct join *join);

/* An event for the technician: a readable line, or a JSON object with --json. */
static void report(struct join *join, const char *event, json_t *fields, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct join *join, const char *event, json_t *fields, const char *format, ...)
{
	va_list args;

	if (join->is_json) {
		json_t *object = fields != NULL ? json_deep_copy(fields) : json_object();
		char *text, line[2048];

		json_object_set_new(object, "event", json_string(event));
		/* Every event says itself in words too, unless its fields already do. */
		if (json_object_get(object, "message") == NULL) {
			va_start(args, format);
			vsnprintf(line, sizeof(line), format, args);
			va_end(args);
			json_object_set_new(object, "message", json_string(line));
		}
		text = json_dumps(object, JSON_COMPACT | JSON_SORT_KEYS);
		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(object);
	} else {
		if (join->is_terminal)
			printf("\r\033[K");
		va_start(args, format);
		vprintf(format, args);
		va_end(args);
		putchar('\n');
		if (join->is_terminal && !join->is_done)
			rl_forced_update_display();
	}
	fflush(stdout);
}

static void finish(struct join *join, int exit_code)
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

/* One line of the case history's journal. */
static void journal(struct join *join, const char *kind, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void journal(struct join *join, const char *kind, const char *format, ...)
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

/* Keeps the finished session in the case history. */
static void record_case(struct join *join, const char *outcome)
{
	char path[4096], ended[32];
	struct kf_error err;
	int64_t id;
	json_t *record;

	if (join->journal == NULL || join->session_id[0] == '\0')
		return;
	now_text(ended, sizeof(ended), 1);
	record = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "session", join->session_id,
			   "technician", join->technician.name, "organisation",
			   join->technician.organisation, "started", join->started, "ended", ended,
			   "outcome", outcome, "advice", join->advice, "journal", join->journal);
	if (record == NULL)
		return;
	kf_cases_default_path(path, sizeof(path));
	if (kf_cases_record(path, record, &id, &err) != KF_OK) {
		report(join, "error", NULL, "The case history was not updated: %s", err.message);
	} else {
		json_t *fields = json_pack("{s:I}", "id", (json_int_t)id);

		report(join, "case", fields,
		       "Saved as case %lld in the case history (kefu-console "
		       "cases show %lld).",
		       (long long)id, (long long)id);
		json_decref(fields);
	}
	json_decref(record);
}

/* ---- session events ---- */

static void on_connected(struct kf_console_session *session, const char *software,
			 const char *session_id, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:s, s:s}", "software", software, "session", session_id);

	join->port = join->code.port;
	OPENSSL_cleanse(&join->code, sizeof(join->code));
	join->technician = *kf_console_session_identity(session);
	snprintf(join->session_id, sizeof(join->session_id), "%s", session_id);
	now_text(join->started, sizeof(join->started), 1);
	join->journal = json_array();
	journal(join, "session", "Connected to the customer's computer (%s)", software);
	report(join, "connected", fields,
	       "Connected to the customer's computer (%s). Type 'help' for commands.", software);
	json_decref(fields);
	run_next_command(join);
}

static void on_chat(struct kf_console_session *session, const char *text, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:s, s:s}", "from", "customer", "text", text);

	(void)session;
	journal(join, "chat", "Customer: %s", text);
	report(join, "chat", fields, "Customer: %s", text);
	json_decref(fields);
}

static void on_pong(struct kf_console_session *session, double milliseconds, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:f}", "milliseconds", milliseconds);

	(void)session;
	report(join, "pong", fields, "Round trip to the customer: %.1f ms", milliseconds);
	json_decref(fields);
	if (join->is_waiting) {
		join->is_waiting = 0;
		run_next_command(join);
	}
}

static void on_ended(struct kf_console_session *session, int status, const char *reason, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:s, s:s}", "status", kf_err_name(status), "reason", reason);

	(void)session;
	if (status == KF_OK)
		report(join, "ended", fields, "The session has ended: %s", reason);
	else
		report(join, "ended", fields, "%s", reason);
	json_decref(fields);
	journal(join, "session", "Ended: %s", reason);
	/* Ending the session closes the screen's endpoints and stops a file on its way. */
	kf_view_free(join->view);
	join->view = NULL;
	kf_console_transfer_free(join->transfer);
	join->transfer = NULL;
	record_case(join, status == KF_OK ? "ended" : "cut-off");
	finish(join, status == KF_OK ? KF_EXIT_OK : KF_EXIT_FAILURE);
}

static void on_message(struct kf_console_session *session, const struct kf_msg *msg, void *user);

static const struct kf_console_session_events session_events = {
	.on_connected = on_connected,
	.on_message = on_message,
	.on_chat = on_chat,
	.on_pong = on_pong,
	.on_ended = on_ended,
};

/* ---- commands ---- */

static const char help_text[] =
	"Commands:\n"
	"  chat TEXT              send a message to the customer\n"
	"  request CAP [REASON]   ask the customer for a permission: view, control, diagnose,\n"
	"                         repair, firmware or files (with the reason they will read)\n"
	"  release CAP            give a permission back\n"
	"  view [--web] [--no-viewer]  the customer's screen (needs view) on a local port for\n"
	"                         any VNC viewer, or in a browser; 'view stop' closes it\n"
	"  report [FILE]          the customer's diagnostics report (needs diagnose); saved to\n"
	"                         FILE, or summed up here\n"
	"  plugins                the plugins that apply to the customer's computer, and what\n"
	"                         the customer's own last scan found (needs diagnose)\n"
	"  run ID                 run a plugin's checks (needs diagnose)\n"
	"  repair ID              check, repair and verify with a plugin (needs repair)\n"
	"  send FILE              send a file to the customer's computer (needs files); it is\n"
	"                         saved in their Downloads/kefu folder, never over another\n"
	"  fetch PATH [FOLDER]    copy a file from the customer's computer (needs files) into\n"
	"                         FOLDER (default: the current folder)\n"
	"  firmware list          the devices whose firmware kefu can update (needs firmware)\n"
	"  firmware check FILE    send an update (LVFS .cab or kefu package) and check it\n"
	"  firmware apply FILE [--reinstall] [--downgrade] [--device ID]\n"
	"                         send an update and install it (needs firmware), with progress\n"
	"  ping                   measure the round trip to the customer's computer\n"
	"  end [ADVICE]           end the session, leaving closing advice in the customer's\n"
	"                         summary (asked for when not given)\n"
	"  help                   this list";

static void wait_for(struct join *join, uint32_t id)
{
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = id;
	}
}

static void answered(struct join *join, uint32_t re)
{
	if (join->is_waiting && join->waiting_for != 0 && join->waiting_for == re) {
		join->is_waiting = 0;
		join->waiting_for = 0;
		run_next_command(join);
	}
}

static void end_session(struct join *join, const char *advice)
{
	if (advice != NULL && advice[0] != '\0') {
		snprintf(join->advice, sizeof(join->advice), "%s", advice);
		journal(join, "advice", "%s", advice);
	}
	kf_console_session_end(join->session, "the technician ended the session", advice);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

static void request_capability(struct join *join, char *rest)
{
	char *capability = rest, *reason;
	struct kf_error err;
	json_t *body;
	uint32_t id;

	reason = capability + strcspn(capability, " \t");
	if (*reason != '\0')
		*reason++ = '\0';
	if (*capability == '\0') {
		report(join, "error", NULL,
		       "Which permission? request view|control|diagnose|"
		       "repair|firmware|files [REASON]");
		return;
	}
	body = json_pack("{s:s, s:s}", "capability", capability, "reason", reason);
	if (kf_console_session_send(join->session, "consent.request", body, &id, &err) != KF_OK)
		report(join, "error", NULL, "Could not ask: %s", err.message);
	else {
		json_t *fields = json_pack("{s:s}", "capability", capability);

		report(join, "asked", fields,
		       "Asked the customer for '%s'; waiting for the answer.", capability);
		json_decref(fields);
		wait_for(join, id);
	}
	json_decref(body);
}

static void request_report(struct join *join, const char *file)
{
	struct kf_error err;
	uint32_t id;

	free(join->report_file);
	join->report_file = *file != '\0' ? strdup(file) : NULL;
	if (kf_console_session_send(join->session, "diag.request", NULL, &id, &err) != KF_OK) {
		report(join, "error", NULL, "Could not ask for the report: %s", err.message);
		return;
	}
	join->report_id = id;
	wait_for(join, id);
}

/* ---- the vendor's plugins on the customer's computer ---- */

static void request_plugins(struct join *join, const char *type, const char *id)
{
	json_t *body = NULL;
	struct kf_error err;
	uint32_t sent;

	if (strcmp(type, "plugins.request") != 0) {
		if (*id == '\0' || strchr(id, ' ') != NULL) {
			report(join, "error", NULL, "Name one plugin: %s ID (see 'plugins')",
			       strcmp(type, "plugin.run") == 0 ? "run" : "repair");
			return;
		}
		body = json_pack("{s:s}", "plugin", id);
	}
	if (kf_console_session_send(join->session, type, body, &sent, &err) != KF_OK)
		report(join, "error", NULL, "Could not ask: %s", err.message);
	else
		wait_for(join, sent);
	json_decref(body);
}

static void plugins_listed(struct join *join, const struct kf_msg *msg)
{
	json_t *plugins = json_object_get(msg->body, "plugins");
	json_t *tried = json_object_get(msg->body, "tried");
	json_t *plugin, *check;
	size_t i, j;

	report(join, "plugins", msg->body, "%zu plugin%s apply%s", json_array_size(plugins),
	       json_array_size(plugins) == 1 ? "" : "s", json_array_size(plugins) ? ":" : ".");
	if (join->is_json)
		return;
	json_array_foreach(plugins, i, plugin)
	{
		const char *publisher = json_string_value(json_object_get(plugin, "publisher"));
		const char *title = json_string_value(json_object_get(plugin, "title"));

		printf("  %s %s (%s): %s\n", json_string_value(json_object_get(plugin, "id")),
		       json_string_value(json_object_get(plugin, "version")),
		       publisher ? publisher : "no publisher named", title ? title : "");
		json_array_foreach(json_object_get(plugin, "checks"), j, check) printf(
			"    - %s%s\n", json_string_value(json_object_get(check, "title")) ?: "",
			json_is_true(json_object_get(check, "repairable")) ? " (can repair)" : "");
	}
	json_array_foreach(json_object_get(msg->body, "skipped"), j, check)
		printf("  Not run: %s\n", json_string_value(json_object_get(check, "note")) ?: "?");
	if (json_is_object(tried)) {
		printf("The customer's own last scan (%s%s):\n",
		       json_string_value(json_object_get(tried, "when")) ?: "?",
		       json_is_true(json_object_get(tried, "fix")) ? ", with fixes" : "");
		json_array_foreach(json_object_get(tried, "checks"), j, check) printf(
			"    %s: %s\n", json_string_value(json_object_get(check, "state")) ?: "?",
			json_string_value(json_object_get(check, "title")) ?: "?");
	} else {
		printf("The customer has not run a scan of their own.\n");
	}
}

static void plugin_result(struct join *join, const struct kf_msg *msg)
{
	const char *id = json_string_value(json_object_get(msg->body, "plugin"));
	const char *mode = json_string_value(json_object_get(msg->body, "mode"));
	json_t *checks = json_object_get(msg->body, "checks"), *check, *step;
	size_t i, j;

	report(join, "plugin-result", msg->body, "%s %s%s:", id ? id : "?",
	       mode && strcmp(mode, "repair") == 0 ? "repair" : "check",
	       json_is_true(json_object_get(msg->body, "stopped")) ? " (stopped by the customer)"
								   : "");
	json_array_foreach(checks, i, check)
	{
		const char *state = json_string_value(json_object_get(check, "state"));
		const char *title = json_string_value(json_object_get(check, "title"));

		journal(join, mode && strcmp(mode, "repair") == 0 ? "action" : "finding",
			"%s: %s (%s)", id ? id : "?", title ? title : "?", state ? state : "?");
		if (join->is_json)
			continue;
		printf("  %s: %s\n", state ? state : "?", title ? title : "?");
		json_array_foreach(json_object_get(check, "steps"), j, step)
		{
			json_t *finding = json_object_get(step, "finding");

			if (finding != NULL)
				printf("    %s: %s\n",
				       json_string_value(json_object_get(step, "step")) ?: "?",
				       json_string_value(json_object_get(finding, "summary"))
					       ?: "?");
		}
	}
}

/* ---- firmware updates on the customer's computer ---- */

static void resume_script(struct join *join);
static int open_side_stream(struct join *join, const char *purpose, struct kf_stream **out,
			    struct kf_error *err);

static void firmware_uploaded(struct kf_console_transfer *transfer, int status, json_t *fields,
			      void *user)
{
	struct join *join = user;
	const char *error = json_string_value(json_object_get(fields, "error"));

	(void)transfer;
	if (status != KF_OK)
		report(join, "error", fields,
		       "The update did not reach the customer's computer: %s", error ? error : "?");
	else
		report(join, "firmware-uploaded", fields,
		       "The update arrived (SHA-256 %s); the customer's computer checks it now.",
		       json_string_value(json_object_get(fields, "sha256")));
	kf_console_transfer_free(join->transfer);
	join->transfer = NULL;
	/* The script goes on when the result comes, or now if the upload failed. */
	if (status != KF_OK)
		resume_script(join);
}

static void run_firmware(struct join *join, char *rest)
{
	char *word = rest, *file, *flag;
	struct kf_stream *stream;
	struct kf_error err;
	json_t *options;
	uint32_t id;

	file = word + strcspn(word, " \t");
	if (*file != '\0')
		*file++ = '\0';
	if (strcmp(word, "list") == 0) {
		if (kf_console_session_send(join->session, "firmware.list", NULL, &id, &err) !=
		    KF_OK)
			report(join, "error", NULL, "Could not ask: %s", err.message);
		else
			wait_for(join, id);
		return;
	}
	if (strcmp(word, "check") != 0 && strcmp(word, "apply") != 0) {
		report(join, "error", NULL,
		       "Usage: firmware list | check FILE | apply FILE [--reinstall] [--downgrade] "
		       "[--device ID]");
		return;
	}
	options = json_pack("{s:b}", "check", strcmp(word, "check") == 0);
	file += strspn(file, " \t");
	flag = file + strcspn(file, " \t");
	while (*flag != '\0') {
		*flag++ = '\0';
		flag += strspn(flag, " \t");
		if (strncmp(flag, "--reinstall", 11) == 0)
			json_object_set_new(options, "reinstall", json_true());
		else if (strncmp(flag, "--downgrade", 11) == 0)
			json_object_set_new(options, "downgrade", json_true());
		else if (strncmp(flag, "--device ", 9) == 0) {
			char *id_text = flag + 9, *end = id_text + strcspn(id_text, " \t");
			char saved = *end;

			*end = '\0';
			json_object_set_new(options, "device", json_string(id_text));
			*end = saved;
			flag = end;
			continue;
		} else if (*flag != '\0') {
			report(join, "error", NULL, "Unknown firmware option '%s'", flag);
			json_decref(options);
			return;
		}
		flag += strcspn(flag, " \t");
	}
	if (*file == '\0' || join->transfer != NULL) {
		report(join, "error", NULL,
		       *file == '\0' ? "Name the update file (.cab or kefu package)"
				     : "A file is on its way already; wait for it.");
		json_decref(options);
		return;
	}
	if (open_side_stream(join, "firmware", &stream, &err) != KF_OK ||
	    kf_console_transfer_send(stream, file, options, firmware_uploaded, join,
				     &join->transfer, &err) != KF_OK) {
		report(join, "error", NULL, "%s", err.message);
		json_decref(options);
		return;
	}
	json_decref(options);
	report(join, "firmware-started", NULL,
	       "Sending %s to the customer's computer (needs 'firmware')...", file);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

static void firmware_message(struct join *join, const struct kf_msg *msg)
{
	if (strcmp(msg->type, "firmware.devices") == 0) {
		json_t *line;
		size_t i;

		report(join, "firmware-devices", msg->body, "Firmware on the customer's computer:");
		if (!join->is_json)
			json_array_foreach(json_object_get(msg->body, "lines"), i, line)
				printf("  %s\n", json_string_value(line));
		answered(join, msg->re);
	} else if (strcmp(msg->type, "firmware.progress") == 0) {
		json_t *progress = json_object_get(msg->body, "progress");
		const char *line = json_string_value(json_object_get(msg->body, "line"));

		if (json_is_object(progress) && json_object_get(progress, "percent") != NULL)
			report(join, "firmware-progress", msg->body,
			       "  %s %3" JSON_INTEGER_FORMAT "%%",
			       json_string_value(json_object_get(progress, "phase")),
			       json_integer_value(json_object_get(progress, "percent")));
		else if (json_is_object(progress))
			report(join, "firmware-progress", msg->body, "  %s...",
			       json_string_value(json_object_get(progress, "phase")));
		else
			report(join, "firmware-progress", msg->body, "  %s", line ? line : "");
	} else if (strcmp(msg->type, "firmware.result") == 0) {
		int ok = json_is_true(json_object_get(msg->body, "ok"));

		journal(join, "action", "Firmware %s: %s",
			json_string_value(json_object_get(msg->body, "name")),
			ok ? "done" : "not done");
		report(join, "firmware-result", msg->body, "Firmware %s: %s",
		       json_string_value(json_object_get(msg->body, "name")),
		       ok ? "done" : "not done (see the lines above)");
		resume_script(join);
	}
}

/* ---- the customer's screen, on a loopback port ---- */

struct screen_open {
	struct join *join;
	struct kf_stream *pending;
	const char *purpose; /* "screen" or "files" */
};

static void screen_tls_ready(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct screen_open *open = user;
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

static void screen_channel_open(struct kf_ssh *ssh, struct kf_stream *channel,
				const struct kf_error *err, void *user)
{
	struct screen_open *open = user;
	struct kf_stream *tls;
	struct kf_error failure;

	(void)ssh;
	if (channel == NULL) {
		kf_stream_pending_fail(open->pending, err);
		free(open);
		return;
	}
	if (kf_tls_stream_new(open->join->tls_context, 1, channel, screen_tls_ready, open, &tls,
			      &failure) != KF_OK) {
		kf_stream_close(channel);
		kf_stream_pending_fail(open->pending, &failure);
		free(open);
	}
}

/* A further stream of the session (a new channel, its own TLS, the session's token). */
static int open_side_stream(struct join *join, const char *purpose, struct kf_stream **out,
			    struct kf_error *err)
{
	struct screen_open *open = calloc(1, sizeof(*open));
	int r;

	if (open == NULL || (open->pending = kf_stream_pending_new()) == NULL) {
		free(open);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	open->join = join;
	open->purpose = purpose;
	r = kf_ssh_open(join->ssh, "localhost", join->port, screen_channel_open, open, err);
	if (r != KF_OK) {
		kf_stream_close(open->pending);
		free(open);
		return r;
	}
	*out = open->pending;
	return KF_OK;
}

/* The view asks for a new stream to the customer's screen. */
static int open_screen_stream(void *user, struct kf_stream **out, struct kf_error *err)
{
	return open_side_stream(user, "screen", out, err);
}

/* ---- files to and from the customer's computer ---- */

static void resume_script(struct join *join)
{
	if (join->is_waiting && join->waiting_for == 0) {
		join->is_waiting = 0;
		run_next_command(join);
	}
}

static void transfer_done(struct kf_console_transfer *transfer, int status, json_t *fields,
			  void *user)
{
	struct join *join = user;
	const char *error = json_string_value(json_object_get(fields, "error"));
	const char *saved = json_string_value(json_object_get(fields, "saved"));

	(void)transfer;
	if (status != KF_OK) {
		report(join, "error", fields, "The file transfer failed: %s", error ? error : "?");
	} else {
		report(join, "file", fields,
		       "Done: %s (%" JSON_INTEGER_FORMAT " bytes, SHA-256 %s)", saved ? saved : "?",
		       json_integer_value(json_object_get(fields, "size")),
		       json_string_value(json_object_get(fields, "sha256")));
		journal(join, "action", "File %s (%" JSON_INTEGER_FORMAT " bytes)",
			saved ? saved : "?", json_integer_value(json_object_get(fields, "size")));
	}
	kf_console_transfer_free(join->transfer);
	join->transfer = NULL;
	resume_script(join);
}

static void start_transfer(struct join *join, int is_fetch, char *rest)
{
	char *local = rest + strcspn(rest, " \t"), cwd[PATH_MAX];
	const char *folder = local;
	struct kf_stream *stream;
	struct kf_error err;
	int r;

	if (*local != '\0')
		*local++ = '\0';
	while (*local == ' ' || *local == '\t')
		local++;
	if (*rest == '\0') {
		report(join, "error", NULL,
		       is_fetch ? "Usage: fetch PATH [LOCAL-FOLDER]" : "Usage: send FILE");
		return;
	}
	if (join->transfer != NULL) {
		report(join, "error", NULL, "A file is on its way already; wait for it.");
		return;
	}
	folder = local;
	if (is_fetch && *local == '\0')
		folder = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	if (open_side_stream(join, "files", &stream, &err) != KF_OK) {
		report(join, "error", NULL, "Could not open a stream for the file: %s",
		       err.message);
		return;
	}
	r = is_fetch ? kf_console_transfer_fetch(stream, rest, folder, transfer_done, join,
						 &join->transfer, &err)
		     : kf_console_transfer_send(stream, rest, NULL, transfer_done, join,
						&join->transfer, &err);
	if (r != KF_OK) {
		report(join, "error", NULL, "%s", err.message);
		return;
	}
	report(join, "file-started", NULL, "%s %s (needs 'files')...",
	       is_fetch ? "Fetching" : "Sending", rest);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

static void view_event(const char *line, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:s}", "detail", line);

	report(join, "view-event", fields, "Screen: %s", line);
	json_decref(fields);
}

static void start_view(struct join *join, const char *options_text)
{
	struct kf_view_options options = {
		.open_stream = open_screen_stream,
		.user = join,
		.is_viewer_started = strstr(options_text, "--no-viewer") == NULL,
		.is_web = strstr(options_text, "--web") != NULL,
		.on_event = view_event,
	};
	struct kf_error err;
	json_t *fields;

	if (strcmp(options_text, "stop") == 0) {
		kf_view_free(join->view);
		join->view = NULL;
		report(join, "view-stopped", NULL, "The screen view is closed.");
		return;
	}
	if (join->view != NULL) {
		report(join, "error", NULL, "The screen is already at %s",
		       kf_view_address(join->view));
		return;
	}
	if (kf_view_new(join->loop, &options, &join->view, &err) != KF_OK) {
		report(join, "error", NULL, "Could not show the screen: %s", err.message);
		return;
	}
	fields = json_pack("{s:s, s:s, s:s, s:s?}", "address", kf_view_address(join->view),
			   "password", kf_view_password(join->view), "password_file",
			   kf_view_password_file(join->view), "url", kf_view_url(join->view));
	report(join, "view", fields,
	       "The customer's screen (needs 'view') is at %s, password %s (file %s)%s%s",
	       kf_view_address(join->view), kf_view_password(join->view),
	       kf_view_password_file(join->view), kf_view_url(join->view) ? "; browser: " : "",
	       kf_view_url(join->view) ? kf_view_url(join->view) : "");
	json_decref(fields);
}

static void run_command(struct join *join, char *line)
{
	struct kf_error err;
	char *word = line, *rest;

	if (join->is_awaiting_advice) {
		join->is_awaiting_advice = 0;
		end_session(join, line);
		return;
	}
	while (*word == ' ' || *word == '\t')
		word++;
	if (*word == '\0')
		return;
	rest = word + strcspn(word, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	while (*rest == ' ' || *rest == '\t')
		rest++;

	if (strcmp(word, "help") == 0) {
		report(join, "help", NULL, "%s", help_text);
	} else if (strcmp(word, "chat") == 0 || strcmp(word, "say") == 0) {
		if (kf_console_session_chat(join->session, rest, &err) != KF_OK)
			report(join, "error", NULL, "Could not send: %s", err.message);
		else
			journal(join, "chat", "Technician: %s", rest);
	} else if (strcmp(word, "request") == 0) {
		request_capability(join, rest);
	} else if (strcmp(word, "release") == 0) {
		json_t *body = json_pack("{s:s}", "capability", rest);

		if (kf_console_session_send(join->session, "consent.release", body, NULL, &err) !=
		    KF_OK)
			report(join, "error", NULL, "Could not release: %s", err.message);
		json_decref(body);
	} else if (strcmp(word, "report") == 0) {
		request_report(join, rest);
	} else if (strcmp(word, "send") == 0) {
		start_transfer(join, 0, rest);
	} else if (strcmp(word, "fetch") == 0) {
		start_transfer(join, 1, rest);
	} else if (strcmp(word, "firmware") == 0) {
		run_firmware(join, rest);
	} else if (strcmp(word, "plugins") == 0) {
		request_plugins(join, "plugins.request", rest);
	} else if (strcmp(word, "run") == 0) {
		request_plugins(join, "plugin.run", rest);
	} else if (strcmp(word, "repair") == 0) {
		request_plugins(join, "plugin.repair", rest);
	} else if (strcmp(word, "view") == 0) {
		start_view(join, rest);
	} else if (strcmp(word, "ping") == 0) {
		if (kf_console_session_ping(join->session, &err) != KF_OK)
			report(join, "error", NULL, "Could not ping: %s", err.message);
		else if (join->script != NULL) {
			join->is_waiting = 1;
			join->waiting_for = 0;
		}
	} else if (strcmp(word, "end") == 0 || strcmp(word, "quit") == 0) {
		if (*rest == '\0' && join->script == NULL && !join->is_json) {
			/* The customer keeps a summary: ask for the advice that ends it. */
			report(join, "advice", NULL,
			       "Closing advice for the customer (one line; Enter for none):");
			join->is_awaiting_advice = 1;
			return;
		}
		end_session(join, rest);
	} else {
		report(join, "error", NULL, "Unknown command '%s'. Type 'help' for the list.",
		       word);
	}
}

/* Sums up a report for the technician, or saves it whole. */
static void report_arrived(struct join *join, json_t *root)
{
	json_t *problems, *devices;

	if (!json_is_object(root)) {
		report(join, "error", NULL, "The report arrived without its content");
		return;
	}
	problems = json_object_get(root, "problems");
	devices = json_object_get(root, "devices");
	if (join->report_file != NULL) {
		if (json_dump_file(root, join->report_file, JSON_INDENT(2)) != 0)
			report(join, "error", NULL, "Could not write %s", join->report_file);
	}
	{
		json_t *fields =
			json_pack("{s:I, s:I, s:s?}", "devices",
				  (json_int_t)json_array_size(devices), "problems",
				  (json_int_t)json_array_size(problems), "file", join->report_file);

		journal(join, "finding", "Diagnostics report: %zu devices, %zu problems",
			json_array_size(devices), json_array_size(problems));
		report(join, "report", fields, "Report: %zu devices, %zu problems%s%s",
		       json_array_size(devices), json_array_size(problems),
		       join->report_file ? ", saved to " : "",
		       join->report_file ? join->report_file : "");
		json_decref(fields);
	}
	for (size_t i = 0; i < json_array_size(problems); i++) {
		const char *summary =
			json_string_value(json_object_get(json_array_get(problems, i), "summary"));

		if (summary != NULL)
			journal(join, "finding", "Problem: %s", summary);
		if (summary != NULL && !join->is_json)
			report(join, "problem", NULL, "  problem: %s", summary);
	}
}

static void on_message(struct kf_console_session *session, const struct kf_msg *msg, void *user)
{
	struct join *join = user;
	json_t *fields;

	(void)session;
	if (strcmp(msg->type, "consent.answer") == 0) {
		const char *capability =
			json_string_value(json_object_get(msg->body, "capability"));
		const char *by = json_string_value(json_object_get(msg->body, "by"));
		int granted = json_is_true(json_object_get(msg->body, "granted"));

		fields = json_pack("{s:s?, s:b, s:s?}", "capability", capability, "granted",
				   granted, "by", by);
		journal(join, "access", "'%s' %s (%s)", capability ? capability : "?",
			granted ? "allowed" : "refused", by ? by : "?");
		report(join, "consent", fields, "The customer %s '%s' (%s).",
		       granted ? "allowed" : "refused", capability ? capability : "?",
		       by ? by : "?");
		json_decref(fields);
		answered(join, msg->re);
	} else if (strcmp(msg->type, "consent.revoked") == 0) {
		const char *capability =
			json_string_value(json_object_get(msg->body, "capability"));

		fields = json_pack("{s:s?}", "capability", capability);
		journal(join, "access", "'%s' taken back", capability ? capability : "?");
		report(join, "revoked", fields, "The customer took back '%s'.",
		       capability ? capability : "?");
		json_decref(fields);
	} else if (strcmp(msg->type, "diag.report") == 0 && msg->re == join->report_id) {
		report_arrived(join, json_object_get(msg->body, "report"));
		join->report_id = 0;
		answered(join, msg->re);
	} else if (strncmp(msg->type, "firmware.", 9) == 0) {
		firmware_message(join, msg);
	} else if (strcmp(msg->type, "plugins.list") == 0) {
		plugins_listed(join, msg);
		answered(join, msg->re);
	} else if (strcmp(msg->type, "plugin.started") == 0) {
		report(join, "plugin-started", msg->body,
		       "Running %s on the customer's computer...",
		       json_string_value(json_object_get(msg->body, "plugin")));
	} else if (strcmp(msg->type, "plugin.result") == 0) {
		plugin_result(join, msg);
		answered(join, msg->re);
	} else if (strcmp(msg->type, "error") == 0) {
		const char *code = json_string_value(json_object_get(msg->body, "code"));
		const char *text = json_string_value(json_object_get(msg->body, "message"));

		fields = json_pack("{s:s?, s:s?}", "code", code, "message", text);
		report(join, "error", fields, "Refused: %s", text ? text : "?");
		json_decref(fields);
		answered(join, msg->re);
	}
}

/* Runs --exec commands until one has to wait for an answer. */
static void run_next_command(struct join *join)
{
	while (join->script_next != NULL && !join->is_waiting && !join->is_done) {
		char *command = join->script_next;
		char *end = strchr(command, ';');

		if (end != NULL) {
			*end = '\0';
			join->script_next = end + 1;
		} else {
			join->script_next = NULL;
		}
		run_command(join, command);
	}
	if (join->script != NULL && join->script_next == NULL && !join->is_waiting &&
	    !join->is_done)
		end_session(join, NULL);
}

static void on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct join *join = user;
	char copy[KF_LINE_MAX + 1];

	(void)reader;
	snprintf(copy, sizeof(copy), "%s", line);
	run_command(join, copy);
}

static void on_input_eof(struct kf_line_reader *reader, void *user)
{
	struct join *join = user;

	(void)reader;
	kf_console_session_end(join->session, "the technician ended it", NULL);
}

/*
 * libedit hands over a finished line (NULL at end of input). Its callback takes no
 * user data, so the one interactive join of the process is remembered here.
 */
static struct join *editline_join;

static void on_edited_line(char *line)
{
	struct join *join = editline_join;

	if (line == NULL) {
		kf_console_session_end(join->session, "the technician ended it", NULL);
		return;
	}
	if (*line != '\0')
		add_history(line);
	run_command(join, line);
	free(line);
}

static void on_terminal_readable(uv_poll_t *poll, int status, int events)
{
	(void)poll;
	(void)status;
	(void)events;
	rl_callback_read_char();
}

static void on_interrupt(uv_signal_t *handle, int signum)
{
	struct join *join = handle->data;

	(void)signum;
	if (join->session != NULL)
		kf_console_session_end(join->session, "the technician ended it", NULL);
	else
		finish(join, KF_EXIT_FAILURE);
}

static int start_input(struct join *join, struct kf_error *err)
{
	struct kf_line_reader_callbacks callbacks = {on_line, on_input_eof};

	if (join->script != NULL)
		return KF_OK;
	if (isatty(STDIN_FILENO) && !join->is_json) {
		join->is_terminal = 1;
		editline_join = join;
		rl_callback_handler_install("kefu> ", on_edited_line);
		uv_poll_init(join->loop, &join->terminal, STDIN_FILENO);
		uv_poll_start(&join->terminal, UV_READABLE, on_terminal_readable);
		return KF_OK;
	}
	return kf_line_reader_new(join->loop, STDIN_FILENO, &callbacks, join, &join->input, err);
}

/* ---- the relay ---- */

static void on_open(struct kf_ssh *ssh, struct kf_stream *stream, const struct kf_error *err,
		    void *user)
{
	struct join *join = user;
	struct kf_error failure;

	(void)ssh;
	if (stream == NULL) {
		report(join, "ended", NULL,
		       "No customer is waiting behind this code (%s). Check the code with the "
		       "customer.",
		       err->message);
		finish(join, KF_EXIT_FAILURE);
		return;
	}
	if (kf_console_session_start(join->loop, stream, join->tls_context, join->code.secret,
				     &session_events, join, &join->session, &failure) != KF_OK ||
	    start_input(join, &failure) != KF_OK) {
		report(join, "ended", NULL, "%s", failure.message);
		finish(join, KF_EXIT_FAILURE);
	}
}

static void on_ssh_ready(struct kf_ssh *ssh, void *user)
{
	struct join *join = user;
	struct kf_error err;

	if (kf_ssh_open(ssh, "localhost", join->code.port, on_open, join, &err) != KF_OK) {
		report(join, "ended", NULL, "%s", err.message);
		finish(join, KF_EXIT_FAILURE);
	}
}

static void on_ssh_failed(struct kf_ssh *ssh, const struct kf_error *err, void *user)
{
	struct join *join = user;

	(void)ssh;
	report(join, "ended", NULL, "%s", err->message);
	finish(join, KF_EXIT_FAILURE);
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
	uv_signal_start(&join.interrupt, on_interrupt, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (kf_ssh_connect(join.loop, &ssh_options, &ssh_callbacks, &join, &join.ssh, &err) !=
	    KF_OK) {
		kf_cli_fail(join.program, "%s", err.message);
		goto out;
	}
	uv_run(join.loop, UV_RUN_DEFAULT);
	code = join.exit_code;
out:
	if (join.is_terminal) {
		rl_callback_handler_remove();
		uv_close((uv_handle_t *)&join.terminal, NULL);
	}
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
	return code;
}
