/* kefu: how a further stream of a session proves which session it belongs to. SPDX-License-Identifier: MIT */
#include "proto/session/stream-token.h"
#include "proto/session/tls-stream.h"

#include <openssl/crypto.h>
#include <string.h>

int kf_stream_token_preamble(struct kf_stream *control_tls, const char *purpose,
			     uint8_t out[KF_STREAM_PREAMBLE_SIZE], struct kf_error *err)
{
	int r;

	if (strlen(purpose) > KF_STREAM_PURPOSE_SIZE)
		return kf_error_set(err, KF_ERR_INVALID, "stream purpose too long");
	memset(out, 0, KF_STREAM_PREAMBLE_SIZE);
	memcpy(out, "KFS1", 4);
	if ((r = kf_tls_stream_export(control_tls, KF_STREAM_TOKEN_LABEL, out + 4, 32, err)) !=
	    KF_OK)
		return r;
	memcpy(out + 36, purpose, strlen(purpose));
	return KF_OK;
}

int kf_stream_token_check(struct kf_stream *control_tls, const uint8_t *preamble,
			  char purpose[KF_STREAM_PURPOSE_SIZE + 1], struct kf_error *err)
{
	uint8_t token[32];
	int r;

	if (memcmp(preamble, "KFS1", 4) != 0)
		return kf_error_set(err, KF_ERR_INVALID,
				    "a stream that is not a kefu session stream");
	if ((r = kf_tls_stream_export(control_tls, KF_STREAM_TOKEN_LABEL, token, sizeof(token),
				      err)) != KF_OK)
		return r;
	r = CRYPTO_memcmp(token, preamble + 4, sizeof(token));
	OPENSSL_cleanse(token, sizeof(token));
	if (r != 0)
		return kf_error_set(err, KF_ERR_AUTH, "a stream from another session");
	memcpy(purpose, preamble + 36, KF_STREAM_PURPOSE_SIZE);
	purpose[KF_STREAM_PURPOSE_SIZE] = '\0';
	return KF_OK;
}
