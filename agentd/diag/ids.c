/* kefu-agentd: PCI and USB names from hwdata's pci.ids/usb.ids. SPDX-License-Identifier: MIT */
#include "agentd/diag/ids.h"
#include "agentd/sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses `digits` hex digits at p followed by a space; -1 if the line has another shape. */
static long parse_hex(const char *p, size_t len, size_t digits)
{
	long value = 0;
	size_t i;

	if (len < digits + 1 || p[digits] != ' ')
		return -1;
	for (i = 0; i < digits; i++) {
		int v = hex_value(p[i]);
		if (v < 0)
			return -1;
		value = value * 16 + v;
	}
	return value;
}

/* Copies the name after the id and its spaces, bounded and sanitised. */
static void copy_name(char *out, size_t cap, const char *p, size_t len, size_t skip)
{
	size_t n;

	if (out[0] != '\0')
		return;
	while (skip < len && p[skip] == ' ')
		skip++;
	n = len - skip;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p + skip, n);
	out[n] = '\0';
	kf_text_sanitize(out, n);
}

void kf_ids_lookup_text(const char *text, size_t len, struct kf_ids_query *queries, size_t count)
{
	const char *p = text, *end = text + len;
	long vendor = -1, class_id = -1;
	bool in_classes = false, is_wanted_vendor = false, is_wanted_class = false;
	size_t i, unanswered = count * 3;

	while (p < end && (unanswered > 0 || is_wanted_class)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);
		const char *line = p;

		p += line_len + 1;
		if (line_len == 0 || line[0] == '#')
			continue;
		if (line[0] != '\t') {
			long v = parse_hex(line, line_len, 4);
			is_wanted_vendor = is_wanted_class = false;
			if (v >= 0 && !in_classes) {
				vendor = v;
				for (i = 0; i < count; i++) {
					if (queries[i].vendor != (unsigned)v)
						continue;
					is_wanted_vendor = true;
					if (queries[i].vendor_name[0] == '\0')
						unanswered--;
					copy_name(queries[i].vendor_name,
						  sizeof(queries[i].vendor_name), line, line_len,
						  4);
				}
			} else if (line_len > 2 && line[0] == 'C' && line[1] == ' ') {
				/* The class section follows the vendors in both files. */
				in_classes = true;
				class_id = parse_hex(line + 2, line_len - 2, 2);
				for (i = 0; i < count && class_id >= 0; i++) {
					if (queries[i].class_code >= 0 &&
					    (queries[i].class_code >> 16) == class_id) {
						is_wanted_class = true;
						if (queries[i].class_name[0] == '\0')
							unanswered--;
						copy_name(queries[i].class_name,
							  sizeof(queries[i].class_name), line + 2,
							  line_len - 2, 2);
					}
				}
			} else {
				in_classes = in_classes || v < 0;
			}
			continue;
		}
		if (line_len < 2 || line[1] == '\t')
			continue; /* subsystems and programming interfaces are not asked for */
		if (is_wanted_vendor) {
			long product = parse_hex(line + 1, line_len - 1, 4);
			for (i = 0; i < count && product >= 0; i++) {
				if (queries[i].vendor == (unsigned)vendor &&
				    queries[i].product == (unsigned)product &&
				    queries[i].name[0] == '\0') {
					unanswered--;
					copy_name(queries[i].name, sizeof(queries[i].name),
						  line + 1, line_len - 1, 4);
				}
			}
		} else if (is_wanted_class) {
			long sub = parse_hex(line + 1, line_len - 1, 2);
			for (i = 0; i < count && sub >= 0; i++) {
				if (queries[i].class_code >= 0 &&
				    (queries[i].class_code >> 16) == class_id &&
				    ((queries[i].class_code >> 8) & 0xff) == sub) {
					/* The subclass says more than the class: it replaces it. */
					queries[i].class_name[0] = '\0';
					copy_name(queries[i].class_name,
						  sizeof(queries[i].class_name), line + 1,
						  line_len - 1, 2);
				}
			}
		}
	}
	/* Names not found leave "", never a partial. */
	(void)unanswered;
}

int kf_ids_lookup(const char *path, struct kf_ids_query *queries, size_t count,
		  struct kf_error *err)
{
	struct stat st;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO,
				    "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 64 * 1024 * 1024) {
		close(fd);
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "%s is not a usable ids file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return KF_OK;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return kf_error_set(err, KF_ERR_IO, "cannot map %s: %s", path, strerror(errno));
	kf_ids_lookup_text(map, (size_t)st.st_size, queries, count);
	munmap(map, (size_t)st.st_size);
	return KF_OK;
}
