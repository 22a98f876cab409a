/* kefu: unit tests for the JSON control-message envelope. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/frame.h"
#include "proto/session/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int decode_text(const char *text, struct kf_msg *msg, struct kf_error *err)
{
	return kf_msg_decode((const uint8_t *)text, strlen(text), msg, err);
}

/* Decodes text, expects failure with code, and checks the error reply names reply_code. */
static void expect_refusal(const char *text, int code, const char *reply_code, uint32_t id)
{
	struct kf_msg msg;
	struct kf_error err;
	struct kf_buf reply = {0};
	struct kf_msg answer;

	assert_int_equal(decode_text(text, &msg, &err), code);
	assert_true(err.message[0] != '\0');
	assert_int_equal(msg.id, id);
	assert_int_equal(kf_msg_encode_error_for(&reply, 99, &msg, &err, NULL), KF_OK);
	assert_true(reply.len > KF_FRAME_HEADER_SIZE);
	assert_int_equal(kf_msg_decode(reply.data + KF_FRAME_HEADER_SIZE,
				       reply.len - KF_FRAME_HEADER_SIZE, &answer, NULL),
			 KF_OK);
	assert_string_equal(answer.type, "error");
	assert_int_equal(answer.re, id);
	assert_string_equal(json_string_value(json_object_get(answer.body, "code")), reply_code);
	kf_msg_clear(&answer);
	kf_msg_clear(&msg);
	kf_buf_free(&reply);
}

static void valid_message_decodes_with_all_fields(void **state)
{
	struct kf_msg msg;

	(void)state;
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"chat\",\"id\":7,\"re\":3,"
				     "\"body\":{\"text\":\"h\\u00e9llo\"}}",
				     &msg, NULL),
			 KF_OK);
	assert_int_equal(msg.version, 1);
	assert_string_equal(msg.type, "chat");
	assert_int_equal(msg.id, 7);
	assert_int_equal(msg.re, 3);
	assert_string_equal(json_string_value(json_object_get(msg.body, "text")), "h\xc3\xa9llo");
	kf_msg_clear(&msg);
}

static void missing_body_becomes_an_empty_object(void **state)
{
	struct kf_msg msg;

	(void)state;
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"ping\",\"id\":1}", &msg, NULL), KF_OK);
	assert_true(json_is_object(msg.body));
	assert_int_equal(json_object_size(msg.body), 0);
	kf_msg_clear(&msg);
}

static void encode_then_decode_round_trips(void **state)
{
	struct kf_buf out = {0};
	json_t *body = json_pack("{s:s, s:[i,i]}", "text", "hi", "list", 1, 2);
	struct kf_msg msg;

	(void)state;
	assert_int_equal(kf_msg_encode(&out, "chat", 42, 0, body, NULL), KF_OK);
	assert_int_equal(out.data[0], KF_FRAME_CONTROL);
	assert_int_equal(kf_msg_decode(out.data + KF_FRAME_HEADER_SIZE,
				       out.len - KF_FRAME_HEADER_SIZE, &msg, NULL),
			 KF_OK);
	assert_int_equal(msg.id, 42);
	assert_int_equal(msg.re, 0);
	assert_true(json_equal(msg.body, body));
	kf_msg_clear(&msg);
	json_decref(body);
	kf_buf_free(&out);
}

static void missing_required_fields_are_refused(void **state)
{
	(void)state;
	expect_refusal("{\"type\":\"ping\",\"id\":4}", KF_ERR_INVALID, "bad-message", 4);
	expect_refusal("{\"v\":1,\"id\":4}", KF_ERR_INVALID, "bad-message", 4);
	expect_refusal("{\"v\":1,\"type\":\"ping\"}", KF_ERR_INVALID, "bad-message", 0);
}

static void mistyped_fields_are_refused(void **state)
{
	(void)state;
	expect_refusal("{\"v\":\"1\",\"type\":\"ping\",\"id\":4}", KF_ERR_INVALID, "bad-message",
		       4);
	expect_refusal("{\"v\":1,\"type\":5,\"id\":4}", KF_ERR_INVALID, "bad-message", 4);
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"id\":4,\"body\":[]}", KF_ERR_INVALID,
		       "bad-message", 4);
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"id\":0}", KF_ERR_INVALID, "bad-message", 0);
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"id\":4294967296}", KF_ERR_INVALID,
		       "bad-message", 0);
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"id\":4,\"re\":-1}", KF_ERR_INVALID,
		       "bad-message", 4);
	expect_refusal("[1,2,3]", KF_ERR_INVALID, "bad-message", 0);
}

static void unknown_envelope_field_is_refused(void **state)
{
	(void)state;
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"id\":4,\"admin\":true}", KF_ERR_INVALID,
		       "bad-message", 4);
}

static void unknown_type_is_answered_not_dropped(void **state)
{
	(void)state;
	expect_refusal("{\"v\":1,\"type\":\"teleport\",\"id\":5}", KF_ERR_UNSUPPORTED,
		       "unknown-type", 5);
}

static void unknown_version_is_answered_not_dropped(void **state)
{
	(void)state;
	expect_refusal("{\"v\":2,\"type\":\"ping\",\"id\":6}", KF_ERR_UNSUPPORTED,
		       "unsupported-version", 6);
}

static void duplicate_keys_are_refused(void **state)
{
	(void)state;
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"type\":\"end\",\"id\":8}", KF_ERR_INVALID,
		       "bad-message", 0);
	expect_refusal("{\"v\":1,\"type\":\"chat\",\"id\":8,\"body\":{\"a\":1,\"a\":2}}",
		       KF_ERR_INVALID, "bad-message", 0);
}

