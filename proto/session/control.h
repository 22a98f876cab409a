/* kefu: the control channel: framed JSON messages over a kf_stream. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_CONTROL_H
#define KF_PROTO_CONTROL_H

#include "proto/base/error.h"
#include "proto/session/message.h"
#include "proto/session/messages.h"
#include "proto/session/stream.h"

#include <jansson.h>
#include <stdint.h>

/*
 * Cuts the bytes of a stream into frames, decodes control messages and hands
 * them over one by one; answers every message it cannot decode with an "error"
 * message (never an error with an error), and ends the channel when the framing
 * itself breaks or the peer keeps sending garbage. Sends messages with fresh ids.
 */
struct kf_control;

struct kf_control_callbacks {
	/* A decoded message; msg is valid during the call only. */
	void (*on_message)(struct kf_control *control, const struct kf_msg *msg, void *user);
	/*
	 * The channel ended: status KF_OK for an orderly end of the peer's data, else
	 * the failure. Fires once; then the caller frees the control.
	 */
	void (*on_closed)(struct kf_control *control, int status, const struct kf_error *err,
			  void *user);
};

/* The most undecodable messages tolerated before the channel is ended. */
#define KF_CONTROL_MAX_BAD_MESSAGES 8

/*
 * Takes over stream (freeing the control closes it) and its callbacks; self is
 * this side's party, so that messages the other side may not send (the
 * message table's sender column) are answered "unexpected" and never handed
 * on. The caller owns *control and releases it with kf_control_free().
 */
int kf_control_new(struct kf_stream *stream, enum kf_msg_party self,
		   const struct kf_control_callbacks *callbacks, void *user,
		   struct kf_control **control, struct kf_error *err);

/*
 * Sends a message, in parts when its row allows a large body and it does not
 * fit one frame; returns its id (the last part's) in *id when id is not NULL.
 * body is borrowed.
 */
int kf_control_send(struct kf_control *control, const char *type, uint32_t re, json_t *body,
		    uint32_t *id, struct kf_error *err);

/* Sends an error answering message re. */
int kf_control_send_error(struct kf_control *control, uint32_t re, const char *code,
			  const char *text, struct kf_error *err);

/* The stream below, e.g. for TLS identity and exporter calls. */
struct kf_stream *kf_control_stream(struct kf_control *control);

/* Sends EOF after what is queued (an orderly end). */
void kf_control_shutdown(struct kf_control *control);

/* Closes the stream and frees the control; safe inside its own callbacks. */
void kf_control_free(struct kf_control *control);

#endif
