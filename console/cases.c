/* kefu-console cases: the team's case history, read and annotated. SPDX-License-Identifier: MIT */
#include "console/cases.h"
#include "console/commands.h"
#include "proto/base/escape.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *kf_cases_config_path(char *buffer, size_t size)
{
	const char *dir = getenv("KEFU_CONSOLE_DIR"), *home = getenv("HOME");

	if (dir != NULL)
		snprintf(buffer, size, "%s/console.conf", dir);
	else
		snprintf(buffer, size, "%s/.config/kefu/console/console.conf", home ? home : ".");
	return buffer;
}

const char *kf_cases_location(char *buffer, size_t size, struct kf_error *err)
{
	char config[PATH_MAX];

	return kf_case_store_location(kf_cases_config_path(config, sizeof(config)), buffer, size,
				      err);
}

int kf_cases_record(json_t *record, int64_t *id, struct kf_error *err)
{
	char location[4096];

	if (kf_cases_location(location, sizeof(location), err) == NULL)
		return err->code;
	return kf_case_store_record_or_queue(location, NULL, record, id, err);
}

static const char *text_of(json_t *object, const char *name)
{
	const char *value = json_string_value(json_object_get(object, name));

	return value != NULL ? value : "";
}

static void print_list(json_t *list, int is_json)
{
	size_t i;
	json_t *item;

	if (is_json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
		return;
	}
	if (json_array_size(list) == 0)
		printf("No cases.\n");
	json_array_foreach(list, i, item)
	{
		kf_terminal_print(
			stdout, "%5" JSON_INTEGER_FORMAT "  %.16s  %-7s  %-18.18s  %-17.17s  %.50s",
			json_integer_value(json_object_get(item, "id")), text_of(item, "started"),
			text_of(item, "status"), text_of(item, "technician"),
			text_of(item, "support_id"),
			text_of(item, "advice")[0] ? text_of(item, "advice")
						   : text_of(item, "outcome"));
	}
}

static void print_strings(const char *title, json_t *array, int is_markdown)
{
	size_t i;
	json_t *item;

	if (json_array_size(array) == 0)
		return;
	printf(is_markdown ? "%s\n\n" : "%s\n", title);
	json_array_foreach(array, i, item)
	{
		kf_terminal_print(stdout, is_markdown ? "- %s" : "  - %s",
				  json_string_value(item) ? json_string_value(item) : "");
	}
	if (is_markdown)
		putchar('\n');
}

/* The case as a technician reads it, or as Markdown for a ticket or a mail. */
static void print_case(json_t *record, int is_markdown)
{
	json_t *technicians = json_object_get(record, "technicians"), *item;
	size_t i;
	char names[1024] = "";

	json_array_foreach(technicians, i, item)
	{
		size_t used = strlen(names);

		snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
			 json_string_value(item) ? json_string_value(item) : "");
	}
	kf_terminal_print(stdout, "%sCase %" JSON_INTEGER_FORMAT " (%s)%s", is_markdown ? "# " : "",
			  json_integer_value(json_object_get(record, "id")),
			  text_of(record, "status"), is_markdown ? "\n" : "");
	kf_terminal_print(stdout, "%sCustomer: %s", is_markdown ? "- " : "",
			  text_of(record, "support_id")[0] ? text_of(record, "support_id")
							   : "(no support ID)");
	if (text_of(record, "computer")[0])
		kf_terminal_print(stdout, "%sComputer: %s", is_markdown ? "- " : "",
				  text_of(record, "computer"));
	kf_terminal_print(stdout, "%sTechnicians: %s (%s)", is_markdown ? "- " : "", names,
			  text_of(record, "organisation"));
	kf_terminal_print(stdout, "%sSession %s, from %s to %s: %s", is_markdown ? "- " : "",
			  text_of(record, "session"), text_of(record, "started"),
			  text_of(record, "ended"), text_of(record, "outcome"));
	if (json_array_size(json_object_get(record, "tags")) > 0) {
		char tags[1024] = "";

		json_array_foreach(json_object_get(record, "tags"), i, item)
		{
			size_t used = strlen(tags);

			snprintf(tags + used, sizeof(tags) - used, "%s%s", used ? ", " : "",
				 json_string_value(item));
		}
		kf_terminal_print(stdout, "%sTags: %s", is_markdown ? "- " : "", tags);
	}
	if (text_of(record, "history")[0]) {
		printf("%s\n",
		       is_markdown ? "\n## What the customer's journal said" : "\nHistory:");
		kf_terminal_print(stdout, "  %s", text_of(record, "history"));
	}
	putchar('\n');
	print_strings(is_markdown ? "## Problems found" : "Problems found:",
		      json_object_get(record, "problems"), is_markdown);
	print_strings(is_markdown ? "## Actions" : "Actions:", json_object_get(record, "actions"),
		      is_markdown);
	if (json_array_size(json_object_get(record, "journal")) > 0)
		printf("%s\n", is_markdown ? "## Journal\n" : "\nJournal:");
	json_array_foreach(json_object_get(record, "journal"), i, item)
	{
		kf_terminal_print(stdout, "%s%s  %-8s %s", is_markdown ? "- " : "  ",
				  text_of(item, "time"), text_of(item, "kind"),
				  text_of(item, "text"));
	}
	if (json_array_size(json_object_get(record, "notes")) > 0)
		printf("%s\n", is_markdown ? "\n## Notes\n" : "\nNotes:");
	json_array_foreach(json_object_get(record, "notes"), i, item)
	{
		kf_terminal_print(stdout, "%s%s  %s: %s", is_markdown ? "- " : "  ",
				  text_of(item, "time"), text_of(item, "author"),
				  text_of(item, "text"));
	}
	kf_terminal_print(stdout, "%s%s", is_markdown ? "\n## Advice\n\n" : "\nAdvice: ",
			  text_of(record, "advice")[0] ? text_of(record, "advice") : "(none)");
}

