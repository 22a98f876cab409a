/* kefu-agentd: one file fetched over HTTPS (libcurl) with limits, published whole. SPDX-License-Identifier: MIT */
#include "agentd/firmware/download.h"
#include "proto/base/escape.h"
#include "proto/base/fs.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define VALIDATOR_MAX 512 /* bytes of an ETag or Last-Modified kept */

/* Where the body goes while it arrives. */
struct sink {
	CURL *curl;
	struct kf_fs_file file;
	size_t written, max;
	bool is_too_large, is_write_failed, is_other_status;
	EVP_MD_CTX *sha;
	char etag[VALIDATOR_MAX], last_modified[VALIDATOR_MAX];
};

static size_t on_body(char *data, size_t size, size_t count, void *opaque)
{
	struct sink *s = opaque;
	size_t n = size * count, done = 0;
	long status = 0;

	/* A body of anything but 200 (an error page) is never written where the file goes. */
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		s->is_other_status = true;
		return n;
	}
	if (n > s->max - s->written) {
		s->is_too_large = true;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(s->file.fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->is_write_failed = true;
			return 0;
		}
		done += (size_t)w;
	}
	EVP_DigestUpdate(s->sha, data, n);
	s->written += n;
	return n;
}

/* Copies a header's value (without the line end) when name matches. */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t name_len = strlen(name), end = len;

	if (len <= name_len || strncasecmp(line, name, name_len) != 0)
		return;
	line += name_len;
	end -= name_len;
	while (end > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		end--;
	}
	while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
		end--;
	if (end == 0 || end >= size)
		return;
	memcpy(out, line, end);
	out[end] = '\0';
}

static size_t on_header(char *line, size_t size, size_t count, void *opaque)
{
	struct sink *s = opaque;
	size_t n = size * count;

	/* A new status line (after a redirect): the validators are the final answer's only. */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0)
		s->etag[0] = s->last_modified[0] = '\0';
	take_header(line, n, "ETag:", s->etag, sizeof(s->etag));
	take_header(line, n, "Last-Modified:", s->last_modified, sizeof(s->last_modified));
	return n;
}

/* The validators of the last download of url into path, kept in "path.http". */
static void load_validators(const char *path, const char *url, char *etag, char *modified)
{
	char name[PATH_MAX];
	json_t *kept;
	const char *u, *e, *m;

	etag[0] = modified[0] = '\0';
	if (snprintf(name, sizeof(name), "%s.http", path) >= (int)sizeof(name) ||
	    access(path, R_OK) != 0 || (kept = json_load_file(name, 0, NULL)) == NULL)
		return;
	u = json_string_value(json_object_get(kept, "url"));
	e = json_string_value(json_object_get(kept, "etag"));
	m = json_string_value(json_object_get(kept, "last_modified"));
	if (u != NULL && strcmp(u, url) == 0) {
		if (e != NULL && strlen(e) < VALIDATOR_MAX && strpbrk(e, "\r\n") == NULL)
			snprintf(etag, VALIDATOR_MAX, "%s", e);
		if (m != NULL && strlen(m) < VALIDATOR_MAX && strpbrk(m, "\r\n") == NULL)
			snprintf(modified, VALIDATOR_MAX, "%s", m);
	}
	json_decref(kept);
}

/* Keeps the validators beside path; a failure only costs a full download next time. */
static void save_validators(const char *path, const char *url, const struct sink *s)
{
	char name[PATH_MAX];
	struct kf_fs_file file;
	json_t *kept;
	char *text;
	size_t len;

	if (snprintf(name, sizeof(name), "%s.http", path) >= (int)sizeof(name))
		return;
	if (s->etag[0] == '\0' && s->last_modified[0] == '\0') {
		unlink(name);
		return;
	}
	kept = json_pack("{s:s, s:s?, s:s?}", "url", url, "etag", s->etag[0] ? s->etag : NULL,
			 "last_modified", s->last_modified[0] ? s->last_modified : NULL);
	text = kept != NULL ? json_dumps(kept, JSON_COMPACT) : NULL;
	json_decref(kept);
	if (text == NULL)
		return;
	len = strlen(text);
	if (kf_fs_create(name, 0600, &file) == 0) {
		if (write(file.fd, text, len) == (ssize_t)len)
			kf_fs_publish(&file, name, 1);
		else
			kf_fs_discard(&file);
	}
	free(text);
}

