/* kefu-agentd: one run of the watch: its clock, store, findings and notes.
 * SPDX-License-Identifier: MIT */
#include "agentd/watch/run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kf_watch_measure(struct kf_watch_run *run, const char *source, const char *key, double value)
{
	json_t *list = json_object_get(run->measured, source);
	struct kf_error err = {0};
	int r;

	if (list == NULL) {
		list = json_array();
		json_object_set_new(run->measured, source, list);
	}
	json_array_append_new(list, json_pack("{s:s, s:f}", "key", key, "value", value));
	r = kf_watch_store_add(run->store, run->id, source, key, value, run->now, &err);
	if (r != KF_OK)
		kf_watch_note(run, "%s", err.message);
	return r;
}

int kf_watch_history(struct kf_watch_run *run, const char *source, const char *key, int64_t since,
		     struct kf_watch_point **points, size_t *count)
{
	struct kf_error err = {0};
	int r = kf_watch_store_history(run->store, source, key, since, run->id, 1000, points, count,
				       &err);

	if (r != KF_OK)
		kf_watch_note(run, "%s", err.message);
	return r;
}

void kf_watch_find(struct kf_watch_run *run, const char *rule, const char *fingerprint,
		   double value, const char *advice, const char *check, const char *format, ...)
{
	struct kf_watch_found *f;
	va_list args;

	if (run->n_found == run->size_found) {
		size_t size = run->size_found ? 2 * run->size_found : 8;
		struct kf_watch_found *more = realloc(run->found, size * sizeof(*more));

		if (more == NULL)
			return;
		run->found = more;
		run->size_found = size;
	}
	f = &run->found[run->n_found++];
	memset(f, 0, sizeof(*f));
	snprintf(f->rule, sizeof(f->rule), "%s", rule);
	snprintf(f->fingerprint, sizeof(f->fingerprint), "%s", fingerprint);
	f->value = value;
	snprintf(f->advice, sizeof(f->advice), "%s", advice != NULL ? advice : "");
	snprintf(f->check, sizeof(f->check), "%s", check != NULL ? check : "");
	va_start(args, format);
	vsnprintf(f->summary, sizeof(f->summary), format, args);
	va_end(args);
}

void kf_watch_note(struct kf_watch_run *run, const char *format, ...)
{
	char text[1024];
	va_list args;

	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	json_array_append_new(run->notes, json_string(text));
}

void kf_watch_span_words(int64_t seconds, char *out, size_t cap)
{
	int64_t days = (seconds + KF_WATCH_DAY / 2) / KF_WATCH_DAY;
	int64_t hours = (seconds + 1800) / 3600;

	if (seconds >= KF_WATCH_DAY)
		snprintf(out, cap, "%lld day%s", (long long)days, days == 1 ? "" : "s");
	else if (hours >= 1)
		snprintf(out, cap, "%lld hour%s", (long long)hours, hours == 1 ? "" : "s");
	else
		snprintf(out, cap, "less than an hour");
}

bool kf_watch_fit_line(const struct kf_watch_point *points, size_t count, double *slope,
		       double *intercept)
{
	double mean_t = 0, mean_v = 0, stt = 0, stv = 0;
	size_t i;

	if (count < 2)
		return false;
	/* Centred on the first point's time: epoch seconds squared lose precision. */
	for (i = 0; i < count; i++) {
		mean_t += (double)(points[i].time - points[0].time);
		mean_v += points[i].value;
	}
	mean_t /= (double)count;
	mean_v /= (double)count;
	for (i = 0; i < count; i++) {
		double dt = (double)(points[i].time - points[0].time) - mean_t;

		stt += dt * dt;
		stv += dt * (points[i].value - mean_v);
	}
	if (stt <= 0)
		return false;
	*slope = stv / stt;
	*intercept = mean_v - *slope * (mean_t + (double)points[0].time);
	return true;
}
