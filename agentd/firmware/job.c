/* kefu-agentd: `kefu-agentd firmware ...` run for a technician, its output read line by line.
 * SPDX-License-Identifier: MIT */
#include "agentd/firmware/job.h"
#include "agentd/commands.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KF_BINDIR
#define KF_BINDIR "/usr/local/bin"
#endif

#define LINE_MAX_BYTES 4096
#define MAX_ARGS       24

struct job_pipe {
	uv_pipe_t pipe;
	struct kf_firmware_job *job;
	bool is_error;
	char line[LINE_MAX_BYTES];
	size_t len;
};

struct kf_firmware_job {
	uv_process_t process;
	struct job_pipe out, err;
	struct kf_firmware_job_events events;
	void *user;
	int open_handles;
	int exit_code;
	bool has_exited;
	bool is_detached;
};

static void maybe_done(struct kf_firmware_job *job)
{
	if (job->open_handles > 0)
		return;
	if (!job->is_detached && job->events.on_exit != NULL)
		job->events.on_exit(job, job->exit_code, job->user);
	free(job);
}

static void on_process_closed(uv_handle_t *handle)
{
	struct kf_firmware_job *job = handle->data;

	job->open_handles--;
	maybe_done(job);
}

static void on_pipe_closed(uv_handle_t *handle)
{
	struct kf_firmware_job *job = ((struct job_pipe *)handle->data)->job;

	job->open_handles--;
	maybe_done(job);
}

static void emit(struct job_pipe *p)
{
	p->line[p->len] = '\0';
	if (!p->job->is_detached && p->job->events.on_line != NULL)
		p->job->events.on_line(p->job, p->line, p->is_error, p->job->user);
	p->len = 0;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static char chunk[8192];

	(void)handle;
	(void)suggested;
	/* One loop thread: reads are handled before the next one starts. */
	*buf = uv_buf_init(chunk, sizeof(chunk));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct job_pipe *p = stream->data;

	if (nread < 0) {
		if (p->len > 0)
			emit(p);
		uv_close((uv_handle_t *)&p->pipe, on_pipe_closed);
		return;
	}
	for (ssize_t i = 0; i < nread; i++) {
		if (buf->base[i] == '\n') {
			emit(p);
		} else {
			/* An overlong line is cut, never a reason to stop reading. */
			if (p->len == LINE_MAX_BYTES - 1)
				emit(p);
			p->line[p->len++] = buf->base[i];
		}
	}
}

static void on_exit_cb(uv_process_t *process, int64_t status, int signal)
{
	struct kf_firmware_job *job = process->data;

	job->has_exited = true;
	job->exit_code = signal != 0 ? -signal : (int)status;
	uv_close((uv_handle_t *)process, on_process_closed);
}

int kf_firmware_job_start(uv_loop_t *loop, const char *const *args,
			  const struct kf_firmware_job_events *events, void *user,
			  struct kf_firmware_job **out, struct kf_error *err)
{
	return kf_agent_job_start(loop, "firmware", args, events, user, out, err);
}

/*
 * The program that runs the command: this one when it is kefu-agentd, else (in
 * kefu-helper, the window) the kefu-agentd beside it, else the installed one.
 */
static void agentd_program(char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		if (strcmp(basename(exe), KF_AGENTD_PROGRAM) == 0) {
			snprintf(out, size, "/proc/self/exe");
			return;
		}
		snprintf(out, size, "%s/%s", dirname(exe), KF_AGENTD_PROGRAM);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, size, "%s/%s", KF_BINDIR, KF_AGENTD_PROGRAM);
}

int kf_agent_job_start(uv_loop_t *loop, const char *command, const char *const *args,
		       const struct kf_firmware_job_events *events, void *user,
		       struct kf_firmware_job **out, struct kf_error *err)
{
	struct kf_firmware_job *job = calloc(1, sizeof(*job));
	char *argv[MAX_ARGS + 3], program[PATH_MAX + 32];
	uv_process_options_t options = {0};
	uv_stdio_container_t stdio[3];
	size_t n = 0;
	int r;

	*out = NULL;
	if (job == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	argv[n++] = (char *)KF_AGENTD_PROGRAM;
	argv[n++] = (char *)command;
	for (size_t i = 0; args[i] != NULL; i++) {
		if (n == MAX_ARGS + 2) {
			free(job);
			return kf_error_set(err, KF_ERR_TOO_LARGE, "too many firmware arguments");
		}
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	job->events = *events;
	job->user = user;
	job->out.job = job->err.job = job;
	job->err.is_error = true;
	uv_pipe_init(loop, &job->out.pipe, 0);
	uv_pipe_init(loop, &job->err.pipe, 0);
	job->out.pipe.data = &job->out;
	job->err.pipe.data = &job->err;
	job->process.data = job;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&job->out.pipe;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&job->err.pipe;
	agentd_program(program, sizeof(program));
	options.file = program;
	options.args = argv;
	options.exit_cb = on_exit_cb;
	options.stdio = stdio;
	options.stdio_count = 3;
	r = uv_spawn(loop, &job->process, &options);
	if (r != 0) {
		/* The handles were set up: they close, and the job goes with the last one. */
		job->is_detached = true;
		job->open_handles = 3;
		uv_close((uv_handle_t *)&job->process, on_process_closed);
		uv_close((uv_handle_t *)&job->out.pipe, on_pipe_closed);
		uv_close((uv_handle_t *)&job->err.pipe, on_pipe_closed);
		return kf_error_set(err, KF_ERR_IO, "cannot start the firmware command: %s",
				    uv_strerror(r));
	}
	job->open_handles = 3;
	uv_read_start((uv_stream_t *)&job->out.pipe, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&job->err.pipe, on_alloc, on_read);
	*out = job;
	return KF_OK;
}

void kf_firmware_job_stop(struct kf_firmware_job *job)
{
	if (job != NULL && !job->has_exited)
		uv_process_kill(&job->process, SIGTERM);
}

void kf_firmware_job_detach(struct kf_firmware_job *job)
{
	if (job == NULL)
		return;
	job->is_detached = true;
	kf_firmware_job_stop(job);
}