/* One sentence for what libcurl reports; the server's words escaped. */
static int transfer_error(CURL *curl, CURLcode code, const struct kf_fw_download *d,
			  const char *detail, int timeout_s, struct kf_error *err)
{
	const struct kf_escaped url = kf_escaped(d->url);
	char *redirect = NULL;

	switch (code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
		curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &redirect);
		return kf_error_set(
			err, KF_ERR_UNSUPPORTED,
			"%s redirects to %s; kefu follows only https:// links", url.text,
			kf_escaped(redirect != NULL ? redirect : "another scheme").text);
	case CURLE_TOO_MANY_REDIRECTS:
		return kf_error_set(err, KF_ERR_IO, "%s redirects more than %d times", url.text,
				    KF_FW_DOWNLOAD_MAX_REDIRECTS);
	case CURLE_PEER_FAILED_VERIFICATION: /* also CURLE_SSL_CACERT since libcurl 7.62 */
	case CURLE_SSL_CACERT_BADFILE:
		return kf_error_set(err, KF_ERR_AUTH,
				    "The server of %s is not trusted: its certificate does not "
				    "verify (%s)",
				    url.text, kf_escaped(detail).text);
	case CURLE_OPERATION_TIMEDOUT:
		return kf_error_set(err, KF_ERR_TIMEOUT,
				    "Downloading %s took longer than %d seconds", url.text,
				    timeout_s);
	case CURLE_FILESIZE_EXCEEDED:
		return kf_error_set(err, KF_ERR_TOO_LARGE, "%s is larger than %zu bytes", url.text,
				    d->max_size);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return kf_error_set(err, KF_ERR_IO, "Cannot reach the server of %s (%s)", url.text,
				    kf_escaped(detail).text);
	default:
		return kf_error_set(err, KF_ERR_IO, "Cannot download %s: %s", url.text,
				    kf_escaped(detail).text);
	}
}

/* Sets the options every download shares; false when libcurl refuses one. */
static bool set_options(CURL *curl, const struct kf_fw_download *d, struct sink *s,
			struct curl_slist *headers, struct curl_blob *ca, char *errbuf,
			int timeout_s)
{
	bool ok = true;

#define SET(option, value) ok = ok && curl_easy_setopt(curl, option, value) == CURLE_OK
	SET(CURLOPT_URL, d->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)KF_FW_DOWNLOAD_MAX_REDIRECTS);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_TIMEOUT, (long)timeout_s);
	SET(CURLOPT_CONNECTTIMEOUT, (long)(timeout_s < 30 ? timeout_s : 30));
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d->max_size);
	SET(CURLOPT_USERAGENT, "kefu-agentd");
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, s);
	/* Metadata and cabinets are compressed already; a body is taken byte for byte. */
	SET(CURLOPT_ACCEPT_ENCODING, NULL);
	if (headers != NULL)
		SET(CURLOPT_HTTPHEADER, headers);
	if (ca != NULL) {
		/* Only the profile's CA: the system's bundle and folder are not consulted. */
		SET(CURLOPT_CAINFO, NULL);
		SET(CURLOPT_CAPATH, NULL);
		SET(CURLOPT_CAINFO_BLOB, ca);
	}
#undef SET
	return ok;
}

