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
