/* kefu-agentd: LVFS-format metadata and the cabinets it names, from a vendor's https:// remote, kept in a cache. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_REMOTE_H
#define KF_AGENTD_FW_REMOTE_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define KF_FW_REMOTE_JCAT_MAX    (16 * 1024 * 1024)
#define KF_FW_REMOTE_CABINET_MAX (256 * 1024 * 1024)

/* How the vendor's remote is reached. */
struct kf_fw_remote {
	const char *metadata_url; /* https://.../firmware.xml.gz; its Jcat is URL + ".jcat" */
	const char *ca_pem;       /* the profile's firmware_tls_ca, or NULL for the system's */
	int timeout_s;            /* per download; 0 for the default */
};

/*
 * The cache folder of a remote: $XDG_CACHE_HOME/kefu/firmware/ (else ~/.cache/...)
 * and a name made from the metadata URL, so that two remotes never share files.
 */
int kf_fw_remote_cache_dir(const char *metadata_url, char *out, size_t size, struct kf_error *err);

/*
 * Downloads the metadata and its Jcat into the cache (conditionally: a server that
 * answers 304 keeps the cached copy) and writes the local path of the metadata in out;
 * its Jcat is beside it as out + ".jcat". Nothing is trusted here: the caller checks
 * the Jcat before reading a byte of the metadata. When the server cannot be reached
 * (KF_ERR_IO, KF_ERR_TIMEOUT) and both files are cached from before, those are used:
 * KF_OK with *stale_since (may be NULL) set to when they were downloaded and the
 * reason in stale_reason; otherwise *stale_since is 0.
 */
int kf_fw_remote_fetch_metadata(const struct kf_fw_remote *remote, char *out, size_t size,
				time_t *stale_since, struct kf_error *stale_reason,
				struct kf_error *err);

/*
 * The cabinet at location (relative to the metadata URL, or an absolute https:// URL)
 * that must have the SHA-256 sha256 the signed metadata gives: a cached copy with that
 * checksum is used as it is, otherwise it is downloaded and kept only when it has it.
 * Writes the local path in out.
 */
int kf_fw_remote_fetch_cabinet(const struct kf_fw_remote *remote, const char *location,
			       const char *sha256, char *out, size_t size, struct kf_error *err);

/* Whether where names an https:// remote (case as RFC 3986 allows). */
bool kf_fw_remote_is_url(const char *where);

#endif
