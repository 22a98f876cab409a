/* kefu: signed packages: reading one held in memory and deciding on it before anything is
 * written. SPDX-License-Identifier: MIT */
#include "proto/package/internal.h"
#include "proto/base/escape.h"
#include "proto/base/json-fields.h"
#include "proto/base/base64.h"
#include "proto/base/buffer.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COMPONENT_MAX 100 /* bytes of one path component (a ustar name field) */

static const char *const reason_names[] = {
	[KF_PACKAGE_OK] = "ok",
	[KF_PACKAGE_NOT_AN_ARCHIVE] = "not-an-archive",
	[KF_PACKAGE_DAMAGED] = "damaged",
	[KF_PACKAGE_NOT_A_PACKAGE] = "not-a-package",
	[KF_PACKAGE_UNSIGNED] = "unsigned",
	[KF_PACKAGE_BAD_SIGNATURE] = "bad-signature",
	[KF_PACKAGE_UNKNOWN_PUBLISHER] = "unknown-publisher",
	[KF_PACKAGE_BAD_MANIFEST] = "bad-manifest",
	[KF_PACKAGE_UNSAFE_PATH] = "unsafe-path",
	[KF_PACKAGE_LINK] = "link",
	[KF_PACKAGE_SPECIAL_FILE] = "special-file",
	[KF_PACKAGE_TOO_LARGE] = "too-large",
	[KF_PACKAGE_DUPLICATE] = "duplicate",
	[KF_PACKAGE_NOT_IN_MANIFEST] = "not-in-manifest",
	[KF_PACKAGE_MISSING_FILE] = "missing-file",
	[KF_PACKAGE_HASH_MISMATCH] = "hash-mismatch",
	[KF_PACKAGE_CONTENT] = "bad-content",
};

const char *kf_package_reason_name(enum kf_package_reason reason)
{
	if ((size_t)reason >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "unknown";
	return reason_names[reason];
}

int kf_package_refuse(struct kf_error *err, enum kf_package_reason *reason_out,
		      enum kf_package_reason reason, int code, const char *format, ...)
{
	char detail[KF_ERROR_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, format);
	vsnprintf(detail, sizeof(detail), format, ap);
	va_end(ap);
	if (reason_out != NULL)
		*reason_out = reason;
	return kf_error_set(err, code, "%s: %s", kf_package_reason_name(reason), detail);
}

bool kf_package_path_is_safe(const char *path)
{
	size_t len = strlen(path), component = 0, depth = 0, i;

	if (len == 0 || len > KF_PACKAGE_PATH_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		char c = path[i];

		if (c == '/' || c == '\0') {
			if (component == 0 || component > COMPONENT_MAX)
				return false;
			if (c == '/' && ++depth > KF_PACKAGE_DEPTH_MAX)
				return false;
			component = 0;
			continue;
		}
		/* A component never starts with a dot: no ".", "..", or hidden files. */
		if (component == 0 && c == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+'))
			return false;
		component++;
	}
	return true;
}

/* Says in words why a member's name leaves the package, or NULL when it does not. */
static const char *escaping_name_reason(const char *name)
{
	const char *component = name;

	if (name[0] == '/')
		return "is an absolute path";
	while (component != NULL) {
		if (strncmp(component, "..", 2) == 0 &&
		    (component[2] == '/' || component[2] == '\0'))
			return "climbs out of the package with \"..\"";
		component = strchr(component, '/');
		if (component != NULL)
			component++;
	}
	return NULL;
}

/* Says in words why a member's name is not a plain path, or NULL when it is. */
static const char *unsafe_name_reason(const char *name)
{
	const char *why = escaping_name_reason(name);

	if (why != NULL)
		return why;
	if (strncmp(name, KF_PACKAGE_FILES_PREFIX, strlen(KF_PACKAGE_FILES_PREFIX)) != 0)
		return NULL; /* the list and signature, or a member refused as not in the
				list */
	if (!kf_package_path_is_safe(name + strlen(KF_PACKAGE_FILES_PREFIX)))
		return "is not a plain relative path (letters, digits, . _ - +, no hidden "
		       "names)";
	return NULL;
}

void kf_package_free(struct kf_package *pkg)
{
	size_t i;

	if (pkg == NULL)
		return;
	for (i = 0; i < pkg->n_files; i++) {
		free(pkg->files[i].path);
		free(pkg->files[i].data);
	}
	free(pkg->files);
	free(pkg->kind);
	free(pkg->id);
	free(pkg->version);
	free(pkg->publisher);
	free(pkg->manifest);
	free(pkg->signature);
	free(pkg);
}

/* The signed list (kefu-package.json). */

static int only_keys(const json_t *obj, const char *where, const char *const *allowed,
		     enum kf_package_reason *reason, struct kf_error *err)
{
	const char *key = kf_json_unknown_field(obj, allowed);

	if (key != NULL)
		return kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
					 "%s: unknown field \"%s\"", where, kf_escaped(key).text);
	return KF_OK;
}

/* Checks a string field: 1..max bytes, no control characters; printable ASCII only when
 * ascii. */
static const char *text_field(const json_t *obj, const char *key, size_t max, bool ascii)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t i;

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (ascii && (c > 0x7e || c == ' ')))
			return NULL;
	}
	return s;
}

