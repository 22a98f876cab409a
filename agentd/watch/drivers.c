/* kefu-agentd watch: driver packages waiting, from the drivers listing.
 * SPDX-License-Identifier: MIT */
#include "agentd/drivers/listing.h"
#include "agentd/watch/run.h"

#include <stdio.h>
#include <string.h>

#define NAMES_SHOWN 3

/* Appends name to a ", "-separated list of at most NAMES_SHOWN names (then "..."). */
static void add_name(char *names, size_t size, size_t *shown, const char *name)
{
	size_t len = strlen(names);

	if (*shown < NAMES_SHOWN)
		snprintf(names + len, size - len, "%s%s", *shown ? ", " : "", name);
	else if (*shown == NAMES_SHOWN)
		snprintf(names + len, size - len, ", ...");
	(*shown)++;
}

/* Whether the comma-separated list already holds name. */
static int has_name(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * The listing `kefu-agentd drivers` prints, read under the run's root: a newer version of
 * a driver package in use ("upgrades"), and devices without a driver that a package would
 * give one (a package provider, or the package that ships a missing firmware file). Each
 * rule's fingerprint is the sorted set of packages, so the same packages are told once.
 */
void kf_watch_drivers(struct kf_watch_run *run)
{
	char upgrades[512] = "", installs[512] = "", names[256] = "", fingerprint[128];
	size_t n_upgrades = 0, n_installs = 0, shown = 0, i, k;
	json_t *listing = NULL, *device, *entry;
	struct kf_error err;

	if (kf_drivers_list(run->root, &listing, &err) != KF_OK) {
		kf_watch_note(run, "drivers were not checked: %s", err.message);
		return;
	}
	json_array_foreach(json_object_get(listing, "upgrades"), i, entry)
	{
		const char *package = json_string_value(json_object_get(entry, "package"));

		if (package == NULL || has_name(upgrades, package) ||
		    strlen(upgrades) + strlen(package) + 2 >= sizeof(upgrades))
			continue;
		snprintf(upgrades + strlen(upgrades), sizeof(upgrades) - strlen(upgrades), "%s%s",
			 upgrades[0] ? "," : "", package);
		add_name(names, sizeof(names), &shown, package);
		n_upgrades++;
	}
	kf_watch_measure(run, "drivers", "upgrades", (double)n_upgrades);
	if (n_upgrades > 0) {
		snprintf(fingerprint, sizeof(fingerprint), "%.120s", upgrades);
		kf_watch_find(run, "drivers-upgrade", fingerprint, (double)n_upgrades,
			      "Install them with: kefu-agentd drivers upgrade", NULL,
			      "%zu driver package%s ha%s a newer version (%s)", n_upgrades,
			      n_upgrades == 1 ? "" : "s", n_upgrades == 1 ? "s" : "ve", names);
	}

	names[0] = '\0';
	shown = 0;
	json_array_foreach(json_object_get(listing, "devices"), i, device)
	{
		const char *offered = NULL;
		json_t *provider, *missing, *packages;

		if (!json_is_true(json_object_get(device, "needs_driver")) &&
		    json_array_size(json_object_get(device, "firmware_missing")) == 0)
			continue;
		json_array_foreach(json_object_get(device, "providers"), k, provider)
		{
			const char *kind = json_string_value(json_object_get(provider, "kind"));

			if (offered == NULL && kind != NULL && strcmp(kind, "package") == 0 &&
			    !json_is_true(json_object_get(provider, "installed")))
				offered = json_string_value(json_object_get(provider, "package"));
		}
		/* A missing firmware file: the first package that ships it and is not installed
		 * (its "version" is the installed one, null when not installed). */
		json_array_foreach(json_object_get(device, "firmware_missing"), k, missing)
		{
			size_t j;
			json_t *package;

			packages = json_object_get(missing, "packages");
			json_array_foreach(packages, j, package)
			{
				if (offered == NULL &&
				    !json_is_string(json_object_get(package, "version")))
					offered =
						json_string_value(json_object_get(package, "name"));
			}
		}
		if (offered == NULL || has_name(installs, offered) ||
		    strlen(installs) + strlen(offered) + 2 >= sizeof(installs))
			continue;
		snprintf(installs + strlen(installs), sizeof(installs) - strlen(installs), "%s%s",
			 installs[0] ? "," : "", offered);
		add_name(names, sizeof(names), &shown, offered);
		n_installs++;
	}
	kf_watch_measure(run, "drivers", "installable", (double)n_installs);
	if (n_installs > 0) {
		snprintf(fingerprint, sizeof(fingerprint), "%.120s", installs);
		kf_watch_find(run, "drivers-missing", fingerprint, (double)n_installs,
			      "See what they would give with: kefu-agentd drivers", NULL,
			      "%zu package%s would give a device its driver or firmware (%s)",
			      n_installs, n_installs == 1 ? "" : "s", names);
	}
	json_decref(listing);
}
