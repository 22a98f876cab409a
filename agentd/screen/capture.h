/* kefu-agentd: the desktop a screen share reads and drives. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_CAPTURE_H
#define KF_AGENTD_CAPTURE_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A capture backend owns the connection to one platform's desktop (X11 now;
 * Wayland, Windows and macOS later): it keeps a copy of the shared area in a
 * frame, says which rectangles of it changed, reports the cursor, and injects
 * input and clipboard text. Every call on one capture comes from one thread.
 */

#define KF_CAPTURE_MAX_RECTS 256

struct kf_rect {
	int x, y, width, height;
};

/* The frame's pixels: 8, 16 or 32 bits per pixel, true colour, in the masks given. */
struct kf_capture_frame {
	uint8_t *pixels; /* owned by the capture; valid until the next poll that resizes */
	int width, height, stride;
	int bits_per_pixel, depth;
	uint32_t red_mask, green_mask, blue_mask;
	int is_big_endian;
};

/* A cursor image in 32-bit ARGB (premultiplied as X gives it), owned by the capture. */
struct kf_capture_cursor {
	const uint32_t *argb;
	int width, height, hot_x, hot_y;
};

struct kf_capture_changes {
	struct kf_rect rects[KF_CAPTURE_MAX_RECTS];
	int rect_count;
	int is_resized;         /* the frame was reallocated with a new size: send all of it */
	int is_cursor_changed;  /* the cursor shape changed: read it with cursor() */
	int cursor_x, cursor_y; /* the pointer, in frame coordinates */
	/* Text newly copied on the desktop (UTF-8), owned by the capture until the next poll. */
	const char *clipboard;
	size_t clipboard_len;
};

struct kf_capture;

struct kf_capture_ops {
	/* The file descriptor to poll for readability, or -1 when the backend must be polled. */
	int (*fd)(struct kf_capture *capture);
	/*
	 * Whether events already wait in the backend's own queue, where polling fd cannot
	 * see them (read along with a reply); NULL when the backend keeps none.
	 */
	bool (*has_queued)(struct kf_capture *capture);
	/* Reads what happened since the last call without blocking; fills changes. */
	int (*poll)(struct kf_capture *capture, struct kf_capture_changes *changes,
		    struct kf_error *err);
	const struct kf_capture_frame *(*frame)(struct kf_capture *capture);
	int (*cursor)(struct kf_capture *capture, struct kf_capture_cursor *cursor);
	/* Input, in frame coordinates; buttons is the RFB mask (bit 0 = left). */
	void (*pointer)(struct kf_capture *capture, int buttons, int x, int y);
	void (*key)(struct kf_capture *capture, uint32_t keysym, int is_down);
	/* Offers text (UTF-8) as the desktop's clipboard and primary selection. */
	void (*set_clipboard)(struct kf_capture *capture, const char *text, size_t len);
	/* Releases any button or key this capture pressed and has not released. */
	void (*release_input)(struct kf_capture *capture);
	/* A one-line description: "X11 :0, 1920x1080, XDamage, XTest". */
	const char *(*describe)(struct kf_capture *capture);
	void (*free)(struct kf_capture *capture);
};

struct kf_capture {
	const struct kf_capture_ops *ops;
};

/*
 * Lets another thread give up an open that waits for the customer (the
 * desktop's own dialog on Wayland): once fired, a waiting open closes what it
 * asked the desktop for and fails with KF_ERR_CLOSED, and a later one fails
 * at once. Safe to fire from any thread, any number of times.
 */
struct kf_capture_cancel {
	int fd; /* an eventfd, readable once fired */
};

int kf_capture_cancel_init(struct kf_capture_cancel *cancel, struct kf_error *err);
void kf_capture_cancel_fire(struct kf_capture_cancel *cancel);
int kf_capture_cancel_is_fired(const struct kf_capture_cancel *cancel);
void kf_capture_cancel_destroy(struct kf_capture_cancel *cancel);

struct kf_capture_options {
	const char *display;    /* NULL: the environment's */
	int monitor;            /* -1: the whole desktop; N: that monitor only */
	int is_damage_disabled; /* compare tiles even when the platform reports damage */
	/* NULL: the open cannot be given up; else owned by the caller, alive during the open. */
	struct kf_capture_cancel *cancel;
	/*
	 * NULL, or the caller's buffer for the desktop's restore token (Wayland's
	 * ScreenCast portal): read to reopen without asking, rewritten with the
	 * token the desktop gives. Its owner decides how long it is remembered.
	 */
	char *restore_token;
	size_t restore_token_size;
};

/*
 * Opens the platform's desktop (on Wayland this shows the desktop's own
 * sharing dialog and waits for it). On a desktop it cannot capture (no
 * display at all, no portal) it fails with KF_ERR_UNSUPPORTED and a message
 * saying what is and is not supported. The caller owns *out and frees it with
 * ops->free.
 */
int kf_capture_open(const struct kf_capture_options *options, struct kf_capture **out,
		    struct kf_error *err);

/* Whether this is a Wayland session (XDG_SESSION_TYPE or WAYLAND_DISPLAY say so). */
int kf_capture_is_wayland(void);

#endif
