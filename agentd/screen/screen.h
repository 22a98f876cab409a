/* kefu-agentd: the screen share, an RFB server that never listens. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SCREEN_H
#define KF_AGENTD_SCREEN_H

#include "proto/base/error.h"

#include <stddef.h>

/*
 * A kf_screen serves the desktop (through agentd/screen/capture.h) with libvncserver
 * on a thread of its own. It opens no port: each viewer is a connected stream
 * socket handed to kf_screen_attach, normally one end of a socketpair whose
 * other end the session bridges into its screen stream.
 *
 * Consent drives it from any thread: kf_screen_set_input(screen, 0) returns only
 * once no further key, pointer or clipboard event can reach the desktop, and
 * kf_screen_stop returns only once no further byte can be written to any
 * viewer's socket. Writes to a closed socket raise SIGPIPE: the program
 * ignores SIGPIPE (libraries leave signal dispositions alone).
 */

struct kf_screen;
struct kf_capture_cancel; /* agentd/screen/capture.h */

struct kf_screen_options {
	const char *display;    /* NULL: $DISPLAY */
	int monitor;            /* -1: the whole desktop; N: monitor N (XRandR order) */
	int is_input_allowed;   /* start with keyboard, pointer and clipboard allowed */
	int is_damage_disabled; /* compare tiles instead of trusting XDamage (tests, benchmarks) */
	/* Called on the screen's thread whenever the number of viewers changes. */
	void (*on_viewers)(int count, void *user);
	/*
	 * Called on the screen's thread when a viewer's key, click or clipboard is
	 * dropped because input is not allowed: once until input is allowed or
	 * forbidden again (so a refusal is recorded without flooding).
	 */
	void (*on_input_refused)(void *user);
	/*
	 * Called on the screen's thread, once, when the desktop ended the capture
	 * (a Wayland portal session closed, PipeWire gone): every viewer has been
	 * closed and further attaches fail with why. NULL: not told.
	 */
	void (*on_lost)(const char *why, void *user);
	void *user;
	/* NULL, or fired by another thread to give up an open that waits (see capture.h). */
	struct kf_capture_cancel *cancel;
	/* NULL, or the caller's buffer for the desktop's restore token (see capture.h). */
	char *restore_token;
	size_t restore_token_size;
};

/*
 * Opens the desktop and starts the server thread. On a desktop that cannot be
 * shared (Wayland, no X server) fails with KF_ERR_UNSUPPORTED and a message
 * that says what is supported. The caller owns *out (kf_screen_free).
 */
int kf_screen_new(const struct kf_screen_options *options, struct kf_screen **out,
		  struct kf_error *err);

/* Serves a viewer on fd, a connected stream socket; the screen owns fd from now on. */
int kf_screen_attach(struct kf_screen *screen, int fd, struct kf_error *err);

/* Allows or forbids keyboard, pointer and clipboard at once (see above). */
void kf_screen_set_input(struct kf_screen *screen, int is_allowed);

/* Ends every viewer's stream at once; later attaches are served again. */
void kf_screen_stop(struct kf_screen *screen);

/* Whether the desktop ended the capture; why is filled with its reason then. */
int kf_screen_is_lost(struct kf_screen *screen, char *why, size_t size);

/* How many viewers are attached now. */
int kf_screen_viewer_count(struct kf_screen *screen);

/* One line on what is shared and how ("X11 :0, desktop 1920x1080+0+0, ..."); owned by screen. */
const char *kf_screen_describe(const struct kf_screen *screen);

/* Stops the thread, closes every viewer and the desktop connection. NULL is allowed. */
void kf_screen_free(struct kf_screen *screen);

#endif
