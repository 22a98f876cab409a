/* kefu: diagnostic plugins as signed packages: limits, trust and the plugin checks on top of
 * proto/package/package.h (diag-plugins/FORMAT.md "Packages"). SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PLUGIN_PACKAGE_H
#define KF_PROTO_PLUGIN_PACKAGE_H

#include "proto/package/package.h"
#include "proto/plugin/manifest.h"
#include "proto/session/profile.h"

#define KF_PLUGIN_PACKAGE_KIND "plugin"

/* 8 MiB archive, 1 MiB per file, 4 MiB in all, 256 files. */
extern const struct kf_package_limits kf_plugin_package_limits;

/*
 * The profile's plugin publishers as trusted signers. *trusted (caller frees)
 * borrows the names from profile, which must outlive it.
 */
int kf_plugin_package_trust(const struct kf_profile *profile, struct kf_package_publisher **trusted,
			    size_t *n_trusted, struct kf_error *err);

/*
 * Checks that a package's files make a plugin: plugin.json parses, its id,
 * version and publisher are the package's, and every step script is in the
 * package and executable. On success *manifest, when not NULL, is the caller's.
 */
int kf_plugin_package_check(const struct kf_package *pkg, struct kf_plugin_manifest **manifest,
			    enum kf_package_reason *reason, struct kf_error *err);

/* Reads the file at path, verifies it (kf_package_verify) and checks it is a plugin. */
int kf_plugin_package_open(const char *path, const struct kf_package_publisher *trusted,
			   size_t n_trusted, struct kf_package **out,
			   enum kf_package_reason *reason, struct kf_error *err);

#endif
