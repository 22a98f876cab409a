/* kefu-agentd: `watch`, one run of the health measurements and detect-only checks, and its
 * alerts. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/i18n.h"
#include "agentd/tool.h"
#include "agentd/watch/notify.h"
#include "agentd/watch/run.h"
#include "agentd/watch/schedule.h"
#include "proto/base/escape.h"
#include "proto/base/fs.h"
#include "proto/session/profile.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WATCH_SMART_FILE "/var/lib/kefu/smart.json"
#define WATCH_WAIT_S     300
#define WATCH_TIMEOUT_MS 20000
/* Measurements are kept this long: the longest trend (batteries) reads a year back. */
#define WATCH_KEEP (400LL * 24 * 60 * 60)

enum mode { RUN, LAST, ENABLE, DISABLE, STATUS, SMART_ONLY };

struct watch_options {
	enum mode mode;
	const char *root, *state, *output, *smart_file, *fix_command, *help_command, *profile;
	const char *metadata, *devices; /* where firmware updates are looked for */
	const char *firmware_command;   /* --firmware-command: "Fix now" of a firmware alert */
	char plugins[4 * PATH_MAX];
	bool json, notify, checks;
	bool is_all_users; /* --all-users: with --enable or --disable, every account */
	bool has_now;
	int64_t now;
	int wait_s, timeout_ms;
};

static int parse_number(const char *text, long long min, long long max, long long *out)
{
	char *end;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

static int parse_options(int argc, char **argv, struct watch_options *o)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"state", required_argument, NULL, 's'},
		{"now", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"last", no_argument, NULL, 'l'},
		{"enable", no_argument, NULL, 'E'},
		{"disable", no_argument, NULL, 'D'},
		{"status", no_argument, NULL, 'S'},
		{"smart-only", no_argument, NULL, 'm'},
		{"output", required_argument, NULL, 'o'},
		{"smart-file", required_argument, NULL, 'f'},
		{"plugins", required_argument, NULL, 'p'},
		{"no-checks", no_argument, NULL, 'C'},
		{"no-notify", no_argument, NULL, 'N'},
		{"notify-wait", required_argument, NULL, 'w'},
		{"fix-command", required_argument, NULL, 'F'},
		{"help-command", required_argument, NULL, 'H'},
		{"profile", required_argument, NULL, 'P'},
		{"timeout", required_argument, NULL, 't'},
		{"metadata", required_argument, NULL, 'M'},
		{"devices", required_argument, NULL, 'V'},
		{"all-users", no_argument, NULL, 'A'},
		{"firmware-command", required_argument, NULL, 'W'},
		{NULL, 0, NULL, 0},
	};
	int opt, modes = 0;
	long long number;

	optind = 1;
	opterr = 0; /* the usage line says it, once */
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o->root = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'n':
			if (parse_number(optarg, 0, 1LL << 40, &number) < 0)
				return -1;
			o->now = number;
			o->has_now = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
		case 'E':
		case 'D':
		case 'S':
		case 'm':
			o->mode = opt == 'l'   ? LAST
				  : opt == 'E' ? ENABLE
				  : opt == 'D' ? DISABLE
				  : opt == 'S' ? STATUS
					       : SMART_ONLY;
			modes++;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->smart_file = optarg;
			break;
		case 'p': {
			size_t len = strlen(o->plugins);

			if (strchr(optarg, ':') != NULL ||
			    len + strlen(optarg) + 2 > sizeof(o->plugins))
				return -1;
			snprintf(o->plugins + len, sizeof(o->plugins) - len, "%s%s", len ? ":" : "",
				 optarg);
			break;
		}
		case 'C':
			o->checks = false;
			break;
		case 'N':
			o->notify = false;
			break;
		case 'w':
			if (parse_number(optarg, 0, 3600, &number) < 0)
				return -1;
			o->wait_s = (int)number;
			break;
		case 'F':
			o->fix_command = optarg;
			break;
		case 'H':
			o->help_command = optarg;
			break;
		case 'P':
			o->profile = optarg;
			break;
		case 'M':
			o->metadata = optarg;
			break;
		case 'V':
			o->devices = optarg;
			break;
		case 'A':
			o->is_all_users = true;
			break;
		case 'W':
			o->firmware_command = optarg;
			break;
		case 't':
			if (parse_number(optarg, 100, 600000, &number) < 0)
				return -1;
			o->timeout_ms = (int)number;
			break;
		default:
			return -1;
		}
	}
	if (modes > 1 || optind != argc || (o->output != NULL && o->mode != SMART_ONLY) ||
	    (o->is_all_users && o->mode != ENABLE && o->mode != DISABLE))
		return -1;
	return 0;
}

/*
 * The run's clock: --now, else KEFU_WATCH_NOW (seconds since the epoch; the test
 * seam that lets a series of runs span days in a moment), else the real time.
 */
