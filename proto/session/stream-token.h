/* kefu: how a further stream of a session proves which session it belongs to. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_STREAM_TOKEN_H
#define KF_PROTO_STREAM_TOKEN_H

#include "proto/base/error.h"
#include "proto/session/stream.h"

#include <stdint.h>

/*
 * Streams beyond the control channel (the screen, bulk transfers) are SSH channels
 * of their own with TLS of their own. Inside that TLS, before anything else, the
 * console sends a preamble: "KFS1", 32 bytes of the control channel's TLS exporter
 * KF_STREAM_TOKEN_LABEL (which only the two ends of that session can compute), and
 * the stream's purpose, 8 bytes padded with NULs. The agent also requires the same
 * technician certificate as on the control channel.
 */
#define KF_STREAM_PREAMBLE_SIZE 44
#define KF_STREAM_PURPOSE_SIZE  8
#define KF_STREAM_TOKEN_LABEL   "EXPORTER-kefu-stream-token"

/* Builds the preamble for purpose ("screen"), from the control channel's TLS stream. */
int kf_stream_token_preamble(struct kf_stream *control_tls, const char *purpose,
			     uint8_t out[KF_STREAM_PREAMBLE_SIZE], struct kf_error *err);

/* Checks a received preamble; on success purpose holds its NUL-terminated purpose. */
int kf_stream_token_check(struct kf_stream *control_tls, const uint8_t *preamble,
			  char purpose[KF_STREAM_PURPOSE_SIZE + 1], struct kf_error *err);

#endif
