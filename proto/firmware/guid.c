/* kefu: firmware device GUIDs from instance IDs (UUID v5 over the DNS namespace). SPDX-License-Identifier: MIT */
#include "proto/firmware/guid.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

/* RFC 4122 namespace for DNS names: 6ba7b810-9dad-11d1-80b4-00c04fd430c8. */
static const uint8_t namespace_dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
					  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

int kf_fw_guid_v5(const uint8_t namespace_id[16], const void *name, size_t len,
		  char out[KF_FW_GUID_STRING_SIZE], struct kf_error *err)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory hashing a name");
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, namespace_id, 16) == 1 &&
	     EVP_DigestUpdate(ctx, name, len) == 1 &&
	     EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok || digest_len < 16)
		return kf_error_set(err, KF_ERR_INVALID, "SHA-1 failed hashing a name");
	digest[6] = (uint8_t)((digest[6] & 0x0f) | 0x50);
	digest[8] = (uint8_t)((digest[8] & 0x3f) | 0x80);
	snprintf(out, KF_FW_GUID_STRING_SIZE,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
		 digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
		 digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14],
		 digest[15]);
	return 0;
}

int kf_fw_guid_from_instance_id(const char *instance_id, char out[KF_FW_GUID_STRING_SIZE],
				struct kf_error *err)
{
	if (instance_id == NULL || *instance_id == '\0')
		return kf_error_set(err, KF_ERR_INVALID, "empty instance ID");
	return kf_fw_guid_v5(namespace_dns, instance_id, strlen(instance_id), out, err);
}

bool kf_fw_guid_is_valid(const char *text)
{
	if (text == NULL || strlen(text) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
			return false;
	}
	return true;
}
