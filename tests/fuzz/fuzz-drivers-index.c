/* kefu: libFuzzer target for the drivers wing's parsers: module .modinfo, Modaliases fields, apt Packages and dpkg status files. SPDX-License-Identifier: MIT */
#include "agentd/drivers/modules.h"
#include "agentd/drivers/packages.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count_pair(const char *module, const char *pattern, void *user)
{
	*(size_t *)user += strlen(module) + strlen(pattern);
	return true;
}

/* A private tree, made once, whose Packages and status files each input replaces. */
static const char *tree(void)
{
	static char root[64];

	if (root[0] == '\0') {
		char path[128];
		snprintf(root, sizeof(root), "/tmp/fuzz-drivers-XXXXXX");
		if (mkdtemp(root) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/var", root);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/var/lib", root);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/var/lib/dpkg", root);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/var/lib/apt", root);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/var/lib/apt/lists", root);
		mkdir(path, 0700);
	}
	return root;
}

static void write_file(const char *root, const char *path, const uint8_t *data, size_t size)
{
	char full[256];
	FILE *file;

	snprintf(full, sizeof(full), "%s%s", root, path);
	if ((file = fopen(full, "wb")) == NULL)
		abort();
	fwrite(data, 1, size, file);
	fclose(file);
}

/* The first byte says which parser gets the rest. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char version[64], srcversion[64];
	struct kf_pkg_index index;
	struct kf_error err;
	size_t total = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		kf_kmod_modinfo_parse(data + 1, size - 1, version, sizeof(version), srcversion,
				      sizeof(srcversion), &err);
		break;
	case 1: {
		char *field = malloc(size);
		if (field == NULL)
			return 0;
		memcpy(field, data + 1, size - 1);
		field[size - 1] = '\0';
		kf_pkg_modaliases_each(field, count_pair, &total);
		free(field);
		break;
	}
	default: {
		const char *root = tree();
		size_t half = (size - 1) / 2;
		write_file(root, "/var/lib/dpkg/status", data + 1, half);
		write_file(root, "/var/lib/apt/lists/fuzz_Packages", data + 1 + half,
			   size - 1 - half);
		if (kf_pkg_index_load(&index, root, &err) == 0) {
			const struct kf_pkg *pkg = kf_pkg_index_find(&index, "kefu");
			if (pkg != NULL && pkg->modaliases != NULL)
				kf_pkg_modaliases_each(pkg->modaliases, count_pair, &total);
			kf_pkg_index_free(&index);
		}
		break;
	}
	}
	return 0;
}
