/* kefu-agentd: the support journal and its digest, read from the audit log. SPDX-License-Identifier: MIT */
#include "agentd/journal/journal.h"
#include "agentd/audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The journal is not a second log: every wing already writes what it does to the
 * audit log, so the journal is computed from it each time and can never disagree
 * with it. Private fields (their names start with '_') carry what the digest needs
 * and are removed from the journal that is shown or shared.
 */

#define MAX_LINES 100000

const char *kf_journal_shared_dir(char *buffer, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(buffer, size, "%s/kefu/shared", state);
	else
		snprintf(buffer, size, "%s/.local/state/kefu/shared", home ? home : "/tmp");
	return buffer;
}

static const char *text_of(json_t *object, const char *name)
{
	const char *value = json_string_value(json_object_get(object, name));

	return value != NULL ? value : "";
}

static time_t parse_time(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return timegm(&tm);
}

/* "a; b; c" of an array of strings, at most a few hundred bytes. */
static void join_strings(json_t *array, const char *separator, char *out, size_t size)
{
	size_t i, used = 0;
	json_t *item;

	out[0] = '\0';
	json_array_foreach(array, i, item)
	{
		if (!json_is_string(item) || used + 4 >= size)
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s", used ? separator : "",
					 json_string_value(item));
		if (used >= size)
			used = size - 1;
	}
}

static json_t *new_entry(json_t *line, const char *event, const char *summary)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "time", text_of(line, "time"), "event", event,
			 "summary", summary, "_t", (json_int_t)parse_time(text_of(line, "time")));
}

/* Appends the session that started in start (and ended with outcome). */
static void add_session(json_t *entries, json_t *start, json_t *facts, const char *outcome)
{
	json_t *technician = json_object_get(start, "technician"), *entry;
	char found[600] = "", done[600] = "", summary[2048];
	const char *advice = text_of(facts, "advice");

	join_strings(json_object_get(facts, "findings"), "; ", found, sizeof(found));
	join_strings(json_object_get(facts, "actions"), "; ", done, sizeof(done));
	snprintf(summary, sizeof(summary), "Session with %s (%s)%s%s%s%s%s%s%s",
		 text_of(technician, "name"), text_of(technician, "organisation"),
		 found[0] ? ": found " : "", found, done[0] ? "; done: " : "", done,
		 advice[0] ? "; advice: " : "", advice,
		 strcmp(outcome, "ended") == 0 ? ""
		 : outcome[0]                  ? " (the session was cut off)"
					       : "");
	entry = new_entry(start, "session", summary);
	json_object_set_new(entry, "session", json_string(text_of(start, "session")));
	json_object_set_new(entry, "_technician", json_string(text_of(technician, "name")));
	json_object_set_new(entry, "_organisation",
			    json_string(text_of(technician, "organisation")));
	json_object_set_new(entry, "_found", json_string(found));
	json_object_set_new(entry, "_done", json_string(done));
	json_object_set_new(entry, "_advice", json_string(advice));
	json_array_append_new(entries, entry);
}

static void add_scan(json_t *entries, json_t *line)
{
	json_t *checks = json_object_get(line, "checks"), *check, *problems = json_array(), *entry;
	char words[1200] = "", summary[1400];
	size_t i, used = 0;

	json_array_foreach(checks, i, check)
	{
		const char *state = text_of(check, "state");

		if (strcmp(state, "healthy") == 0 || state[0] == '\0')
			continue;
		json_array_append_new(problems, json_string(text_of(check, "plugin")));
		if (used + 4 < sizeof(words)) {
			used += (size_t)snprintf(words + used, sizeof(words) - used, "%s%s: %s",
						 used ? ", " : "", text_of(check, "plugin"), state);
			if (used >= sizeof(words))
				used = sizeof(words) - 1;
		}
	}
	snprintf(summary, sizeof(summary), "Self-service scan%s: %s",
		 json_is_true(json_object_get(line, "fix")) ? " with repairs" : "",
		 words[0] ? words : "nothing wrong found");
	entry = new_entry(line, "self-service-scan", summary);
	json_object_set_new(entry, "_problems", problems);
	json_array_append_new(entries, entry);
}

