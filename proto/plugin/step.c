/* kefu: runs one plugin step in its own process group with limits, a timeout and an output cap.
 * SPDX-License-Identifier: MIT */
#include "proto/plugin/step.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_V2   "/sys/fs/cgroup"
#define CGROUP_PIDS "/sys/fs/cgroup/pids" /* the pids hierarchy of cgroup v1 */

static bool write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	return close(fd) == 0 && ok;
}

/*
 * Makes a cgroup of its own for one step with pids.max set, under cgroup v2
 * or the v1 pids hierarchy; path receives its folder. Root is exempt from
 * RLIMIT_NPROC, so this is what bounds the processes of a step run as root.
 * Returns false (path empty) when the system has no pids cgroup we may use.
 */
static bool cgroup_create(char *path, size_t size)
{
	static atomic_uint counter;
	char file[PATH_MAX + 32], limit[16];
	const char *base = NULL;

	path[0] = '\0';
	if (access(CGROUP_V2 "/cgroup.controllers", R_OK) == 0) {
		base = CGROUP_V2; /* the root cgroup is exempt from "no internal processes" */
		write_text(CGROUP_V2 "/cgroup.subtree_control", "+pids");
	} else if (access(CGROUP_PIDS "/cgroup.procs", W_OK) == 0) {
		base = CGROUP_PIDS;
	}
	if (base == NULL)
		return false;
	snprintf(path, size, "%s/kefu-step-%d-%u", base, (int)getpid(),
		 atomic_fetch_add(&counter, 1));
	if (mkdir(path, 0700) < 0) {
		path[0] = '\0';
		return false;
	}
	snprintf(file, sizeof(file), "%s/pids.max", path);
	snprintf(limit, sizeof(limit), "%d", KF_PLUGIN_STEP_NPROC);
	if (!write_text(file, limit)) {
		rmdir(path);
		path[0] = '\0';
		return false;
	}
	return true;
}

/* Kills whatever is left in the step's cgroup (even processes that left its group) and removes it.
 */
static void cgroup_remove(const char *path)
{
	char file[PATH_MAX + 32], buf[4096];
	int tries;

	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	write_text(file, "1");
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	/* The last processes leave the cgroup a moment after they are reaped: wait in small
	 * steps (about 2 s in all at most), since most steps end within the first. */
	for (tries = 0; tries < 220 && rmdir(path) < 0 && errno == EBUSY; tries++) {
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		char *p = buf, *end;

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		for (long pid = strtol(p, &end, 10); end != p; pid = strtol(p, &end, 10)) {
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			p = end;
		}
		usleep(tries < 20 ? 500 : 10000);
	}
}

