/* kefu: unit tests for the view's quality: the viewer's SetEncodings as the technician chose.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "console/screen/rfb-rewrite.h"
#include "proto/base/error.h"
#include "proto/session/screen-quality.h"

#include <string.h>

#define TIGHT     7u
#define ZRLE      16u
#define RAW       0u
#define COPYRECT  1u
#define CURSOR    0xFFFFFF11u
#define QUALITY_0 0xFFFFFFE0u
#define FINE_50   0xFFFFFE32u
#define SUBSAMP_2 0xFFFFFD02u
#define MARKER    ((uint32_t)KF_RFB_ENCODING_ADAPTIVE_QUALITY)

static size_t set_encodings(uint8_t *out, const uint32_t *list, size_t count)
{
	out[0] = 2;
	out[1] = 0;
	out[2] = (uint8_t)(count >> 8);
	out[3] = (uint8_t)count;
	for (size_t i = 0; i < count; i++) {
		out[4 + 4 * i] = (uint8_t)(list[i] >> 24);
		out[5 + 4 * i] = (uint8_t)(list[i] >> 16);
		out[6 + 4 * i] = (uint8_t)(list[i] >> 8);
		out[7 + 4 * i] = (uint8_t)list[i];
	}
	return 4 + 4 * count;
}

/* Parses one SetEncodings at out's start into list; returns its length in bytes. */
static size_t read_encodings(const struct kf_buf *out, uint32_t *list, size_t *count)
{
	assert_true(out->len >= 4);
	assert_int_equal(out->data[0], 2);
	*count = (size_t)out->data[2] << 8 | out->data[3];
	assert_true(out->len >= 4 + 4 * *count);
	for (size_t i = 0; i < *count; i++) {
		const uint8_t *p = out->data + 4 + 4 * i;
		list[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	}
	return 4 + 4 * *count;
}

static int contains(const uint32_t *list, size_t count, uint32_t e)
{
	for (size_t i = 0; i < count; i++)
		if (list[i] == e)
			return 1;
	return 0;
}

static void rewrite_whole(int quality, const uint32_t *in, size_t in_count, uint32_t *out_list,
			  size_t *out_count, struct kf_rfb_rewriter *rw)
{
	uint8_t msg[4 + 4 * 16];
	size_t len = set_encodings(msg, in, in_count);
	struct kf_buf out = {0};
	kf_rfb_rewriter_init(rw, quality);
	assert_int_equal(kf_rfb_rewrite(rw, msg, len, &out), KF_OK);
	assert_int_equal(read_encodings(&out, out_list, out_count), out.len);
	kf_buf_free(&out);
}

static void lossless_drops_every_jpeg_pseudo_encoding(void **state)
{
	(void)state;
	const uint32_t in[] = {TIGHT, ZRLE, QUALITY_0 + 7, FINE_50, SUBSAMP_2, CURSOR, MARKER};
	uint32_t out[16];
	size_t count;
	struct kf_rfb_rewriter rw;
	rewrite_whole(KF_VIEW_QUALITY_LOSSLESS, in, 7, out, &count, &rw);
	const uint32_t expected[] = {TIGHT, ZRLE, CURSOR};
	assert_int_equal(count, 3);
	assert_memory_equal(out, expected, sizeof(expected));
}

static void a_fixed_level_puts_tight_first_and_replaces_the_viewers_level(void **state)
{
	(void)state;
	const uint32_t in[] = {ZRLE, COPYRECT, TIGHT, QUALITY_0 + 9, FINE_50, RAW};
	uint32_t out[16];
	size_t count;
	struct kf_rfb_rewriter rw;
	rewrite_whole(KF_VIEW_QUALITY_JPEG(3), in, 6, out, &count, &rw);
	const uint32_t expected[] = {TIGHT, ZRLE, COPYRECT, RAW, QUALITY_0 + 3};
	assert_int_equal(count, 5);
	assert_memory_equal(out, expected, sizeof(expected));
	assert_false(rw.is_tight_missing);
	/* Without Tight, no lossy picture is possible: the console says so. */
	const uint32_t no_tight[] = {ZRLE, RAW};
	rewrite_whole(KF_VIEW_QUALITY_JPEG(3), no_tight, 2, out, &count, &rw);
	assert_true(rw.is_tight_missing);
	assert_int_equal(out[0], ZRLE);
}

static void auto_marks_only_a_viewer_offering_tight_with_a_level(void **state)
{
	(void)state;
	uint32_t out[16];
	size_t count;
	struct kf_rfb_rewriter rw;
	const uint32_t lossy[] = {TIGHT, ZRLE, QUALITY_0 + 6, CURSOR};
	rewrite_whole(KF_VIEW_QUALITY_AUTO, lossy, 4, out, &count, &rw);
	assert_int_equal(count, 5);
	assert_memory_equal(out, lossy, sizeof(lossy));
	assert_int_equal(out[4], MARKER);
	assert_true(rw.is_adaptive);
	/* A lossless viewer stays lossless: no marker. */
	const uint32_t lossless[] = {TIGHT, ZRLE, CURSOR};
	rewrite_whole(KF_VIEW_QUALITY_AUTO, lossless, 3, out, &count, &rw);
	assert_int_equal(count, 3);
	assert_false(contains(out, count, MARKER));
	assert_false(rw.is_adaptive);
	/* A viewer cannot send the marker itself. */
	const uint32_t forged[] = {ZRLE, MARKER, QUALITY_0 + 2};
	rewrite_whole(KF_VIEW_QUALITY_AUTO, forged, 3, out, &count, &rw);
	assert_false(contains(out, count, MARKER));
}

/* Every other message, split at every byte, comes out byte for byte. */
static void other_messages_pass_unchanged_however_split(void **state)
{
	(void)state;
	uint8_t stream[256];
	size_t len = 0;
	static const uint8_t pixel_format[20] = {0, 0, 0, 0, 32, 24, 0, 1};
	memcpy(stream + len, pixel_format, 20);
	len += 20;
	static const uint8_t request[10] = {3, 1, 0, 0, 0, 0, 7, 128, 4, 56};
	memcpy(stream + len, request, 10);
	len += 10;
	static const uint8_t key[8] = {4, 1, 0, 0, 0, 0, 0, 32};
	memcpy(stream + len, key, 8);
	len += 8;
	static const uint8_t cut[8 + 5] = {6, 0, 0, 0, 0, 0, 0, 5, 2, 2, 2, 2, 2};
	memcpy(stream + len, cut, sizeof(cut)); /* a body that looks like SetEncodings */
	len += sizeof(cut);
	static const uint8_t pointer[6] = {5, 0, 0, 10, 0, 20};
	memcpy(stream + len, pointer, 6);
	len += 6;
	for (size_t split = 0; split <= len; split++) {
		struct kf_rfb_rewriter rw;
		struct kf_buf out = {0};
		kf_rfb_rewriter_init(&rw, KF_VIEW_QUALITY_LOSSLESS);
		for (size_t at = 0; at < len; at += split ? split : len)
			assert_int_equal(kf_rfb_rewrite(&rw, stream + at,
							at + (split ? split : len) > len
								? len - at
								: (split ? split : len),
							&out),
					 KF_OK);
		assert_int_equal(out.len, len);
		assert_memory_equal(out.data, stream, len);
		kf_buf_free(&out);
	}
}

/* A SetEncodings that arrives a byte at a time, after a key, is still rewritten. */
static void set_encodings_split_byte_by_byte_is_rewritten(void **state)
{
	(void)state;
	uint8_t stream[128] = {4, 1, 0, 0, 0, 0, 0, 32};
	const uint32_t in[] = {TIGHT, QUALITY_0 + 8};
	size_t len = 8 + set_encodings(stream + 8, in, 2);
	struct kf_rfb_rewriter rw;
	struct kf_buf out = {0};
	kf_rfb_rewriter_init(&rw, KF_VIEW_QUALITY_LOSSLESS);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(kf_rfb_rewrite(&rw, stream + i, 1, &out), KF_OK);
	assert_int_equal(out.len, 8 + 8);
	assert_memory_equal(out.data, stream, 8);
	assert_int_equal(out.data[8 + 3], 1); /* one encoding left: Tight */
	kf_buf_free(&out);
}

static void an_unknown_type_passes_everything_after_it(void **state)
{
	(void)state;
	uint8_t stream[64] = {200, 1, 2, 3};
	const uint32_t in[] = {TIGHT, QUALITY_0 + 8};
	size_t len = 4 + set_encodings(stream + 4, in, 2);
	struct kf_rfb_rewriter rw;
	struct kf_buf out = {0};
	kf_rfb_rewriter_init(&rw, KF_VIEW_QUALITY_LOSSLESS);
	assert_int_equal(kf_rfb_rewrite(&rw, stream, len, &out), KF_OK);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, stream, len);
	kf_buf_free(&out);
}

