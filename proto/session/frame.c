/* kefu: length-prefixed frames, the unit every kefu stream is cut into. SPDX-License-Identifier: MIT */
#include "proto/session/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kf_frame_decoder {
	uint32_t max_payload;
	uint8_t header[KF_FRAME_HEADER_SIZE];
	size_t header_have;
	uint8_t type;
	uint32_t length;
	uint8_t *payload;
	size_t payload_have;
	int failure; /* KF_OK, or the error that ended the stream */
	struct kf_error failure_error;
};

const char *kf_frame_type_name(uint8_t type)
{
	switch (type) {
	case KF_FRAME_CONTROL:
		return "control";
	case KF_FRAME_DATA:
		return "data";
	case KF_FRAME_END:
		return "end";
	}
	return NULL;
}

static uint32_t frame_type_limit(uint8_t type, uint32_t max_payload)
{
	switch (type) {
	case KF_FRAME_CONTROL:
		return max_payload < KF_FRAME_MAX_CONTROL ? max_payload : KF_FRAME_MAX_CONTROL;
	case KF_FRAME_DATA:
		return max_payload;
	case KF_FRAME_END:
		return 0;
	}
	return 0;
}

struct kf_frame_decoder *kf_frame_decoder_new(uint32_t max_payload)
{
	struct kf_frame_decoder *decoder;

	if (max_payload == 0 || max_payload > KF_FRAME_MAX_PAYLOAD)
		max_payload = KF_FRAME_MAX_PAYLOAD;
	decoder = calloc(1, sizeof(*decoder));
	if (decoder == NULL)
		return NULL;
	decoder->max_payload = max_payload;
	return decoder;
}

void kf_frame_decoder_free(struct kf_frame_decoder *decoder)
{
	if (decoder == NULL)
		return;
	free(decoder->payload);
	free(decoder);
}

int kf_frame_decoder_is_partial(const struct kf_frame_decoder *decoder)
{
	return decoder->header_have > 0;
}

static int decoder_fail(struct kf_frame_decoder *decoder, struct kf_error *err, int code,
			const char *message)
{
	decoder->failure = code;
	kf_error_set(&decoder->failure_error, code, "%s", message);
	return kf_error_set(err, code, "%s", message);
}

/* Validates a complete header; on success the payload buffer is ready to fill. */
static int decoder_start_payload(struct kf_frame_decoder *decoder, struct kf_error *err)
{
	const uint8_t *h = decoder->header;
	char message[128];
	uint32_t limit;

	decoder->type = h[0];
	decoder->length = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
	if (kf_frame_type_name(decoder->type) == NULL) {
		snprintf(message, sizeof(message), "frame of unknown type %u", decoder->type);
		return decoder_fail(decoder, err, KF_ERR_UNSUPPORTED, message);
	}
	limit = frame_type_limit(decoder->type, decoder->max_payload);
	if (decoder->length > limit) {
		snprintf(message, sizeof(message), "%s frame of %u bytes is over the limit of %u",
			 kf_frame_type_name(decoder->type), decoder->length, limit);
		return decoder_fail(decoder, err, KF_ERR_TOO_LARGE, message);
	}
	free(decoder->payload);
	decoder->payload = NULL;
	decoder->payload_have = 0;
	if (decoder->length > 0) {
		decoder->payload = malloc(decoder->length);
		if (decoder->payload == NULL)
			return decoder_fail(decoder, err, KF_ERR_NOMEM,
					    "out of memory for a frame");
	}
	return KF_OK;
}

int kf_frame_decoder_feed(struct kf_frame_decoder *decoder, const uint8_t *data, size_t len,
			  size_t *consumed, struct kf_frame *frame, struct kf_error *err)
{
	size_t used = 0, take;
	int r;

	*consumed = 0;
	if (decoder->failure != KF_OK)
		return kf_error_set(err, decoder->failure, "%s", decoder->failure_error.message);

	if (decoder->header_have < KF_FRAME_HEADER_SIZE) {
		take = KF_FRAME_HEADER_SIZE - decoder->header_have;
		if (take > len)
			take = len;
		memcpy(decoder->header + decoder->header_have, data, take);
		decoder->header_have += take;
		used += take;
		if (decoder->header_have < KF_FRAME_HEADER_SIZE) {
			*consumed = used;
			return 0;
		}
		if ((r = decoder_start_payload(decoder, err)) != KF_OK) {
			*consumed = used;
			return r;
		}
	}

	take = decoder->length - decoder->payload_have;
	if (take > len - used)
		take = len - used;
	if (take > 0) {
		memcpy(decoder->payload + decoder->payload_have, data + used, take);
		decoder->payload_have += take;
		used += take;
	}
	*consumed = used;
	if (decoder->payload_have < decoder->length)
		return 0;

	frame->type = decoder->type;
	frame->length = decoder->length;
	frame->payload = decoder->payload;
	/* The next header starts fresh; the payload stays valid until the next call. */
	decoder->header_have = 0;
	return 1;
}

int kf_frame_encode(struct kf_buf *out, uint8_t type, const void *payload, size_t len,
		    struct kf_error *err)
{
	uint32_t limit;
	int r;

	if (kf_frame_type_name(type) == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "cannot encode a frame of unknown type %u",
				    type);
	limit = frame_type_limit(type, KF_FRAME_MAX_PAYLOAD);
	if (len > limit)
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "%s frame of %zu bytes is over the limit of %u",
				    kf_frame_type_name(type), len, limit);
	if ((r = kf_buf_reserve(out, KF_FRAME_HEADER_SIZE + len)) != KF_OK)
		return kf_error_set(err, r, "out of memory for a frame");
	kf_buf_append(out, &type, 1);
	kf_buf_append_u32(out, (uint32_t)len);
	kf_buf_append(out, payload, len);
	return KF_OK;
}
