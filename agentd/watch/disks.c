/* kefu-agentd watch: disks' health from smartctl, and the rules that read it.
 * SPDX-License-Identifier: MIT */
#include "agentd/tool.h"
#include "agentd/watch/run.h"
#include "agentd/watch/smart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Growth is looked for over this window of the history. */
#define GROWTH_WINDOW (30 * KF_WATCH_DAY)
/* The root timer's results older than this are not used. */
#define SMART_FILE_AGE (3 * KF_WATCH_DAY)

/* smartctl's exit status bit 1: the device could not be opened (or sleeps, with -n standby). */
#define SMARTCTL_OPEN_FAILED 0x02

static const char *smartctl_program(void)
{
	const char *path = getenv("KEFU_SMARTCTL");

	return path != NULL && path[0] != '\0' ? path : "smartctl";
}

/* The root timer's file: {"time": T, "devices": [smartctl outputs]}. */
static json_t *read_smart_file(struct kf_watch_run *run)
{
	json_error_t jerr;
	json_t *file = json_load_file(run->smart_file, JSON_REJECT_DUPLICATES, &jerr), *devices;
	json_int_t when;

	if (file == NULL)
		return NULL;
	devices = json_object_get(file, "devices");
	when = json_integer_value(json_object_get(file, "time"));
	if (!json_is_array(devices)) {
		kf_watch_note(run, "%s holds no disk results; it is not used", run->smart_file);
		json_decref(file);
		return NULL;
	}
	if (run->now - when > SMART_FILE_AGE) {
		kf_watch_note(run,
			      "the administrator's disk check last ran more than 3 days ago (%s); "
			      "its results are not used",
			      run->smart_file);
		json_decref(file);
		return NULL;
	}
	json_incref(devices);
	json_decref(file);
	return devices;
}

static int run_smartctl(struct kf_watch_run *run, const char *const *argv, struct kf_buf *out,
			struct kf_error *err)
{
	struct kf_tool_result result;

	kf_buf_reset(out);
	return kf_tool_run(argv, run->tool_timeout_ms, KF_WATCH_SMART_CAP, out, &result, err);
}

json_t *kf_watch_smart_collect(struct kf_watch_run *run, bool may_read_file)
{
	const char *program = smartctl_program();
	const char *scan[] = {program, "--scan", "--json", NULL};
	struct kf_watch_disk_name names[KF_WATCH_DISKS_MAX];
	struct kf_buf out = {0};
	struct kf_error err = {0};
	json_t *devices;
	size_t n = 0, i, unopened = 0;
	int r;

	/* Reading disks needs root: a user's run takes the root timer's results when there are. */
	if (may_read_file && geteuid() != 0 && getenv("KEFU_SMARTCTL") == NULL &&
	    run->smart_file != NULL && access(run->smart_file, R_OK) == 0) {
		devices = read_smart_file(run);
		if (devices != NULL)
			return devices;
	}
	r = run_smartctl(run, scan, &out, &err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_watch_note(run, "smartctl (the smartmontools package) is not installed: the "
				   "disks' health was not checked");
		kf_buf_free(&out);
		return json_array();
	}
	if (r == KF_OK)
		r = kf_watch_smart_scan_parse((const char *)out.data, out.len, names,
					      KF_WATCH_DISKS_MAX, &n, &err);
	if (r != KF_OK) {
		kf_watch_note(run, "smartctl --scan: %s: the disks' health was not checked",
			      err.message);
		kf_buf_free(&out);
		return json_array();
	}
	if (n == 0)
		kf_watch_note(run, "smartctl found no disks to check");
	devices = json_array();
	for (i = 0; i < n; i++) {
		const char *argv[] = {program,   "--json", "-i",          "-H",          "-A", "-n",
				      "standby", "-d",     names[i].type, names[i].name, NULL};
		struct kf_watch_disk disk;
		json_t *parsed;

		r = run_smartctl(run, argv, &out, &err);
		if (r == KF_ERR_TIMEOUT) {
			kf_watch_note(run, "smartctl %s took longer than %d ms and was stopped",
				      names[i].name, run->tool_timeout_ms);
			continue;
		}
		if (r != KF_OK ||
		    kf_watch_smart_parse((const char *)out.data, out.len, &disk, &err) != KF_OK) {
			kf_watch_note(run, "smartctl %s: %s", names[i].name, err.message);
			continue;
		}
		if (disk.exit_status >= 0 && (disk.exit_status & SMARTCTL_OPEN_FAILED) &&
		    disk.passed < 0) {
			unopened++;
			continue;
		}
		parsed = json_loadb((const char *)out.data, out.len, 0, NULL);
		if (parsed != NULL)
			json_array_append_new(devices, parsed);
	}
	if (unopened > 0)
		kf_watch_note(run,
			      "%zu disk%s could not be opened by this account (or slept); the "
			      "administrator's disk check reads them: systemctl enable --now "
			      "kefu-watch-smart.timer",
			      unopened, unopened == 1 ? "" : "s");
	kf_buf_free(&out);
	return devices;
}

