/* kefu-agentd: index files read line by line, plain or compressed. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVERS_LINES_H
#define KF_AGENTD_DRIVERS_LINES_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/* The longest line kept whole (a Modaliases field of a big driver is one long line). */
#define KF_LINES_LINE_MAX (1024 * 1024)

/*
 * Called for each line (without its newline, NUL-terminated, len bytes; bytes that are
 * not UTF-8 text left as they are). Returning false stops the reading.
 */
typedef bool (*kf_line_fn)(char *line, size_t len, void *data);

/* What reading a file met. */
struct kf_lines_stats {
	size_t lines;
	size_t cut;        /* lines longer than KF_LINES_LINE_MAX, cut there */
	bool is_truncated; /* the file held more than the cap; the rest was not read */
};

/*
 * Reads root+path (a regular file; gzip, xz, zstd, lz4, bzip2 or plain) and calls fn for
 * each line of its first cap bytes (decompressed). KF_ERR_NOT_FOUND when absent,
 * KF_ERR_UNSUPPORTED when not a regular file, KF_ERR_INVALID when the compressed data is
 * corrupt, with a message naming path. stats may be NULL.
 */
int kf_lines_read(const char *root, const char *path, size_t cap, kf_line_fn fn, void *data,
		  struct kf_lines_stats *stats, struct kf_error *err);

/*
 * The names in the folder root+dir that end with suffix (or contain it, when
 * is_substring), sorted; the caller frees each and the array. KF_OK with *count 0 when
 * the folder is absent.
 */
int kf_lines_list_dir(const char *root, const char *dir, const char *suffix, bool is_substring,
		      char ***names, size_t *count, struct kf_error *err);
void kf_lines_list_free(char **names, size_t count);

#endif
