/* kefu-agentd: the firmware update history, replaced whole on each change. SPDX-License-Identifier: MIT */
#include "agentd/firmware/history.h"
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
