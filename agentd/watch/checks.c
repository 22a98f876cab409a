/* kefu-agentd watch: the detect step of every installed troubleshooter, never a repair.
 * SPDX-License-Identifier: MIT */
#include "agentd/plugins/job.h"
#include "agentd/plugins/plugins.h"
#include "agentd/watch/run.h"
#include "proto/plugin/manifest.h"
#include "proto/plugin/step.h"
#include "proto/session/profile.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct visit {
	struct kf_watch_run *run;
	const char *report;
	size_t ran;
};

static int detect_plugin(const char *dir, const struct kf_plugin_manifest *m, const char *device,
			 void *user)
{
	struct visit *v = user;
	struct kf_plugin_step_context ctx = {.plugin_dir = dir,
					     .root = v->run->root,
					     .report = v->report,
					     .device = device,
					     .phase = "detect",
					     .sandbox = true};
	struct kf_plugin_step_result *r = malloc(sizeof(*r));

	if (r == NULL)
		return KF_ERR_NOMEM;
	for (size_t i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];
		char key[300], rule[320];
		struct kf_error err = {0};
		int code;

		snprintf(key, sizeof(key), "%s/%s", m->id, c->id);
		if (kf_plugin_step_run(&ctx, &c->detect, r, &err) < 0) {
			kf_watch_note(v->run, "the check %s could not run: %s", key, err.message);
			continue;
		}
		code = r->exit_code;
		v->ran++;
		if (code == KF_PLUGIN_EXIT_NOT_APPLICABLE)
			continue;
		if (code == KF_PLUGIN_EXIT_ERROR) {
			kf_watch_note(v->run, "the check %s failed to run to its end", key);
			continue;
		}
		kf_watch_measure(v->run, "check", key, code == KF_PLUGIN_EXIT_OK ? 0 : 1);
		if (code == KF_PLUGIN_EXIT_OK)
			continue;
		snprintf(rule, sizeof(rule), "check:%s", key);
		kf_watch_find(v->run, rule, "problem", 1, c->fix, key, "%s", c->title);
	}
	free(r);
	return 0;
}

void kf_watch_checks(struct kf_watch_run *run)
{
	struct kf_plugin_places places = {0};
	struct kf_profile *profile = NULL;
	struct kf_package_publisher *trusted = NULL;
	char installed[PATH_MAX], problem[KF_ERROR_MESSAGE_SIZE + 128], report_path[64];
	char *folders = NULL;
	struct visit v = {run, report_path, 0};
	json_t *report;
	int fd;

	if (run->plugin_folders != NULL) {
		char *save = NULL, *folder;

		folders = strdup(run->plugin_folders);
		for (folder = folders ? strtok_r(folders, ":", &save) : NULL;
		     folder != NULL && places.n_folders < KF_PLUGIN_PLACES_MAX;
		     folder = strtok_r(NULL, ":", &save))
			places.folders[places.n_folders++] = folder;
	} else {
		kf_plugin_places_default(&places, installed, sizeof(installed));
		/*
		 * Root would have to run installed plugins from checked copies as
		 * `scan` does; the watch that runs as root reads disks only.
		 */
		if (geteuid() == 0 && places.installed != NULL) {
			places.n_folders--;
			places.installed = NULL;
		}
		if (places.installed != NULL &&
		    kf_agent_plugins_trust(kf_profile_default_path(), &profile, &trusted,
					   &places.n_trusted, problem, sizeof(problem)) != KF_OK)
			places.trust_problem = problem;
		places.trusted = trusted;
	}
	snprintf(report_path, sizeof(report_path), "/tmp/kefu-watch-report-XXXXXX");
	fd = mkstemp(report_path);
	if (fd < 0) {
		kf_watch_note(run, "the troubleshooters were not run: no temporary report");
		goto out;
	}
	close(fd);
	if (kf_agent_plugins_report(run->root, report_path) < 0 ||
	    (report = json_load_file(report_path, 0, NULL)) == NULL) {
		kf_watch_note(run, "the troubleshooters were not run: the diagnostics report "
				   "failed");
		unlink(report_path);
		goto out;
	}
	if (kf_plugin_places_each(&places, report, run->root, detect_plugin, &v) != 0)
		kf_watch_note(run, "the troubleshooters stopped early: out of memory");
	json_decref(report);
	unlink(report_path);
	if (v.ran == 0)
		kf_watch_note(run, "no troubleshooter applies to this computer");
out:
	free(folders);
	free(trusted);
	kf_profile_free(profile);
}
