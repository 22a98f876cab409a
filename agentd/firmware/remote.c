/* kefu-agentd: LVFS-format metadata and the cabinets it names, from a vendor's https:// remote, kept in a cache. SPDX-License-Identifier: MIT */
#include "agentd/firmware/remote.h"
#include "agentd/firmware/download.h"
#include "proto/base/escape.h"
#include "proto/firmware/metadata.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 200

bool kf_fw_remote_is_url(const char *where)
{
	return where != NULL && strstr(where, "://") != NULL &&
	       strncasecmp(where, "file://", 7) != 0;
}

int kf_fw_remote_cache_dir(const char *metadata_url, char *out, size_t size, struct kf_error *err)
{
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	unsigned char digest[32];
	unsigned int len = 0;
	char id[17];
	int n;

	if (EVP_Digest(metadata_url, strlen(metadata_url), digest, &len, EVP_sha256(), NULL) != 1)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", digest[i]);
	if (cache != NULL && cache[0] == '/')
		n = snprintf(out, size, "%s/kefu/firmware/%s", cache, id);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, size, "%s/.cache/kefu/firmware/%s", home, id);
	else
		return kf_error_set(
			err, KF_ERR_NOT_FOUND,
			"no cache folder for firmware downloads: neither XDG_CACHE_HOME "
			"nor HOME is set");
	if (n < 0 || (size_t)n >= size)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the cache folder's path is too long");
	return KF_OK;
}

/*
 * The last part of an https:// URL's path, when it can be a file name of the cache:
 * letters, digits and "._-+", not starting with a dot.
 */
static int file_name_of(const char *url, char *out, size_t size, struct kf_error *err)
{
	CURLU *u = curl_url();
	char *path = NULL;
	const char *base;
	int r = KF_OK;

	if (u == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
		r = kf_error_set(err, KF_ERR_INVALID, "%s is not a URL", kf_escaped(url).text);
		goto out;
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (base[0] == '\0' || base[0] == '.' || strlen(base) > NAME_MAX_LEN ||
	    strspn(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+") !=
		    strlen(base) ||
	    strlen(base) >= size) {
		r = kf_error_set(err, KF_ERR_INVALID, "%s does not name a file kefu can keep",
				 kf_escaped(url).text);
		goto out;
	}
	snprintf(out, size, "%s", base);
out:
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

/* location resolved against the metadata URL (RFC 3986), in a string the caller frees. */
static int resolve(const char *base, const char *location, char **out, struct kf_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int r = KF_OK;

	*out = NULL;
	if (u == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, out, 0) != CURLUE_OK) {
		r = kf_error_set(err, KF_ERR_INVALID, "the update's location %s is not a URL",
				 kf_escaped(location).text);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0)
		r = kf_error_set(err, KF_ERR_UNSUPPORTED,
				 "the update's location %s is not an https:// URL; kefu downloads "
				 "firmware only over https",
				 kf_escaped(location).text);
out:
	if (r != KF_OK) {
		curl_free(*out);
		*out = NULL;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}

/* Whether the file at path exists and has the SHA-256 want (hex). */
static bool has_sha256(const char *path, const char *want)
{
	unsigned char buf[65536], digest[32];
	char hex[65];
	EVP_MD_CTX *ctx;
	ssize_t n;
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if ((ctx = EVP_MD_CTX_new()) != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (n == 0 && EVP_DigestFinal_ex(ctx, digest, NULL) == 1) {
			for (int i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", digest[i]);
			ok = strcasecmp(hex, want) == 0;
		}
	}
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ok;
}

/* Whether a failed download may fall back on the cached copy: the network, not trust. */
static bool is_unreachable(int code)
{
	return code == KF_ERR_IO || code == KF_ERR_TIMEOUT;
}

int kf_fw_remote_fetch_metadata(const struct kf_fw_remote *remote, char *out, size_t size,
				time_t *stale_since, struct kf_error *stale_reason,
				struct kf_error *err)
{
	struct stat st;
	char dir[PATH_MAX], name[NAME_MAX_LEN + 1], jcat_url[4096], jcat_path[PATH_MAX];
	struct kf_fw_download d = {
		.ca_pem = remote->ca_pem,
		.timeout_s = remote->timeout_s,
		.is_conditional = true,
	};
	int r;

	if (stale_since != NULL)
		*stale_since = 0;
	if (strncasecmp(remote->metadata_url, "https://", 8) != 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "%s is not a file, a file:// URL or an https:// URL: kefu "
				    "downloads firmware only over https",
				    kf_escaped(remote->metadata_url).text);
	if ((r = kf_fw_remote_cache_dir(remote->metadata_url, dir, sizeof(dir), err)) != KF_OK ||
	    (r = file_name_of(remote->metadata_url, name, sizeof(name), err)) != KF_OK)
		return r;
	if (snprintf(out, size, "%s/%s", dir, name) >= (int)size ||
	    snprintf(jcat_path, sizeof(jcat_path), "%s/%s.jcat", dir, name) >=
		    (int)sizeof(jcat_path) ||
	    snprintf(jcat_url, sizeof(jcat_url), "%s.jcat", remote->metadata_url) >=
		    (int)sizeof(jcat_url))
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the metadata URL is too long");
	/* The signature first, as fwupd fetches them: both must then agree, or the check fails. */
	d.url = jcat_url;
	d.path = jcat_path;
	d.max_size = KF_FW_REMOTE_JCAT_MAX;
	if ((r = kf_fw_download_fetch(&d, NULL, err)) == KF_OK) {
		d.url = remote->metadata_url;
		d.path = out;
		d.max_size = KF_FW_METADATA_MAX_SIZE;
		r = kf_fw_download_fetch(&d, NULL, err);
	}
	/* Offline, the copy from the last time is still checked against its signature. */
	if (is_unreachable(r) && stale_since != NULL && stat(out, &st) == 0 &&
	    access(jcat_path, R_OK) == 0) {
		if (stale_reason != NULL)
			*stale_reason = *err;
		*stale_since = st.st_mtime;
		return KF_OK;
	}
	return r;
}

int kf_fw_remote_fetch_cabinet(const struct kf_fw_remote *remote, const char *location,
			       const char *sha256, char *out, size_t size, struct kf_error *err)
{
	char dir[PATH_MAX], name[NAME_MAX_LEN + 1], *url = NULL;
	struct kf_fw_download d = {
		.ca_pem = remote->ca_pem,
		.timeout_s = remote->timeout_s,
		.max_size = KF_FW_REMOTE_CABINET_MAX,
		.want_sha256 = sha256,
	};
	int r;

	if ((r = kf_fw_remote_cache_dir(remote->metadata_url, dir, sizeof(dir), err)) != KF_OK ||
	    (r = resolve(remote->metadata_url, location, &url, err)) != KF_OK)
		return r;
	if ((r = file_name_of(url, name, sizeof(name), err)) != KF_OK)
		goto out;
	if (snprintf(out, size, "%s/%s", dir, name) >= (int)size) {
		r = kf_error_set(err, KF_ERR_TOO_LARGE, "the cabinet's path is too long");
		goto out;
	}
	/* A cabinet never changes under its checksum: one in the cache with it is the one. */
	if (has_sha256(out, sha256))
		goto out;
	d.url = url;
	d.path = out;
	r = kf_fw_download_fetch(&d, NULL, err);
out:
	curl_free(url);
	return r;
}
