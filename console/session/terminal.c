/* kefu-console join: the technician's input (a terminal, a pipe, --exec) and the output. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"
#include "proto/base/escape.h"
#include "proto/base/cli.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include <histedit.h>

struct join_editor;
static void editor_hide(struct join_editor *editor);

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
		if (join->editor != NULL)
			editor_hide(join->editor);
		/* What the customer's side sent is in it: escaped, it cannot drive the terminal. */
		va_start(args, format);
		kf_terminal_vprint(stdout, format, args);
		va_end(args);
	}
	fflush(stdout);
}

void join_print(struct join *join, const char *format, ...)
{
	va_list args;

	if (join->is_json)
		return;
	if (join->editor != NULL)
		editor_hide(join->editor);
	va_start(args, format);
	kf_terminal_vprint(stdout, format, args);
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
	kf_console_session_end(join->session, NULL, NULL);
}

/*
 * ---- the terminal: line editing with libedit ----
 *
 * libedit's own API, not its readline emulation. In Debian 12's libedit (3.1,
 * 2022), rl_callback_read_char() turns EL_UNBUFFERED off before it calls the line
 * handler and only turns it on again after the next el_gets(); that next el_gets()
 * therefore reads a whole line in cooked mode, with the terminal's own echo: after
 * the first command, arrows printed ^[[A, history was gone and every command was
 * shown twice. Here the editor runs in EL_UNBUFFERED mode (one key per el_gets()),
 * and after each line EL_UNBUFFERED goes off and on again: that is what makes
 * libedit start a fresh line, put the terminal back in its editing mode and show
 * the prompt.
 *
 * Keys come from a uv_poll on stdin into a small buffer that libedit reads through
 * EL_GETCFN, so el_gets() never waits on the loop's thread for more than the rest
 * of a key sequence (ESCAPE_WAIT_MS). Ctrl-C and Ctrl-D on an empty line are taken
 * before libedit sees them; the editing mode has no ISIG, so Ctrl-C is a key here,
 * not a signal to the process group (which would also stop a VNC viewer the view
 * started).
 *
 * Events go above the line: the first one of a loop turn wipes the prompt and the
 * typed text from the screen, and a uv_check handle draws them again, as they were,
 * once the turn's events are printed.
 */

#define PROMPT            "kefu> "
#define HISTORY_SIZE      1000
#define ESCAPE_WAIT_MS    100
#define INPUT_BUFFER_SIZE 512

struct join_editor {
	struct join *join;
	EditLine *el;
	History *history;
	uv_poll_t poll;
	uv_check_t redraw;
	uv_signal_t resize;
	uv_signal_t hangup;    /* SIGHUP: the terminal closed */
	uv_signal_t terminate; /* SIGTERM */
	int open_handles;
	int stdin_flags; /* as found; uv_poll makes stdin non-blocking */
	uint8_t in[INPUT_BUFFER_SIZE];
	size_t in_start, in_end;
	mbstate_t decoding;
	int is_line_shown; /* the prompt and the typed text are on the screen */
	int is_hidden;     /* wiped for events; drawn again in the check phase */
	int is_closed;     /* no more keys: the session is ending or the terminal went away */
	int interrupts;    /* Ctrl-C presses in a row */
	char history_path[4096];
};

static const char *history_default_path(char *buffer, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(buffer, size, "%s/kefu/console/history", state);
	else
		snprintf(buffer, size, "%s/.local/state/kefu/console/history",
			 home ? home : "/tmp");
	return buffer;
}

/*
 * Writes the history whole into a 0600 file beside it, then renames it over the old
 * one: a crash leaves the old history, never half of it.
 */
static int history_save(struct join_editor *editor, struct kf_error *err)
{
	char temp[sizeof(editor->history_path) + 8];
	HistEvent event;
	FILE *file;
	int fd, r;

	if (kf_fs_make_parents(editor->history_path) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder of %s: %s",
				    editor->history_path, strerror(errno));
	snprintf(temp, sizeof(temp), "%s.tmp", editor->history_path);
	fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || (file = fdopen(fd, "w")) == NULL) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", temp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(temp);
		return r;
	}
	r = history(editor->history, &event, H_SAVE_FP, file);
	if (fclose(file) != 0 || r < 0 || rename(temp, editor->history_path) != 0) {
		unlink(temp);
		return kf_error_set(err, KF_ERR_IO, "cannot write %s", editor->history_path);
	}
	return KF_OK;
}