static bool is_package_id(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.' || s[i] == '_'))
			return false;
	return true;
}

/* Decodes 64 lower-case hex digits: KF_OK or KF_ERR_INVALID. */
static int hex_decode32(const char *hex, uint8_t out[32])
{
	size_t i;

	if (strlen(hex) != 64)
		return KF_ERR_INVALID;
	for (i = 0; i < 64; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return KF_ERR_INVALID;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return KF_OK;
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct kf_package_file *)a)->path,
		      ((const struct kf_package_file *)b)->path);
}

/*
 * Two paths that differ only in letter case are one file on a case-insensitive file system
 * (a FAT stick, macOS, Windows): whichever is written last would silently replace the other,
 * so the list could show one script and the disk hold another. Such a list is refused, and so
 * is a file whose path is, ignoring case, a folder of another path.
 */
static int check_case_collisions(const struct kf_package *pkg, enum kf_package_reason *reason,
				 struct kf_error *err)
{
	for (size_t i = 0; i < pkg->n_files; i++) {
		const char *a = pkg->files[i].path;
		size_t alen = strlen(a);

		for (size_t j = 0; j < pkg->n_files; j++) {
			const char *b = pkg->files[j].path;

			if (i == j || strncasecmp(a, b, alen) != 0)
				continue;
			if (b[alen] == '\0' && i < j)
				return kf_package_refuse(
					err, reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
					"%s and %s differ only in letter case", a, b);
			if (b[alen] == '/')
				return kf_package_refuse(
					err, reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
					"%s is, ignoring letter case, a folder of %s", a, b);
		}
	}
	return KF_OK;
}

int kf_package_parse_manifest(const uint8_t *text, size_t len, const char *kind,
			      const struct kf_package_limits *limits, struct kf_package *pkg,
			      enum kf_package_reason *reason, struct kf_error *err)
{
	static const char *const top_keys[] = {"format",    "kind",  "id", "version",
					       "publisher", "files", NULL};
	static const char *const file_keys[] = {"path", "size", "sha256", "executable", NULL};
	json_error_t jerr;
	json_t *root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *files, *v;
	const char *s;
	size_t i, total = 0;
	int r = KF_OK;

