/* kefu: strict JSON objects: the formats kefu reads refuse fields they do not know.
 * SPDX-License-Identifier: MIT */
#include "proto/base/json-fields.h"

#include <string.h>

const char *kf_json_unknown_field(const json_t *object, const char *const *allowed)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)object, key, value)
	{
		const char *const *name = allowed;

		(void)value;
		while (*name != NULL && strcmp(key, *name) != 0)
			name++;
		if (*name == NULL)
			return key;
	}
	return NULL;
}
