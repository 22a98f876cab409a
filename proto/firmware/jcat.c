/* kefu: Jcat verification: gunzip in memory, find the item, check SHA-256 and the PKCS#7 signature. SPDX-License-Identifier: MIT */
#include "proto/firmware/jcat.h"
#include "proto/base/escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

enum { JCAT_BLOB_SHA256 = 1, JCAT_BLOB_PKCS7 = 3 };

/* Decompresses gzip data into a malloc'ed NUL-terminated buffer of at most KF_JCAT_MAX_SIZE. */
static int gunzip(const uint8_t *in, size_t in_len, char **out, struct kf_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	char *buf = NULL;
	size_t used = 0;
	int r = 0;

	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading the Jcat");
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	buf = malloc(KF_JCAT_MAX_SIZE + 1);
	if (buf == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory reading the Jcat");
		goto out;
	}
	if (archive_read_open_memory(a, in, in_len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK ||
	    archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		r = kf_error_set(err, KF_ERR_INVALID, "the Jcat file is not gzip data");
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf + used, KF_JCAT_MAX_SIZE + 1 - used);
		if (n < 0) {
			r = kf_error_set(err, KF_ERR_INVALID, "the Jcat file is corrupt");
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > KF_JCAT_MAX_SIZE) {
			r = kf_error_set(err, KF_ERR_TOO_LARGE, "the Jcat file is too large");
			goto out;
		}
	}
	buf[used] = '\0';
	*out = buf;
	buf = NULL;
out:
	free(buf);
	archive_read_free(a);
	return r;
}

static const char *find_blob(json_t *item, int kind)
{
	json_t *blobs = json_object_get(item, "Blobs"), *blob;
	size_t i;

	json_array_foreach(blobs, i, blob)
	{
		json_t *k = json_object_get(blob, "Kind");
		json_t *data = json_object_get(blob, "Data");
		if (json_is_integer(k) && json_integer_value(k) == kind && json_is_string(data))
			return json_string_value(data);
	}
	return NULL;
}

static int check_sha256(const char *hex, const uint8_t *payload, size_t len, struct kf_error *err)
{
	uint8_t digest[32];
	char text[65];

	if (EVP_Digest(payload, len, digest, NULL, EVP_sha256(), NULL) != 1)
		return kf_error_set(err, KF_ERR_INVALID, "SHA-256 failed");
	for (int i = 0; i < 32; i++)
		snprintf(text + 2 * i, 3, "%02x", digest[i]);
	if (strlen(hex) != 64 || strncasecmp(hex, text, 64) != 0)
		return kf_error_set(err, KF_ERR_AUTH,
				    "the firmware's SHA-256 does not match its Jcat");
	return 0;
}

/* The trusted CAs: from a PEM file (ca_path) or from PEM texts (ca_pems, count). */
static int load_store(const char *ca_path, const char *const *ca_pems, size_t count,
		      X509_STORE **out, struct kf_error *err)
{
	X509_STORE *store = X509_STORE_new();
	size_t loaded = 0;

	if (store == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory checking a signature");
	if (ca_path != NULL) {
		if (X509_STORE_load_file(store, ca_path) != 1) {
			X509_STORE_free(store);
			return kf_error_set(err, KF_ERR_IO,
					    "cannot load firmware CA certificates from %s",
					    ca_path);
		}
		loaded = 1;
	}
	for (size_t i = 0; i < count; i++) {
		BIO *bio = BIO_new_mem_buf(ca_pems[i], -1);
		X509 *cert;

		while (bio != NULL && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, cert) == 1)
				loaded++;
			X509_free(cert);
		}
		BIO_free(bio);
	}
	if (loaded == 0) {
		X509_STORE_free(store);
		return kf_error_set(err, KF_ERR_DENIED, "no firmware CA is trusted (firmware_cas)");
	}
	X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
	X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
	*out = store;
	return KF_OK;
}

static int check_pkcs7(const char *pem, const uint8_t *payload, size_t len, X509_STORE *store,
		       struct kf_error *err)
{
	BIO *sig_bio = BIO_new_mem_buf(pem, -1);
	BIO *data = NULL;
	CMS_ContentInfo *cms = NULL;
	int r = 0;

