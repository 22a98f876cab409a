/* kefu-console join: the customer's diagnostics report, asked for and summed up. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <stdlib.h>
#include <string.h>

void join_cmd_report(struct join *join, char *args)
{
	const char *file = args;
	struct kf_error err;
	uint32_t id;

	free(join->report_file);
	join->report_file = *file != '\0' ? strdup(file) : NULL;
	kf_buf_reset(&join->report);
	if (kf_console_session_send(join->session, "diag.request", NULL, &id, &err) != KF_OK) {
		join_report(join, "error", NULL, "Could not ask for the report: %s", err.message);
		return;
	}
	join->report_id = id;
	join_wait_for(join, id);
}

/* Sums up a report for the technician, or saves it whole. */
static void report_arrived(struct join *join)
{
	json_t *root, *problems, *devices;
	json_error_t error;

	root = json_loadb((const char *)join->report.data, join->report.len, 0, &error);
	if (root == NULL) {
		join_report(join, "error", NULL, "The report arrived damaged: %s", error.text);
		return;
	}
	problems = json_object_get(root, "problems");
	devices = json_object_get(root, "devices");
	if (join->report_file != NULL) {
		if (json_dump_file(root, join->report_file, JSON_INDENT(2)) != 0)
			join_report(join, "error", NULL, "Could not write %s", join->report_file);
	}
	{
		json_t *fields =
			json_pack("{s:I, s:I, s:s?}", "devices",
				  (json_int_t)json_array_size(devices), "problems",
				  (json_int_t)json_array_size(problems), "file", join->report_file);

		join_journal(join, "finding", "Diagnostics report: %zu devices, %zu problems",
			     json_array_size(devices), json_array_size(problems));
		join_report(join, "report", fields, "Report: %zu devices, %zu problems%s%s",
			    json_array_size(devices), json_array_size(problems),
			    join->report_file ? ", saved to " : "",
			    join->report_file ? join->report_file : "");
		json_decref(fields);
	}
	for (size_t i = 0; i < json_array_size(problems); i++) {
		const char *summary =
			json_string_value(json_object_get(json_array_get(problems, i), "summary"));

		if (summary != NULL)
			join_journal(join, "finding", "Problem: %s", summary);
		if (summary != NULL && !join->is_json)
			join_report(join, "problem", NULL, "  problem: %s", summary);
	}
	json_decref(root);
}

void join_diag_report_part(struct join *join, const struct kf_msg *msg)
{
	json_t *data = json_object_get(msg->body, "data");
	json_int_t part = json_integer_value(json_object_get(msg->body, "part"));
	json_int_t parts = json_integer_value(json_object_get(msg->body, "parts"));

	/* A report is at most 64 parts of 48 KiB; anything else is refused. */
	if (!json_is_string(data) || parts < 1 || parts > 64 || part < 1 || part > parts ||
	    join->report.len + json_string_length(data) > 64u * 48 * 1024) {
		join_report(join, "error", NULL, "The report arrived damaged");
		join->report_id = 0;
		join_answered(join, msg->re);
		return;
	}
	kf_buf_append(&join->report, json_string_value(data), json_string_length(data));
	if (part == parts) {
		report_arrived(join);
		join->report_id = 0;
		join_answered(join, msg->re);
	}
}
