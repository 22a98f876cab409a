/* kefu: libFuzzer target for the frame decoder and the message envelope. SPDX-License-Identifier: MIT */
#include "proto/session/frame.h"
#include "proto/session/message.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte chooses the chunk size the stream is fed in, so that the
 * fuzzer explores split points; every control frame is decoded as a message
 * and every failure must produce an encodable error reply.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_frame_decoder *decoder;
	struct kf_frame frame;
	struct kf_error err;
	struct kf_buf reply = {0};
	size_t chunk, offset = 1, consumed;
	int r;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	decoder = kf_frame_decoder_new(0);
	if (decoder == NULL)
		return 0;
	while (offset < size) {
		size_t len = size - offset < chunk ? size - offset : chunk;

		r = kf_frame_decoder_feed(decoder, data + offset, len, &consumed, &frame, &err);
		if (r < 0)
			break;
		if (consumed == 0 && r == 0)
			abort(); /* a decoder that takes nothing and wants more would spin */
		offset += consumed;
		if (r == 1 && frame.type == KF_FRAME_CONTROL) {
			struct kf_msg msg;

			if (kf_msg_decode(frame.payload, frame.length, &msg, &err) != KF_OK) {
				if (kf_msg_encode_error_for(&reply, 1, &msg, &err, NULL) != KF_OK)
					abort();
			} else if (kf_msg_encode(&reply, msg.type, msg.id, msg.re, msg.body,
						 NULL) != KF_OK) {
				abort(); /* what decoded must encode again */
			}
			kf_msg_clear(&msg);
			kf_buf_reset(&reply);
		}
	}
	kf_buf_free(&reply);
	kf_frame_decoder_free(decoder);
	return 0;
}
