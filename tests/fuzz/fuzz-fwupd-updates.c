/* kefu: libFuzzer target for fwupd's list of updates (get-updates --json). SPDX-License-Identifier: MIT */
#include "agentd/firmware/fwupd.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_fwupd_update *updates = NULL;
	size_t count = 0;

	if (kf_fwupd_parse_updates((const char *)data, size, &updates, &count, NULL) == 0)
		kf_fwupd_updates_free(updates, count);
	return 0;
}
