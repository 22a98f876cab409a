/* kefu: libFuzzer target for what the PackageKit client reads from the daemon: package IDs and Resolve's results. SPDX-License-Identifier: MIT */
#include "agentd/drivers/packagekit.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is lines: the first is the package name asked for and the second the version
 * wanted; each further line is a digit (PackageKit's info) and a package ID.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next, *name = NULL, *wanted = NULL;
	json_t *packages = json_array();
	char field[64];

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (name == NULL) {
			name = line;
			continue;
		}
		if (wanted == NULL) {
			wanted = line;
			continue;
		}
		for (int n = 0; n < 5; n++) {
			kf_drivers_pk_id_field(line, n, field, sizeof(field));
			kf_drivers_pk_id_field(line, n, field, 3);
		}
		(void)kf_drivers_pk_id_is_named(line, name);
		if (line[0] != '\0')
			json_array_append_new(
				packages,
				json_pack("[i, s]", (json_int_t)(line[0] - '0'), line + 1));
	}
	if (name != NULL) {
		(void)kf_drivers_pk_choose(packages, name, wanted, false);
		(void)kf_drivers_pk_choose(packages, name, wanted, true);
		(void)kf_drivers_pk_choose(packages, name, NULL, true);
	}
	json_decref(packages);
	free(text);
	return 0;
}
