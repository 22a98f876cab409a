/* kefu-agentd: `scan` runs the applicable diagnostic plugins and, with consent, their repairs.
 * SPDX-License-Identifier: MIT */
#include "agentd/commands.h"
#include "agentd/plugin-job.h"
#include "agentd/plugins.h"
#include "agentd/scan-summary.h"
#include "proto/plugin-manifest.h"
#include "proto/plugin-step.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCAN_MAX_JOBS 32

struct scan_options {
	const char *root, *report, *profile;
	struct kf_plugin_places places;
	bool fix, yes, json;
	int jobs; /* detect steps of this many plugins at once */
};

/* One applicable plugin and the results of its checks' detect steps. */
struct scan_item {
	char dir[PATH_MAX];
	struct kf_plugin_manifest *m;
	char *device;                          /* the matched device, or NULL */
	struct kf_plugin_step_result *detects; /* one per check */
};

/* Detect steps of different plugins run at once; each worker takes the next plugin. */
struct scan_pool {
	const struct scan_options *o;
	struct scan_item *items;
	size_t n_items, next;
	pthread_mutex_t lock;
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

	ctx->phase = phase;
	if (kf_plugin_step_run(ctx, step, r, &err) < 0) {
		memset(r, 0, sizeof(*r));
		r->exit_code = KF_PLUGIN_EXIT_ERROR;
	}
	return kf_plugin_step_record(phase, steps, r);
}

static void *detect_worker(void *arg)
{
	struct scan_pool *pool = arg;

	for (;;) {
		struct scan_item *item;
		struct kf_plugin_step_context ctx;
		struct kf_error err;
		size_t i;

		pthread_mutex_lock(&pool->lock);
		item = pool->next < pool->n_items ? &pool->items[pool->next++] : NULL;
		pthread_mutex_unlock(&pool->lock);
		if (item == NULL)
			return NULL;
		ctx = (struct kf_plugin_step_context){.plugin_dir = item->dir,
						      .root = pool->o->root,
						      .report = pool->o->report,
						      .device = item->device,
						      .phase = "detect",
						      .sandbox = true};
		for (i = 0; i < item->m->n_checks; i++) {
			if (kf_plugin_step_run(&ctx, &item->m->checks[i].detect, &item->detects[i],
					       &err) < 0) {
				memset(&item->detects[i], 0, sizeof(item->detects[i]));
				item->detects[i].exit_code = KF_PLUGIN_EXIT_ERROR;
			}
		}
	}
}

