/* kefu: unit tests for escaping outside text in messages. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/base/escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *escape_of(const char *in, size_t len, char *out, size_t cap)
{
	return kf_escape(in, len, out, cap);
}

#define ESCAPES_TO(in, expected)                                                                   \
	do {                                                                                       \
		char out_[KF_ESCAPED_SIZE];                                                        \
		assert_string_equal(escape_of(in, sizeof(in) - 1, out_, sizeof(out_)), expected);  \
	} while (0)

/* No byte below 0x20 or DEL, and valid UTF-8 from start to end. */
static bool is_safe_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;

		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && *p < 0xc2) || *p > 0xf4)
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			return false; /* a C1 control */
		p += n;
	}
	return true;
}

static void control_characters_become_escapes(void **state)
{
	(void)state;
	ESCAPES_TO("evil\n\x1b[31mred", "evil\\n\\x1b[31mred");
	ESCAPES_TO("a\rb\tc\\d", "a\\rb\\tc\\\\d");
	ESCAPES_TO("\x01\x7f", "\\x01\\x7f");
	ESCAPES_TO("nul\0byte", "nul\\x00byte");
}

static void printable_utf8_is_kept(void **state)
{
	(void)state;
	ESCAPES_TO("Detect.sh", "Detect.sh");
	ESCAPES_TO("客服 Ünïcødé 😀", "客服 Ünïcødé 😀");
}

static void invalid_utf8_and_c1_controls_become_escapes(void **state)
{
	(void)state;
	/* CSI as a C1 control (U+009B) starts an escape sequence on many terminals. */
	ESCAPES_TO("x\xc2\x9b"
		   "31m",
		   "x\\xc2\\x9b31m");
	ESCAPES_TO("\xff\xfe", "\\xff\\xfe");
	ESCAPES_TO("\xc0\xaf", "\\xc0\\xaf");                /* overlong '/' */
	ESCAPES_TO("\xed\xa0\x80", "\\xed\\xa0\\x80");       /* a UTF-16 surrogate */
	ESCAPES_TO("cut\xe5\xae", "cut\\xe5\\xae");          /* a sequence cut short */
	ESCAPES_TO("\xe2\x80\xaetxt.exe", "\\u202etxt.exe"); /* right-to-left override */
	ESCAPES_TO("a\xe2\x80\xa8"
		   "b",
		   "a\\u2028b");
}

static void long_text_is_cut_at_a_character_and_marked(void **state)
{
	char in[600], out[32];
	const char *text;

	(void)state;
	memset(in, 'a', sizeof(in));
	text = kf_escape(in, sizeof(in), out, sizeof(out));
	assert_int_equal(strlen(text), sizeof(out) - 1);
	assert_string_equal(text + strlen(text) - 3, "...");
	/* An escape or a multi-byte character is never cut in half. */
	for (size_t i = 0; i < sizeof(in); i += 3)
		memcpy(in + i, "\xe5\xae\xa2", 3);
	in[0] = '\n';
	for (size_t cap = 1; cap < 40; cap++) {
		char small[40];

		text = kf_escape(in, sizeof(in), small, cap);
		assert_true(strlen(text) < cap);
		assert_true(is_safe_text(text));
		if (cap >= 4)
			assert_string_equal(text + strlen(text) - 3, "...");
	}
	/* Text that fits exactly is not marked. */
	assert_string_equal(kf_escape("abc", 3, out, 4), "abc");
	assert_string_equal(kf_escape("abcd", 4, out, 4), "...");
	assert_null(kf_escape("abc", 3, out, 0));
}

static void every_output_is_one_line_of_valid_utf8(void **state)
{
	unsigned seed = 7;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char in[24], out[48];
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(in));

		for (size_t i = 0; i < len; i++)
			in[i] = (char)(rand_r(&seed) & 0xff);
		kf_escape(in, len, out, (size_t)(rand_r(&seed) % (int)sizeof(out)) + 1);
		assert_true(is_safe_text(out));
	}
	assert_string_equal(kf_escaped(NULL).text, "(none)");
	assert_string_equal(kf_escaped("a\nb").text, "a\\nb");
}

static void terminal_print_escapes_each_line_and_ends_it_once(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void)state;
	assert_non_null(out);
	kf_terminal_print(out, "Technician: %s", "hi\x1b[2J\x07");
	kf_terminal_print(out, "two\nlines\n");
	kf_terminal_print(out, "%s", "");
	fclose(out);
	assert_string_equal(text, "Technician: hi\\x1b[2J\\x07\ntwo\nlines\n\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(control_characters_become_escapes),
		cmocka_unit_test(printable_utf8_is_kept),
		cmocka_unit_test(invalid_utf8_and_c1_controls_become_escapes),
		cmocka_unit_test(long_text_is_cut_at_a_character_and_marked),
		cmocka_unit_test(every_output_is_one_line_of_valid_utf8),
		cmocka_unit_test(terminal_print_escapes_each_line_and_ends_it_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
