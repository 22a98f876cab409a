/* kefu: firmware as a kefu signed package: firmware.json (what metainfo says) and the image, for
 * vendors who do not publish on the LVFS (proto/firmware/DEVICE.md "Firmware packages").
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_PACKAGE_H
#define KF_PROTO_FW_PACKAGE_H

#include "proto/firmware/metainfo.h"
#include "proto/package/package.h"
#include "proto/session/profile.h"

#define KF_FW_PACKAGE_KIND     "firmware"
#define KF_FW_MANIFEST_NAME    "firmware.json"
#define KF_FW_MANIFEST_FORMAT  1
#define KF_FW_MANIFEST_MAX     (256 * 1024)
#define KF_FW_MANIFEST_MAX_IDS 64 /* device instance IDs or GUIDs */

/* 258 MiB archive, 256 MiB image, 16 files. */
extern const struct kf_package_limits kf_fw_package_limits;

/*
 * Parses firmware.json (at most KF_FW_MANIFEST_MAX bytes) into the same description
 * an LVFS metainfo gives: id, name, summary, vendor (developer_name), devices (fwupd
 * instance IDs, turned into GUIDs as fwupd derives them, or GUIDs), publisher, version and
 * version_format, the image's file name and, when given, its SHA-256, flags,
 * release notes and the computers or hardware IDs it requires. Unknown fields,
 * unknown flags and unknown version formats are refused, so that nothing a publisher
 * relies on is silently ignored. payload_sha256 is NULL when the manifest leaves the
 * checksum to the package's signed list. The caller owns *metainfo.
 * Returns 0, KF_ERR_TOO_LARGE or KF_ERR_INVALID with the reason.
 */
int kf_fw_manifest_parse(const char *json, size_t len, struct kf_fw_metainfo **metainfo,
			 struct kf_error *err);

/*
 * The profile's firmware publishers as trusted signers. *trusted (caller frees)
 * borrows the names from profile, which must outlive it.
 */
int kf_fw_package_trust(const struct kf_profile *profile, struct kf_package_publisher **trusted,
			size_t *n_trusted, struct kf_error *err);

/*
 * Checks that a verified package's files make a firmware package: firmware.json
 * parses, its id, version and publisher are the package's, the image it names is in the
 * package, and a SHA-256 it gives is the one the signed list holds. On success
 * *metainfo is the caller's (payload_sha256 always set) and *image_index the image's
 * index in pkg->files. Refusals are KF_PACKAGE_CONTENT.
 */
int kf_fw_package_check(const struct kf_package *pkg, struct kf_fw_metainfo **metainfo,
			size_t *image_index, enum kf_package_reason *reason, struct kf_error *err);

#endif
