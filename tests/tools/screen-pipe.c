/* kefu test tool: agent screen and console view, socketpaired. SPDX-License-Identifier: MIT */
/*
 * Until the session carries the screen stream, this joins the two real ends:
 * every viewer the console's view admits gets a new socketpair, one end
 * attached to the agent's kf_screen, the other wrapped as the view's stream.
 *
 *   screen-pipe [--display D] [--monitor N] [--input] [--no-damage] [--web]
 *               [--viewer] [--port P] [--dir DIR] [--quality auto|lossless|0-9]
 *
 * Prints "address A", "password P", "password-file F", ["url U"], "ready";
 * then one "event ..." line per view event, and "event sharing N" whenever the
 * number of viewers the agent serves changes. Commands on stdin, each answered
 * "ok COMMAND" once the call has returned: "input on", "input off", "stop",
 * "viewers" (answers "viewers AGENT VIEW"), "quit". EOF on stdin quits.
 */
#include "agentd/screen/screen.h"
#include "console/screen/rfb-rewrite.h"
#include "console/screen/view.h"
#include "proto/session/stream-socket.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

struct pipe_state {
	uv_loop_t *loop;
	struct kf_screen *screen;
	struct kf_view *view;
	uv_pipe_t input;
	uv_signal_t term, interrupt;
	char line[256];
	size_t line_len;
	int is_quitting;
};

static int open_stream(void *user, struct kf_stream **out, struct kf_error *err)
{
	struct pipe_state *state = user;
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
		return kf_error_set(err, KF_ERR_IO, "socketpair failed");
	int rc = kf_screen_attach(state->screen, pair[0], err);
	if (rc != 0) {
		close(pair[1]);
		return rc;
	}
	return kf_stream_socket_new(state->loop, pair[1], out, err);
}

/* Called on the screen's thread: what the customer's side would show ("shared with N"). */
static void on_viewers(int count, void *user)
{
	(void)user;
	printf("event sharing %d\n", count);
	fflush(stdout);
}

static void on_event(const char *line, void *user)
{
	(void)user;
	printf("event %s\n", line);
	fflush(stdout);
}

static void quit(struct pipe_state *state)
{
	if (state->is_quitting)
		return;
	state->is_quitting = 1;
	kf_view_free(state->view);
	state->view = NULL;
	uv_close((uv_handle_t *)&state->input, NULL);
	uv_close((uv_handle_t *)&state->term, NULL);
	uv_close((uv_handle_t *)&state->interrupt, NULL);
}

static void run_command(struct pipe_state *state, const char *command)
{
	if (strcmp(command, "input on") == 0)
		kf_screen_set_input(state->screen, 1);
	else if (strcmp(command, "input off") == 0)
		kf_screen_set_input(state->screen, 0);
	else if (strcmp(command, "stop") == 0)
		kf_screen_stop(state->screen);
	else if (strcmp(command, "viewers") == 0) {
		printf("viewers %d %d\n", kf_screen_viewer_count(state->screen),
		       state->view ? kf_view_viewer_count(state->view) : 0);
	} else if (strcmp(command, "quit") == 0) {
		printf("ok quit\n");
		fflush(stdout);
		quit(state);
		return;
	} else {
		printf("error unknown command '%s'\n", command);
		fflush(stdout);
		return;
	}
	printf("ok %s\n", command);
	fflush(stdout);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	static char storage[1024];
	buf->base = storage;
	buf->len = sizeof(storage);
}

static void on_input(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct pipe_state *state = stream->data;
	if (nread < 0) {
		quit(state);
		return;
	}
	for (ssize_t i = 0; i < nread && !state->is_quitting; i++) {
		char c = buf->base[i];
		if (c == '\n') {
			state->line[state->line_len] = '\0';
			state->line_len = 0;
			run_command(state, state->line);
		} else if (state->line_len < sizeof(state->line) - 1) {
			state->line[state->line_len++] = c;
		}
	}
}

static void on_signal(uv_signal_t *handle, int signum)
{
	(void)signum;
	quit(handle->data);
}

int main(int argc, char **argv)
{
	struct kf_screen_options screen_options = {.monitor = -1, .on_viewers = on_viewers};
	struct kf_view_options view_options = {.on_event = on_event};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(arg, "--display") == 0 && value) {
			screen_options.display = value;
			i++;
		} else if (strcmp(arg, "--monitor") == 0 && value) {
			screen_options.monitor = atoi(value);
			i++;
		} else if (strcmp(arg, "--port") == 0 && value) {
			view_options.port = atoi(value);
			i++;
		} else if (strcmp(arg, "--dir") == 0 && value) {
			view_options.state_dir = value;
			i++;
		} else if (strcmp(arg, "--quality") == 0 && value) {
			if (kf_view_quality_parse(value, &view_options.quality) != 0) {
				fprintf(stderr,
					"screen-pipe: --quality takes auto, lossless or 0-9\n");
				return 2;
			}
			i++;
		} else if (strcmp(arg, "--input") == 0) {
			screen_options.is_input_allowed = 1;
		} else if (strcmp(arg, "--no-damage") == 0) {
			screen_options.is_damage_disabled = 1;
		} else if (strcmp(arg, "--web") == 0) {
			view_options.is_web = 1;
		} else if (strcmp(arg, "--viewer") == 0) {
			view_options.is_viewer_started = 1;
		} else {
			fprintf(stderr, "screen-pipe: unknown argument '%s'\n", arg);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct pipe_state state = {.loop = uv_default_loop()};
	struct kf_error err;
	kf_error_clear(&err);
	if (kf_screen_new(&screen_options, &state.screen, &err) != 0) {
		fprintf(stderr, "screen-pipe: %s\n", err.message);
		return 1;
	}
	view_options.open_stream = open_stream;
	view_options.user = &state;
	if (kf_view_new(state.loop, &view_options, &state.view, &err) != 0) {
		fprintf(stderr, "screen-pipe: %s\n", err.message);
		kf_screen_free(state.screen);
		return 1;
	}
	printf("screen %s\n", kf_screen_describe(state.screen));
	printf("address %s\n", kf_view_address(state.view));
	printf("password %s\n", kf_view_password(state.view));
	printf("password-file %s\n", kf_view_password_file(state.view));
	if (kf_view_url(state.view))
		printf("url %s\n", kf_view_url(state.view));
	printf("ready\n");
	fflush(stdout);
	uv_pipe_init(state.loop, &state.input, 0);
	state.input.data = &state;
	uv_pipe_open(&state.input, 0);
	uv_read_start((uv_stream_t *)&state.input, on_alloc, on_input);
	uv_signal_init(state.loop, &state.term);
	uv_signal_init(state.loop, &state.interrupt);
	state.term.data = state.interrupt.data = &state;
	uv_signal_start(&state.term, on_signal, SIGTERM);
	uv_signal_start(&state.interrupt, on_signal, SIGINT);
	uv_run(state.loop, UV_RUN_DEFAULT);
	kf_screen_free(state.screen);
	uv_loop_close(state.loop);
	return 0;
}
