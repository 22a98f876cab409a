/* kefu-agentd support-id and journal: the customer's own view of what support knows. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/journal/journal.h"
#include "proto/base/escape.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kf_agent_cmd_support_id(int argc, char **argv)
{
	static const struct option options[] = {
		{"reset", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"support-id", KF_AGENTD_SUPPORT_ID_USAGE, "", NULL};
	char id[KF_SUPPORT_ID_SIZE];
	struct kf_error err;
	int opt, is_reset = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 'r')
			return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
		is_reset = 1;
	}
	if (optind != argc)
		return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
	if ((is_reset ? kf_support_id_reset(NULL, id, &err) : kf_support_id_get(NULL, id, &err)) !=
	    KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (is_reset) {
		struct kf_audit *audit;

		/* The old ID is not written down: after a reset nothing links the two. */
		if (kf_audit_open(NULL, &audit, &err) == KF_OK) {
			kf_audit_event(audit, "support-id-reset", NULL, NULL);
			kf_audit_close(audit);
		}
	}
	printf("%s\n", id);
	return KF_EXIT_OK;
}

static int show_shared(const char *session, int is_json)
{
	char dir[4096], path[4200];
	json_error_t error;
	json_t *body, *entry;
	size_t i;

	for (const char *c = session; *c; c++) {
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')) || c - session > 64)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "%s is not a session ID",
					   kf_escaped(session).text);
	}
	if (session[0] == '\0')
		return kf_cli_fail(KF_AGENTD_PROGRAM, "a session ID is needed");
	snprintf(path, sizeof(path), "%s/%s.json", kf_journal_shared_dir(dir, sizeof(dir)),
		 session);
	if ((body = json_load_file(path, 0, &error)) == NULL) {
		printf("Nothing of your journal was shared in session %s.\n", session);
		return KF_EXIT_OK;
	}
	if (is_json) {
		json_dumpf(body, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		kf_terminal_print(stdout,
				  "In session %s the technician was shown:\nSupport ID: %s\n%s\n",
				  session, json_string_value(json_object_get(body, "support_id")),
				  json_string_value(json_object_get(body, "digest")));
		json_array_foreach(json_object_get(body, "journal"), i, entry)
		{
			kf_terminal_print(stdout, "  %.16s  %s",
					  json_string_value(json_object_get(entry, "time")),
					  json_string_value(json_object_get(entry, "summary")));
		}
	}
	json_decref(body);
	return KF_EXIT_OK;
}

int kf_agent_cmd_journal(int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"shared", required_argument, NULL, 's'},
		{"file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"journal", KF_AGENTD_JOURNAL_USAGE, "", NULL};
	const char *shared = NULL, *file = NULL;
	struct kf_error err;
	json_t *body, *entry;
	int opt, is_json = 0;
	size_t i;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			is_json = 1;
			break;
		case 's':
			shared = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		default:
			return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
		}
	}
	if (optind != argc)
		return kf_cli_usage(KF_AGENTD_PROGRAM, &usage);
	if (shared != NULL)
		return show_shared(shared, is_json);
	if ((body = kf_journal_share_body(file, time(NULL), NULL, &err)) == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (is_json) {
		json_dumpf(body, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		kf_terminal_print(stdout, "Your support ID: %s\n%s\n",
				  json_string_value(json_object_get(body, "support_id")),
				  json_string_value(json_object_get(body, "digest")));
		json_array_foreach(json_object_get(body, "journal"), i, entry)
		{
			kf_terminal_print(stdout, "  %.16s  %s",
					  json_string_value(json_object_get(entry, "time")),
					  json_string_value(json_object_get(entry, "summary")));
		}
		printf("\nA technician sees this only when you allow 'history' in a session.\n");
	}
	json_decref(body);
	return KF_EXIT_OK;
}
