/* kefu: SPAKE2 (RFC 9382) proof of the session code's secret, bound to TLS. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PAKE_H
#define KF_PROTO_PAKE_H

#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The agent (party A) and the console (party B) prove to each other that they hold
 * the same code secret, without revealing anything that would let a listener, a
 * man in the middle or a dishonest peer test guesses offline: each run of the
 * exchange tests at most one guess. The password scalar is derived from the
 * secret and the TLS exporter of the session it runs in, so a proof cannot be
 * relayed into another TLS session.
 *
 *   A -> B: share_A
 *   B -> A: share_B, confirm_B
 *   A -> B: confirm_A
 */
#define KF_PAKE_SHARE_SIZE     65 /* an uncompressed P-256 point */
#define KF_PAKE_CONFIRM_SIZE   32 /* HMAC-SHA-256 */
#define KF_PAKE_CONTEXT_SIZE   32 /* bytes of TLS exporter the proof is bound to */
#define KF_PAKE_EXPORTER_LABEL "EXPORTER-kefu-code-proof"

struct kf_pake;

/*
 * Starts one side. secret is the code's secret digits; context the TLS exporter
 * (KF_PAKE_CONTEXT_SIZE bytes); identity_a and identity_b name both parties the
 * same way on both sides. The caller owns *pake and frees it with kf_pake_free().
 */
int kf_pake_new(struct kf_pake **pake, int is_party_a, const char *secret, const uint8_t *context,
		size_t context_len, const char *identity_a, const char *identity_b,
		struct kf_error *err);

/* This side's share, to send to the peer. */
int kf_pake_share(const struct kf_pake *pake, uint8_t share[KF_PAKE_SHARE_SIZE]);

/*
 * Takes the peer's share and computes both confirmations: mine to send,
 * expected to compare with what the peer sends (kf_pake_confirm_equal).
 * A share that is not a valid point of the group is refused.
 */
int kf_pake_finish(struct kf_pake *pake, const uint8_t *peer_share, size_t peer_share_len,
		   uint8_t mine[KF_PAKE_CONFIRM_SIZE], uint8_t expected[KF_PAKE_CONFIRM_SIZE],
		   struct kf_error *err);

/* Constant-time comparison of a received confirmation with the expected one. */
int kf_pake_confirm_equal(const uint8_t *received, size_t received_len,
			  const uint8_t expected[KF_PAKE_CONFIRM_SIZE]);

/* Wipes and frees. */
void kf_pake_free(struct kf_pake *pake);

#endif
