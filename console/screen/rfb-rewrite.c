/* kefu-console: the viewer's RFB messages, with its encodings set to the technician's quality. SPDX-License-Identifier: MIT */
#include "console/screen/rfb-rewrite.h"
#include "proto/base/error.h"
#include "proto/session/screen-quality.h"

#include <string.h>

#define ENCODING_TIGHT          7u
#define QUALITY_LEVEL_0         0xFFFFFFE0u
#define QUALITY_LEVEL_9         0xFFFFFFE9u
#define FINE_QUALITY_LEVEL_0    0xFFFFFE00u
#define FINE_QUALITY_LEVEL_100  0xFFFFFE64u
#define SUBSAMPLING_FIRST       0xFFFFFD00u
#define SUBSAMPLING_LAST        0xFFFFFD05u
#define TEXT_CHAT_SPECIAL_FIRST 0xFFFFFFFDu

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void kf_rfb_rewriter_init(struct kf_rfb_rewriter *rw, int quality)
{
	memset(rw, 0, sizeof(*rw));
	rw->quality = quality;
}

int kf_view_quality_parse(const char *text, int *out)
{
	if (strcmp(text, "auto") == 0)
		*out = KF_VIEW_QUALITY_AUTO;
	else if (strcmp(text, "lossless") == 0)
		*out = KF_VIEW_QUALITY_LOSSLESS;
	else if (text[0] >= '0' && text[0] <= '9' && text[1] == '\0')
		*out = KF_VIEW_QUALITY_JPEG(text[0] - '0');
	else
		return -1;
	return 0;
}

/*
 * How much of the message starting at m (have bytes so far) is held before it
 * goes on (*head) and how much streams after it (*body). Returns 1 once known,
 * 0 while the header is incomplete, -1 for a type this does not know.
 */
static int message_size(const uint8_t *m, size_t have, size_t *head, uint64_t *body)
{
	*body = 0;
	switch (m[0]) {
	case 0: /* SetPixelFormat */
		*head = 20;
		return 1;
	case 2: { /* SetEncodings */
		if (have < 4)
			return 0;
		size_t count = (size_t)m[2] << 8 | m[3];
		if (count <= KF_RFB_REWRITE_MAX_ENCODINGS) {
			*head = 4 + 4 * count;
		} else {
			*head = 4;
			*body = 4 * (uint64_t)count;
		}
		return 1;
	}
	case 3: /* FramebufferUpdateRequest */
		*head = 10;
		return 1;
	case 4: /* KeyEvent */
		*head = 8;
		return 1;
	case 5: /* PointerEvent */
		*head = 6;
		return 1;
	case 6: { /* ClientCutText; a negative length is the extended clipboard's */
		if (have < 8)
			return 0;
		uint32_t len = get_u32(m + 4);
		*head = 8;
		*body = (len & 0x80000000u) ? (uint64_t)(~len + 1u) : len;
		return 1;
	}
	case 8:    /* SetScale */
	case 9:    /* SetServerInput */
	case 0x0f: /* PalmVNCSetScaleFactor */
	case 250:  /* xvp */
		*head = 4;
		return 1;
	case 10: /* SetSW */
		*head = 6;
		return 1;
	case 11: { /* TextChat: open, close and finished carry no text */
		if (have < 8)
			return 0;
		uint32_t len = get_u32(m + 4);
		*head = 8;
		*body = len >= TEXT_CHAT_SPECIAL_FIRST ? 0 : len;
		return 1;
	}
	case 251: /* SetDesktopSize */
		if (have < 8)
			return 0;
		*head = 8;
		*body = 16 * (uint64_t)m[6];
		return 1;
	case 255: /* QEMU extended key event */
		*head = 12;
		return 1;
	default:
		return -1;
	}
}

static int is_quality_pseudo(uint32_t e)
{
	return (e >= QUALITY_LEVEL_0 && e <= QUALITY_LEVEL_9) ||
	       (e >= FINE_QUALITY_LEVEL_0 && e <= FINE_QUALITY_LEVEL_100) ||
	       (e >= SUBSAMPLING_FIRST && e <= SUBSAMPLING_LAST);
}