static void quality_words_parse(void **state)
{
	(void)state;
	int q = -100;
	assert_int_equal(kf_view_quality_parse("auto", &q), 0);
	assert_int_equal(q, KF_VIEW_QUALITY_AUTO);
	assert_int_equal(kf_view_quality_parse("lossless", &q), 0);
	assert_int_equal(q, KF_VIEW_QUALITY_LOSSLESS);
	assert_int_equal(kf_view_quality_parse("7", &q), 0);
	assert_int_equal(q, KF_VIEW_QUALITY_JPEG(7));
	assert_int_equal(kf_view_quality_parse("10", &q), -1);
	assert_int_equal(kf_view_quality_parse("", &q), -1);
	assert_int_equal(kf_view_quality_parse("high", &q), -1);
	assert_int_equal(kf_view_quality_parse("-1", &q), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lossless_drops_every_jpeg_pseudo_encoding),
		cmocka_unit_test(a_fixed_level_puts_tight_first_and_replaces_the_viewers_level),
		cmocka_unit_test(auto_marks_only_a_viewer_offering_tight_with_a_level),
		cmocka_unit_test(other_messages_pass_unchanged_however_split),
		cmocka_unit_test(set_encodings_split_byte_by_byte_is_rewritten),
		cmocka_unit_test(an_unknown_type_passes_everything_after_it),
		cmocka_unit_test(quality_words_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
