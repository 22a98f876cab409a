/* kefu: signed packages: read and verify in memory, build, install atomically, Ed25519 keys.
 * SPDX-License-Identifier: MIT */
#include "proto/package/package.h"
#include "proto/base/json-fields.h"
#include "proto/base/base64.h"
#include "proto/base/buffer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSTALLED_MANIFEST  ".kefu-package.json"
#define INSTALLED_SIGNATURE ".kefu-package.sig"
#define KEY_FILE_MAX        16384
#define COMPONENT_MAX       100 /* bytes of one path component (a ustar name field) */

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

/* Records a refusal: err's message is "REASON: detail". Returns code. */
static int refuse(struct kf_error *err, enum kf_package_reason *reason_out,
		  enum kf_package_reason reason, int code, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

static int refuse(struct kf_error *err, enum kf_package_reason *reason_out,
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
		return NULL; /* the list and signature, or a member refused as not in the list */
	if (!kf_package_path_is_safe(name + strlen(KF_PACKAGE_FILES_PREFIX)))
		return "is not a plain relative path (letters, digits, . _ - +, no hidden names)";
	return NULL;
}

int kf_package_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
			 struct kf_error *err)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO, "%s: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kf_error_set(err, KF_ERR_INVALID, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "%s: larger than %zu bytes", path, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return kf_error_set(err, KF_ERR_IO, "%s: short read", path);
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return KF_OK;
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
		return refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
			      "%s: unknown field \"%.64s\"", where, key);
	return KF_OK;
}

/* Checks a string field: 1..max bytes, no control characters; printable ASCII only when ascii. */
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

static int hex_decode32(const char *hex, uint8_t out[32])
{
	size_t i;

	if (strlen(hex) != 64)
		return -1;
	for (i = 0; i < 64; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct kf_package_file *)a)->path,
		      ((const struct kf_package_file *)b)->path);
}

