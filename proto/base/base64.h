/* kefu: standard base64 (RFC 4648) for keys and proofs in text formats. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_BASE64_H
#define KF_PROTO_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Returns a NUL-terminated encoding the caller frees, or NULL when out of memory. */
char *kf_base64_encode(const uint8_t *data, size_t len);

/*
 * Decodes text_len characters of padded base64 without white space into out.
 * Returns the decoded length, or -1 for anything malformed or larger than out_size.
 */
int kf_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size);

#endif
