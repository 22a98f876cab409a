/* kefu: SSH keys for the relay: ephemeral Ed25519 keys, key files, pinned host keys. SPDX-License-Identifier: MIT */
#include "proto/session/ssh-key.h"
#include "proto/base/base64.h"
#include "proto/base/buffer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ED25519_TYPE "ssh-ed25519"
#define KEY_FILE_MAX (16 * 1024)

static int put_string(struct kf_buf *buf, const void *data, size_t len)
{
	int r;

	if ((r = kf_buf_append_u32(buf, (uint32_t)len)) != KF_OK)
		return r;
	return kf_buf_append(buf, data, len);
}

/* The SSH wire form of an Ed25519 public key: string "ssh-ed25519", string key. */
static int put_ed25519_blob(struct kf_buf *buf, const uint8_t public_key[32])
{
	int r;

	if ((r = put_string(buf, ED25519_TYPE, strlen(ED25519_TYPE))) != KF_OK)
		return r;
	return put_string(buf, public_key, 32);
}

/*
 * The "openssh-key-v1" container, unencrypted, holding one Ed25519 key
 * (PROTOCOL.key in OpenSSH's sources describes the layout).
 */
static int build_openssh_private(struct kf_buf *out, const uint8_t seed[32],
				 const uint8_t public_key[32], const char *comment)
{
	static const char magic[] = "openssh-key-v1";
	struct kf_buf blob = {0}, secret = {0};
	uint8_t secret_key[64];
	uint32_t check;
	char *text = NULL;
	int r = KF_ERR_NOMEM;

	/* Reserve first: buffers holding secrets must not move (see buffer.h). */
	if (kf_buf_reserve(&secret, 512) != KF_OK || kf_buf_reserve(&blob, 1024) != KF_OK)
		goto out;
	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1) {
		r = KF_ERR_IO;
		goto out;
	}
	memcpy(secret_key, seed, 32);
	memcpy(secret_key + 32, public_key, 32);
	kf_buf_append(&secret, &check, 4);
	kf_buf_append(&secret, &check, 4);
	put_string(&secret, ED25519_TYPE, strlen(ED25519_TYPE));
	put_string(&secret, public_key, 32);
	put_string(&secret, secret_key, 64);
	put_string(&secret, comment, strlen(comment));
	for (uint8_t pad = 1; secret.len % 8 != 0; pad++)
		kf_buf_append(&secret, &pad, 1);

	kf_buf_append(&blob, magic, sizeof(magic)); /* with its NUL, as the format says */
	put_string(&blob, "none", 4);               /* cipher */
	put_string(&blob, "none", 4);               /* kdf */
	put_string(&blob, "", 0);                   /* kdf options */
	kf_buf_append_u32(&blob, 1);                /* one key */
	kf_buf_append_u32(&blob, 4 + 11 + 4 + 32);
	put_ed25519_blob(&blob, public_key);
	put_string(&blob, secret.data, secret.len);

	text = kf_base64_encode(blob.data, blob.len);
	if (text == NULL)
		goto out;
	kf_buf_reserve(out, strlen(text) + strlen(text) / 70 + 128);
	kf_buf_append(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36);
	for (size_t i = 0, n = strlen(text); i < n; i += 70) {
		kf_buf_append(out, text + i, n - i < 70 ? n - i : 70);
		kf_buf_append(out, "\n", 1);
	}
	kf_buf_append(out, "-----END OPENSSH PRIVATE KEY-----\n", 34);
	r = KF_OK;
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	OPENSSL_cleanse(secret_key, sizeof(secret_key));
	kf_buf_free_secret(&secret);
	kf_buf_free_secret(&blob);
	return r;
}

int kf_ssh_key_generate(struct kf_ssh_key **key, const char *comment, struct kf_error *err)
{
	EVP_PKEY *pkey = NULL;
	uint8_t seed[32], public_key[32];
	size_t seed_len = sizeof(seed), public_len = sizeof(public_key);
	struct kf_buf private_text = {0}, blob = {0};
	struct kf_ssh_key *made = NULL;
	char *encoded = NULL;
	int r;

	*key = NULL;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL || EVP_PKEY_get_raw_private_key(pkey, seed, &seed_len) != 1 ||
	    EVP_PKEY_get_raw_public_key(pkey, public_key, &public_len) != 1) {
		r = kf_error_set(err, KF_ERR_IO, "could not make an Ed25519 key");
		goto out;
	}
	if (kf_buf_reserve(&private_text, 1024) != KF_OK ||
	    (r = build_openssh_private(&private_text, seed, public_key, comment)) != KF_OK ||
	    put_ed25519_blob(&blob, public_key) != KF_OK ||
	    (encoded = kf_base64_encode(blob.data, blob.len)) == NULL ||
	    (made = calloc(1, sizeof(*made))) == NULL ||
	    (made->public_line = malloc(strlen(ED25519_TYPE) + strlen(encoded) + strlen(comment) +
					3)) == NULL ||
	    (made->private_text = malloc(private_text.len + 1)) == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for a key");
		goto out;
	}
	sprintf(made->public_line, "%s %s %s", ED25519_TYPE, encoded, comment);
	memcpy(made->private_text, private_text.data, private_text.len);
	made->private_text[private_text.len] = '\0';
	made->private_len = private_text.len;
	*key = made;
	made = NULL;
	r = KF_OK;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	kf_buf_free_secret(&private_text);
	kf_buf_free(&blob);
	free(encoded);
	kf_ssh_key_free(made);
	EVP_PKEY_free(pkey);
	return r;
}