/* Measures key of disk; false when smartctl did not report it. */
static bool measure(struct kf_watch_run *run, const struct kf_watch_disk *disk, const char *what,
		    long long value)
{
	char key[128];

	if (value == KF_WATCH_UNKNOWN)
		return false;
	snprintf(key, sizeof(key), "%s:%s", disk->name, what);
	kf_watch_measure(run, "smart", key, (double)value);
	return true;
}

/*
 * The oldest value of the window before now when it differs from now's: words
 * "8 → 64 in 10 days", since "10 days". Returns the oldest value, or value
 * itself when there is none.
 */
static long long growth(struct kf_watch_run *run, const struct kf_watch_disk *disk,
			const char *what, long long value, char *words, size_t cap, char *since,
			size_t since_cap)
{
	struct kf_watch_point *points;
	char key[128], span[32];
	size_t n;
	long long oldest = value;

	words[0] = '\0';
	since[0] = '\0';
	snprintf(key, sizeof(key), "%s:%s", disk->name, what);
	if (kf_watch_history(run, "smart", key, run->now - GROWTH_WINDOW, &points, &n) != KF_OK)
		return value;
	if (n > 0 && (long long)points[0].value != value) {
		oldest = (long long)points[0].value;
		kf_watch_span_words(run->now - points[0].time, span, sizeof(span));
		snprintf(words, cap, "%lld → %lld in %s", oldest, value, span);
		snprintf(since, since_cap, "%s", span);
	}
	free(points);
	return oldest;
}