	if (!json_is_object(root)) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
				      "kefu-package.json is not a JSON object: %s",
				      root ? "" : kf_escaped(jerr.text).text);
		goto out;
	}
	if ((r = only_keys(root, "kefu-package.json", top_keys, reason, err)) != KF_OK)
		goto out;
	v = json_object_get(root, "format");
	if (!json_is_integer(v) || json_integer_value(v) != KF_PACKAGE_FORMAT) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_UNSUPPORTED,
				      "kefu-package.json: \"format\" must be %d",
				      KF_PACKAGE_FORMAT);
		goto out;
	}
	s = text_field(root, "kind", 32, true);
	if (s == NULL || (kind != NULL && strcmp(s, kind) != 0)) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
				      "kefu-package.json: \"kind\" is not \"%s\"",
				      kind ? kind : "a word");
		goto out;
	}
	pkg->kind = strdup(s);
	s = text_field(root, "id", 64, true);
	if (s == NULL || !is_package_id(s)) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
				      "kefu-package.json: \"id\" must be 1-64 of a-z 0-9 . _ -");
		goto out;
	}
	pkg->id = strdup(s);
	if ((s = text_field(root, "version", 64, true)) == NULL ||
	    (pkg->version = strdup(s)) == NULL ||
	    (s = text_field(root, "publisher", 128, false)) == NULL ||
	    (pkg->publisher = strdup(s)) == NULL) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
				      "kefu-package.json: \"version\" and \"publisher\" "
				      "must be short text");
		goto out;
	}
	if (pkg->kind == NULL || pkg->id == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	files = json_object_get(root, "files");
	if (!json_is_array(files) || json_array_size(files) == 0) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
				      "kefu-package.json: \"files\" must be a non-empty list");
		goto out;
	}
	if (json_array_size(files) > limits->max_files) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				      "the package lists %zu files, more than %zu",
				      json_array_size(files), limits->max_files);
		goto out;
	}
	pkg->files = calloc(json_array_size(files), sizeof(*pkg->files));
	if (pkg->files == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(files, i, v)
	{
		struct kf_package_file *f = &pkg->files[i];
		json_t *size = json_object_get(v, "size"), *exec = json_object_get(v, "executable");
		const char *path = text_field(v, "path", KF_PACKAGE_PATH_MAX, true);
		const char *hash = text_field(v, "sha256", 64, true);
		char where[48];

		snprintf(where, sizeof(where), "kefu-package.json file %zu", i + 1);
		if (!json_is_object(v) || (r = only_keys(v, where, file_keys, reason, err)) != 0) {
			if (r == KF_OK)
				r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST,
						      KF_ERR_INVALID, "%s is not an object", where);
			goto out;
		}
		if (path == NULL || !kf_package_path_is_safe(path)) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_UNSAFE_PATH, KF_ERR_INVALID,
					      "%s: \"path\" is not a plain relative path", where);
			goto out;
		}
		if (!json_is_integer(size) || json_integer_value(size) < 0 || hash == NULL ||
		    hex_decode32(hash, f->sha256) < 0 || !json_is_boolean(exec)) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
					      "%s: needs \"size\", \"sha256\" (64 "
					      "lower-case hex digits) and "
					      "\"executable\"",
					      where);
			goto out;
		}
		if ((uint64_t)json_integer_value(size) > limits->max_member) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
					      "%s is larger than %zu bytes", path,
					      limits->max_member);
			goto out;
		}
		f->size = (size_t)json_integer_value(size);
		total += f->size;
		if (total > limits->max_total) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
					      "the files add up to more than %zu bytes",
					      limits->max_total);
			goto out;
		}
		f->executable = json_is_true(exec);
		if ((f->path = strdup(path)) == NULL) {
			r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
			goto out;
		}
		pkg->n_files++;
	}
	/* Strictly sorted: no duplicates, and a path's descendants follow it directly. */
	for (i = 0; i < pkg->n_files; i++) {
		const char *a = pkg->files[i].path;
		size_t alen = strlen(a), j;

		if (i > 0 && strcmp(pkg->files[i - 1].path, a) >= 0) {
			r = strcmp(pkg->files[i - 1].path, a) == 0
				    ? kf_package_refuse(err, reason, KF_PACKAGE_DUPLICATE,
							KF_ERR_INVALID, "%s is listed twice", a)
				    : kf_package_refuse(err, reason, KF_PACKAGE_BAD_MANIFEST,
							KF_ERR_INVALID,
							"the files are not sorted by path");
			goto out;
		}
		for (j = i + 1; j < pkg->n_files && strncmp(pkg->files[j].path, a, alen) == 0; j++)
			if (pkg->files[j].path[alen] == '/') {
				r = kf_package_refuse(err, reason, KF_PACKAGE_DUPLICATE,
						      KF_ERR_INVALID,
						      "%s is both a file and a folder", a);
				goto out;
			}
	}
	if (r == KF_OK)
		r = check_case_collisions(pkg, reason, err);
out:
	json_decref(root);
	return r;
}

/* The signature (kefu-package.sig). */

static int check_signature(struct kf_package *pkg, const struct kf_package_publisher *trusted,
			   size_t n_trusted, bool require,
			   const struct kf_package_publisher **signer,
			   enum kf_package_reason *reason, struct kf_error *err)
{
	static const char *const keys[] = {"format", "algorithm", "public_key", "signature", NULL};
	json_error_t jerr;
	json_t *root;
	const char *key_text, *sig_text;
	uint8_t sig[KF_PACKAGE_SIG_SIZE + 3];
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	struct kf_buf message = {0};
	size_t i;
	int r;

