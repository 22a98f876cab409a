/* kefu: libFuzzer target for smartctl's JSON (a disk's health and the device scan).
 * SPDX-License-Identifier: MIT */
#include "agentd/watch/smart.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_watch_disk_name names[4];
	struct kf_watch_disk disk;
	struct kf_error err;
	size_t n;

	if (kf_watch_smart_parse((const char *)data, size, &disk, &err) == KF_OK) {
		/* What the rules print must be terminated text. */
		if (strlen(disk.name) >= sizeof(disk.name) ||
		    strlen(disk.model) >= sizeof(disk.model))
			__builtin_trap();
		for (size_t i = 0; i < disk.n_failing; i++)
			if (strlen(disk.failing[i]) >= sizeof(disk.failing[i]))
				__builtin_trap();
	}
	if (kf_watch_smart_scan_parse((const char *)data, size, names, 4, &n, &err) == KF_OK) {
		if (n > 4)
			__builtin_trap();
		for (size_t i = 0; i < n; i++)
			if (strncmp(names[i].name, "/dev/", 5) != 0 ||
			    strstr(names[i].name, "..") || strchr(names[i].type, '-') != NULL)
				__builtin_trap();
	}
	return 0;
}
