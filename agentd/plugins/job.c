/* kefu-agentd: plugins run for a technician, off the session's loop and stoppable at once.
 * SPDX-License-Identifier: MIT */
#include "agentd/plugins/job.h"
#include "agentd/i18n.h"
#include "agentd/plugins/plugins.h"
#include "agentd/plugins/undo.h"
#include "proto/plugin/step.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct kf_plugin_job {
	uv_work_t work;
	char dir[PATH_MAX];
	char stage[KF_AGENTD_STAGE_SIZE]; /* root's checked copy of an installed plugin, or "" */
	char *root, *report_path, *device;
	struct kf_plugin_manifest *manifest;
	bool is_repair;
	int cancel_pipe[2];
	atomic_bool is_cancelled;
	bool is_detached;
	json_t *result;
	kf_plugin_job_done_fn done;
	void *user;
};

void kf_plugin_places_default(struct kf_plugin_places *places, char *buffer, size_t size)
{
	memset(places, 0, sizeof(*places));
	places->folders[places->n_folders++] = KF_AGENTD_SHIPPED_PLUGINS;
	places->installed = kf_agent_plugins_dir(buffer, size);
	if (places->installed != NULL)
		places->folders[places->n_folders++] = places->installed;
}

int kf_plugin_places_each(const struct kf_plugin_places *places, const json_t *report,
			  const char *root,
			  int (*visit)(const char *dir, const struct kf_plugin_manifest *m,
				       const char *device, void *user),
			  void *user)
{
	json_t *seen = json_object();
	int stop = 0;

	for (size_t f = 0; f < places->n_folders && stop == 0; f++) {
		const char *folder = places->folders[f];
		bool is_installed = places->installed != NULL && folder == places->installed;
		struct dirent **names;
		int n = scandir(folder, &names, NULL, alphasort);

		for (int i = 0; i < n; i++) {
			char dir[PATH_MAX];
			struct kf_plugin_manifest *m;
			struct kf_error err;
			const char *device = NULL;

			if (stop == 0 && names[i]->d_name[0] != '.' &&
			    snprintf(dir, sizeof(dir), "%s/%s", folder, names[i]->d_name) <
				    (int)sizeof(dir) &&
			    (!is_installed ||
			     kf_agent_plugin_is_trusted(dir, places->trusted, places->n_trusted,
							places->trust_problem, NULL, 0)) &&
			    kf_agent_plugin_load(dir, &m, &err) == 0) {
				if (json_object_get(seen, m->id) == NULL &&
				    kf_plugin_manifest_applies(m, report, root, &device))
					stop = visit(dir, m, device, user);
				json_object_set_new(seen, m->id, json_true());
				kf_plugin_manifest_free(m);
			}
			free(names[i]);
		}
		if (n >= 0)
			free(names);
	}
	json_decref(seen);
	return stop;
}

json_t *kf_plugin_places_skipped(const struct kf_plugin_places *places)
{
	json_t *skipped = json_array();
	struct dirent **names;
	int n = places->installed != NULL ? scandir(places->installed, &names, NULL, alphasort)
					  : -1;

	for (int i = 0; i < n; i++) {
		char dir[PATH_MAX], why[KF_ERROR_MESSAGE_SIZE + PATH_MAX];

		if (names[i]->d_name[0] != '.' &&
		    snprintf(dir, sizeof(dir), "%s/%s", places->installed, names[i]->d_name) <
			    (int)sizeof(dir) &&
		    !kf_agent_plugin_is_trusted(dir, places->trusted, places->n_trusted,
						places->trust_problem, why, sizeof(why)))
			json_array_append_new(skipped,
					      json_pack("{s:s, s:s, s:s}", "plugin",
							names[i]->d_name, "dir", dir, "note", why));
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return skipped;
}

static int list_one(const char *dir, const struct kf_plugin_manifest *m, const char *device,
		    void *user)
{
	json_t *checks = json_array();

	(void)dir;
	(void)device;
	for (size_t i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];

		json_array_append_new(checks, json_pack("{s:s, s:s, s:s?, s:b}", "id", c->id,
							"title", c->title, "fix", c->fix,
							"repairable", c->n_repairs > 0));
	}
	json_array_append_new(user, json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "id", m->id,
					      "version", m->version, "title", m->name, "publisher",
					      m->publisher, "checks", checks));
	return 0;
}

json_t *kf_plugin_places_list(const struct kf_plugin_places *places, const json_t *report,
			      const char *root)
{
	json_t *list = json_array();

	kf_plugin_places_each(places, report, root, list_one, list);
	return list;
}

struct find {
	const char *id;
	const struct kf_plugin_places *places;
	struct kf_plugin_job *job;
	struct kf_error err;
};

bool kf_plugin_places_is_installed(const struct kf_plugin_places *places, const char *dir)
{
	size_t len = places->installed != NULL ? strlen(places->installed) : 0;

	return len > 0 && strncmp(dir, places->installed, len) == 0 && dir[len] == '/' &&
	       strchr(dir + len + 1, '/') == NULL;
}

