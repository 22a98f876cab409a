/* kefu-plugin: `test` runs a plugin's steps against a fixture root and shows the structured
 * results. SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "proto/plugin/manifest.h"
#include "proto/plugin/step.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const event_names[] = {"finding", "progress", "result"};

static json_t *result_json(const char *phase, const struct kf_plugin_step *step,
			   const struct kf_plugin_step_result *r)
{
	json_t *obj = json_object(), *events = json_array();
	size_t i;

	json_object_set_new(obj, "step", json_string(phase));
	json_object_set_new(obj, "run", json_string(step->run));
	json_object_set_new(obj, "exit", json_integer(r->exit_code));
	json_object_set_new(obj, "outcome", json_string(kf_plugin_exit_name(r->exit_code)));
	json_object_set_new(obj, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(obj, "output_capped", json_boolean(r->output_capped));
	json_object_set_new(obj, "sandboxed", json_boolean(r->sandboxed));
	json_object_set_new(obj, "dropped_root", json_boolean(r->dropped_root));
	json_object_set_new(obj, "pids_cgroup", json_boolean(r->pids_cgroup));
	json_object_set_new(obj, "bad_lines", json_integer((json_int_t)r->n_bad_lines));
	if (r->n_bad_lines > 0)
		json_object_set_new(obj, "first_bad_line", json_string(r->first_bad));
	for (i = 0; i < r->n_events; i++) {
		const struct kf_plugin_event *ev = &r->events[i];
		json_t *e = json_object();

		json_object_set_new(e, "type", json_string(event_names[ev->type]));
		if (ev->severity[0] != '\0')
			json_object_set_new(e, "severity", json_string(ev->severity));
		if (ev->status[0] != '\0')
			json_object_set_new(e, "status", json_string(ev->status));
		if (ev->percent >= 0)
			json_object_set_new(e, "percent", json_integer(ev->percent));
		if (ev->summary[0] != '\0')
			json_object_set_new(e, "summary", json_string(ev->summary));
		if (ev->detail[0] != '\0')
			json_object_set_new(e, "detail", json_string(ev->detail));
		json_array_append_new(events, e);
	}
	json_object_set_new(obj, "events", events);
	return obj;
}

static void print_result(const char *check, const char *phase,
			 const struct kf_plugin_step_result *r)
{
	size_t i;

	printf("%s %s: %s%s%s\n", check, phase, kf_plugin_exit_name(r->exit_code),
	       r->timed_out ? " (timed out, process group killed)" : "",
	       r->output_capped ? " (output over the cap, process group killed)" : "");
	for (i = 0; i < r->n_events; i++)
		if (r->events[i].type == KF_PLUGIN_EVENT_FINDING)
			printf("  %s: %s\n", r->events[i].severity, r->events[i].summary);
	if (r->n_bad_lines > 0)
		printf("  %zu output lines outside the protocol; first: %s\n", r->n_bad_lines,
		       r->first_bad);
}

/* Runs one step; appends its JSON to steps or prints it. Returns its exit code. */
static int run_one(struct kf_plugin_step_context *ctx, const char *check, const char *phase,
		   const struct kf_plugin_step *step, json_t *steps, bool json)
{
	struct kf_plugin_step_result *r = malloc(sizeof(*r));
	struct kf_error err;
	int code;

	if (r == NULL)
		return KF_PLUGIN_EXIT_ERROR;
	ctx->phase = phase;
	if (kf_plugin_step_run(ctx, step, r, &err) < 0) {
		fprintf(stderr, "%s: %s %s: %s\n", KF_PLUGIN_PROGRAM, check, phase, err.message);
		free(r);
		return KF_PLUGIN_EXIT_ERROR;
	}
	if (json) {
		json_t *obj = result_json(phase, step, r);

		json_object_set_new(obj, "check", json_string(check));
		json_array_append_new(steps, obj);
	} else {
		print_result(check, phase, r);
	}
	code = r->exit_code;
	free(r);
	return code;
}

int kf_plugin_cmd_test(int argc, char **argv)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'}, {"report", required_argument, NULL, 'R'},
		{"fix", no_argument, NULL, 'f'},        {"json", no_argument, NULL, 'j'},
		{"no-sandbox", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0},
	};
	struct kf_plugin_step_context ctx = {0};
	struct kf_plugin_manifest *m;
	struct kf_error err;
	char root[PATH_MAX];
	bool fix = false, json = false;
	json_t *steps = json_array();
	int opt, problems = 0;
	size_t i, j;

	ctx.root = "/";
	ctx.sandbox = true;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			ctx.root = optarg;
			break;
		case 'R':
			ctx.report = optarg;
			break;
		case 'f':
			fix = true;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			ctx.sandbox = false;
			break;
		default:
			json_decref(steps);
			fprintf(stderr,
				"usage: %s test [--root DIR] [--report FILE] [--fix] [--json] "
				"DIR\n",
				KF_PLUGIN_PROGRAM);
			return KF_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		json_decref(steps);
		fprintf(stderr,
			"usage: %s test [--root DIR] [--report FILE] [--fix] [--json] "
			"[--no-sandbox] DIR\n",
			KF_PLUGIN_PROGRAM);
		return KF_EXIT_USAGE;
	}
	if (realpath(ctx.root, root) == NULL) {
		json_decref(steps);
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: no such folder", ctx.root);
	}
	ctx.root = root; /* shown as the absolute path the steps see */
	if (kf_plugin_manifest_load(argv[optind], &m, &err) < 0) {
		json_decref(steps);
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
	}
	ctx.plugin_dir = argv[optind];
	for (i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];
		int code = run_one(&ctx, c->id, "detect", &c->detect, steps, json);

		if (code != KF_PLUGIN_EXIT_PROBLEM) {
			problems += code == KF_PLUGIN_EXIT_ERROR;
			continue;
		}
		if (!fix) {
			problems++;
			continue;
		}
		for (j = 0; j < c->n_repairs; j++) {
			run_one(&ctx, c->id, "repair", &c->repairs[j], steps, json);
			code = run_one(&ctx, c->id, "verify", &c->verify, steps, json);
			if (code == KF_PLUGIN_EXIT_OK)
				break;
		}
		problems += code != KF_PLUGIN_EXIT_OK;
	}
	if (json) {
		json_t *out = json_object();

		json_object_set_new(out, "plugin", json_string(m->id));
		json_object_set_new(out, "root", json_string(ctx.root));
		json_object_set_new(
			out, "sandbox",
			json_string("process group, limits, timeout, scrubbed environment"));
		json_object_set_new(out, "steps", steps);
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		json_decref(steps);
	}
	kf_plugin_manifest_free(m);
	return problems == 0 ? KF_EXIT_OK : KF_EXIT_FAILURE;
}
