/* kefu: cabinet reading through libarchive, every member checked and capped, the declared sizes
 * first. SPDX-License-Identifier: MIT */
#include "proto/firmware/cab-archive.h"
#include "proto/base/escape.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

static const struct kf_cabinet_limits default_limits = {
	KF_CABINET_MAX_MEMBERS,
	KF_CABINET_MAX_MEMBER_SIZE,
	KF_CABINET_MAX_TOTAL_SIZE,
};

void kf_cabinet_free(struct kf_cabinet *cabinet)
{
	if (cabinet == NULL)
		return;
	for (size_t i = 0; i < cabinet->count; i++) {
		free(cabinet->members[i].name);
		free(cabinet->members[i].data);
	}
	free(cabinet->members);
	free(cabinet);
}

const struct kf_cabinet_member *kf_cabinet_find(const struct kf_cabinet *cabinet, const char *name)
{
	for (size_t i = 0; i < cabinet->count; i++)
		if (strcmp(cabinet->members[i].name, name) == 0)
			return &cabinet->members[i];
	return NULL;
}

/* A member name must be one plain file name, so that no caller can be led out of a folder. */
static bool is_plain_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > KF_CABINET_MAX_NAME || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == ':')
			return false;
	return true;
}

/* The cabinet's own header (CFHEADER) and table of members (CFFILE), as [MS-CAB] lays them out. */
#define CAB_HEADER_SIZE 36
#define CAB_FILE_FIXED  16 /* a CFFILE entry before its NUL-terminated name */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * libarchive decompresses a member to skip it, so a cabinet whose third member is too
 * large would be refused only after the first two were inflated. The table of members
 * sits before any data: its declared sizes decide before a byte is decompressed.
 * table holds len bytes from the table's start (possibly fewer than it needs).
 */
static int check_declared(const uint8_t *header, size_t header_len, const uint8_t *table,
			  size_t len, const struct kf_cabinet_limits *limits, struct kf_error *err)
{
	uint64_t total = 0;
	size_t count, at = 0;

	if (header_len < CAB_HEADER_SIZE || memcmp(header, "MSCF", 4) != 0)
		return kf_error_set(err, KF_ERR_INVALID, "the file is not a cabinet");
	count = (size_t)header[28] | (size_t)header[29] << 8;
	if (count > limits->max_members)
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "the cabinet has more than %zu members (it lists %zu)",
				    limits->max_members, count);
	for (size_t i = 0; i < count; i++) {
		const uint8_t *end;
		uint32_t size;

		if (len - at < CAB_FILE_FIXED + 1 ||
		    (end = memchr(table + at + CAB_FILE_FIXED, '\0', len - at - CAB_FILE_FIXED)) ==
			    NULL)
			return kf_error_set(err, KF_ERR_INVALID,
					    "the cabinet's list of members is truncated");
		size = le32(table + at);
		if (size > limits->max_member_size)
			return kf_error_set(
				err, KF_ERR_TOO_LARGE,
				"the cabinet member %s is too large (it declares %lu bytes, "
				"more than %zu)",
				kf_escaped((const char *)table + at + CAB_FILE_FIXED).text,
				(unsigned long)size, limits->max_member_size);
		total += size;
		if (total > limits->max_total_size)
			return kf_error_set(err, KF_ERR_TOO_LARGE,
					    "the cabinet's members declare more than %zu bytes in "
					    "all; nothing was unpacked",
					    limits->max_total_size);
		at = (size_t)(end - table) + 1;
	}
	return KF_OK;
}

/* The bytes of a CFFILE table can be at most this long for count members. */
static size_t table_bound(size_t count)
{
	return count * (CAB_FILE_FIXED + KF_CABINET_MAX_NAME + 2);
}

