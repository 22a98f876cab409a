/* kefu: fuzz target for uevent, text sanitising and ids lookup. SPDX-License-Identifier: MIT */
#include "agentd/diag/ids.h"
#include "agentd/sysfs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pair(const char *key, const char *value, void *context)
{
	size_t *total = context;

	/* Keys and values must arrive NUL-terminated, bounded and printable. */
	if (key[0] == '\0' || strlen(value) >= KF_ATTR_SIZE)
		abort();
	*total += strlen(key) + strlen(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_ids_query queries[2];
	size_t total = 0;
	char *copy;

	kf_uevent_parse((const char *)data, size, check_pair, &total);

	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	kf_text_sanitize(copy, size);
	free(copy);

	/* The same bytes as an ids file. */
	memset(queries, 0, sizeof(queries));
	queries[0].vendor = 0x8086;
	queries[0].product = 0x3b3c;
	queries[0].class_code = 0x0c0320;
	queries[1].vendor = size > 1 ? (unsigned)(data[0] << 8 | data[1]) : 0;
	queries[1].class_code = -1;
	kf_ids_lookup_text((const char *)data, size, queries, 2);
	if (strlen(queries[0].name) >= sizeof(queries[0].name))
		abort();
	return 0;
}
