/* kefu-agentd: index files read line by line, plain or compressed. SPDX-License-Identifier: MIT */
#include "agentd/drivers/lines.h"
#include "agentd/sysfs.h"
#include "proto/base/escape.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK_SIZE (64 * 1024)

struct line_state {
	char *line;
	size_t len;
	bool is_cut;
	kf_line_fn fn;
	void *data;
	struct kf_lines_stats *stats;
};

/* Ends the current line; false when the callback asked to stop. */
static bool flush_line(struct line_state *s)
{
	bool go_on;

	s->line[s->len] = '\0';
	s->stats->lines++;
	if (s->is_cut)
		s->stats->cut++;
	go_on = s->fn(s->line, s->len, s->data);
	s->len = 0;
	s->is_cut = false;
	return go_on;
}

static bool feed(struct line_state *s, const char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (bytes[i] == '\n') {
			if (!flush_line(s))
				return false;
		} else if (s->len < KF_LINES_LINE_MAX)
			s->line[s->len++] = bytes[i];
		else
			s->is_cut = true;
	}
	return true;
}

int kf_lines_read(const char *root, const char *path, size_t cap, kf_line_fn fn, void *data,
		  struct kf_lines_stats *stats, struct kf_error *err)
{
	struct kf_lines_stats local = {0};
	struct line_state s = {.fn = fn, .data = data, .stats = stats != NULL ? stats : &local};
	char full[PATH_MAX];
	struct archive *a = NULL;
	struct archive_entry *entry;
	char *block = NULL;
	size_t total = 0;
	struct stat st;
	int fd = -1, r = KF_OK;

	*s.stats = (struct kf_lines_stats){0};
	if (kf_sysfs_path(root, path, full, sizeof(full)) != KF_OK)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the path %s is too long",
				    kf_escaped(path).text);
	fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO,
				    "cannot read %s: %s", kf_escaped(path).text, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "%s is not a regular file",
				    kf_escaped(path).text);
	}
	s.line = malloc(KF_LINES_LINE_MAX + 1);
	block = malloc(BLOCK_SIZE);
	a = archive_read_new();
	if (s.line == NULL || block == NULL || a == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory reading %s",
				 kf_escaped(path).text);
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, fd, BLOCK_SIZE) != ARCHIVE_OK) {
		r = kf_error_set(err, KF_ERR_INVALID, "cannot read %s: %s", kf_escaped(path).text,
				 archive_error_string(a));
		goto out;
	}
	if (archive_read_next_header(a, &entry) != ARCHIVE_OK)
		goto out; /* an empty file */
	for (;;) {
		la_ssize_t n = archive_read_data(a, block, BLOCK_SIZE);

		if (n < 0) {
			r = kf_error_set(err, KF_ERR_INVALID, "%s is corrupt: %s",
					 kf_escaped(path).text, archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		if (total + (size_t)n > cap) {
			n = (la_ssize_t)(cap - total);
			s.stats->is_truncated = true;
		}
		total += (size_t)n;
		if (!feed(&s, block, (size_t)n))
			goto out;
		if (s.stats->is_truncated)
			break;
	}
	if (s.len > 0)
		flush_line(&s);
out:
	if (a != NULL)
		archive_read_free(a);
	close(fd);
	free(block);
	free(s.line);
	return r;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kf_lines_list_dir(const char *root, const char *dir, const char *suffix, bool is_substring,
		      char ***names, size_t *count, struct kf_error *err)
{
	char full[PATH_MAX];
	size_t cap = 0, suffix_len = strlen(suffix);
	struct dirent *e;
	DIR *d;

	*names = NULL;
	*count = 0;
	if (kf_sysfs_path(root, dir, full, sizeof(full)) != KF_OK)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the path %s is too long",
				    kf_escaped(dir).text);
	d = opendir(full);
	if (d == NULL)
		return KF_OK;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		bool wanted = is_substring
				      ? strstr(e->d_name, suffix) != NULL
				      : len > suffix_len &&
						strcmp(e->d_name + len - suffix_len, suffix) == 0;

		if (!wanted || e->d_name[0] == '.')
			continue;
		if (*count == cap) {
			size_t new_cap = cap ? cap * 2 : 64;
			char **grown = realloc(*names, new_cap * sizeof(*grown));
			if (grown == NULL)
				goto nomem;
			*names = grown;
			cap = new_cap;
		}
		if (((*names)[*count] = strdup(e->d_name)) == NULL)
			goto nomem;
		(*count)++;
	}
	closedir(d);
	if (*count > 0)
		qsort(*names, *count, sizeof(**names), compare_names);
	return KF_OK;
nomem:
	closedir(d);
	kf_lines_list_free(*names, *count);
	*names = NULL;
	*count = 0;
	return kf_error_set(err, KF_ERR_NOMEM, "out of memory listing %s", kf_escaped(dir).text);
}

void kf_lines_list_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
