/* kefu-agentd: one plugin step that needs root, run for a user through pkexec.
 * The elevated side trusts no path it is given: it takes ids, finds the plugin in
 * its own places, checks it, and runs the one step from a copy only root can change
 * (diag-plugins/FORMAT.md "Steps that need root"). SPDX-License-Identifier: MIT */
#include "agentd/plugins/elevate.h"
#include "agentd/commands.h"
#include "agentd/plugins/plugins.h"
#include "proto/plugin/package.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ELEVATED_OUTPUT_MAX (1024 * 1024) /* bytes of the elevated side's answer */
#define SYSTEM_PROFILE      "/etc/kefu/profile.json"
#define PKEXEC_NOT_APPROVED 127 /* pkexec: not authorized, or no agent to ask */
#define PKEXEC_DISMISSED    126 /* pkexec: the authentication dialog was dismissed */

/* The step's outcome as one JSON object: what the unprivileged side records. */
static json_t *result_to_json(const struct kf_plugin_step_result *r)
{
	json_t *events = json_array();

	for (size_t i = 0; i < r->n_events; i++) {
		const struct kf_plugin_event *ev = &r->events[i];
		json_t *obj = json_object();

		if (ev->type == KF_PLUGIN_EVENT_FINDING) {
			json_object_set_new(obj, "type", json_string("finding"));
			json_object_set_new(obj, "severity", json_string(ev->severity));
			json_object_set_new(obj, "summary", json_string(ev->summary));
			if (ev->detail[0] != '\0')
				json_object_set_new(obj, "detail", json_string(ev->detail));
		} else if (ev->type == KF_PLUGIN_EVENT_PROGRESS) {
			json_object_set_new(obj, "type", json_string("progress"));
			if (ev->percent >= 0)
				json_object_set_new(obj, "percent", json_integer(ev->percent));
			if (ev->summary[0] != '\0')
				json_object_set_new(obj, "message", json_string(ev->summary));
		} else {
			json_object_set_new(obj, "type", json_string("result"));
			json_object_set_new(obj, "status", json_string(ev->status));
			if (ev->summary[0] != '\0')
				json_object_set_new(obj, "summary", json_string(ev->summary));
		}
		json_array_append_new(events, obj);
	}
	return json_pack("{s:i, s:b, s:b, s:b, s:i, s:b, s:b, s:b, s:o, s:I, s:s}", "exit_code",
			 r->exit_code, "timed_out", r->timed_out, "output_capped", r->output_capped,
			 "cancelled", r->cancelled, "signal", r->signal, "sandboxed", r->sandboxed,
			 "dropped_root", r->dropped_root, "pids_cgroup", r->pids_cgroup, "events",
			 events, "bad_lines", (json_int_t)r->n_bad_lines, "first_bad_line",
			 r->first_bad);
}

/* Reads the elevated side's answer back; each event goes through the step line parser. */
static int result_from_json(const char *text, size_t len, struct kf_plugin_step_result *r)
{
	json_error_t jerr;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *events, *ev;
	json_int_t code;
	size_t i;
	int ok;

	memset(r, 0, sizeof(*r));
	events = json_object_get(obj, "events");
	code = json_integer_value(json_object_get(obj, "exit_code"));
	ok = json_is_object(obj) && json_is_integer(json_object_get(obj, "exit_code")) &&
	     code >= 0 && code <= KF_PLUGIN_EXIT_ERROR && json_is_array(events) &&
	     json_array_size(events) <= KF_PLUGIN_STEP_MAX_EVENTS;
	if (ok) {
		r->exit_code = (int)code;
		r->timed_out = json_is_true(json_object_get(obj, "timed_out"));
		r->output_capped = json_is_true(json_object_get(obj, "output_capped"));
		r->cancelled = json_is_true(json_object_get(obj, "cancelled"));
		r->signal = (int)json_integer_value(json_object_get(obj, "signal"));
		r->sandboxed = json_is_true(json_object_get(obj, "sandboxed"));
		r->dropped_root = json_is_true(json_object_get(obj, "dropped_root"));
		r->pids_cgroup = json_is_true(json_object_get(obj, "pids_cgroup"));
		r->n_bad_lines = (size_t)json_integer_value(json_object_get(obj, "bad_lines"));
		snprintf(r->first_bad, sizeof(r->first_bad), "%s",
			 json_string_value(json_object_get(obj, "first_bad_line")) ?: "");
	}
	json_array_foreach(events, i, ev)
	{
		char *line = ok ? json_dumps(ev, JSON_COMPACT) : NULL;
		struct kf_error err;

		if (line != NULL &&
		    kf_plugin_event_parse(line, strlen(line), &r->events[r->n_events], &err) == 0)
			r->n_events++;
		free(line);
	}
	json_decref(obj);
	return ok ? 0 : -1;
}

