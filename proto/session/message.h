/* kefu: the JSON control-message envelope carried in control frames. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_MESSAGE_H
#define KF_PROTO_MESSAGE_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <jansson.h>
#include <stdint.h>

/*
 * A control message is one JSON object (see proto/session/PROTOCOL.md):
 *
 *   {"v": 1, "type": "chat", "id": 7, "body": {...}}
 *   {"v": 1, "type": "error", "id": 8, "re": 7, "body": {"code": "...", "message": "..."}}
 */
#define KF_PROTO_VERSION  1
#define KF_MSG_MAX_SIZE   (64 * 1024) /* bytes of JSON, the control frame limit */
#define KF_MSG_MAX_DEPTH  16          /* nesting of objects and arrays, envelope included */
#define KF_MSG_MAX_STRING 16384       /* bytes of one string or key */
#define KF_MSG_MAX_VALUES 4096        /* values in one message, all levels */
#define KF_MSG_TYPE_MAX   32          /* bytes of a type name */
#define KF_MSG_ID_MAX     4294967295u /* ids are 1 .. 2^32-1 */

/* The error codes an "error" message carries in body.code. */
#define KF_MSG_ERROR_BAD_MESSAGE         "bad-message"
#define KF_MSG_ERROR_TOO_LARGE           "too-large"
#define KF_MSG_ERROR_UNKNOWN_TYPE        "unknown-type"
#define KF_MSG_ERROR_UNSUPPORTED_VERSION "unsupported-version"
#define KF_MSG_ERROR_UNEXPECTED          "unexpected" /* a type this side does not take now */

struct kf_msg_row;

struct kf_msg {
	int version;
	char type[KF_MSG_TYPE_MAX + 1];
	const struct kf_msg_row *row; /* the type's row in the message table (messages.h) */
	uint32_t id;                  /* 0 when the message had no usable id */
	uint32_t re;                  /* the id this message answers, or 0 */
	json_t *body; /* owned by the message; an object, never NULL after a successful decode */
	/* After a failed decode: the error code to answer with (KF_MSG_ERROR_*). */
	const char *error_code;
};

/*
 * Parses and checks one message. On success fills msg (release it with
 * kf_msg_clear()) and returns KF_OK. Otherwise returns:
 *   KF_ERR_INVALID      not JSON, not UTF-8, duplicate keys, missing or mistyped fields;
 *   KF_ERR_TOO_LARGE    over a size, depth, string or value-count limit;
 *   KF_ERR_UNSUPPORTED  an unknown protocol version or message type.
 * Even on failure msg->id holds the request id when one could be read, so that
 * the caller can answer with kf_msg_encode_error_for(); msg needs kf_msg_clear().
 */
int kf_msg_decode(const uint8_t *data, size_t len, struct kf_msg *msg, struct kf_error *err);

/* Releases what msg owns and zeroes it. */
void kf_msg_clear(struct kf_msg *msg);

/*
 * Appends one control frame holding the message to out. body may be NULL (an
 * empty object); the caller keeps its reference. re is 0 when the message answers nothing.
 */
int kf_msg_encode(struct kf_buf *out, const char *type, uint32_t id, uint32_t re, json_t *body,
		  struct kf_error *err);

/* Appends an "error" message answering request re with the given code and text. */
int kf_msg_encode_error(struct kf_buf *out, uint32_t id, uint32_t re, const char *code,
			const char *text, struct kf_error *err);

/*
 * Appends the "error" message that answers a failed kf_msg_decode(): the code
 * is failed->error_code, the text the decoder's message.
 */
int kf_msg_encode_error_for(struct kf_buf *out, uint32_t id, const struct kf_msg *failed,
			    const struct kf_error *decode_error, struct kf_error *err);

/*
 * Decodes the JSON text of a body of row's type with the row's limits: an
 * object, no duplicate keys, at most 16 levels, max_values and max_string.
 */
int kf_msg_decode_body(const struct kf_msg_row *row, const char *text, size_t len, json_t **body,
		       struct kf_error *err);

/* True when type is one of the message types of this protocol version (messages.h). */
int kf_msg_type_is_known(const char *type);

#endif
