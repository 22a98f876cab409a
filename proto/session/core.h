/* kefu: what both ends of a support session hold, and how they let go of it.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_SESSION_CORE_H
#define KF_PROTO_SESSION_CORE_H

#include "proto/base/guard.h"
#include "proto/session/control.h"
#include "proto/session/proof.h"
#include "proto/session/stream.h"
#include "proto/session/tls-stream.h"

#include <openssl/ssl.h>
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

/*
 * What both sides do to begin a session whose owner was just allocated, zeroed,
 * and inside the owner's guard: keeps a copy of the code's secret, initialises
 * the core, starts its timer for timeout_ms with on_timeout, and begins TLS on
 * channel (the agent is the client, the console the server). The channel is
 * closed on any failure. When the secret could not be kept the core is not
 * initialised (kf_session_core_is_open is false) and the owner is the caller's
 * to free(); otherwise it is released through kf_session_core_release().
 */
int kf_session_core_open(struct kf_session_core *core, uv_loop_t *loop, void *owner,
			 const char *secret, struct kf_stream *channel, SSL_CTX *tls_context,
			 int is_server, kf_tls_handshake_cb on_handshake, uv_timer_cb on_timeout,
			 uint64_t timeout_ms, struct kf_error *err);

/* Whether kf_session_core_open got as far as initialising the core. */
static inline bool kf_session_core_is_open(const struct kf_session_core *core)
{
	return core->loop != NULL;
}

/* Sends a chat line; KF_ERR_INVALID when text is not valid UTF-8. */
int kf_session_core_chat(struct kf_session_core *core, const char *text, struct kf_error *err);

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
