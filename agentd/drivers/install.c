/* kefu-agentd: driver packages installed and upgraded through apt-get. SPDX-License-Identifier: MIT */
#include "agentd/drivers/install.h"
#include "agentd/plugins/elevate.h"
#include "agentd/tool.h"
#include "proto/base/escape.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PACKAGES_MAX 32

/* Waits for pid at most timeout_s; kills its process group then. Returns its wait status. */
static int wait_bounded(pid_t pid, int timeout_s, bool *is_timed_out)
{
	struct timespec start, now, pause = {0, 100 * 1000 * 1000};
	int status = 0;

	*is_timed_out = false;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return status;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s) {
			*is_timed_out = true;
			kill(-pid, SIGTERM);
			nanosleep(&(struct timespec){2, 0}, NULL);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return status;
		}
		nanosleep(&pause, NULL);
	}
}

int kf_drivers_apt_run(const struct kf_drivers_apt *apt, const char *const *packages, size_t count,
		       struct kf_error *err)
{
	const char *argv[PACKAGES_MAX + 16];
	char apt_get[PATH_MAX], self[PATH_MAX], config_env[PATH_MAX + 16];
	char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char env_frontend[] = "DEBIAN_FRONTEND=noninteractive", env_locale[] = "LC_ALL=C.UTF-8";
	char display[256], *envp[8];
	size_t argc = 0, envc = 0;
	bool is_root = geteuid() == 0, is_timed_out;
	int status;
	pid_t pid;

	if (count == 0 || count > PACKAGES_MAX)
		return kf_error_set(err, KF_ERR_INVALID, "between 1 and %d packages at a time",
				    PACKAGES_MAX);
	if (is_root) {
		if (!kf_tool_find("apt-get", apt_get, sizeof(apt_get)))
			return kf_error_set(err, KF_ERR_NOT_FOUND,
					    "apt-get is not installed; kefu installs driver "
					    "packages with it");
		argv[argc++] = apt_get;
		argv[argc++] = "-y";
		argv[argc++] = "-q";
		argv[argc++] = "--no-install-recommends";
		argv[argc++] = "install";
		if (apt->is_upgrade)
			argv[argc++] = "--only-upgrade";
	} else {
		ssize_t n;

		if (!kf_agent_elevate_available())
			return kf_error_set(err, KF_ERR_DENIED,
					    "Installing packages needs an administrator, and this "
					    "computer has no pkexec to ask one: run this as root.");
		if (apt->apt_config != NULL)
			return kf_error_set(err, KF_ERR_DENIED,
					    "a private apt configuration is for root only");
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return kf_error_set(err, KF_ERR_IO, "cannot find this program's path");
		self[n] = '\0';
		argv[argc++] = KF_AGENTD_PKEXEC;
		argv[argc++] = self;
		argv[argc++] = "drivers";
		argv[argc++] = apt->is_upgrade ? "upgrade" : "install";
		argv[argc++] = "--yes";
		argv[argc++] = "--backend";
		argv[argc++] = "apt";
	}
	argv[argc++] = "--";
	for (size_t i = 0; i < count; i++)
		argv[argc++] = packages[i];
	argv[argc] = NULL;
	envp[envc++] = env_path;
	envp[envc++] = env_frontend;
	envp[envc++] = env_locale;
	if (apt->apt_config != NULL) {
		snprintf(config_env, sizeof(config_env), "APT_CONFIG=%s", apt->apt_config);
		envp[envc++] = config_env;
	}
	if (getenv("DISPLAY") != NULL && !is_root) {
		snprintf(display, sizeof(display), "DISPLAY=%s", getenv("DISPLAY"));
		envp[envc++] = display;
	}
	envp[envc] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return kf_error_set(err, KF_ERR_IO, "cannot start apt-get: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		/* apt-get's progress goes where the customer reads messages, not into --json. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	status = wait_bounded(pid, apt->timeout_s > 0 ? apt->timeout_s : KF_DRIVERS_APT_TIMEOUT_S,
			      &is_timed_out);
	if (is_timed_out)
		return kf_error_set(err, KF_ERR_TIMEOUT, "apt-get did not finish in %d seconds",
				    apt->timeout_s);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return KF_OK;
	if (!is_root && WIFEXITED(status) && WEXITSTATUS(status) >= 126)
		return kf_error_set(err, KF_ERR_DENIED, "No administrator approved installing it.");
	if (WIFEXITED(status))
		return kf_error_set(err, KF_ERR_IO, "apt-get failed (exit status %d)",
				    WEXITSTATUS(status));
	return kf_error_set(err, KF_ERR_IO, "apt-get was killed by signal %d", WTERMSIG(status));
}
