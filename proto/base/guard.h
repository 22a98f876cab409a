/* kefu: the guard that defers destroying an object freed inside one of its own callbacks.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_GUARD_H
#define KF_PROTO_GUARD_H

#include <stdbool.h>

/*
 * An object whose callbacks may free it embeds one, zeroed. Every entry point
 * that runs the owner's callbacks is bracketed by kf_guard_enter() and
 * kf_guard_leave(); the object's _free calls kf_guard_free(). Whichever of the
 * two sees the last callback end after the free destroys the object, so code
 * running inside a callback never touches freed memory. Code between enter and
 * leave checks kf_guard_is_freed() after each callback and stops early.
 */
struct kf_guard {
	int depth;     /* the object's callbacks running now */
	bool is_freed; /* the owner asked to free it */
};

/* A callback of the object starts... */
static inline void kf_guard_enter(struct kf_guard *guard)
{
	guard->depth++;
}

/* ...and ends: true when the object was freed meanwhile and is to be destroyed now. */
static inline bool kf_guard_leave(struct kf_guard *guard)
{
	return --guard->depth == 0 && guard->is_freed;
}

/* Whether the owner has freed the object (a callback still runs, or it is being destroyed). */
static inline bool kf_guard_is_freed(const struct kf_guard *guard)
{
	return guard->is_freed;
}

/*
 * The owner frees the object: true when it is to be destroyed now (no callback
 * runs), false when a callback runs (kf_guard_leave destroys it) or when it was
 * freed already (a second free does nothing).
 */
static inline bool kf_guard_free(struct kf_guard *guard)
{
	if (guard->is_freed)
		return false;
	guard->is_freed = true;
	return guard->depth == 0;
}

#endif
