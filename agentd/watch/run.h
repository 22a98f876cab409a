/* kefu-agentd: one run of the watch: its clock, store, findings and notes.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_WATCH_RUN_H
#define KF_AGENTD_WATCH_RUN_H

#include "agentd/watch/store.h"
#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define KF_WATCH_DAY (24 * 60 * 60)

/* A finding of this run, owned by the run. */
struct kf_watch_found {
	char rule[128];
	char fingerprint[128];
	double value;
	char summary[512];
	char advice[512];
	char check[160];
	char device[128]; /* a firmware alert's device, whose update "Fix now" offers to install */
	bool is_new;      /* to be told: it fired now */
};

struct kf_watch_run {
	struct kf_watch_store *store;
	int64_t id;  /* the run's row in the store */
	int64_t now; /* the run's clock: time(), or --now / KEFU_WATCH_NOW in tests */
	const char *root;
	bool is_live; /* root is "/" */
	int tool_timeout_ms;
	const char *smart_file;     /* the root timer's results, read when smartctl may not run */
	const char *plugin_folders; /* ':'-separated --plugins folders, or NULL: the default ones */
	const char *profile;        /* --profile, or NULL: the installed support profile */
	const char *firmware_metadata; /* --metadata, or NULL: the profile's firmware_metadata */
	const char *firmware_devices;  /* --devices, or NULL: kefu's firmware device sockets */
	json_t *measured;              /* {source: [{key, value}...]}: what this run measured */
	json_t *notes;                 /* what was not checked, and why, in plain words */
	struct kf_watch_found *found;
	size_t n_found, size_found;
};

/* Keeps one measurement in the store and in run->measured. */
int kf_watch_measure(struct kf_watch_run *run, const char *source, const char *key, double value);

/* The earlier history of (source, key) from since on (this run's point left out). */
int kf_watch_history(struct kf_watch_run *run, const char *source, const char *key, int64_t since,
		     struct kf_watch_point **points, size_t *count);

/* Adds a finding (formatted summary); check may be NULL. */
void kf_watch_find(struct kf_watch_run *run, const char *rule, const char *fingerprint,
		   double value, const char *advice, const char *check, const char *format, ...)
	__attribute__((format(printf, 7, 8)));

/* A note: something this run could not check. */
void kf_watch_note(struct kf_watch_run *run, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* "10 days", "1 day", "5 hours": a span of seconds in words. */
void kf_watch_span_words(int64_t seconds, char *out, size_t cap);

/* The measurements and their rules, one subject each. */
void kf_watch_disks(struct kf_watch_run *run);
void kf_watch_filesystems(struct kf_watch_run *run);
void kf_watch_batteries(struct kf_watch_run *run);
void kf_watch_kernel(struct kf_watch_run *run);
void kf_watch_updates(struct kf_watch_run *run);
void kf_watch_drivers(struct kf_watch_run *run);
void kf_watch_firmware(struct kf_watch_run *run);
void kf_watch_checks(struct kf_watch_run *run);

/*
 * Runs smartctl on every disk (or reads run->smart_file when this user may not
 * open disks) and returns the outputs as a JSON array of smartctl's own objects
 * (new reference), notes for the rest. The root timer writes this array.
 */
json_t *kf_watch_smart_collect(struct kf_watch_run *run, bool may_read_file);

/*
 * Least-squares line through points: slope (per second) and intercept at time 0.
 * false when fewer than 2 points or all at one time.
 */
bool kf_watch_fit_line(const struct kf_watch_point *points, size_t count, double *slope,
		       double *intercept);

#endif
