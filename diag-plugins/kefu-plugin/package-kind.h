/* kefu-plugin: what differs between the kinds of package the SDK makes (plugin, firmware).
 * SPDX-License-Identifier: MIT */
#ifndef KF_PLUGIN_PACKAGE_KIND_H
#define KF_PLUGIN_PACKAGE_KIND_H

#include "proto/package/package.h"
#include "proto/session/profile.h"

#include <stddef.h>
#include <stdint.h>

/* The package's id, version and publisher as its folder's manifest names them. */
struct kf_package_identity {
	char *id, *version, *publisher;
};

struct kf_package_kind {
	const char *name;     /* the list's "kind" */
	const char *manifest; /* the file in the folder that says what it is */
	const struct kf_package_limits *limits;
	/* Reads the folder's manifest; fills identity (clear it with kf_package_identity_clear). */
	int (*identify)(const char *dir, struct kf_package_identity *identity,
			struct kf_error *err);
	/* The checks the agent makes on the files of a verified package of this kind. */
	int (*check)(const struct kf_package *pkg, enum kf_package_reason *reason,
		     struct kf_error *err);
	/* The profile's publishers of this kind; *trusted is the caller's. */
	int (*trust)(const struct kf_profile *profile, struct kf_package_publisher **trusted,
		     size_t *n_trusted, struct kf_error *err);
};

/* The kind named name ("plugin", "firmware"), or NULL. */
const struct kf_package_kind *kf_package_kind_find(const char *name);

/*
 * Reads the package file at path and learns its kind from its list (without trusting
 * it: the caller verifies next). *data (caller frees) holds the *len bytes.
 */
int kf_package_kind_read(const char *path, const struct kf_package_kind **kind, uint8_t **data,
			 size_t *len, struct kf_error *err);

void kf_package_identity_clear(struct kf_package_identity *identity);

#endif