int kf_fw_download_fetch(const struct kf_fw_download *d, bool *is_unchanged, struct kf_error *err)
{
	struct sink s = {.max = d->max_size, .file = {.fd = -1}};
	struct curl_slist *headers = NULL;
	struct curl_blob ca = {0};
	char errbuf[CURL_ERROR_SIZE] = "", etag[VALIDATOR_MAX], modified[VALIDATOR_MAX];
	char line[VALIDATOR_MAX + 32], sha[65];
	unsigned char digest[32];
	int timeout_s = d->timeout_s > 0 ? d->timeout_s : KF_FW_DOWNLOAD_TIMEOUT_S;
	long status = 0;
	CURLcode code;
	int r = KF_OK;

	if (is_unchanged != NULL)
		*is_unchanged = false;
	if (strncasecmp(d->url, "https://", 8) != 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "%s is not an https:// URL; kefu downloads firmware only over "
				    "https",
				    kf_escaped(d->url).text);
	if (d->is_conditional) {
		load_validators(d->path, d->url, etag, modified);
		if (etag[0] != '\0' && snprintf(line, sizeof(line), "If-None-Match: %s", etag) > 0)
			headers = curl_slist_append(headers, line);
		if (modified[0] != '\0' &&
		    snprintf(line, sizeof(line), "If-Modified-Since: %s", modified) > 0)
			headers = curl_slist_append(headers, line);
	}
	if (d->ca_pem != NULL)
		ca = (struct curl_blob){(void *)d->ca_pem, strlen(d->ca_pem), CURL_BLOB_COPY};
	if (kf_fs_make_parents(d->path) != 0 || kf_fs_create(d->path, 0600, &s.file) != 0) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", kf_escaped(d->path).text,
				 strerror(errno));
		s.file.fd = -1;
		goto out;
	}
	s.sha = EVP_MD_CTX_new();
	s.curl = curl_easy_init();
	if (s.sha == NULL || s.curl == NULL || EVP_DigestInit_ex(s.sha, EVP_sha256(), NULL) != 1) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!set_options(s.curl, d, &s, headers, d->ca_pem != NULL ? &ca : NULL, errbuf,
			 timeout_s)) {
		r = kf_error_set(err, KF_ERR_UNSUPPORTED,
				 "this libcurl cannot keep kefu's download rules (https only, "
				 "a CA of the profile's)");
		goto out;
	}
	code = curl_easy_perform(s.curl);
	curl_easy_getinfo(s.curl, CURLINFO_RESPONSE_CODE, &status);
	if (s.is_too_large)
		r = kf_error_set(err, KF_ERR_TOO_LARGE, "%s is larger than %zu bytes",
				 kf_escaped(d->url).text, d->max_size);
	else if (s.is_write_failed)
		r = kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", kf_escaped(d->path).text,
				 strerror(errno));
	else if (code != CURLE_OK)
		r = transfer_error(s.curl, code, d, errbuf[0] ? errbuf : curl_easy_strerror(code),
				   timeout_s, err);
	else if (status == 304 && d->is_conditional && (etag[0] || modified[0])) {
		if (is_unchanged != NULL)
			*is_unchanged = true;
		goto out; /* r stays KF_OK; the temporary is discarded below */
	} else if (status == 404 || status == 410)
		r = kf_error_set(err, KF_ERR_NOT_FOUND, "%s is not on the server (HTTP %ld)",
				 kf_escaped(d->url).text, status);
	else if (status != 200)
		r = kf_error_set(err, KF_ERR_IO, "The server answered HTTP %ld for %s", status,
				 kf_escaped(d->url).text);
	if (r != KF_OK)
		goto out;
	EVP_DigestFinal_ex(s.sha, digest, NULL);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", digest[i]);
	if (d->want_sha256 != NULL && strcasecmp(sha, d->want_sha256) != 0) {
		r = kf_error_set(err, KF_ERR_AUTH,
				 "The download of %s is not the one the signed metadata names "
				 "(SHA-256 %.16s..., expected %.16s...)",
				 kf_escaped(d->url).text, sha, d->want_sha256);
		goto out;
	}
	if (kf_fs_publish(&s.file, d->path, 1) != 0) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", kf_escaped(d->path).text,
				 strerror(errno));
		s.file.fd = -1;
		goto out;
	}
	s.file.fd = -1;
	if (d->is_conditional)
		save_validators(d->path, d->url, &s);
out:
	if (s.file.fd >= 0)
		kf_fs_discard(&s.file);
	curl_slist_free_all(headers);
	if (s.curl != NULL)
		curl_easy_cleanup(s.curl);
	EVP_MD_CTX_free(s.sha);
	return r;
}
