/* kefu-plugin: `verify` checks a plugin package exactly as the agent does before installing.
 * SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "proto/base64.h"
#include "proto/plugin-package.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_KEYS 16

int kf_plugin_cmd_verify(int argc, char **argv)
{
	static const struct option options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"publisher-key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct kf_package_publisher keys[MAX_KEYS], *trusted = keys;
	const char *profile_path = NULL;
	struct kf_profile *profile = NULL;
	struct kf_package *pkg = NULL;
	enum kf_package_reason reason;
	struct kf_error err;
	size_t n_trusted = 0, i;
	char *public;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'p') {
			profile_path = optarg;
		} else if (opt == 'k' && n_trusted < MAX_KEYS) {
			keys[n_trusted].name = NULL;
			if (kf_package_key_decode(optarg, keys[n_trusted].key) < 0)
				return kf_cli_fail(KF_PLUGIN_PROGRAM,
						   "--publisher-key: not a base64 Ed25519 key");
			n_trusted++;
		} else {
			goto usage;
		}
	}
	if (optind != argc - 1 || (profile_path == NULL) == (n_trusted == 0))
		goto usage;
	if (profile_path != NULL) {
		if (kf_profile_load(profile_path, &profile, &err) != KF_OK ||
		    kf_plugin_package_trust(profile, &trusted, &n_trusted, &err) != KF_OK) {
			kf_profile_free(profile);
			return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
		}
	}
	r = kf_plugin_package_open(argv[optind], trusted, n_trusted, &pkg, &reason, &err);
	if (trusted != keys)
		free(trusted);
	kf_profile_free(profile);
	if (r != KF_OK)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: refused: %s", argv[optind], err.message);
	public = kf_base64_encode(pkg->key, sizeof(pkg->key));
	printf("%s: verified: plugin %s %s from \"%s\", signed by key %s\n", argv[optind], pkg->id,
	       pkg->version, pkg->publisher, public != NULL ? public : "?");
	free(public);
	for (i = 0; i < pkg->n_files; i++)
		printf("  %s %8zu  %s\n", pkg->files[i].executable ? "x" : "-", pkg->files[i].size,
		       pkg->files[i].path);
	kf_package_free(pkg);
	return KF_EXIT_OK;
usage:
	fprintf(stderr, "usage: %s verify (--profile FILE | --publisher-key BASE64...) FILE\n",
		KF_PLUGIN_PROGRAM);
	return KF_EXIT_USAGE;
}
