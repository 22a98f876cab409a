/* kefu: libFuzzer target for the view's rewriting of a viewer's RFB messages. SPDX-License-Identifier: MIT */
#include "console/screen/rfb-rewrite.h"
#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the quality (auto, lossless or a level) and the size of
 * the pieces the rest arrives in, as a stream would cut it. Whatever arrives, a
 * message that is not SetEncodings comes out as it went in, so in lossless mode
 * without any SetEncodings the output must equal the input; and the same bytes cut
 * differently must give the same output.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const int qualities[] = {KF_VIEW_QUALITY_AUTO, KF_VIEW_QUALITY_LOSSLESS,
					KF_VIEW_QUALITY_JPEG(0), KF_VIEW_QUALITY_JPEG(9)};
	int quality = qualities[data[0] & 3];
	size_t piece = (size_t)(data[0] >> 2) + 1;
	uint8_t *copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	size_t len = size - 1;
	struct kf_rfb_rewriter cut, whole;
	struct kf_buf out_cut = {0}, out_whole = {0};
	kf_rfb_rewriter_init(&cut, quality);
	kf_rfb_rewriter_init(&whole, quality);
	int rc = KF_OK;
	for (size_t at = 0; at < len && rc == KF_OK; at += piece)
		rc = kf_rfb_rewrite(&cut, copy + at, at + piece > len ? len - at : piece, &out_cut);
	if (rc == KF_OK && kf_rfb_rewrite(&whole, copy, len, &out_whole) == KF_OK) {
		if (out_cut.len != out_whole.len ||
		    (out_cut.len > 0 && memcmp(out_cut.data, out_whole.data, out_cut.len) != 0))
			abort();
		if (out_whole.len > len + 8 + 4 * (size_t)len)
			abort();
	}
	kf_buf_free(&out_cut);
	kf_buf_free(&out_whole);
	free(copy);
	return 0;
}
