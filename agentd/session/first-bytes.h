/* kefu-agentd: a stream that tells when the other side's first bytes arrive. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SESSION_FIRST_BYTES_H
#define KF_AGENTD_SESSION_FIRST_BYTES_H

#include "proto/session/stream.h"

/*
 * Anyone who reaches the relay's forwarded port can open a connection to the
 * agent and say nothing. The agent speaks first (its TLS ClientHello) and a
 * real console answers at once, so a connection that has sent nothing within a
 * few seconds is stalled. This stream passes everything through to and from
 * lower (which it owns from now on) and calls on_heard once, before the first
 * bytes are handed on. on_heard must not close the stream.
 */
struct kf_stream *kf_first_bytes_stream_new(struct kf_stream *lower, void (*on_heard)(void *user),
					    void *user);

#endif