static char *editor_prompt(EditLine *el)
{
	(void)el;
	return (char *)PROMPT;
}

/* Reads what the terminal has now into the buffer; 0 at its end, -1 when nothing came. */
static int editor_fill(struct join_editor *editor, int wait_ms)
{
	ssize_t n;

	if (editor->in_start == editor->in_end)
		editor->in_start = editor->in_end = 0;
	if (editor->in_end == sizeof(editor->in))
		return -1;
	if (wait_ms > 0) {
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};

		if (poll(&pfd, 1, wait_ms) <= 0)
			return -1;
	}
	n = read(STDIN_FILENO, editor->in + editor->in_end, sizeof(editor->in) - editor->in_end);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : 0;
	editor->in_end += (size_t)n;
	return 1;
}

/*
 * libedit's EL_GETCFN: the next character of the buffer. When a key sequence or a
 * multibyte character is cut short, it waits a little for the rest; 0 tells libedit
 * there is nothing more (it then drops the partial sequence).
 */
static int editor_getc(EditLine *el, wchar_t *out)
{
	struct join_editor *editor;

	if (el_get(el, EL_CLIENTDATA, &editor) != 0 || editor == NULL)
		return -1;
	for (;;) {
		size_t n;

		if (editor->in_start == editor->in_end &&
		    editor_fill(editor, ESCAPE_WAIT_MS) != 1) {
			*out = L'\0';
			return 0;
		}
		n = mbrtowc(out, (const char *)editor->in + editor->in_start,
			    editor->in_end - editor->in_start, &editor->decoding);
		if (n == (size_t)-2) {
			/* The start of a character: mbrtowc keeps it in its state. */
			editor->in_start = editor->in_end;
			continue;
		}
		if (n == (size_t)-1) {
			memset(&editor->decoding, 0, sizeof(editor->decoding));
			editor->in_start++;
			continue;
		}
		editor->in_start += n == 0 ? 1 : n;
		return 1;
	}
}

/* How many screen rows above the cursor the prompt starts. */
static int editor_cursor_row(struct join_editor *editor)
{
	const LineInfoW *line = el_wline(editor->el);
	int columns = 0, width = (int)strlen(PROMPT);

	if (el_get(editor->el, EL_GETTC, "co", &columns, NULL) != 0 || columns <= 0)
		columns = 80;
	for (const wchar_t *c = line->buffer; c < line->cursor; c++) {
		int w = wcwidth(*c);

		width += w > 0 ? w : (w < 0 ? 2 : 0); /* control characters show as ^X */
	}
	return width / columns;
}

static void on_redraw(uv_check_t *check)
{
	struct join_editor *editor = check->data;

	uv_check_stop(check);
	if (editor->is_hidden && editor->is_line_shown && !editor->is_closed &&
	    !editor->join->is_done)
		el_set(editor->el, EL_REFRESH);
	editor->is_hidden = 0;
	fflush(stdout);
}

/* Wipes the prompt and the typed text from the screen; the check phase draws them again. */
static void editor_hide(struct join_editor *editor)
{
	int row;

	if (!editor->is_line_shown || editor->is_hidden)
		return;
	row = editor_cursor_row(editor);
	if (row > 0)
		printf("\r\033[%dA\033[J", row);
	else
		printf("\r\033[J");
	editor->is_hidden = 1;
	uv_check_start(&editor->redraw, on_redraw);
}

/* No more keys: what is on the screen stays, the editor is out of the way. */
static void editor_close_input(struct join_editor *editor)
{
	if (editor->is_closed)
		return;
	editor->is_closed = 1;
	editor_hide(editor);
	uv_poll_stop(&editor->poll);
}

/* Ctrl-C twice in a row or Ctrl-D on an empty line: the session ends, as with 'end'. */
static void editor_end_session(struct join_editor *editor)
{
	struct join *join = editor->join;

	editor_close_input(editor);
	if (join->session_id[0] == '\0') {
		join_report(join, "ended", NULL,
			    "Stopped before the customer's computer answered.");
		join_finish(join, KF_EXIT_FAILURE);
		return;
	}
	join->is_awaiting_advice = 0;
	join_end(join, NULL);
}