static int64_t clock_now(const struct watch_options *o)
{
	const char *seam = getenv("KEFU_WATCH_NOW");
	long long value;

	if (o->has_now)
		return o->now;
	if (seam != NULL && parse_number(seam, 0, 1LL << 40, &value) == 0)
		return value;
	return (int64_t)time(NULL);
}

/* $XDG_STATE_HOME/kefu, else ~/.local/state/kefu; the store is watch.sqlite in it. */
static int store_path(const struct watch_options *o, char *out, size_t cap)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (o->state != NULL)
		n = snprintf(out, cap, "%s/watch.sqlite", o->state);
	else if (state != NULL && state[0] == '/')
		n = snprintf(out, cap, "%s/kefu/watch.sqlite", state);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, cap, "%s/.local/state/kefu/watch.sqlite", home);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static void time_words(int64_t when, char *out, size_t cap)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, cap, "%lld", (long long)when);
}

/* The support page the profile names ("support_url"), for "Get help". */
static char *support_command(const struct watch_options *o)
{
	const char *path = o->profile != NULL ? o->profile : kf_profile_default_path();
	json_t *profile = path != NULL ? json_load_file(path, 0, NULL) : NULL;
	const char *url = json_string_value(json_object_get(profile, "support_url"));
	char *command = NULL;

	if (url != NULL && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)) {
		gchar *quoted = g_shell_quote(url);

		command = g_strdup_printf("xdg-open %s", quoted);
		g_free(quoted);
	}
	json_decref(profile);
	return command;
}

static void audit_event(const char *event, json_t *fields)
{
	struct kf_audit *log;

	if (kf_audit_open(NULL, &log, NULL) != KF_OK) {
		fprintf(stderr, "%s: the audit log cannot be written\n", KF_AGENTD_PROGRAM);
		return;
	}
	kf_audit_event(log, event, fields, NULL);
	kf_audit_close(log);
}

static json_t *found_json(const struct kf_watch_found *f)
{
	json_t *item = json_pack("{s:s, s:s, s:s, s:b}", "rule", f->rule, "summary", f->summary,
				 "advice", f->advice, "new", f->is_new);

	if (f->check[0] != '\0')
		json_object_set_new(item, "check", json_string(f->check));
	if (f->device[0] != '\0')
		json_object_set_new(item, "device", json_string(f->device));
	return item;
}

static void print_run(const struct kf_watch_run *run, size_t cleared)
{
	size_t i, n_new = 0;
	json_t *note;

	for (i = 0; i < run->n_found; i++) {
		const struct kf_watch_found *f = &run->found[i];

		n_new += f->is_new;
		kf_terminal_print(stdout, "%s %s", f->is_new ? "NEW:  " : "still:", f->summary);
		if (f->advice[0] != '\0')
			kf_terminal_print(stdout, "        %s", f->advice);
	}
	json_array_foreach(run->notes, i, note)
		kf_terminal_print(stdout, "Note: %s", json_string_value(note));
	printf("%zu new alert%s, %zu still active, %zu cleared\n", n_new, n_new == 1 ? "" : "s",
	       run->n_found - n_new, cleared);
}