	*signer = NULL;
	root = json_loadb((const char *)pkg->signature, pkg->signature_len, JSON_REJECT_DUPLICATES,
			  &jerr);
	key_text = text_field(root, "public_key", 64, true);
	sig_text = text_field(root, "signature", 128, true);
	if (!json_is_object(root) || only_keys(root, "kefu-package.sig", keys, NULL, NULL) != 0 ||
	    json_integer_value(json_object_get(root, "format")) != KF_PACKAGE_FORMAT ||
	    !json_is_string(json_object_get(root, "algorithm")) ||
	    strcmp(json_string_value(json_object_get(root, "algorithm")), "ed25519") != 0 ||
	    key_text == NULL || sig_text == NULL || kf_package_key_decode(key_text, pkg->key) < 0 ||
	    kf_base64_decode(sig_text, strlen(sig_text), sig, sizeof(sig)) != KF_PACKAGE_SIG_SIZE) {
		json_decref(root);
		return kf_package_refuse(err, reason, KF_PACKAGE_BAD_SIGNATURE, KF_ERR_AUTH,
					 "kefu-package.sig is not an Ed25519 signature record");
	}
	json_decref(root);
	if (!require)
		return KF_OK;
	for (i = 0; i < n_trusted && *signer == NULL; i++)
		if (memcmp(trusted[i].key, pkg->key, KF_PACKAGE_KEY_SIZE) == 0)
			*signer = &trusted[i];
	if (*signer == NULL) {
		char *text = kf_base64_encode(pkg->key, KF_PACKAGE_KEY_SIZE);

		r = kf_package_refuse(err, reason, KF_PACKAGE_UNKNOWN_PUBLISHER, KF_ERR_AUTH,
				      "signed by key %s, which is not a trusted publisher's",
				      text != NULL ? text : "?");
		free(text);
		return r;
	}
	if (kf_buf_append(&message, KF_PACKAGE_SIGN_CONTEXT, strlen(KF_PACKAGE_SIGN_CONTEXT)) !=
		    0 ||
	    kf_buf_append(&message, pkg->manifest, pkg->manifest_len) != 0)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pkg->key, KF_PACKAGE_KEY_SIZE);
	ctx = EVP_MD_CTX_new();
	if (pub == NULL || ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) != 1)
		r = kf_error_set(err, KF_ERR_NOMEM, "cannot set up Ed25519 verification");
	else if (EVP_DigestVerify(ctx, sig, KF_PACKAGE_SIG_SIZE, message.data, message.len) != 1)
		r = kf_package_refuse(
			err, reason, KF_PACKAGE_BAD_SIGNATURE, KF_ERR_AUTH,
			"the signature does not match kefu-package.json (changed after "
			"signing, or signed by another key)");
	else
		r = KF_OK;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	kf_buf_free(&message);
	return r;
}

/* Reading the archive. */

struct reader {
	struct archive *archive;
	const struct kf_package_limits *limits;
	enum kf_package_reason *reason;
	struct kf_error *err;
};

/* Reads the current member's size bytes (at most max) into *out. */
static int read_member(struct reader *rd, const char *name, size_t size, size_t max, uint8_t **out)
{
	uint8_t *buf;
	size_t got = 0;

	*out = NULL;
	if (size > max)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_TOO_LARGE,
					 KF_ERR_TOO_LARGE, "%s is larger than %zu bytes", name,
					 max);
	buf = malloc(size + 1);
	if (buf == NULL)
		return kf_error_set(rd->err, KF_ERR_NOMEM, "out of memory");
	for (;;) {
		la_ssize_t n = archive_read_data(rd->archive, buf + got, size + 1 - got);

		if (n < 0) {
			free(buf);
			return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED,
						 KF_ERR_INVALID, "%s: %s", name,
						 archive_error_string(rd->archive));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > size) {
			free(buf);
			return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED,
						 KF_ERR_INVALID,
						 "%s holds more bytes than its header says", name);
		}
	}
	if (got != size) {
		free(buf);
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
					 "%s is truncated", name);
	}
	buf[size] = '\0';
	*out = buf;
	return KF_OK;
}

