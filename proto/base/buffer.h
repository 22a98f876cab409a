/* kefu: a growable byte buffer. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_BUFFER_H
#define KF_PROTO_BUFFER_H

#include <stddef.h>
#include <stdint.h>

/*
 * A byte buffer that owns its memory. Zero-initialise it ({0}) to start empty.
 * Every growth that fails leaves the buffer as it was and returns KF_ERR_NOMEM.
 * Buffers that held secrets are released with kf_buf_free_secret(); reserve
 * their final size first, because growth moves the bytes and cannot wipe the
 * memory it leaves behind.
 */
struct kf_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Makes room for at least extra more bytes past len. */
int kf_buf_reserve(struct kf_buf *buf, size_t extra);

/* Appends len bytes of data. */
int kf_buf_append(struct kf_buf *buf, const void *data, size_t len);

/* Appends a big-endian 32-bit integer. */
int kf_buf_append_u32(struct kf_buf *buf, uint32_t value);

/* Removes the first count bytes, keeping the rest. */
void kf_buf_consume(struct kf_buf *buf, size_t count);

/* Empties the buffer but keeps its memory. */
void kf_buf_reset(struct kf_buf *buf);

/* Releases the memory; the buffer is empty afterwards. */
void kf_buf_free(struct kf_buf *buf);

/* Wipes every byte the buffer ever held in its current memory, then releases it. */
void kf_buf_free_secret(struct kf_buf *buf);

#endif