static int check_declared_memory(const uint8_t *data, size_t size,
				 const struct kf_cabinet_limits *limits, struct kf_error *err)
{
	uint32_t offset;

	if (size < CAB_HEADER_SIZE || memcmp(data, "MSCF", 4) != 0)
		return kf_error_set(err, KF_ERR_INVALID, "the file is not a cabinet");
	offset = le32(data + 16);
	if (offset > size)
		return kf_error_set(err, KF_ERR_INVALID,
				    "the cabinet's list of members is truncated");
	return check_declared(data, size, data + offset, size - offset, limits, err);
}

static int check_declared_file(const char *path, const struct kf_cabinet_limits *limits,
			       struct kf_error *err)
{
	uint8_t header[CAB_HEADER_SIZE], *table;
	size_t count, want;
	ssize_t got;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO,
				    "%s is not a readable cabinet: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, header, sizeof(header), 0) != (ssize_t)sizeof(header) ||
	    memcmp(header, "MSCF", 4) != 0) {
		close(fd);
		return kf_error_set(err, KF_ERR_INVALID, "the file is not a cabinet");
	}
	count = (size_t)header[28] | (size_t)header[29] << 8;
	if (count > limits->max_members) {
		close(fd);
		return check_declared(header, sizeof(header), NULL, 0, limits, err);
	}
	want = table_bound(count);
	table = malloc(want + 1);
	if (table == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
	}
	got = pread(fd, table, want, (off_t)le32(header + 16));
	close(fd);
	r = check_declared(header, sizeof(header), table, got > 0 ? (size_t)got : 0, limits, err);
	free(table);
	return r;
}

static int read_member(struct archive *a, struct kf_cabinet_member *member, size_t declared,
		       size_t cap, struct kf_error *err)
{
	size_t used = 0;

	/* One byte more than declared shows a member that is longer than it says. */
	member->data = malloc(declared + 1);
	if (member->data == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading %s",
				    kf_escaped(member->name).text);
	for (;;) {
		la_ssize_t n = archive_read_data(a, member->data + used, declared + 1 - used);
		if (n < 0)
			return kf_error_set(err, KF_ERR_INVALID, "the cabinet member %s is corrupt",
					    kf_escaped(member->name).text);
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > declared || used > cap)
			return kf_error_set(err, KF_ERR_TOO_LARGE,
					    "the cabinet member %s is larger than it declares",
					    kf_escaped(member->name).text);
	}
	if (used != declared)
		return kf_error_set(err, KF_ERR_INVALID, "the cabinet member %s is truncated",
				    kf_escaped(member->name).text);
	member->size = used;
	return KF_OK;
}

static int read_all(struct archive *a, const struct kf_cabinet_limits *limits,
		    kf_cabinet_keep_fn *keep, void *arg, struct kf_cabinet **out,
		    struct kf_error *err)
{
	struct kf_cabinet *cabinet = calloc(1, sizeof(*cabinet));
	struct archive_entry *entry;
	size_t total = 0;
	int r = KF_OK, status;

