/* kefu-agentd watch: firmware updates for this computer's devices, from signed LVFS metadata.
 * SPDX-License-Identifier: MIT */
#include "agentd/firmware/updates.h"
#include "agentd/i18n.h"
#include "agentd/watch/run.h"
#include "proto/firmware/version.h"
#include "proto/session/profile.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Whether firmware metadata is configured at all: --metadata, or the profile's
 * "firmware_metadata". A computer whose organisation publishes none has nothing to be
 * checked against, which is no fault to note every day; a profile that is there but
 * cannot be read is one.
 */
static bool is_configured(struct kf_watch_run *run)
{
	const char *path = run->profile != NULL ? run->profile : kf_profile_default_path();
	struct kf_profile *profile = NULL;
	struct kf_error err;
	bool configured;

	if (run->firmware_metadata != NULL)
		return true;
	if (path == NULL || access(path, F_OK) != 0)
		return false;
	if (kf_profile_load(path, &profile, &err) != KF_OK) {
		kf_watch_note(run, _("firmware updates were not checked: %s"), err.message);
		return false;
	}
	configured = profile->firmware_metadata != NULL;
	kf_profile_free(profile);
	return configured;
}

/*
 * How many newer versions of a device's firmware were told: the store tells an alert
 * again only when its fingerprint changed and its value grew, so the value grows only
 * when the version offered is newer than the one last told. A release taken back
 * (1.2.5 told, 1.2.4 offered now) is not told again.
 */
static double times_told(struct kf_watch_run *run, const char *rule, const char *version)
{
	struct kf_watch_alert old;
	struct kf_error err;
	int order;

	if (kf_watch_store_alert_get(run->store, rule, &old, &err) != KF_OK)
		return 1;
	if (strcmp(old.fingerprint, version) == 0)
		return old.value;
	if (kf_fw_version_compare(version, old.fingerprint, &order, NULL) != KF_OK)
		order = 1; /* a version kefu cannot order against the last: a change to tell */
	return order > 0 ? old.value + 1 : old.value;
}

/* A word as a shell reads it: quoted only when it has to be. */
static gchar *shell_word(const char *word)
{
	if (word[0] != '\0' &&
	    strspn(word,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:@%+=,-") ==
		    strlen(word))
		return g_strdup(word);
	return g_shell_quote(word);
}

/* "kefu-agentd firmware apply --latest DEVICE", with the places this run was given. */
static void install_words(const struct kf_watch_run *run, const char *device, char *out,
			  size_t size)
{
	gchar *id = shell_word(device), *metadata = NULL, *devices = NULL, *profile = NULL;

	if (run->firmware_metadata != NULL)
		metadata = shell_word(run->firmware_metadata);
	if (run->firmware_devices != NULL)
		devices = shell_word(run->firmware_devices);
	if (run->profile != NULL)
		profile = shell_word(run->profile);
	snprintf(out, size, "kefu-agentd firmware apply --latest %s%s%s%s%s%s%s", id,
		 metadata ? " --metadata " : "", metadata ? metadata : "",
		 devices ? " --devices " : "", devices ? devices : "", profile ? " --profile " : "",
		 profile ? profile : "");
	g_free(id);
	g_free(metadata);
	g_free(devices);
	g_free(profile);
}

/*
 * The updates `kefu-agentd firmware updates` finds, through the same function: metadata
 * whose Jcat signature does not check out is a note of this run, never an alert, and
 * nothing is installed. One alert per device, told again only for a newer version.
 */
void kf_watch_firmware(struct kf_watch_run *run)
{
	struct kf_fw_updates_query query = {
		.profile = run->profile,
		.metadata = run->firmware_metadata,
		.root = run->root,
		.devices = run->firmware_devices,
	};
	struct kf_error err = {0};
	char where[4096];
	json_t *updates = NULL, *u;
	size_t i;
	int r;

	if (!is_configured(run))
		return;
	r = kf_fw_updates_find(&query, &updates, where, sizeof(where), &err);
	/* Unsigned or tampered metadata among them (KF_ERR_AUTH): its words are not read. */
	if (r != KF_OK) {
		kf_watch_note(run, _("firmware updates were not checked: %s"), err.message);
		return;
	}
	kf_watch_measure(run, "firmware", "updates", (double)json_array_size(updates));
	json_array_foreach(updates, i, u)
	{
		const char *device = json_string_value(json_object_get(u, "device"));
		const char *name = json_string_value(json_object_get(u, "device_name"));
		const char *from = json_string_value(json_object_get(u, "from"));
		const char *to = json_string_value(json_object_get(u, "to"));
		const char *urgency = json_string_value(json_object_get(u, "urgency"));
		char rule[128], advice[512], install[400];
		size_t n_before;
		bool is_urgent;

		if (device == NULL || from == NULL || to == NULL)
			continue;
		if (name == NULL || name[0] == '\0')
			name = device;
		is_urgent = urgency != NULL &&
			    (strcmp(urgency, "high") == 0 || strcmp(urgency, "critical") == 0);
		snprintf(rule, sizeof(rule), "firmware-update:%.100s", device);
		install_words(run, device, install, sizeof(install));
		snprintf(advice, sizeof(advice), _("Install it with: %s"), install);
		n_before = run->n_found;
		if (is_urgent)
			kf_watch_find(run, rule, to, times_told(run, rule, to), advice, NULL,
				      _("Firmware %s is available for %s (you have %s); its maker "
					"marks it as important"),
				      to, name, from);
		else
			kf_watch_find(run, rule, to, times_told(run, rule, to), advice, NULL,
				      _("Firmware %s is available for %s (you have %s)"), to, name,
				      from);
		/* "Fix now" installs it in kefu's window, which asks first. */
		if (run->n_found > n_before)
			snprintf(run->found[run->n_found - 1].device,
				 sizeof(run->found[run->n_found - 1].device), "%s", device);
	}
	json_decref(updates);
}