/* Parses the list into pkg (kind, id, version, publisher, files without data). */
static int parse_manifest(const uint8_t *text, size_t len, const char *kind,
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
		r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
			   "kefu-package.json is not a JSON object: %s", root ? "" : jerr.text);
		goto out;
	}
	if ((r = only_keys(root, "kefu-package.json", top_keys, reason, err)) != KF_OK)
		goto out;
	v = json_object_get(root, "format");
	if (!json_is_integer(v) || json_integer_value(v) != KF_PACKAGE_FORMAT) {
		r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_UNSUPPORTED,
			   "kefu-package.json: \"format\" must be %d", KF_PACKAGE_FORMAT);
		goto out;
	}
	s = text_field(root, "kind", 32, true);
	if (s == NULL || (kind != NULL && strcmp(s, kind) != 0)) {
		r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
			   "kefu-package.json: \"kind\" is not \"%s\"", kind ? kind : "a word");
		goto out;
	}
	pkg->kind = strdup(s);
	s = text_field(root, "id", 64, true);
	if (s == NULL || !is_package_id(s)) {
		r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
			   "kefu-package.json: \"id\" must be 1-64 of a-z 0-9 . _ -");
		goto out;
	}
	pkg->id = strdup(s);
	if ((s = text_field(root, "version", 64, true)) == NULL ||
	    (pkg->version = strdup(s)) == NULL ||
	    (s = text_field(root, "publisher", 128, false)) == NULL ||
	    (pkg->publisher = strdup(s)) == NULL) {
		r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
			   "kefu-package.json: \"version\" and \"publisher\" must be short text");
		goto out;
	}
	if (pkg->kind == NULL || pkg->id == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	files = json_object_get(root, "files");
	if (!json_is_array(files) || json_array_size(files) == 0) {
		r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
			   "kefu-package.json: \"files\" must be a non-empty list");
		goto out;
	}
	if (json_array_size(files) > limits->max_files) {
		r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
			   "the package lists %zu files, more than %zu", json_array_size(files),
			   limits->max_files);
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
				r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
					   "%s is not an object", where);
			goto out;
		}
		if (path == NULL || !kf_package_path_is_safe(path)) {
			r = refuse(err, reason, KF_PACKAGE_UNSAFE_PATH, KF_ERR_INVALID,
				   "%s: \"path\" is not a plain relative path", where);
			goto out;
		}
		if (!json_is_integer(size) || json_integer_value(size) < 0 || hash == NULL ||
		    hex_decode32(hash, f->sha256) < 0 || !json_is_boolean(exec)) {
			r = refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
				   "%s: needs \"size\", \"sha256\" (64 lower-case hex digits) and "
				   "\"executable\"",
				   where);
			goto out;
		}
		if ((uint64_t)json_integer_value(size) > limits->max_member) {
			r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				   "%s is larger than %zu bytes", path, limits->max_member);
			goto out;
		}
		f->size = (size_t)json_integer_value(size);
		total += f->size;
		if (total > limits->max_total) {
			r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				   "the files add up to more than %zu bytes", limits->max_total);
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
				    ? refuse(err, reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
					     "%s is listed twice", a)
				    : refuse(err, reason, KF_PACKAGE_BAD_MANIFEST, KF_ERR_INVALID,
					     "the files are not sorted by path");
			goto out;
		}
		for (j = i + 1; j < pkg->n_files && strncmp(pkg->files[j].path, a, alen) == 0; j++)
			if (pkg->files[j].path[alen] == '/') {
				r = refuse(err, reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
					   "%s is both a file and a folder", a);
				goto out;
			}
	}
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
		return refuse(err, reason, KF_PACKAGE_BAD_SIGNATURE, KF_ERR_AUTH,
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

		r = refuse(err, reason, KF_PACKAGE_UNKNOWN_PUBLISHER, KF_ERR_AUTH,
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
		r = refuse(err, reason, KF_PACKAGE_BAD_SIGNATURE, KF_ERR_AUTH,
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
		return refuse(rd->err, rd->reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
			      "%s is larger than %zu bytes", name, max);
	buf = malloc(size + 1);
	if (buf == NULL)
		return kf_error_set(rd->err, KF_ERR_NOMEM, "out of memory");
	for (;;) {
		la_ssize_t n = archive_read_data(rd->archive, buf + got, size + 1 - got);

		if (n < 0) {
			free(buf);
			return refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
				      "%s: %s", name, archive_error_string(rd->archive));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > size) {
			free(buf);
			return refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
				      "%s holds more bytes than its header says", name);
		}
	}
	if (got != size) {
		free(buf);
		return refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
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
		return refuse(rd->err, rd->reason, KF_PACKAGE_UNSAFE_PATH, KF_ERR_INVALID,
			      "a member has no readable name");
	if ((why = escaping_name_reason(name)) != NULL)
		return refuse(rd->err, rd->reason, KF_PACKAGE_UNSAFE_PATH, KF_ERR_INVALID,
			      "%.128s %s", name, why);
	if (archive_entry_hardlink(entry) != NULL)
		return refuse(rd->err, rd->reason, KF_PACKAGE_LINK, KF_ERR_INVALID,
			      "%.128s is a hard link", name);
	if (type == AE_IFLNK || archive_entry_symlink(entry) != NULL)
		return refuse(rd->err, rd->reason, KF_PACKAGE_LINK, KF_ERR_INVALID,
			      "%.128s is a symbolic link", name);
	if (type != AE_IFREG)
		return refuse(rd->err, rd->reason, KF_PACKAGE_SPECIAL_FILE, KF_ERR_INVALID,
			      "%.128s is a %s, not a regular file", name,
			      type == AE_IFCHR || type == AE_IFBLK ? "device file"
			      : type == AE_IFIFO                   ? "fifo"
			      : type == AE_IFDIR                   ? "folder entry"
			      : type == AE_IFSOCK                  ? "socket"
								   : "special file");
	if ((why = unsafe_name_reason(name)) != NULL)
		return refuse(rd->err, rd->reason, KF_PACKAGE_UNSAFE_PATH, KF_ERR_INVALID,
			      "%.128s %s", name, why);
	if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0)
		return refuse(rd->err, rd->reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
			      "%.128s has no size", name);
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
		return refuse(rd->err, rd->reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
			      "%s appears twice", name);
	if (++*count > rd->limits->max_files)
		return refuse(rd->err, rd->reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
			      "the archive holds more than %zu files", rd->limits->max_files);
	if (size > rd->limits->max_member)
		return refuse(rd->err, rd->reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
			      "%.128s is larger than %zu bytes", name, rd->limits->max_member);
	if (strncmp(name, KF_PACKAGE_FILES_PREFIX, strlen(KF_PACKAGE_FILES_PREFIX)) != 0 ||
	    (index = find_file(pkg, path)) < 0)
		return refuse(rd->err, rd->reason, KF_PACKAGE_NOT_IN_MANIFEST, KF_ERR_INVALID,
			      "%.128s is not in the signed list", name);
	f = &pkg->files[index];
	if (f->data != NULL)
		return refuse(rd->err, rd->reason, KF_PACKAGE_DUPLICATE, KF_ERR_INVALID,
			      "%.128s appears twice", name);
	if (size != f->size)
		return refuse(rd->err, rd->reason, KF_PACKAGE_HASH_MISMATCH, KF_ERR_INVALID,
			      "%.128s has %zu bytes, the signed list says %zu", path, size,
			      f->size);
	if ((r = read_member(rd, name, size, rd->limits->max_member, &f->data)) != KF_OK)
		return r;
	if (EVP_Digest(f->data, size, digest, NULL, EVP_sha256(), NULL) != 1)
		return kf_error_set(rd->err, KF_ERR_NOMEM, "SHA-256 failed");
	if (CRYPTO_memcmp(digest, f->sha256, sizeof(digest)) != 0)
		return refuse(rd->err, rd->reason, KF_PACKAGE_HASH_MISMATCH, KF_ERR_INVALID,
			      "%.128s does not match its SHA-256 in the signed list", path);
	return KF_OK;
}