static void editor_interrupt(struct join_editor *editor)
{
	const LineInfoW *line = el_wline(editor->el);

	if (++editor->interrupts >= 2) {
		editor_end_session(editor);
		return;
	}
	editor_hide(editor);
	el_cursor(editor->el, (int)(line->lastchar - line->cursor));
	line = el_wline(editor->el);
	el_deletestr(editor->el, (int)(line->lastchar - line->buffer));
	join_report(editor->join, "hint", NULL,
		    "(The line is cleared. Ctrl-C again or Ctrl-D ends the session.)");
}

/* A whole line: it goes to the history and runs, and a fresh line starts. */
static void editor_line(struct join_editor *editor, const char *text, int length)
{
	struct join *join = editor->join;
	char line[KF_LINE_MAX + 1];
	const char *c;
	struct kf_error err;
	HistEvent event;

	snprintf(line, sizeof(line), "%.*s", length, text);
	/* libedit leaves the line on the screen and the cursor below it. */
	editor->is_line_shown = 0;
	el_set(editor->el, EL_UNBUFFERED, 0);
	for (c = line; *c == ' ' || *c == '\t'; c++)
		;
	/* The closing advice is for the customer, not a command to recall. */
	if (*c != '\0' && !join->is_awaiting_advice) {
		history(editor->history, &event, H_ENTER, line);
		if (history_save(editor, &err) != KF_OK)
			join_report(join, "error", NULL, "The history was not saved: %s",
				    err.message);
	}
	join_run_command(join, line);
	if (!join->is_done && !editor->is_closed) {
		el_set(editor->el, EL_UNBUFFERED, 1);
		editor->is_line_shown = 1;
		fflush(stdout);
	}
}

static void on_keys(uv_poll_t *poll, int status, int events)
{
	struct join_editor *editor = poll->data;
	int r;

	(void)events;
	r = status < 0 ? 0 : editor_fill(editor, 0);
	if (r == 0) {
		/* The terminal is gone: the session ends as with Ctrl-D. */
		editor_end_session(editor);
		return;
	}
	while (editor->in_start < editor->in_end && !editor->is_closed && !editor->join->is_done) {
		uint8_t key = editor->in[editor->in_start];
		const LineInfoW *line = el_wline(editor->el);
		const char *text;
		int count = 0;

		if (key == 0x03) {
			editor->in_start++;
			editor_interrupt(editor);
			continue;
		}
		if (key == 0x04 && line->buffer == line->lastchar) {
			editor->in_start++;
			editor_end_session(editor);
			continue;
		}
		editor->interrupts = 0;
		/* The line on the screen is libedit's from here on. */
		if (editor->is_hidden) {
			uv_check_stop(&editor->redraw);
			el_set(editor->el, EL_REFRESH);
			editor->is_hidden = 0;
		}
		text = el_gets(editor->el, &count);
		if (text != NULL && count > 0 && text[count - 1] == '\n')
			editor_line(editor, text, count - 1);
	}
	fflush(stdout);
}

static void on_editor_closed(uv_handle_t *handle)
{
	struct join_editor *editor = handle->data;

	if (--editor->open_handles == 0)
		free(editor);
}

/*
 * The terminal is in the editor's mode: dying of SIGHUP or SIGTERM would leave it
 * without echo. The session ends in order instead (bounded by the session's own
 * wait for the customer's side), and el_end puts the terminal back.
 */
static void on_stop_signal(uv_signal_t *handle, int signum)
{
	(void)signum;
	editor_end_session(handle->data);
}

static void on_resize(uv_signal_t *handle, int signum)
{
	struct join_editor *editor = handle->data;

	(void)signum;
	/* The next redraw uses the new width; the line already drawn stays as it is. */
	el_resize(editor->el);
}

