/* kefu: unit tests for SSH appliance targets (USER@HOST[:PORT]). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/firmware/ssh.h"

static void targets_parse(void **state)
{
	struct kf_fw_ssh_target t;
	(void)state;

	assert_int_equal(kf_fw_ssh_parse_target("admin@192.0.2.7", &t, NULL), KF_OK);
	assert_string_equal(t.user, "admin");
	assert_string_equal(t.host, "192.0.2.7");
	assert_int_equal(t.port, 22);
	assert_int_equal(kf_fw_ssh_parse_target("a@b@router.lan:2222", &t, NULL), KF_OK);
	assert_string_equal(t.user, "a@b");
	assert_string_equal(t.host, "router.lan");
	assert_int_equal(t.port, 2222);
	assert_int_equal(kf_fw_ssh_parse_target("root@[2001:db8::1]:830", &t, NULL), KF_OK);
	assert_string_equal(t.host, "2001:db8::1");
	assert_int_equal(t.port, 830);
	assert_int_equal(kf_fw_ssh_parse_target("root@[::1]", &t, NULL), KF_OK);
	assert_string_equal(t.host, "::1");
}

static void bad_targets_are_refused(void **state)
{
	static const char *const bad[] = {
		"host",        "@host",           "user@",         "user@host:",
		"user@host:0", "user@host:65536", "user@host:22x", "user@[::1",
		"user@[::1]x", "us er@host",
	};
	struct kf_fw_ssh_target t;
	struct kf_error err;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kf_fw_ssh_parse_target(bad[i], &t, &err) != KF_ERR_INVALID)
			fail_msg("%s was accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(targets_parse),
		cmocka_unit_test(bad_targets_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