/* The list is in hand (and, when required, its signature): authenticate, then parse it. */
static int accept_manifest(struct reader *rd, struct kf_package *pkg, const char *kind,
			   const struct kf_package_publisher *trusted, size_t n_trusted,
			   bool require_signature)
{
	const struct kf_package_publisher *signer = NULL;
	int r;

	if (pkg->signature == NULL && require_signature)
		return refuse(rd->err, rd->reason, KF_PACKAGE_UNSIGNED, KF_ERR_AUTH,
			      "the package has no %s after %s", KF_PACKAGE_SIGNATURE_NAME,
			      KF_PACKAGE_MANIFEST_NAME);
	if (pkg->signature != NULL &&
	    (r = check_signature(pkg, trusted, n_trusted, require_signature, &signer, rd->reason,
				 rd->err)) != KF_OK)
		return r;
	pkg->is_signed = signer != NULL;
	if ((r = parse_manifest(pkg->manifest, pkg->manifest_len, kind, rd->limits, pkg, rd->reason,
				rd->err)) != KF_OK)
		return r;
	if (signer != NULL && signer->name != NULL && strcmp(signer->name, pkg->publisher) != 0)
		return refuse(rd->err, rd->reason, KF_PACKAGE_UNKNOWN_PUBLISHER, KF_ERR_AUTH,
			      "the package claims publisher \"%.64s\" but is signed by \"%.64s\"",
			      pkg->publisher, signer->name);
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
		r = refuse(err, reason, KF_PACKAGE_NOT_AN_ARCHIVE, KF_ERR_INVALID,
			   "not a tar archive: %s", archive_error_string(a));
		goto out;
	}
	while ((h = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(entry);

		/* The list and the signature are bounded by their own caps. */
		if (++members > limits->max_files + 2) {
			r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				   "the archive holds more than %zu files", limits->max_files);
			goto out;
		}
		if (size < 0 || (uint64_t)size > (members <= 2 ? KF_PACKAGE_MANIFEST_MAX
							       : limits->max_member)) {
			r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				   "%.128s is larger than %zu bytes",
				   archive_entry_pathname(entry) ? archive_entry_pathname(entry)
								 : "a member",
				   members <= 2 ? (size_t)KF_PACKAGE_MANIFEST_MAX
						: limits->max_member);
			goto out;
		}
		total += (size_t)size;
		if (total >
		    limits->max_total + KF_PACKAGE_MANIFEST_MAX + KF_PACKAGE_SIGNATURE_MAX) {
			r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
				   "the files add up to more than %zu bytes", limits->max_total);
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
		r = refuse(err, reason, KF_PACKAGE_DAMAGED, KF_ERR_INVALID,
			   "the archive is truncated (no end-of-archive marker)");
	else if (h != ARCHIVE_EOF)
		r = refuse(
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
		r = refuse(err, reason, KF_PACKAGE_TOO_LARGE, KF_ERR_TOO_LARGE,
			   "the archive is larger than %zu bytes", limits->max_archive);
		goto out;
	}
	if ((r = check_sizes(data, len, limits, reason, err)) != KF_OK)
		goto out;
	archive_read_support_format_tar(rd.archive);
	if (archive_read_open_memory(rd.archive, data, len) != ARCHIVE_OK) {
		r = refuse(err, reason, KF_PACKAGE_NOT_AN_ARCHIVE, KF_ERR_INVALID,
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
			r = refuse(err, reason,
				   index == 0 ? KF_PACKAGE_NOT_AN_ARCHIVE : KF_PACKAGE_DAMAGED,
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
				r = refuse(err, reason, KF_PACKAGE_NOT_A_PACKAGE, KF_ERR_INVALID,
					   "the first member is %.128s, not %s", name,
					   KF_PACKAGE_MANIFEST_NAME);
				goto out;
			}
			r = read_member(&rd, name, size, KF_PACKAGE_MANIFEST_MAX, &pkg->manifest);
			pkg->manifest_len = size;
		} else if (index == 1 && strcmp(name, KF_PACKAGE_SIGNATURE_NAME) == 0) {
			r = read_member(&rd, name, size, KF_PACKAGE_SIGNATURE_MAX, &pkg->signature);
			pkg->signature_len = size;
			if (r == KF_OK)
				r = accept_manifest(&rd, pkg, kind, trusted, n_trusted,
						    require_signature);
			accepted = true;
		} else {
			if (!accepted) {
				r = accept_manifest(&rd, pkg, kind, trusted, n_trusted,
						    require_signature);
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
		r = refuse(err, reason, KF_PACKAGE_NOT_A_PACKAGE, KF_ERR_INVALID,
			   "the archive is empty");
		goto out;
	}
	if (!accepted &&
	    (r = accept_manifest(&rd, pkg, kind, trusted, n_trusted, require_signature)) != KF_OK)
		goto out;
	for (i = 0; i < pkg->n_files; i++)
		if (pkg->files[i].data == NULL) {
			r = refuse(err, reason, KF_PACKAGE_MISSING_FILE, KF_ERR_INVALID,
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

/* Building. */

static la_ssize_t write_to_buffer(struct archive *a, void *client, const void *buf, size_t len)
{
	(void)a;
	return kf_buf_append(client, buf, len) == 0 ? (la_ssize_t)len : -1;
}

static int add_member(struct archive *a, struct archive_entry *entry, const char *name,
		      const void *data, size_t size, int mode)
{
	archive_entry_clear(entry);
	archive_entry_set_pathname(entry, name);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, mode);
	archive_entry_set_size(entry, (la_int64_t)size);
	archive_entry_set_mtime(entry, 0, 0);
	archive_entry_set_uid(entry, 0);
	archive_entry_set_gid(entry, 0);
	if (archive_write_header(a, entry) != ARCHIVE_OK)
		return -1;
	if (size > 0 && archive_write_data(a, data, size) != (la_ssize_t)size)
		return -1;
	return 0;
}

static char *manifest_text(const struct kf_package_spec *spec,
			   const struct kf_package_file *const *sorted, struct kf_error *err)
{
	json_t *root = json_object(), *files = json_array();
	char *text = NULL;
	size_t i;

	for (i = 0; i < spec->n_files; i++) {
		uint8_t digest[32];
		char hex[65];
		size_t k;

		if (EVP_Digest(sorted[i]->data != NULL ? sorted[i]->data : (const uint8_t *)"",
			       sorted[i]->size, digest, NULL, EVP_sha256(), NULL) != 1)
			goto out;
		for (k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", digest[k]);
		json_array_append_new(files,
				      json_pack("{s:s, s:I, s:s, s:b}", "path", sorted[i]->path,
						"size", (json_int_t)sorted[i]->size, "sha256", hex,
						"executable", sorted[i]->executable));
	}
	json_object_set_new(root, "format", json_integer(KF_PACKAGE_FORMAT));
	json_object_set_new(root, "kind", json_string(spec->kind));
	json_object_set_new(root, "id", json_string(spec->id));
	json_object_set_new(root, "version", json_string(spec->version));
	json_object_set_new(root, "publisher", json_string(spec->publisher));
	json_object_set_new(root, "files", files);
	files = NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(files);
	json_decref(root);
	if (text == NULL)
		kf_error_set(err, KF_ERR_NOMEM, "cannot write kefu-package.json");
	return text;
}

static char *signature_text(EVP_PKEY *key, const char *manifest, struct kf_error *err)
{
	struct kf_buf message = {0};
	uint8_t sig[KF_PACKAGE_SIG_SIZE];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *public = kf_package_key_public_base64(key), *sig64 = NULL, *text = NULL;
	json_t *root = NULL;

	if (ctx == NULL || public == NULL ||
	    kf_buf_append(&message, KF_PACKAGE_SIGN_CONTEXT, strlen(KF_PACKAGE_SIGN_CONTEXT)) !=
		    0 ||
	    kf_buf_append(&message, manifest, strlen(manifest)) != 0 ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, message.data, message.len) != 1 ||
	    sig_len != sizeof(sig) || (sig64 = kf_base64_encode(sig, sig_len)) == NULL) {
		kf_error_set(err, KF_ERR_INVALID, "cannot sign with this key (Ed25519 only)");
		goto out;
	}
	root = json_pack("{s:i, s:s, s:s, s:s}", "format", KF_PACKAGE_FORMAT, "algorithm",
			 "ed25519", "public_key", public, "signature", sig64);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		kf_error_set(err, KF_ERR_NOMEM, "out of memory");
out:
	json_decref(root);
	EVP_MD_CTX_free(ctx);
	kf_buf_free(&message);
	free(public);
	free(sig64);
	return text;
}

static int compare_file_pointers(const void *a, const void *b)
{
	return strcmp((*(const struct kf_package_file *const *)a)->path,
		      (*(const struct kf_package_file *const *)b)->path);
}

int kf_package_build(const struct kf_package_spec *spec, EVP_PKEY *key, uint8_t **out,
		     size_t *out_len, struct kf_error *err)
{
	const struct kf_package_file **sorted = calloc(spec->n_files + 1, sizeof(*sorted));
	struct archive *a = archive_write_new();
	struct archive_entry *entry = archive_entry_new();
	struct kf_buf buf = {0};
	char *manifest = NULL, *signature = NULL, name[KF_PACKAGE_PATH_MAX + 16];
	size_t i;
	int r = KF_OK;

	*out = NULL;
	*out_len = 0;
	if (sorted == NULL || a == NULL || entry == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < spec->n_files; i++) {
		if (!kf_package_path_is_safe(spec->files[i].path)) {
			r = kf_error_set(err, KF_ERR_INVALID,
					 "%.128s: not a plain relative path (letters, digits, . _ "
					 "- +, no hidden names, at most %d bytes)",
					 spec->files[i].path, KF_PACKAGE_PATH_MAX);
			goto out;
		}
		sorted[i] = &spec->files[i];
	}
	qsort(sorted, spec->n_files, sizeof(*sorted), compare_file_pointers);
	for (i = 1; i < spec->n_files; i++)
		if (strcmp(sorted[i - 1]->path, sorted[i]->path) == 0) {
			r = kf_error_set(err, KF_ERR_INVALID, "%.128s appears twice",
					 sorted[i]->path);
			goto out;
		}
	if ((manifest = manifest_text(spec, sorted, err)) == NULL ||
	    (key != NULL && (signature = signature_text(key, manifest, err)) == NULL)) {
		r = err != NULL ? err->code : KF_ERR_INVALID;
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &buf, NULL, write_to_buffer, NULL) != ARCHIVE_OK ||
	    add_member(a, entry, KF_PACKAGE_MANIFEST_NAME, manifest, strlen(manifest), 0644) < 0 ||
	    (signature != NULL && add_member(a, entry, KF_PACKAGE_SIGNATURE_NAME, signature,
					     strlen(signature), 0644) < 0)) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write the archive: %s",
				 archive_error_string(a));
		goto out;
	}
	for (i = 0; i < spec->n_files; i++) {
		snprintf(name, sizeof(name), "%s%s", KF_PACKAGE_FILES_PREFIX, sorted[i]->path);
		if (add_member(a, entry, name, sorted[i]->data, sorted[i]->size,
			       sorted[i]->executable ? 0755 : 0644) < 0) {
			r = kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", name,
					 archive_error_string(a));
			goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = kf_error_set(err, KF_ERR_IO, "cannot finish the archive: %s",
				 archive_error_string(a));
		goto out;
	}
	*out = buf.data;
	*out_len = buf.len;
	buf.data = NULL;
out:
	archive_entry_free(entry);
	archive_write_free(a);
	kf_buf_free(&buf);
	free(sorted);
	free(manifest);
	free(signature);
	return r;
}