static int find_one(const char *dir, const struct kf_plugin_manifest *m, const char *device,
		    void *user)
{
	struct find *find = user;
	struct kf_plugin_job *job = find->job;
	const struct kf_plugin_places *places = find->places;

	if (strcmp(m->id, find->id) != 0)
		return 0;
	/*
	 * Root runs an installed plugin from a copy of the bytes it checked: the
	 * folder may belong to a user who could otherwise swap a script in between.
	 */
	if (geteuid() == 0 && kf_plugin_places_is_installed(places, dir)) {
		if (kf_agent_plugin_stage(dir, m->id, places->trusted, places->n_trusted,
					  job->stage, sizeof(job->stage), job->dir,
					  sizeof(job->dir), &find->err) != KF_OK)
			return -1;
	} else {
		snprintf(job->dir, sizeof(job->dir), "%s", dir);
	}
	/* The walk's manifest is borrowed: the job loads its own from the folder it runs. */
	if (kf_agent_plugin_load(job->dir, &job->manifest, &find->err) != 0)
		return -1;
	find->job->device = device != NULL ? strdup(device) : NULL;
	return 1;
}

int kf_plugin_step_record(const char *phase, json_t *steps, const struct kf_plugin_step_result *r)
{
	json_t *obj = json_pack("{s:s, s:s, s:b, s:b, s:b}", "step", phase, "outcome",
				kf_plugin_exit_name(r->exit_code), "sandboxed", r->sandboxed,
				"timed_out", r->timed_out, "output_capped", r->output_capped);

	if (r->cancelled)
		json_object_set_new(obj, "stopped", json_true());
	for (size_t i = 0; i < r->n_events; i++)
		if (r->events[i].type == KF_PLUGIN_EVENT_FINDING)
			json_object_set_new(
				obj, "finding",
				json_pack("{s:s, s:s, s:s*}", "severity", r->events[i].severity,
					  "summary", r->events[i].summary, "detail",
					  r->events[i].detail[0] != '\0' ? r->events[i].detail
									 : NULL));
	json_array_append_new(steps, obj);
	return r->exit_code;
}