/* One run: measure, judge, keep, tell. */
static int watch_run(const struct watch_options *o, const char *path)
{
	struct kf_watch_run run = {.root = o->root,
				   .is_live = strcmp(o->root, "/") == 0,
				   .tool_timeout_ms = o->timeout_ms,
				   .smart_file = o->smart_file,
				   .plugin_folders = o->plugins[0] ? o->plugins : NULL,
				   .profile = o->profile,
				   .firmware_metadata = o->metadata,
				   .firmware_devices = o->devices};
	struct kf_watch_notify_options notify = {.wait_ms = o->wait_s * 1000};
	struct kf_error err = {0};
	json_t *result, *alerts, *answers = NULL;
	char *fix = NULL, *firmware = NULL, *help = NULL, helper[PATH_MAX];
	size_t i, cleared = 0, n_new = 0;

	run.now = clock_now(o);
	if (kf_watch_store_open(path, &run.store, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (kf_watch_store_run_begin(run.store, run.now, &run.id, &err) != KF_OK) {
		kf_watch_store_close(run.store);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	run.measured = json_object();
	run.notes = json_array();
	{
		size_t forgotten;

		if (kf_watch_store_prune(run.store, run.now - WATCH_KEEP, &forgotten, &err) !=
		    KF_OK)
			kf_watch_note(&run, "%s", err.message);
	}
	kf_watch_disks(&run);
	kf_watch_filesystems(&run);
	kf_watch_batteries(&run);
	kf_watch_kernel(&run);
	kf_watch_updates(&run);
	kf_watch_drivers(&run);
	kf_watch_firmware(&run);
	if (o->checks)
		kf_watch_checks(&run);
	alerts = json_array();
	for (i = 0; i < run.n_found; i++) {
		struct kf_watch_found *f = &run.found[i];
		struct kf_watch_finding finding = {f->rule,   f->fingerprint,
						   f->value,  f->summary,
						   f->advice, f->check[0] ? f->check : NULL};

		if (kf_watch_store_alert_seen(run.store, &finding, run.now, &f->is_new, &err) !=
		    KF_OK)
			kf_watch_note(&run, "%s", err.message);
		n_new += f->is_new;
		if (f->is_new) {
			json_t *fields = found_json(f);

			json_object_del(fields, "new");
			audit_event("watch-alert", fields);
			json_decref(fields);
		}
		json_array_append_new(alerts, found_json(f));
	}
	if (kf_watch_store_alert_clear_unseen(run.store, run.now, &cleared, &err) != KF_OK)
		kf_watch_note(&run, "%s", err.message);
	if (o->notify && n_new > 0) {
		bool has_helper = kf_tool_find("kefu-helper", helper, sizeof(helper));
		gchar *quoted = has_helper ? g_shell_quote(helper) : NULL;

		if (o->fix_command != NULL)
			notify.fix_command = o->fix_command;
		else if (has_helper) {
			fix = g_strdup_printf("%s --fix", quoted);
			notify.fix_command = fix;
		}
		if (o->firmware_command != NULL)
			notify.firmware_command = o->firmware_command;
		else if (has_helper) {
			firmware = g_strdup_printf("%s --firmware", quoted);
			notify.firmware_command = firmware;
		}
		g_free(quoted);
		help = o->help_command != NULL ? NULL : support_command(o);
		notify.help_command = o->help_command != NULL ? o->help_command : help;
		answers = kf_watch_notify(&run, &notify);
	}
	result = json_pack("{s:I, s:s, s:o, s:o, s:O, s:I}", "time", (json_int_t)run.now, "root",
			   o->root, "measured", run.measured, "alerts", alerts, "notes", run.notes,
			   "cleared", (json_int_t)cleared);
	if (answers != NULL)
		json_object_set_new(result, "notifications", answers);
	if (kf_watch_store_run_end(run.store, run.id, result, &err) != KF_OK)
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
	{
		char summary[160];
		json_t *fields;

		snprintf(summary, sizeof(summary),
			 "daily check: %zu new alert%s, %zu still active, %zu cleared", n_new,
			 n_new == 1 ? "" : "s", run.n_found - n_new, cleared);
		fields = json_pack("{s:s, s:s, s:i, s:i, s:i, s:O}", "summary", summary, "root",
				   o->root, "new", (int)n_new, "active", (int)run.n_found,
				   "cleared", (int)cleared, "notes", run.notes);
		if (answers != NULL)
			json_object_set(fields, "notifications", answers);
		audit_event("watch-run", fields);
		json_decref(fields);
	}
	if (o->json) {
		json_dumpf(result, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_run(&run, cleared);
	}
	json_decref(result);
	json_decref(run.notes);
	free(run.found);
	g_free(fix);
	g_free(firmware);
	g_free(help);
	kf_watch_store_close(run.store);
	return KF_EXIT_OK;
}

/* `watch --last`: the last run and the alerts still active. */
static int watch_last(const struct watch_options *o, const char *path)
{
	struct kf_watch_store *store;
	struct kf_watch_alert *alerts;
	struct kf_error err = {0};
	char when[40], since[40];
	json_t *last, *notes, *note;
	int64_t time_of_last = 0;
	size_t n, i;

	if (access(path, F_OK) != 0) {
		if (o->json)
			printf("{\"last\": null, \"alerts\": []}\n");
		else
			printf("kefu has not checked this computer yet: kefu-agentd watch\n");
		return KF_EXIT_OK;
	}
	if (kf_watch_store_open(path, &store, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (kf_watch_store_alerts_active(store, &alerts, &n, &err) != KF_OK) {
		kf_watch_store_close(store);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	last = kf_watch_store_run_last(store, &time_of_last);
	if (o->json) {
		json_t *out = json_object(), *list = json_array();

		for (i = 0; i < n; i++) {
			json_t *a = json_pack(
				"{s:s, s:s, s:s, s:I, s:I}", "rule", alerts[i].rule, "summary",
				alerts[i].summary, "advice", alerts[i].advice, "first",
				(json_int_t)alerts[i].first, "last", (json_int_t)alerts[i].last);

			if (alerts[i].check[0] != '\0')
				json_object_set_new(a, "check", json_string(alerts[i].check));
			json_array_append_new(list, a);
		}
		json_object_set_new(out, "last", last != NULL ? last : json_null());
		json_object_set_new(out, "alerts", list);
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		time_words(time_of_last, when, sizeof(when));
		if (last != NULL)
			printf("Last check: %s\n", when);
		if (n == 0)
			printf("Nothing needs your attention.\n");
		for (i = 0; i < n; i++) {
			time_words(alerts[i].first, since, sizeof(since));
			kf_terminal_print(stdout, "- %s (since %s)", alerts[i].summary, since);
			if (alerts[i].advice[0] != '\0')
				kf_terminal_print(stdout, "  %s", alerts[i].advice);
			if (alerts[i].check[0] != '\0')
				kf_terminal_print(stdout,
						  "  To fix it: kefu-agentd scan --fix (check %s)",
						  alerts[i].check);
		}
		notes = json_object_get(last, "notes");
		json_array_foreach(notes, i, note)
			kf_terminal_print(stdout, "Note: %s", json_string_value(note));
		json_decref(last);
	}
	free(alerts);
	kf_watch_store_close(store);
	return KF_EXIT_OK;
}

/* `watch --smart-only --output FILE`: the root timer's disk results for users to read. */
static int watch_smart_only(const struct watch_options *o)
{
	struct kf_watch_run run = {.root = o->root,
				   .is_live = strcmp(o->root, "/") == 0,
				   .tool_timeout_ms = o->timeout_ms};
	struct kf_fs_file file;
	json_t *devices, *out, *note;
	char *text, folder[PATH_MAX], *slash;
	size_t i, n_devices;
	int r;

	if (o->output == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "--smart-only needs --output FILE");
	run.now = clock_now(o);
	run.notes = json_array();
	devices = kf_watch_smart_collect(&run, false);
	n_devices = json_array_size(devices);
	out = json_pack("{s:I, s:o, s:O}", "time", (json_int_t)run.now, "devices", devices, "notes",
			run.notes);
	text = json_dumps(out, JSON_INDENT(1));
	json_decref(out);
	/* Users' runs read the file: its folder and it are readable by all, written by root. */
	snprintf(folder, sizeof(folder), "%s", o->output);
	slash = strrchr(folder, '/');
	if (slash != NULL && slash != folder) {
		*slash = '\0';
		for (char *c = folder + 1; *c != '\0'; c++) {
			if (*c != '/')
				continue;
			*c = '\0';
			mkdir(folder, 0755);
			*c = '/';
		}
		mkdir(folder, 0755);
	}
	r = text == NULL ? -1 : kf_fs_create(o->output, 0644, &file);
	if (r == 0 && (write(file.fd, text, strlen(text)) != (ssize_t)strlen(text) ||
		       fchmod(file.fd, 0644) != 0)) {
		kf_fs_discard(&file);
		r = -1;
	}
	if (r == 0)
		r = kf_fs_publish(&file, o->output, 1);
	free(text);
	if (r != 0) {
		json_decref(run.notes);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: cannot be written: %s",
				   kf_escaped(o->output).text, strerror(errno));
	}
	json_array_foreach(run.notes, i, note)
		kf_terminal_print(stdout, "Note: %s", json_string_value(note));
	kf_terminal_print(stdout, "%zu disk%s checked; results in %s", n_devices,
			  n_devices == 1 ? "" : "s", o->output);
	json_decref(run.notes);
	return KF_EXIT_OK;
}

int kf_agent_cmd_watch(int argc, char **argv)
{
	struct watch_options o = {.mode = RUN,
				  .root = "/",
				  .smart_file = WATCH_SMART_FILE,
				  .notify = true,
				  .checks = true,
				  .wait_s = WATCH_WAIT_S,
				  .timeout_ms = WATCH_TIMEOUT_MS};
	char real_root[PATH_MAX], path[PATH_MAX];
	struct kf_watch_schedule schedule;

	kf_i18n_init();
	if (parse_options(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s watch %s\n", KF_AGENTD_PROGRAM, KF_AGENTD_WATCH_USAGE);
		return KF_EXIT_USAGE;
	}
	schedule = (struct kf_watch_schedule){.is_all_users = o.is_all_users, .root = o.root};
	if (o.mode == ENABLE)
		return kf_watch_schedule_enable(&schedule);
	if (o.mode == DISABLE)
		return kf_watch_schedule_disable(&schedule);
	if (o.mode == STATUS)
		return kf_watch_schedule_status(&schedule);
	if (realpath(o.root, real_root) == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: no such folder",
				   kf_escaped(o.root).text);
	o.root = real_root;
	if (o.mode == SMART_ONLY)
		return watch_smart_only(&o);
	if (store_path(&o, path, sizeof(path)) < 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "no place for the watch's store: set XDG_STATE_HOME or HOME, "
				   "or give --state DIR");
	if (o.mode == LAST)
		return watch_last(&o, path);
	return watch_run(&o, path);
}
