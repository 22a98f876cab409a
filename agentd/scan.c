/* kefu-agentd: `scan` runs the applicable diagnostic plugins and, with consent, their repairs.
 * SPDX-License-Identifier: MIT */
#include "agentd/commands.h"
#include "agentd/plugins.h"
#include "proto/plugin-manifest.h"
#include "proto/plugin-step.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCAN_USAGE                                                                                 \
	"[--root DIR] [--report FILE] [--plugins DIR]... [--packages DIR] [--fix] [--yes] "        \
	"[--json]"

#define SCAN_MAX_FOLDERS 8

struct scan_options {
	const char *root, *report, *plugins[SCAN_MAX_FOLDERS], *packages;
	size_t n_plugins;
	bool fix, yes, json;
};

/*
 * The one place that decides whether a repair may run: self-service asks the
 * customer (yes/no on the terminal) unless --yes was given. A remote session's
 * `repair` grant will be checked here too.
 */
static bool repair_allowed(const struct scan_options *o, const struct kf_plugin_check *c)
{
	char answer[16];

	if (o->yes)
		return true;
	if (!isatty(STDIN_FILENO))
		return false;
	fprintf(stderr, "Fix \"%s\" (%s)? [y/N] ", c->title, c->fix != NULL ? c->fix : "repair");
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int run_step(struct kf_plugin_step_context *ctx, const char *phase,
		    const struct kf_plugin_step *step, json_t *steps,
		    struct kf_plugin_step_result *r)
{
	struct kf_error err;
	json_t *obj = json_object();
	size_t i;

	ctx->phase = phase;
	if (kf_plugin_step_run(ctx, step, r, &err) < 0) {
		memset(r, 0, sizeof(*r));
		r->exit_code = KF_PLUGIN_EXIT_ERROR;
	}
	json_object_set_new(obj, "step", json_string(phase));
	json_object_set_new(obj, "outcome", json_string(kf_plugin_exit_name(r->exit_code)));
	json_object_set_new(obj, "sandboxed", json_boolean(r->sandboxed));
	json_object_set_new(obj, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(obj, "output_capped", json_boolean(r->output_capped));
	for (i = 0; i < r->n_events; i++)
		if (r->events[i].type == KF_PLUGIN_EVENT_FINDING) {
			json_t *f = json_object();

			json_object_set_new(f, "severity", json_string(r->events[i].severity));
			json_object_set_new(f, "summary", json_string(r->events[i].summary));
			json_object_set_new(obj, "finding", f);
		}
	json_array_append_new(steps, obj);
	return r->exit_code;
}

/* Runs every check of one plugin; appends a result object to results. Returns problems left. */
static int scan_plugin(const struct scan_options *o, const char *dir,
		       const struct kf_plugin_manifest *m, const char *device, json_t *results)
{
	struct kf_plugin_step_context ctx = {dir, o->root, o->report, device, NULL, true, NULL};
	struct kf_plugin_step_result *r = malloc(sizeof(*r));
	int left = 0;
	size_t i, j;

	if (r == NULL)
		return 1;
	for (i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];
		json_t *obj = json_object(), *steps = json_array();
		const char *state;
		int code = run_step(&ctx, "detect", &c->detect, steps, r);

		if (code == KF_PLUGIN_EXIT_OK)
			state = "healthy";
		else if (code == KF_PLUGIN_EXIT_NOT_APPLICABLE)
			state = "not-applicable";
		else if (code == KF_PLUGIN_EXIT_ERROR)
			state = "check-failed";
		else if (!o->fix || c->n_repairs == 0)
			state = "problem";
		else if (c->repairs[0].privileges.root && geteuid() != 0)
			state = "problem (the fix needs an administrator: sudo kefu-agentd scan "
				"--fix)";
		else if (!repair_allowed(o, c))
			state = "problem (fix declined)";
		else {
			state = "problem (fix failed)";
			for (j = 0; j < c->n_repairs; j++) {
				run_step(&ctx, "repair", &c->repairs[j], steps, r);
				if (run_step(&ctx, "verify", &c->verify, steps, r) == 0) {
					state = "fixed";
					break;
				}
			}
		}
		if (strncmp(state, "problem", 7) == 0 || strcmp(state, "check-failed") == 0)
			left++;
		json_object_set_new(obj, "plugin", json_string(m->id));
		json_object_set_new(obj, "check", json_string(c->id));
		json_object_set_new(obj, "title", json_string(c->title));
		if (c->fix != NULL)
			json_object_set_new(obj, "fix", json_string(c->fix));
		json_object_set_new(obj, "state", json_string(state));
		json_object_set_new(obj, "steps", steps);
		json_array_append_new(results, obj);
		if (!o->json && strcmp(state, "healthy") != 0 &&
		    strcmp(state, "not-applicable") != 0)
			printf("%s: %s%s%s\n", state, c->title, c->fix != NULL ? "\n  fix: " : "",
			       c->fix != NULL ? c->fix : "");
	}
	free(r);
	return left;
}

/* Writes this machine's (or root's) diagnostics report to path with `kefu-agentd diag`. */
static int make_report(const char *root, const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execl("/proc/self/exe", KF_AGENTD_PROGRAM, "diag", "--root", root, "--output", path,
		      (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return 0;
}

static int parse_options(int argc, char **argv, struct scan_options *o)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"report", required_argument, NULL, 'R'},
		{"plugins", required_argument, NULL, 'p'},
		{"packages", required_argument, NULL, 'P'},
		{"fix", no_argument, NULL, 'f'},
		{"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r')
			o->root = optarg;
		else if (opt == 'R')
			o->report = optarg;
		else if (opt == 'p' && o->n_plugins < SCAN_MAX_FOLDERS)
			o->plugins[o->n_plugins++] = optarg;
		else if (opt == 'P')
			o->packages = optarg;
		else if (opt == 'f')
			o->fix = true;
		else if (opt == 'y')
			o->yes = true;
		else if (opt == 'j')
			o->json = true;
		else
			return -1;
	}
	return optind == argc ? 0 : -1;
}

int kf_agentd_cmd_scan(int argc, char **argv)
{
	struct scan_options o = {"/", NULL, {NULL}, NULL, 0, false, false, false};
	json_t *report = NULL, *results, *seen = json_object();
	json_error_t jerr;
	struct dirent **names;
	char made[64] = "", installed[PATH_MAX];
	int n, i, left = 0;
	size_t f, named;

	if (parse_options(argc, argv, &o) < 0) {
		json_decref(seen);
		fprintf(stderr, "usage: %s scan %s\n", KF_AGENTD_PROGRAM, SCAN_USAGE);
		return KF_EXIT_USAGE;
	}
	if (o.report == NULL) {
		int fd;

		snprintf(made, sizeof(made), "/tmp/kefu-scan-report-XXXXXX");
		fd = mkstemp(made);
		if (fd < 0)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "cannot create a temporary report");
		close(fd);
		if (make_report(o.root, made) < 0) {
			unlink(made);
			return kf_cli_fail(KF_AGENTD_PROGRAM,
					   "the diagnostics report failed (try --report FILE)");
		}
		o.report = made;
	}
	report = json_load_file(o.report, 0, &jerr);
	if (report == NULL || !json_is_object(report)) {
		json_decref(report);
		if (made[0] != '\0')
			unlink(made);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: not a diagnostics report: %s", o.report,
				   jerr.text);
	}
	/*
	 * By default: the plugins shipped with kefu, then those installed from
	 * packages, which run only while their files match their signed list.
	 * Folders named with --plugins must exist; the others may be absent.
	 */
	named = o.n_plugins;
	if (named == 0) {
		o.plugins[o.n_plugins++] = KF_AGENTD_SHIPPED_PLUGINS;
		if (o.packages == NULL)
			o.packages = kf_agentd_plugins_dir(installed, sizeof(installed));
	}
	if (o.packages != NULL)
		o.plugins[o.n_plugins++] = o.packages;
	results = json_array();
	for (f = 0; f < o.n_plugins; f++) {
		n = scandir(o.plugins[f], &names, NULL, alphasort);
		if (n < 0 && f >= named)
			continue;
		if (n < 0) {
			json_decref(report);
			json_decref(results);
			json_decref(seen);
			return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: cannot read the plugin folder",
					   o.plugins[f]);
		}
		for (i = 0; i < n; i++) {
			char dir[PATH_MAX];
			struct kf_plugin_manifest *m;
			struct kf_error err;
			const char *device;

			if (names[i]->d_name[0] != '.' &&
			    snprintf(dir, sizeof(dir), "%s/%s", o.plugins[f], names[i]->d_name) <
				    (int)sizeof(dir) &&
			    (o.plugins[f] != o.packages || kf_agentd_plugin_is_intact(dir)) &&
			    kf_plugin_manifest_load(dir, &m, &err) == 0) {
				/* A plugin id found in an earlier folder wins. */
				if (json_object_get(seen, m->id) == NULL &&
				    kf_plugin_manifest_applies(m, report, o.root, &device))
					left += scan_plugin(&o, dir, m, device, results);
				json_object_set_new(seen, m->id, json_true());
				kf_plugin_manifest_free(m);
			}
			free(names[i]);
		}
		free(names);
	}
	json_decref(seen);
	if (o.json) {
		json_t *out = json_object();

		json_object_set_new(out, "root", json_string(o.root));
		json_object_set_new(out, "sandbox",
				    json_string(access(KF_PLUGIN_BWRAP, X_OK) == 0
							? "bubblewrap"
							: "bubblewrap is not installed"));
		json_object_set_new(out, "problems_left", json_integer(left));
		json_object_set_new(out, "checks", results);
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		printf("%d problem%s left\n", left, left == 1 ? "" : "s");
		json_decref(results);
	}
	json_decref(report);
	if (made[0] != '\0')
		unlink(made);
	return left == 0 ? KF_EXIT_OK : KF_EXIT_FAILURE;
}
