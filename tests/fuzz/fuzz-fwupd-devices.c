/* kefu: libFuzzer target for fwupd's device list and history JSON. SPDX-License-Identifier: MIT */
#include "agentd/firmware/fwupd.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_fwupd_device *devices = NULL;
	size_t count = 0;

	if (kf_fwupd_parse_devices((const char *)data, size, &devices, &count, NULL) == 0)
		kf_fwupd_devices_free(devices, count);
	return 0;
}
