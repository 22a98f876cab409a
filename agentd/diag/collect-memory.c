/* kefu-agentd collector: memory and swap from /proc/meminfo. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <stdio.h>
#include <string.h>

int kf_collect_memory(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	static const struct {
		const char *key;
		const char *field;
	} wanted[] = {{"MemTotal", "total_kib"},
		      {"MemAvailable", "available_kib"},
		      {"SwapTotal", "swap_total_kib"},
		      {"SwapFree", "swap_free_kib"}};
	struct kf_buf buf = {0};
	json_t *memory = json_object();
	const char *p, *end;
	size_t i;
	int r;

	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		json_object_set_new(memory, wanted[i].field, json_null());
	json_object_set_new(ctx->report->system, "memory", memory);
	r = kf_collect_read(ctx, "/proc/meminfo", 64 * 1024, "proc/meminfo", &buf, err);
	if (r != KF_OK)
		return r;
	p = (const char *)buf.data;
	end = p + buf.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char line[128];
		size_t len = (size_t)((nl ? nl : end) - p);
		unsigned long long value;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
				size_t key_len = strlen(wanted[i].key);
				if (strncmp(line, wanted[i].key, key_len) == 0 &&
				    line[key_len] == ':' &&
				    sscanf(line + key_len + 1, "%llu", &value) == 1)
					json_object_set_new(memory, wanted[i].field,
							    json_integer((json_int_t)value));
			}
		}
		p += len + 1;
	}
	kf_buf_free(&buf);
	return KF_OK;
}
