/* kefu: small helpers the firmware XML parsers share. SPDX-License-Identifier: MIT */
#include "proto/firmware/xml.h"

#include <stdio.h>
#include <string.h>

const char *kf_xml_attribute(const XML_Char **attrs, const char *name)
{
	for (size_t i = 0; attrs[i] != NULL; i += 2)
		if (strcmp(attrs[i], name) == 0)
			return attrs[i + 1];
	return NULL;
}

void kf_xml_copy_attribute(const XML_Char **attrs, const char *name, char *out, size_t size)
{
	const char *value = kf_xml_attribute(attrs, name);

	snprintf(out, size, "%s", value != NULL ? value : "");
}