/* The elevated side. */

struct elevated {
	bool by_pkexec; /* started by pkexec for the user PKEXEC_UID names */
	uid_t user;
	const char *root, *report, *profile;
	const char *plugin, *check, *step;
	char dir[PATH_MAX];               /* the plugin folder the step runs from */
	char stage[KF_AGENTD_STAGE_SIZE]; /* a root-only folder holding the checked copy, or "" */
	char made_report[64];             /* a report made here, or "" */
};

static int refuse(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int refuse(const char *format, ...)
{
	va_list args;

	fprintf(stderr, "%s: %s: refused: ", KF_AGENTD_PROGRAM, KF_AGENTD_PLUGIN_STEP_COMMAND);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	return KF_EXIT_FAILURE;
}

/* Whether path is itself (not through a link) of the type wanted, root's, and writable by no
 * one else. */
static bool is_root_only(const char *path, bool is_folder)
{
	struct stat st;

	return lstat(path, &st) == 0 && (is_folder ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) &&
	       st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * An installed plugin: its kept signature must verify with a publisher the
 * system's profile trusts now and every file must match the signed list; the
 * step runs from a root-only copy of the checked bytes.
 */
static int stage_installed(struct elevated *e, const char *installed)
{
	const char *profile_path = e->by_pkexec         ? SYSTEM_PROFILE
				   : e->profile != NULL ? e->profile
							: kf_profile_default_path();
	char problem[KF_ERROR_MESSAGE_SIZE + 128];
	struct kf_package_publisher *trusted = NULL;
	struct kf_profile *profile = NULL;
	struct kf_error err;
	size_t n_trusted = 0;
	int r;

	if (kf_agent_plugins_trust(profile_path, &profile, &trusted, &n_trusted, problem,
				   sizeof(problem)) != KF_OK)
		return refuse("%s", problem);
	r = kf_agent_plugin_stage(installed, e->plugin, trusted, n_trusted, e->stage,
				  sizeof(e->stage), e->dir, sizeof(e->dir), &err);
	free(trusted);
	kf_profile_free(profile);
	return r == KF_OK ? KF_EXIT_OK : refuse("%s: %s", installed, err.message);
}

/* Finds the plugin in the elevated side's own places: shipped, then installed for the user. */
static int find_plugin(struct elevated *e)
{
	char shipped[PATH_MAX], installed[PATH_MAX], base[PATH_MAX];
	struct stat st;

	snprintf(shipped, sizeof(shipped), "%s/%s", KF_AGENTD_SHIPPED_PLUGINS, e->plugin);
	if (lstat(shipped, &st) == 0) {
		/* Shipped with the system: trusted as root's own files, which they must be. */
		if (!is_root_only(KF_AGENTD_SHIPPED_PLUGINS, true) || !is_root_only(shipped, true))
			return refuse("%s is not a folder that only root can change", shipped);
		snprintf(e->dir, sizeof(e->dir), "%s", shipped);
		return KF_EXIT_OK;
	}
	if (e->by_pkexec) {
		struct passwd *pw = getpwuid(e->user);

		if (pw == NULL || pw->pw_dir[0] != '/')
			return refuse("user %u has no home folder", (unsigned)e->user);
		snprintf(base, sizeof(base), "%s/.local/share/kefu/plugins", pw->pw_dir);
	} else if (kf_agent_plugins_dir(base, sizeof(base)) == NULL) {
		return refuse("no HOME or XDG_DATA_HOME to find installed plugins in");
	}
	if (snprintf(installed, sizeof(installed), "%s/%s", base, e->plugin) >=
	    (int)sizeof(installed))
		return refuse("%s: path too long", base);
	if (lstat(installed, &st) < 0)
		return refuse("no plugin %s is shipped with kefu or installed in %s", e->plugin,
			      base);
	if (!S_ISDIR(st.st_mode))
		return refuse("%s is not a folder of its own (a link or a file)", installed);
	return stage_installed(e, installed);
}

/* The step named repair-N (1-based) or verify of the check; NULL when there is none. */
static const struct kf_plugin_step *find_step(const struct kf_plugin_check *c, const char *name)
{
	char *end;
	long n;

	if (strcmp(name, "verify") == 0)
		return c->has_verify ? &c->verify : NULL;
	if (strncmp(name, "repair-", 7) != 0 || name[7] < '1' || name[7] > '9')
		return NULL;
	n = strtol(name + 7, &end, 10);
	return *end == '\0' && n >= 1 && (size_t)n <= c->n_repairs ? &c->repairs[n - 1] : NULL;
}

/* Loads the plugin from e->dir, picks the step and runs it; prints the result. */
static int run_checked(struct elevated *e)
{
	const struct kf_plugin_check *check = NULL;
	const struct kf_plugin_step *step;
	struct kf_plugin_manifest *m = NULL;
	struct kf_plugin_step_result *r = NULL;
	struct kf_plugin_step_context ctx = {.sandbox = true};
	const char *device = NULL;
	json_t *report = NULL, *out;
	json_error_t jerr;
	struct kf_error err;
	int code = KF_EXIT_FAILURE;

	if (kf_plugin_manifest_load(e->dir, &m, &err) != KF_OK)
		return refuse("%s", err.message);
	for (size_t i = 0; i < m->n_checks && check == NULL; i++)
		if (strcmp(m->checks[i].id, e->check) == 0)
			check = &m->checks[i];
	if (strcmp(m->id, e->plugin) != 0) {
		code = refuse("%s holds plugin %s", e->dir, m->id);
		goto out;
	}
	if (check == NULL) {
		code = refuse("plugin %s has no check %s", e->plugin, e->check);
		goto out;
	}
	if ((step = find_step(check, e->step)) == NULL) {
		code = refuse("check %s of %s has no step %s", e->check, e->plugin, e->step);
		goto out;
	}
	if (!step->privileges.root) {
		code = refuse("step %s of %s does not declare root: it runs without an "
			      "administrator",
			      e->step, e->plugin);
		goto out;
	}
	if (e->report == NULL) {
		int fd;

		snprintf(e->made_report, sizeof(e->made_report), "/tmp/kefu-step-report-XXXXXX");
		fd = mkstemp(e->made_report);
		if (fd < 0 || (close(fd), kf_agent_plugins_report(e->root, e->made_report)) < 0) {
			code = refuse("the diagnostics report of %s failed", e->root);
			goto out;
		}
		e->report = e->made_report;
	}
	report = json_load_file(e->report, 0, &jerr);
	if (!json_is_object(report) || !kf_plugin_manifest_applies(m, report, e->root, &device)) {
		code = refuse("plugin %s does not apply to this machine", e->plugin);
		goto out;
	}
	r = malloc(sizeof(*r));
	ctx.plugin_dir = e->dir;
	ctx.root = e->root;
	ctx.report = e->report;
	ctx.device = device;
	ctx.phase = strcmp(e->step, "verify") == 0 ? "verify" : "repair";
	if (r == NULL || kf_plugin_step_run(&ctx, step, r, &err) != KF_OK) {
		code = kf_cli_fail(KF_AGENTD_PROGRAM, "the step could not start: %s",
				   r == NULL ? "out of memory" : err.message);
		goto out;
	}
	out = result_to_json(r);
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	code = KF_EXIT_OK;
out:
	free(r);
	json_decref(report);
	kf_plugin_manifest_free(m);
	return code;
}

int kf_agent_cmd_plugin_step(int argc, char **argv)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"report", required_argument, NULL, 'R'},
		{"profile", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	struct elevated e = {.root = "/"};
	const char *asker = getenv("PKEXEC_UID");
	bool chose = false;
	char *end;
	int opt, code;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r')
			e.root = optarg;
		else if (opt == 'R')
			e.report = optarg;
		else if (opt == 'p')
			e.profile = optarg;
		else
			goto usage;
		chose = true;
	}
	if (optind != argc - 3)
		goto usage;
	e.plugin = argv[optind];
	e.check = argv[optind + 1];
	e.step = argv[optind + 2];
	if (geteuid() != 0)
		return refuse("this command runs only as root (scan --fix asks pkexec for it)");
	/* Names only: a path, "..", or anything else is never looked up. */
	if (!kf_plugin_id_is_valid(e.plugin) || !kf_plugin_id_is_valid(e.check))
		return refuse("not a plugin and check id: %.80s %.80s", e.plugin, e.check);
	if (asker != NULL) {
		unsigned long uid = strtoul(asker, &end, 10);

		if (asker[0] < '0' || asker[0] > '9' || *end != '\0' || uid >= (uid_t)-1)
			return refuse("PKEXEC_UID is not a user id");
		e.by_pkexec = true;
		e.user = (uid_t)uid;
	}
	/*
	 * For another user, only what the elevated side can check itself: the live
	 * system, its own report and the system's profile. Root may choose.
	 */
	if (e.by_pkexec && chose)
		return refuse("--root, --report and --profile are for root only; through pkexec "
			      "the live system, a fresh report and %s are used",
			      SYSTEM_PROFILE);
	if ((code = find_plugin(&e)) == KF_EXIT_OK)
		code = run_checked(&e);
	kf_agent_plugin_unstage(e.stage);
	if (e.made_report[0] != '\0')
		unlink(e.made_report);
	return code;
usage:
	fprintf(stderr, "usage: %s %s %s\n", KF_AGENTD_PROGRAM, KF_AGENTD_PLUGIN_STEP_COMMAND,
		KF_AGENTD_PLUGIN_STEP_USAGE);
	return KF_EXIT_USAGE;
}