/* In the child: a sealed in-memory copy of the report; its fd stays open across exec. */
static int report_copy(const char *path)
{
	char buf[65536];
	int in = open(path, O_RDONLY | O_CLOEXEC), fd;
	ssize_t n;

	if (in < 0)
		return -1;
	fd = memfd_create("kefu-report", MFD_ALLOW_SEALING);
	while (fd >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			fd = -1;
		}
	close(in);
	if (fd >= 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* In the child, without bubblewrap: become the unprivileged step user for good. */
static bool drop_root(void)
{
	return setgroups(0, NULL) == 0 &&
	       setresgid(KF_PLUGIN_STEP_UID, KF_PLUGIN_STEP_UID, KF_PLUGIN_STEP_UID) == 0 &&
	       setresuid(KF_PLUGIN_STEP_UID, KF_PLUGIN_STEP_UID, KF_PLUGIN_STEP_UID) == 0 &&
	       prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

static void set_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};

	setrlimit(resource, &rl);
}

/*
 * In the child, right before exec: nothing may allocate after this (a sanitizer
 * runtime, for one, cannot map memory under the address-space limit).
 */
static void set_limits(const struct kf_plugin_step *step)
{
	set_limit(RLIMIT_CPU, (rlim_t)step->timeout + 1);
	set_limit(RLIMIT_AS, (rlim_t)512 << 20);
	set_limit(RLIMIT_NPROC, KF_PLUGIN_STEP_NPROC);
	set_limit(RLIMIT_NOFILE, 256);
	set_limit(RLIMIT_FSIZE, (rlim_t)64 << 20);
}

/*
 * Outside an examined root, a step without root sees only this machine's programs and
 * libraries: its configuration and data would answer for the examined system (an absolute
 * link in the root followed by mistake, a tool reading its default /etc or /var). What the
 * programs themselves need from /etc is bound back.
 */
static const char *const hidden_outside_root[] = {"/etc", "/var",   "/srv",  "/opt",
						  "/mnt", "/media", "/boot", "/sys"};
static const char *const program_files[] = {
	"/etc/ld.so.cache",   "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/alternatives",  "/etc/passwd",     "/etc/group",
	"/etc/nsswitch.conf", "/etc/localtime",  "/etc/ssl/openssl.cnf"};

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

#define BWRAP_MAX_ARGS                                                                             \
	(64 + 3 * KF_PLUGIN_MAX_WRITES + 2 * N_ITEMS(hidden_outside_root) +                        \
	 3 * N_ITEMS(program_files))

/* In the child: execs bubblewrap around the script. Returns only on failure. */
static void exec_bwrap(const struct kf_plugin_step_context *ctx, const struct kf_plugin_step *step,
		       const char *script, bool drop, char **envp)
{
	static char writable[KF_PLUGIN_MAX_WRITES][2][PATH_MAX];
	char dir[PATH_MAX], root[PATH_MAX], uid[32], gid[32];
	const char *argv[BWRAP_MAX_ARGS];
	bool prefixed;
	size_t n = 0, i;

	if (realpath(".", dir) == NULL)
		return;
	snprintf(root, sizeof(root), "%s", ctx->root); /* made absolute by kf_plugin_step_run */
	prefixed = strcmp(root, "/") != 0;
	argv[n++] = KF_PLUGIN_BWRAP;
	argv[n++] = "--die-with-parent";
	argv[n++] = "--unshare-pid"; /* everything the step started dies with it */
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
	/* Under /run the parents are bubblewrap's own (0755): an unprivileged step reads
	 * a plugin or a fixture root kept in a folder only root may enter. */
	argv[n++] = "--perms";
	argv[n++] = "0755";
	argv[n++] = "--dir";
	argv[n++] = "/run/kefu";
	if (prefixed && !step->privileges.root) {
		for (i = 0; i < N_ITEMS(hidden_outside_root); i++)
			if (access(hidden_outside_root[i], F_OK) == 0) {
				argv[n++] = "--tmpfs";
				argv[n++] = hidden_outside_root[i];
			}
		for (i = 0; i < N_ITEMS(program_files); i++) {
			argv[n++] = "--ro-bind-try";
			argv[n++] = program_files[i];
			argv[n++] = program_files[i];
		}
	}
	if (prefixed) {
		argv[n++] = "--ro-bind";
		argv[n++] = root;
		argv[n++] = KF_PLUGIN_SANDBOX_ROOT;
	}
	argv[n++] = "--ro-bind";
	argv[n++] = dir;
	argv[n++] = KF_PLUGIN_SANDBOX_DIR;
	for (i = 0; i < step->privileges.n_writes; i++) {
		snprintf(writable[i][0], sizeof(writable[i][0]), "%s%s", prefixed ? root : "",
			 step->privileges.writes[i]);
		snprintf(writable[i][1], sizeof(writable[i][1]), "%s%s",
			 prefixed ? KF_PLUGIN_SANDBOX_ROOT : "", step->privileges.writes[i]);
		argv[n++] = "--bind-try";
		argv[n++] = writable[i][0];
		argv[n++] = writable[i][1];
	}
	argv[n++] = "--chdir";
	argv[n++] = KF_PLUGIN_SANDBOX_DIR;
	argv[n++] = "--";
	if (drop) {
		if (access(KF_PLUGIN_SETPRIV, X_OK) != 0)
			return; /* never run as root what asked not to */
		snprintf(uid, sizeof(uid), "--reuid=%d", KF_PLUGIN_STEP_UID);
		snprintf(gid, sizeof(gid), "--regid=%d", KF_PLUGIN_STEP_UID);
		argv[n++] = KF_PLUGIN_SETPRIV;
		argv[n++] = uid;
		argv[n++] = gid;
		argv[n++] = "--clear-groups";
		argv[n++] = "--no-new-privs";
		argv[n++] = "--inh-caps=-all";
		argv[n++] = "--bounding-set=-all";
		argv[n++] = "--";
	}
	argv[n++] = script;
	argv[n] = NULL;
	set_limits(step);
	execve(KF_PLUGIN_BWRAP, (char *const *)argv, envp);
}

/* In the child: limits, environment, exec. Never returns. */
static void exec_step(const struct kf_plugin_step_context *ctx, const struct kf_plugin_step *step,
		      int out_fd, const char *cgroup, bool drop)
{
	char script[PATH_MAX], e_root[PATH_MAX + 16], e_report[PATH_MAX + 16], e_dev[256],
		e_step[64];
	char e_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", e_lang[] = "LANG=C.UTF-8";
	char *envp[8];
	size_t n = 0;
	int devnull, report_fd = -1;

	setpgid(0, 0);
	if (cgroup[0] != '\0') {
		char procs[PATH_MAX + 16];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
		if (!write_text(procs, "0"))
			_exit(KF_PLUGIN_EXIT_ERROR);
	}
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	snprintf(script, sizeof(script), "./%s", step->run); /* run after chdir below */
	snprintf(e_root, sizeof(e_root), "KEFU_ROOT=%s", ctx->root);
	if (ctx->sandbox && access(KF_PLUGIN_BWRAP, X_OK) == 0 && strcmp(ctx->root, "/") != 0)
		snprintf(e_root, sizeof(e_root), "KEFU_ROOT=%s", KF_PLUGIN_SANDBOX_ROOT);
	envp[n++] = e_path;
	envp[n++] = e_lang;
	envp[n++] = e_root;
	if (ctx->report != NULL) {
		report_fd = report_copy(ctx->report);
		if (report_fd < 0)
			_exit(KF_PLUGIN_EXIT_ERROR);
		snprintf(e_report, sizeof(e_report), "KEFU_REPORT=/proc/self/fd/%d", report_fd);
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
	if (ctx->sandbox && access(KF_PLUGIN_BWRAP, X_OK) == 0) {
		exec_bwrap(ctx, step, script, drop, envp);
		_exit(KF_PLUGIN_EXIT_ERROR);
	}
	if (drop && !drop_root())
		_exit(KF_PLUGIN_EXIT_ERROR);
	set_limits(step);
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
	char buf[2 * KF_PLUGIN_OUTPUT_LINE_MAX + 2], cgroup[PATH_MAX] = "", root[PATH_MAX];
	struct kf_plugin_step_context absolute = *ctx;
	size_t used = 0, total = 0;
	int fds[2], status = 0;
	long deadline;
	bool open_pipe = true, drop = ctx->sandbox && geteuid() == 0 && !step->privileges.root;
	pid_t pid;

	memset(result, 0, sizeof(*result));
	/* The step starts in the plugin folder: a relative root would name another place. */
	if (realpath(ctx->root != NULL ? ctx->root : "/", root) == NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "root %s: %s",
				    ctx->root != NULL ? ctx->root : "/", strerror(errno));
	absolute.root = root;
	ctx = &absolute;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return kf_error_set(err, KF_ERR_IO, "pipe: %s", strerror(errno));
	if (ctx->sandbox && geteuid() == 0)
		result->pids_cgroup = cgroup_create(cgroup, sizeof(cgroup));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		if (cgroup[0] != '\0')
			rmdir(cgroup);
		return kf_error_set(err, KF_ERR_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		exec_step(ctx, step, fds[1], cgroup, drop);
	}
	setpgid(pid, pid);
	close(fds[1]);
	result->sandboxed = ctx->sandbox && access(KF_PLUGIN_BWRAP, X_OK) == 0;
	result->dropped_root = drop;
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
	if (cgroup[0] != '\0')
		cgroup_remove(cgroup);
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
