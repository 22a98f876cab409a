/* kefu: libFuzzer target for the control data ca package reads from a kefu-helper package.
 * SPDX-License-Identifier: MIT */
#include "console/deb-control.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char value[64];
	char *renamed;

	kf_deb_control_field(text, size, "Package", value, sizeof(value));
	if (strlen(value) >= sizeof(value))
		abort();
	kf_deb_control_field(text, size, "Depends", value, sizeof(value));
	renamed = kf_deb_md5sums_rename(text, size, "kefu-helper",
					"kefu-helper-a-rather-long-organisation-name-xx");
	/* The old package's copyright is never a path of the new one's md5sums. */
	for (char *line = renamed; line != NULL && *line != '\0';) {
		char *end = strchr(line, '\n'), *file = strstr(line, "  ");

		if (end == NULL || file == NULL || file > end)
			abort();
		*end = '\0';
		if (strcmp(file + 2, "usr/share/doc/kefu-helper/copyright") == 0)
			abort();
		line = end + 1;
	}
	free(renamed);
	return 0;
}
