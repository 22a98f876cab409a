/* kefu: unit tests for the session code. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/code.h"

#include <string.h>

static void made_codes_format_and_parse_back(void **state)
{
	(void)state;
	for (int i = 0; i < 500; i++) {
		struct kf_code made, parsed;
		char text[KF_CODE_TEXT_SIZE];
		uint16_t port = (uint16_t)(1 + i * 131);

		assert_int_equal(kf_code_make(&made, (unsigned)(i % 10), port, NULL), KF_OK);
		assert_int_equal(kf_code_format(&made, text, sizeof(text)), KF_OK);
		assert_int_equal(strlen(text), 14);
		assert_true(text[4] == ' ' && text[9] == ' ');
		assert_int_equal(kf_code_parse(text, &parsed, NULL), KF_OK);
		assert_int_equal(parsed.relay_index, made.relay_index);
		assert_int_equal(parsed.port, port);
		assert_string_equal(parsed.secret, made.secret);
	}
}

static void secret_digits_are_all_used(void **state)
{
	int seen[10] = {0};

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct kf_code code;

		kf_code_make(&code, 0, 4000, NULL);
		assert_int_equal(strlen(code.secret), KF_CODE_SECRET_DIGITS);
		for (int d = 0; d < KF_CODE_SECRET_DIGITS; d++)
			seen[code.secret[d] - '0']++;
	}
	/* 6000 digits: each of the ten appears about 600 times. */
	for (int d = 0; d < 10; d++)
		assert_in_range(seen[d], 450, 750);
}

static void layout_is_relay_port_secret(void **state)
{
	struct kf_code code;

	(void)state;
	assert_int_equal(kf_code_parse("3012 3412 3456", &code, NULL), KF_OK);
	assert_int_equal(code.relay_index, 3);
	assert_int_equal(code.port, 1234);
	assert_string_equal(code.secret, "123456");
}

static void spaces_and_dashes_anywhere_are_accepted(void **state)
{
	struct kf_code code;

	(void)state;
	assert_int_equal(kf_code_parse("  301-234-123-456 ", &code, NULL), KF_OK);
	assert_int_equal(code.port, 1234);
	assert_int_equal(kf_code_parse("301234123456", &code, NULL), KF_OK);
}

static void malformed_codes_say_what_is_wrong(void **state)
{
	struct kf_code code;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_code_parse("3012 3412 345", &code, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "has 11"));
	assert_int_equal(kf_code_parse("3012 3412 34567", &code, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "more"));
	assert_int_equal(kf_code_parse("3O12 3412 3456", &code, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "only digits"));
	assert_int_equal(kf_code_parse("", &code, &err), KF_ERR_INVALID);
	/* Port 0 and ports above 65535 cannot be. */
	assert_int_equal(kf_code_parse("3000 0012 3456", &code, &err), KF_ERR_INVALID);
	assert_int_equal(kf_code_parse("3655 3612 3456", &code, &err), KF_ERR_INVALID);
	assert_string_equal(code.secret, "");
}

static void make_refuses_impossible_codes(void **state)
{
	struct kf_code code;

	(void)state;
	assert_int_equal(kf_code_make(&code, 10, 80, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_code_make(&code, 0, 0, NULL), KF_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(made_codes_format_and_parse_back),
		cmocka_unit_test(secret_digits_are_all_used),
		cmocka_unit_test(layout_is_relay_port_secret),
		cmocka_unit_test(spaces_and_dashes_anywhere_are_accepted),
		cmocka_unit_test(malformed_codes_say_what_is_wrong),
		cmocka_unit_test(make_refuses_impossible_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
