/* kefu: lines from standard input (a terminal, a pipe or a file) on a libuv loop. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_LINE_READER_H
#define KF_PROTO_LINE_READER_H

#include "proto/base/error.h"

#include <uv.h>

/*
 * Calls on_line for each line read from fd (without its newline; a line longer
 * than KF_LINE_MAX is cut there) and on_eof once at the end of input. The caller
 * owns *reader and frees it with kf_line_reader_free().
 */
#define KF_LINE_MAX 4096

struct kf_line_reader;

struct kf_line_reader_callbacks {
	void (*on_line)(struct kf_line_reader *reader, const char *line, void *user);
	void (*on_eof)(struct kf_line_reader *reader, void *user);
};

int kf_line_reader_new(uv_loop_t *loop, int fd, const struct kf_line_reader_callbacks *callbacks,
		       void *user, struct kf_line_reader **reader, struct kf_error *err);

/* Stops reading and frees; safe inside its callbacks. */
void kf_line_reader_free(struct kf_line_reader *reader);

#endif
