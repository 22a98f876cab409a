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
	if (kf_console_session_send(join->session, "diag.request", NULL, &id, &err) != KF_OK) {
		join_report(join, "error", NULL, "Could not ask for the report: %s", err.message);
		return;
	}
	join->report_id = id;
	join_wait_for(join, id);
}

/*
 * The report arrives as one message however large it is (the control channel
 * joins its parts); this sums it up for the technician, or saves it whole.
 */
void join_diag_report(struct join *join, const struct kf_msg *msg)
{
	json_t *root = json_object_get(msg->body, "report");
	json_t *problems, *devices, *not_checked;

	if (msg->re != join->report_id)
		return; /* an answer to a request this console no longer waits for */
	join->report_id = 0;
	if (!json_is_object(root)) {
		join_report(join, "error", NULL, "The report arrived without its content");
		join_answered(join, msg->re);
		return;
	}
	problems = json_object_get(root, "problems");
	devices = json_object_get(root, "devices");
	not_checked = json_object_get(root, "not_checked");
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
	/* What the customer's helper could not look at, so no one reads silence as health. */
	for (size_t i = 0; i < json_array_size(not_checked); i++) {
		json_t *entry = json_array_get(not_checked, i);
		const char *summary = json_string_value(json_object_get(entry, "summary"));

		if (summary == NULL)
			continue;
		join_journal(join, "finding", "Not checked: %s", summary);
		join_report(join, "not-checked", entry, "  not checked: %s", summary);
	}
	for (size_t i = 0; i < json_array_size(problems); i++) {
		const char *summary =
			json_string_value(json_object_get(json_array_get(problems, i), "summary"));

		if (summary != NULL)
			join_journal(join, "finding", "Problem: %s", summary);
		if (summary != NULL && !join->is_json)
			join_report(join, "problem", NULL, "  problem: %s", summary);
	}
	join_answered(join, msg->re);
}
