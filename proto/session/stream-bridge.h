/* kefu: two kf_streams joined end to end, with back-pressure both ways. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_STREAM_BRIDGE_H
#define KF_PROTO_STREAM_BRIDGE_H

#include "proto/session/stream.h"

/*
 * Copies every byte read on a to b and on b to a. A side whose peer has
 * KF_STREAM_HIGH_WATER bytes queued stops reading until the peer drains. When
 * either side ends, the other is shut down and both are closed; the bridge then
 * frees itself. It owns both streams from the call on.
 */
struct kf_stream_bridge;

struct kf_stream_bridge *kf_stream_bridge_new(struct kf_stream *a, struct kf_stream *b,
					      void (*on_closed)(void *user), void *user);

/* Closes both streams at once (a revoked grant); on_closed is not called. */
void kf_stream_bridge_close(struct kf_stream_bridge *bridge);

#endif
