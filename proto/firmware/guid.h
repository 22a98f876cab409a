/* kefu: firmware device GUIDs derived from instance IDs as fwupd does (UUID v5, DNS namespace). SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_GUID_H
#define KF_PROTO_FW_GUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/base/error.h"

#define KF_FW_GUID_STRING_SIZE 37 /* 36 characters and the terminating NUL */

/*
 * Writes the GUID for instance_id (e.g. "USB\VID_273F&PID_1004") into out as
 * lower-case "xxxxxxxx-xxxx-5xxx-xxxx-xxxxxxxxxxxx": SHA-1 over the DNS namespace
 * UUID followed by the instance ID bytes, with the version and variant bits set.
 * Returns 0, or KF_ERR_INVALID for an empty or NULL instance ID.
 */
int kf_fw_guid_from_instance_id(const char *instance_id, char out[KF_FW_GUID_STRING_SIZE],
				struct kf_error *err);

/* A name-based (version 5, SHA-1) UUID of name in namespace_id, as text. */
int kf_fw_guid_v5(const uint8_t namespace_id[16], const void *name, size_t len,
		  char out[KF_FW_GUID_STRING_SIZE], struct kf_error *err);

/* True when text is a GUID in 8-4-4-4-12 hexadecimal form (either case). */
bool kf_fw_guid_is_valid(const char *text);

#endif
