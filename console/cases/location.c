/* kefu-console: where the case store is, from the console's configuration. SPDX-License-Identifier: MIT */
#include "console/cases/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *default_sqlite_path(char *buffer, size_t size)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (data != NULL && data[0] == '/')
		snprintf(buffer, size, "%s/kefu/console/cases.sqlite", data);
	else
		snprintf(buffer, size, "%s/.local/share/kefu/console/cases.sqlite",
			 home ? home : "/tmp");
	return buffer;
}

static char *trim(char *text)
{
	char *end;

	while (*text == ' ' || *text == '\t')
		text++;
	end = text + strlen(text);
	while (end > text &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return text;
}

/*
 * The configuration is lines of "key = value"; '#' starts a comment. Keys this
 * code does not read belong to other parts of the console and are left alone.
 */
const char *kf_case_store_location(const char *config_path, char *buffer, size_t size,
				   struct kf_error *err)
{
	char line[4096];
	FILE *file = config_path ? fopen(config_path, "r") : NULL;
	int number = 0, is_set = 0;

	if (file == NULL && config_path != NULL && errno != ENOENT) {
		kf_error_set(err, KF_ERR_IO, "cannot read %s: %s", config_path, strerror(errno));
		return NULL;
	}
	while (file != NULL && fgets(line, sizeof(line), file) != NULL && number < 10000) {
		char *text = trim(line), *equals, *key, *value;

		number++;
		if (text[0] == '#' || text[0] == '\0')
			continue;
		if ((equals = strchr(text, '=')) == NULL) {
			fclose(file);
			kf_error_set(err, KF_ERR_INVALID, "line %d of %s is not 'key = value'",
				     number, config_path);
			return NULL;
		}
		*equals = '\0';
		key = trim(text);
		value = trim(equals + 1);
		if (strcmp(key, "database") == 0) {
			if (value[0] == '\0' || strlen(value) >= size) {
				fclose(file);
				kf_error_set(err, KF_ERR_INVALID,
					     "line %d of %s: the database is empty or too long",
					     number, config_path);
				return NULL;
			}
			snprintf(buffer, size, "%s", value);
			is_set = 1;
		}
	}
	if (file != NULL)
		fclose(file);
	return is_set ? buffer : default_sqlite_path(buffer, size);
}
