/* kefu-agentd: `scan` runs the applicable diagnostic plugins and, with consent, their repairs.
 * SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/plugins/elevate.h"
#include "agentd/plugins/job.h"
#include "agentd/plugins/plugins.h"
#include "agentd/plugins/scan-summary.h"
#include "agentd/plugins/undo.h"
#include "proto/plugin/manifest.h"
#include "proto/base/escape.h"
#include "proto/plugin/step.h"

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
#include <time.h>
#include <unistd.h>

#define SCAN_MAX_JOBS 32

#define SCAN_COMMAND_MAX (4 * PATH_MAX)

struct scan_options {
	const char *root, *report, *profile;
	struct kf_plugin_places places;
	bool fix, yes, json;
	const char *only;    /* --only ID[,ID]: those checks (or plugins) only, else NULL */
	bool undo;           /* --undo [ID] */
	const char *undo_id; /* the check or plugin whose latest fix is undone, or NULL */
	char scan_id[64];    /* names this scan's undo records */
	int jobs;            /* detect steps of this many plugins at once */
	/* Plugins come from the default places only: pkexec's side finds the same ones. */
	bool is_default_places;
	/* The same scan as an administrator would run it, for a fix that needs root. */
	char admin_command[SCAN_COMMAND_MAX];
};

/* One applicable plugin and the results of its checks' detect steps. */
struct scan_item {
	char dir[PATH_MAX];
	char stage[KF_AGENTD_STAGE_SIZE]; /* root's checked copy of an installed plugin, or "" */
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

/*
 * A step that needs root when we are not: asked of an administrator through
 * pkexec, which runs it in this program's plugin-step command. Returns its exit
 * code, or -1 when no administrator ran it (the caller names the command).
 */
static int run_as_root(const struct scan_options *o, const struct scan_item *item,
		       const struct kf_plugin_check *c, const char *phase, size_t index,
		       json_t *steps, struct kf_plugin_step_result *r)
{
	enum kf_elevate_outcome how;
	char name[32];

	if (!o->is_default_places || strcmp(o->root, "/") != 0 || !kf_agent_elevate_available())
		return -1;
	if (strcmp(phase, "verify") == 0)
		snprintf(name, sizeof(name), "verify");
	else
		snprintf(name, sizeof(name), "repair-%zu", index + 1);
	how = kf_agent_elevate_step(item->m->id, c->id, name, r);
	if (how == KF_ELEVATE_NOT_APPROVED)
		fprintf(stderr, "%s: pkexec: no administrator approved \"%s\"\n", KF_AGENTD_PROGRAM,
			c->title);
	else if (how == KF_ELEVATE_FAILED)
		fprintf(stderr, "%s: pkexec: the fix could not run as root\n", KF_AGENTD_PROGRAM);
	if (how != KF_ELEVATE_RAN)
		return -1;
	kf_plugin_step_record(phase, steps, r);
	json_object_set_new(json_array_get(steps, json_array_size(steps) - 1), "as_root",
			    json_string("pkexec"));
	return r->exit_code;
}

/* Runs one repair or verify step: here, or as root through pkexec when it needs root. */
static int run_fix_step(const struct scan_options *o, const struct scan_item *item,
			const struct kf_plugin_check *c, struct kf_plugin_step_context *ctx,
			const char *phase, size_t index, const struct kf_plugin_step *step,
			json_t *steps, struct kf_plugin_step_result *r)
{
	if (step->privileges.root && geteuid() != 0)
		return run_as_root(o, item, c, phase, index, steps, r);
	return kf_plugin_step_run_recorded(ctx, phase, step, steps, r);
}

static bool may_run_as_root(const struct scan_options *o)
{
	return geteuid() == 0 ||
	       (o->is_default_places && strcmp(o->root, "/") == 0 && kf_agent_elevate_available());
}

/*
 * Whether the name (len bytes) names check c of plugin m: the check's id, the plugin's
 * id (all its checks), or "PLUGIN/CHECK" (one check, however other plugins name theirs).
 */
static bool names_check(const char *name, size_t len, const struct kf_plugin_manifest *m,
			const struct kf_plugin_check *c)
{
	size_t plugin = strlen(m->id);

	if ((len == strlen(m->id) && strncmp(name, m->id, len) == 0) ||
	    (c != NULL && len == strlen(c->id) && strncmp(name, c->id, len) == 0))
		return true;
	return c != NULL && len == plugin + 1 + strlen(c->id) &&
	       strncmp(name, m->id, plugin) == 0 && name[plugin] == '/' &&
	       strncmp(name + plugin + 1, c->id, len - plugin - 1) == 0;
}

/* --only names checks by their id (or PLUGIN/CHECK), or a whole plugin by its id. */
static bool is_selected(const struct scan_options *o, const struct kf_plugin_manifest *m,
			const struct kf_plugin_check *c)
{
	if (o->only == NULL)
		return true;
	for (const char *p = o->only; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (names_check(p, n, m, c))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

#define NOT_SELECTED (-1) /* a detect result left out by --only */

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
			if (!is_selected(pool->o, item->m, &item->m->checks[i])) {
				item->detects[i].exit_code = NOT_SELECTED;
				continue;
			}
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
	char needs_admin[SCAN_COMMAND_MAX + 64];
	int left = 0;
	size_t i, j;

	if (r == NULL)
		return 1;
	snprintf(needs_admin, sizeof(needs_admin), "problem (the fix needs an administrator: %s)",
		 o->admin_command);
	for (i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];
		json_t *obj, *steps, *changes = NULL;
		struct kf_undo_snapshot *before = NULL;
		char undo_dir[PATH_MAX * 2] = "", state_dir[PATH_MAX];
		const char *state;
		int code;

		if (item->detects[i].exit_code == NOT_SELECTED)
			continue;
		obj = json_object();
		steps = json_array();
		code = kf_plugin_step_record("detect", steps, &item->detects[i]);

		if (code == KF_PLUGIN_EXIT_OK)
			state = "healthy";
		else if (code == KF_PLUGIN_EXIT_NOT_APPLICABLE)
			state = "not-applicable";
		else if (code == KF_PLUGIN_EXIT_ERROR)
			state = "check-failed";
		else if (!o->fix || c->n_repairs == 0)
			state = "problem";
		else if (c->repairs[0].privileges.root && !may_run_as_root(o))
			state = needs_admin;
		else if (!repair_allowed(o, c))
			state = "problem (fix declined)";
		else {
			state = "problem (fix failed)";
			changes = json_array();
			kf_undo_state_dir(state_dir, sizeof(state_dir));
			for (j = 0; j < c->n_repairs; j++) {
				struct kf_error err;
				json_t *changed;
				int fixed;

				/* What the repair may change is taken first, so it can be put back.
				 */
				if (kf_undo_snapshot_take(o->root, &c->repairs[j], &before, &err) !=
				    KF_OK)
					fprintf(stderr, "%s: %s: the fix cannot be undone: %s\n",
						KF_AGENTD_PROGRAM, c->id, err.message);
				fixed = run_fix_step(o, item, c, &ctx, "repair", j, &c->repairs[j],
						     steps, r);
				changed = kf_undo_keep(before, o->root, state_dir, o->scan_id,
						       m->id, c->id, j, c->title, undo_dir,
						       sizeof(undo_dir));
				kf_undo_snapshot_free(before);
				before = NULL;
				json_array_extend(changes, changed);
				json_decref(changed);
				if (fixed >= 0)
					fixed = run_fix_step(o, item, c, &ctx, "verify", 0,
							     &c->verify, steps, r);
				if (fixed < 0) {
					state = needs_admin;
					break;
				}
				if (fixed == KF_PLUGIN_EXIT_OK) {
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
		if (changes != NULL)
			json_object_set_new(obj, "changes", changes);
		if (undo_dir[0] != '\0')
			json_object_set_new(obj, "undo", json_string(undo_dir));
		json_array_append_new(results, obj);
		if (!o->json && strcmp(state, "healthy") != 0 &&
		    strcmp(state, "not-applicable") != 0)
			printf("%s: %s%s%s\n", state, c->title, c->fix != NULL ? "\n  fix: " : "",
			       c->fix != NULL ? c->fix : "");
		if (!o->json && json_array_size(changes) > 0)
			printf("  changed %zu file%s (undo: %s scan --undo %s)\n",
			       json_array_size(changes), json_array_size(changes) == 1 ? "" : "s",
			       KF_AGENTD_PROGRAM, c->id);
	}
	free(r);
	return left;
}

/* Appends " word" to command, in single quotes unless it is plainly safe for a shell. */
static void append_word(char *command, size_t size, const char *word)
{
	size_t len = strlen(command);
	bool is_plain = word[0] != '\0' && strspn(word, "abcdefghijklmnopqrstuvwxyz"
							"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
							"_-./=:,+@%") == strlen(word);

	if (len + 1 >= size)
		return;
	command[len++] = ' ';
	if (!is_plain && len < size)
		command[len++] = '\'';
	for (; *word != '\0' && len + 5 < size; word++) {
		if (*word == '\'' && !is_plain) {
			memcpy(command + len, "'\\''", 4); /* close, escaped quote, reopen */
			len += 4;
		} else {
			command[len++] = *word;
		}
	}
	if (!is_plain && len + 1 < size)
		command[len++] = '\'';
	command[len] = '\0';
}

/* The exact command an administrator runs for the same scan with its fixes. */
static void make_admin_command(struct scan_options *o, size_t named, bool root_given,
			       bool packages_given, bool profile_given)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	snprintf(o->admin_command, sizeof(o->admin_command), "sudo");
	append_word(o->admin_command, sizeof(o->admin_command), n > 0 ? self : KF_AGENTD_PROGRAM);
	append_word(o->admin_command, sizeof(o->admin_command), "scan");
	if (root_given) {
		append_word(o->admin_command, sizeof(o->admin_command), "--root");
		append_word(o->admin_command, sizeof(o->admin_command), o->root);
	}
	if (o->report != NULL) {
		append_word(o->admin_command, sizeof(o->admin_command), "--report");
		append_word(o->admin_command, sizeof(o->admin_command), o->report);
	}
	for (size_t k = 0; k < named; k++) {
		append_word(o->admin_command, sizeof(o->admin_command), "--plugins");
		append_word(o->admin_command, sizeof(o->admin_command), o->places.folders[k]);
	}
	if (packages_given) {
		append_word(o->admin_command, sizeof(o->admin_command), "--packages");
		append_word(o->admin_command, sizeof(o->admin_command), o->places.installed);
	}
	if (profile_given) {
		append_word(o->admin_command, sizeof(o->admin_command), "--profile");
		append_word(o->admin_command, sizeof(o->admin_command), o->profile);
	}
	append_word(o->admin_command, sizeof(o->admin_command), "--fix");
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
		{"only", required_argument, NULL, 'o'},
		{"undo", no_argument, NULL, 'u'},
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
		else if (opt == 'o')
			o->only = optarg;
		else if (opt == 'u')
			o->undo = true;
		else if (opt == 'J') {
			long jobs = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || jobs < 1 || jobs > SCAN_MAX_JOBS)
				return -1;
			o->jobs = (int)jobs;
		} else
			return -1;
	}
	if (o->undo && optind + 1 == argc)
		o->undo_id = argv[optind++];
	if (o->undo && (o->fix || o->only != NULL))
		return -1;
	if (o->only != NULL && (o->only[0] == '\0' || strstr(o->only, ",,") != NULL ||
				o->only[strlen(o->only) - 1] == ','))
		return -1;
	return optind == argc ? 0 : -1;
}

struct collect {
	const struct scan_options *o;
	struct scan_item *items;
	size_t n_items, size;
};

/* The scan in the customer's audit log: what each check found, and what was fixed. */
static void audit_scan(const struct scan_options *o, const json_t *results, int left)
{
	json_t *checks = json_array(), *check, *fields;
	struct kf_audit *log;
	size_t i;

	if (kf_audit_open(NULL, &log, NULL) != KF_OK) {
		json_decref(checks);
		fprintf(stderr, "%s: the audit log cannot be written\n", KF_AGENTD_PROGRAM);
		return;
	}
	json_array_foreach(results, i, check)
	{
		const char *state = json_string_value(json_object_get(check, "state"));

		if (state != NULL && strcmp(state, "not-applicable") != 0) {
			json_t *entry = json_pack("{s:O, s:O, s:s}", "plugin",
						  json_object_get(check, "plugin"), "check",
						  json_object_get(check, "check"), "state", state);
			json_t *change, *changed = json_array();
			size_t k;

			/* What a fix changed, by path: the journal says it, undo has the rest. */
			json_array_foreach(json_object_get(check, "changes"), k, change)
				json_array_append(changed, json_object_get(change, "path"));
			if (json_array_size(changed) > 0)
				json_object_set(entry, "changed", changed);
			json_decref(changed);
			json_array_append_new(checks, entry);
		}
	}
	fields = json_pack("{s:s, s:s, s:b, s:i, s:o}", "action", "self-service scan", "root",
			   o->root, "fix", o->fix, "problems_left", left, "checks", checks);
	kf_audit_event(log, "self-service-scan", fields, NULL);
	json_decref(fields);
	kf_audit_close(log);
}

/* Keeps each applicable plugin for the detect pool. */
static int collect_item(const char *dir, const struct kf_plugin_manifest *m, const char *device,
			void *user)
{
	struct collect *c = user;
	struct scan_item *item;
	struct kf_error err;

	if (c->n_items == c->size) {
		size_t size = c->size ? 2 * c->size : 8;
		struct scan_item *grown = realloc(c->items, size * sizeof(*grown));

		if (grown == NULL)
			return KF_ERR_NOMEM;
		c->items = grown;
		c->size = size;
	}
	item = &c->items[c->n_items];
	memset(item, 0, sizeof(*item));
	/*
	 * Root runs an installed plugin from a copy of the bytes it checked: the
	 * folder may belong to a user who could otherwise swap a script in between.
	 */
	if (geteuid() == 0 && kf_plugin_places_is_installed(&c->o->places, dir)) {
		if (kf_agent_plugin_stage(dir, m->id, c->o->places.trusted, c->o->places.n_trusted,
					  item->stage, sizeof(item->stage), item->dir,
					  sizeof(item->dir), &err) != KF_OK) {
			fprintf(stderr, "%s: %s is not run: %s\n", KF_AGENTD_PROGRAM, dir,
				err.message);
			return 0;
		}
	} else if (snprintf(item->dir, sizeof(item->dir), "%s", dir) >= (int)sizeof(item->dir)) {
		return 0;
	}
	if (kf_agent_plugin_load(item->dir, &item->m, &err) != 0) {
		kf_agent_plugin_unstage(item->stage);
		return 0;
	}
	item->device = device != NULL ? strdup(device) : NULL;
	item->detects = calloc(item->m->n_checks ? item->m->n_checks : 1, sizeof(*item->detects));
	if (item->detects == NULL) {
		kf_agent_plugin_unstage(item->stage);
		kf_plugin_manifest_free(item->m);
		free(item->device);
		return KF_ERR_NOMEM;
	}
	c->n_items++;
	return 0;
}

/*
 * How many plugins the places hold that this scan may run (installed ones only
 * while trusted), whether they apply or not. None, and none skipped for want of
 * trust (those have their notes), means there is nothing to check with.
 */
static size_t plugins_found(const struct kf_plugin_places *places)
{
	size_t found = 0;

	for (size_t f = 0; f < places->n_folders; f++) {
		bool is_installed =
			places->installed != NULL && places->folders[f] == places->installed;
		struct dirent **names;
		int n = scandir(places->folders[f], &names, NULL, alphasort);

		for (int i = 0; i < n; i++) {
			char dir[PATH_MAX];
			struct kf_plugin_manifest *m;
			struct kf_error err;

			if (names[i]->d_name[0] != '.' &&
			    snprintf(dir, sizeof(dir), "%s/%s", places->folders[f],
				     names[i]->d_name) < (int)sizeof(dir) &&
			    (!is_installed ||
			     kf_agent_plugin_is_trusted(dir, places->trusted, places->n_trusted,
							places->trust_problem, NULL, 0)) &&
			    kf_plugin_manifest_load(dir, &m, &err) == 0) {
				found++;
				kf_plugin_manifest_free(m);
			}
			free(names[i]);
		}
		if (n >= 0)
			free(names);
	}
	return found;
}

/*
 * The first name of --only that no check or plugin in the places has (applicable or
 * not), copied to out; false when every name is known.
 */
static bool find_unknown_only(const struct scan_options *o, char *out, size_t size)
{
	char *list = strdup(o->only), *save = NULL, *id;
	bool unknown = false;

	if (list == NULL)
		return false;
	for (id = strtok_r(list, ",", &save); id != NULL && !unknown;
	     id = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t f = 0; f < o->places.n_folders && !known; f++) {
			struct dirent **names;
			int n = scandir(o->places.folders[f], &names, NULL, alphasort);

			for (int i = 0; i < n; i++) {
				char dir[PATH_MAX];
				struct kf_plugin_manifest *m;
				struct kf_error err;

				if (!known && names[i]->d_name[0] != '.' &&
				    snprintf(dir, sizeof(dir), "%s/%s", o->places.folders[f],
					     names[i]->d_name) < (int)sizeof(dir) &&
				    kf_plugin_manifest_load(dir, &m, &err) == 0) {
					known = names_check(id, strlen(id), m, NULL);
					for (size_t c = 0; c < m->n_checks && !known; c++)
						known = names_check(id, strlen(id), m,
								    &m->checks[c]);
					kf_plugin_manifest_free(m);
				}
				free(names[i]);
			}
			if (n >= 0)
				free(names);
		}
		if (!known) {
			snprintf(out, size, "%s", id);
			unknown = true;
		}
	}
	free(list);
	return unknown;
}