/* The events of the other wings: their own summary when they wrote one. */
static void add_change(json_t *entries, json_t *line, const char *event)
{
	const char *summary = text_of(line, "summary");
	char words[600];

	if (summary[0] == '\0') {
		if (strncmp(event, "firmware-", 9) == 0)
			snprintf(words, sizeof(words), "Firmware %s%s%s", event + 9,
				 text_of(line, "device")[0] ? ": " : "", text_of(line, "device"));
		else if (strcmp(event, "scan-undo") == 0)
			snprintf(words, sizeof(words), "A self-service repair was undone");
		else if (strncmp(event, "drivers-", 8) == 0) {
			char packages[400];

			join_strings(json_object_get(line, "packages"), ", ", packages,
				     sizeof(packages));
			snprintf(words, sizeof(words), "Driver packages %s%s%s",
				 strcmp(event, "drivers-upgrade") == 0 ? "upgraded" : "installed",
				 packages[0] ? ": " : "", packages);
		} else
			snprintf(words, sizeof(words), "A watch check raised an alert");
		summary = words;
	}
	json_array_append_new(entries, new_entry(line, event, summary));
}

static int is_change(const char *event)
{
	return strcmp(event, "scan-undo") == 0 || strncmp(event, "firmware-", 9) == 0 ||
	       strcmp(event, "drivers-install") == 0 || strcmp(event, "drivers-upgrade") == 0 ||
	       strcmp(event, "watch-alert") == 0;
}

/* Every entry, with the private fields. */
static json_t *read_entries(const char *text, size_t length, const char *exclude)
{
	json_t *entries = json_array(), *start = NULL, *facts = NULL;
	size_t offset = 0;

	for (int count = 0; offset < length && count < MAX_LINES; count++) {
		const char *newline = memchr(text + offset, '\n', length - offset);
		size_t line_length =
			newline ? (size_t)(newline - (text + offset)) : length - offset;
		json_t *line = json_loadb(text + offset, line_length, 0, NULL);
		const char *event = text_of(line, "event");

		offset += line_length + 1;
		if (!json_is_object(line)) {
			json_decref(line);
			continue;
		}
		if (exclude != NULL && strcmp(text_of(line, "session"), exclude) == 0) {
			/* The session asking is not its own earlier contact. */
		} else if (strcmp(event, "session-start") == 0) {
			if (start != NULL)
				add_session(entries, start, facts, "interrupted");
			json_decref(start);
			json_decref(facts);
			start = json_incref(line);
			facts = NULL;
		} else if (strcmp(event, "session-summary") == 0 && start != NULL) {
			json_decref(facts);
			facts = json_incref(line);
		} else if (strcmp(event, "session-end") == 0 && start != NULL) {
			add_session(entries, start, facts, text_of(line, "outcome"));
			json_decref(start);
			json_decref(facts);
			start = facts = NULL;
		} else if (strcmp(event, "self-service-scan") == 0) {
			add_scan(entries, line);
		} else if (is_change(event)) {
			add_change(entries, line, event);
		}
		json_decref(line);
	}
	if (start != NULL)
		add_session(entries, start, facts, "interrupted");
	json_decref(start);
	json_decref(facts);
	return entries;
}

json_t *kf_journal_from_audit(const char *text, size_t length, const char *exclude_session)
{
	json_t *entries = read_entries(text, length, exclude_session), *entry;
	size_t i;

	json_array_foreach(entries, i, entry)
	{
		const char *key;
		void *tmp;
		json_t *value;

		json_object_foreach_safe(entry, tmp, key, value)
		{
			if (key[0] == '_')
				json_object_del(entry, key);
		}
	}
	return entries;
}

static const char *times_word(int n, char *buffer, size_t size)
{
	if (n == 1)
		return "once";
	if (n == 2)
		return "twice";
	snprintf(buffer, size, "%d times", n);
	return buffer;
}

static void append(char **out, size_t *used, size_t *size, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char **out, size_t *used, size_t *size, const char *format, ...)
{
	va_list args;
	int n;

	va_start(args, format);
	n = vsnprintf(*out + *used, *size - *used, format, args);
	va_end(args);
	if (n > 0)
		*used += (size_t)n < *size - *used ? (size_t)n : *size - *used - 1;
}