	if (len > INT32_MAX)
		r = kf_error_set(err, KF_ERR_TOO_LARGE, "the firmware payload is too large");
	else if (sig_bio == NULL || (data = BIO_new_mem_buf(payload, (int)len)) == NULL)
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory checking a signature");
	else if ((cms = PEM_read_bio_CMS(sig_bio, NULL, NULL, NULL)) == NULL)
		r = kf_error_set(err, KF_ERR_INVALID, "the Jcat PKCS#7 signature is malformed");
	if (r == 0 && CMS_verify(cms, NULL, store, data, NULL, CMS_BINARY | CMS_DETACHED) != 1)
		r = kf_error_set(
			err, KF_ERR_AUTH,
			"the firmware's signature does not verify against the trusted CAs");
	CMS_ContentInfo_free(cms);
	BIO_free(data);
	BIO_free(sig_bio);
	return r;
}

/* The Jcat's item named id (*found NULL when none); *root is the caller's to free. */
static int find_item(const uint8_t *jcat, size_t jcat_len, const char *id, json_t **root,
		     json_t **found, struct kf_error *err)
{
	char *text = NULL;
	json_t *items, *item;
	size_t i;
	int r = gunzip(jcat, jcat_len, &text, err);

	*root = NULL;
	*found = NULL;
	if (r < 0)
		return r;
	*root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	items = json_object_get(*root, "Items");
	if (!json_is_array(items))
		return kf_error_set(err, KF_ERR_INVALID, "the Jcat file has no Items list");
	json_array_foreach(items, i, item)
	{
		json_t *item_id = json_object_get(item, "Id");
		if (json_is_string(item_id) && strcmp(json_string_value(item_id), id) == 0)
			*found = item;
	}
	return KF_OK;
}

int kf_jcat_names(const uint8_t *jcat, size_t jcat_len, const char *id, int *named,
		  struct kf_error *err)
{
	json_t *root, *found;
	int r = find_item(jcat, jcat_len, id, &root, &found, err);

	*named = r == KF_OK && found != NULL;
	json_decref(root);
	return r;
}

static int verify(const uint8_t *jcat, size_t jcat_len, const char *id, const uint8_t *payload,
		  size_t payload_len, const char *ca_path, const char *const *ca_pems,
		  size_t ca_count, struct kf_error *err)
{
	json_t *root = NULL, *found = NULL;
	const char *sha, *sig;
	int r = find_item(jcat, jcat_len, id, &root, &found, err);

	if (r < 0)
		goto out;
	if (found == NULL) {
		r = kf_error_set(err, KF_ERR_NOT_FOUND, "the Jcat file does not list %s",
				 kf_escaped(id).text);
		goto out;
	}
	sha = find_blob(found, JCAT_BLOB_SHA256);
	sig = find_blob(found, JCAT_BLOB_PKCS7);
	if (sha == NULL || sig == NULL) {
		r = kf_error_set(err, KF_ERR_NOT_FOUND, "the Jcat entry for %s lacks %s",
				 kf_escaped(id).text,
				 sha == NULL ? "a SHA-256 checksum" : "a PKCS#7 signature");
		goto out;
	}
	r = check_sha256(sha, payload, payload_len, err);
	if (r == 0) {
		X509_STORE *store = NULL;
		r = load_store(ca_path, ca_pems, ca_count, &store, err);
		if (r == 0)
			r = check_pkcs7(sig, payload, payload_len, store, err);
		X509_STORE_free(store);
	}
out:
	json_decref(root);
	return r;
}

int kf_jcat_verify(const uint8_t *jcat, size_t jcat_len, const char *id, const uint8_t *payload,
		   size_t payload_len, const char *ca_pem_path, struct kf_error *err)
{
	return verify(jcat, jcat_len, id, payload, payload_len, ca_pem_path, NULL, 0, err);
}

int kf_jcat_verify_pems(const uint8_t *jcat, size_t jcat_len, const char *id,
			const uint8_t *payload, size_t payload_len, const char *const *ca_pems,
			size_t ca_count, struct kf_error *err)
{
	return verify(jcat, jcat_len, id, payload, payload_len, NULL, ca_pems, ca_count, err);
}