/* Writing files. */

static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int kf_package_save(const char *path, const uint8_t *data, size_t len, struct kf_error *err)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return kf_error_set(err, KF_ERR_INVALID, "%s: path too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(errno));
	if (write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		int saved = errno;

		close(fd);
		unlink(tmp);
		return kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(saved));
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(saved));
	}
	return KF_OK;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates the folders above rel inside the folder fd (0755 each). */
static int make_folders(int dirfd, const char *rel)
{
	char copy[KF_PACKAGE_PATH_MAX + 1];
	char *slash;

	snprintf(copy, sizeof(copy), "%s", rel);
	for (slash = strchr(copy, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(dirfd, copy, 0755) < 0 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return 0;
}

static int write_file_at(int dirfd, const char *rel, const uint8_t *data, size_t len, int mode)
{
	int fd;

	if (make_folders(dirfd, rel) < 0)
		return -1;
	fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int kf_package_install(const struct kf_package *pkg, const char *dest, struct kf_error *err)
{
	char parent[PATH_MAX], tmp[PATH_MAX];
	const char *base = strrchr(dest, '/');
	struct stat st;
	size_t i;
	int dirfd = -1, parentfd = -1, saved;

	if (base == NULL || base[1] == '\0' || (size_t)(base - dest) >= sizeof(parent))
		return kf_error_set(err, KF_ERR_INVALID, "%s: not a folder path", dest);
	snprintf(parent, sizeof(parent), "%.*s", (int)(base - dest), dest);
	if (parent[0] == '\0')
		snprintf(parent, sizeof(parent), "/");
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.new-XXXXXX", parent, base + 1) >= (int)sizeof(tmp))
		return kf_error_set(err, KF_ERR_INVALID, "%s: path too long", dest);
	if (mkdtemp(tmp) == NULL)
		return kf_error_set(err, KF_ERR_IO, "%s: %s", parent, strerror(errno));
	dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		goto fail;
	for (i = 0; i < pkg->n_files; i++)
		if (write_file_at(dirfd, pkg->files[i].path, pkg->files[i].data, pkg->files[i].size,
				  pkg->files[i].executable ? 0755 : 0644) < 0)
			goto fail;
	if (write_file_at(dirfd, INSTALLED_MANIFEST, pkg->manifest, pkg->manifest_len, 0644) < 0 ||
	    (pkg->signature != NULL && write_file_at(dirfd, INSTALLED_SIGNATURE, pkg->signature,
						     pkg->signature_len, 0644) < 0) ||
	    fchmod(dirfd, 0755) < 0 || fsync(dirfd) < 0)
		goto fail;
	close(dirfd);
	dirfd = -1;
	if (lstat(dest, &st) == 0) {
		/* Swap old and new in one step, then remove the old files from their new place. */
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			goto fail;
		}
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_EXCHANGE) < 0)
			goto fail;
	} else if (rename(tmp, dest) < 0) {
		goto fail;
	}
	parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parentfd >= 0) {
		fsync(parentfd);
		close(parentfd);
	}
	remove_tree(tmp);
	return KF_OK;