static int parse_id(const char *text, int64_t *id)
{
	char *end;
	long long value = strtoll(text, &end, 10);

	if (*text == '\0' || *end != '\0' || value < 1)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "a case number is a positive number, not %s",
				   kf_escaped(text).text);
	*id = value;
	return KF_EXIT_OK;
}

/* The words after the case number, joined by spaces: "cases note 3 called back". */
static char *join_words(int argc, char **argv)
{
	size_t size = 1;
	char *out;

	for (int i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	if ((out = calloc(1, size)) == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, argv[i]);
	}
	return out;
}

static const char *author_name(void)
{
	const char *name = getenv("KEFU_TECHNICIAN");
	struct passwd *entry;

	if (name != NULL && name[0] != '\0')
		return name;
	entry = getpwuid(getuid());
	return entry != NULL ? entry->pw_name : "technician";
}

static int run(struct kf_case_store *store, int argc, char **argv, int is_json, int format)
{
	const char *verb = argc > 0 ? argv[0] : "list";
	struct kf_error err;
	json_t *result = NULL;
	int64_t id = 0;
	int r, code;

	if (strcmp(verb, "list") == 0 && argc <= 1) {
		r = kf_case_store_latest(store, 50, &result, &err);
	} else if (strcmp(verb, "search") == 0 && argc >= 2) {
		char *words = join_words(argc - 1, argv + 1);

		r = words ? kf_case_store_search(store, words, &result, &err) : KF_ERR_NOMEM;
		free(words);
	} else if (strcmp(verb, "customer") == 0 && argc == 2) {
		r = kf_case_store_customer(store, argv[1], &result, &err);
	} else if ((strcmp(verb, "show") == 0 || strcmp(verb, "export") == 0) && argc == 2) {
		if ((code = parse_id(argv[1], &id)) != KF_EXIT_OK)
			return code;
		if ((r = kf_case_store_get(store, id, &result, &err)) == KF_OK) {
			if (is_json || format == 'j') {
				json_dumpf(result, stdout, JSON_INDENT(2));
				putchar('\n');
			} else {
				print_case(result, format == 'm');
			}
			json_decref(result);
			return KF_EXIT_OK;
		}
	} else if ((strcmp(verb, "note") == 0 && argc >= 3) ||
		   ((strcmp(verb, "tag") == 0 || strcmp(verb, "status") == 0) && argc == 3)) {
		char *words;

		if ((code = parse_id(argv[1], &id)) != KF_EXIT_OK)
			return code;
		if ((words = join_words(argc - 2, argv + 2)) == NULL)
			return kf_cli_fail(KF_CONSOLE_PROGRAM, "out of memory");
		if (verb[0] == 'n')
			r = kf_case_store_note(store, id, author_name(), words, &err);
		else if (verb[0] == 't')
			r = kf_case_store_tag(store, id, words, &err);
		else
			r = kf_case_store_status(store, id, words, &err);
		free(words);
		if (r == KF_OK) {
			printf("Case %" PRId64 " updated.\n", id);
			return KF_EXIT_OK;
		}
	} else {
		return -1;
	}
	if (r != KF_OK)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "%s",
				   r == KF_ERR_NOMEM ? "out of memory" : err.message);
	print_list(result, is_json);
	json_decref(result);
	return KF_EXIT_OK;
}

int kf_console_cmd_cases(int argc, char **argv)
{
	static const struct option options[] = {
		{"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"markdown", no_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	static const struct kf_command usage = {"cases", KF_CONSOLE_CASES_USAGE, "", NULL};
	char location[4096];
	const char *given = NULL;
	struct kf_case_store *store;
	struct kf_error err;
	int opt, is_json = 0, format = 0, code;

	optind = 1;
	opterr = 0;
	/* Options may come after the subcommand: "cases show 3 --json". */
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			given = optarg;
			break;
		case 'j':
			is_json = 1;
			break;
		case 'm':
			format = 'm';
			break;
		default:
			return kf_cli_usage(KF_CONSOLE_PROGRAM, &usage);
		}
	}
	if (optind < argc && strcmp(argv[optind], "export") == 0 && !is_json && format == 0)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "export wants --markdown or --json");
	if (given != NULL)
		snprintf(location, sizeof(location), "%s", given);
	else if (kf_cases_location(location, sizeof(location), &err) == NULL)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "%s", err.message);
	if (strncmp(location, "postgres", 8) != 0 && access(location, F_OK) != 0 &&
	    (optind == argc || strcmp(argv[optind], "list") == 0)) {
		printf("No cases yet.\n");
		return KF_EXIT_OK;
	}
	if (kf_case_store_open(location, &store, &err) != KF_OK)
		return kf_cli_fail(KF_CONSOLE_PROGRAM, "%s", err.message);
	code = run(store, argc - optind, argv + optind, is_json, format);
	kf_case_store_free(store);
	if (code < 0)
		return kf_cli_usage(KF_CONSOLE_PROGRAM, &usage);
	return code;
}