static void disk_rules(struct kf_watch_run *run, const struct kf_watch_disk *d)
{
	static const char backup[] = "Back up your files now, and have the disk checked or "
				     "replaced soon.";
	char rule[128], fp[64], words[96], span[32], label[80];
	long long oldest;

	snprintf(label, sizeof(label), "disk %s", d->name);
	if (d->passed == 0) {
		snprintf(rule, sizeof(rule), "disk-failing:%s", d->name);
		kf_watch_find(run, rule, "failing", 1, backup, NULL,
			      "%s: the disk's own health check says it is failing", label);
	}
	if (d->n_failing > 0) {
		snprintf(rule, sizeof(rule), "disk-attribute:%s", d->name);
		snprintf(fp, sizeof(fp), "%s", d->failing[0]);
		kf_watch_find(run, rule, fp, (double)d->n_failing, backup, NULL,
			      "%s: %s is at or below the maker's failure threshold%s", label,
			      d->failing[0], d->n_failing > 1 ? " (and more attributes)" : "");
	}
	/* Reallocated sectors: a few are common on old disks; their growth is the warning. */
	if (d->reallocated != KF_WATCH_UNKNOWN) {
		oldest = growth(run, d, "reallocated", d->reallocated, words, sizeof(words), span,
				sizeof(span));
		if (d->reallocated > oldest) {
			snprintf(rule, sizeof(rule), "disk-reallocated:%s", d->name);
			snprintf(fp, sizeof(fp), "%lld", d->reallocated);
			kf_watch_find(run, rule, fp, (double)d->reallocated, backup, NULL,
				      "%s: %lld → %lld reallocated sectors in %s (the disk is "
				      "replacing worn-out parts of its surface)",
				      label, oldest, d->reallocated, span);
		}
	}
	if (d->pending > 0) {
		growth(run, d, "pending", d->pending, words, sizeof(words), span, sizeof(span));
		snprintf(rule, sizeof(rule), "disk-pending:%s", d->name);
		snprintf(fp, sizeof(fp), "%lld", d->pending);
		kf_watch_find(run, rule, fp, (double)d->pending, backup, NULL,
			      "%s: %lld sector%s could not be read and wait to be replaced%s%s%s",
			      label, d->pending, d->pending == 1 ? "" : "s", words[0] ? " (" : "",
			      words, words[0] ? ")" : "");
	}
	if (d->offline_uncorrectable > 0) {
		growth(run, d, "offline_uncorrectable", d->offline_uncorrectable, words,
		       sizeof(words), span, sizeof(span));
		snprintf(rule, sizeof(rule), "disk-uncorrectable:%s", d->name);
		snprintf(fp, sizeof(fp), "%lld", d->offline_uncorrectable);
		kf_watch_find(run, rule, fp, (double)d->offline_uncorrectable, backup, NULL,
			      "%s: %lld sector%s could not be read or repaired by the disk's own "
			      "test%s%s%s",
			      label, d->offline_uncorrectable,
			      d->offline_uncorrectable == 1 ? "" : "s", words[0] ? " (" : "", words,
			      words[0] ? ")" : "");
	}
	if (d->media_errors > 0) {
		growth(run, d, "media_errors", d->media_errors, words, sizeof(words), span,
		       sizeof(span));
		snprintf(rule, sizeof(rule), "disk-media-errors:%s", d->name);
		snprintf(fp, sizeof(fp), "%lld", d->media_errors);
		kf_watch_find(run, rule, fp, (double)d->media_errors, backup, NULL,
			      "%s: %lld time%s data could not be read back intact%s%s%s", label,
			      d->media_errors, d->media_errors == 1 ? "" : "s",
			      words[0] ? " (" : "", words, words[0] ? ")" : "");
	}
	if (d->available_spare != KF_WATCH_UNKNOWN &&
	    d->available_spare_threshold != KF_WATCH_UNKNOWN &&
	    d->available_spare < d->available_spare_threshold) {
		snprintf(rule, sizeof(rule), "disk-spare:%s", d->name);
		kf_watch_find(run, rule, "below", 1, backup, NULL,
			      "%s: only %lld%% of its spare capacity is left, below the maker's "
			      "threshold of %lld%%",
			      label, d->available_spare, d->available_spare_threshold);
	}
	if (d->percentage_used >= 100) {
		snprintf(rule, sizeof(rule), "disk-worn:%s", d->name);
		kf_watch_find(run, rule, "worn", 1, backup, NULL,
			      "%s has used %lld%% of the writes it is rated for", label,
			      d->percentage_used);
	}
	/* Critical warning bits 2, 3 and 4; bit 0 is the spare (above), bit 1 temperature. */
	if (d->critical_warning != KF_WATCH_UNKNOWN && (d->critical_warning & 0x1c) != 0) {
		snprintf(rule, sizeof(rule), "disk-critical:%s", d->name);
		snprintf(fp, sizeof(fp), "0x%02llx", d->critical_warning & 0x1c);
		kf_watch_find(run, rule, fp, (double)(d->critical_warning & 0x1c), backup, NULL,
			      "%s reports a critical warning: %s", label,
			      (d->critical_warning & 0x08) ? "it now only lets data be read"
			      : (d->critical_warning & 0x04)
				      ? "its reliability is degraded by media or internal errors"
				      : "its power-loss protection failed");
	}
}

void kf_watch_disks(struct kf_watch_run *run)
{
	json_t *devices = kf_watch_smart_collect(run, true), *device;
	size_t i;

	json_array_foreach(devices, i, device)
	{
		char *text = json_dumps(device, JSON_COMPACT);
		struct kf_watch_disk d;
		struct kf_error err = {0};

		if (text == NULL)
			continue;
		if (kf_watch_smart_parse(text, strlen(text), &d, &err) != KF_OK) {
			kf_watch_note(run, "a disk's results were not read: %s", err.message);
			free(text);
			continue;
		}
		free(text);
		if (d.passed >= 0)
			measure(run, &d, "passed", d.passed);
		measure(run, &d, "reallocated", d.reallocated);
		measure(run, &d, "pending", d.pending);
		measure(run, &d, "offline_uncorrectable", d.offline_uncorrectable);
		measure(run, &d, "media_errors", d.media_errors);
		measure(run, &d, "available_spare", d.available_spare);
		measure(run, &d, "percentage_used", d.percentage_used);
		measure(run, &d, "critical_warning", d.critical_warning);
		disk_rules(run, &d);
	}
	json_decref(devices);
}
