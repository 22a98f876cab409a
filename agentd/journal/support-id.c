/* kefu-agentd: the installation's random support ID. SPDX-License-Identifier: MIT */
#include "agentd/journal/journal.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Crockford's base 32: no I, L, O or U, so an ID read aloud is not misheard. */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

const char *kf_support_id_default_path(char *buffer, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(buffer, size, "%s/kefu/support-id", state);
	else
		snprintf(buffer, size, "%s/.local/state/kefu/support-id", home ? home : "/tmp");
	return buffer;
}

static int is_valid(const char *id)
{
	if (strlen(id) != 17 || strncmp(id, "KF-", 3) != 0)
		return 0;
	for (int i = 3; i < 17; i++) {
		if ((i == 7 || i == 12) ? id[i] != '-' : strchr(alphabet, id[i]) == NULL || !id[i])
			return 0;
	}
	return 1;
}

static int make_new(const char *path, char id[KF_SUPPORT_ID_SIZE], struct kf_error *err)
{
	unsigned char random[12];
	struct kf_fs_file file;
	char line[KF_SUPPORT_ID_SIZE + 1];
	int p = 0;

	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
		return kf_error_set(err, KF_ERR_IO, "no randomness for a support ID");
	memcpy(id, "KF-", 3);
	p = 3;
	for (int i = 0; i < 12; i++) {
		if (i == 4 || i == 8)
			id[p++] = '-';
		id[p++] = alphabet[random[i] & 31];
	}
	id[p] = '\0';
	if (kf_fs_make_parents(path) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder for %s", path);
	/* Whole or not at all: a crash never leaves half an ID. */
	if (kf_fs_create(path, 0600, &file) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	snprintf(line, sizeof(line), "%s\n", id);
	if (write(file.fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    kf_fs_publish(&file, path, 1) != 0) {
		kf_fs_discard(&file);
		return kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return KF_OK;
}

int kf_support_id_get(const char *path, char id[KF_SUPPORT_ID_SIZE], struct kf_error *err)
{
	char default_path[4096], line[64] = "";
	FILE *file;

	if (path == NULL)
		path = kf_support_id_default_path(default_path, sizeof(default_path));
	if ((file = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			return kf_error_set(err, KF_ERR_IO, "cannot read %s: %s", path,
					    strerror(errno));
		return make_new(path, id, err);
	}
	if (fgets(line, sizeof(line), file) == NULL)
		line[0] = '\0';
	fclose(file);
	line[strcspn(line, "\n")] = '\0';
	if (!is_valid(line))
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s does not hold a support ID (reset it with "
				    "'kefu-agentd support-id --reset')",
				    path);
	/* is_valid() held it to the ID's exact length, which fits. */
	memcpy(id, line, strnlen(line, KF_SUPPORT_ID_SIZE - 1));
	id[strnlen(line, KF_SUPPORT_ID_SIZE - 1)] = '\0';
	return KF_OK;
}

int kf_support_id_reset(const char *path, char id[KF_SUPPORT_ID_SIZE], struct kf_error *err)
{
	char default_path[4096];

	if (path == NULL)
		path = kf_support_id_default_path(default_path, sizeof(default_path));
	return make_new(path, id, err);
}
