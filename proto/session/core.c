/* kefu: what both ends of a support session hold, and how they let go of it.
 * SPDX-License-Identifier: MIT */
#include "proto/session/core.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static void owner_release(uv_handle_t *handle)
{
	/* The timer lives in the owner's memory: it goes once libuv let go. */
	free(handle->data);
}

void kf_session_core_init(struct kf_session_core *core, uv_loop_t *loop, void *owner)
{
	core->loop = loop;
	uv_timer_init(loop, &core->timer);
	core->timer.data = owner;
}

int kf_session_core_open(struct kf_session_core *core, uv_loop_t *loop, void *owner,
			 const char *secret, struct kf_stream *channel, SSL_CTX *tls_context,
			 int is_server, kf_tls_handshake_cb on_handshake, uv_timer_cb on_timeout,
			 uint64_t timeout_ms, struct kf_error *err)
{
	int r;

	if ((core->secret = strdup(secret)) == NULL) {
		kf_stream_close(channel);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a session");
	}
	kf_session_core_init(core, loop, owner);
	uv_timer_start(&core->timer, on_timeout, timeout_ms, 0);
	r = kf_tls_stream_new(tls_context, is_server, channel, on_handshake, owner, &core->tls,
			      err);
	if (r != KF_OK)
		kf_stream_close(channel);
	return r;
}

int kf_session_core_chat(struct kf_session_core *core, const char *text, struct kf_error *err)
{
	json_t *body = json_pack("{s:s}", "text", text);
	int r;

	if (body == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "the message is not valid text");
	r = kf_control_send(core->control, "chat", 0, body, NULL, err);
	json_decref(body);
	return r;
}

void kf_session_core_release(struct kf_session_core *core)
{
	kf_proof_clear(&core->proof);
	if (core->control != NULL)
		kf_control_free(core->control); /* closes TLS and the channel below */
	else if (core->tls != NULL)
		kf_stream_close(core->tls);
	core->control = NULL;
	core->tls = NULL;
	if (core->secret != NULL) {
		OPENSSL_cleanse(core->secret, strlen(core->secret));
		free(core->secret);
		core->secret = NULL;
	}
	uv_close((uv_handle_t *)&core->timer, owner_release);
}
