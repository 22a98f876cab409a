/* kefu: the control channel: framed JSON messages over a kf_stream. SPDX-License-Identifier: MIT */
#include "proto/session/control.h"
#include "proto/session/frame.h"

#include <stdlib.h>
#include <string.h>

struct kf_control {
	struct kf_stream *stream;
	struct kf_control_callbacks callbacks;
	void *user;
	struct kf_frame_decoder *decoder;
	uint32_t next_id;
	int bad_messages;
	int is_closed; /* on_closed fired */
	int is_freed;
	int depth;
};

static void control_destroy(struct kf_control *control)
{
	kf_stream_close(control->stream);
	kf_frame_decoder_free(control->decoder);
	free(control);
}

static void closed(struct kf_control *control, int status, const struct kf_error *err)
{
	if (control->is_closed || control->is_freed)
		return;
	control->is_closed = 1;
	if (control->callbacks.on_closed != NULL)
		control->callbacks.on_closed(control, status, err, control->user);
}

static void handle_frame(struct kf_control *control, const struct kf_frame *frame)
{
	struct kf_error err;
	struct kf_msg msg;

	if (frame->type != KF_FRAME_CONTROL) {
		kf_error_set(&err, KF_ERR_INVALID,
			     "the other side sent a %s frame on the control channel",
			     kf_frame_type_name(frame->type));
		closed(control, KF_ERR_INVALID, &err);
		return;
	}
	if (kf_msg_decode(frame->payload, frame->length, &msg, &err) != KF_OK) {
		struct kf_buf reply = {0};

		/*
		 * Replies are always well-formed, so two kefu peers cannot answer each
		 * other's errors forever; a hostile peer is cut off below.
		 */
		if (kf_msg_encode_error_for(&reply, ++control->next_id, &msg, &err, NULL) == KF_OK)
			kf_stream_write(control->stream, reply.data, reply.len, NULL);
		kf_buf_free(&reply);
		kf_msg_clear(&msg);
		if (++control->bad_messages > KF_CONTROL_MAX_BAD_MESSAGES) {
			kf_error_set(&err, KF_ERR_INVALID,
				     "the other side keeps sending messages that make no sense");
			closed(control, KF_ERR_INVALID, &err);
		}
		return;
	}
	if (control->callbacks.on_message != NULL)
		control->callbacks.on_message(control, &msg, control->user);
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
	control->depth++;
	while (len > 0 && !control->is_closed && !control->is_freed) {
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
	if (--control->depth == 0 && control->is_freed)
		control_destroy(control);
}

static void on_end(struct kf_stream *stream, int status, const struct kf_error *err, void *user)
{
	struct kf_control *control = user;
	struct kf_error cut;

	(void)stream;
	control->depth++;
	if (status == KF_OK && kf_frame_decoder_is_partial(control->decoder)) {
		kf_error_set(&cut, KF_ERR_CLOSED,
			     "the other side stopped in the middle of a message");
		closed(control, KF_ERR_CLOSED, &cut);
	} else {
		closed(control, status, err);
	}
	if (--control->depth == 0 && control->is_freed)
		control_destroy(control);
}

int kf_control_new(struct kf_stream *stream, const struct kf_control_callbacks *callbacks,
		   void *user, struct kf_control **out, struct kf_error *err)
{
	struct kf_control *control = calloc(1, sizeof(*control));

	*out = NULL;
	if (control == NULL ||
	    (control->decoder = kf_frame_decoder_new(KF_FRAME_MAX_CONTROL)) == NULL) {
		free(control);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for the control channel");
	}
	control->stream = stream;
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
	struct kf_buf out = {0};
	uint32_t new_id = ++control->next_id;
	int r;

	if (control->is_closed)
		return kf_error_set(err, KF_ERR_CLOSED, "the session has ended");
	r = kf_msg_encode(&out, type, new_id, re, body, err);
	if (r == KF_OK)
		r = kf_stream_write(control->stream, out.data, out.len, err);
	kf_buf_free(&out);
	if (r == KF_OK && id != NULL)
		*id = new_id;
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
	if (control == NULL || control->is_freed)
		return;
	control->is_freed = 1;
	if (control->depth == 0)
		control_destroy(control);
}
