/* kefu: libFuzzer target for what a peer controls during session set-up. SPDX-License-Identifier: MIT */
#include "proto/base/base64.h"
#include "proto/session/code.h"
#include "proto/session/message.h"
#include "proto/session/pake.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the parser: a proof message's fields as they are read from
 * JSON and base64 into a SPAKE2 share, or a typed session code.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t context[KF_PAKE_CONTEXT_SIZE] = {0};
	uint8_t share[KF_PAKE_SHARE_SIZE + 8], mine[KF_PAKE_CONFIRM_SIZE],
		expected[KF_PAKE_CONFIRM_SIZE];
	struct kf_pake *pake;
	struct kf_msg msg;
	struct kf_code code;
	char *text;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: /* a whole proof.reply message, decoded as the agent does */
		if (kf_msg_decode(data + 1, size - 1, &msg, NULL) == KF_OK) {
			json_t *field = json_object_get(msg.body, "share");

			if (json_is_string(field)) {
				int len = kf_base64_decode(json_string_value(field),
							   json_string_length(field), share,
							   sizeof(share));

				if (len >= 0 &&
				    kf_pake_new(&pake, 1, "123456", context, sizeof(context),
						"kefu-agent", "console", NULL) == KF_OK) {
					kf_pake_finish(pake, share, (size_t)len, mine, expected,
						       NULL);
					kf_pake_free(pake);
				}
			}
		}
		kf_msg_clear(&msg);
		break;
	case 1: /* raw share bytes straight into the curve arithmetic */
		if (kf_pake_new(&pake, 0, "654321", context, sizeof(context), "kefu-agent",
				"console", NULL) == KF_OK) {
			kf_pake_finish(pake, data + 1, size - 1, mine, expected, NULL);
			kf_pake_free(pake);
		}
		break;
	default: /* a code as a technician types it */
		text = malloc(size);
		if (text == NULL)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		kf_code_parse(text, &code, NULL);
		free(text);
		break;
	}
	return 0;
}
