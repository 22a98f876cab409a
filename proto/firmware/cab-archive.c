/* kefu: cabinet reading through libarchive, every member checked and capped. SPDX-License-Identifier: MIT */
#include "proto/firmware/cab-archive.h"
#include "proto/base/escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
		    struct kf_cabinet **out, struct kf_error *err)
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
		r = read_member(a, member, (size_t)size, limits->max_member_size, err);
		if (r != KF_OK)
			goto out;
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

int kf_cabinet_read_file(const char *path, const struct kf_cabinet_limits *limits,
			 struct kf_cabinet **cabinet, struct kf_error *err)
{
	struct archive *a = new_reader();
	int r;

	*cabinet = NULL;
	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK)
		r = kf_error_set(err, KF_ERR_INVALID, "%s is not a readable cabinet: %s", path,
				 archive_error_string(a) ? archive_error_string(a) : "unknown");
	else
		r = read_all(a, limits ? limits : &default_limits, cabinet, err);
	archive_read_free(a);
	return r;
}

int kf_cabinet_read_memory(const uint8_t *data, size_t size, const struct kf_cabinet_limits *limits,
			   struct kf_cabinet **cabinet, struct kf_error *err)
{
	struct archive *a = new_reader();
	int r;

	*cabinet = NULL;
	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading a cabinet");
	if (archive_read_open_memory(a, data, size) != ARCHIVE_OK)
		r = kf_error_set(err, KF_ERR_INVALID, "the data is not a readable cabinet");
	else
		r = read_all(a, limits ? limits : &default_limits, cabinet, err);
	archive_read_free(a);
	return r;
}
