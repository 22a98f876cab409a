/* kefu-console: the bits of a Debian package's control data that ca package reads.
 * SPDX-License-Identifier: MIT */
#include "console/deb-control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kf_deb_control_field(const char *fields, size_t len, const char *name, char *out, size_t size)
{
	size_t name_len = strlen(name);
	const char *end = fields + len;

	out[0] = '\0';
	for (const char *line = fields; line < end;) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t line_len = newline != NULL ? (size_t)(newline - line) : (size_t)(end - line);

		if (line_len >= name_len + 2 && memcmp(line, name, name_len) == 0 &&
		    line[name_len] == ':' && line[name_len + 1] == ' ') {
			size_t value_len = line_len - name_len - 2;

			if (value_len < size && memchr(line, '\0', line_len) == NULL) {
				memcpy(out, line + name_len + 2, value_len);
				out[value_len] = '\0';
			}
			return;
		}
		line += line_len + 1;
	}
}

char *kf_deb_md5sums_rename(const char *md5sums, size_t len, const char *old_name,
			    const char *new_name)
{
	char old_doc[256], *result = NULL;
	size_t old_len, result_len = 0;
	const char *end = md5sums + len;
	FILE *out;

	if (snprintf(old_doc, sizeof(old_doc), "usr/share/doc/%s/", old_name) >=
	    (int)sizeof(old_doc))
		return NULL;
	old_len = strlen(old_doc);
	/* A stream that grows as needed: a renamed line may be longer than the original. */
	out = open_memstream(&result, &result_len);
	if (out == NULL)
		return NULL;
	for (const char *line = md5sums; line < end;) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t line_len = newline != NULL ? (size_t)(newline - line) : (size_t)(end - line);
		const char *next = line + line_len + 1;
		const char *file = memmem(line, line_len, "  ", 2);
		size_t file_len, hash_len;

		if (file == NULL || memchr(line, '\0', line_len) != NULL ||
		    memchr(line, '\r', line_len) != NULL) {
			line = next;
			continue;
		}
		hash_len = (size_t)(file - line);
		file += 2;
		file_len = line_len - hash_len - 2;
		if (file_len >= old_len && memcmp(file, old_doc, old_len) == 0) {
			const char *rest = file + old_len;
			size_t rest_len = file_len - old_len;

			if ((rest_len == strlen("copyright") &&
			     memcmp(rest, "copyright", rest_len) == 0) ||
			    (rest_len == strlen("changelog.gz") &&
			     memcmp(rest, "changelog.gz", rest_len) == 0)) {
				line = next;
				continue;
			}
			fprintf(out, "%.*s  usr/share/doc/%s/%.*s\n", (int)hash_len, line, new_name,
				(int)rest_len, rest);
		} else {
			fprintf(out, "%.*s\n", (int)line_len, line);
		}
		line = next;
	}
	if (fclose(out) != 0) {
		free(result);
		return NULL;
	}
	return result;
}
