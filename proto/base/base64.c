/* kefu: standard base64 (RFC 4648) for keys and proofs in text formats. SPDX-License-Identifier: MIT */
#include "proto/base/base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

char *kf_base64_encode(const uint8_t *data, size_t len)
{
	size_t size = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(size);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int kf_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size)
{
	uint8_t *whole;
	int len, padding = 0;

	if (text_len == 0 || text_len % 4 != 0 || text_len > 4 * 1024 * 1024)
		return -1;
	/* EVP_DecodeBlock skips white space and ignores what follows padding: check first. */
	for (size_t i = 0; i < text_len; i++) {
		char c = text[i];
		int is_base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				(c >= '0' && c <= '9') || c == '+' || c == '/';

		if (c == '=' && i >= text_len - 2)
			padding++;
		else if (!is_base64 || padding > 0)
			return -1;
	}
	if (text_len / 4 * 3 - (size_t)padding > out_size)
		return -1;
	/* It also writes the padding's zero bytes: decode whole groups, then copy. */
	whole = malloc(text_len / 4 * 3);
	if (whole == NULL)
		return -1;
	len = EVP_DecodeBlock(whole, (const unsigned char *)text, (int)text_len);
	if (len >= 0) {
		len -= padding;
		memcpy(out, whole, (size_t)len);
	}
	OPENSSL_cleanse(whole, text_len / 4 * 3);
	free(whole);
	return len;
}
