/* kefu: the control channel: framed JSON messages over a kf_stream. SPDX-License-Identifier: MIT */
#include "proto/session/control.h"
#include "proto/base/guard.h"
#include "proto/session/frame.h"
#include "proto/session/parts.h"

#include <stdlib.h>
#include <string.h>

struct kf_control {
	struct kf_stream *stream;
	struct kf_control_callbacks callbacks;
	void *user;
	struct kf_frame_decoder *decoder;
	enum kf_msg_party self, peer;
	struct kf_parts_assembly assembly; /* a large body on its way in */
	uint32_t next_id;
	int bad_messages;
	int is_closed; /* on_closed fired */
	struct kf_guard guard;
};

static void control_destroy(struct kf_control *control)
{
	kf_stream_close(control->stream);
	kf_frame_decoder_free(control->decoder);
	kf_parts_reset(&control->assembly);
	free(control);
}

static void closed(struct kf_control *control, int status, const struct kf_error *err)
{
	if (control->is_closed || kf_guard_is_freed(&control->guard))
		return;
	control->is_closed = 1;
	if (control->callbacks.on_closed != NULL)
		control->callbacks.on_closed(control, status, err, control->user);
}

/* Answers a message that cannot be handled; a peer that keeps sending them is cut off. */
static void refuse(struct kf_control *control, const struct kf_msg *msg, const struct kf_error *why)
{
	struct kf_buf reply = {0};
	struct kf_error err;

	/*
	 * Replies are always well-formed, so two kefu peers cannot answer each
	 * other's errors forever; a hostile peer is cut off below.
	 */
	if (kf_msg_encode_error_for(&reply, ++control->next_id, msg, why, NULL) == KF_OK)
		kf_stream_write(control->stream, reply.data, reply.len, NULL);
	kf_buf_free(&reply);
	if (++control->bad_messages > KF_CONTROL_MAX_BAD_MESSAGES) {
		kf_error_set(&err, KF_ERR_INVALID,
			     "the other side keeps sending messages that make no sense");
		closed(control, KF_ERR_INVALID, &err);
	}
}

static void deliver(struct kf_control *control, const struct kf_msg *msg)
{
	if (control->callbacks.on_message != NULL)
		control->callbacks.on_message(control, msg, control->user);
}

static void handle_frame(struct kf_control *control, const struct kf_frame *frame)
{
	struct kf_error err;
	struct kf_msg msg, whole;
	int r;

	if (frame->type != KF_FRAME_CONTROL) {
		kf_error_set(&err, KF_ERR_INVALID,
			     "the other side sent a %s frame on the control channel",
			     kf_frame_type_name(frame->type));
		closed(control, KF_ERR_INVALID, &err);
		return;
	}
	if (kf_msg_decode(frame->payload, frame->length, &msg, &err) != KF_OK) {
		refuse(control, &msg, &err);
		kf_msg_clear(&msg);
		return;
	}
	if (!(msg.row->sender & control->peer)) {
		kf_error_set(&err, KF_ERR_INVALID, "'%s' is not a message the %s sends", msg.type,
			     control->peer == KF_PARTY_AGENT ? "customer's helper" : "console");
		msg.error_code = KF_MSG_ERROR_UNEXPECTED;
		refuse(control, &msg, &err);
	} else if (msg.row->type == KF_MSG_PART) {
		r = kf_parts_feed(&control->assembly, control->peer, &msg, &whole, &err);
		if (r < 0)
			refuse(control, &whole, &err);
		else if (r == 1)
			deliver(control, &whole);
		kf_msg_clear(&whole);
	} else {
		if (kf_parts_is_open(&control->assembly)) {
			/* Parts are sent back to back; anything between them abandons the body. */
			kf_error_set(&err, KF_ERR_INVALID,
				     "a '%s' body stopped after part %u of %u",
				     control->assembly.row->name, control->assembly.received,
				     control->assembly.parts);
			kf_parts_reset(&control->assembly);
			whole = (struct kf_msg){.error_code = KF_MSG_ERROR_BAD_MESSAGE};
			refuse(control, &whole, &err);
		}
		if (!control->is_closed)
			deliver(control, &msg);
	}
	kf_msg_clear(&msg);
}

