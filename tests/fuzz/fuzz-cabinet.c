/* kefu: libFuzzer target for cabinet reading (libarchive CAB, names, sizes, duplicates). SPDX-License-Identifier: MIT */
#include "proto/firmware/cab-archive.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small limits keep each run fast; the checks are the same as with the defaults. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kf_cabinet_limits limits = {16, 1024 * 1024, 4 * 1024 * 1024};
	struct kf_cabinet *cabinet = NULL;
	struct kf_error err;

	if (kf_cabinet_read_memory(data, size, &limits, &cabinet, &err) == 0)
		kf_cabinet_free(cabinet);
	return 0;
}
