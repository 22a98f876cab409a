/* kefu: unit tests for instance-ID to GUID derivation. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/firmware/guid.h"

static void instance_ids_hash_to_known_guids(void **state)
{
	char guid[KF_FW_GUID_STRING_SIZE];
	(void)state;

	/* The RFC 4122 / fwupd self-test value for "python.org". */
	assert_int_equal(kf_fw_guid_from_instance_id("python.org", guid, NULL), 0);
	assert_string_equal(guid, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	assert_int_equal(kf_fw_guid_from_instance_id("USB\\VID_273F&PID_1004", guid, NULL), 0);
	assert_string_equal(guid, "2fa8891f-3ece-53a4-adc4-0dd875685f30");
	assert_true(kf_fw_guid_is_valid(guid));
}

static void empty_instance_id_is_refused(void **state)
{
	char guid[KF_FW_GUID_STRING_SIZE];
	(void)state;
	assert_int_equal(kf_fw_guid_from_instance_id("", guid, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_fw_guid_from_instance_id(NULL, guid, NULL), KF_ERR_INVALID);
}

static void guid_syntax_is_checked(void **state)
{
	(void)state;
	assert_true(kf_fw_guid_is_valid("b585990a-003e-5270-89d5-3705a17f9a43"));
	assert_false(kf_fw_guid_is_valid("b585990a-003e-5270-89d5-3705a17f9a4"));
	assert_false(kf_fw_guid_is_valid("b585990a_003e-5270-89d5-3705a17f9a43"));
	assert_false(kf_fw_guid_is_valid("g585990a-003e-5270-89d5-3705a17f9a43"));
	assert_false(kf_fw_guid_is_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(instance_ids_hash_to_known_guids),
		cmocka_unit_test(empty_instance_id_is_refused),
		cmocka_unit_test(guid_syntax_is_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
