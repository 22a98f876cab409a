/* kefu-agentd: one file fetched over HTTPS (libcurl) with limits, published whole. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_DOWNLOAD_H
#define KF_AGENTD_FW_DOWNLOAD_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_FW_DOWNLOAD_MAX_REDIRECTS 5
#define KF_FW_DOWNLOAD_TIMEOUT_S     300 /* the whole transfer, unless the caller says */

/* What to fetch and the rules it must keep. */
struct kf_fw_download {
	const char *url;  /* https:// only, redirects only to https:// */
	const char *path; /* the local file it becomes, replaced whole once it is complete */
	size_t max_size;  /* bytes; a larger body (declared or sent) is refused */
	int timeout_s;    /* for the whole transfer; 0 means KF_FW_DOWNLOAD_TIMEOUT_S */
	/* PEM CA certificate(s) the server's certificate must chain to, instead of the
	 * system's CAs; NULL for the system's. */
	const char *ca_pem;
	/* When set (lower-case hex), a body with another SHA-256 is not kept: KF_ERR_AUTH. */
	const char *want_sha256;
	/* Sends the ETag and Last-Modified kept beside path ("path.http") from the last
	 * download of the same URL, and keeps path as it is when the server says 304. */
	bool is_conditional;
};

/*
 * Fetches d->url into a temporary file in the folder of d->path (made private when
 * missing) and gives it d->path only when the whole body arrived, fits d->max_size
 * and, when asked, has d->want_sha256; on any failure d->path is as it was. TLS is
 * verified (peer and host name). *is_unchanged (may be NULL) says the server answered
 * 304 and d->path was kept. Every failure is one sentence in err with the URL escaped:
 * KF_ERR_UNSUPPORTED (not https, or a redirect elsewhere), KF_ERR_AUTH (certificate,
 * checksum), KF_ERR_TOO_LARGE, KF_ERR_TIMEOUT, KF_ERR_NOT_FOUND (HTTP 404/410),
 * KF_ERR_IO (the network, the server, the disk).
 */
int kf_fw_download_fetch(const struct kf_fw_download *d, bool *is_unchanged, struct kf_error *err);

#endif
