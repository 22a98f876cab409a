/* kefu: what both ends of a support session hold, and how they let go of it.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_SESSION_CORE_H
#define KF_PROTO_SESSION_CORE_H

#include "proto/base/guard.h"
#include "proto/session/control.h"
#include "proto/session/proof.h"
#include "proto/session/stream.h"

#include <stdbool.h>
#include <uv.h>

/*
 * The agent's and the console's session objects both embed one: the TLS
 * stream and the control channel on it, the code's proof and secret, one timer
 * (set-up, then the end handshake), and the guard that defers freeing while
 * one of the session's callbacks is still running.
 */
struct kf_session_core {
	uv_loop_t *loop;
	struct kf_stream *tls;      /* until the control channel takes it over */
	struct kf_control *control; /* owns tls once made */
	struct kf_proof proof;
	char *secret; /* the code's secret, wiped when released */
	uv_timer_t timer;
	struct kf_guard guard; /* defers freeing while a session callback runs */
};

/* Starts the core's timer on loop; owner is freed with free() once it is released. */
void kf_session_core_init(struct kf_session_core *core, uv_loop_t *loop, void *owner);

/* A session callback starts... */
static inline void kf_session_core_enter(struct kf_session_core *core)
{
	kf_guard_enter(&core->guard);
}

/* ...and ends: true when the owner is to be destroyed now. */
static inline bool kf_session_core_leave(struct kf_session_core *core)
{
	return kf_guard_leave(&core->guard);
}

/* Whether the owner has asked to free the session. */
static inline bool kf_session_core_is_freed(const struct kf_session_core *core)
{
	return kf_guard_is_freed(&core->guard);
}

/*
 * The owner frees the session: true when it is to be destroyed now, false
 * when a callback runs (its leave destroys it) or it was freed already.
 */
static inline bool kf_session_core_free(struct kf_session_core *core)
{
	return kf_guard_free(&core->guard);
}

/*
 * Closes the control channel (or the bare TLS stream), clears the proof, wipes
 * the secret and closes the timer; the owner's memory is freed once libuv has
 * let go of the timer. Call it last when destroying the owner.
 */
void kf_session_core_release(struct kf_session_core *core);

#endif
