/* kefu tests: the shared fixtures (real device recordings, real LVFS firmware). SPDX-License-Identifier: MIT */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *fixtures_dir(void)
{
	const char *dir = getenv("KEFU_FIXTURES_DIR");

	if (dir != NULL)
		return dir;
	return access("../shared/fixtures/fwupd/LVFS-CA.pem", R_OK) == 0 ? "../shared/fixtures"
									 : "../../shared/fixtures";
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
	char path[1024];

	snprintf(path, sizeof(path), "%s/fwupd/%s", fixtures_dir(), name);
	return read_whole_file(path, len);
}
