/* kefu-agentd: the firmware updates signed LVFS-format metadata offers this computer's devices.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_UPDATES_H
#define KF_AGENTD_FW_UPDATES_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stddef.h>

/* Where `firmware updates` looks; NULL fields take the command's defaults. */
struct kf_fw_updates_query {
	const char *profile;  /* the support profile (its firmware_metadata and firmware_cas) */
	const char *metadata; /* --metadata, else the profile's firmware_metadata */
	const char *root;     /* the system tree the computer checks read ("/") */
	const char *devices;  /* the folder of kefu device sockets */
};

/*
 * What `kefu-agentd firmware updates --json` prints: the metadata is read and its Jcat
 * signature checked against the profile's firmware CAs before a byte is parsed, then each
 * device gets its newest applicable release. *updates is a JSON array (new reference) of
 * {device, device_name, from, to, component, name?, location?, sha256?, urgency?,
 * description?}; path receives the metadata's place. Nothing is downloaded to a device and
 * nothing is installed. KF_ERR_NOT_FOUND when no metadata is configured or it cannot be
 * read, KF_ERR_AUTH when it is not signed by a trusted CA, the backend's error otherwise.
 */
int kf_fw_updates_find(const struct kf_fw_updates_query *query, json_t **updates, char *path,
		       size_t path_size, struct kf_error *err);

#endif
