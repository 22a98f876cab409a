/* kefu: small helpers the firmware XML parsers (metainfo, LVFS metadata) share. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FIRMWARE_XML_H
#define KF_PROTO_FIRMWARE_XML_H

#include <expat.h>
#include <stddef.h>

/* The value of attribute name among expat's attrs (name, value, ..., NULL), or NULL. */
const char *kf_xml_attribute(const XML_Char **attrs, const char *name);

/* Copies attribute name into out (size bytes, cut to fit), "" when it is absent. */
void kf_xml_copy_attribute(const XML_Char **attrs, const char *name, char *out, size_t size);

#endif
