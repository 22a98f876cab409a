/* kefu: strict JSON objects: the formats kefu reads refuse fields they do not know.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_JSON_FIELDS_H
#define KF_PROTO_JSON_FIELDS_H

#include <jansson.h>

/* The first member of object not named in the NULL-terminated list allowed, or NULL. */
const char *kf_json_unknown_field(const json_t *object, const char *const *allowed);

#endif