/* Runs the detect steps of all items, o->jobs plugins at a time; results land in the items. */
static void detect_all(const struct scan_options *o, struct scan_item *items, size_t n_items)
{
	struct scan_pool pool = {o, items, n_items, 0, PTHREAD_MUTEX_INITIALIZER};
	pthread_t threads[SCAN_MAX_JOBS];
	int n_threads = 0, i;

	while (n_threads < o->jobs && (size_t)n_threads < n_items &&
	       pthread_create(&threads[n_threads], NULL, detect_worker, &pool) == 0)
		n_threads++;
	if (n_threads == 0) /* no thread could start: run them here */
		detect_worker(&pool);
	for (i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
}

/*
 * Goes through one plugin's checks in order with their detect results; repairs
 * with consent. Appends a result object per check to results. Returns problems left.
 */
static int scan_plugin(const struct scan_options *o, const struct scan_item *item, json_t *results)
{
	const struct kf_plugin_manifest *m = item->m;
	struct kf_plugin_step_context ctx = {.plugin_dir = item->dir,
					     .root = o->root,
					     .report = o->report,
					     .device = item->device,
					     .sandbox = true};
	struct kf_plugin_step_result *r = malloc(sizeof(*r));
	int left = 0;
	size_t i, j;

	if (r == NULL)
		return 1;
	for (i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];
		json_t *obj = json_object(), *steps = json_array();
		const char *state;
		int code = kf_plugin_step_record("detect", steps, &item->detects[i]);

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
		{"profile", required_argument, NULL, 'F'},
		{"fix", no_argument, NULL, 'f'},
		{"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},
		{"jobs", required_argument, NULL, 'J'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r')
			o->root = optarg;
		else if (opt == 'R')
			o->report = optarg;
		else if (opt == 'p' && o->places.n_folders < KF_PLUGIN_PLACES_MAX - 1)
			o->places.folders[o->places.n_folders++] = optarg;
		else if (opt == 'P')
			o->places.installed = optarg;
		else if (opt == 'F')
			o->profile = optarg;
		else if (opt == 'f')
			o->fix = true;
		else if (opt == 'y')
			o->yes = true;
		else if (opt == 'j')
			o->json = true;
		else if (opt == 'J') {
			long jobs = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || jobs < 1 || jobs > SCAN_MAX_JOBS)
				return -1;
			o->jobs = (int)jobs;
		} else
			return -1;
	}
	return optind == argc ? 0 : -1;
}

struct collect {
	struct scan_item *items;
	size_t n_items, size;
};

/* Keeps each applicable plugin for the detect pool. */
static int collect_item(const char *dir, const struct kf_plugin_manifest *m, const char *device,
			void *user)
{
	struct collect *c = user;
	struct scan_item *item;
	struct kf_error err;

	(void)m; /* the walk's copy is borrowed: each item loads its own */
	if (c->n_items == c->size) {
		size_t size = c->size ? 2 * c->size : 8;
		struct scan_item *grown = realloc(c->items, size * sizeof(*grown));

		if (grown == NULL)
			return -1;
		c->items = grown;
		c->size = size;
	}
	item = &c->items[c->n_items];
	memset(item, 0, sizeof(*item));
	if (snprintf(item->dir, sizeof(item->dir), "%s", dir) >= (int)sizeof(item->dir) ||
	    kf_plugin_manifest_load(dir, &item->m, &err) != 0)
		return 0;
	item->device = device != NULL ? strdup(device) : NULL;
	item->detects = calloc(item->m->n_checks ? item->m->n_checks : 1, sizeof(*item->detects));
	if (item->detects == NULL) {
		kf_plugin_manifest_free(item->m);
		free(item->device);
		return -1;
	}
	c->n_items++;
	return 0;
}

/* Everything after the options: the report, the plugins, the summary. Returns the exit code. */
static int scan_run(struct scan_options *o)
{
	json_t *report = NULL, *results, *skipped;
	json_error_t jerr;
	struct collect found = {NULL, 0, 0};
	char made[64] = "", summary[PATH_MAX] = "";
	size_t k, i;
	int left = 0;

	if (o->report == NULL) {
		int fd;

		snprintf(made, sizeof(made), "/tmp/kefu-scan-report-XXXXXX");
		fd = mkstemp(made);
		if (fd < 0)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "cannot create a temporary report");
		close(fd);
		if (make_report(o->root, made) < 0) {
			unlink(made);
			return kf_cli_fail(KF_AGENTD_PROGRAM,
					   "the diagnostics report failed (try --report FILE)");
		}
		o->report = made;
	}
	report = json_load_file(o->report, 0, &jerr);
	if (report == NULL || !json_is_object(report)) {
		json_decref(report);
		if (made[0] != '\0')
			unlink(made);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: not a diagnostics report: %s", o->report,
				   jerr.text);
	}
	results = json_array();
	skipped = kf_plugin_places_skipped(&o->places);
	if (kf_plugin_places_each(&o->places, report, o->root, collect_item, &found) < 0)
		left = -1;
	else
		detect_all(o, found.items, found.n_items);
	for (k = 0; k < found.n_items; k++) {
		if (left >= 0)
			left += scan_plugin(o, &found.items[k], results);
		kf_plugin_manifest_free(found.items[k].m);
		free(found.items[k].detects);
		free(found.items[k].device);
	}
	free(found.items);
	json_decref(report);
	if (made[0] != '\0')
		unlink(made);
	if (left < 0) {
		json_decref(results);
		json_decref(skipped);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "out of memory");
	}
	if (kf_scan_summary_record(results, o->root, o->fix, NULL) != KF_OK)
		fprintf(stderr, "%s: what this scan found was not recorded\n", KF_AGENTD_PROGRAM);
	if (o->fix) {
		struct kf_error err;

		if (kf_scan_summary_write(results, o->root, NULL, summary, sizeof(summary), &err) <
		    0) {
			fprintf(stderr, "%s: the scan summary was not saved: %s\n",
				KF_AGENTD_PROGRAM, err.message);
			summary[0] = '\0';
		}
	}
	if (o->json) {
		json_t *out = json_object();

		json_object_set_new(out, "root", json_string(o->root));
		json_object_set_new(out, "sandbox",
				    json_string(access(KF_PLUGIN_BWRAP, X_OK) == 0
							? "bubblewrap"
							: "bubblewrap is not installed"));
		json_object_set_new(out, "problems_left", json_integer(left));
		if (summary[0] != '\0')
			json_object_set_new(out, "summary", json_string(summary));
		json_object_set_new(out, "checks", results);
		json_object_set_new(out, "skipped", skipped);
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		json_t *entry;

		json_array_foreach(skipped, i, entry)
			printf("Note: %s\n", json_string_value(json_object_get(entry, "note")));
		printf("%d problem%s left\n", left, left == 1 ? "" : "s");
		if (summary[0] != '\0')
			printf("Summary saved to %s\n", summary);
		json_decref(results);
		json_decref(skipped);
	}
	return left == 0 ? KF_EXIT_OK : KF_EXIT_FAILURE;
}

