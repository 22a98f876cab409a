/* kefu tests: the fixtures in tests/fixtures/ (real device recordings, real LVFS firmware). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fixtures_dir(void)
{
	static char dir[1024];
	const char *env = getenv("KEFU_FIXTURES_DIR");
	const char *source = getenv("KEFU_SOURCE_DIR");
	struct stat st;

	if (env != NULL && env[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", env);
	else if (source != NULL && source[0] != '\0')
		snprintf(dir, sizeof(dir), "%s/tests/fixtures", source);
	else
		snprintf(dir, sizeof(dir), "tests/fixtures");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		fail_msg("the fixtures folder %s is missing (%s); run the tests from the checkout "
			 "or set KEFU_SOURCE_DIR",
			 dir, strerror(errno != 0 ? errno : ENOTDIR));
	return dir;
}

char *fixture_path(const char *relative, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", fixtures_dir(), relative);

	if (n < 0 || (size_t)n >= size)
		fail_msg("the path of fixture %s does not fit in %zu bytes", relative, size);
	if (access(out, R_OK) != 0)
		fail_msg("fixture %s is missing: %s (tests/fixtures/README.md lists them)", out,
			 strerror(errno));
	return out;
}

uint8_t *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (data = malloc((size_t)size + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(data, 1, (size_t)size, f);
	data[*len] = 0;
	fclose(f);
	return data;
}

uint8_t *read_fwupd_fixture(const char *name, size_t *len)
{
	char relative[512], path[1024];
	uint8_t *data;

	snprintf(relative, sizeof(relative), "fwupd/%s", name);
	data = read_whole_file(fixture_path(relative, path, sizeof(path)), len);
	if (data == NULL)
		fail_msg("fixture %s could not be read: %s", path, strerror(errno));
	return data;
}
