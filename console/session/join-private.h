/* kefu-console join: what the files of an interactive session share. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_JOIN_PRIVATE_H
#define KF_CONSOLE_JOIN_PRIVATE_H

/*
 * One `kefu-console join` is one struct join, made and freed in join.c. The other
 * files of this folder each hold one part of it:
 *
 *   join.c        the connection (relay, TLS, further streams) and the session's life
 *   events.c      what the customer's side says: the one place messages are dispatched
 *   terminal.c    the technician's input (line editing, pipes, --exec) and the output
 *   command.c     the command table (name, usage, help, capability, handler)
 *   consent.c     request and release, and the customer's answers
 *   diag.c        the diagnostics report
 *   plugins.c     the vendor's plugins: list, run, repair
 *   firmware.c    firmware list, check and apply
 *   files.c       send and fetch
 *   screen.c      view: the customer's screen on a loopback port
 *
 * Everything runs on the loop's thread; nothing here is for other folders.
 */

#include "console/screen/view.h"
#include "console/session/session.h"
#include "console/session/transfer.h"
#include "proto/base/buffer.h"
#include "proto/base/line-reader.h"
#include "proto/session/code.h"
#include "proto/session/profile.h"
#include "proto/session/ssh-transport.h"

#include <jansson.h>
#include <uv.h>

struct join_editor;

struct join {
	uv_loop_t *loop;
	const char *program;
	struct kf_profile *profile;
	struct kf_code code;
	SSL_CTX *tls_context;
	struct kf_ssh_key *key;
	struct kf_ssh *ssh;
	struct kf_console_session *session;
	struct kf_line_reader *input; /* stdin when it is not a terminal */
	struct join_editor *editor;   /* stdin when it is a terminal: line editing (terminal.c) */
	struct kf_tls_identity technician;
	uint16_t port; /* the customer's forward on the relay, for further streams */
	struct kf_view *view;
	struct kf_console_transfer *transfer; /* one file at a time */
	uv_signal_t interrupt;
	int is_json;
	/* --exec: the commands left to run, one at a time. */
	char *script;
	char *script_next;
	int is_waiting;         /* a command of the script waits for its answer */
	uint32_t waiting_for;   /* the id of the request it waits for */
	int is_awaiting_advice; /* the next typed line is the closing advice */
	/* What the customer allowed, as the console heard it: a bit per enum kf_capability.
	 * The customer's side decides and enforces; this only spares the technician a
	 * command that cannot work. */
	unsigned granted;
	/* The diagnostics report asked for, and where to save it. */
	uint32_t report_id;
	char *report_file;
	/* The case history's record of this session. */
	json_t *journal;
	char session_id[64];
	char started[32];
	char advice[1024];
	/* The customer's support ID and journal digest (with the history grant), and the
	 * technician's notes: all go into the case. */
	char support_id[32];
	char *history;
	json_t *notes;
	uint32_t history_id;
	int is_case_recorded;
	long long case_number;
	int exit_code;
	int is_done;
};

/* ---- join.c: the session's life ---- */

/* Stops the loop with exit_code (the first call counts). */
void join_finish(struct join *join, int exit_code);

/* The customer's computer proved the code: the journal starts, then any --exec script. */
void join_on_connected(struct join *join, struct kf_console_session *session, const char *software,
		       const char *session_id);

/* The session is over (status KF_OK for an orderly end): everything of it closes. */
void join_on_ended(struct join *join, int status, const char *reason);

/* Ends the session in order, with the closing advice (may be NULL or empty). */
void join_end(struct join *join, const char *advice);

/* One line of the case history's journal. */
void join_journal(struct join *join, const char *kind, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Keeps the finished session in the case history. */
void join_record_case(struct join *join, const char *outcome);

/*
 * A further stream of the session (a new channel, its own TLS, the session's token)
 * for purpose ("screen", "files", "firmware"). The caller owns *out.
 */
int join_open_side_stream(struct join *join, const char *purpose, struct kf_stream **out,
			  struct kf_error *err);

/* ---- events.c: the customer's side ---- */

extern const struct kf_console_session_events join_session_events;

/* ---- terminal.c: input and output ---- */

/* An event for the technician: a readable line, or a JSON object with --json. */
void join_report(struct join *join, const char *event, json_t *fields, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

/* A further line of plain text below the last event (nothing with --json). */
void join_print(struct join *join, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Starts reading commands: --exec, a terminal with line editing, or lines from a pipe. */
int join_start_input(struct join *join, struct kf_error *err);
void join_stop_input(struct join *join);

/* SIGINT: Ctrl-C while no line editor has the terminal. */
void join_on_interrupt(uv_signal_t *handle, int signum);

/* --exec: the script waits for the answer to request id (0: for the next result). */
void join_wait_for(struct join *join, uint32_t id);

/* ---- history.c: the customer's journal and earlier cases, notes on the case ---- */
void join_cmd_history(struct join *join, char *args);
void join_cmd_note(struct join *join, char *args);
/* The customer allowed "history": the journal is asked for at once. */
void join_history_allowed(struct join *join, uint32_t re);
void join_history_journal(struct join *join, const struct kf_msg *msg);
/* An answer to request re came: the script goes on if it waited for it. */
void join_answered(struct join *join, uint32_t re);
/* A result that is not an answer to a request came (a file, a firmware result). */
void join_resume_script(struct join *join);
/* Runs --exec commands until one has to wait for an answer. */
void join_run_next_command(struct join *join);

/* ---- command.c: the commands ---- */

/* Runs one line the technician typed (changed in place). */
void join_run_command(struct join *join, char *line);

/* The handlers of the command table, one per feature file. */
void join_cmd_request(struct join *join, char *args); /* consent.c */
void join_cmd_release(struct join *join, char *args);
void join_cmd_report(struct join *join, char *args);  /* diag.c */
void join_cmd_plugins(struct join *join, char *args); /* plugins.c */
void join_cmd_run(struct join *join, char *args);
void join_cmd_repair(struct join *join, char *args);
void join_cmd_firmware(struct join *join, char *args); /* firmware.c */
void join_cmd_send(struct join *join, char *args);     /* files.c */
void join_cmd_fetch(struct join *join, char *args);
void join_cmd_view(struct join *join, char *args);    /* screen.c */
void join_cmd_drivers(struct join *join, char *args); /* drivers.c */

/* ---- the messages each feature handles (called from events.c) ---- */

void join_consent_answered(struct join *join, const struct kf_msg *msg);
void join_consent_revoked(struct join *join, const struct kf_msg *msg);
/* Whether the customer has allowed capability (a name), as far as the console heard. */
int join_is_granted(const struct join *join, const char *capability);
void join_diag_report(struct join *join, const struct kf_msg *msg);
void join_plugins_listed(struct join *join, const struct kf_msg *msg);
void join_plugin_started(struct join *join, const struct kf_msg *msg);
void join_plugin_result(struct join *join, const struct kf_msg *msg);
void join_firmware_devices(struct join *join, const struct kf_msg *msg);
void join_firmware_progress(struct join *join, const struct kf_msg *msg);
void join_firmware_result(struct join *join, const struct kf_msg *msg);
void join_drivers_listed(struct join *join, const struct kf_msg *msg);
void join_drivers_progress(struct join *join, const struct kf_msg *msg);
void join_drivers_result(struct join *join, const struct kf_msg *msg);

#endif
