/* kefu: libFuzzer target for the step output protocol parser. SPDX-License-Identifier: MIT */
#include "proto/plugin/manifest.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is split at newlines like a step's stdout and every line parsed. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_plugin_event ev;
	struct kf_error err;
	size_t start = 0;

	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl != NULL ? (size_t)(nl - data) : size;

		kf_plugin_event_parse((const char *)data + start, end - start, &ev, &err);
		start = end + 1;
	}
	return 0;
}
