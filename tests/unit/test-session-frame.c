/* kefu: unit tests for the frame decoder and encoder. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/frame.h"

#include <stdlib.h>
#include <string.h>

struct decoded {
	int count;
	uint8_t types[16];
	struct kf_buf payloads[16];
};

static void decoded_free(struct decoded *out)
{
	for (int i = 0; i < out->count; i++)
		kf_buf_free(&out->payloads[i]);
}

/* Feeds data in chunks of the given sizes (the last size repeats) and collects the frames. */
static int feed_chunked(struct kf_frame_decoder *decoder, const uint8_t *data, size_t len,
			size_t chunk, struct decoded *out, struct kf_error *err)
{
	size_t offset = 0;

	while (offset < len) {
		size_t piece = len - offset < chunk ? len - offset : chunk;
		size_t used = 0;

		while (used < piece) {
			struct kf_frame frame;
			size_t consumed;
			int r = kf_frame_decoder_feed(decoder, data + offset + used, piece - used,
						      &consumed, &frame, err);
			if (r < 0)
				return r;
			used += consumed;
			if (r == 1) {
				assert_true(out->count < 16);
				out->types[out->count] = frame.type;
				memset(&out->payloads[out->count], 0, sizeof(struct kf_buf));
				kf_buf_append(&out->payloads[out->count], frame.payload,
					      frame.length);
				out->count++;
			}
		}
		offset += piece;
	}
	return KF_OK;
}

static void build_stream(struct kf_buf *stream)
{
	static const char control[] = "{\"v\":1,\"type\":\"ping\",\"id\":1}";
	uint8_t data[300];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(kf_frame_encode(stream, KF_FRAME_CONTROL, control, strlen(control), NULL),
			 KF_OK);
	assert_int_equal(kf_frame_encode(stream, KF_FRAME_DATA, data, sizeof(data), NULL), KF_OK);
	assert_int_equal(kf_frame_encode(stream, KF_FRAME_END, NULL, 0, NULL), KF_OK);
	assert_int_equal(kf_frame_encode(stream, KF_FRAME_DATA, "x", 1, NULL), KF_OK);
}

static void check_stream_frames(const struct decoded *out)
{
	assert_int_equal(out->count, 4);
	assert_int_equal(out->types[0], KF_FRAME_CONTROL);
	assert_int_equal(out->payloads[0].len, strlen("{\"v\":1,\"type\":\"ping\",\"id\":1}"));
	assert_int_equal(out->types[1], KF_FRAME_DATA);
	assert_int_equal(out->payloads[1].len, 300);
	assert_int_equal(out->payloads[1].data[299], (uint8_t)(299 * 7));
	assert_int_equal(out->types[2], KF_FRAME_END);
	assert_int_equal(out->payloads[2].len, 0);
	assert_int_equal(out->types[3], KF_FRAME_DATA);
	assert_memory_equal(out->payloads[3].data, "x", 1);
}

static void every_split_point_of_a_multi_frame_stream_decodes_the_same(void **state)
{
	struct kf_buf stream = {0};

	(void)state;
	build_stream(&stream);
	/* Two pieces, split at every byte. */
	for (size_t split = 0; split <= stream.len; split++) {
		struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
		struct decoded out = {0};

		assert_int_equal(
			feed_chunked(decoder, stream.data, split, split ? split : 1, &out, NULL),
			KF_OK);
		assert_int_equal(feed_chunked(decoder, stream.data + split, stream.len - split,
					      stream.len, &out, NULL),
				 KF_OK);
		check_stream_frames(&out);
		assert_false(kf_frame_decoder_is_partial(decoder));
		decoded_free(&out);
		kf_frame_decoder_free(decoder);
	}
	kf_buf_free(&stream);
}

static void one_byte_at_a_time_and_all_at_once_decode_the_same(void **state)
{
	struct kf_buf stream = {0};
	size_t chunks[] = {1, 2, 3, 5, 7, 64, 4096};

	(void)state;
	build_stream(&stream);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
		struct decoded out = {0};

		assert_int_equal(
			feed_chunked(decoder, stream.data, stream.len, chunks[i], &out, NULL),
			KF_OK);
		check_stream_frames(&out);
		decoded_free(&out);
		kf_frame_decoder_free(decoder);
	}
	kf_buf_free(&stream);
}

static void oversized_length_is_refused_before_any_allocation(void **state)
{
	const uint8_t header[] = {KF_FRAME_DATA, 0x7f, 0xff, 0xff, 0xff};
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
	struct kf_frame frame;
	struct kf_error err;
	size_t consumed;

	(void)state;
	assert_int_equal(
		kf_frame_decoder_feed(decoder, header, sizeof(header), &consumed, &frame, &err),
		KF_ERR_TOO_LARGE);
	assert_non_null(strstr(err.message, "over the limit"));
	kf_frame_decoder_free(decoder);
}