static void invalid_utf8_is_refused(void **state)
{
	(void)state;
	expect_refusal("{\"v\":1,\"type\":\"chat\",\"id\":9,\"body\":{\"text\":\"\xc3\x28\"}}",
		       KF_ERR_INVALID, "bad-message", 0);
	expect_refusal("{\"v\":1,\"type\":\"chat\",\"id\":9,\"body\":{\"text\":\"\xed\xa0\x80\"}}",
		       KF_ERR_INVALID, "bad-message", 0);
	expect_refusal("{\"v\":1,\"type\":\"chat\",\"id\":9,\"body\":{\"text\":\"a\\u0000b\"}}",
		       KF_ERR_INVALID, "bad-message", 0);
}

static void deeply_nested_json_is_refused(void **state)
{
	char text[4096];
	int n = snprintf(text, sizeof(text),
			 "{\"v\":1,\"type\":\"chat\",\"id\":10,\"body\":{\"a\":");

	(void)state;
	for (int i = 0; i < 100; i++)
		text[n++] = '[';
	for (int i = 0; i < 100; i++)
		text[n++] = ']';
	snprintf(text + n, sizeof(text) - (size_t)n, "}}");
	expect_refusal(text, KF_ERR_TOO_LARGE, "too-large", 10);
}

static void nesting_at_the_limit_is_accepted(void **state)
{
	char text[4096];
	struct kf_msg msg;
	/* Envelope (1) and body (2) leave KF_MSG_MAX_DEPTH - 2 levels inside the body. */
	int levels = KF_MSG_MAX_DEPTH - 2;
	int n = snprintf(text, sizeof(text),
			 "{\"v\":1,\"type\":\"chat\",\"id\":10,\"body\":{\"a\":");

	(void)state;
	for (int i = 0; i < levels; i++)
		text[n++] = '[';
	for (int i = 0; i < levels; i++)
		text[n++] = ']';
	snprintf(text + n, sizeof(text) - (size_t)n, "}}");
	assert_int_equal(decode_text(text, &msg, NULL), KF_OK);
	kf_msg_clear(&msg);
}

static void long_string_is_refused(void **state)
{
	size_t size = KF_MSG_MAX_STRING + 100;
	char *text = malloc(size + 100);
	int n = sprintf(text, "{\"v\":1,\"type\":\"chat\",\"id\":11,\"body\":{\"text\":\"");

	(void)state;
	memset(text + n, 'a', KF_MSG_MAX_STRING + 1);
	strcpy(text + n + KF_MSG_MAX_STRING + 1, "\"}}");
	expect_refusal(text, KF_ERR_TOO_LARGE, "too-large", 11);
	free(text);
}

static void message_over_the_size_limit_is_refused_unparsed(void **state)
{
	size_t size = KF_MSG_MAX_SIZE + 1;
	uint8_t *text = malloc(size);
	struct kf_msg msg;

	(void)state;
	memset(text, ' ', size);
	assert_int_equal(kf_msg_decode(text, size, &msg, NULL), KF_ERR_TOO_LARGE);
	assert_string_equal(msg.error_code, "too-large");
	kf_msg_clear(&msg);
	free(text);
}

static void too_many_values_are_refused(void **state)
{
	size_t size = 64 * 1024;
	char *text = malloc(size);
	int n = sprintf(text, "{\"v\":1,\"type\":\"chat\",\"id\":12,\"body\":{\"a\":[");

	(void)state;
	for (int i = 0; i < KF_MSG_MAX_VALUES + 10; i++)
		n += sprintf(text + n, "%s0", i ? "," : "");
	strcpy(text + n, "]}}");
	expect_refusal(text, KF_ERR_TOO_LARGE, "too-large", 12);
	free(text);
}

static void garbage_and_trailing_bytes_are_refused(void **state)
{
	(void)state;
	expect_refusal("\x01\x02\x03", KF_ERR_INVALID, "bad-message", 0);
	expect_refusal("{\"v\":1,\"type\":\"ping\",\"id\":4} {}", KF_ERR_INVALID, "bad-message", 0);
	expect_refusal("", KF_ERR_INVALID, "bad-message", 0);
}

static void encoder_refuses_unknown_type_and_zero_id(void **state)
{
	struct kf_buf out = {0};
	json_t *array = json_array();

	(void)state;
	assert_int_equal(kf_msg_encode(&out, "teleport", 1, 0, NULL, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_msg_encode(&out, "ping", 0, 0, NULL, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_msg_encode(&out, "ping", 1, 0, array, NULL), KF_ERR_INVALID);
	assert_int_equal(out.len, 0);
	json_decref(array);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_message_decodes_with_all_fields),
		cmocka_unit_test(missing_body_becomes_an_empty_object),
		cmocka_unit_test(encode_then_decode_round_trips),
		cmocka_unit_test(missing_required_fields_are_refused),
		cmocka_unit_test(mistyped_fields_are_refused),
		cmocka_unit_test(unknown_envelope_field_is_refused),
		cmocka_unit_test(unknown_type_is_answered_not_dropped),
		cmocka_unit_test(unknown_version_is_answered_not_dropped),
		cmocka_unit_test(duplicate_keys_are_refused),
		cmocka_unit_test(invalid_utf8_is_refused),
		cmocka_unit_test(deeply_nested_json_is_refused),
		cmocka_unit_test(nesting_at_the_limit_is_accepted),
		cmocka_unit_test(long_string_is_refused),
		cmocka_unit_test(message_over_the_size_limit_is_refused_unparsed),
		cmocka_unit_test(too_many_values_are_refused),
		cmocka_unit_test(garbage_and_trailing_bytes_are_refused),
		cmocka_unit_test(encoder_refuses_unknown_type_and_zero_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
