/* kefu-agentd: the watch's local store of measurements and alerts (SQLite).
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_WATCH_STORE_H
#define KF_AGENTD_WATCH_STORE_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One file, $XDG_STATE_HOME/kefu/watch.sqlite by default (0600), holding:
 *   runs         (id, time, result): one row per `watch` run, result its JSON
 *   measurements (run, source, key, value, time): what each run measured
 *   alerts       (rule, fingerprint, value, first, last, state, summary, ...)
 * Times are seconds since the epoch as the run's clock saw them (a test sets it).
 */
struct kf_watch_store;

/* One measurement of the history of (source, key). */
struct kf_watch_point {
	int64_t time;
	double value;
};

/* What one rule found this run; strings are the caller's. */
struct kf_watch_finding {
	const char *rule;        /* the rule and its subject: "disk-reallocated:sda" */
	const char *fingerprint; /* what the condition is now; a change can fire again */
	double value;            /* a measure of how bad: it fires again only when it grew */
	const char *summary;     /* one line in plain customer words, with the evidence */
	const char *advice;      /* what the customer can do */
	const char *check;       /* the plugin check that repairs it ("PLUGIN/CHECK"), or NULL */
};

/* An alert as stored. */
struct kf_watch_alert {
	char rule[128];
	char fingerprint[128];
	double value;
	int64_t first, last;
	char state[16]; /* "active" or "cleared" */
	char summary[512];
	char advice[512];
	char check[160];
};

/* Opens (creating it and its folders) the store at path. */
int kf_watch_store_open(const char *path, struct kf_watch_store **store, struct kf_error *err);
void kf_watch_store_close(struct kf_watch_store *store);

/* Starts a run at time now; *run receives its id. */
int kf_watch_store_run_begin(struct kf_watch_store *store, int64_t now, int64_t *run,
			     struct kf_error *err);
/* Keeps the run's result (borrowed JSON). */
int kf_watch_store_run_end(struct kf_watch_store *store, int64_t run, const json_t *result,
			   struct kf_error *err);
/* The last run's result (new reference) and time, or NULL when there was none. */
json_t *kf_watch_store_run_last(struct kf_watch_store *store, int64_t *time);

/*
 * Forgets measurements and runs older than before (the trends read at most a
 * year back); alerts stay. *removed counts the measurements forgotten.
 */
int kf_watch_store_prune(struct kf_watch_store *store, int64_t before, size_t *removed,
			 struct kf_error *err);

int kf_watch_store_add(struct kf_watch_store *store, int64_t run, const char *source,
		       const char *key, double value, int64_t time, struct kf_error *err);

/*
 * The history of (source, key) from since on, oldest first, at most max points
 * (the newest ones); the caller frees *points. Points of run exclude_run are
 * left out (the current run's own, when the caller wants only earlier ones; -1: none).
 */
int kf_watch_store_history(struct kf_watch_store *store, const char *source, const char *key,
			   int64_t since, int64_t exclude_run, size_t max,
			   struct kf_watch_point **points, size_t *count, struct kf_error *err);

/*
 * Records finding at time now. *is_new is true when it is to be told to the
 * customer: no alert of its rule is active, or its fingerprint changed and its
 * value grew. Otherwise only its last time moves on.
 */
int kf_watch_store_alert_seen(struct kf_watch_store *store, const struct kf_watch_finding *finding,
			      int64_t now, bool *is_new, struct kf_error *err);
/* Marks active alerts that were not seen at time now as cleared; *cleared counts them. */
int kf_watch_store_alert_clear_unseen(struct kf_watch_store *store, int64_t now, size_t *cleared,
				      struct kf_error *err);
/* Active alerts, newest first; the caller frees *alerts. */
int kf_watch_store_alerts_active(struct kf_watch_store *store, struct kf_watch_alert **alerts,
				 size_t *count, struct kf_error *err);
/* The alert of rule, or KF_ERR_NOT_FOUND. */
int kf_watch_store_alert_get(struct kf_watch_store *store, const char *rule,
			     struct kf_watch_alert *alert, struct kf_error *err);

#endif
