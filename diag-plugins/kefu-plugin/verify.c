/* kefu-plugin: `verify` checks a plugin or firmware package exactly as the agent does before
 * installing. SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "diag-plugins/kefu-plugin/package-kind.h"
#include "proto/base/base64.h"

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
	const struct kf_package_kind *kind = NULL;
	enum kf_package_reason reason;
	uint8_t *data = NULL;
	size_t len = 0;
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
	r = kf_package_kind_read(argv[optind], &kind, &data, &len, &err);
	if (r == KF_OK && profile_path != NULL) {
		if ((r = kf_profile_load(profile_path, &profile, &err)) == KF_OK)
			r = kind->trust(profile, &trusted, &n_trusted, &err);
	}
	if (r == KF_OK)
		r = kf_package_verify(data, len, kind->name, trusted, n_trusted, kind->limits, &pkg,
				      &reason, &err);
	if (r == KF_OK && (r = kind->check(pkg, &reason, &err)) != KF_OK) {
		kf_package_free(pkg);
		pkg = NULL;
	}
	if (trusted != keys)
		free(trusted);
	free(data);
	kf_profile_free(profile);
	if (r != KF_OK)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: refused: %s", argv[optind], err.message);
	public = kf_base64_encode(pkg->key, sizeof(pkg->key));
	printf("%s: verified: %s %s %s from \"%s\", signed by key %s\n", argv[optind], pkg->kind,
	       pkg->id, pkg->version, pkg->publisher, public != NULL ? public : "?");
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
