/* kefu: unit tests for firmware version formats and update rules. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/firmware/version.h"

#include <string.h>

static void raw_values_format_as_fwupd_does(void **state)
{
	char out[32];
	(void)state;

	assert_int_equal(
		kf_fw_version_from_uint32(0x01020304, KF_FW_VERSION_QUAD, out, sizeof(out), NULL),
		0);
	assert_string_equal(out, "1.2.3.4");
	assert_int_equal(kf_fw_version_from_uint32(0x01020304, KF_FW_VERSION_TRIPLET, out,
						   sizeof(out), NULL),
			 0);
	assert_string_equal(out, "1.2.772");
	assert_int_equal(
		kf_fw_version_from_uint32(0x00010002, KF_FW_VERSION_PAIR, out, sizeof(out), NULL),
		0);
	assert_string_equal(out, "1.2");
	assert_int_equal(
		kf_fw_version_from_uint32(1234, KF_FW_VERSION_PLAIN, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "1234");
	assert_int_equal(
		kf_fw_version_from_uint32(0x0112, KF_FW_VERSION_BCD, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "1.12");
	assert_int_equal(
		kf_fw_version_from_uint32(0xabc, KF_FW_VERSION_HEX, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "0x00000abc");
	assert_int_equal(kf_fw_version_from_uint32(1, KF_FW_VERSION_QUAD, out, 4, NULL),
			 KF_ERR_TOO_LARGE);
}

static void sections_compare_as_numbers(void **state)
{
	int order = 9;
	(void)state;

	assert_int_equal(kf_fw_version_compare("1.10", "1.9", &order, NULL), 0);
	assert_int_equal(order, 1);
	assert_int_equal(kf_fw_version_compare("1.2.2", "1.2.4", &order, NULL), 0);
	assert_int_equal(order, -1);
	assert_int_equal(kf_fw_version_compare("1.2", "1.2.0", &order, NULL), 0);
	assert_int_equal(order, 0);
	assert_int_equal(kf_fw_version_compare("1.2.x", "1.2", &order, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_fw_version_compare("1.2.3.4.5", "1", &order, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_fw_version_compare("", "1", &order, NULL), KF_ERR_INVALID);
}

static void format_names_round_trip_and_guess(void **state)
{
	(void)state;
	assert_int_equal(kf_fw_version_format_from_string("triplet"), KF_FW_VERSION_TRIPLET);
	assert_string_equal(kf_fw_version_format_name(KF_FW_VERSION_BCD), "bcd");
	assert_int_equal(kf_fw_version_format_from_string("bogus"), KF_FW_VERSION_UNKNOWN);
	assert_int_equal(kf_fw_version_guess_format("1.2.3"), KF_FW_VERSION_TRIPLET);
	assert_int_equal(kf_fw_version_guess_format("0x10"), KF_FW_VERSION_HEX);
	assert_int_equal(kf_fw_version_guess_format("a.b"), KF_FW_VERSION_UNKNOWN);
}

static void downgrade_and_reinstall_need_flags(void **state)
{
	struct kf_error err;
	(void)state;

	assert_int_equal(kf_fw_version_check_update("1.2.2", KF_FW_VERSION_TRIPLET, "1.2.4",
						    KF_FW_VERSION_TRIPLET, 0, &err),
			 0);
	assert_int_equal(kf_fw_version_check_update("1.2.4", KF_FW_VERSION_TRIPLET, "1.2.3",
						    KF_FW_VERSION_TRIPLET, 0, &err),
			 KF_ERR_DENIED);
	assert_non_null(strstr(err.message, "older"));
	assert_int_equal(kf_fw_version_check_update("1.2.4", KF_FW_VERSION_TRIPLET, "1.2.3",
						    KF_FW_VERSION_TRIPLET, KF_FW_ALLOW_OLDER, &err),
			 0);
	assert_int_equal(kf_fw_version_check_update("1.2.4", KF_FW_VERSION_TRIPLET, "1.2.4",
						    KF_FW_VERSION_TRIPLET, 0, &err),
			 KF_ERR_DENIED);
	assert_int_equal(kf_fw_version_check_update("1.2.4", KF_FW_VERSION_TRIPLET, "1.2.4",
						    KF_FW_VERSION_TRIPLET, KF_FW_ALLOW_REINSTALL,
						    &err),
			 0);
	assert_int_equal(kf_fw_version_check_update("1.2.4", KF_FW_VERSION_TRIPLET, "1.2.5",
						    KF_FW_VERSION_QUAD, 0, &err),
			 KF_ERR_INVALID);
}

static void requirements_compare_as_fwupd_states_them(void **state)
{
	(void)state;
	assert_int_equal(kf_fw_version_meets("1.2.2", "ge", "1.2.0"), 1);
	assert_int_equal(kf_fw_version_meets("1.2.2", "ge", "1.2.3"), 0);
	assert_int_equal(kf_fw_version_meets("1.10", "gt", "1.9"), 1);
	assert_int_equal(kf_fw_version_meets("1.2.2", "eq", "1.2.2"), 1);
	assert_int_equal(kf_fw_version_meets("1.2.2", "ne", "1.2.2"), 0);
	assert_int_equal(kf_fw_version_meets("1.2.2", "lt", "1.3"), 1);
	assert_int_equal(kf_fw_version_meets("1.2.2", "le", "1.2.1"), 0);
	assert_int_equal(kf_fw_version_meets("1.2.2", "glob", "1.2.*"), 1);
	assert_int_equal(kf_fw_version_meets("1.2.2", "regex", "^2\\."), 0);
	/* What cannot be told is neither yes nor no. */
	assert_int_equal(kf_fw_version_meets("1.2.2", "regex", "("), -1);
	assert_int_equal(kf_fw_version_meets("1.2.2", "around", "1.2.2"), -1);
	assert_int_equal(kf_fw_version_meets("banana", "ge", "1.0"), -1);
	assert_int_equal(kf_fw_version_meets("1.0", NULL, "1.0"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_values_format_as_fwupd_does),
		cmocka_unit_test(sections_compare_as_numbers),
		cmocka_unit_test(format_names_round_trip_and_guess),
		cmocka_unit_test(downgrade_and_reinstall_need_flags),
		cmocka_unit_test(requirements_compare_as_fwupd_states_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
