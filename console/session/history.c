/* kefu-console join: the customer's support journal, their earlier cases, notes on this case. SPDX-License-Identifier: MIT */
#include "console/cases.h"
#include "console/session/join-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void ask_for_history(struct join *join, int is_waited)
{
	struct kf_error err;
	uint32_t id;

	if (kf_console_session_send(join->session, "history.request", NULL, &id, &err) != KF_OK) {
		join_report(join, "error", NULL, "Could not ask for the journal: %s", err.message);
		return;
	}
	join->history_id = id;
	if (is_waited)
		join_wait_for(join, id);
}

void join_cmd_history(struct join *join, char *args)
{
	(void)args;
	ask_for_history(join, 1);
}

void join_history_allowed(struct join *join, uint32_t re)
{
	/* The technician reads who this is before asking anything; a script that waited
	 * for the answer waits for the journal too, so that its next command knows it. */
	if (join->support_id[0] == '\0' && join->history_id == 0)
		ask_for_history(join, join->is_waiting && join->waiting_for == re);
}

/* A support ID as the agent makes them; anything else is not looked up. */
static int is_support_id(const char *id)
{
	size_t length = id ? strlen(id) : 0;

	if (length < 4 || length >= 32 || strncmp(id, "KF-", 3) != 0)
		return 0;
	for (size_t i = 3; i < length; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      id[i] == '-'))
			return 0;
	return 1;
}

/* The customer's earlier cases in the team's store: the technician reads them first. */
static void show_earlier_cases(struct join *join)
{
	char location[4096];
	struct kf_case_store *store;
	struct kf_error err;
	json_t *cases, *item, *fields;
	size_t i;

	if (kf_cases_location(location, sizeof(location), &err) == NULL ||
	    kf_case_store_open(location, &store, &err) != KF_OK) {
		join_report(join, "error", NULL, "The case store cannot be read: %s", err.message);
		return;
	}
	if (kf_case_store_customer(store, join->support_id, &cases, &err) != KF_OK) {
		join_report(join, "error", NULL, "The case store cannot be read: %s", err.message);
		kf_case_store_free(store);
		return;
	}
	kf_case_store_free(store);
	fields = json_pack("{s:s, s:O}", "support_id", join->support_id, "cases", cases);
	join_report(join, "cases", fields,
		    "%zu earlier case%s of this customer in the case store%s",
		    json_array_size(cases), json_array_size(cases) == 1 ? "" : "s",
		    json_array_size(cases) ? ":" : ".");
	json_decref(fields);
	json_array_foreach(cases, i, item)
	{
		const char *advice = json_string_value(json_object_get(item, "advice"));

		join_print(join, "  case %" JSON_INTEGER_FORMAT ", %s, %s (%s)%s%s",
			   json_integer_value(json_object_get(item, "id")),
			   json_string_value(json_object_get(item, "started")),
			   json_string_value(json_object_get(item, "technician")),
			   json_string_value(json_object_get(item, "status")),
			   advice && advice[0] ? ": advice: " : "", advice ? advice : "");
	}
	json_decref(cases);
}

void join_history_journal(struct join *join, const struct kf_msg *msg)
{
	const char *support_id = json_string_value(json_object_get(msg->body, "support_id"));
	const char *digest = json_string_value(json_object_get(msg->body, "digest"));
	json_t *journal = json_object_get(msg->body, "journal"), *entry, *fields;
	size_t i, count = json_array_size(journal);

	if (msg->re != join->history_id)
		return;
	join->history_id = 0;
	if (!is_support_id(support_id) || digest == NULL || !json_is_array(journal)) {
		join_report(join, "error", NULL, "The customer's journal arrived malformed");
		return;
	}
	snprintf(join->support_id, sizeof(join->support_id), "%s", support_id);
	free(join->history);
	join->history = strdup(digest);
	fields = json_pack("{s:s, s:s, s:O}", "support_id", support_id, "digest", digest, "journal",
			   journal);
	join_report(join, "history", fields, "Customer %s. %s", support_id, digest);
	json_decref(fields);
	/* The latest entries; the whole journal goes into the case. */
	json_array_foreach(journal, i, entry)
	{
		if (i + 10 < count)
			continue;
		join_print(join, "  %.16s  %s", json_string_value(json_object_get(entry, "time")),
			   json_string_value(json_object_get(entry, "summary")));
	}
	join_journal(join, "history", "Customer %s: %s", support_id, digest);
	show_earlier_cases(join);
}

void join_cmd_note(struct join *join, char *args)
{
	char when[32];
	time_t now = time(NULL);
	struct tm local;

	if (*args == '\0') {
		join_report(join, "error", NULL, "A note needs some text: note TEXT");
		return;
	}
	if (join->notes == NULL)
		join->notes = json_array();
	localtime_r(&now, &local);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &local);
	json_array_append_new(join->notes, json_pack("{s:s, s:s, s:s}", "time", when, "author",
						     join->technician.name, "text", args));
	join_report(join, "note", NULL, "Noted in this session's case.");
}
