/* kefu: runs one plugin step in its own process group with limits, a timeout and an output cap.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PLUGIN_STEP_H
#define KF_PROTO_PLUGIN_STEP_H

#include "proto/base/error.h"
#include "proto/plugin/manifest.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_PLUGIN_STEP_MAX_EVENTS 64
#define KF_PLUGIN_STEP_OUTPUT_CAP (256 * 1024) /* bytes of stdout + stderr kept */

/* Where and how a step runs. Strings are borrowed for the call. */
struct kf_plugin_step_context {
	const char *plugin_dir; /* folder holding the scripts */
	const char *root;       /* KEFU_ROOT, "/" on a live machine; may be relative */
	const char *report;     /* KEFU_REPORT, may be NULL */
	const char *device;     /* KEFU_DEVICE, may be NULL */
	const char *phase;      /* KEFU_STEP: detect, repair, verify */
	bool sandbox;           /* wrap in bubblewrap when KF_PLUGIN_BWRAP is installed */
	/* Readable when the step must stop at once (its group is killed); NULL: never. */
	const int *cancel_fd;
};

#define KF_PLUGIN_BWRAP   "/usr/bin/bwrap"
#define KF_PLUGIN_SETPRIV "/usr/bin/setpriv" /* drops to KF_PLUGIN_STEP_UID inside bubblewrap */

/* The unprivileged account steps run as when the agent is root and they do not need root. */
#define KF_PLUGIN_STEP_UID   65534
#define KF_PLUGIN_STEP_NPROC 256 /* RLIMIT_NPROC, and pids.max of the step's cgroup */

/* Where bubblewrap shows the plugin folder to the step (its working directory). */
#define KF_PLUGIN_SANDBOX_DIR "/run/kefu/plugin"
/* Where bubblewrap shows a root prefix other than "/" (KEFU_ROOT names it). */
#define KF_PLUGIN_SANDBOX_ROOT "/run/kefu/root"

struct kf_plugin_step_result {
	int exit_code;      /* the script's exit code, KF_PLUGIN_EXIT_ERROR when it died */
	bool timed_out;     /* killed (whole group) when the timeout ran out */
	bool output_capped; /* more output than KF_PLUGIN_STEP_OUTPUT_CAP; the group was killed */
	bool cancelled;     /* stopped through ctx->cancel_fd; the group was killed */
	int signal;         /* the signal that ended it, 0 when it exited */
	bool sandboxed;     /* ran inside bubblewrap */
	bool dropped_root;  /* ran as KF_PLUGIN_STEP_UID instead of root */
	bool pids_cgroup;   /* ran in its own cgroup with pids.max = KF_PLUGIN_STEP_NPROC */
	size_t n_events;
	struct kf_plugin_event events[KF_PLUGIN_STEP_MAX_EVENTS];
	size_t n_bad_lines;                    /* stdout lines that were not protocol lines */
	char first_bad[KF_ERROR_MESSAGE_SIZE]; /* why the first bad line was refused */
};

/*
 * Runs step's script from ctx->plugin_dir with a scrubbed environment, in a new
 * process group, with rlimits (CPU, memory, processes, files, file size), and
 * waits at most step->timeout seconds, killing the whole group afterwards or
 * when output passes the cap. With ctx->sandbox and bubblewrap installed the
 * step also sees a read-only system, private /tmp and /run, no network and no
 * home unless its privileges declare them, and only its declared paths (under
 * ctx->root) writable, in its own PID namespace. With ctx->sandbox and the
 * agent running as root, a step that does not declare root runs as the
 * unprivileged KF_PLUGIN_STEP_UID (so RLIMIT_NPROC holds; root ignores it),
 * and every step run by root is put in its own pids cgroup when the system
 * has one, so a root step's processes are bounded too. The report reaches the
 * step as a sealed in-memory copy (KEFU_REPORT names it), readable whatever
 * uid the step runs as. Safe to call from several threads at once.
 * Fills *result (owned by the caller). Returns 0
 * when the step ran (whatever its outcome), a negative KF_ERR_* when it could not start.
 */
int kf_plugin_step_run(const struct kf_plugin_step_context *ctx, const struct kf_plugin_step *step,
		       struct kf_plugin_step_result *result, struct kf_error *err);

#endif
