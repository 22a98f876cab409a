/* kefu: unit tests for the PackageKit client's choices: package IDs read, the package to ask for. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/drivers/packagekit.h"

#include <string.h>

enum { INSTALLED = 1, AVAILABLE = 2 }; /* PackageKit's info values */

static void package_id_fields_are_read_and_escaped(void **state)
{
	char out[64];
	(void)state;

	kf_drivers_pk_id_field("kefu-test-i915;1.1-1;all;local", 0, out, sizeof(out));
	assert_string_equal(out, "kefu-test-i915");
	kf_drivers_pk_id_field("kefu-test-i915;1.1-1;all;local", 1, out, sizeof(out));
	assert_string_equal(out, "1.1-1");
	kf_drivers_pk_id_field("kefu-test-i915;1.1-1;all;local", 3, out, sizeof(out));
	assert_string_equal(out, "local");
	kf_drivers_pk_id_field("no-fields", 1, out, sizeof(out));
	assert_string_equal(out, "?");
	kf_drivers_pk_id_field("", 0, out, sizeof(out));
	assert_string_equal(out, "");
	/* A daemon's text never reaches the terminal as control characters. */
	kf_drivers_pk_id_field("evil\033[2J;1.0;all;x", 0, out, sizeof(out));
	assert_null(strchr(out, '\033'));
	kf_drivers_pk_id_field("a-long-name-that-does-not-fit;1;all;x", 0, out, 8);
	assert_int_equal(strlen(out), 7);
}

static void package_id_is_named_only_by_its_whole_name(void **state)
{
	(void)state;
	assert_true(kf_drivers_pk_id_is_named("bash;5.2-15;amd64;debian", "bash"));
	assert_false(kf_drivers_pk_id_is_named("bash-evil;1.0;all;x", "bash"));
	assert_false(kf_drivers_pk_id_is_named("bas;1.0;all;x", "bash"));
	assert_false(kf_drivers_pk_id_is_named("bash", "bash"));
	assert_false(kf_drivers_pk_id_is_named("", "bash"));
}

static json_t *resolved(void)
{
	return json_pack("[[i,s],[i,s],[i,s],[i,s],[i,s],[i,s]]", INSTALLED,
			 "kefu-test-i915;1.0-1;all;manual:local", AVAILABLE,
			 "kefu-test-i915;1.1-1;all;local", AVAILABLE,
			 "kefu-test-i915;1.2~rc1-1;all;local", AVAILABLE,
			 "kefu-test-i915-evil;9.9;all;local", AVAILABLE,
			 "kefu-test-camera-dkms;1.0-1;all;local", AVAILABLE,
			 "kefu-test-camera-dkms;not a version;all;local");
}

static void the_wanted_version_is_chosen_when_offered_else_the_highest(void **state)
{
	json_t *packages = resolved();
	(void)state;

	assert_string_equal(kf_drivers_pk_choose(packages, "kefu-test-i915", "1.1-1", true),
			    "kefu-test-i915;1.1-1;all;local");
	/* 1.2~rc1 sorts above 1.1 (and below 1.2): dpkg's order, not the text's. */
	assert_string_equal(kf_drivers_pk_choose(packages, "kefu-test-i915", NULL, true),
			    "kefu-test-i915;1.2~rc1-1;all;local");
	assert_string_equal(kf_drivers_pk_choose(packages, "kefu-test-i915", "7.0", true),
			    "kefu-test-i915;1.2~rc1-1;all;local");
	assert_string_equal(kf_drivers_pk_choose(packages, "kefu-test-camera-dkms", NULL, false),
			    "kefu-test-camera-dkms;1.0-1;all;local");
	json_decref(packages);
}

static void an_installed_or_other_package_is_never_chosen(void **state)
{
	json_t *packages = resolved(), *only_installed;
	(void)state;

	assert_null(kf_drivers_pk_choose(packages, "kefu-test-i915-evi", NULL, false));
	assert_null(kf_drivers_pk_choose(packages, "bash", NULL, false));
	assert_null(kf_drivers_pk_choose(packages, "kefu-test", NULL, false));
	only_installed =
		json_pack("[[i,s],[i,s]]", INSTALLED, "kefu-test-i915;1.1-1;all;manual:local",
			  AVAILABLE, "kefu-test-i915;1.0-1;all;local");
	/* An upgrade wants more than what is installed; nothing offered is. */
	assert_null(kf_drivers_pk_choose(only_installed, "kefu-test-i915", "1.0-1", true));
	json_decref(only_installed);
	json_decref(packages);
}

static void malformed_resolve_results_are_skipped(void **state)
{
	json_t *packages = json_pack("[[s,s],[i],[i,i],{},[i,s]]", "2", "x;1;all;y", AVAILABLE,
				     AVAILABLE, 7, AVAILABLE, "x;2;all;y");
	(void)state;

	assert_string_equal(kf_drivers_pk_choose(packages, "x", NULL, false), "x;2;all;y");
	json_decref(packages);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(package_id_fields_are_read_and_escaped),
		cmocka_unit_test(package_id_is_named_only_by_its_whole_name),
		cmocka_unit_test(the_wanted_version_is_chosen_when_offered_else_the_highest),
		cmocka_unit_test(an_installed_or_other_package_is_never_chosen),
		cmocka_unit_test(malformed_resolve_results_are_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
