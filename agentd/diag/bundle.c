/* kefu-agentd: the diagnostics bundle (.tar.zst, manifest, README). SPDX-License-Identifier: MIT */
#include "agentd/diag/bundle.h"
#include "agentd/diag/redact.h"
#include "proto/base/buffer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char readme_redacted[] =
	"kefu diagnostics bundle\n"
	"=======================\n\n"
	"Written by kefu-agentd diag. Members:\n"
	"  report.json      the report (schema kefu.report/1, see proto/diag/report.schema.json)\n"
	"  summary.txt      the same report in plain words, problems first\n"
	"  raw/             the files and tool outputs the report was made from\n"
	"  MANIFEST.sha256  SHA-256 of every other member; check with: sha256sum -c "
	"MANIFEST.sha256\n\n"
	"This bundle is REDACTED: host names (also inside longer names), user names, home\n"
	"folders, e-mail addresses, IPv4/IPv6 addresses (also in the kernel's hexadecimal\n"
	"form), MAC addresses, serial numbers and UUIDs were replaced by pseudonyms\n"
	"(host-1, user-1, serial-1, email-1@example.invalid, ...). The same value always\n"
	"has the same pseudonym in this bundle. Passwords in URIs and the values of\n"
	"password=, passwd=, secret=, token=, api_key= and credentials= read REDACTED.\n"
	"IP pseudonyms keep subnets (addresses sharing a prefix still share it) and are\n"
	"never real public addresses: private IPv4 stays in its private range, public\n"
	"IPv4 is in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24, IPv6 in\n"
	"2001:db8::/32 (fd00::/8 for unique local ones). MAC pseudonyms keep the vendor\n"
	"half. The key to the pseudonyms never left the customer's computer.\n";

static const char readme_plain[] =
	"kefu diagnostics bundle\n"
	"=======================\n\n"
	"Written by kefu-agentd diag. Members:\n"
	"  report.json      the report (schema kefu.report/1, see proto/diag/report.schema.json)\n"
	"  summary.txt      the same report in plain words, problems first\n"
	"  raw/             the files and tool outputs the report was made from\n"
	"  MANIFEST.sha256  SHA-256 of every other member; check with: sha256sum -c "
	"MANIFEST.sha256\n\n"
	"This bundle is NOT redacted (--no-redact): it holds host and user names,\n"
	"addresses and serial numbers as they are on the computer.\n";

void kf_bundle_default_map_path(const char *bundle_path, char *out, size_t cap)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	const char *base = strrchr(bundle_path, '/');

	base = base ? base + 1 : bundle_path;
	if (state != NULL && state[0] == '/')
		snprintf(out, cap, "%s/kefu/redaction/%s.map.json", state, base);
	else if (home != NULL && home[0] == '/')
		snprintf(out, cap, "%s/.local/state/kefu/redaction/%s.map.json", home, base);
	else
		out[0] = '\0';
}

/* Creates every missing directory above path, owner-only. */
static int make_parents(const char *path)
{
	char copy[PATH_MAX];
	char *p;

	snprintf(copy, sizeof(copy), "%s", path);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST)
			return KF_ERR_IO;
		*p = '/';
	}
	return KF_OK;
}

static int write_private(const char *path, const char *text, struct kf_error *err)
{
	char temp[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if (make_parents(path) != KF_OK)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder of %s: %s", path,
				    strerror(errno));
	if ((size_t)snprintf(temp, sizeof(temp), "%.4000s.tmp.%ld", path, (long)getpid()) >=
	    sizeof(temp))
		return kf_error_set(err, KF_ERR_TOO_LARGE, "path too long: %s", path);
	fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0) {
		unlink(temp);
		return kf_error_set(err, KF_ERR_IO, "cannot write %s", path);
	}
	if (rename(temp, path) != 0) {
		unlink(temp);
		return kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return KF_OK;
}

struct writer {
	struct archive *archive;
	struct kf_buf manifest;
	time_t now;
};

