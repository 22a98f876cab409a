/* kefu: libFuzzer target for the package reader: tar headers, caps, the signed list, member
 * checks, hashes, and the plugin checks on top. SPDX-License-Identifier: MIT */
#include "proto/plugin/package.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A forged signature never verifies, so the signed path stops at the signature;
 * the unsigned path (the signing step's reader) runs every later check on the
 * same bytes, and the plugin checks run on whatever it accepts.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kf_package_publisher trusted = {"kefu", {1, 2, 3}};
	struct kf_package *pkg = NULL;
	enum kf_package_reason reason;
	struct kf_error err;

	if (kf_package_verify(data, size, KF_PLUGIN_PACKAGE_KIND, &trusted, 1,
			      &kf_plugin_package_limits, &pkg, &reason, &err) == KF_OK)
		kf_package_free(pkg);
	if (kf_package_read_unsigned(data, size, KF_PLUGIN_PACKAGE_KIND, &kf_plugin_package_limits,
				     &pkg, &reason, &err) == KF_OK) {
		(void)kf_plugin_package_check(pkg, NULL, &reason, &err);
		kf_package_free(pkg);
	}
	return 0;
}
