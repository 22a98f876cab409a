/* kefu: the session code a customer reads to the technician. SPDX-License-Identifier: MIT */
#include "proto/session/code.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

int kf_code_make(struct kf_code *code, unsigned relay_index, uint16_t port, struct kf_error *err)
{
	uint32_t value;

	memset(code, 0, sizeof(*code));
	if (relay_index > 9 || port == 0)
		return kf_error_set(err, KF_ERR_INVALID, "a code needs a relay 0-9 and a port");
	/* Rejection sampling: 4294000000 is the largest multiple of 10^6 below 2^32. */
	do {
		if (RAND_bytes((unsigned char *)&value, sizeof(value)) != 1)
			return kf_error_set(err, KF_ERR_IO, "no randomness for the code");
	} while (value >= 4294000000u);
	snprintf(code->secret, sizeof(code->secret), "%06u", value % 1000000u);
	OPENSSL_cleanse(&value, sizeof(value));
	code->relay_index = relay_index;
	code->port = port;
	return KF_OK;
}

int kf_code_format(const struct kf_code *code, char *out, size_t size)
{
	char digits[KF_CODE_DIGITS + 1];

	if (size < KF_CODE_TEXT_SIZE)
		return KF_ERR_TOO_LARGE;
	snprintf(digits, sizeof(digits), "%u%05u%s", code->relay_index, code->port, code->secret);
	snprintf(out, size, "%.4s %.4s %.4s", digits, digits + 4, digits + 8);
	OPENSSL_cleanse(digits, sizeof(digits));
	return KF_OK;
}

int kf_code_parse(const char *text, struct kf_code *code, struct kf_error *err)
{
	char digits[KF_CODE_DIGITS + 1];
	size_t count = 0;
	unsigned long port = 0;
	int r = KF_OK;

	memset(code, 0, sizeof(*code));
	for (const char *c = text; *c != '\0'; c++) {
		if (*c == ' ' || *c == '-' || *c == '\t')
			continue;
		if (*c < '0' || *c > '9') {
			r = kf_error_set(err, KF_ERR_INVALID,
					 "a code has only digits (and spaces between groups)");
			goto out;
		}
		if (count == KF_CODE_DIGITS) {
			count++;
			break;
		}
		digits[count++] = *c;
	}
	if (count != KF_CODE_DIGITS) {
		r = count > KF_CODE_DIGITS
			    ? kf_error_set(err, KF_ERR_INVALID,
					   "a code has %d digits; this has more", KF_CODE_DIGITS)
			    : kf_error_set(err, KF_ERR_INVALID,
					   "a code has %d digits; this has %zu", KF_CODE_DIGITS,
					   count);
		goto out;
	}
	for (int i = 1; i <= 5; i++)
		port = port * 10 + (unsigned long)(digits[i] - '0');
	if (port == 0 || port > 65535) {
		r = kf_error_set(err, KF_ERR_INVALID,
				 "this is not a valid code: check the digits with the customer");
		goto out;
	}
	code->relay_index = (unsigned)(digits[0] - '0');
	code->port = (uint16_t)port;
	memcpy(code->secret, digits + 6, KF_CODE_SECRET_DIGITS);
	code->secret[KF_CODE_SECRET_DIGITS] = '\0';
out:
	OPENSSL_cleanse(digits, sizeof(digits));
	return r;
}
