/* kefu-agentd: firmware devices reached over proto/firmware/DEVICE.md (a Unix socket per device). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_DEVICE_H
#define KF_AGENTD_FW_DEVICE_H

#include "proto/base/error.h"
#include "proto/firmware/guid.h"
#include "proto/firmware/metainfo.h"
#include "proto/firmware/version.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KF_FW_DEVICES_DIR    "/run/kefu/fw-devices"
#define KF_FW_DEVICE_MAX     64 /* devices listed from one folder */
#define KF_FW_DEVICE_MAX_IDS 32 /* instance IDs of one device */

/* What a device says about itself (the "info" request), with the GUIDs derived from it. */
struct kf_fw_device {
	char *id; /* the socket's name without ".sock" */
	char *socket_path;
	char *name, *vendor;
	char **instance_ids;
	char (*guids)[KF_FW_GUID_STRING_SIZE]; /* one per instance ID: the GUID fwupd derives */
	size_t instance_id_count;
	char *version;
	enum kf_fw_version_format format;
	bool is_busy;
	uint64_t capacity;
	bool activates_on_host_reboot;
	char *boot_id;
	char *image_sha256; /* of the running image; NULL when the device does not say */
};

/* Asks the device at socket_path (named id) who it is. The caller owns *device. */
int kf_fw_device_open(const char *socket_path, const char *id, struct kf_fw_device **device,
		      struct kf_error *err);

/*
 * Builds a device named id from the text of an info reply (one JSON object, as
 * proto/firmware/DEVICE.md describes; "ok" is not required). socket_path is NULL. Used for
 * devices reached another way (SSH appliances). The caller owns *device.
 */
int kf_fw_device_from_info(const char *text, size_t len, const char *id,
			   struct kf_fw_device **device, struct kf_error *err);

/*
 * Opens every device whose socket (NAME.sock) is in dir, sorted by id. Devices that
 * do not answer are left out and counted in *unreachable. A missing folder is an
 * empty list. The caller owns the array and frees it with kf_fw_device_list_free().
 */
int kf_fw_device_list(const char *dir, struct kf_fw_device ***devices, size_t *count,
		      size_t *unreachable, struct kf_error *err);

void kf_fw_device_list_free(struct kf_fw_device **devices, size_t count);
void kf_fw_device_free(struct kf_fw_device *device);

/* True when one of the metainfo's flashed-firmware GUIDs is one of the device's. */
bool kf_fw_device_matches(const struct kf_fw_device *device, const struct kf_fw_metainfo *metainfo);

/* Called as the image goes out: bytes sent so far and the total. */
typedef void (*kf_fw_progress_fn)(void *data, uint64_t done, uint64_t total);

/*
 * Sends image (size bytes, SHA-256 sha256_hex) to the device, which stores it beside
 * the image it runs. progress (may be NULL) is called after each chunk. Returns 0
 * once the device says the image is stored and checked; KF_ERR_CLOSED when the
 * device went away in the middle; KF_ERR_DENIED with the device's sentence.
 */
int kf_fw_device_write(const struct kf_fw_device *device, const uint8_t *image, size_t size,
		       const char *sha256_hex, kf_fw_progress_fn progress, void *data,
		       struct kf_error *err);

/* Reads back the SHA-256 (65 bytes with NUL) and size of the image written last. */
int kf_fw_device_read_back(const struct kf_fw_device *device, char sha256_hex[65], uint64_t *size,
			   struct kf_error *err);

/* Asks the device to start the new image; it closes the connection and comes back. */
int kf_fw_device_restart(const struct kf_fw_device *device, struct kf_error *err);

#endif
