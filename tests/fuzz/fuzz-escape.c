/* kefu: libFuzzer target for kf_escape: whatever the input, the output is one line of valid
 * UTF-8 without control characters, and within its buffer. SPDX-License-Identifier: MIT */
#include "proto/base/escape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	if (len >= cap)
		abort();
	while (*p != '\0') {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;

		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && *p < 0xc2) || *p > 0xf4)
			abort();
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				abort();
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			abort(); /* a C1 control */
		p += n;
	}
}

/* The first byte picks the output buffer's size, the rest is the text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out;
	size_t cap;

	if (size == 0)
		return 0;
	cap = (size_t)data[0] + 1;
	out = malloc(cap);
	if (out == NULL)
		return 0;
	kf_escape((const char *)data + 1, size - 1, out, cap);
	check(out, cap);
	free(out);
	return 0;
}
