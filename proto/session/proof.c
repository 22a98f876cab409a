/* kefu: the code-proof messages both sides exchange after TLS. SPDX-License-Identifier: MIT */
#include "proto/session/proof.h"
#include "proto/base/base64.h"
#include "proto/session/tls-stream.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Reads a base64 field of exactly size bytes from a message body. */
static int read_field(const struct kf_msg *msg, const char *name, uint8_t *out, size_t size,
		      struct kf_error *err)
{
	json_t *value = json_object_get(msg->body, name);
	const char *text;

	if (!json_is_string(value))
		return kf_error_set(err, KF_ERR_INVALID, "%s has no field '%s'", msg->type, name);
	text = json_string_value(value);
	if (kf_base64_decode(text, json_string_length(value), out, size) != (int)size)
		return kf_error_set(err, KF_ERR_INVALID, "%s field '%s' is malformed", msg->type,
				    name);
	return KF_OK;
}

static int send_fields(struct kf_control *control, const char *type, uint32_t re,
		       const char *name_1, const uint8_t *value_1, size_t len_1, const char *name_2,
		       const uint8_t *value_2, size_t len_2, struct kf_error *err)
{
	char *text_1 = kf_base64_encode(value_1, len_1);
	char *text_2 = value_2 != NULL ? kf_base64_encode(value_2, len_2) : NULL;
	json_t *body = json_object();
	int r;

	if (text_1 == NULL || (value_2 != NULL && text_2 == NULL) || body == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for the code proof");
		goto out;
	}
	json_object_set_new(body, name_1, json_string(text_1));
	if (text_2 != NULL)
		json_object_set_new(body, name_2, json_string(text_2));
	r = kf_control_send(control, type, re, body, NULL, err);
out:
	json_decref(body);
	free(text_1);
	free(text_2);
	return r;
}

static int proof_begin(struct kf_proof *proof, int is_agent, struct kf_stream *tls,
		       const char *secret, const char *console_fingerprint, struct kf_error *err)
{
	uint8_t context[KF_PAKE_CONTEXT_SIZE];
	int r;

	memset(proof, 0, sizeof(*proof));
	if ((r = kf_tls_stream_export(tls, KF_PAKE_EXPORTER_LABEL, context, sizeof(context),
				      err)) != KF_OK)
		return r;
	r = kf_pake_new(&proof->pake, is_agent, secret, context, sizeof(context),
			KF_PROOF_AGENT_IDENTITY, console_fingerprint, err);
	OPENSSL_cleanse(context, sizeof(context));
	return r;
}

int kf_proof_agent_start(struct kf_proof *proof, struct kf_control *control, struct kf_stream *tls,
			 const char *secret, const char *console_fingerprint, struct kf_error *err)
{
	uint8_t share[KF_PAKE_SHARE_SIZE];
	int r;

	if ((r = proof_begin(proof, 1, tls, secret, console_fingerprint, err)) != KF_OK)
		return r;
	kf_pake_share(proof->pake, share);
	return send_fields(control, "proof.share", 0, "share", share, sizeof(share), NULL, NULL, 0,
			   err);
}

int kf_proof_agent_on_reply(struct kf_proof *proof, struct kf_control *control,
			    const struct kf_msg *msg, struct kf_error *err)
{
	uint8_t share[KF_PAKE_SHARE_SIZE], confirm[KF_PAKE_CONFIRM_SIZE];
	int r;

	if (proof->pake == NULL || proof->is_finished)
		return kf_error_set(err, KF_ERR_STATE, "an unexpected proof.reply");
	if ((r = read_field(msg, "share", share, sizeof(share), err)) != KF_OK ||
	    (r = read_field(msg, "confirm", confirm, sizeof(confirm), err)) != KF_OK)
		return r;
	if ((r = kf_pake_finish(proof->pake, share, sizeof(share), proof->mine, proof->expected,
				err)) != KF_OK)
		return r;
	proof->is_finished = 1;
	if (!kf_pake_confirm_equal(confirm, sizeof(confirm), proof->expected))
		return kf_error_set(err, KF_ERR_AUTH, "the technician entered a wrong code");
	return send_fields(control, "proof.confirm", msg->id, "confirm", proof->mine,
			   sizeof(proof->mine), NULL, NULL, 0, err);
}

int kf_proof_console_on_share(struct kf_proof *proof, struct kf_control *control,
			      struct kf_stream *tls, const char *secret,
			      const char *own_fingerprint, const struct kf_msg *msg,
			      struct kf_error *err)
{
	uint8_t peer[KF_PAKE_SHARE_SIZE], share[KF_PAKE_SHARE_SIZE];
	int r;

	if (proof->pake != NULL)
		return kf_error_set(err, KF_ERR_STATE, "an unexpected second proof.share");
	if ((r = read_field(msg, "share", peer, sizeof(peer), err)) != KF_OK)
		return r;
	if ((r = proof_begin(proof, 0, tls, secret, own_fingerprint, err)) != KF_OK)
		return r;
	if ((r = kf_pake_finish(proof->pake, peer, sizeof(peer), proof->mine, proof->expected,
				err)) != KF_OK)
		return r;
	kf_pake_share(proof->pake, share);
	return send_fields(control, "proof.reply", msg->id, "share", share, sizeof(share),
			   "confirm", proof->mine, sizeof(proof->mine), err);
}

int kf_proof_console_on_confirm(struct kf_proof *proof, const struct kf_msg *msg,
				struct kf_error *err)
{
	uint8_t confirm[KF_PAKE_CONFIRM_SIZE];
	int r;

	if (proof->pake == NULL || proof->is_finished)
		return kf_error_set(err, KF_ERR_STATE, "an unexpected proof.confirm");
	if ((r = read_field(msg, "confirm", confirm, sizeof(confirm), err)) != KF_OK)
		return r;
	proof->is_finished = 1;
	if (!kf_pake_confirm_equal(confirm, sizeof(confirm), proof->expected))
		return kf_error_set(err, KF_ERR_AUTH,
				    "the customer's computer failed the code proof");
	return KF_OK;
}

void kf_proof_clear(struct kf_proof *proof)
{
	kf_pake_free(proof->pake);
	OPENSSL_cleanse(proof, sizeof(*proof));
}