	if (cabinet == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
	cabinet->members = calloc(limits->max_members, sizeof(*cabinet->members));
	if (cabinet->members == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
		goto out;
	}
	while ((status = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
		struct kf_cabinet_member *member;
		const char *name = archive_entry_pathname(entry);
		size_t hold;
		la_int64_t size = archive_entry_size(entry);

		if (archive_format(a) != ARCHIVE_FORMAT_CAB) {
			r = kf_error_set(err, KF_ERR_INVALID, "the file is not a cabinet");
			goto out;
		}
		if (name == NULL || !is_plain_name(name)) {
			r = kf_error_set(err, KF_ERR_INVALID,
					 "the cabinet has a member with an unsafe name");
			goto out;
		}
		if (archive_entry_filetype(entry) != AE_IFREG) {
			r = kf_error_set(err, KF_ERR_INVALID, "the cabinet member %s is not a file",
					 kf_escaped(name).text);
			goto out;
		}
		for (size_t i = 0; i < cabinet->count; i++)
			if (strcasecmp(cabinet->members[i].name, name) == 0) {
				r = kf_error_set(err, KF_ERR_INVALID, "the cabinet holds %s twice",
						 kf_escaped(name).text);
				goto out;
			}
		if (cabinet->count == limits->max_members) {
			r = kf_error_set(err, KF_ERR_TOO_LARGE,
					 "the cabinet has more than %zu members",
					 limits->max_members);
			goto out;
		}
		if (size < 0 || (uint64_t)size > limits->max_member_size ||
		    (uint64_t)size > limits->max_total_size - total) {
			r = kf_error_set(err, KF_ERR_TOO_LARGE,
					 "the cabinet member %s is too large (%lld bytes)",
					 kf_escaped(name).text, (long long)size);
			goto out;
		}
		member = &cabinet->members[cabinet->count++];
		member->name = strdup(name);
		if (member->name == NULL) {
			r = kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
			goto out;
		}
		hold = keep != NULL ? keep(name, arg) : limits->max_member_size;
		if (hold == 0) {
			/* Decompressed in blocks and dropped: listed, never held. */
			member->size = (size_t)size;
			if (archive_read_data_skip(a) != ARCHIVE_OK) {
				r = kf_error_set(err, KF_ERR_INVALID,
						 "the cabinet member %s is corrupt",
						 kf_escaped(name).text);
				goto out;
			}
		} else if ((uint64_t)size > hold) {
			r = kf_error_set(err, KF_ERR_TOO_LARGE,
					 "the cabinet member %s is too large (%lld bytes)",
					 kf_escaped(name).text, (long long)size);
			goto out;
		} else if ((r = read_member(a, member, (size_t)size, limits->max_member_size,
					    err)) != KF_OK) {
			goto out;
		}
		total += member->size;
	}
	if (status != ARCHIVE_EOF) {
		r = kf_error_set(err, KF_ERR_INVALID, "the file is not a readable cabinet");
		goto out;
	}
	if (cabinet->count == 0) {
		r = kf_error_set(err, KF_ERR_INVALID, "the cabinet is empty");
		goto out;
	}
	*out = cabinet;
	cabinet = NULL;
out:
	kf_cabinet_free(cabinet);
	return r;
}

static struct archive *new_reader(void)
{
	struct archive *a = archive_read_new();

	/* Only the cabinet format, no outer compression filters. */
	if (a != NULL && archive_read_support_format_cab(a) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int kf_cabinet_read_file_keeping(const char *path, const struct kf_cabinet_limits *limits,
				 kf_cabinet_keep_fn *keep, void *arg, struct kf_cabinet **cabinet,
				 struct kf_error *err)
{
	struct archive *a;
	int r;

	*cabinet = NULL;
	if (limits == NULL)
		limits = &default_limits;
	if ((r = check_declared_file(path, limits, err)) != KF_OK)
		return r;
	a = new_reader();
	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK)
		r = kf_error_set(err, KF_ERR_INVALID, "%s is not a readable cabinet: %s", path,
				 archive_error_string(a) ? archive_error_string(a) : "unknown");
	else
		r = read_all(a, limits, keep, arg, cabinet, err);
	archive_read_free(a);
	return r;
}

int kf_cabinet_read_file(const char *path, const struct kf_cabinet_limits *limits,
			 struct kf_cabinet **cabinet, struct kf_error *err)
{
	return kf_cabinet_read_file_keeping(path, limits, NULL, NULL, cabinet, err);
}

int kf_cabinet_read_memory(const uint8_t *data, size_t size, const struct kf_cabinet_limits *limits,
			   struct kf_cabinet **cabinet, struct kf_error *err)
{
	struct archive *a;
	int r;

	*cabinet = NULL;
	if (limits == NULL)
		limits = &default_limits;
	if ((r = check_declared_memory(data, size, limits, err)) != KF_OK)
		return r;
	a = new_reader();
	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
	if (archive_read_open_memory(a, data, size) != ARCHIVE_OK)
		r = kf_error_set(err, KF_ERR_INVALID, "the data is not a readable cabinet");
	else
		r = read_all(a, limits, NULL, NULL, cabinet, err);
	archive_read_free(a);
	return r;
}
