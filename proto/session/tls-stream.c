/* kefu: TLS 1.3 end to end, as a kf_stream layered on another kf_stream. SPDX-License-Identifier: MIT */
#include "proto/session/tls-stream.h"
#include "proto/base/buffer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_CHUNK (16 * 1024)

struct tls_stream {
	struct kf_stream stream; /* first: the stream pointer is the struct pointer */
	struct kf_stream *lower;
	SSL *ssl;
	BIO *incoming; /* ciphertext from the peer, for OpenSSL to read */
	BIO *outgoing; /* ciphertext OpenSSL wrote, for the lower stream */
	kf_tls_handshake_cb on_handshake;
	void *handshake_user;
	struct kf_buf held; /* plaintext written before the handshake finished */
	int is_handshake_done;
	int is_paused;
	int is_ended;
	int is_closed;
	int is_shutdown;
	int is_high;
	int depth;
};

static const struct kf_stream_ops tls_ops;

/* The first OpenSSL error on this thread, as text; clears the queue. */
static const char *openssl_reason(char *buffer, size_t size)
{
	unsigned long code = ERR_get_error();

	if (code == 0)
		snprintf(buffer, size, "no detail");
	else
		ERR_error_string_n(code, buffer, size);
	ERR_clear_error();
	return buffer;
}

static void tls_free(struct tls_stream *tls)
{
	if (tls->lower != NULL)
		kf_stream_close(tls->lower);
	SSL_free(tls->ssl); /* frees both BIOs */
	kf_buf_free_secret(&tls->held);
	free(tls);
}

/* Leaves a callback section; frees the stream if it was closed inside it. */
static int tls_leave(struct tls_stream *tls)
{
	if (--tls->depth == 0 && tls->is_closed) {
		tls_free(tls);
		return 1;
	}
	return tls->is_closed;
}

static void tls_end(struct tls_stream *tls, int status, const struct kf_error *err)
{
	if (tls->is_ended || tls->is_closed)
		return;
	tls->is_ended = 1;
	if (!tls->is_handshake_done) {
		struct kf_error failure;

		tls->is_handshake_done = 1;
		if (err == NULL) {
			kf_error_set(&failure, KF_ERR_CLOSED,
				     "the other side closed the connection during the TLS "
				     "handshake");
			err = &failure;
		}
		if (tls->on_handshake != NULL)
			tls->on_handshake(&tls->stream, err, tls->handshake_user);
		return;
	}
	if (tls->stream.on_end != NULL)
		tls->stream.on_end(&tls->stream, status, err, tls->stream.user);
}

/* Hands every ciphertext byte OpenSSL produced to the lower stream. */
static int flush_outgoing(struct tls_stream *tls, struct kf_error *err)
{
	char chunk[RECORD_CHUNK];
	int n;

	while ((n = BIO_read(tls->outgoing, chunk, sizeof(chunk))) > 0) {
		int r = kf_stream_write(tls->lower, chunk, (size_t)n, err);

		if (r != KF_OK)
			return r;
	}
	return KF_OK;
}

static int write_plaintext(struct tls_stream *tls, const void *data, size_t len,
			   struct kf_error *err)
{
	const uint8_t *bytes = data;
	char reason[256];

	while (len > 0) {
		int chunk = len > RECORD_CHUNK ? RECORD_CHUNK : (int)len;
		int n = SSL_write(tls->ssl, bytes, chunk);

		if (n <= 0)
			return kf_error_set(err, KF_ERR_IO, "TLS could not encrypt: %s",
					    openssl_reason(reason, sizeof(reason)));
		bytes += n;
		len -= (size_t)n;
	}
	return flush_outgoing(tls, err);
}

static void fail(struct tls_stream *tls, int code, const char *prefix)
{
	struct kf_error err;
	char reason[256];

	kf_error_set(&err, code, "%s: %s", prefix, openssl_reason(reason, sizeof(reason)));
	tls_end(tls, code, &err);
}

