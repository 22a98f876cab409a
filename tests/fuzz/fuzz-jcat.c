/* kefu: libFuzzer target for Jcat decompression, JSON parsing and blob lookup. SPDX-License-Identifier: MIT */
#include "proto/firmware/jcat.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is the Jcat file; the payload is fixed, so checksum mismatches end most runs. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t payload[] = "p";
	struct kf_error err;

	(void)kf_jcat_verify(data, size, "p", payload, 1, "/nonexistent-ca.pem", &err);
	return 0;
}
