/* kefu: signed packages: building one in memory, deterministically, and signing its list.
 * SPDX-License-Identifier: MIT */
#include "proto/package/package.h"
#include "proto/base/base64.h"
#include "proto/base/buffer.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
