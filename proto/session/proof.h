/* kefu: the code-proof messages both sides exchange after TLS. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PROOF_H
#define KF_PROTO_PROOF_H

#include "proto/session/control.h"
#include "proto/session/pake.h"

/*
 * The SPAKE2 exchange of proto/session/pake.h as control messages (proto/session/PROTOCOL.md,
 * "Session set-up"): proof.share (agent), proof.reply (console), proof.confirm
 * (agent). The agent is party A, the console party B, named "kefu-agent" and by the
 * SHA-256 fingerprint of the console's certificate; the context is the TLS exporter
 * KF_PAKE_EXPORTER_LABEL of the control channel's TLS session.
 */
#define KF_PROOF_AGENT_IDENTITY "kefu-agent"

/* Error code an agent answers a wrong proof with. */
#define KF_PROOF_ERROR_WRONG_CODE "wrong-code"

struct kf_proof {
	struct kf_pake *pake;
	uint8_t expected[KF_PAKE_CONFIRM_SIZE];
	uint8_t mine[KF_PAKE_CONFIRM_SIZE];
	int is_finished;
};

/*
 * Agent: starts the proof on an established TLS control channel and sends
 * proof.share. console_fingerprint is the peer certificate's fingerprint (hex).
 */
int kf_proof_agent_start(struct kf_proof *proof, struct kf_control *control, struct kf_stream *tls,
			 const char *secret, const char *console_fingerprint, struct kf_error *err);

/*
 * Agent: checks proof.reply. KF_OK (and proof.confirm sent) when the console holds
 * the same secret; KF_ERR_AUTH when not; KF_ERR_INVALID for a malformed message.
 */
int kf_proof_agent_on_reply(struct kf_proof *proof, struct kf_control *control,
			    const struct kf_msg *msg, struct kf_error *err);

/* Console: answers proof.share with proof.reply. own_fingerprint is its certificate's. */
int kf_proof_console_on_share(struct kf_proof *proof, struct kf_control *control,
			      struct kf_stream *tls, const char *secret,
			      const char *own_fingerprint, const struct kf_msg *msg,
			      struct kf_error *err);

/* Console: checks proof.confirm; KF_OK when the agent holds the same secret. */
int kf_proof_console_on_confirm(struct kf_proof *proof, const struct kf_msg *msg,
				struct kf_error *err);

/* Wipes the proof's state. */
void kf_proof_clear(struct kf_proof *proof);

#endif