static int editor_start(struct join *join, struct kf_error *err)
{
	struct join_editor *editor = calloc(1, sizeof(*editor));
	HistEvent event;

	if (editor == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	editor->join = join;
	setlocale(LC_CTYPE, "");
	editor->el = el_init(join->program, stdin, stdout, stderr);
	editor->history = history_init();
	if (editor->el == NULL || editor->history == NULL) {
		if (editor->el != NULL)
			el_end(editor->el);
		if (editor->history != NULL)
			history_end(editor->history);
		free(editor);
		return kf_error_set(err, KF_ERR_NOMEM, "cannot start the line editor");
	}
	history(editor->history, &event, H_SETSIZE, HISTORY_SIZE);
	history(editor->history, &event, H_SETUNIQUE, 1);
	history_default_path(editor->history_path, sizeof(editor->history_path));
	/* A missing history is a first session; a damaged one starts afresh. */
	history(editor->history, &event, H_LOAD, editor->history_path);

	el_set(editor->el, EL_CLIENTDATA, editor);
	el_set(editor->el, EL_SIGNAL, 0);
	el_set(editor->el, EL_EDITOR, "emacs");
	el_set(editor->el, EL_PROMPT, editor_prompt);
	el_set(editor->el, EL_HIST, history, editor->history);
	el_set(editor->el, EL_GETCFN, editor_getc);
	el_set(editor->el, EL_SETTY, "-d", "-isig", NULL);
	el_set(editor->el, EL_BIND, "^A", "ed-move-to-beg", NULL);
	el_set(editor->el, EL_BIND, "^E", "ed-move-to-end", NULL);
	el_set(editor->el, EL_BIND, "^U", "em-kill-line", NULL);
	el_set(editor->el, EL_BIND, "^W", "ed-delete-prev-word", NULL);
	/* The technician's own ~/.editrc (or $EDITRC) has the last word. */
	el_source(editor->el, NULL);

	editor->stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	uv_poll_init(join->loop, &editor->poll, STDIN_FILENO);
	uv_check_init(join->loop, &editor->redraw);
	uv_signal_init(join->loop, &editor->resize);
	uv_signal_init(join->loop, &editor->hangup);
	uv_signal_init(join->loop, &editor->terminate);
	editor->poll.data = editor->redraw.data = editor->resize.data = editor;
	editor->hangup.data = editor->terminate.data = editor;
	editor->open_handles = 5;
	join->editor = editor;
	el_set(editor->el, EL_UNBUFFERED, 1);
	editor->is_line_shown = 1;
	fflush(stdout);
	uv_poll_start(&editor->poll, UV_READABLE, on_keys);
	uv_signal_start(&editor->resize, on_resize, SIGWINCH);
	uv_signal_start(&editor->hangup, on_stop_signal, SIGHUP);
	uv_signal_start(&editor->terminate, on_stop_signal, SIGTERM);
	return KF_OK;
}
void join_on_interrupt(uv_signal_t *handle, int signum)
{
	struct join *join = handle->data;

	(void)signum;
	/* A terminal takes Ctrl-C as a key; this is SIGINT from elsewhere (kill -INT). */
	if (join->editor != NULL)
		editor_interrupt(join->editor);
	else if (join->session != NULL)
		kf_console_session_end(join->session, NULL, NULL);
	else
		join_finish(join, KF_EXIT_FAILURE);
}

int join_start_input(struct join *join, struct kf_error *err)
{
	struct kf_line_reader_callbacks callbacks = {on_line, on_input_eof};

	if (join->script != NULL)
		return KF_OK;
	if (isatty(STDIN_FILENO) && !join->is_json)
		return editor_start(join, err);
	return kf_line_reader_new(join->loop, STDIN_FILENO, &callbacks, join, &join->input, err);
}

void join_stop_input(struct join *join)
{
	struct join_editor *editor = join->editor;

	if (editor == NULL)
		return;
	join->editor = NULL;
	editor_close_input(editor);
	fflush(stdout);
	/* el_end puts the terminal back as it was found. */
	el_end(editor->el);
	history_end(editor->history);
	if (editor->stdin_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, editor->stdin_flags);
	uv_close((uv_handle_t *)&editor->poll, on_editor_closed);
	uv_close((uv_handle_t *)&editor->redraw, on_editor_closed);
	uv_close((uv_handle_t *)&editor->resize, on_editor_closed);
	uv_close((uv_handle_t *)&editor->hangup, on_editor_closed);
	uv_close((uv_handle_t *)&editor->terminate, on_editor_closed);
}
