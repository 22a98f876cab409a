/* kefu: an LVFS firmware cabinet, opened and verified (signatures, checksums, metainfo). SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_CABINET_H
#define KF_PROTO_FW_CABINET_H

#include <stddef.h>
#include <stdint.h>

#include "proto/firmware/cab-archive.h"
#include "proto/base/error.h"
#include "proto/firmware/metainfo.h"

struct kf_fw_cabinet {
	struct kf_fw_metainfo *metainfo;
	char *metainfo_name; /* the member it came from, e.g. firmware.metainfo.xml */
	uint8_t *payload;    /* the firmware image, metainfo->payload_name in the cabinet */
	size_t payload_size;
};

/*
 * Opens the cabinet at path (kf_cabinet_read_file with limits, NULL for the defaults)
 * and accepts it only when all of this holds, in this order, so that nothing unsigned
 * is ever parsed: exactly one *.metainfo.xml and one *.jcat member; the Jcat's SHA-256
 * and PKCS#7 signature of the metainfo verify against the ca_count CA certificates in
 * ca_pems; the metainfo parses; the payload it names is in the cabinet; the Jcat's
 * checksum and signature of the payload verify; the metainfo's SHA-256 of the
 * payload is the payload's; and every other member has a Jcat entry that verifies
 * (a member neither names is refused with KF_ERR_AUTH). The file is read twice: the
 * first pass holds only the metainfo and the Jcat, the second only what they name,
 * so no unsigned member is ever held in memory. Returns 0 with *cabinet (the caller's; free it with
 * kf_fw_cabinet_free()), or the first failure: KF_ERR_AUTH for a checksum or signature,
 * KF_ERR_DENIED when no CA is given, KF_ERR_INVALID/KF_ERR_TOO_LARGE for the shape.
 */
int kf_fw_cabinet_load(const char *path, const char *const *ca_pems, size_t ca_count,
		       const struct kf_cabinet_limits *limits, struct kf_fw_cabinet **cabinet,
		       struct kf_error *err);

void kf_fw_cabinet_free(struct kf_fw_cabinet *cabinet);

/* Writes the lower-case hex SHA-256 of data into out (65 bytes with the NUL). */
void kf_fw_sha256_hex(const uint8_t *data, size_t size, char out[65]);

#endif