/* Path and type checks that every member passes before any of its bytes are read. */
static int check_member(struct reader *rd, struct archive_entry *entry, const char **name_out)
{
	const char *name = archive_entry_pathname(entry), *why;
	mode_t type = archive_entry_filetype(entry);

	if (name == NULL)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_UNSAFE_PATH,
					 KF_ERR_INVALID, "a member has no readable name");
	if ((why = escaping_name_reason(name)) != NULL)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_UNSAFE_PATH,
					 KF_ERR_INVALID, "%s %s", kf_escaped(name).text, why);
	if (archive_entry_hardlink(entry) != NULL)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_LINK, KF_ERR_INVALID,
					 "%s is a hard link", kf_escaped(name).text);
	if (type == AE_IFLNK || archive_entry_symlink(entry) != NULL)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_LINK, KF_ERR_INVALID,
					 "%s is a symbolic link", kf_escaped(name).text);
	if (type != AE_IFREG)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_SPECIAL_FILE,
					 KF_ERR_INVALID, "%s is a %s, not a regular file",
					 kf_escaped(name).text,
					 type == AE_IFCHR || type == AE_IFBLK ? "device file"
					 : type == AE_IFIFO                   ? "fifo"
					 : type == AE_IFDIR                   ? "folder entry"
					 : type == AE_IFSOCK                  ? "socket"
									      : "special file");
	if ((why = unsafe_name_reason(name)) != NULL)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_UNSAFE_PATH,
					 KF_ERR_INVALID, "%s %s", kf_escaped(name).text, why);
	if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
					 "%s has no size", kf_escaped(name).text);
	*name_out = name;
	return KF_OK;
}

static int find_file(const struct kf_package *pkg, const char *path)
{
	struct kf_package_file key = {.path = (char *)path};
	const struct kf_package_file *f =
		bsearch(&key, pkg->files, pkg->n_files, sizeof(*pkg->files), compare_files);

	return f == NULL ? -1 : (int)(f - pkg->files);
}

static int read_payload(struct reader *rd, struct kf_package *pkg, const char *name, size_t size,
			size_t *count)
{
	const char *path = name + strlen(KF_PACKAGE_FILES_PREFIX);
	struct kf_package_file *f;
	uint8_t digest[32];
	int index, r;

	if (strcmp(name, KF_PACKAGE_MANIFEST_NAME) == 0 ||
	    strcmp(name, KF_PACKAGE_SIGNATURE_NAME) == 0)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
					 "%s appears twice", name);
	if (++*count > rd->limits->max_files)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_TOO_LARGE,
					 KF_ERR_TOO_LARGE, "the archive holds more than %zu files",
					 rd->limits->max_files);
	if (size > rd->limits->max_member)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_TOO_LARGE,
					 KF_ERR_TOO_LARGE, "%s is larger than %zu bytes",
					 kf_escaped(name).text, rd->limits->max_member);
	if (strncmp(name, KF_PACKAGE_FILES_PREFIX, strlen(KF_PACKAGE_FILES_PREFIX)) != 0 ||
	    (index = find_file(pkg, path)) < 0)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_NOT_IN_MANIFEST,
					 KF_ERR_INVALID, "%s is not in the signed list",
					 kf_escaped(name).text);
	f = &pkg->files[index];
	if (f->data != NULL)
		return kf_package_refuse(rd->err, rd->reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
					 "%s appears twice", kf_escaped(name).text);
	if (size != f->size)
		return kf_package_refuse(
			rd->err, rd->reason, KF_PACKAGE_HASH_MISMATCH, KF_ERR_INVALID,
			"%.128s has %zu bytes, the signed list says %zu", path, size, f->size);
	if ((r = read_member(rd, name, size, rd->limits->max_member, &f->data)) != KF_OK)
		return r;
	if (EVP_Digest(f->data, size, digest, NULL, EVP_sha256(), NULL) != 1)
		return kf_error_set(rd->err, KF_ERR_NOMEM, "SHA-256 failed");
	if (CRYPTO_memcmp(digest, f->sha256, sizeof(digest)) != 0)
		return kf_package_refuse(
			rd->err, rd->reason, KF_PACKAGE_HASH_MISMATCH, KF_ERR_INVALID,
			"%.128s does not match its SHA-256 in the signed list", path);
	return KF_OK;
}