char *kf_journal_digest(const char *text, size_t length, time_t now, const char *exclude_session)
{
	json_t *entries = read_entries(text, length, exclude_session), *entry, *last = NULL,
	       *counts = json_object();
	size_t i, used = 0, size = 4096, last_index = 0;
	int scans = 0, changes = 0, alerts = 0, most = 0;
	const char *worst = NULL;
	char *out = malloc(size), when[48], word[24];

	if (out == NULL) {
		json_decref(entries);
		json_decref(counts);
		return NULL;
	}
	out[0] = '\0';
	json_array_foreach(entries, i, entry)
	{
		if (strcmp(text_of(entry, "event"), "session") == 0) {
			last = entry;
			last_index = i;
		}
	}
	if (last != NULL) {
		time_t then = (time_t)json_integer_value(json_object_get(last, "_t"));
		long days = then > 0 && now > then ? (long)((now - then) / 86400) : 0;
		const char *found = text_of(last, "_found"), *done = text_of(last, "_done"),
			   *advice = text_of(last, "_advice");

		if (days == 0)
			snprintf(when, sizeof(when), "today");
		else
			snprintf(when, sizeof(when), "%ld day%s ago", days, days == 1 ? "" : "s");
		append(&out, &used, &size, "Last contact %s with %s (%s): %s%s%s%s%s.", when,
		       text_of(last, "_technician"), text_of(last, "_organisation"),
		       found[0] ? found : "nothing found", done[0] ? "; done: " : "", done,
		       advice[0] ? "; advice: " : "", advice);
	} else {
		append(&out, &used, &size, "No earlier session with the support team.");
	}
	json_array_foreach(entries, i, entry)
	{
		const char *event = text_of(entry, "event");
		json_t *problem;
		size_t j;

		if (last != NULL && i <= last_index)
			continue;
		if (strcmp(event, "self-service-scan") == 0) {
			scans++;
			json_array_foreach(json_object_get(entry, "_problems"), j, problem)
			{
				const char *name = json_string_value(problem);
				int n = (int)json_integer_value(json_object_get(counts, name)) + 1;

				json_object_set_new(counts, name, json_integer(n));
				if (n > most) {
					most = n;
					worst = name;
				}
			}
		} else if (strcmp(event, "watch-alert") == 0) {
			alerts++;
		} else if (strcmp(event, "session") != 0) {
			changes++;
		}
	}
	if (scans + changes + alerts == 0) {
		append(&out, &used, &size,
		       last ? " Nothing since then." : " Nothing in the journal.");
	} else {
		append(&out, &used, &size, last ? " Since then:" : " In the journal:");
		if (scans > 0)
			append(&out, &used, &size, " %d self-service scan%s", scans,
			       scans == 1 ? "" : "s");
		if (most >= 2)
			append(&out, &used, &size, ", the same problem came back %s (%s)",
			       times_word(most, word, sizeof(word)), worst);
		else if (most == 1)
			append(&out, &used, &size, ", a problem was found once (%s)", worst);
		if (changes > 0)
			append(&out, &used, &size,
			       "%s%d change%s (firmware, drivers, undone repairs)",
			       scans ? ", " : " ", changes, changes == 1 ? "" : "s");
		if (alerts > 0)
			append(&out, &used, &size, "%s%d watch alert%s",
			       scans + changes ? ", " : " ", alerts, alerts == 1 ? "" : "s");
		append(&out, &used, &size, ".");
	}
	json_decref(entries);
	json_decref(counts);
	return out;
}

int kf_journal_load(const char *path, char **text, size_t *length, struct kf_error *err)
{
	char default_path[4096];
	FILE *file;
	char *buffer;
	size_t used = 0, size = 64 * 1024 * 1024;

	if (path == NULL)
		path = kf_audit_default_path(default_path, sizeof(default_path));
	*text = NULL;
	*length = 0;
	if ((file = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			return kf_error_set(err, KF_ERR_IO, "cannot read %s: %s", path,
					    strerror(errno));
		*text = strdup("");
		return *text ? KF_OK : kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	if ((buffer = malloc(size + 1)) == NULL) {
		fclose(file);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	used = fread(buffer, 1, size, file);
	fclose(file);
	buffer[used] = '\0';
	*text = buffer;
	*length = used;
	return KF_OK;
}

json_t *kf_journal_share_body(const char *audit_path, time_t now, const char *exclude_session,
			      struct kf_error *err)
{
	char id[KF_SUPPORT_ID_SIZE], *text, *digest;
	size_t length;
	json_t *body;

	if (kf_support_id_get(NULL, id, err) != KF_OK ||
	    kf_journal_load(audit_path, &text, &length, err) != KF_OK)
		return NULL;
	digest = kf_journal_digest(text, length, now, exclude_session);
	body = digest ? json_pack("{s:s, s:s, s:o}", "support_id", id, "digest", digest, "journal",
				  kf_journal_from_audit(text, length, exclude_session))
		      : NULL;
	if (body == NULL)
		kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	free(digest);
	free(text);
	return body;
}