static int put_u32(struct kf_buf *out, uint32_t value)
{
	return kf_buf_append_u32(out, value);
}

static int rewrite_encodings(struct kf_rfb_rewriter *rw, const uint8_t *m, struct kf_buf *out)
{
	size_t count = (size_t)m[2] << 8 | m[3];
	uint32_t list[KF_RFB_REWRITE_MAX_ENCODINGS + 2];
	size_t kept = 0;
	int has_tight = 0, has_quality = 0;
	int is_fixed = KF_VIEW_QUALITY_IS_JPEG(rw->quality);
	int is_auto = rw->quality == KF_VIEW_QUALITY_AUTO;

	for (size_t i = 0; i < count; i++) {
		uint32_t e = get_u32(m + 4 + 4 * i);
		has_tight |= e == ENCODING_TIGHT;
		has_quality |= e >= QUALITY_LEVEL_0 && e <= QUALITY_LEVEL_9;
	}
	if (is_fixed && has_tight)
		list[kept++] = ENCODING_TIGHT;
	for (size_t i = 0; i < count; i++) {
		uint32_t e = get_u32(m + 4 + 4 * i);
		/* Only the console decides whether the agent adapts. */
		if (e == (uint32_t)KF_RFB_ENCODING_ADAPTIVE_QUALITY)
			continue;
		if (!is_auto && is_quality_pseudo(e))
			continue;
		if (is_fixed && has_tight && e == ENCODING_TIGHT)
			continue;
		list[kept++] = e;
	}
	rw->is_adaptive = is_auto && has_tight && has_quality;
	rw->is_tight_missing = !has_tight && (is_fixed || (is_auto && has_quality));
	if (is_fixed)
		list[kept++] = QUALITY_LEVEL_0 + (uint32_t)KF_VIEW_QUALITY_LEVEL(rw->quality);
	if (rw->is_adaptive)
		list[kept++] = (uint32_t)KF_RFB_ENCODING_ADAPTIVE_QUALITY;
	uint8_t head[4] = {2, 0, (uint8_t)(kept >> 8), (uint8_t)kept};
	int rc = kf_buf_append(out, head, sizeof(head));
	for (size_t i = 0; i < kept && rc == KF_OK; i++)
		rc = put_u32(out, list[i]);
	return rc;
}

static int emit(struct kf_rfb_rewriter *rw, uint64_t body, struct kf_buf *out)
{
	int rc = rw->msg[0] == 2 && body == 0 ? rewrite_encodings(rw, rw->msg, out)
					      : kf_buf_append(out, rw->msg, rw->msg_len);
	rw->msg_len = 0;
	rw->pass_left = body;
	return rc;
}

int kf_rfb_rewrite(struct kf_rfb_rewriter *rw, const uint8_t *data, size_t len, struct kf_buf *out)
{
	for (;;) {
		if (rw->is_lost)
			return len > 0 ? kf_buf_append(out, data, len) : KF_OK;
		if (rw->pass_left > 0) {
			if (len == 0)
				return KF_OK;
			size_t n = rw->pass_left < len ? (size_t)rw->pass_left : len;
			int rc = kf_buf_append(out, data, n);
			if (rc != KF_OK)
				return rc;
			rw->pass_left -= n;
			data += n;
			len -= n;
			continue;
		}
		size_t head = 1;
		uint64_t body = 0;
		int known = 0;
		if (rw->msg_len > 0) {
			known = message_size(rw->msg, rw->msg_len, &head, &body);
			if (known < 0) {
				rw->is_lost = 1;
				int rc = kf_buf_append(out, rw->msg, rw->msg_len);
				rw->msg_len = 0;
				if (rc != KF_OK)
					return rc;
				continue;
			}
			if (known == 1 && rw->msg_len >= head) {
				int rc = emit(rw, body, out);
				if (rc != KF_OK)
					return rc;
				continue;
			}
		}
		if (len == 0)
			return KF_OK;
		/* Byte by byte until the size is known, then the rest of the header at once. */
		size_t want = known == 1 ? head - rw->msg_len : 1;
		size_t n = want < len ? want : len;
		memcpy(rw->msg + rw->msg_len, data, n);
		rw->msg_len += n;
		data += n;
		len -= n;
	}
}
