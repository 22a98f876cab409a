/* kefu-agentd: external tools with a timeout and capped output. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_TOOL_H
#define KF_AGENTD_TOOL_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

struct kf_tool_result {
	int exit_status;   /* the tool's exit status, or -1 when killed */
	bool is_truncated; /* more than cap bytes were written (the rest was read and dropped) */
	bool is_timed_out; /* killed after timeout_ms */
};

/* Finds name in $PATH (or the standard system directories); fills out and returns true. */
bool kf_tool_find(const char *name, char *out, size_t cap);

/*
 * Runs argv[0] (looked up with kf_tool_find) in its own process group with stdin
 * from /dev/null, stderr discarded, LC_ALL=C and a minimal environment. Appends up
 * to cap bytes of its standard output to out. After timeout_ms the whole group is
 * killed. KF_ERR_NOT_FOUND when the tool is absent; KF_ERR_TIMEOUT on timeout
 * (out holds what came before); 0 otherwise, whatever the tool's exit status.
 */
int kf_tool_run(const char *const argv[], int timeout_ms, size_t cap, struct kf_buf *out,
		struct kf_tool_result *result, struct kf_error *err);

#endif
