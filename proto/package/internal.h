/* kefu: what the signed-package files share (refusals, the signed list, writing bytes); only
 * proto/package/ includes it. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PACKAGE_INTERNAL_H
#define KF_PROTO_PACKAGE_INTERNAL_H

#include "proto/package/package.h"

/* Records a refusal: err's message is "REASON: detail", *reason_out (when not NULL) is reason.
 * Returns code. */
int kf_package_refuse(struct kf_error *err, enum kf_package_reason *reason_out,
		      enum kf_package_reason reason, int code, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Parses the list (kefu-package.json) into pkg: kind (must equal kind unless
 * NULL), id, version, publisher, and the files without their data.
 */
int kf_package_parse_manifest(const uint8_t *text, size_t len, const char *kind,
			      const struct kf_package_limits *limits, struct kf_package *pkg,
			      enum kf_package_reason *reason, struct kf_error *err);

/*
 * The list is in pkg->manifest (and, when required, its signature in
 * pkg->signature): authenticates it against trusted first, then parses it, for
 * an archive and an installed folder alike.
 */
int kf_package_accept_manifest(struct kf_package *pkg, const char *kind,
			       const struct kf_package_publisher *trusted, size_t n_trusted,
			       bool require_signature, const struct kf_package_limits *limits,
			       enum kf_package_reason *reason, struct kf_error *err);

/* Writes len bytes to fd, again after a signal; returns 0, or -1 with errno set. */
int kf_package_write_all(int fd, const uint8_t *data, size_t len);

#endif