static int add_member(struct writer *w, const char *name, const void *data, size_t len,
		      bool is_in_manifest, struct kf_error *err)
{
	struct archive_entry *entry = archive_entry_new();
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	char line[PATH_MAX + 80];
	size_t i;
	int n;

	if (entry == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	archive_entry_set_pathname(entry, name);
	archive_entry_set_size(entry, (la_int64_t)len);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, 0644);
	archive_entry_set_mtime(entry, w->now, 0);
	if (archive_write_header(w->archive, entry) != ARCHIVE_OK ||
	    (len > 0 && archive_write_data(w->archive, data, len) != (la_ssize_t)len)) {
		kf_error_set(err, KF_ERR_IO, "cannot write %s into the bundle: %s", name,
			     archive_error_string(w->archive));
		archive_entry_free(entry);
		return KF_ERR_IO;
	}
	archive_entry_free(entry);
	if (!is_in_manifest)
		return KF_OK;
	EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL);
	for (i = 0, n = 0; i < digest_len; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", digest[i]);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s\n", name);
	return kf_buf_append(&w->manifest, line, (size_t)n);
}

/* Everything a collector saw that names a person or this computer. */
static void register_secrets(struct kf_redactor *redactor, const struct kf_report *report,
			     const struct kf_raw_file *raw, size_t raw_count)
{
	static const char *const dmi_secrets[] = {"product_serial", "board_serial", "product_uuid"};
	json_t *dmi = json_object_get(report->system, "dmi"), *item;
	const char *hostname;
	size_t i;

	hostname = kf_json_str(report->system, "hostname");
	kf_redactor_add(redactor, KF_REDACT_HOST, hostname);
	/* "alice-laptop.example.org" also appears as "alice-laptop". */
	if (strchr(hostname, '.') != NULL && strchr(hostname, '.') - hostname < 256) {
		char short_name[256];
		snprintf(short_name, sizeof(short_name), "%.*s",
			 (int)(strchr(hostname, '.') - hostname), hostname);
		kf_redactor_add(redactor, KF_REDACT_HOST, short_name);
	}
	for (i = 0; i < sizeof(dmi_secrets) / sizeof(dmi_secrets[0]); i++)
		kf_redactor_add(redactor, KF_REDACT_SERIAL, kf_json_str(dmi, dmi_secrets[i]));
	json_array_foreach(report->devices, i, item)
	{
		const char *serial = kf_json_str(item, "serial");
		/* Root hubs carry their controller's PCI address as "serial": not personal. */
		if (strlen(serial) >= 4 && strchr(serial, ':') == NULL)
			kf_redactor_add(redactor, KF_REDACT_SERIAL, serial);
	}
	json_array_foreach(json_object_get(report->storage, "block"), i, item)
		kf_redactor_add(redactor, KF_REDACT_SERIAL, kf_json_str(item, "serial"));
	json_array_foreach(json_object_get(report->power, "batteries"), i, item)
		kf_redactor_add(redactor, KF_REDACT_SERIAL, kf_json_str(item, "serial"));
	json_array_foreach(json_object_get(report->printers, "jobs"), i, item)
		kf_redactor_add(redactor, KF_REDACT_USER, kf_json_str(item, "user"));
	json_array_foreach(json_object_get(report->system, "users"), i, item)
	{
		kf_redactor_add(redactor, KF_REDACT_USER, kf_json_str(item, "home"));
		kf_redactor_add(redactor, KF_REDACT_USER, kf_json_str(item, "name"));
		kf_redactor_add(redactor, KF_REDACT_USER, kf_json_str(item, "full_name"));
	}
	(void)raw;
	(void)raw_count;
	{
		const char *user = getenv("USER");
		if (user != NULL && strcmp(user, "root") != 0)
			kf_redactor_add(redactor, KF_REDACT_USER, user);
	}
}

int kf_bundle_write(const struct kf_bundle_options *options, struct kf_report *report,
		    const struct kf_raw_file *raw, size_t raw_count, char *map_used, size_t map_cap,
		    struct kf_error *err)
{
	struct kf_redactor *redactor = NULL;
	struct writer w = {0};
	struct kf_buf redacted = {0};
	char temp[PATH_MAX], name[PATH_MAX], map_path[PATH_MAX];
	char *json_text = NULL, *summary = NULL;
	size_t summary_len = 0, i;
	FILE *memory;
	int r = KF_OK;

