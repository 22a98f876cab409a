/* kefu-console join: the vendor's plugins on the customer's computer. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <string.h>

static void request_plugins(struct join *join, const char *type, const char *id)
{
	json_t *body = NULL;
	struct kf_error err;
	uint32_t sent;

	if (strcmp(type, "plugins.request") != 0) {
		if (*id == '\0' || strchr(id, ' ') != NULL) {
			join_report(join, "error", NULL, "Name one plugin: %s ID (see 'plugins')",
				    strcmp(type, "plugin.run") == 0 ? "run" : "repair");
			return;
		}
		body = json_pack("{s:s}", "plugin", id);
	}
	if (kf_console_session_send(join->session, type, body, &sent, &err) != KF_OK)
		join_report(join, "error", NULL, "Could not ask: %s", err.message);
	else
		join_wait_for(join, sent);
	json_decref(body);
}

void join_plugins_listed(struct join *join, const struct kf_msg *msg)
{
	json_t *plugins = json_object_get(msg->body, "plugins");
	json_t *tried = json_object_get(msg->body, "tried");
	json_t *plugin, *check;
	size_t i, j;

	join_report(join, "plugins", msg->body, "%zu plugin%s apply%s", json_array_size(plugins),
		    json_array_size(plugins) == 1 ? "" : "s", json_array_size(plugins) ? ":" : ".");
	json_array_foreach(plugins, i, plugin)
	{
		const char *publisher = json_string_value(json_object_get(plugin, "publisher"));
		const char *title = json_string_value(json_object_get(plugin, "title"));

		join_print(join, "  %s %s (%s): %s\n",
			   json_string_value(json_object_get(plugin, "id")),
			   json_string_value(json_object_get(plugin, "version")),
			   publisher ? publisher : "no publisher named", title ? title : "");
		json_array_foreach(json_object_get(plugin, "checks"), j, check) join_print(
			join, "    - %s%s\n",
			json_string_value(json_object_get(check, "title")) ?: "",
			json_is_true(json_object_get(check, "repairable")) ? " (can repair)" : "");
	}
	json_array_foreach(json_object_get(msg->body, "skipped"), j, check) join_print(
		join, "  Not run: %s\n", json_string_value(json_object_get(check, "note")) ?: "?");
	if (json_is_object(tried)) {
		join_print(join, "The customer's own last scan (%s%s):\n",
			   json_string_value(json_object_get(tried, "when")) ?: "?",
			   json_is_true(json_object_get(tried, "fix")) ? ", with fixes" : "");
		json_array_foreach(json_object_get(tried, "checks"), j, check)
			join_print(join, "    %s: %s\n",
				   json_string_value(json_object_get(check, "state")) ?: "?",
				   json_string_value(json_object_get(check, "title")) ?: "?");
	} else {
		join_print(join, "The customer has not run a scan of their own.\n");
	}
}

void join_plugin_result(struct join *join, const struct kf_msg *msg)
{
	const char *id = json_string_value(json_object_get(msg->body, "plugin"));
	const char *mode = json_string_value(json_object_get(msg->body, "mode"));
	json_t *checks = json_object_get(msg->body, "checks"), *check, *step;
	size_t i, j;

	join_report(join, "plugin-result", msg->body, "%s %s%s:", id ? id : "?",
		    mode && strcmp(mode, "repair") == 0 ? "repair" : "check",
		    json_is_true(json_object_get(msg->body, "stopped"))
			    ? " (stopped by the customer)"
			    : "");
	json_array_foreach(checks, i, check)
	{
		const char *state = json_string_value(json_object_get(check, "state"));
		const char *title = json_string_value(json_object_get(check, "title"));

		join_journal(join, mode && strcmp(mode, "repair") == 0 ? "action" : "finding",
			     "%s: %s (%s)", id ? id : "?", title ? title : "?",
			     state ? state : "?");
		if (join->is_json)
			continue;
		join_print(join, "  %s: %s\n", state ? state : "?", title ? title : "?");
		json_array_foreach(json_object_get(check, "steps"), j, step)
		{
			json_t *finding = json_object_get(step, "finding");

			if (finding != NULL)
				join_print(join, "    %s: %s\n",
					   json_string_value(json_object_get(step, "step")) ?: "?",
					   json_string_value(json_object_get(finding, "summary"))
						   ?: "?");
		}
	}
}

void join_cmd_plugins(struct join *join, char *args)
{
	request_plugins(join, "plugins.request", args);
}

void join_cmd_run(struct join *join, char *args)
{
	request_plugins(join, "plugin.run", args);
}

void join_cmd_repair(struct join *join, char *args)
{
	request_plugins(join, "plugin.repair", args);
}

void join_plugin_started(struct join *join, const struct kf_msg *msg)
{
	join_report(join, "plugin-started", msg->body, "Running %s on the customer's computer...",
		    json_string_value(json_object_get(msg->body, "plugin")));
}
