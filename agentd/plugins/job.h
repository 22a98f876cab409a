/* kefu-agentd: plugins run for a technician, off the session's loop and stoppable at once.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_PLUGIN_JOB_H
#define KF_AGENTD_PLUGIN_JOB_H

#include "proto/base/error.h"
#include "proto/package/package.h"
#include "proto/plugin/manifest.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#define KF_PLUGIN_PLACES_MAX 10

/* Where plugins are looked for: folders in order; the first plugin with an id wins. */
struct kf_plugin_places {
	const char *folders[KF_PLUGIN_PLACES_MAX];
	size_t n_folders;
	/*
	 * Folders whose plugins came from packages: used only while their kept
	 * signature verifies with a key of trusted (the support profile's
	 * plugin_publishers as of now) and their files match the signed list.
	 */
	const char *installed;
	const struct kf_package_publisher *trusted;
	size_t n_trusted;
	const char *trust_problem; /* why no publisher is trusted (no profile), or NULL */
};

/* Whether dir is a plugin folder directly inside places->installed. */
bool kf_plugin_places_is_installed(const struct kf_plugin_places *places, const char *dir);

/* The default places: the plugins shipped with kefu, then those installed from packages. */
void kf_plugin_places_default(struct kf_plugin_places *places, char *buffer, size_t size);

/*
 * Calls visit for each plugin in places that applies to report (as `scan` sees
 * them). dir and m are borrowed for the call; device is the matched device or
 * NULL. A non-zero return from visit stops the walk and is returned.
 */
int kf_plugin_places_each(const struct kf_plugin_places *places, const json_t *report,
			  const char *root,
			  int (*visit)(const char *dir, const struct kf_plugin_manifest *m,
				       const char *device, void *user),
			  void *user);

/*
 * The installed plugins that are not run, and why in plain words:
 * [{plugin, dir, note}]; the caller owns the array.
 */
json_t *kf_plugin_places_skipped(const struct kf_plugin_places *places);

/* A list of what applies: [{id, version, title, publisher, checks: [{id, title, fix}]}]. */
json_t *kf_plugin_places_list(const struct kf_plugin_places *places, const json_t *report,
			      const char *root);

struct kf_plugin_step_result;

/* Appends one step's outcome to steps as `scan --json` shows it; returns its exit code. */
int kf_plugin_step_record(const char *phase, json_t *steps, const struct kf_plugin_step_result *r);

/* Runs one step (as phase) and records its outcome in steps; returns its exit code. */
struct kf_plugin_step_context;
struct kf_plugin_step;
int kf_plugin_step_run_recorded(struct kf_plugin_step_context *ctx, const char *phase,
				const struct kf_plugin_step *step, json_t *steps,
				struct kf_plugin_step_result *r);

struct kf_plugin_job;

struct kf_plugin_job_request {
	const struct kf_plugin_places *places;
	const char *plugin_id;
	const char *root;        /* KEFU_ROOT */
	const char *report_path; /* KEFU_REPORT, a file the job may read */
	const json_t *report;    /* the same report, for applies-to */
	bool is_repair;          /* detect, then repair and verify what is broken */
};

/*
 * Called on the loop's thread once the job is over. result (borrowed):
 * {plugin, mode: "detect"|"repair", stopped, checks: [{check, title, fix, state,
 * steps: [...]}]}; states as `scan --json` names them, plus "stopped".
 */
typedef void (*kf_plugin_job_done_fn)(struct kf_plugin_job *job, const json_t *result, void *user);

/* A check's state (as above) in plain words in the customer's language; unknown states as given. */
const char *kf_plugin_state_words(const char *state);

/*
 * Starts the job on libuv's thread pool. The job frees itself after done has
 * returned. Fails when the plugin is unknown or does not apply.
 */
int kf_plugin_job_start(uv_loop_t *loop, const struct kf_plugin_job_request *request,
			kf_plugin_job_done_fn done, void *user, struct kf_plugin_job **out,
			struct kf_error *err);

/*
 * Stops the job: the running step's whole process group is killed at once and
 * no further step starts. done is still called (with "stopped" checks) unless
 * the job was also detached.
 */
void kf_plugin_job_cancel(struct kf_plugin_job *job);

/* Cancels and forgets the caller: done will not be called. */
void kf_plugin_job_detach(struct kf_plugin_job *job);

#endif
