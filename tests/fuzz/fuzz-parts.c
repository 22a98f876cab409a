/* kefu: libFuzzer target for large bodies joined from "part" messages. SPDX-License-Identifier: MIT */
#include "proto/session/frame.h"
#include "proto/session/message.h"
#include "proto/session/parts.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte says which side sent the frames that follow; every control
 * frame is decoded, and every "part" goes into one assembly, as the control
 * channel does. Whatever the parts say, the assembly must stay within the
 * row's limits and either refuse with an answer code or hand on one object.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_parts_assembly assembly = {0};
	struct kf_frame_decoder *decoder;
	enum kf_msg_party party;
	struct kf_frame frame;
	struct kf_error err;
	struct kf_msg msg, whole;
	size_t offset = 1, consumed;
	int r;

	if (size < 1)
		return 0;
	party = data[0] & 1 ? KF_PARTY_AGENT : KF_PARTY_CONSOLE;
	decoder = kf_frame_decoder_new(0);
	if (decoder == NULL)
		return 0;
	while (offset < size) {
		r = kf_frame_decoder_feed(decoder, data + offset, size - offset, &consumed, &frame,
					  &err);
		if (r < 0)
			break;
		offset += consumed;
		if (r == 0 || frame.type != KF_FRAME_CONTROL)
			continue;
		if (kf_msg_decode(frame.payload, frame.length, &msg, &err) == KF_OK &&
		    msg.row->type == KF_MSG_PART) {
			r = kf_parts_feed(&assembly, party, &msg, &whole, &err);
			if (r < 0 && whole.error_code == NULL)
				__builtin_trap();
			if (r == 1 && (!json_is_object(whole.body) || whole.row == NULL ||
				       whole.row->max_body < assembly.text.len))
				__builtin_trap();
			kf_msg_clear(&whole);
		}
		kf_msg_clear(&msg);
	}
	if (kf_parts_is_open(&assembly) && assembly.text.len > assembly.row->max_body)
		__builtin_trap();
	kf_parts_reset(&assembly);
	kf_frame_decoder_free(decoder);
	return 0;
}
