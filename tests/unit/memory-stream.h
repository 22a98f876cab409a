/* kefu tests: a pair of in-memory kf_streams pumped by the test itself. SPDX-License-Identifier: MIT */
#ifndef KF_TESTS_MEMORY_STREAM_H
#define KF_TESTS_MEMORY_STREAM_H

#include "proto/session/stream.h"

/*
 * Bytes written on one end wait in the other end's inbox until
 * memory_stream_pump() delivers them, so that handshakes run step by step
 * without recursion. Tamper hooks let a test play the man in the middle.
 */
struct memory_stream;

void memory_stream_pair(struct kf_stream **a, struct kf_stream **b);

/* Delivers queued bytes both ways until nothing moves; returns how many bytes moved. */
size_t memory_stream_pump(struct kf_stream *a, struct kf_stream *b);

/* Flips one bit of the next bytes delivered to this end (a tampering relay). */
void memory_stream_corrupt_next(struct kf_stream *end);

/* Ends the peer's reading: this end receives on_end(KF_OK) on the next pump. */
void memory_stream_hang_up(struct kf_stream *end);

#endif
