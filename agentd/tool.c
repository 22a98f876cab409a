/* kefu-agentd: external tools with a timeout and capped output. SPDX-License-Identifier: MIT */
#include "agentd/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool kf_tool_find(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	const char *fallback = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char dirs[4096];
	char *dir, *save = NULL;

	if (strchr(name, '/') != NULL) {
		snprintf(out, cap, "%s", name);
		return access(out, X_OK) == 0;
	}
	snprintf(dirs, sizeof(dirs), "%s:%s", path ? path : "", fallback);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;
		int n = snprintf(out, cap, "%s/%s", dir, name);
		if (n < 0 || (size_t)n >= cap)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return true;
	}
	out[0] = '\0';
	return false;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_child(const char *path, const char *const argv[], int out_fd)
{
	static const char *const env[] = {"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	                                  "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", NULL};
	int null_fd = open("/dev/null", O_RDWR);

	setpgid(0, 0);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDERR_FILENO);
	}
	dup2(out_fd, STDOUT_FILENO);
	execve(path, (char *const *)argv, (char *const *)env);
	_exit(127);
}

int kf_tool_run(const char *const argv[], int timeout_ms, size_t cap, struct kf_buf *out,
                struct kf_tool_result *result, struct kf_error *err)
{
	char path[4096], chunk[8192];
	int pipe_fds[2], status = 0;
	long long deadline;
	size_t kept = 0;
	pid_t pid;

	memset(result, 0, sizeof(*result));
	result->exit_status = -1;
	if (!kf_tool_find(argv[0], path, sizeof(path)))
		return kf_error_set(err, KF_ERR_NOT_FOUND, "%s is not installed", argv[0]);
	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		return kf_error_set(err, KF_ERR_IO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return kf_error_set(err, KF_ERR_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		run_child(path, argv, pipe_fds[1]);
	close(pipe_fds[1]);
	setpgid(pid, pid); /* also here, so that the kill below cannot race the child's own call */
	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
		long long left = deadline - now_ms();
		ssize_t got;
		int ready;

		if (left <= 0) {
			result->is_timed_out = true;
			break;
		}
		ready = poll(&pfd, 1, (int)left);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			continue;
		got = read(pipe_fds[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (kept < cap) {
			size_t take = (size_t)got < cap - kept ? (size_t)got : cap - kept;
			if (kf_buf_append(out, chunk, take) == KF_OK)
				kept += take;
			if (take < (size_t)got)
				result->is_truncated = true;
		} else {
			result->is_truncated = true;
		}
	}
	close(pipe_fds[0]);
	if (result->is_timed_out)
		kill(-pid, SIGKILL);
	else {
		/* Output closed; give the tool the rest of its time to exit. */
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (now_ms() >= deadline) {
				kill(-pid, SIGKILL);
				result->is_timed_out = true;
				break;
			}
			usleep(2000);
		}
		if (!result->is_timed_out) {
			result->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			return KF_OK;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return kf_error_set(err, KF_ERR_TIMEOUT, "%s did not finish within %d ms", argv[0],
	                    timeout_ms);
}
