/* kefu: libFuzzer target for the header line of a "files" stream. SPDX-License-Identifier: MIT */
#include "proto/session/file-transfer.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_file_line line = {0};
	json_t *header = NULL;
	size_t offset = 0;

	/* In two pieces, as a stream may deliver it. */
	while (offset < size && header == NULL) {
		size_t piece = offset == 0 ? size / 2 + 1 : size - offset;
		int used = kf_file_line_take(&line, data + offset,
					     piece > size - offset ? size - offset : piece, &header,
					     NULL);

		if (used <= 0)
			break;
		offset += (size_t)used;
	}
	json_decref(header);
	return 0;
}