/* "no plugins found in A, B or C": the folders this scan looked in. */
static int fail_without_plugins(const struct scan_options *o)
{
	char folders[KF_PLUGIN_PLACES_MAX * (PATH_MAX + 4)] = "";
	size_t len = 0, i;

	for (i = 0; i < o->places.n_folders && len < sizeof(folders); i++) {
		const char *glue = i == 0 ? "" : i + 1 == o->places.n_folders ? " or " : ", ";
		int n = snprintf(folders + len, sizeof(folders) - len, "%s%s", glue,
				 o->places.folders[i]);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	return kf_cli_fail(KF_AGENTD_PROGRAM, "no plugins found in %s: nothing was checked",
			   folders);
}

/* Everything after the options: the report, the plugins, the summary. Returns the exit code. */
static int scan_run(struct scan_options *o)
{
	json_t *report = NULL, *results, *skipped;
	json_error_t jerr;
	struct collect found = {o, NULL, 0, 0};
	char made[64] = "", summary[PATH_MAX] = "";
	size_t k, i;
	int left = 0;

	if (o->only != NULL) {
		char unknown[256];

		if (find_unknown_only(o, unknown, sizeof(unknown)))
			return kf_cli_fail(KF_AGENTD_PROGRAM,
					   "--only: no check or plugin is named %s",
					   kf_escaped(unknown).text);
	}
	{
		time_t now = time(NULL);
		struct tm utc;
		char stamp[32];

		gmtime_r(&now, &utc);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
		snprintf(o->scan_id, sizeof(o->scan_id), "%s-%d", stamp, (int)getpid());
	}
	if (plugins_found(&o->places) == 0) {
		skipped = kf_plugin_places_skipped(&o->places);
		i = json_array_size(skipped);
		json_decref(skipped);
		if (i == 0)
			return fail_without_plugins(o);
	}
	if (o->report == NULL) {
		int fd;

		snprintf(made, sizeof(made), "/tmp/kefu-scan-report-XXXXXX");
		fd = mkstemp(made);
		if (fd < 0)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "cannot create a temporary report");
		close(fd);
		if (kf_agent_plugins_report(o->root, made) < 0) {
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
		kf_agent_plugin_unstage(found.items[k].stage);
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
	audit_scan(o, results, left);
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
		json_object_set_new(out, "checks_ran",
				    json_integer((json_int_t)json_array_size(results)));
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
		printf("%zu check%s ran, %d problem%s left\n", json_array_size(results),
		       json_array_size(results) == 1 ? "" : "s", left, left == 1 ? "" : "s");
		if (summary[0] != '\0')
			printf("Summary saved to %s\n", summary);
		json_decref(results);
		json_decref(skipped);
	}
	return left == 0 ? KF_EXIT_OK : KF_EXIT_FAILURE;
}

int kf_agent_cmd_scan(int argc, char **argv)
{
	const char *default_profile = kf_profile_default_path();
	struct scan_options o = {.root = "/", .jobs = 4, .profile = default_profile};
	bool root_given, packages_given, profile_given;
	struct kf_profile *profile = NULL;
	struct kf_package_publisher *trusted = NULL;
	char problem[KF_ERROR_MESSAGE_SIZE + 128], installed[PATH_MAX], real_root[PATH_MAX];
	size_t k, named;
	int code;

	if (parse_options(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s scan %s\n", KF_AGENTD_PROGRAM, KF_AGENTD_SCAN_USAGE);
		return KF_EXIT_USAGE;
	}
	root_given = strcmp(o.root, "/") != 0;
	if (o.undo) {
		if (realpath(o.root, real_root) == NULL)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: no such folder", o.root);
		return kf_undo_run(real_root, o.undo_id, o.json);
	}
	packages_given = o.places.installed != NULL;
	profile_given = o.profile != default_profile;
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
			o.places.installed = kf_agent_plugins_dir(installed, sizeof(installed));
	}
	o.is_default_places = named == 0 && !packages_given;
	/* sudo gives root its own home and environment: name this user's places for it. */
	make_admin_command(&o, named, root_given, o.places.installed != NULL,
			   o.places.installed != NULL &&
				   (profile_given || getenv("KEFU_PROFILE") != NULL));
	if (o.places.installed != NULL)
		o.places.folders[o.places.n_folders++] = o.places.installed;
	/* The profile of now, not the one at installation, says whose plugins run. */
	if (o.places.installed != NULL &&
	    kf_agent_plugins_trust(o.profile, &profile, &trusted, &o.places.n_trusted, problem,
				   sizeof(problem)) != KF_OK)
		o.places.trust_problem = problem;
	o.places.trusted = trusted;
	code = scan_run(&o);
	free(trusted);
	kf_profile_free(profile);
	return code;
}
