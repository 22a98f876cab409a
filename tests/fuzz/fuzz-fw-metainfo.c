/* kefu: libFuzzer target for the LVFS metainfo parser (expat, no entities, capped). SPDX-License-Identifier: MIT */
#include "proto/firmware/metainfo.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_fw_metainfo *metainfo = NULL;
	struct kf_error err;

	if (kf_fw_metainfo_parse((const char *)data, size, &metainfo, &err) == 0)
		kf_fw_metainfo_free(metainfo);
	return 0;
}