/* Runs the handshake or decrypts what arrived; called with depth held. */
static void tls_drive(struct tls_stream *tls)
{
	struct kf_error err;
	uint8_t plain[RECORD_CHUNK];
	int n;

	if (tls->is_ended || tls->is_closed)
		return;
	if (!tls->is_handshake_done) {
		n = SSL_do_handshake(tls->ssl);
		if (flush_outgoing(tls, &err) != KF_OK) {
			tls_end(tls, err.code, &err);
			return;
		}
		if (n != 1) {
			int why = SSL_get_error(tls->ssl, n);

			if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE)
				return;
			if (SSL_get_verify_result(tls->ssl) != X509_V_OK) {
				kf_error_set(&err, KF_ERR_AUTH,
					     "the technician's certificate is not trusted: %s",
					     X509_verify_cert_error_string(
						     SSL_get_verify_result(tls->ssl)));
				ERR_clear_error();
				tls_end(tls, KF_ERR_AUTH, &err);
				return;
			}
			fail(tls, KF_ERR_AUTH, "the TLS handshake failed");
			return;
		}
		tls->is_handshake_done = 1;
		if (tls->on_handshake != NULL)
			tls->on_handshake(&tls->stream, NULL, tls->handshake_user);
		if (tls->is_closed || tls->is_ended)
			return;
		if (tls->held.len > 0) {
			int r = write_plaintext(tls, tls->held.data, tls->held.len, &err);

			kf_buf_reset(&tls->held);
			if (r != KF_OK) {
				tls_end(tls, r, &err);
				return;
			}
		}
		if (tls->is_shutdown) {
			SSL_shutdown(tls->ssl);
			flush_outgoing(tls, &err);
			kf_stream_shutdown(tls->lower);
		}
	}
	while (!tls->is_paused && !tls->is_closed && !tls->is_ended) {
		n = SSL_read(tls->ssl, plain, sizeof(plain));
		if (n > 0) {
			if (tls->stream.on_read != NULL)
				tls->stream.on_read(&tls->stream, plain, (size_t)n,
						    tls->stream.user);
			continue;
		}
		switch (SSL_get_error(tls->ssl, n)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			/* TLS 1.3 sends session tickets and key updates after the handshake. */
			if (flush_outgoing(tls, &err) != KF_OK)
				tls_end(tls, err.code, &err);
			break;
		case SSL_ERROR_ZERO_RETURN:
			tls_end(tls, KF_OK, NULL);
			break;
		default:
			fail(tls, KF_ERR_INVALID, "the other side sent data that is not valid TLS");
			break;
		}
		break;
	}
	OPENSSL_cleanse(plain, sizeof(plain));
}

/* ---- callbacks of the lower stream ---- */

static void lower_on_read(struct kf_stream *lower, const uint8_t *data, size_t len, void *user)
{
	struct tls_stream *tls = user;

	(void)lower;
	if (tls->is_ended)
		return;
	tls->depth++;
	if (BIO_write(tls->incoming, data, (int)len) != (int)len)
		fail(tls, KF_ERR_NOMEM, "TLS could not buffer incoming data");
	else
		tls_drive(tls);
	tls_leave(tls);
}

static void lower_on_end(struct kf_stream *lower, int status, const struct kf_error *err,
			 void *user)
{
	struct tls_stream *tls = user;
	struct kf_error truncated;

	(void)lower;
	tls->depth++;
	if (status == KF_OK) {
		/* An end without TLS's close_notify may be an attacker cutting the stream. */
		kf_error_set(&truncated, KF_ERR_CLOSED,
			     "the connection ended without the other side closing it properly");
		tls_end(tls, KF_ERR_CLOSED, &truncated);
	} else {
		tls_end(tls, status, err);
	}
	tls_leave(tls);
}

static void lower_on_drain(struct kf_stream *lower, void *user)
{
	struct tls_stream *tls = user;

	(void)lower;
	if (!tls->is_high || tls->is_closed || tls->is_ended)
		return;
	tls->is_high = 0;
	tls->depth++;
	if (tls->stream.on_drain != NULL)
		tls->stream.on_drain(&tls->stream, tls->stream.user);
	tls_leave(tls);
}

/* ---- the kf_stream it offers ---- */

