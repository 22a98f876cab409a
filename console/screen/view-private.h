/* kefu-console: what the view's proxy and its launcher share. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_VIEW_PRIVATE_H
#define KF_CONSOLE_VIEW_PRIVATE_H

/*
 * view.c is the RFB proxy (the loopback port, the password, both handshakes, the
 * relay of bytes); launcher.c starts the programs that look at it. Nothing here is
 * for other folders.
 */

#include "console/screen/view.h"

#define PASSWORD_LENGTH 8

struct conn;

struct kf_view {
	uv_loop_t *loop;
	struct kf_view_options options;
	uv_tcp_t listener;
	int is_listener_open;
	uv_timer_t sweep;
	int is_sweep_open;
	char address[64];
	int port;
	char password[PASSWORD_LENGTH + 1];
	char dir[512];
	int is_dir_ours;
	char password_file[600];
	char url[256];
	uv_process_t web;
	int is_web_running;
	uv_process_t viewer;
	int is_viewer_running;
	struct conn *conns;
	int viewer_count;
	int failures;
	int open_handles;
	int is_freeing;
};

/* A line for the technician, through options.on_event. */
void kf_view_report(struct kf_view *view, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* The close callback of each handle the view counts in open_handles. */
void kf_view_on_handle_closed(uv_handle_t *handle);

/* Starts websockify with noVNC towards the view's port and fills view->url. */
int kf_view_start_web(struct kf_view *view, struct kf_error *err);

/* Starts the first VNC viewer found in PATH, or says that there is none. */
void kf_view_start_viewer(struct kf_view *view);

#endif
