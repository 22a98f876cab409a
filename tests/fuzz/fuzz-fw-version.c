/* kefu: libFuzzer target for firmware version parsing and the update rules. SPDX-License-Identifier: MIT */
#include "proto/firmware/version.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is two version strings separated by a newline. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_error err;
	char *text = malloc(size + 1), *second;
	int order;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	second = strchr(text, '\n');
	if (second != NULL)
		*second++ = '\0';
	else
		second = text;
	(void)kf_fw_version_compare(text, second, &order, &err);
	(void)kf_fw_version_check_update(text, kf_fw_version_guess_format(text), second,
					 kf_fw_version_guess_format(second), 0, &err);
	free(text);
	return 0;
}
