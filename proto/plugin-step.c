/* kefu: runs one plugin step in its own process group with limits, a timeout and an output cap.
 * SPDX-License-Identifier: MIT */
#include "proto/plugin-step.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void set_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};

	setrlimit(resource, &rl);
}

#define BWRAP_MAX_ARGS (64 + 3 * KF_PLUGIN_MAX_WRITES)

/* In the child: execs bubblewrap around the script. Returns only on failure. */
static void exec_bwrap(const struct kf_plugin_step_context *ctx, const struct kf_plugin_step *step,
		       const char *script, char **envp)
{
	static char writable[KF_PLUGIN_MAX_WRITES][PATH_MAX];
	char dir[PATH_MAX], root[PATH_MAX], report[PATH_MAX];
	const char *argv[BWRAP_MAX_ARGS];
	bool prefixed;
	size_t n = 0, i;

	if (realpath(".", dir) == NULL ||
	    realpath(ctx->root != NULL ? ctx->root : "/", root) == NULL)
		return;
	prefixed = strcmp(root, "/") != 0;
	argv[n++] = KF_PLUGIN_BWRAP;
	argv[n++] = "--die-with-parent";
	argv[n++] = "--ro-bind";
	argv[n++] = "/";
	argv[n++] = "/";
	argv[n++] = "--dev";
	argv[n++] = "/dev";
	argv[n++] = "--proc";
	argv[n++] = "/proc";
	argv[n++] = "--tmpfs";
	argv[n++] = "/tmp";
	argv[n++] = "--tmpfs";
	argv[n++] = "/run";
	if (!step->privileges.network)
		argv[n++] = "--unshare-net";
	if (!step->privileges.home) {
		argv[n++] = "--tmpfs";
		argv[n++] = "/home";
		argv[n++] = "--tmpfs";
		argv[n++] = "/root";
	}
	if (prefixed) { /* a fixture root may live under a path hidden above */
		argv[n++] = "--ro-bind";
		argv[n++] = root;
		argv[n++] = root;
	}
	argv[n++] = "--ro-bind";
	argv[n++] = dir;
	argv[n++] = dir;
	if (ctx->report != NULL && realpath(ctx->report, report) != NULL) {
		argv[n++] = "--ro-bind"; /* the report may live in a private /tmp */
		argv[n++] = report;
		argv[n++] = report;
	}
	for (i = 0; i < step->privileges.n_writes; i++) {
		snprintf(writable[i], sizeof(writable[i]), "%s%s", prefixed ? root : "",
			 step->privileges.writes[i]);
		argv[n++] = "--bind-try";
		argv[n++] = writable[i];
		argv[n++] = writable[i];
	}
	argv[n++] = "--chdir";
	argv[n++] = dir;
	argv[n++] = "--";
	argv[n++] = script;
	argv[n] = NULL;
	execve(KF_PLUGIN_BWRAP, (char *const *)argv, envp);
}

