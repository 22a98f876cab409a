/* kefu: LVFS cabinet verification: signed metainfo first, then the payload it names. SPDX-License-Identifier: MIT */
#include "proto/firmware/cabinet.h"
#include "proto/base/escape.h"
#include "proto/firmware/jcat.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

void kf_fw_sha256_hex(const uint8_t *data, size_t size, char out[65])
{
	uint8_t digest[32];

	EVP_Digest(data, size, digest, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static bool ends_with(const char *text, const char *suffix)
{
	size_t a = strlen(text), b = strlen(suffix);

	return a > b && strcmp(text + a - b, suffix) == 0;
}

/* The one member whose name ends with suffix; KF_ERR_INVALID for none or several. */
static int only_member(const struct kf_cabinet *cab, const char *suffix, const char *what,
		       const struct kf_cabinet_member **out, struct kf_error *err)
{
	*out = NULL;
	for (size_t i = 0; i < cab->count; i++) {
		if (!ends_with(cab->members[i].name, suffix))
			continue;
		if (*out != NULL)
			return kf_error_set(err, KF_ERR_INVALID,
					    "the cabinet holds more than one %s", what);
		*out = &cab->members[i];
	}
	if (*out == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "the cabinet holds no %s", what);
	return KF_OK;
}

/* Prefixes err's message with the member's name, so the customer learns which file failed. */
static int about(const char *name, int r, struct kf_error *err)
{
	if (r != KF_OK && err != NULL) {
		char detail[KF_ERROR_MESSAGE_SIZE];
		snprintf(detail, sizeof(detail), "%s", err->message);
		kf_error_set(err, r, "%s: %s", kf_escaped(name).text, detail);
	}
	return r;
}

int kf_fw_cabinet_load(const char *path, const char *const *ca_pems, size_t ca_count,
		       const struct kf_cabinet_limits *limits, struct kf_fw_cabinet **out,
		       struct kf_error *err)
{
	struct kf_cabinet *cab = NULL;
	const struct kf_cabinet_member *xml, *jcat;
	struct kf_cabinet_member *payload = NULL;
	struct kf_fw_cabinet *result = calloc(1, sizeof(*result));
	char sha[65];
	int r;

	*out = NULL;
	if (result == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if ((r = kf_cabinet_read_file(path, limits, &cab, err)) != KF_OK ||
	    (r = only_member(cab, ".metainfo.xml", "metainfo (*.metainfo.xml)", &xml, err)) !=
		    KF_OK ||
	    (r = only_member(cab, ".jcat", "signature (*.jcat)", &jcat, err)) != KF_OK)
		goto out;
	r = kf_jcat_verify_pems(jcat->data, jcat->size, xml->name, xml->data, xml->size, ca_pems,
				ca_count, err);
	if (about(xml->name, r, err) != KF_OK)
		goto out;
	r = kf_fw_metainfo_parse((const char *)xml->data, xml->size, &result->metainfo, err);
	if (about(xml->name, r, err) != KF_OK)
		goto out;
	for (size_t i = 0; i < cab->count; i++)
		if (strcmp(cab->members[i].name, result->metainfo->payload_name) == 0)
			payload = &cab->members[i];
	if (payload == NULL) {
		r = kf_error_set(err, KF_ERR_INVALID, "the cabinet lacks %s, the firmware file",
				 kf_escaped(result->metainfo->payload_name).text);
		goto out;
	}
	if (payload == xml || payload == jcat) {
		r = kf_error_set(err, KF_ERR_INVALID, "the metainfo names itself as the firmware");
		goto out;
	}
	r = kf_jcat_verify_pems(jcat->data, jcat->size, payload->name, payload->data, payload->size,
				ca_pems, ca_count, err);
	if (about(payload->name, r, err) != KF_OK)
		goto out;
	kf_fw_sha256_hex(payload->data, payload->size, sha);
	if (strcmp(sha, result->metainfo->payload_sha256) != 0) {
		r = kf_error_set(err, KF_ERR_AUTH,
				 "%s: the firmware's SHA-256 does not match its metainfo",
				 kf_escaped(payload->name).text);
		goto out;
	}
	result->metainfo_name = strdup(xml->name);
	if (result->metainfo_name == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The payload moves out of the cabinet rather than being copied. */
	result->payload = payload->data;
	result->payload_size = payload->size;
	payload->data = NULL;
	*out = result;
	result = NULL;
out:
	kf_cabinet_free(cab);
	kf_fw_cabinet_free(result);
	return r;
}

void kf_fw_cabinet_free(struct kf_fw_cabinet *cabinet)
{
	if (cabinet == NULL)
		return;
	kf_fw_metainfo_free(cabinet->metainfo);
	free(cabinet->metainfo_name);
	free(cabinet->payload);
	free(cabinet);
}
