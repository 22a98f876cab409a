/* kefu: a growable byte buffer. SPDX-License-Identifier: MIT */
#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

int kf_buf_reserve(struct kf_buf *buf, size_t extra)
{
	size_t need, cap;
	uint8_t *data;

	if (extra > SIZE_MAX - buf->len)
		return KF_ERR_NOMEM;
	need = buf->len + extra;
	if (need <= buf->cap)
		return KF_OK;
	cap = buf->cap ? buf->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	data = realloc(buf->data, cap);
	if (data == NULL)
		return KF_ERR_NOMEM;
	buf->data = data;
	buf->cap = cap;
	return KF_OK;
}

int kf_buf_append(struct kf_buf *buf, const void *data, size_t len)
{
	int r;

	if (len == 0)
		return KF_OK;
	if ((r = kf_buf_reserve(buf, len)) != KF_OK)
		return r;
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	return KF_OK;
}

int kf_buf_append_u32(struct kf_buf *buf, uint32_t value)
{
	uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
			    (uint8_t)value};

	return kf_buf_append(buf, bytes, sizeof(bytes));
}

void kf_buf_consume(struct kf_buf *buf, size_t count)
{
	if (count >= buf->len) {
		buf->len = 0;
		return;
	}
	memmove(buf->data, buf->data + count, buf->len - count);
	buf->len -= count;
}

void kf_buf_reset(struct kf_buf *buf)
{
	buf->len = 0;
}

void kf_buf_free(struct kf_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void kf_buf_free_secret(struct kf_buf *buf)
{
	if (buf->data != NULL)
		OPENSSL_cleanse(buf->data, buf->cap);
	kf_buf_free(buf);
}
