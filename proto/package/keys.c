/* kefu: signed packages: the publishers' Ed25519 keys (generate, save, load, encode).
 * SPDX-License-Identifier: MIT */
#include "proto/base/fs.h"
#include "proto/package/internal.h"
#include "proto/base/base64.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 16384

EVP_PKEY *kf_package_key_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

int kf_package_key_save(EVP_PKEY *key, const char *path, struct kf_error *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	struct kf_fs_file file = {.fd = -1};
	char *pem = NULL;
	long pem_len = 0;
	int r = KF_OK;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (pem_len = BIO_get_mem_data(bio, &pem)) <= 0)
		r = kf_error_set(err, KF_ERR_INVALID, "cannot encode the private key");
	/* Private from the start, unnamed until whole, and never over an existing key. */
	else if (kf_fs_create(path, 0600, &file) < 0 ||
		 kf_package_write_all(file.fd, (const uint8_t *)pem, (size_t)pem_len) < 0)
		r = kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(errno));
	else if (kf_fs_publish(&file, path, 0) < 0)
		r = kf_error_set(err, errno == EEXIST ? KF_ERR_STATE : KF_ERR_IO, "%s: %s", path,
				 errno == EEXIST ? "already exists; a key is never overwritten"
						 : strerror(errno));
	kf_fs_discard(&file);
	if (pem != NULL && pem_len > 0)
		OPENSSL_cleanse(pem, (size_t)pem_len);
	BIO_free(bio);
	return r;
}

int kf_package_key_load(const char *path, EVP_PKEY **key, struct kf_error *err)
{
	uint8_t *text;
	size_t len;
	BIO *bio;
	int r;

	*key = NULL;
	if ((r = kf_package_read_file(path, KEY_FILE_MAX, &text, &len, err)) != KF_OK)
		return r;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio != NULL)
		*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(text, len);
	free(text);
	if (*key == NULL || EVP_PKEY_get_id(*key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s: not an unencrypted Ed25519 private key (PEM)", path);
	}
	return KF_OK;
}

char *kf_package_key_public_base64(EVP_PKEY *key)
{
	uint8_t raw[KF_PACKAGE_KEY_SIZE];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw))
		return NULL;
	return kf_base64_encode(raw, len);
}

int kf_package_key_decode(const char *base64, uint8_t key[KF_PACKAGE_KEY_SIZE])
{
	uint8_t raw[KF_PACKAGE_KEY_SIZE + 3];

	if (kf_base64_decode(base64, strlen(base64), raw, sizeof(raw)) != KF_PACKAGE_KEY_SIZE)
		return KF_ERR_INVALID;
	memcpy(key, raw, KF_PACKAGE_KEY_SIZE);
	return KF_OK;
}
