/* kefu: a kf_stream handed out at once and connected when its transport is ready. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_STREAM_PENDING_H
#define KF_PROTO_STREAM_PENDING_H

#include "proto/session/stream.h"

/*
 * Some callers need a stream right away while the real one takes a few round
 * trips to open (a new session channel: SSH, TLS, authentication). A pending
 * stream queues what is written to it; kf_stream_pending_connect() hands the
 * queue to the real stream and from then on passes everything through, and
 * kf_stream_pending_fail() ends it with the reason instead.
 *
 * Two parties hold it: the user (until kf_stream_close) and the opener (until it
 * connects or fails it). It is freed when both are done; an opener whose
 * pending stream was closed meanwhile gets the real stream closed for it.
 */
struct kf_stream *kf_stream_pending_new(void);

/* The opener's real stream; the pending stream owns it from now on. */
void kf_stream_pending_connect(struct kf_stream *pending, struct kf_stream *real);

void kf_stream_pending_fail(struct kf_stream *pending, const struct kf_error *err);

#endif