/* Reads a whole small file into a NUL-terminated string. */
static int read_small_file(const char *path, char **text, size_t *len, struct kf_error *err)
{
	FILE *file = fopen(path, "re");
	char *data;
	size_t n;

	if (file == NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot open %s: %s", path,
				    strerror(errno));
	data = malloc(KEY_FILE_MAX + 1);
	if (data == NULL) {
		fclose(file);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading %s", path);
	}
	n = fread(data, 1, KEY_FILE_MAX + 1, file);
	fclose(file);
	if (n > KEY_FILE_MAX) {
		OPENSSL_cleanse(data, KEY_FILE_MAX + 1);
		free(data);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "%s is too large for a key file", path);
	}
	data[n] = '\0';
	*text = data;
	*len = n;
	return KF_OK;
}

int kf_ssh_key_load(struct kf_ssh_key **key, const char *private_path, struct kf_error *err)
{
	struct kf_ssh_key *made;
	char public_path[4096];
	uint8_t blob[KF_SSH_KEY_BLOB_MAX];
	size_t blob_len, public_len;
	int r;

	*key = NULL;
	if (snprintf(public_path, sizeof(public_path), "%s.pub", private_path) >=
	    (int)sizeof(public_path))
		return kf_error_set(err, KF_ERR_INVALID, "key path is too long");
	made = calloc(1, sizeof(*made));
	if (made == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a key");
	if ((r = read_small_file(private_path, &made->private_text, &made->private_len, err)) !=
		    KF_OK ||
	    (r = read_small_file(public_path, &made->public_line, &public_len, err)) != KF_OK)
		goto fail;
	made->public_line[strcspn(made->public_line, "\r\n")] = '\0';
	if (strstr(made->private_text, "-----BEGIN OPENSSH PRIVATE KEY-----") == NULL) {
		r = kf_error_set(err, KF_ERR_INVALID,
				 "%s is not an OpenSSH private key (make one with ssh-keygen -t "
				 "ed25519)",
				 private_path);
		goto fail;
	}
	if ((r = kf_ssh_key_parse_public(made->public_line, blob, &blob_len, err)) != KF_OK)
		goto fail;
	*key = made;
	return KF_OK;
fail:
	kf_ssh_key_free(made);
	return r;
}

void kf_ssh_key_free(struct kf_ssh_key *key)
{
	if (key == NULL)
		return;
	if (key->private_text != NULL) {
		OPENSSL_cleanse(key->private_text, key->private_len);
		free(key->private_text);
	}
	free(key->public_line);
	free(key);
}

static int is_allowed_type(const char *type, size_t len)
{
	static const char *const allowed[] = {ED25519_TYPE, "ecdsa-sha2-nistp256",
					      "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"};

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strlen(allowed[i]) == len && memcmp(allowed[i], type, len) == 0)
			return 1;
	return 0;
}

int kf_ssh_key_parse_public(const char *line, uint8_t *blob, size_t *blob_len, struct kf_error *err)
{
	const char *type = line, *data;
	size_t type_len, data_len;
	uint32_t inner_len;
	int len;

	while (*type == ' ' || *type == '\t')
		type++;
	type_len = strcspn(type, " \t");
	if (!is_allowed_type(type, type_len))
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "host key type '%.*s' is not accepted (use ssh-ed25519 or "
				    "ecdsa-sha2-nistp256)",
				    (int)(type_len > 40 ? 40 : type_len), type);
	data = type + type_len;
	while (*data == ' ' || *data == '\t')
		data++;
	data_len = strcspn(data, " \t\r\n");
	len = kf_base64_decode(data, data_len, blob, KF_SSH_KEY_BLOB_MAX);
	if (len < 4)
		return kf_error_set(err, KF_ERR_INVALID, "public key is not valid base64");
	inner_len = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
		    blob[3];
	if (inner_len != type_len || (size_t)len < 4 + inner_len ||
	    memcmp(blob + 4, type, type_len) != 0)
		return kf_error_set(err, KF_ERR_INVALID,
				    "public key data does not match its type '%.*s'", (int)type_len,
				    type);
	*blob_len = (size_t)len;
	return KF_OK;
}

void kf_ssh_key_fingerprint(const uint8_t *blob, size_t blob_len, char *out, size_t out_size)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char encoded[48];
	size_t n;

	SHA256(blob, blob_len, digest);
	EVP_EncodeBlock((unsigned char *)encoded, digest, sizeof(digest));
	n = strlen(encoded);
	while (n > 0 && encoded[n - 1] == '=') /* OpenSSH prints it without padding */
		encoded[--n] = '\0';
	snprintf(out, out_size, "SHA256:%s", encoded);
}
