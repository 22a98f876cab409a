/* kefu: libFuzzer target for the LVFS metadata parser (components, releases, checksums). SPDX-License-Identifier: MIT */
#include "proto/firmware/metadata.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_fw_metadata *md = NULL;
	struct kf_error err;

	if (kf_fw_metadata_parse((const char *)data, size, &md, &err) == 0)
		kf_fw_metadata_free(md);
	return 0;
}