static int tls_write(struct kf_stream *stream, const void *data, size_t len, struct kf_error *err)
{
	struct tls_stream *tls = (struct tls_stream *)stream;
	int r;

	if (tls->is_ended || tls->is_shutdown)
		return kf_error_set(err, KF_ERR_CLOSED, "the session stream is closed");
	if (!tls->is_handshake_done)
		return kf_buf_append(&tls->held, data, len) == KF_OK
			       ? KF_OK
			       : kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	r = write_plaintext(tls, data, len, err);
	if (kf_stream_pending(tls->lower) >= KF_STREAM_HIGH_WATER)
		tls->is_high = 1;
	return r;
}

static size_t tls_pending(const struct kf_stream *stream)
{
	const struct tls_stream *tls = (const struct tls_stream *)stream;

	return tls->held.len + kf_stream_pending(tls->lower);
}

static void tls_read_pause(struct kf_stream *stream, int paused)
{
	struct tls_stream *tls = (struct tls_stream *)stream;

	tls->is_paused = paused;
	kf_stream_read_pause(tls->lower, paused);
	if (!paused && tls->is_handshake_done) {
		/* Records OpenSSL already holds would otherwise wait for more input. */
		tls->depth++;
		tls_drive(tls);
		tls_leave(tls);
	}
}

static void tls_shutdown(struct kf_stream *stream)
{
	struct tls_stream *tls = (struct tls_stream *)stream;

	if (tls->is_shutdown)
		return;
	tls->is_shutdown = 1;
	if (!tls->is_handshake_done)
		return; /* sent once the handshake is over */
	SSL_shutdown(tls->ssl);
	flush_outgoing(tls, NULL);
	kf_stream_shutdown(tls->lower);
}

static void tls_close(struct kf_stream *stream)
{
	struct tls_stream *tls = (struct tls_stream *)stream;

	tls->is_closed = 1;
	if (tls->depth == 0)
		tls_free(tls);
}

static const struct kf_stream_ops tls_ops = {
	.write = tls_write,
	.pending = tls_pending,
	.read_pause = tls_read_pause,
	.shutdown = tls_shutdown,
	.close = tls_close,
};

int kf_tls_stream_new(SSL_CTX *context, int is_server, struct kf_stream *lower,
		      kf_tls_handshake_cb on_handshake, void *user, struct kf_stream **out,
		      struct kf_error *err)
{
	struct tls_stream *tls;
	char reason[256];

	*out = NULL;
	tls = calloc(1, sizeof(*tls));
	if (tls == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for TLS");
	tls->stream.ops = &tls_ops;
	tls->ssl = SSL_new(context);
	tls->incoming = BIO_new(BIO_s_mem());
	tls->outgoing = BIO_new(BIO_s_mem());
	if (tls->ssl == NULL || tls->incoming == NULL || tls->outgoing == NULL) {
		BIO_free(tls->incoming);
		BIO_free(tls->outgoing);
		SSL_free(tls->ssl);
		free(tls);
		return kf_error_set(err, KF_ERR_NOMEM, "TLS could not start: %s",
				    openssl_reason(reason, sizeof(reason)));
	}
	SSL_set_bio(tls->ssl, tls->incoming, tls->outgoing);
	if (is_server)
		SSL_set_accept_state(tls->ssl);
	else
		SSL_set_connect_state(tls->ssl);
	tls->lower = lower;
	tls->on_handshake = on_handshake;
	tls->handshake_user = user;
	lower->on_read = lower_on_read;
	lower->on_end = lower_on_end;
	lower->on_drain = lower_on_drain;
	lower->user = tls;
	*out = &tls->stream;
	if (!is_server) {
		/* The client speaks first; the server waits for its hello. */
		tls->depth++;
		tls_drive(tls);
		tls_leave(tls);
	}
	return KF_OK;
}

static SSL_CTX *context_new(const SSL_METHOD *method, struct kf_error *err)
{
	SSL_CTX *context = SSL_CTX_new(method);

	if (context == NULL) {
		kf_error_set(err, KF_ERR_NOMEM, "TLS could not start");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION);
	/* No resumption: every session is new, and no ticket outlives it. */
	SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(context, 0);
	SSL_CTX_set_options(context, SSL_OP_NO_TICKET);
	return context;
}

SSL_CTX *kf_tls_client_context(const char *ca_pem, struct kf_error *err)
{
	SSL_CTX *context;
	X509_STORE *store;
	BIO *bio;
	X509 *cert;
	int count = 0;

	context = context_new(TLS_client_method(), err);
	if (context == NULL)
		return NULL;
	store = SSL_CTX_get_cert_store(context);
	bio = BIO_new_mem_buf(ca_pem, -1);
	while (bio != NULL && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, cert) == 1)
			count++;
		X509_free(cert);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (count == 0) {
		SSL_CTX_free(context);
		kf_error_set(err, KF_ERR_INVALID, "the support profile holds no usable support CA");
		return NULL;
	}
	/* The console is known by its certificate alone: no host name to check. */
	SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER);
	return context;
}