int kf_agentd_cmd_scan(int argc, char **argv)
{
	struct scan_options o = {.root = "/", .jobs = 4, .profile = kf_profile_default_path()};
	struct kf_profile *profile = NULL;
	struct kf_package_publisher *trusted = NULL;
	char problem[KF_ERROR_MESSAGE_SIZE + 128], installed[PATH_MAX], real_root[PATH_MAX];
	size_t k, named;
	int code;

	if (parse_options(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s scan %s\n", KF_AGENTD_PROGRAM, KF_AGENTD_SCAN_USAGE);
		return KF_EXIT_USAGE;
	}
	/* Steps, summaries and the diagnostics all see the same absolute root. */
	if (realpath(o.root, real_root) == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: no such folder", o.root);
	o.root = real_root;
	/*
	 * By default: the plugins shipped with kefu, then those installed from
	 * packages, which run only while their publisher is trusted and their
	 * files match their signed list. Folders named with --plugins must exist;
	 * the default ones may be absent.
	 */
	named = o.places.n_folders;
	for (k = 0; k < named; k++)
		if (access(o.places.folders[k], R_OK | X_OK) != 0)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: cannot read the plugin folder",
					   o.places.folders[k]);
	if (named == 0) {
		o.places.folders[o.places.n_folders++] = KF_AGENTD_SHIPPED_PLUGINS;
		if (o.places.installed == NULL)
			o.places.installed = kf_agentd_plugins_dir(installed, sizeof(installed));
	}
	if (o.places.installed != NULL)
		o.places.folders[o.places.n_folders++] = o.places.installed;
	/* The profile of now, not the one at installation, says whose plugins run. */
	if (o.places.installed != NULL &&
	    kf_agentd_plugins_trust(o.profile, &profile, &trusted, &o.places.n_trusted, problem,
				    sizeof(problem)) != KF_OK)
		o.places.trust_problem = problem;
	o.places.trusted = trusted;
	code = scan_run(&o);
	free(trusted);
	kf_profile_free(profile);
	return code;
}
