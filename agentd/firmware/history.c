/* kefu-agentd: the firmware update history, replaced whole on each change. SPDX-License-Identifier: MIT */
#include "agentd/firmware/history.h"
#include "agentd/firmware/backend.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HISTORY_MAX_SIZE (16 * 1024 * 1024)

const char *kf_fw_history_default_path(char *buffer, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(buffer, size, "%s/kefu/firmware-history.json", state);
	else
		snprintf(buffer, size, "%s/.local/state/kefu/firmware-history.json",
			 home ? home : "/tmp");
	return buffer;
}

void kf_fw_history_now(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm utc;

	gmtime_r(&now, &utc);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

int kf_fw_history_load(const char *path, json_t **entries, struct kf_error *err)
{
	json_error_t jerr;
	json_t *loaded;
	FILE *file = fopen(path, "re");

	*entries = NULL;
	if (file == NULL) {
		if (errno != ENOENT)
			return kf_error_set(err, KF_ERR_IO,
					    "cannot read the firmware history %s: %s", path,
					    strerror(errno));
		*entries = json_array();
		return *entries != NULL ? KF_OK : kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	if (fseek(file, 0, SEEK_END) == 0 && ftell(file) > HISTORY_MAX_SIZE) {
		fclose(file);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the firmware history %s is too large",
				    path);
	}
	rewind(file);
	loaded = json_loadf(file, JSON_REJECT_DUPLICATES, &jerr);
	fclose(file);
	if (!json_is_array(loaded)) {
		json_decref(loaded);
		return kf_error_set(err, KF_ERR_INVALID, "the firmware history %s is damaged: %s",
				    path, jerr.text);
	}
	*entries = loaded;
	return KF_OK;
}

int kf_fw_history_save(const char *path, json_t *entries, struct kf_error *err)
{
	char temp[4096];
	json_t *kept = json_array();
	size_t count = json_array_size(entries), first;
	int fd, r = KF_OK;
	FILE *file;

	if (kept == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	first = count > KF_FW_HISTORY_MAX ? count - KF_FW_HISTORY_MAX : 0;
	for (size_t i = first; i < count; i++)
		json_array_append(kept, json_array_get(entries, i));
	if (kf_fs_make_parents(path) != 0 ||
	    snprintf(temp, sizeof(temp), "%s.XXXXXX", path) >= (int)sizeof(temp) ||
	    (fd = mkostemp(temp, O_CLOEXEC)) < 0) {
		json_decref(kept);
		return kf_error_set(err, KF_ERR_IO, "cannot write the firmware history %s: %s",
				    path, strerror(errno));
	}
	file = fdopen(fd, "w");
	if (file == NULL || json_dumpf(kept, file, JSON_INDENT(2)) != 0 ||
	    fputc('\n', file) == EOF || fflush(file) != 0 || fsync(fd) != 0)
		r = kf_error_set(err, KF_ERR_IO, "cannot write the firmware history %s", path);
	if (file != NULL)
		fclose(file);
	else
		close(fd);
	if (r == KF_OK && rename(temp, path) != 0)
		r = kf_error_set(err, KF_ERR_IO, "cannot replace the firmware history %s: %s", path,
				 strerror(errno));
	if (r != KF_OK)
		unlink(temp);
	json_decref(kept);
	return r;
}

bool kf_fw_history_settle(json_t *history, const char *boot_id,
			  const struct kf_fw_settings *settings)
{
	json_t *entry;
	size_t i;
	bool changed = false;

	json_array_foreach(history, i, entry)
	{
		const char *result = json_string_value(json_object_get(entry, "result"));
		const char *id = json_string_value(json_object_get(entry, "device"));
		const char *to = json_string_value(json_object_get(entry, "to"));
		const char *booted = json_string_value(json_object_get(entry, "boot_id"));
		struct kf_fw_device *device = NULL;
		char detail[256];
		int order = 1;

		if (result == NULL || id == NULL || to == NULL ||
		    (strcmp(result, "writing") != 0 && strcmp(result, "pending-reboot") != 0))
			continue;
		if (strcmp(result, "pending-reboot") == 0 &&
		    (booted == NULL || strcmp(booted, boot_id) == 0))
			continue; /* the computer has not restarted yet */
		/* The history does not say which backend wrote it: any that finds the id again. */
		for (size_t k = 0; kf_fw_backends[k] != NULL && device == NULL; k++)
			if (kf_fw_backends[k]->reopen != NULL)
				kf_fw_backends[k]->reopen(settings, id, &device, NULL);
		if (device == NULL)
			continue; /* settled when the device is back */
		kf_fw_version_compare(device->version, to, &order, NULL);
		snprintf(detail, sizeof(detail), "%s: the device runs %s",
			 strcmp(result, "writing") == 0 ? "the helper stopped during the update"
							: "after the computer restarted",
			 device->version);
		json_object_set_new(entry, "result",
				    json_string(order == 0                       ? "success"
						: strcmp(result, "writing") == 0 ? "interrupted"
										 : "failed"));
		json_object_set_new(entry, "detail", json_string(detail));
		kf_fw_device_free(device);
		changed = true;
	}
	return changed;
}
