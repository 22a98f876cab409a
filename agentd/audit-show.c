/* kefu-agentd audit: read the audit log, as sentences or as JSON lines. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text_of(json_t *entry, const char *key)
{
	const char *value = json_string_value(json_object_get(entry, key));

	return value != NULL ? value : "";
}

/* One entry in words for the customer. */
static void print_entry(json_t *entry)
{
	const char *event = text_of(entry, "event");
	json_t *technician = json_object_get(entry, "technician");
	char who[300] = "";
	char time[20];
	/* What an action was about: a plugin, a file sent (its name) or fetched (its path). */
	const char *what = text_of(entry, "plugin")[0]  ? text_of(entry, "plugin")
			   : text_of(entry, "saved")[0] ? text_of(entry, "saved")
			   : text_of(entry, "path")[0]  ? text_of(entry, "path")
							: text_of(entry, "name");

	snprintf(time, sizeof(time), "%.19s", text_of(entry, "time"));
	for (char *c = time; *c != '\0'; c++)
		if (*c == 'T')
			*c = ' ';
	if (technician != NULL)
		snprintf(who, sizeof(who), "%s (%s)", text_of(technician, "name"),
			 text_of(technician, "organisation"));
	printf("%s  %.8s  ", time, text_of(entry, "session"));
	if (strcmp(event, "session-start") == 0)
		printf("session started with %s\n", who);
	else if (strcmp(event, "session-end") == 0)
		printf("session ended (%s)\n", text_of(entry, "outcome"));
	else if (strcmp(event, "session-interrupted") == 0)
		printf("session INTERRUPTED: %s\n", text_of(entry, "detail"));
	else if (strcmp(event, "consent-requested") == 0)
		printf("%s asked for '%s'%s%s\n", who, text_of(entry, "capability"),
		       text_of(entry, "reason")[0] ? ": " : "", text_of(entry, "reason"));
	else if (strcmp(event, "consent-answered") == 0)
		printf("'%s' %s by %s\n", text_of(entry, "capability"),
		       json_is_true(json_object_get(entry, "granted")) ? "allowed" : "refused",
		       text_of(entry, "by"));
	else if (strcmp(event, "consent-revoked") == 0)
		printf("'%s' taken back (%s)\n", text_of(entry, "capability"),
		       text_of(entry, "by"));
	else if (strcmp(event, "action-refused") == 0)
		printf("REFUSED '%s': no '%s' permission\n", text_of(entry, "action"),
		       text_of(entry, "missing"));
	else if (strcmp(event, "action-start") == 0)
		printf("started: %s%s%s\n", text_of(entry, "action"), what[0] ? " " : "", what);
	else if (strcmp(event, "action-finish") == 0)
		printf("finished: %s%s%s (%s)\n", text_of(entry, "action"), what[0] ? " " : "",
		       what, text_of(entry, "result"));
	else if (strcmp(event, "action-stopped") == 0)
		printf("STOPPED: %s %s (%s)\n", text_of(entry, "action"), what,
		       text_of(entry, "why"));
	else if (strcmp(event, "chat") == 0)
		printf("chat message from the %s\n", text_of(entry, "from"));
	else if (strcmp(event, "session-summary") == 0)
		printf("summary saved: %s\n", text_of(entry, "summary"));
	else if (strcmp(event, "policy") == 0)
		printf("the policy \"%s\" applied\n", text_of(entry, "name"));
	else if (strcmp(event, "plugin-installed") == 0)
		printf("installed plugin %s %s from \"%s\"\n", text_of(entry, "plugin"),
		       text_of(entry, "version"), text_of(entry, "publisher"));
	else if (strcmp(event, "plugin-refused") == 0)
		printf("REFUSED plugin package %s: %s\n", text_of(entry, "file"),
		       text_of(entry, "detail"));
	else if (strcmp(event, "self-service-scan") == 0)
		printf("self-service scan%s: %" JSON_INTEGER_FORMAT " problem(s) left\n",
		       json_is_true(json_object_get(entry, "fix")) ? " with fixes" : "",
		       json_integer_value(json_object_get(entry, "problems_left")));
	else if (strcmp(event, "stop") == 0)
		printf("stopped: %s\n", text_of(entry, "reason"));
	else if (strcmp(event, "watch-alert") == 0)
		printf("daily check warned: %s\n", text_of(entry, "summary"));
	else if (strcmp(event, "watch-run") == 0)
		printf("%s\n", text_of(entry, "summary"));
	else
		printf("%s\n", event);
}

