/* kefu: a firmware update read from a file: an LVFS cabinet or a kefu firmware package, told
 * apart by content and verified before anything in it is trusted. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_UPDATE_H
#define KF_PROTO_FW_UPDATE_H

#include "proto/base/error.h"
#include "proto/firmware/metainfo.h"
#include "proto/session/profile.h"

#include <stddef.h>
#include <stdint.h>

enum kf_fw_update_source {
	KF_FW_SOURCE_CABINET, /* LVFS cabinet: Jcat PKCS#7 against the profile's firmware_cas */
	KF_FW_SOURCE_PACKAGE, /* kefu package: Ed25519 by one of the profile's firmware_publishers
			       */
};

struct kf_fw_update {
	enum kf_fw_update_source source;
	struct kf_fw_metainfo *metainfo; /* payload_sha256 is the payload's */
	uint8_t *payload;
	size_t payload_size;
	char *signed_by; /* who vouches for it, in words for the customer */
};

/*
 * What the file at path holds, judged by its first bytes: a cabinet ("MSCF"), a tar
 * (a kefu package) or neither. Returns 0 with *source, KF_ERR_INVALID for neither,
 * KF_ERR_IO/KF_ERR_NOT_FOUND when the file cannot be read.
 */
int kf_fw_update_sniff(const char *path, enum kf_fw_update_source *source, struct kf_error *err);

/*
 * Reads and verifies the update at path with the trust of profile: a cabinet with
 * kf_fw_cabinet_load() against firmware_cas, a package with kf_package_verify()
 * against firmware_publishers and kf_fw_package_check(). Nothing unsigned is parsed.
 * The caller owns *update (kf_fw_update_free). Errors are one sentence in err.
 */
int kf_fw_update_load(const char *path, const struct kf_profile *profile,
		      struct kf_fw_update **update, struct kf_error *err);

void kf_fw_update_free(struct kf_fw_update *update);

#endif