int kf_package_accept_manifest(struct kf_package *pkg, const char *kind,
			       const struct kf_package_publisher *trusted, size_t n_trusted,
			       bool require_signature, const struct kf_package_limits *limits,
			       enum kf_package_reason *reason, struct kf_error *err)
{
	const struct kf_package_publisher *signer = NULL;
	int r;

	if (pkg->signature == NULL && require_signature)
		return kf_package_refuse(err, reason, KF_PACKAGE_UNSIGNED, KF_ERR_AUTH,
					 "the package has no %s after %s",
					 KF_PACKAGE_SIGNATURE_NAME, KF_PACKAGE_MANIFEST_NAME);
	if (pkg->signature != NULL &&
	    (r = check_signature(pkg, trusted, n_trusted, require_signature, &signer, reason,
				 err)) != KF_OK)
		return r;
	pkg->is_signed = signer != NULL;
	if ((r = kf_package_parse_manifest(pkg->manifest, pkg->manifest_len, kind, limits, pkg,
					   reason, err)) != KF_OK)
		return r;
	if (signer != NULL && signer->name != NULL && strcmp(signer->name, pkg->publisher) != 0)
		return kf_package_refuse(
			err, reason, KF_PACKAGE_UNKNOWN_PUBLISHER, KF_ERR_AUTH,
			"the package claims publisher \"%s\" but is signed by \"%s\"",
			kf_escaped(pkg->publisher).text, kf_escaped(signer->name).text);
	return KF_OK;
}

/*
 * The caps come first: one pass over the headers counts the members and adds
 * up their sizes before any content is read, hashed or parsed.
 */
static int check_sizes(const uint8_t *data, size_t len, const struct kf_package_limits *limits,
		       enum kf_package_reason *reason, struct kf_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	size_t members = 0, total = 0;
	la_int64_t end_of_data = 0;
	int h, r = KF_OK;

	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	/* Plain tar only: no compression filters, no other formats. */
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_NOT_AN_ARCHIVE, KF_ERR_INVALID,
				      "not a tar archive: %s", archive_error_string(a));
		goto out;
	}
	while ((h = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(entry);

		/* The list and the signature are bounded by their own caps. */
		if (++members > limits->max_files + 2) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
					      "the archive holds more than %zu files",
					      limits->max_files);
			goto out;
		}
		if (size < 0 || (uint64_t)size > (members <= 2 ? KF_PACKAGE_MANIFEST_MAX
							       : limits->max_member)) {
			r = kf_package_refuse(
				err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				"%s is larger than %zu bytes",
				archive_entry_pathname(entry)
					? kf_escaped(archive_entry_pathname(entry)).text
					: "a member",
				members <= 2 ? (size_t)KF_PACKAGE_MANIFEST_MAX
					     : limits->max_member);
			goto out;
		}
		total += (size_t)size;
		if (total >
		    limits->max_total + KF_PACKAGE_MANIFEST_MAX + KF_PACKAGE_SIGNATURE_MAX) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
					      "the files add up to more than %zu bytes",
					      limits->max_total);
			goto out;
		}
		if (archive_read_data_skip(a) != ARCHIVE_OK) {
			h = ARCHIVE_FATAL;
			break;
		}
		end_of_data = archive_filter_bytes(a, 0);
	}
	/*
	 * libarchive also reports the end when the data stops at a header boundary;
	 * a whole archive has its end-of-archive blocks after the last member.
	 */
	if (h == ARCHIVE_EOF && members > 0 && archive_filter_bytes(a, 0) <= end_of_data)
		r = kf_package_refuse(err, reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
				      "the archive is truncated (no end-of-archive marker)");
	else if (h != ARCHIVE_EOF)
		r = kf_package_refuse(
			err, reason, members == 0 ? KF_PACKAGE_NOT_AN_ARCHIVE : KF_PACKAGE_DAMAGED,
			KF_ERR_INVALID, "%s",
			members == 0 ? "not a tar archive" : "the archive is truncated or corrupt");
out:
	archive_read_free(a);
	return r;
}

static int read_package(const uint8_t *data, size_t len, const char *kind,
			const struct kf_package_publisher *trusted, size_t n_trusted,
			bool require_signature, const struct kf_package_limits *limits,
			struct kf_package **out, enum kf_package_reason *reason,
			struct kf_error *err)
{
	struct reader rd = {archive_read_new(), limits, reason, err};
	struct kf_package *pkg = calloc(1, sizeof(*pkg));
	struct archive_entry *entry;
	size_t index = 0, count = 0, i;
	bool accepted = false;
	int r = KF_OK, h;