/* In the child: limits, environment, exec. Never returns. */
static void exec_step(const struct kf_plugin_step_context *ctx, const struct kf_plugin_step *step,
		      int out_fd)
{
	char script[PATH_MAX], e_root[PATH_MAX + 16], e_report[PATH_MAX + 16], e_dev[256],
		e_step[64];
	char e_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", e_lang[] = "LANG=C.UTF-8";
	char *envp[8];
	size_t n = 0;
	int devnull;

	setpgid(0, 0);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	set_limit(RLIMIT_CPU, (rlim_t)step->timeout + 1);
	set_limit(RLIMIT_AS, (rlim_t)512 << 20);
	set_limit(RLIMIT_NPROC, 256);
	set_limit(RLIMIT_NOFILE, 256);
	set_limit(RLIMIT_FSIZE, (rlim_t)64 << 20);
	snprintf(script, sizeof(script), "./%s", step->run); /* run after chdir below */
	snprintf(e_root, sizeof(e_root), "KEFU_ROOT=%s", ctx->root != NULL ? ctx->root : "/");
	envp[n++] = e_path;
	envp[n++] = e_lang;
	envp[n++] = e_root;
	if (ctx->report != NULL) {
		snprintf(e_report, sizeof(e_report), "KEFU_REPORT=%s", ctx->report);
		envp[n++] = e_report;
	}
	if (ctx->device != NULL) {
		snprintf(e_dev, sizeof(e_dev), "KEFU_DEVICE=%s", ctx->device);
		envp[n++] = e_dev;
	}
	snprintf(e_step, sizeof(e_step), "KEFU_STEP=%s",
		 ctx->phase != NULL ? ctx->phase : "detect");
	envp[n++] = e_step;
	envp[n] = NULL;
	if (chdir(ctx->plugin_dir) < 0)
		_exit(KF_PLUGIN_EXIT_ERROR);
	if (ctx->sandbox && access(KF_PLUGIN_BWRAP, X_OK) == 0)
		exec_bwrap(ctx, step, script, envp);
	execle(script, script, (char *)NULL, envp);
	_exit(KF_PLUGIN_EXIT_ERROR);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Parses complete lines of buf[0..len) into result; returns bytes consumed. */
static size_t take_lines(const char *buf, size_t len, bool final,
			 struct kf_plugin_step_result *result)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;
		struct kf_error err;

		if (nl == NULL && !final && len - start <= KF_PLUGIN_OUTPUT_LINE_MAX)
			break;
		if (end > start) {
			struct kf_plugin_event *ev = &result->events[result->n_events];

			if (result->n_events < KF_PLUGIN_STEP_MAX_EVENTS &&
			    kf_plugin_event_parse(buf + start, end - start, ev, &err) == 0) {
				result->n_events++;
			} else {
				if (result->n_bad_lines++ == 0)
					snprintf(result->first_bad, sizeof(result->first_bad), "%s",
						 result->n_events >= KF_PLUGIN_STEP_MAX_EVENTS
							 ? "too many output lines"
							 : err.message);
			}
		}
		start = nl != NULL ? end + 1 : len;
	}
	return start;
}

int kf_plugin_step_run(const struct kf_plugin_step_context *ctx, const struct kf_plugin_step *step,
		       struct kf_plugin_step_result *result, struct kf_error *err)
{
	char buf[2 * KF_PLUGIN_OUTPUT_LINE_MAX + 2];
	size_t used = 0, total = 0;
	int fds[2], status = 0;
	long deadline;
	bool open_pipe = true;
	pid_t pid;

	memset(result, 0, sizeof(*result));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return kf_error_set(err, KF_ERR_IO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return kf_error_set(err, KF_ERR_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		exec_step(ctx, step, fds[1]);
	}
	setpgid(pid, pid);
	close(fds[1]);
	result->sandboxed = ctx->sandbox && access(KF_PLUGIN_BWRAP, X_OK) == 0;
	deadline = now_ms() + step->timeout * 1000L;
	while (open_pipe) {
		struct pollfd pfd[2] = {{fds[0], POLLIN, 0},
					{ctx->cancel_fd != NULL ? *ctx->cancel_fd : -1, POLLIN, 0}};
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			result->timed_out = true;
			break;
		}
		if (poll(pfd, 2, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		if (pfd[1].revents != 0) {
			result->cancelled = true;
			break;
		}
		n = read(fds[0], buf + used, sizeof(buf) - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			open_pipe = false;
			break;
		}
		used += (size_t)n;
		total += (size_t)n;
		if (total > KF_PLUGIN_STEP_OUTPUT_CAP) {
			result->output_capped = true;
			break;
		}
		n = (ssize_t)take_lines(buf, used, false, result);
		memmove(buf, buf + n, used - (size_t)n);
		used -= (size_t)n;
	}
	if (!result->output_capped && !result->timed_out && !result->cancelled)
		take_lines(buf, used, true, result);
	/* The whole group goes: whatever the script left behind must not outlive the step. */
	kill(-pid, SIGKILL);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !result->timed_out && !result->output_capped &&
	    !result->cancelled) {
		result->exit_code = WEXITSTATUS(status);
		if (result->exit_code > KF_PLUGIN_EXIT_ERROR)
			result->exit_code = KF_PLUGIN_EXIT_ERROR;
	} else {
		result->exit_code = KF_PLUGIN_EXIT_ERROR;
		result->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	return 0;
}
