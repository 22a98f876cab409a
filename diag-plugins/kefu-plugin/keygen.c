/* kefu-plugin: `keygen` makes a publisher's Ed25519 signing key and prints its profile entry.
 * SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "proto/package/package.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file name from a publisher name: lower-case letters and digits, other runs become '-'. */
static void slug_of(const char *name, char *out, size_t cap)
{
	size_t n = 0;

	for (; *name != '\0' && n + 1 < cap; name++) {
		char c = *name;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[n++] = c;
		else if (n > 0 && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

static bool is_publisher_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > 128 || name[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

int kf_plugin_cmd_keygen(int argc, char **argv)
{
	static const struct option options[] = {
		{"out", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	char slug[64], key_path[PATH_MAX], pub_path[PATH_MAX + 8], *public = NULL, *line = NULL;
	struct kf_error err;
	EVP_PKEY *key;
	json_t *entry;
	FILE *f;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		if (opt != 'o')
			goto usage;
		out = optarg;
	}
	if (optind != argc - 1 || !is_publisher_name(argv[optind]))
		goto usage;
	slug_of(argv[optind], slug, sizeof(slug));
	if (out == NULL && slug[0] == '\0')
		return kf_cli_fail(KF_PLUGIN_PROGRAM,
				   "cannot make a file name from \"%s\"; give --out FILE",
				   argv[optind]);
	snprintf(key_path, sizeof(key_path), "%s", out != NULL ? out : slug);
	if (out == NULL)
		strncat(key_path, ".key", sizeof(key_path) - strlen(key_path) - 1);
	/* acme.key -> acme.pub; any other name gets .pub added. */
	snprintf(pub_path, sizeof(pub_path), "%s", key_path);
	if (strlen(pub_path) > 4 && strcmp(pub_path + strlen(pub_path) - 4, ".key") == 0)
		pub_path[strlen(pub_path) - 4] = '\0';
	strncat(pub_path, ".pub", sizeof(pub_path) - strlen(pub_path) - 1);
	if (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0)
		return kf_cli_fail(KF_PLUGIN_PROGRAM,
				   "%s or %s already exists; a key is never overwritten", key_path,
				   pub_path);

	key = kf_package_key_generate();
	if (key == NULL || (public = kf_package_key_public_base64(key)) == NULL) {
		EVP_PKEY_free(key);
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "cannot generate an Ed25519 key");
	}
	r = kf_package_key_save(key, key_path, &err);
	EVP_PKEY_free(key);
	if (r != KF_OK) {
		free(public);
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
	}
	entry = json_pack("{s:s, s:s}", "name", argv[optind], "public_key", public);
	line = json_dumps(entry, JSON_PRESERVE_ORDER);
	json_decref(entry);
	free(public);
	if (line == NULL)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "out of memory");
	f = fopen(pub_path, "wx");
	if (f == NULL || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0) {
		free(line);
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: cannot write the public key", pub_path);
	}
	printf("%s\n", line);
	fprintf(stderr,
		"%s: private key in %s (keep it secret), profile entry in %s: add it to "
		"\"plugin_publishers\" or \"firmware_publishers\"\n",
		KF_PLUGIN_PROGRAM, key_path, pub_path);
	free(line);
	return KF_EXIT_OK;
usage:
	fprintf(stderr, "usage: %s keygen [--out FILE] PUBLISHER-NAME\n", KF_PLUGIN_PROGRAM);
	return KF_EXIT_USAGE;
}