/*
 * Follows which sessions are open while the log is read: a start opens one, an
 * end or an interruption closes it, any other line of it is its latest news.
 */
static void follow_session(json_t *open_sessions, json_t *entry)
{
	const char *event = text_of(entry, "event"), *id = text_of(entry, "session");
	json_t *known;

	if (id[0] == '\0' || strcmp(id, "-") == 0)
		return;
	if (strcmp(event, "session-start") == 0) {
		json_object_set_new(
			open_sessions, id,
			json_pack("{s:O, s:s}", "start", entry, "last", text_of(entry, "time")));
	} else if (strcmp(event, "session-end") == 0 || strcmp(event, "session-interrupted") == 0) {
		json_object_del(open_sessions, id);
	} else if ((known = json_object_get(open_sessions, id)) != NULL) {
		json_object_set_new(known, "last", json_string(text_of(entry, "time")));
	}
}

/*
 * A session still open at the end of the log whose helper is gone was cut (kill
 * -9, a crash): it is shown as interrupted now, at the time it was last heard
 * of, rather than as running until the next share writes so into the log.
 */
static int show_cut_sessions(json_t *open_sessions, const char *session, int is_json)
{
	const char *id;
	json_t *known;
	int shown = 0;

	json_object_foreach(open_sessions, id, known)
	{
		json_t *start = json_object_get(known, "start"), *entry;

		if (kf_audit_is_running(start) ||
		    (session != NULL && strncmp(id, session, strlen(session)) != 0))
			continue;
		entry = json_pack("{s:O, s:s, s:s}", "time", json_object_get(known, "last"),
				  "session", id, "event", "session-interrupted");
		if (json_object_get(start, "technician") != NULL)
			json_object_set(entry, "technician", json_object_get(start, "technician"));
		json_object_set_new(entry, "detail",
				    json_string("the helper stopped without ending this session"));
		if (is_json) {
			char *text = json_dumps(entry, JSON_COMPACT | JSON_PRESERVE_ORDER);

			if (text != NULL)
				printf("%s\n", text);
			free(text);
		} else {
			print_entry(entry);
		}
		json_decref(entry);
		shown++;
	}
	return shown;
}

int kf_agent_cmd_audit(int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"session", required_argument, NULL, 's'},
		{"file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"audit", KF_AGENTD_AUDIT_USAGE, "", NULL};
	char default_path[PATH_MAX];
	const char *path = NULL, *session = NULL;
	int is_json = 0, opt, shown = 0, damaged = 0;
	char *line = NULL;
	size_t cap = 0;
	json_t *open_sessions;
	FILE *file;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			is_json = 1;
			break;
		case 's':
			session = optarg;
			break;
		case 'f':
			path = optarg;
			break;
		default:
			return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
		}
	}
	if (optind != argc)
		return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
	if (path == NULL)
		path = kf_audit_default_path(default_path, sizeof(default_path));
	file = fopen(path, "re");
	if (file == NULL) {
		printf("No sessions yet: %s does not exist.\n", path);
		return KF_EXIT_OK;
	}
	open_sessions = json_object();
	while (getline(&line, &cap, file) > 0) {
		json_t *entry = json_loads(line, 0, NULL);

		if (entry == NULL) {
			damaged++;
			continue;
		}
		follow_session(open_sessions, entry);
		if (session == NULL ||
		    strncmp(text_of(entry, "session"), session, strlen(session)) == 0) {
			if (is_json)
				fputs(line, stdout);
			else
				print_entry(entry);
			shown++;
		}
		json_decref(entry);
	}
	free(line);
	fclose(file);
	shown += show_cut_sessions(open_sessions, session, is_json);
	json_decref(open_sessions);
	if (!is_json && damaged > 0)
		printf("(%d damaged line%s skipped: the helper was stopped while writing)\n",
		       damaged, damaged == 1 ? "" : "s");
	if (!is_json && shown == 0)
		printf("Nothing recorded%s.\n", session != NULL ? " for that session" : "");
	return KF_EXIT_OK;
}
