/* kefu-agentd: `kefu-agentd firmware ...` run for a technician, its output read line by line.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FIRMWARE_JOB_H
#define KF_AGENTD_FIRMWARE_JOB_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <uv.h>

/*
 * A session does not reimplement the firmware command: it runs this very
 * program's `firmware` command (the same preflight, history and audit as
 * self-service) in a child process and relays what it prints. The child
 * ignores SIGTERM once writing has begun, so stopping a job before the write
 * stops it and stopping it during the write lets the device finish safely.
 */
struct kf_firmware_job;

struct kf_firmware_job_events {
	/* One line the child printed; is_error for standard error. */
	void (*on_line)(struct kf_firmware_job *job, const char *line, bool is_error, void *user);
	/* The child ended: its exit code, or -signal. The job frees itself after this. */
	void (*on_exit)(struct kf_firmware_job *job, int code, void *user);
};

/* Runs `kefu-agentd firmware ARGS...` (args NULL-terminated, without the program). */
int kf_firmware_job_start(uv_loop_t *loop, const char *const *args,
			  const struct kf_firmware_job_events *events, void *user,
			  struct kf_firmware_job **out, struct kf_error *err);

/* The same for another command of this program (`kefu-agentd COMMAND ARGS...`). */
int kf_agent_job_start(uv_loop_t *loop, const char *command, const char *const *args,
		       const struct kf_firmware_job_events *events, void *user,
		       struct kf_firmware_job **out, struct kf_error *err);

/* Asks the child to stop (SIGTERM). */
void kf_firmware_job_stop(struct kf_firmware_job *job);

/* Stops and forgets the caller: no event follows. */
void kf_firmware_job_detach(struct kf_firmware_job *job);

#endif