	map_used[0] = '\0';
	if (options->is_redacted) {
		redactor = kf_redactor_new();
		if (redactor == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "cannot start redaction");
		register_secrets(redactor, report, raw, raw_count);
		/*
		 * A first pass over the raw files only learns: a user named in a URI
		 * or an address seen in one file is then replaced in every member,
		 * whichever comes first (the route table's hexadecimal gateway and
		 * the kernel log's dotted one alike).
		 */
		for (i = 0; i < raw_count && r == KF_OK; i++) {
			kf_buf_reset(&redacted);
			r = kf_redactor_file(redactor, raw[i].name, (const char *)raw[i].data.data,
					     raw[i].data.len, &redacted);
		}
		if (r == KF_OK)
			r = kf_redactor_json(redactor, report->root);
		if (r != KF_OK) {
			kf_error_set(err, r, "redaction failed");
			goto out;
		}
	}
	json_text = kf_report_dump(report);
	memory = open_memstream(&summary, &summary_len);
	if (json_text == NULL || memory == NULL) {
		if (memory != NULL)
			fclose(memory);
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	kf_report_print_summary(report, memory);
	fclose(memory);

	snprintf(temp, sizeof(temp), "%.4000s.tmp.%ld", options->path, (long)getpid());
	w.now = time(NULL);
	w.archive = archive_write_new();
	if (w.archive == NULL || archive_write_add_filter_zstd(w.archive) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(w.archive) != ARCHIVE_OK ||
	    archive_write_open_filename(w.archive, temp) != ARCHIVE_OK) {
		r = kf_error_set(err, KF_ERR_IO, "cannot create %s: %s", options->path,
				 w.archive ? archive_error_string(w.archive) : "out of memory");
		goto out;
	}
	r = add_member(&w, "README.txt", options->is_redacted ? readme_redacted : readme_plain,
		       strlen(options->is_redacted ? readme_redacted : readme_plain), true, err);
	if (r == KF_OK)
		r = add_member(&w, "report.json", json_text, strlen(json_text), true, err);
	if (r == KF_OK)
		r = add_member(&w, "summary.txt", summary, summary_len, true, err);
	for (i = 0; i < raw_count && r == KF_OK; i++) {
		const void *data = raw[i].data.data;
		size_t len = raw[i].data.len;
		snprintf(name, sizeof(name), "raw/%s", raw[i].name);
		if (redactor != NULL) {
			kf_buf_reset(&redacted);
			if ((r = kf_redactor_file(redactor, raw[i].name,
						  (const char *)raw[i].data.data, raw[i].data.len,
						  &redacted)) != KF_OK) {
				kf_error_set(err, r, "redaction failed");
				break;
			}
			data = redacted.data;
			len = redacted.len;
		}
		r = add_member(&w, name, data, len, true, err);
	}
	if (r == KF_OK)
		r = add_member(&w, "MANIFEST.sha256", w.manifest.data, w.manifest.len, false, err);
	if (r == KF_OK && archive_write_close(w.archive) != ARCHIVE_OK)
		r = kf_error_set(err, KF_ERR_IO, "cannot finish %s: %s", options->path,
				 archive_error_string(w.archive));
	if (r != KF_OK) {
		unlink(temp);
		goto out;
	}
	if (redactor != NULL) {
		json_t *map = kf_redactor_mapping(redactor);
		char *map_text = json_dumps(map, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (options->map_path != NULL)
			snprintf(map_path, sizeof(map_path), "%s", options->map_path);
		else
			kf_bundle_default_map_path(options->path, map_path, sizeof(map_path));
		if (map_path[0] == '\0')
			r = kf_error_set(
				err, KF_ERR_NOT_FOUND,
				"no place for the pseudonym mapping (HOME unset); use --map FILE");
		else if (map_text == NULL)
			r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		else
			r = write_private(map_path, map_text, err);
		if (map_text != NULL) {
			OPENSSL_cleanse(map_text, strlen(map_text));
			free(map_text);
		}
		json_decref(map);
		if (r != KF_OK) {
			unlink(temp);
			goto out;
		}
		snprintf(map_used, map_cap, "%s", map_path);
	}
	if (rename(temp, options->path) != 0) {
		r = kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", options->path,
				 strerror(errno));
		unlink(temp);
	}
out:
	if (w.archive != NULL)
		archive_write_free(w.archive);
	kf_buf_free(&w.manifest);
	kf_buf_free(&redacted);
	free(json_text);
	free(summary);
	kf_redactor_free(redactor);
	return r;
}
