/* kefu-agentd: input for a desktop that must take it one event at a time.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_INPUT_QUEUE_H
#define KF_AGENTD_INPUT_QUEUE_H

#include "proto/base/error.h"

/*
 * xdg-desktop-portal handles each D-Bus call on a thread of its own, so calls sent one
 * after another without waiting can reach the compositor in another order: a button's
 * release before its press, which mutter ignores, and the click is lost. The queue
 * hands events to deliver() on a thread of its own, one at a time and in the order they
 * were pushed; deliver() returns once the desktop has answered. The screen's thread only
 * pushes, so a slow portal never holds up the picture.
 *
 * The queue also keeps what was delivered pressed, so that release() can let go of
 * exactly those keys and buttons, and moves waiting behind a move are merged (the
 * pointer goes straight to the newest place). At most KF_INPUT_QUEUE_SIZE events wait;
 * releases have room of their own beyond that, so a full queue never leaves a key held.
 */
#define KF_INPUT_QUEUE_SIZE 256
#define KF_INPUT_MAX_DOWN   64

enum kf_input_kind {
	KF_INPUT_MOVE,   /* x, y: the pointer's new place, in the stream's pixels */
	KF_INPUT_BUTTON, /* code: a Linux button code (BTN_LEFT...); is_down */
	KF_INPUT_SCROLL, /* code: 0 vertical, 1 horizontal; steps: -1 or 1 */
	KF_INPUT_KEY,    /* code: an X keysym; is_down */
};

struct kf_input_event {
	enum kf_input_kind kind;
	int x, y;
	unsigned code;
	int is_down;
	int steps;
};

/* Delivers one event and returns once the desktop has taken it (or refused it). */
typedef void (*kf_input_deliver_fn)(void *user, const struct kf_input_event *event);

struct kf_input_queue;

/* Starts the delivering thread. */
int kf_input_queue_start(struct kf_input_queue **out, kf_input_deliver_fn deliver, void *user,
			 struct kf_error *err);

/*
 * Queues event. A press of what is already held, or a release of what is not, is
 * dropped where it is delivered. Returns KF_ERR_TOO_LARGE (the event dropped) when
 * KF_INPUT_QUEUE_SIZE events already wait.
 */
int kf_input_queue_push(struct kf_input_queue *queue, const struct kf_input_event *event);

/*
 * Drops every event still waiting and releases every key and button that was delivered
 * pressed; returns once those releases are delivered, or after timeout_ms.
 */
void kf_input_queue_release(struct kf_input_queue *queue, int timeout_ms);

/* Stops the thread (the event being delivered finishes; the rest are dropped); frees. */
void kf_input_queue_free(struct kf_input_queue *queue);

#endif
