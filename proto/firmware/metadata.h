/* kefu: LVFS-format firmware metadata (firmware.xml.gz as fwupd remotes serve it), signed with Jcat. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_METADATA_H
#define KF_PROTO_FW_METADATA_H

#include "proto/base/error.h"
#include "proto/firmware/metainfo.h"

#include <stddef.h>
#include <stdint.h>

#define KF_FW_METADATA_MAX_SIZE       (64 * 1024 * 1024)  /* bytes, compressed or not */
#define KF_FW_METADATA_MAX_XML        (256 * 1024 * 1024) /* bytes of XML once decompressed */
#define KF_FW_METADATA_MAX_COMPONENTS 65536
#define KF_FW_METADATA_MAX_RELEASES   256 /* per component */
#define KF_FW_METADATA_MAX_GUIDS      64  /* per component, each list */

/* One release of a component: what `firmware apply --latest` fetches. */
struct kf_fw_metadata_release {
	char *version;
	char *location;         /* the cabinet's URL or file name, may be NULL */
	char *container_sha256; /* the cabinet's SHA-256, lower-case hex, may be NULL */
	char *urgency;          /* "low".."critical", may be NULL */
	char *description;      /* plain text, may be NULL */
};

struct kf_fw_metadata_component {
	char *id, *name, *summary, *developer_name; /* id always set; others may be NULL */
	char **guids;                               /* <provides><firmware type="flashed"> */
	size_t guid_count;
	/* <requires><hardware>, one entry per element ("GUID|GUID|..."): every entry must
	 * name one of the computer's CHIDs. */
	char **hardware_guids;
	size_t hardware_guid_count;
	struct kf_fw_requirement *firmware_requirements; /* <requires><firmware> */
	size_t firmware_requirement_count;
	char *version_format; /* LVFS::VersionFormat, may be NULL */
	struct kf_fw_metadata_release *releases;
	size_t release_count;
};

struct kf_fw_metadata {
	struct kf_fw_metadata_component *components;
	size_t component_count;
	size_t skipped; /* components left out: not firmware, no id, no GUID or no release */
};

/*
 * Parses LVFS metadata XML (<components><component type="firmware">...): a document
 * type declaration or an entity is refused; sizes and counts are capped by the limits
 * above. The caller owns *metadata (kf_fw_metadata_free). KF_ERR_INVALID or
 * KF_ERR_TOO_LARGE with the reason.
 */
int kf_fw_metadata_parse(const char *xml, size_t len, struct kf_fw_metadata **metadata,
			 struct kf_error *err);

/*
 * Checks the metadata file's bytes (data, as served: gzip, zstd, xz or plain XML)
 * against its Jcat (an item named name, e.g. "firmware.xml.gz", with a SHA-256 and a
 * PKCS#7 blob verifying against the ca_count PEM CAs) BEFORE reading a byte of it,
 * then decompresses and parses it. KF_ERR_AUTH when the signature does not verify,
 * KF_ERR_DENIED when no CA is trusted; the parse errors otherwise.
 */
int kf_fw_metadata_load(const uint8_t *data, size_t len, const uint8_t *jcat, size_t jcat_len,
			const char *name, const char *const *ca_pems, size_t ca_count,
			struct kf_fw_metadata **metadata, struct kf_error *err);

void kf_fw_metadata_free(struct kf_fw_metadata *metadata);

#endif
