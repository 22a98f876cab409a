/* kefu-console join: the customer's drivers, and driver packages installed or upgraded. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));
	return value != NULL ? value : "";
}

/* drivers | drivers install PKG... | drivers upgrade [PKG...] */
void join_cmd_drivers(struct join *join, char *args)
{
	struct kf_error err;
	uint32_t id;
	char *save = NULL, *word = strtok_r(args, " \t", &save);
	json_t *body = NULL, *packages;

	if (word == NULL) {
		if (kf_console_session_send(join->session, "drivers.request", NULL, &id, &err) !=
		    KF_OK) {
			join_report(join, "error", NULL, "Could not ask for the drivers: %s",
				    err.message);
			return;
		}
		join_wait_for(join, id);
		return;
	}
	if (strcmp(word, "install") != 0 && strcmp(word, "upgrade") != 0) {
		join_report(join, "error", NULL,
			    "drivers: say 'drivers', 'drivers install PKG...' or 'drivers upgrade "
			    "[PKG...]'");
		return;
	}
	packages = json_array();
	for (char *p = strtok_r(NULL, " \t", &save); p != NULL; p = strtok_r(NULL, " \t", &save))
		json_array_append_new(packages, json_string(p));
	if (strcmp(word, "install") == 0 && json_array_size(packages) == 0) {
		json_decref(packages);
		join_report(join, "error", NULL, "drivers install: name the package");
		return;
	}
	body = json_pack("{s:s, s:o}", "action", word, "packages", packages);
	if (kf_console_session_send(join->session, "drivers.change", body, &id, &err) != KF_OK) {
		join_report(join, "error", NULL, "Could not send: %s", err.message);
		json_decref(body);
		return;
	}
	json_decref(body);
	join_report(join, "drivers-started", NULL,
		    "Asked the customer's computer to %s driver packages (needs 'repair')...",
		    word);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

/* The listing in short: devices without a driver and what would give one, and upgrades. */
void join_drivers_listed(struct join *join, const struct kf_msg *msg)
{
	const json_t *listing = json_object_get(msg->body, "listing");
	const json_t *devices = json_object_get(listing, "devices"), *d, *p, *f, *u;
	size_t i, j, k, wanting = 0;

	json_array_foreach(devices, i, d) if (json_is_true(json_object_get(d, "needs_driver")))
		wanting++;
	join_journal(join, "finding", "Drivers: %zu devices, %zu without a driver, %zu upgrades",
		     json_array_size(devices), wanting,
		     json_array_size(json_object_get(listing, "upgrades")));
	join_report(join, "drivers", (json_t *)msg->body,
		    "Drivers: %zu devices, %zu without a driver, %zu upgrades",
		    json_array_size(devices), wanting,
		    json_array_size(json_object_get(listing, "upgrades")));
	if (join->is_json)
		return;
	json_array_foreach(devices, i, d)
	{
		bool is_driverless = json_is_true(json_object_get(d, "needs_driver"));
		const json_t *firmware = json_object_get(d, "firmware_missing");

		if (!is_driverless && json_array_size(firmware) == 0)
			continue;
		join_print(join, "  %s %s: %s\n", str(d, "id"), str(d, "name"),
			   is_driverless ? "no driver" : str(d, "driver"));
		json_array_foreach(json_object_get(d, "providers"), j, p)
			join_print(join, "    %s %s%s\n",
				   strcmp(str(p, "kind"), "package") == 0 ? "package" : "module",
				   strcmp(str(p, "kind"), "package") == 0 ? str(p, "package")
									  : str(p, "module"),
				   strcmp(str(p, "kind"), "package") == 0 ? " (drivers install it)"
									  : " (in the kernel)");
		json_array_foreach(firmware, j, f)
		{
			join_print(join, "    missing firmware %s\n", str(f, "file"));
			json_array_foreach(json_object_get(f, "packages"), k, p)
				join_print(join, "      in package %s\n", str(p, "name"));
		}
	}
	json_array_foreach(json_object_get(listing, "upgrades"), i, u)
		join_print(join, "  upgrade %s %s -> %s\n", str(u, "package"), str(u, "installed"),
			   str(u, "candidate"));
}

void join_drivers_progress(struct join *join, const struct kf_msg *msg)
{
	join_report(join, "drivers-progress", (json_t *)msg->body, "  %s", str(msg->body, "line"));
}

void join_drivers_result(struct join *join, const struct kf_msg *msg)
{
	int ok = json_is_true(json_object_get(msg->body, "ok"));
	const json_t *lines = json_object_get(msg->body, "lines");
	const char *summary = json_string_value(json_array_get(lines, 0));

	join_journal(join, "action", "Driver %s: %s%s%s", str(msg->body, "action"),
		     ok ? "done" : "not done", summary ? ": " : "", summary ? summary : "");
	join_report(join, "drivers-result", (json_t *)msg->body, "Driver %s: %s%s%s",
		    str(msg->body, "action"), ok ? "done" : "not done", summary ? ": " : "",
		    summary ? summary : "");
}
