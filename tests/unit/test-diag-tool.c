/* kefu: unit tests for running external tools. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/tool.h"

#include <signal.h>
#include <string.h>

static void tool_output_is_captured_with_its_exit_status(void **state)
{
	const char *argv[] = {"sh", "-c", "printf 'hello'; exit 3", NULL};
	struct kf_tool_result result;
	struct kf_buf out = {0};

	(void)state;
	assert_int_equal(kf_tool_run(argv, 5000, 1024, &out, &result, NULL), KF_OK);
	assert_int_equal(result.exit_status, 3);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "hello", 5);
	assert_false(result.is_truncated);
	kf_buf_free(&out);
}

static void tool_output_past_the_cap_is_dropped_and_flagged(void **state)
{
	const char *argv[] = {"head", "-c", "100000", "/dev/zero", NULL};
	struct kf_tool_result result;
	struct kf_buf out = {0};

	(void)state;
	assert_int_equal(kf_tool_run(argv, 5000, 4096, &out, &result, NULL), KF_OK);
	assert_int_equal(out.len, 4096);
	assert_true(result.is_truncated);
	assert_int_equal(result.exit_status, 0);
	kf_buf_free(&out);
}

static void tool_that_hangs_is_killed_at_the_timeout(void **state)
{
	/* The child keeps the pipe open in a grandchild too: the whole group must go. */
	const char *argv[] = {"sh", "-c", "sleep 30 & sleep 30", NULL};
	struct kf_tool_result result;
	struct kf_buf out = {0};
	struct kf_error err = {0};

	(void)state;
	assert_int_equal(kf_tool_run(argv, 200, 1024, &out, &result, &err), KF_ERR_TIMEOUT);
	assert_true(result.is_timed_out);
	assert_non_null(strstr(err.message, "did not finish"));
	kf_buf_free(&out);
}

static void absent_tool_is_not_found(void **state)
{
	const char *argv[] = {"kefu-no-such-tool-anywhere", NULL};
	struct kf_tool_result result;
	struct kf_buf out = {0};
	struct kf_error err = {0};

	(void)state;
	assert_int_equal(kf_tool_run(argv, 1000, 1024, &out, &result, &err), KF_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "not installed"));
	assert_int_equal(out.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(tool_output_is_captured_with_its_exit_status),
	        cmocka_unit_test(tool_output_past_the_cap_is_dropped_and_flagged),
	        cmocka_unit_test(tool_that_hangs_is_killed_at_the_timeout),
	        cmocka_unit_test(absent_tool_is_not_found),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
