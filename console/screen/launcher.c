/* kefu-console: the programs a view starts: a VNC viewer, and websockify for a browser. SPDX-License-Identifier: MIT */
#include "console/screen/view-private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOVNC_DIR "/usr/share/novnc"

static int find_program(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		snprintf(out, size, "%.*s/%s", (int)len, path, name);
		if (len > 0 && access(out, X_OK) == 0)
			return KF_OK;
		path += len + (end ? 1 : 0);
	}
	return KF_ERR_NOT_FOUND;
}

static void on_process_exit(uv_process_t *process, int64_t status, int signal)
{
	(void)status;
	(void)signal;
	struct kf_view *view = process->data;
	if (process == &view->viewer) {
		view->is_viewer_running = 0;
		if (!view->is_freeing)
			kf_view_report(
				view,
				"the viewer closed; the screen stays shared at %s (password %s)",
				view->address, view->password);
	} else {
		view->is_web_running = 0;
		if (!view->is_freeing)
			kf_view_report(view, "websockify stopped; the browser view is gone");
	}
	uv_close((uv_handle_t *)process, kf_view_on_handle_closed);
}

static int spawn(struct kf_view *view, uv_process_t *process, char **args)
{
	uv_stdio_container_t stdio[3] = {
		{.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
	uv_process_options_t options = {
		.exit_cb = on_process_exit,
		.file = args[0],
		.args = args,
		.stdio_count = 3,
		.stdio = stdio,
	};
	process->data = view;
	int rc = uv_spawn(view->loop, process, &options);
	if (rc != 0) {
		/* libuv wants the handle closed even when spawning failed. */
		view->open_handles++;
		uv_close((uv_handle_t *)process, kf_view_on_handle_closed);
		return rc;
	}
	view->open_handles++;
	return 0;
}

static int free_loopback_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int kf_view_start_web(struct kf_view *view, struct kf_error *err)
{
	char program[512];
	if (find_program("websockify", program, sizeof(program)) != KF_OK)
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "--web needs websockify (Debian package websockify)");
	if (access(NOVNC_DIR "/vnc.html", R_OK) != 0)
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "--web needs noVNC in " NOVNC_DIR " (Debian package novnc)");
	int web_port = free_loopback_port();
	if (web_port < 0)
		return kf_error_set(err, KF_ERR_IO, "no free loopback port for websockify");
	char source[32], target[32];
	snprintf(source, sizeof(source), "127.0.0.1:%d", web_port);
	snprintf(target, sizeof(target), "127.0.0.1:%d", view->port);
	char web_flag[] = "--web", web_dir[] = NOVNC_DIR;
	char *args[] = {program, web_flag, web_dir, source, target, NULL};
	int rc = spawn(view, &view->web, args);
	if (rc != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot start websockify: %s", uv_strerror(rc));
	view->is_web_running = 1;
	/* The token rides in the fragment, which the browser never sends to a server. */
	snprintf(view->url, sizeof(view->url),
		 "http://127.0.0.1:%d/vnc.html#autoconnect=1&reconnect=1&password=%s", web_port,
		 view->password);
	return KF_OK;
}

void kf_view_start_viewer(struct kf_view *view)
{
	char program[512], target[32];
	snprintf(target, sizeof(target), "127.0.0.1::%d", view->port);
	static const char *const tiger[] = {"xtigervncviewer", "vncviewer"};
	for (size_t i = 0; i < sizeof(tiger) / sizeof(tiger[0]); i++) {
		if (find_program(tiger[i], program, sizeof(program)) != KF_OK)
			continue;
		char passwd_flag[] = "-passwd";
		char *args[] = {program, passwd_flag, view->password_file, target, NULL};
		if (spawn(view, &view->viewer, args) == 0) {
			view->is_viewer_running = 1;
			kf_view_report(view, "started %s (pid %d)", tiger[i], view->viewer.pid);
			return;
		}
	}
	if (find_program("remmina", program, sizeof(program)) == KF_OK) {
		char uri[64];
		snprintf(uri, sizeof(uri), "vnc://127.0.0.1:%d", view->port);
		char connect_flag[] = "-c";
		char *args[] = {program, connect_flag, uri, NULL};
		if (spawn(view, &view->viewer, args) == 0) {
			view->is_viewer_running = 1;
			kf_view_report(view,
				       "started remmina (pid %d; type the password when it asks)",
				       view->viewer.pid);
			return;
		}
	}
	kf_view_report(view,
		       "no VNC viewer found (install tigervnc-viewer or remmina); "
		       "connect any viewer to %s",
		       view->address);
}