fail:
	saved = errno;
	if (dirfd >= 0)
		close(dirfd);
	remove_tree(tmp);
	return kf_error_set(err, KF_ERR_IO, "cannot install into %s: %s", dest, strerror(saved));
}

/*
 * Reads one installed file once, never through a final link, and checks it
 * against the list; with keep its bytes stay in f->data.
 */
static int read_installed_file(const char *dir, struct kf_package_file *f, bool keep,
			       enum kf_package_reason *reason, struct kf_error *err)
{
	char path[PATH_MAX];
	uint8_t *data = NULL, digest[32];
	size_t got = 0;
	struct stat st;
	int fd, r = KF_OK;

	if (snprintf(path, sizeof(path), "%s/%s", dir, f->path) >= (int)sizeof(path))
		return refuse(err, reason, KF_PACKAGE_MISSING_FILE, KF_ERR_INVALID,
			      "%.128s: path too long", f->path);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (data = malloc(f->size + 1)) == NULL) {
		if (fd >= 0)
			close(fd);
		return refuse(err, reason, KF_PACKAGE_MISSING_FILE, KF_ERR_INVALID,
			      "%.128s is missing or was changed", f->path);
	}
	/* One byte more than listed: a file that grew is noticed without reading it all. */
	while (got <= f->size) {
		ssize_t n = read(fd, data + got, f->size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != f->size || EVP_Digest(data, got, digest, NULL, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(digest, f->sha256, 32) != 0)
		r = refuse(err, reason, KF_PACKAGE_HASH_MISMATCH, KF_ERR_INVALID,
			   "%.128s was changed after installation", f->path);
	if (r == KF_OK && keep)
		f->data = data;
	else
		free(data);
	return r;
}

static int open_installed(const char *dir, const char *kind,
			  const struct kf_package_publisher *trusted, size_t n_trusted,
			  bool require_signature, const struct kf_package_limits *limits,
			  bool keep_data, struct kf_package **out, enum kf_package_reason *reason,
			  struct kf_error *err)
{
	struct kf_package *pkg = calloc(1, sizeof(*pkg));
	struct reader rd = {NULL, limits, reason, err};
	char path[PATH_MAX];
	size_t i;
	int r;

	if (out != NULL)
		*out = NULL;
	if (reason != NULL)
		*reason = KF_PACKAGE_OK;
	if (pkg == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, INSTALLED_MANIFEST);
	if ((r = kf_package_read_file(path, KF_PACKAGE_MANIFEST_MAX, &pkg->manifest,
				      &pkg->manifest_len, err)) != KF_OK) {
		r = refuse(err, reason, KF_PACKAGE_NOT_A_PACKAGE, KF_ERR_INVALID,
			   "%s: not an installed package (no readable %s)", dir,
			   INSTALLED_MANIFEST);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, INSTALLED_SIGNATURE);
	if (require_signature &&
	    kf_package_read_file(path, KF_PACKAGE_SIGNATURE_MAX, &pkg->signature,
				 &pkg->signature_len, err) != KF_OK) {
		r = refuse(err, reason, KF_PACKAGE_UNSIGNED, KF_ERR_AUTH,
			   "%s: no readable signature (%s) was kept at installation", dir,
			   INSTALLED_SIGNATURE);
		goto out;
	}
	/* The same order as for an archive: the signature decides before the list is parsed. */
	if ((r = accept_manifest(&rd, pkg, kind, trusted, n_trusted, require_signature)) != KF_OK)
		goto out;
	for (i = 0; i < pkg->n_files && r == KF_OK; i++)
		r = read_installed_file(dir, &pkg->files[i], keep_data, reason, err);
out:
	if (r == KF_OK && out != NULL)
		*out = pkg;
	else
		kf_package_free(pkg);
	return r;
}

int kf_package_open_installed(const char *dir, const char *kind,
			      const struct kf_package_publisher *trusted, size_t n_trusted,
			      const struct kf_package_limits *limits, bool keep_data,
			      struct kf_package **out, enum kf_package_reason *reason,
			      struct kf_error *err)
{
	return open_installed(dir, kind, trusted, n_trusted, true, limits, keep_data, out, reason,
			      err);
}

int kf_package_read_installed_list(const char *dir, const struct kf_package_limits *limits,
				   struct kf_package **out, struct kf_error *err)
{
	struct kf_package *pkg = calloc(1, sizeof(*pkg));
	char path[PATH_MAX];
	int r;

	*out = NULL;
	if (pkg == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, INSTALLED_MANIFEST);
	if ((r = kf_package_read_file(path, KF_PACKAGE_MANIFEST_MAX, &pkg->manifest,
				      &pkg->manifest_len, err)) == KF_OK &&
	    (r = parse_manifest(pkg->manifest, pkg->manifest_len, NULL, limits, pkg, NULL, err)) ==
		    KF_OK)
		*out = pkg;
	else
		kf_package_free(pkg);
	return r;
}

int kf_package_version_compare(const char *a, const char *b)
{
	int order = strverscmp(a, b);

	return order < 0 ? -1 : order > 0;
}

int kf_package_check_installed(const char *dir, const struct kf_package_limits *limits,
			       struct kf_package **installed, struct kf_error *err)
{
	return open_installed(dir, NULL, NULL, 0, false, limits, false, installed, NULL, err);
}

/* Keys. */

EVP_PKEY *kf_package_key_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

int kf_package_key_save(EVP_PKEY *key, const char *path, struct kf_error *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char tmp[PATH_MAX], *pem = NULL;
	long pem_len = 0;
	int fd = -1, r = KF_OK;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		r = kf_error_set(err, KF_ERR_INVALID, "%s: path too long", path);
	else if (bio == NULL ||
		 PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
		 (pem_len = BIO_get_mem_data(bio, &pem)) <= 0)
		r = kf_error_set(err, KF_ERR_INVALID, "cannot encode the private key");
	else if ((fd = mkstemp(tmp)) < 0)
		r = kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(errno));
	else if (fchmod(fd, 0600) < 0 || write_all(fd, (const uint8_t *)pem, (size_t)pem_len) < 0 ||
		 fsync(fd) < 0)
		r = kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(errno));
	/* link() never replaces an existing file, unlike rename(). */
	else if (link(tmp, path) < 0)
		r = kf_error_set(err, errno == EEXIST ? KF_ERR_STATE : KF_ERR_IO, "%s: %s", path,
				 errno == EEXIST ? "already exists; a key is never overwritten"
						 : strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (pem != NULL && pem_len > 0)
		OPENSSL_cleanse(pem, (size_t)pem_len);
	BIO_free(bio);
	return r;
}

int kf_package_key_load(const char *path, EVP_PKEY **key, struct kf_error *err)
{
	uint8_t *text;
	size_t len;
	BIO *bio;
	int r;

	*key = NULL;
	if ((r = kf_package_read_file(path, KEY_FILE_MAX, &text, &len, err)) != KF_OK)
		return r;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio != NULL)
		*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(text, len);
	free(text);
	if (*key == NULL || EVP_PKEY_get_id(*key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s: not an unencrypted Ed25519 private key (PEM)", path);
	}
	return KF_OK;
}

char *kf_package_key_public_base64(EVP_PKEY *key)
{
	uint8_t raw[KF_PACKAGE_KEY_SIZE];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw))
		return NULL;
	return kf_base64_encode(raw, len);
}

int kf_package_key_decode(const char *base64, uint8_t key[KF_PACKAGE_KEY_SIZE])
{
	uint8_t raw[KF_PACKAGE_KEY_SIZE + 3];

	if (kf_base64_decode(base64, strlen(base64), raw, sizeof(raw)) != KF_PACKAGE_KEY_SIZE)
		return -1;
	memcpy(key, raw, KF_PACKAGE_KEY_SIZE);
	return 0;
}