int kf_plugin_step_run_recorded(struct kf_plugin_step_context *ctx, const char *phase,
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

static int run_step(struct kf_plugin_job *job, struct kf_plugin_step_context *ctx,
		    const char *phase, const struct kf_plugin_step *step, json_t *steps,
		    struct kf_plugin_step_result *r)
{
	int code = kf_plugin_step_run_recorded(ctx, phase, step, steps, r);

	if (r->cancelled)
		atomic_store(&job->is_cancelled, true);
	return code;
}

/* A repair run for a technician is kept for undo like the customer's own (undo.h). */
static void repair_kept(struct kf_plugin_job *job, struct kf_plugin_step_context *ctx,
			const struct kf_plugin_check *c, size_t j, json_t *steps,
			struct kf_plugin_step_result *r, json_t *changes)
{
	struct kf_undo_snapshot *before = NULL;
	char state_dir[PATH_MAX], scan_id[64], record[PATH_MAX * 2];
	struct kf_error err;
	json_t *changed;

	if (kf_undo_snapshot_take(job->root, &c->repairs[j], &before, &err) != KF_OK)
		before = NULL;
	run_step(job, ctx, "repair", &c->repairs[j], steps, r);
	kf_undo_state_dir(state_dir, sizeof(state_dir));
	snprintf(scan_id, sizeof(scan_id), "%ld-session-%d", (long)time(NULL), (int)getpid());
	changed = kf_undo_keep(before, job->root, state_dir, scan_id, job->manifest->id, c->id, j,
			       c->title, record, sizeof(record));
	kf_undo_snapshot_free(before);
	json_array_extend(changes, changed);
	json_decref(changed);
}

const char *kf_plugin_state_words(const char *state)
{
	static const char *const words[][2] = {
		{"healthy", N_("nothing wrong")},
		{"not-applicable", N_("does not apply here")},
		{"check-failed", N_("the check itself failed")},
		{"problem", N_("a problem")},
		{"problem (the fix needs an administrator: sudo kefu-agentd scan --fix)",
		 N_("a problem; the fix needs an administrator: sudo kefu-agentd scan --fix")},
		{"fixed", N_("fixed")},
		{"problem (fix failed)", N_("a problem; the fix did not work")},
		{"stopped", N_("stopped")},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(state, words[i][0]) == 0)
			return _(words[i][1]);
	return state;
}

static const char *check_state(struct kf_plugin_job *job, struct kf_plugin_step_context *ctx,
			       const struct kf_plugin_check *c, json_t *steps,
			       struct kf_plugin_step_result *r, json_t *changes)
{
	int code = run_step(job, ctx, "detect", &c->detect, steps, r);

	if (atomic_load(&job->is_cancelled))
		return "stopped";
	if (code == KF_PLUGIN_EXIT_OK)
		return "healthy";
	if (code == KF_PLUGIN_EXIT_NOT_APPLICABLE)
		return "not-applicable";
	if (code == KF_PLUGIN_EXIT_ERROR)
		return "check-failed";
	if (!job->is_repair || c->n_repairs == 0)
		return "problem";
	if (c->repairs[0].privileges.root && geteuid() != 0)
		return "problem (the fix needs an administrator: sudo kefu-agentd scan --fix)";
	for (size_t j = 0; j < c->n_repairs; j++) {
		repair_kept(job, ctx, c, j, steps, r, changes);
		if (atomic_load(&job->is_cancelled))
			return "stopped";
		if (run_step(job, ctx, "verify", &c->verify, steps, r) == KF_PLUGIN_EXIT_OK)
			return "fixed";
		if (atomic_load(&job->is_cancelled))
			return "stopped";
	}
	return "problem (fix failed)";
}

static void work(uv_work_t *work)
{
	struct kf_plugin_job *job = work->data;
	const struct kf_plugin_manifest *m = job->manifest;
	const int *cancel_fd = &job->cancel_pipe[0];
	struct kf_plugin_step_context ctx = {.plugin_dir = job->dir,
					     .root = job->root,
					     .report = job->report_path,
					     .device = job->device,
					     .sandbox = true,
					     .cancel_fd = cancel_fd};
	struct kf_plugin_step_result *r = malloc(sizeof(*r));
	json_t *checks = json_array();

	for (size_t i = 0; i < m->n_checks && r != NULL; i++) {
		const struct kf_plugin_check *c = &m->checks[i];
		json_t *steps = json_array(), *changes = json_array();
		const char *state = atomic_load(&job->is_cancelled)
					    ? "stopped"
					    : check_state(job, &ctx, c, steps, r, changes);

		json_array_append_new(checks,
				      json_pack("{s:s, s:s, s:s?, s:s, s:o, s:o}", "check", c->id,
						"title", c->title, "fix", c->fix, "state", state,
						"steps", steps, "changes", changes));
	}
	free(r);
	job->result = json_pack("{s:s, s:s?, s:s, s:b, s:o}", "plugin", m->id, "title", m->name,
				"mode", job->is_repair ? "repair" : "detect", "stopped",
				atomic_load(&job->is_cancelled), "checks", checks);
}

static void job_free(struct kf_plugin_job *job)
{
	kf_agent_plugin_unstage(job->stage);
	close(job->cancel_pipe[0]);
	close(job->cancel_pipe[1]);
	kf_plugin_manifest_free(job->manifest);
	json_decref(job->result);
	free(job->root);
	free(job->report_path);
	free(job->device);
	free(job);
}

static void after_work(uv_work_t *work, int status)
{
	struct kf_plugin_job *job = work->data;

	(void)status;
	if (!job->is_detached && job->done != NULL)
		job->done(job, job->result, job->user);
	job_free(job);
}

int kf_plugin_job_start(uv_loop_t *loop, const struct kf_plugin_job_request *request,
			kf_plugin_job_done_fn done, void *user, struct kf_plugin_job **out,
			struct kf_error *err)
{
	struct kf_plugin_job *job = calloc(1, sizeof(*job));
	struct find find = {request->plugin_id, request->places, job, {0}};
	int found;

	*out = NULL;
	if (job == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	job->cancel_pipe[0] = job->cancel_pipe[1] = -1;
	found = kf_plugin_places_each(request->places, request->report, request->root, find_one,
				      &find);
	if (found != 1) {
		job_free(job);
		return kf_error_set(err, KF_ERR_NOT_FOUND, "no plugin '%s' applies to this machine",
				    request->plugin_id);
	}
	job->root = strdup(request->root);
	job->report_path = strdup(request->report_path);
	if (job->root == NULL || job->report_path == NULL ||
	    pipe2(job->cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		job_free(job);
		return kf_error_set(err, KF_ERR_IO, "cannot prepare the plugin's run");
	}
	job->is_repair = request->is_repair;
	job->done = done;
	job->user = user;
	job->work.data = job;
	if (uv_queue_work(loop, &job->work, work, after_work) != 0) {
		job_free(job);
		return kf_error_set(err, KF_ERR_IO, "cannot start the plugin's run");
	}
	*out = job;
	return KF_OK;
}

void kf_plugin_job_cancel(struct kf_plugin_job *job)
{
	static const char stop = 1;

	if (job == NULL || atomic_exchange(&job->is_cancelled, true))
		return;
	/* The step's poll wakes on this byte and kills its process group. */
	if (write(job->cancel_pipe[1], &stop, 1) < 0) {
		/* Full or closed: the step is stopping anyway. */
	}
}

void kf_plugin_job_detach(struct kf_plugin_job *job)
{
	if (job == NULL)
		return;
	job->is_detached = true;
	kf_plugin_job_cancel(job);
}
