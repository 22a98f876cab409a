/* kefu: libFuzzer target for the view's RFB handshake parsers. SPDX-License-Identifier: MIT */
#include "console/screen/rfb-handshake.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The bytes play the agent's side of the handshake in order (version, security
 * types, result, ServerInit), each parser seeing a prefix that grows by one
 * byte at a time as a slow stream would deliver it; then each parser sees the
 * whole input on its own. A copy on the heap lets ASan catch any over-read.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	size_t offset = 0;
	int minor = 0;
	for (int step = 0; step < 4 && offset <= size; step++) {
		int used = 0;
		for (size_t len = 0; len <= size - offset; len++) {
			const uint8_t *in = copy + offset;
			switch (step) {
			case 0:
				used = kf_rfb_read_version(in, len, &minor);
				break;
			case 1:
				used = kf_rfb_read_security_types(in, len, 1);
				break;
			case 2:
				used = kf_rfb_read_security_result(in, len);
				break;
			default:
				used = kf_rfb_read_server_init(in, len, 4096);
				break;
			}
			if (used != 0)
				break;
		}
		if (used <= 0)
			break;
		if ((size_t)used > size - offset)
			abort();
		offset += (size_t)used;
	}
	if (kf_rfb_read_version(copy, size, &minor) > 0 && minor != 3 && minor != 7 && minor != 8)
		abort();
	kf_rfb_read_security_types(copy, size, 2);
	kf_rfb_read_security_result(copy, size);
	int used = kf_rfb_read_server_init(copy, size, 64);
	if (used > 0 && (size_t)used > size)
		abort();
	free(copy);
	return 0;
}
