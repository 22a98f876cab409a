/* kefu: the support profile a vendor ships with the helper. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PROFILE_H
#define KF_PROTO_PROFILE_H

#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>

/*
 * One JSON file (proto/session/PROFILE.md) that says whom the helper trusts: the
 * organisation's name, its relays and their pinned host keys, the support CA
 * whose technicians may connect, and the publishers of plugins and firmware.
 */
#define KF_PROFILE_MAX_SIZE   (1024 * 1024)
#define KF_PROFILE_MAX_RELAYS 10

struct kf_profile_relay {
	char *host;
	uint16_t port;
	char *agent_user;
	char *technician_user;
	char **host_keys; /* "ssh-ed25519 AAAA..." lines */
	size_t host_key_count;
};

struct kf_profile_publisher {
	char *name;
	char *public_key; /* Ed25519, base64 of the 32 raw bytes */
};

struct kf_profile {
	char *organisation;
	struct kf_profile_relay *relays;
	size_t relay_count;
	char *support_ca_pem;
	struct kf_profile_publisher *plugin_publishers;
	size_t plugin_publisher_count;
	struct kf_profile_publisher *firmware_publishers;
	size_t firmware_publisher_count;
	char **firmware_ca_pems;
	size_t firmware_ca_count;
	char *catalog_url;       /* NULL when the profile names none */
	char *contact;           /* how customers reach the organisation; NULL when not given */
	char *logo_path;         /* absolute path of the organisation's PNG logo; NULL when none */
	char *firmware_metadata; /* LVFS-format metadata: a path, file:// or https:// URL, or NULL
				  */
	char *firmware_tls_ca;   /* PEM CA(s) for https:// firmware downloads, or NULL: the system's
				  */
};

/* Parses and checks a profile. The caller owns *profile; free it with kf_profile_free(). */
int kf_profile_parse(const char *json, size_t len, struct kf_profile **profile,
		     struct kf_error *err);

/* Reads a profile file (at most KF_PROFILE_MAX_SIZE bytes) and parses it. */
int kf_profile_load(const char *path, struct kf_profile **profile, struct kf_error *err);

void kf_profile_free(struct kf_profile *profile);

/* $KEFU_PROFILE when set, else /etc/kefu/profile.json (where packages install it). */
const char *kf_profile_default_path(void);

#endif
