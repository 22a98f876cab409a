/* kefu: TLS 1.3 end to end, as a kf_stream layered on another kf_stream. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_TLS_STREAM_H
#define KF_PROTO_TLS_STREAM_H

#include "proto/base/error.h"
#include "proto/session/stream.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

/*
 * TLS inside an SSH channel keeps the session's content from the relay. The
 * console is the TLS server and holds a certificate chaining to the organisation's
 * support CA; the agent is the client and trusts only that CA (pinned in its
 * support profile). Only TLS 1.3 is spoken. OpenSSL runs on memory BIOs, so the
 * layer below can be any kf_stream.
 */

/* Who the certificate says the technician is. */
struct kf_tls_identity {
	char name[128];         /* subject CN */
	char organisation[128]; /* subject O */
	char fingerprint[65];   /* SHA-256 of the certificate, hex */
};

/* A client context trusting only the CA certificate(s) in ca_pem. Caller frees with SSL_CTX_free.
 */
SSL_CTX *kf_tls_client_context(const char *ca_pem, struct kf_error *err);

/* A server context with a certificate chain file (leaf first) and its private key. */
SSL_CTX *kf_tls_server_context(const char *chain_path, const char *key_path, struct kf_error *err);

typedef void (*kf_tls_handshake_cb)(struct kf_stream *tls, const struct kf_error *err, void *user);

/*
 * Starts TLS over lower, which the new stream owns from now on (closing the TLS
 * stream closes it). on_handshake fires once: err is NULL when the handshake
 * succeeded, otherwise the reason (the stream must then be closed). Data written
 * before the handshake is held until it completes. The caller owns *tls.
 */
int kf_tls_stream_new(SSL_CTX *context, int is_server, struct kf_stream *lower,
		      kf_tls_handshake_cb on_handshake, void *user, struct kf_stream **tls,
		      struct kf_error *err);

/* After the handshake: the peer certificate's identity (the client reads the server's). */
int kf_tls_stream_peer_identity(struct kf_stream *tls, struct kf_tls_identity *identity,
				struct kf_error *err);

/* The local certificate's identity (the server's own). */
int kf_tls_stream_local_identity(struct kf_stream *tls, struct kf_tls_identity *identity,
				 struct kf_error *err);

/* RFC 8446 exporter: len bytes bound to this TLS session and label. */
int kf_tls_stream_export(struct kf_stream *tls, const char *label, uint8_t *out, size_t len,
			 struct kf_error *err);

/* Reads the identity of a certificate file's first certificate (for the console's own display). */
int kf_tls_certificate_identity(const char *chain_path, struct kf_tls_identity *identity,
				struct kf_error *err);

#endif