static void control_frame_over_64k_is_refused_but_data_frame_is_not(void **state)
{
	uint8_t control[] = {KF_FRAME_CONTROL, 0x00, 0x01, 0x00, 0x01};
	uint8_t data[] = {KF_FRAME_DATA, 0x00, 0x01, 0x00, 0x01};
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
	struct kf_frame frame;
	size_t consumed;

	(void)state;
	assert_int_equal(
		kf_frame_decoder_feed(decoder, control, sizeof(control), &consumed, &frame, NULL),
		KF_ERR_TOO_LARGE);
	kf_frame_decoder_free(decoder);
	decoder = kf_frame_decoder_new(0);
	assert_int_equal(
		kf_frame_decoder_feed(decoder, data, sizeof(data), &consumed, &frame, NULL), 0);
	assert_true(kf_frame_decoder_is_partial(decoder));
	kf_frame_decoder_free(decoder);
}

static void decoder_limit_below_the_maximum_is_enforced(void **state)
{
	const uint8_t header[] = {KF_FRAME_DATA, 0x00, 0x00, 0x04, 0x01};
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(1024);
	struct kf_frame frame;
	size_t consumed;

	(void)state;
	assert_int_equal(
		kf_frame_decoder_feed(decoder, header, sizeof(header), &consumed, &frame, NULL),
		KF_ERR_TOO_LARGE);
	kf_frame_decoder_free(decoder);
}

static void truncated_frame_is_partial_and_yields_nothing(void **state)
{
	struct kf_buf stream = {0};
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
	struct decoded out = {0};

	(void)state;
	assert_int_equal(kf_frame_encode(&stream, KF_FRAME_DATA, "hello", 5, NULL), KF_OK);
	assert_int_equal(feed_chunked(decoder, stream.data, stream.len - 1, 3, &out, NULL), KF_OK);
	assert_int_equal(out.count, 0);
	assert_true(kf_frame_decoder_is_partial(decoder));
	kf_buf_free(&stream);
	kf_frame_decoder_free(decoder);
}

static void garbage_bytes_fail_and_the_failure_sticks(void **state)
{
	const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
	struct kf_frame frame;
	struct kf_error err;
	size_t consumed;

	(void)state;
	assert_int_equal(kf_frame_decoder_feed(decoder, garbage, sizeof(garbage) - 1, &consumed,
					       &frame, &err),
			 KF_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.message, "unknown type"));
	/* A valid frame afterwards cannot resynchronise the stream. */
	const uint8_t end[] = {KF_FRAME_END, 0, 0, 0, 0};
	assert_int_equal(kf_frame_decoder_feed(decoder, end, sizeof(end), &consumed, &frame, &err),
			 KF_ERR_UNSUPPORTED);
	assert_int_equal(consumed, 0);
	kf_frame_decoder_free(decoder);
}

static void end_frame_with_payload_is_refused(void **state)
{
	const uint8_t bad[] = {KF_FRAME_END, 0, 0, 0, 1, 'x'};
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
	struct kf_frame frame;
	size_t consumed;

	(void)state;
	assert_int_equal(kf_frame_decoder_feed(decoder, bad, sizeof(bad), &consumed, &frame, NULL),
			 KF_ERR_TOO_LARGE);
	kf_frame_decoder_free(decoder);
}

static void encoder_refuses_unknown_types_and_oversized_payloads(void **state)
{
	struct kf_buf out = {0};
	struct kf_error err;
	uint8_t *big = calloc(1, KF_FRAME_MAX_PAYLOAD + 1);

	(void)state;
	assert_non_null(big);
	assert_int_equal(kf_frame_encode(&out, 9, "x", 1, &err), KF_ERR_INVALID);
	assert_int_equal(kf_frame_encode(&out, KF_FRAME_DATA, big, KF_FRAME_MAX_PAYLOAD + 1, &err),
			 KF_ERR_TOO_LARGE);
	assert_int_equal(
		kf_frame_encode(&out, KF_FRAME_CONTROL, big, KF_FRAME_MAX_CONTROL + 1, &err),
		KF_ERR_TOO_LARGE);
	assert_int_equal(out.len, 0);
	assert_int_equal(kf_frame_encode(&out, KF_FRAME_DATA, big, KF_FRAME_MAX_PAYLOAD, &err),
			 KF_OK);
	assert_int_equal(out.len, KF_FRAME_HEADER_SIZE + KF_FRAME_MAX_PAYLOAD);
	free(big);
	kf_buf_free(&out);
}

static void header_is_type_then_big_endian_length(void **state)
{
	struct kf_buf out = {0};
	const uint8_t expected[] = {KF_FRAME_DATA, 0, 0, 1, 2};

	(void)state;
	uint8_t payload[258] = {0};
	assert_int_equal(kf_frame_encode(&out, KF_FRAME_DATA, payload, sizeof(payload), NULL),
			 KF_OK);
	assert_memory_equal(out.data, expected, sizeof(expected));
	kf_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_split_point_of_a_multi_frame_stream_decodes_the_same),
		cmocka_unit_test(one_byte_at_a_time_and_all_at_once_decode_the_same),
		cmocka_unit_test(oversized_length_is_refused_before_any_allocation),
		cmocka_unit_test(control_frame_over_64k_is_refused_but_data_frame_is_not),
		cmocka_unit_test(decoder_limit_below_the_maximum_is_enforced),
		cmocka_unit_test(truncated_frame_is_partial_and_yields_nothing),
		cmocka_unit_test(garbage_bytes_fail_and_the_failure_sticks),
		cmocka_unit_test(end_frame_with_payload_is_refused),
		cmocka_unit_test(encoder_refuses_unknown_types_and_oversized_payloads),
		cmocka_unit_test(header_is_type_then_big_endian_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
