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

/* The first pass keeps only what is signed and small: the metainfo and the Jcat. */
static size_t keep_signed_parts(const char *name, void *arg)
{
	(void)arg;
	if (ends_with(name, ".metainfo.xml"))
		return KF_FW_METAINFO_MAX_SIZE;
	if (ends_with(name, ".jcat"))
		return KF_JCAT_MAX_SIZE;
	return 0;
}

struct second_pass {
	const char *payload_name;
	const struct kf_cabinet_member *xml, *jcat; /* of the first pass */
	size_t max_member_size;
};

/* The second keeps the payload and any other member the Jcat names, to check each. */
static size_t keep_vouched(const char *name, void *arg)
{
	const struct second_pass *p = arg;
	int named = 0;

	if (strcmp(name, p->payload_name) == 0)
		return p->max_member_size;
	if (strcmp(name, p->xml->name) == 0 || strcmp(name, p->jcat->name) == 0)
		return 0;
	kf_jcat_names(p->jcat->data, p->jcat->size, name, &named, NULL);
	return named ? p->max_member_size : 0;
}

/* The two reads of the file must list the same members, or it changed in between. */
static bool same_members(const struct kf_cabinet *a, const struct kf_cabinet *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->members[i].name, b->members[i].name) != 0 ||
		    a->members[i].size != b->members[i].size)
			return false;
	return true;
}

int kf_fw_cabinet_load(const char *path, const char *const *ca_pems, size_t ca_count,
		       const struct kf_cabinet_limits *limits, struct kf_fw_cabinet **out,
		       struct kf_error *err)
{
	struct kf_cabinet *cab = NULL, *rest = NULL;
	const struct kf_cabinet_member *xml, *jcat;
	struct kf_cabinet_member *payload = NULL;
	struct kf_fw_cabinet *result = calloc(1, sizeof(*result));
	struct second_pass pass = {0};
	char sha[65];
	int r;

	*out = NULL;
	if (result == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	/*
	 * Two passes over the file, so that no member is held before something signed
	 * names it: the metainfo and the Jcat first, then what they name.
	 */
	if ((r = kf_cabinet_read_file_keeping(path, limits, keep_signed_parts, NULL, &cab, err)) !=
		    KF_OK ||
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
	if (strcmp(result->metainfo->payload_name, xml->name) == 0 ||
	    strcmp(result->metainfo->payload_name, jcat->name) == 0) {
		r = kf_error_set(err, KF_ERR_INVALID, "the metainfo names itself as the firmware");
		goto out;
	}
	pass.payload_name = result->metainfo->payload_name;
	pass.xml = xml;
	pass.jcat = jcat;
	pass.max_member_size =
		limits != NULL ? limits->max_member_size : KF_CABINET_MAX_MEMBER_SIZE;
	if ((r = kf_cabinet_read_file_keeping(path, limits, keep_vouched, &pass, &rest, err)) !=
	    KF_OK)
		goto out;
	if (!same_members(cab, rest)) {
		r = kf_error_set(err, KF_ERR_INVALID, "the cabinet changed while it was read");
		goto out;
	}
	for (size_t i = 0; i < rest->count; i++) {
		struct kf_cabinet_member *m = &rest->members[i];

		if (strcmp(m->name, pass.payload_name) == 0) {
			payload = m;
			continue;
		}
		if (strcmp(m->name, xml->name) == 0 || strcmp(m->name, jcat->name) == 0)
			continue;
		/* An extra member is accepted only with a Jcat entry that vouches for it. */
		if (m->data == NULL) {
			r = kf_error_set(err, KF_ERR_AUTH,
					 "the cabinet holds %s, which neither its metainfo nor its "
					 "Jcat names, so nothing vouches for it",
					 kf_escaped(m->name).text);
			goto out;
		}
		r = kf_jcat_verify_pems(jcat->data, jcat->size, m->name, m->data, m->size, ca_pems,
					ca_count, err);
		if (about(m->name, r, err) != KF_OK)
			goto out;
	}
	if (payload == NULL) {
		r = kf_error_set(err, KF_ERR_INVALID, "the cabinet lacks %s, the firmware file",
				 kf_escaped(pass.payload_name).text);
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
	kf_cabinet_free(rest);
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