/* The unprivileged side. */

bool kf_agent_elevate_available(void)
{
	return access(KF_AGENTD_PKEXEC, X_OK) == 0;
}

enum kf_elevate_outcome kf_agent_elevate_step(const char *plugin, const char *check,
					      const char *step,
					      struct kf_plugin_step_result *result)
{
	char self[PATH_MAX], *answer = malloc(ELEVATED_OUTPUT_MAX + 1);
	size_t used = 0;
	ssize_t n;
	int fds[2], status = 0;
	pid_t pid;

	memset(result, 0, sizeof(*result));
	if (!kf_agent_elevate_available()) {
		free(answer);
		return KF_ELEVATE_UNAVAILABLE;
	}
	/* pkexec runs a program by its absolute path: this very program. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (answer == NULL || n <= 0 || (size_t)n >= sizeof(self) - 1 ||
	    pipe2(fds, O_CLOEXEC) < 0) {
		free(answer);
		return KF_ELEVATE_FAILED;
	}
	self[n] = '\0';
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execl(KF_AGENTD_PKEXEC, "pkexec", self, KF_AGENTD_PLUGIN_STEP_COMMAND, plugin,
		      check, step, (char *)NULL);
		_exit(PKEXEC_NOT_APPROVED);
	}
	close(fds[1]);
	/* Bounded by the answer's size; the elevated side bounds the step by its timeout. */
	while (pid > 0 && used < ELEVATED_OUTPUT_MAX &&
	       ((n = read(fds[0], answer + used, ELEVATED_OUTPUT_MAX - used)) > 0 ||
		(n < 0 && errno == EINTR)))
		used += n > 0 ? (size_t)n : 0;
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	answer[used] = '\0';
	if (pid < 0 || !WIFEXITED(status)) {
		free(answer);
		return KF_ELEVATE_FAILED;
	}
	if (WEXITSTATUS(status) == PKEXEC_NOT_APPROVED || WEXITSTATUS(status) == PKEXEC_DISMISSED) {
		free(answer);
		return KF_ELEVATE_NOT_APPROVED;
	}
	if (WEXITSTATUS(status) != KF_EXIT_OK) {
		free(answer);
		return WEXITSTATUS(status) == KF_EXIT_FAILURE ? KF_ELEVATE_REFUSED
							      : KF_ELEVATE_FAILED;
	}
	n = result_from_json(answer, used, result) == 0;
	free(answer);
	return n ? KF_ELEVATE_RAN : KF_ELEVATE_FAILED;
}
