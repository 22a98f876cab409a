/* kefu: libFuzzer target for the support profile parser. SPDX-License-Identifier: MIT */
#include "proto/session/profile.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_profile *profile = NULL;

	if (kf_profile_parse((const char *)data, size, &profile, NULL) == KF_OK)
		kf_profile_free(profile);
	return 0;
}
