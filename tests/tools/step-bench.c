/* kefu test tool: times one plugin step run again and again through kf_plugin_step_run, and the
 * same script started by its peers (plain fork and exec, bubblewrap alone), in one process so
 * only the step's own cost differs. SPDX-License-Identifier: MIT */
#include "proto/plugin/manifest.h"
#include "proto/plugin/step.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 1000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Forks, execs argv with output to /dev/null, waits. */
static int spawn(const char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: step-bench step|step-root|direct|bwrap|bwrap-setpriv PLUGIN_DIR "
			"RUNS [--no-sandbox]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const sandbox_args[] = {KF_PLUGIN_BWRAP,
						   "--die-with-parent",
						   "--unshare-pid",
						   "--unshare-net",
						   "--ro-bind",
						   "/",
						   "/",
						   "--dev",
						   "/dev",
						   "--proc",
						   "/proc",
						   "--tmpfs",
						   "/tmp",
						   "--tmpfs",
						   "/run",
						   "--ro-bind"};
	static const char *const setpriv_args[] = {KF_PLUGIN_SETPRIV, "--reuid=65534",
						   "--regid=65534",   "--clear-groups",
						   "--no-new-privs",  "--"};
	static double times[MAX_RUNS];
	const char *bwrap[40];
	size_t nb = 0;
	struct kf_plugin_manifest *m;
	struct kf_plugin_step_result result;
	struct kf_plugin_step step;
	struct kf_error err;
	char script[PATH_MAX], dir[PATH_MAX], relative[PATH_MAX];
	const char *mode;
	bool sandbox = true;
	long runs;
	int n = 0;

	if (argc < 4 || argc > 5)
		usage();
	mode = argv[1];
	runs = strtol(argv[3], NULL, 10);
	if (runs < 1 || runs > MAX_RUNS)
		usage();
	if (argc == 5 && strcmp(argv[4], "--no-sandbox") == 0)
		sandbox = false;
	else if (argc == 5)
		usage();
	if (kf_plugin_manifest_load(argv[2], &m, &err) != 0) {
		fprintf(stderr, "step-bench: %s\n", err.message);
		return 1;
	}
	step = m->checks[0].detect;
	step.privileges.root = strcmp(mode, "step-root") == 0;
	/* The peers see the plugin where the step does: bubblewrap binds it at one place. */
	if (realpath(argv[2], dir) == NULL ||
	    snprintf(script, sizeof(script), "%s/%s", dir, step.run) >= (int)sizeof(script))
		return 1;
	snprintf(relative, sizeof(relative), "./%s", step.run);
	/* The peers: bubblewrap with the step's mounts, then (bwrap-setpriv) nobody's uid. */
	for (size_t i = 0; i < sizeof(sandbox_args) / sizeof(sandbox_args[0]); i++)
		bwrap[nb++] = sandbox_args[i];
	bwrap[nb++] = dir;
	bwrap[nb++] = KF_PLUGIN_SANDBOX_DIR;
	bwrap[nb++] = "--chdir";
	bwrap[nb++] = KF_PLUGIN_SANDBOX_DIR;
	bwrap[nb++] = "--";
	if (strcmp(mode, "bwrap-setpriv") == 0)
		for (size_t i = 0; i < sizeof(setpriv_args) / sizeof(setpriv_args[0]); i++)
			bwrap[nb++] = setpriv_args[i];
	bwrap[nb++] = relative;
	bwrap[nb] = NULL;
	memset(&result, 0, sizeof(result));
	/* Three runs first, not counted: caches, page tables and the cgroup tree warm up. */
	for (n = -3; n < runs; n++) {
		struct kf_plugin_step_context ctx = {
			.plugin_dir = argv[2], .root = "/", .phase = "detect", .sandbox = sandbox};
		const char *direct[] = {script, NULL};
		double start = now_ms();
		int code;

		if (strcmp(mode, "step") == 0 || strcmp(mode, "step-root") == 0)
			code = kf_plugin_step_run(&ctx, &step, &result, &err) == 0
				       ? result.exit_code
				       : -1;
		else if (strcmp(mode, "direct") == 0)
			code = spawn(direct);
		else if (strcmp(mode, "bwrap") == 0 || strcmp(mode, "bwrap-setpriv") == 0)
			code = spawn(bwrap);
		else
			usage();
		if (n >= 0)
			times[n] = now_ms() - start;
		if (code != 0) {
			fprintf(stderr, "step-bench: %s run %d ended with %d\n", mode, n, code);
			return 1;
		}
	}
	qsort(times, (size_t)n, sizeof(times[0]), compare);
	printf("{\"mode\": \"%s\", \"runs\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, "
	       "\"p90_ms\": %.3f, \"sandboxed\": %s, \"dropped_root\": %s, \"pids_cgroup\": %s}\n",
	       mode, n, times[n / 2], times[0], times[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1],
	       result.sandboxed ? "true" : "false", result.dropped_root ? "true" : "false",
	       result.pids_cgroup ? "true" : "false");
	kf_plugin_manifest_free(m);
	return 0;
}
