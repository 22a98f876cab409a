/* kefu: libFuzzer target for the kefu://join link (agentd/join-url.c). SPDX-License-Identifier: MIT */
#include "agentd/join-url.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_join_url url;
	struct kf_error err;

	if (kf_join_url_parse((const char *)data, size, &url, &err) != KF_OK) {
		assert(strchr(err.message, '\n') == NULL);
		return 0;
	}
	/* What a link gives is always short, printable and without shell characters. */
	assert(strlen(url.relay) < sizeof(url.relay));
	assert(strpbrk(url.relay, "/ $`'\";|&") == NULL);
	assert(strpbrk(url.case_number, "/ $`'\";|&.") == NULL);
	for (const char *p = url.organisation; *p != '\0'; p++)
		assert((unsigned char)*p >= 0x20 && *p != 0x7f);
	return 0;
}
