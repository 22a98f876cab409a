/* kefu-console: the customer's screen on a loopback port. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_VIEW_H
#define KF_CONSOLE_VIEW_H

#include "proto/base/error.h"
#include "proto/session/stream.h"

#include <uv.h>

/*
 * A kf_view listens on 127.0.0.1 (an ephemeral port) and admits a local VNC
 * viewer only with the view's password, a random 8-character one-time token
 * (RFB "VNC authentication", the one every viewer speaks): it is printed to the
 * technician and kept in a 0600 file in a 0700 directory, so another local
 * user can neither read it nor attach. Only after that does the view open a
 * stream to the agent, complete the agent's RFB handshake on the viewer's
 * behalf, and from then on relay bytes both ways: no re-encoding, the viewer and
 * the agent's server agree on encodings directly, except that the viewer's
 * SetEncodings carries the technician's quality (rfb-rewrite.h).
 *
 * A viewer that closes takes only its own stream with it; the next viewer
 * gets a fresh one. kf_view_free closes the port, every stream and the
 * programs the view started. Everything runs on loop's thread.
 */

struct kf_view;

struct kf_view_options {
	/*
	 * Opens a new RFB stream to the agent's screen server (in a session: a
	 * new screen stream). The view owns *out until it closes it.
	 */
	int (*open_stream)(void *user, struct kf_stream **out, struct kf_error *err);
	void *user;
	int port;              /* 0: any free port */
	int is_viewer_started; /* start a VNC viewer found in PATH */
	int is_web;            /* also serve noVNC through websockify */
	const char *state_dir; /* where the password file goes; NULL: a new private dir */
	/* KF_VIEW_QUALITY_* (console/screen/rfb-rewrite.h): 0 is auto. */
	int quality;
	/* Called for what the technician should know ("viewer connected", ...); may be NULL. */
	void (*on_event)(const char *line, void *user);
};

/* Starts listening (and websockify, and the viewer). The caller owns *out. */
int kf_view_new(uv_loop_t *loop, const struct kf_view_options *options, struct kf_view **out,
		struct kf_error *err);

/* "127.0.0.1:PORT", owned by view. */
const char *kf_view_address(const struct kf_view *view);
int kf_view_port(const struct kf_view *view);
/* The one-time password, owned by view (wiped when it is freed). */
const char *kf_view_password(const struct kf_view *view);
/* The password file in vncpasswd's format (for `vncviewer -passwd`), owned by view. */
const char *kf_view_password_file(const struct kf_view *view);
/* The browser address with the token in its fragment, or NULL without --web. */
const char *kf_view_url(const struct kf_view *view);
/* Viewers attached right now. */
int kf_view_viewer_count(const struct kf_view *view);

/*
 * Closes the port and every viewer's connection, stops websockify and the
 * viewer it started, removes the password file. Memory is released once the
 * loop has run the closes. NULL is allowed.
 */
void kf_view_free(struct kf_view *view);

#endif
