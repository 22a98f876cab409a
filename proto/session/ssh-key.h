/* kefu: SSH keys for the relay: ephemeral Ed25519 keys, key files, pinned host keys. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_SSH_KEY_H
#define KF_PROTO_SSH_KEY_H

#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>

/*
 * A private key in the OpenSSH format ("-----BEGIN OPENSSH PRIVATE KEY-----"),
 * the one libssh2 signs Ed25519 with, and its public line ("ssh-ed25519 AAAA... comment").
 * The private text is wiped when the key is freed.
 */
struct kf_ssh_key {
	char *private_text;
	size_t private_len;
	char *public_line;
};

/* Makes a new Ed25519 key in memory. The caller owns *key and frees it with kf_ssh_key_free(). */
int kf_ssh_key_generate(struct kf_ssh_key **key, const char *comment, struct kf_error *err);

/*
 * Reads an unencrypted OpenSSH private key file and its ".pub" companion (the
 * path with ".pub" appended). The caller owns *key.
 */
int kf_ssh_key_load(struct kf_ssh_key **key, const char *private_path, struct kf_error *err);

void kf_ssh_key_free(struct kf_ssh_key *key);

/* The largest public key blob kefu accepts (an ECDSA P-521 key is 172 bytes). */
#define KF_SSH_KEY_BLOB_MAX 256

/*
 * Parses a public key line "TYPE BASE64 [comment]" (as in known_hosts or a support
 * profile) into the key's wire blob. Only ssh-ed25519 and ecdsa-sha2-nistp256/384/521
 * are accepted, and the type inside the blob must match the line's type.
 */
int kf_ssh_key_parse_public(const char *line, uint8_t *blob, size_t *blob_len,
			    struct kf_error *err);

/* Writes "SHA256:..." (OpenSSH's fingerprint form) of a key blob into out (at least 64 bytes). */
void kf_ssh_key_fingerprint(const uint8_t *blob, size_t blob_len, char *out, size_t out_size);

#endif
