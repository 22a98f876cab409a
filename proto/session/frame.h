/* kefu: length-prefixed frames, the unit every kefu stream is cut into. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FRAME_H
#define KF_PROTO_FRAME_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>

/*
 * A frame is a 5-byte header, then the payload:
 *
 *   +--------+--------+--------+--------+--------+----------------------+
 *   |  type  |       payload length (big-endian u32)       |  payload ... |
 *   +--------+--------+--------+--------+--------+----------------------+
 *
 * See proto/session/PROTOCOL.md for the types and the limits.
 */
#define KF_FRAME_HEADER_SIZE 5

/* The largest payload of any frame: 1 MiB. */
#define KF_FRAME_MAX_PAYLOAD (1024u * 1024u)

/* The largest payload of a control frame (one JSON message): 64 KiB. */
#define KF_FRAME_MAX_CONTROL (64u * 1024u)

enum kf_frame_type {
	KF_FRAME_CONTROL = 1, /* one JSON control message (proto/session/message.h) */
	KF_FRAME_DATA = 2,    /* opaque bytes of a screen or bulk stream */
	KF_FRAME_END = 3,     /* the sender will send nothing more on this stream; empty */
};

struct kf_frame {
	uint8_t type;
	uint32_t length;
	/* Points into the decoder's memory; valid until the next call on the decoder. */
	const uint8_t *payload;
};

struct kf_frame_decoder;

/*
 * Creates a decoder that accepts payloads up to max_payload bytes (at most
 * KF_FRAME_MAX_PAYLOAD; 0 means KF_FRAME_MAX_PAYLOAD). Returns NULL when out of
 * memory. The caller owns the decoder and frees it with kf_frame_decoder_free().
 */
struct kf_frame_decoder *kf_frame_decoder_new(uint32_t max_payload);

void kf_frame_decoder_free(struct kf_frame_decoder *decoder);

/*
 * Feeds bytes in any chunking. Consumes input up to the end of the first frame
 * it completes and stores in *consumed how many bytes it took; call again with
 * the rest. Returns 1 when *frame holds a complete frame, 0 when every byte was
 * consumed and more input is needed, or a negative KF_ERR_* code. After an error
 * the stream cannot be resynchronised: every later call returns the same error.
 */
int kf_frame_decoder_feed(struct kf_frame_decoder *decoder, const uint8_t *data, size_t len,
			  size_t *consumed, struct kf_frame *frame, struct kf_error *err);

/* True when the decoder holds part of a frame (the stream ended mid-frame if it closes now). */
int kf_frame_decoder_is_partial(const struct kf_frame_decoder *decoder);

/* Appends one frame (header and payload) to out. */
int kf_frame_encode(struct kf_buf *out, uint8_t type, const void *payload, size_t len,
		    struct kf_error *err);

/* The name of a frame type for messages ("control", "data", "end"), or NULL if unknown. */
const char *kf_frame_type_name(uint8_t type);

#endif
