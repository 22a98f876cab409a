/* kefu: the AppStream metainfo of an LVFS firmware cabinet (what it is, for which devices, which release). SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_METAINFO_H
#define KF_PROTO_FW_METAINFO_H

#include <stddef.h>

#include "proto/base/error.h"

#define KF_FW_METAINFO_MAX_SIZE  (1024 * 1024) /* bytes of XML */
#define KF_FW_METAINFO_MAX_DEPTH 16
#define KF_FW_METAINFO_MAX_TEXT  (64 * 1024) /* bytes of text in one element */
#define KF_FW_METAINFO_MAX_GUIDS 64
#define KF_FW_MAX_COMPUTERS      16 /* computer models one firmware may name */

/* What a firmware asks of the update beyond the version rules. */
enum kf_fw_firmware_flags {
	KF_FW_FLAG_REQUIRE_AC = 1 << 0, /* mains power, batteries are not enough */
	KF_FW_FLAG_SECURITY = 1 << 1,   /* fixes a security problem (shown to the customer) */
};

/*
 * A <requires><firmware> of LVFS metainfo or metadata, as written: with no text and
 * no depth it is about the device's own version (compare "ge", version "1.2.0"); text
 * ("bootloader", GUIDs of other devices) or a depth names something else, which
 * fwupd checks and kefu cannot.
 */
struct kf_fw_requirement {
	char *compare; /* eq, ne, lt, gt, le, ge, glob, regex; may be NULL */
	char *version; /* may be NULL */
	char *text;    /* NULL for the device itself */
	char *depth;   /* the depth attribute, NULL when absent */
};

/* A computer model from DMI: the firmware is only for computers that match one. */
struct kf_fw_computer {
	char *vendor;  /* DMI sys_vendor, compared exactly (after trimming) */
	char *product; /* DMI product_name; NULL matches any product of the vendor */
};

struct kf_fw_metainfo {
	char *id;             /* component id, e.g. org.fwupd.fakedevice.firmware */
	char *name;           /* may be NULL */
	char *summary;        /* may be NULL */
	char *developer_name; /* may be NULL */
	char *publisher;      /* kefu packages: the signer's name in the profile; NULL for LVFS */
	char **guids;         /* <provides><firmware type="flashed">: the devices it is for */
	size_t guid_count;
	char **hardware_guids; /* <requires><hardware>: computer hardware IDs, one must match */
	size_t hardware_guid_count;
	struct kf_fw_requirement *firmware_requirements; /* <requires><firmware> */
	size_t firmware_requirement_count;
	char *version_format;             /* LVFS::VersionFormat, NULL when not given */
	char *version;                    /* the release's version */
	char *payload_name;               /* the file the release's content checksum names */
	char *payload_sha256;             /* lower-case hex, 64 characters */
	char *release_text;               /* the release's description as plain text, may be NULL */
	unsigned flags;                   /* enum kf_fw_firmware_flags */
	struct kf_fw_computer *computers; /* kefu packages' "requires": "computers" */
	size_t computer_count;
};

/*
 * Parses metainfo XML (at most KF_FW_METAINFO_MAX_SIZE bytes) with expat. A document
 * type declaration is refused, so no entity is ever defined or expanded; nesting,
 * text per element and GUID counts are capped by the limits above. The component must
 * be type="firmware" with an id, at least one flashed-firmware GUID and exactly one
 * release carrying a version and a SHA-256 content checksum with a file name (from
 * <checksum target="content"> or the release's source <artifact>); when both name a
 * SHA-256 they must agree. The caller owns *metainfo; free it with kf_fw_metainfo_free().
 * Returns 0, KF_ERR_TOO_LARGE or KF_ERR_INVALID with the reason.
 */
int kf_fw_metainfo_parse(const char *xml, size_t len, struct kf_fw_metainfo **metainfo,
			 struct kf_error *err);

void kf_fw_metainfo_free(struct kf_fw_metainfo *metainfo);

/* Frees the strings of count requirements and the array. */
void kf_fw_requirements_free(struct kf_fw_requirement *requirements, size_t count);

#endif
