/* kefu: bodies larger than one control frame, carried in "part" messages. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PARTS_H
#define KF_PROTO_PARTS_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"
#include "proto/session/message.h"
#include "proto/session/messages.h"

#include <jansson.h>
#include <stdint.h>

/*
 * A message whose row allows a large body (kf_msg_row_is_large) and whose
 * encoding does not fit one control frame travels as consecutive "part"
 * messages (PROTOCOL.md, "Large bodies"):
 *
 *   {"type": "part", "id": N, "body": {"type": T, "re": R, "part": I, "parts": M,
 *                                      "data": "<at most KF_PARTS_DATA bytes of the body's JSON>"}}
 *
 * The receiver joins the data, refuses more than the row's max_body bytes, and
 * decodes the joined text with the row's value and string limits; the message
 * it hands on has the last part's id. 12 KiB of JSON text, whose every quote
 * and backslash doubles when it becomes a string, stays under the 64 KiB frame
 * and the 16 KiB string limit of the part message itself.
 */
#define KF_PARTS_DATA (12 * 1024)

/*
 * Appends type with body to out: one message when it fits a frame, else its
 * parts. Each message takes the next id from *next_id (incremented first);
 * *next_id ends at the id of the last one. KF_ERR_TOO_LARGE when the body is
 * over its row's max_body, or over one frame for a type that must fit one.
 */
int kf_parts_encode(struct kf_buf *out, const char *type, uint32_t *next_id, uint32_t re,
		    json_t *body, struct kf_error *err);

/* The joining of one large body; zero it to start. */
struct kf_parts_assembly {
	const struct kf_msg_row *row; /* NULL when no body is being joined */
	uint32_t re;
	unsigned parts, received;
	struct kf_buf text;
};

/*
 * Takes one decoded "part" message from a peer that is party (KF_PARTY_*).
 * Returns 0 while more parts are due, 1 when the body is whole (out is then a
 * message like any decoded one: release it with kf_msg_clear), or a negative
 * code with out->error_code set for the answer (the assembly is then reset).
 */
int kf_parts_feed(struct kf_parts_assembly *assembly, enum kf_msg_party party,
		  const struct kf_msg *part, struct kf_msg *out, struct kf_error *err);

/* Whether a body is being joined. */
int kf_parts_is_open(const struct kf_parts_assembly *assembly);

/* Drops what was joined. */
void kf_parts_reset(struct kf_parts_assembly *assembly);

#endif
