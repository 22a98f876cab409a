/* kefu-console join: the technician's input (a terminal, a pipe, --exec) and the output. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"
#include "proto/base/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

void join_report(struct join *join, const char *event, json_t *fields, const char *format, ...)
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

void join_print(struct join *join, const char *format, ...)
{
	va_list args;

	if (join->is_json)
		return;
	va_start(args, format);
	vprintf(format, args);
	va_end(args);
}

/* ---- --exec ---- */

void join_wait_for(struct join *join, uint32_t id)
{
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = id;
	}
}

void join_answered(struct join *join, uint32_t re)
{
	if (join->is_waiting && join->waiting_for != 0 && join->waiting_for == re) {
		join->is_waiting = 0;
		join->waiting_for = 0;
		join_run_next_command(join);
	}
}

void join_resume_script(struct join *join)
{
	if (join->is_waiting && join->waiting_for == 0) {
		join->is_waiting = 0;
		join_run_next_command(join);
	}
}

void join_run_next_command(struct join *join)
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
		join_run_command(join, command);
	}
	if (join->script != NULL && join->script_next == NULL && !join->is_waiting &&
	    !join->is_done)
		join_end(join, NULL);
}

static void on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct join *join = user;
	char copy[KF_LINE_MAX + 1];

	(void)reader;
	snprintf(copy, sizeof(copy), "%s", line);
	join_run_command(join, copy);
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
	join_run_command(join, line);
	free(line);
}

static void on_terminal_readable(uv_poll_t *poll, int status, int events)
{
	(void)poll;
	(void)status;
	(void)events;
	rl_callback_read_char();
}

void join_on_interrupt(uv_signal_t *handle, int signum)
{
	struct join *join = handle->data;

	(void)signum;
	if (join->session != NULL)
		kf_console_session_end(join->session, "the technician ended it", NULL);
	else
		join_finish(join, KF_EXIT_FAILURE);
}

int join_start_input(struct join *join, struct kf_error *err)
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

void join_stop_input(struct join *join)
{
	if (join->is_terminal) {
		rl_callback_handler_remove();
		uv_close((uv_handle_t *)&join->terminal, NULL);
		join->is_terminal = 0;
	}
}