static void on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct kf_control *control = user;
	struct kf_frame frame;
	struct kf_error err;
	size_t consumed;
	int r;

	(void)stream;
	kf_guard_enter(&control->guard);
	while (len > 0 && !control->is_closed && !kf_guard_is_freed(&control->guard)) {
		r = kf_frame_decoder_feed(control->decoder, data, len, &consumed, &frame, &err);
		if (r < 0) {
			closed(control, r, &err);
			break;
		}
		data += consumed;
		len -= consumed;
		if (r == 1)
			handle_frame(control, &frame);
	}
	if (kf_guard_leave(&control->guard))
		control_destroy(control);
}

static void on_end(struct kf_stream *stream, int status, const struct kf_error *err, void *user)
{
	struct kf_control *control = user;
	struct kf_error cut;

	(void)stream;
	kf_guard_enter(&control->guard);
	if (status == KF_OK && kf_frame_decoder_is_partial(control->decoder)) {
		kf_error_set(&cut, KF_ERR_CLOSED,
			     "the other side stopped in the middle of a message");
		closed(control, KF_ERR_CLOSED, &cut);
	} else {
		closed(control, status, err);
	}
	if (kf_guard_leave(&control->guard))
		control_destroy(control);
}

int kf_control_new(struct kf_stream *stream, enum kf_msg_party self,
		   const struct kf_control_callbacks *callbacks, void *user,
		   struct kf_control **out, struct kf_error *err)
{
	struct kf_control *control = calloc(1, sizeof(*control));

	*out = NULL;
	if (control == NULL ||
	    (control->decoder = kf_frame_decoder_new(KF_FRAME_MAX_CONTROL)) == NULL) {
		free(control);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for the control channel");
	}
	control->stream = stream;
	control->self = self;
	control->peer = self == KF_PARTY_AGENT ? KF_PARTY_CONSOLE : KF_PARTY_AGENT;
	control->callbacks = *callbacks;
	control->user = user;
	stream->on_read = on_read;
	stream->on_end = on_end;
	stream->on_drain = NULL;
	stream->user = control;
	*out = control;
	return KF_OK;
}

int kf_control_send(struct kf_control *control, const char *type, uint32_t re, json_t *body,
		    uint32_t *id, struct kf_error *err)
{
	const struct kf_msg_row *row = kf_msg_row_find(type);
	struct kf_buf out = {0};
	int r;

	if (control->is_closed)
		return kf_error_set(err, KF_ERR_CLOSED, "the session has ended");
	if (row == NULL || !(row->sender & control->self))
		return kf_error_set(err, KF_ERR_INVALID, "this side does not send '%s' messages",
				    type);
	r = kf_parts_encode(&out, type, &control->next_id, re, body, err);
	if (r == KF_OK)
		r = kf_stream_write(control->stream, out.data, out.len, err);
	kf_buf_free(&out);
	if (r == KF_OK && id != NULL)
		*id = control->next_id;
	return r;
}

int kf_control_send_error(struct kf_control *control, uint32_t re, const char *code,
			  const char *text, struct kf_error *err)
{
	json_t *body = json_pack("{s:s, s:s}", "code", code, "message", text);
	int r;

	if (body == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "error text is not valid UTF-8");
	r = kf_control_send(control, "error", re, body, NULL, err);
	json_decref(body);
	return r;
}

struct kf_stream *kf_control_stream(struct kf_control *control)
{
	return control->stream;
}

void kf_control_shutdown(struct kf_control *control)
{
	kf_stream_shutdown(control->stream);
}

void kf_control_free(struct kf_control *control)
{
	if (control != NULL && kf_guard_free(&control->guard))
		control_destroy(control);
}