SSL_CTX *kf_tls_server_context(const char *chain_path, const char *key_path, struct kf_error *err)
{
	SSL_CTX *context = context_new(TLS_server_method(), err);
	char reason[256];

	if (context == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(context, chain_path) != 1) {
		kf_error_set(err, KF_ERR_INVALID, "cannot use the certificate %s: %s", chain_path,
			     openssl_reason(reason, sizeof(reason)));
		SSL_CTX_free(context);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(context, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(context) != 1) {
		kf_error_set(err, KF_ERR_INVALID, "cannot use the private key %s: %s", key_path,
			     openssl_reason(reason, sizeof(reason)));
		SSL_CTX_free(context);
		return NULL;
	}
	return context;
}

static void name_entry(X509_NAME *name, int nid, char *out, size_t size)
{
	int index = X509_NAME_get_index_by_NID(name, nid, -1);
	ASN1_STRING *data;
	unsigned char *utf8 = NULL;
	int len;

	out[0] = '\0';
	if (index < 0)
		return;
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
	len = ASN1_STRING_to_UTF8(&utf8, data);
	if (len < 0)
		return;
	snprintf(out, size, "%.*s", len, utf8);
	OPENSSL_free(utf8);
	/* The name is shown to a customer: no control characters. */
	for (char *c = out; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static int certificate_identity(X509 *cert, struct kf_tls_identity *identity, struct kf_error *err)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (cert == NULL)
		return kf_error_set(err, KF_ERR_AUTH, "no certificate");
	name_entry(X509_get_subject_name(cert), NID_commonName, identity->name,
		   sizeof(identity->name));
	name_entry(X509_get_subject_name(cert), NID_organizationName, identity->organisation,
		   sizeof(identity->organisation));
	X509_digest(cert, EVP_sha256(), digest, &len);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(identity->fingerprint + 2 * i, 3, "%02x", digest[i]);
	return KF_OK;
}

int kf_tls_stream_peer_identity(struct kf_stream *stream, struct kf_tls_identity *identity,
				struct kf_error *err)
{
	struct tls_stream *tls = (struct tls_stream *)stream;
	X509 *cert = SSL_get1_peer_certificate(tls->ssl);
	int r = certificate_identity(cert, identity, err);

	X509_free(cert);
	return r;
}

int kf_tls_stream_local_identity(struct kf_stream *stream, struct kf_tls_identity *identity,
				 struct kf_error *err)
{
	struct tls_stream *tls = (struct tls_stream *)stream;

	return certificate_identity(SSL_get_certificate(tls->ssl), identity, err);
}

int kf_tls_stream_export(struct kf_stream *stream, const char *label, uint8_t *out, size_t len,
			 struct kf_error *err)
{
	struct tls_stream *tls = (struct tls_stream *)stream;

	if (!tls->is_handshake_done ||
	    SSL_export_keying_material(tls->ssl, out, len, label, strlen(label), NULL, 0, 0) != 1)
		return kf_error_set(err, KF_ERR_STATE, "TLS keying material is not available");
	return KF_OK;
}

int kf_tls_certificate_identity(const char *chain_path, struct kf_tls_identity *identity,
				struct kf_error *err)
{
	FILE *file = fopen(chain_path, "re");
	X509 *cert;
	int r;

	if (file == NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot open %s", chain_path);
	cert = PEM_read_X509(file, NULL, NULL, NULL);
	fclose(file);
	if (cert == NULL) {
		ERR_clear_error();
		return kf_error_set(err, KF_ERR_INVALID, "%s holds no certificate", chain_path);
	}
	r = certificate_identity(cert, identity, err);
	X509_free(cert);
	return r;
}