	*out = NULL;
	if (reason != NULL)
		*reason = KF_PACKAGE_OK;
	if (rd.archive == NULL || pkg == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (len > limits->max_archive) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				      "the archive is larger than %zu bytes", limits->max_archive);
		goto out;
	}
	if ((r = check_sizes(data, len, limits, reason, err)) != KF_OK)
		goto out;
	archive_read_support_format_tar(rd.archive);
	if (archive_read_open_memory(rd.archive, data, len) != ARCHIVE_OK) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_NOT_AN_ARCHIVE, KF_ERR_INVALID,
				      "not a tar archive: %s", archive_error_string(rd.archive));
		goto out;
	}
	for (;;) {
		const char *name = NULL;
		size_t size;

		h = archive_read_next_header(rd.archive, &entry);
		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK) {
			r = kf_package_refuse(err, reason,
					      index == 0 ? KF_PACKAGE_NOT_AN_ARCHIVE
							 : KF_PACKAGE_DAMAGED,
					      KF_ERR_INVALID, "%s",
					      index == 0 ? "not a tar archive"
							 : "the archive is truncated or corrupt");
			goto out;
		}
		if ((r = check_member(&rd, entry, &name)) != KF_OK)
			goto out;
		size = (size_t)archive_entry_size(entry);
		if (index == 0) {
			if (strcmp(name, KF_PACKAGE_MANIFEST_NAME) != 0) {
				r = kf_package_refuse(
					err, reason, KF_PACKAGE_NOT_A_PACKAGE, KF_ERR_INVALID,
					"the first member is %s, not %s", kf_escaped(name).text,
					KF_PACKAGE_MANIFEST_NAME);
				goto out;
			}
			r = read_member(&rd, name, size, KF_PACKAGE_MANIFEST_MAX, &pkg->manifest);
			pkg->manifest_len = size;
		} else if (index == 1 && strcmp(name, KF_PACKAGE_SIGNATURE_NAME) == 0) {
			r = read_member(&rd, name, size, KF_PACKAGE_SIGNATURE_MAX, &pkg->signature);
			pkg->signature_len = size;
			if (r == KF_OK)
				r = kf_package_accept_manifest(pkg, kind, trusted, n_trusted,
							       require_signature, limits, reason,
							       err);
			accepted = true;
		} else {
			if (!accepted) {
				r = kf_package_accept_manifest(pkg, kind, trusted, n_trusted,
							       require_signature, limits, reason,
							       err);
				accepted = true;
			}
			if (r == KF_OK)
				r = read_payload(&rd, pkg, name, size, &count);
		}
		if (r != KF_OK)
			goto out;
		index++;
	}
	if (index == 0) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_NOT_A_PACKAGE, KF_ERR_INVALID,
				      "the archive is empty");
		goto out;
	}
	if (!accepted &&
	    (r = kf_package_accept_manifest(pkg, kind, trusted, n_trusted, require_signature,
					    limits, reason, err)) != KF_OK)
		goto out;
	for (i = 0; i < pkg->n_files; i++)
		if (pkg->files[i].data == NULL) {
			r = kf_package_refuse(err, reason, KF_PACKAGE_MISSING_FILE, KF_ERR_INVALID,
					      "%.128s is in the signed list but not in the archive",
					      pkg->files[i].path);
			goto out;
		}
	*out = pkg;
	pkg = NULL;
out:
	archive_read_free(rd.archive);
	kf_package_free(pkg);
	return r;
}

int kf_package_verify(const uint8_t *data, size_t len, const char *kind,
		      const struct kf_package_publisher *trusted, size_t n_trusted,
		      const struct kf_package_limits *limits, struct kf_package **out,
		      enum kf_package_reason *reason, struct kf_error *err)
{
	return read_package(data, len, kind, trusted, n_trusted, true, limits, out, reason, err);
}

int kf_package_read_unsigned(const uint8_t *data, size_t len, const char *kind,
			     const struct kf_package_limits *limits, struct kf_package **out,
			     enum kf_package_reason *reason, struct kf_error *err)
{
	return read_package(data, len, kind, NULL, 0, false, limits, out, reason, err);
}
