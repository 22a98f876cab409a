/* kefu: unit tests for the end-to-end TLS stream and the SPAKE2 code proof. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/pake.h"
#include "proto/session/tls-stream.h"
#include "tests/unit/certs.h"
#include "tests/unit/memory-stream.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct certs {
	char dir[64];
	char ca[128], other_ca[128];
	char tech_chain[128], tech_key[128];
	char expired_chain[128], expired_key[128];
	char foreign_chain[128], foreign_key[128];
	char *ca_pem;
};

static char *read_text(const char *path)
{
	FILE *file = fopen(path, "r");
	char *text = calloc(1, 65536);

	assert_non_null(file);
	assert_true(fread(text, 1, 65535, file) > 0);
	fclose(file);
	return text;
}

static int setup_certs(void **state)
{
	struct certs *c = calloc(1, sizeof(*c));
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *other_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *tech_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *ca, *other, *tech, *expired, *foreign;

	strcpy(c->dir, "/tmp/kefu-tls-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	ca = make_cert(ca_key, "Example support CA", "Example Support", NULL, ca_key, 0, 30, 1);
	other = make_cert(other_key, "Other CA", "Other", NULL, other_key, 0, 30, 1);
	tech = make_cert(tech_key, "Alice Tan", "Example Support", ca, ca_key, 0, 30, 0);
	expired = make_cert(tech_key, "Old Bob", "Example Support", ca, ca_key, -10, -1, 0);
	foreign = make_cert(tech_key, "Mallory", "Example Support", other, other_key, 0, 30, 0);
	snprintf(c->ca, sizeof(c->ca), "%s/ca.pem", c->dir);
	snprintf(c->other_ca, sizeof(c->other_ca), "%s/other.pem", c->dir);
	snprintf(c->tech_chain, sizeof(c->tech_chain), "%s/tech.pem", c->dir);
	snprintf(c->tech_key, sizeof(c->tech_key), "%s/tech.key", c->dir);
	snprintf(c->expired_chain, sizeof(c->expired_chain), "%s/expired.pem", c->dir);
	snprintf(c->foreign_chain, sizeof(c->foreign_chain), "%s/foreign.pem", c->dir);
	write_pem(c->ca, ca, NULL, NULL);
	write_pem(c->other_ca, other, NULL, NULL);
	write_pem(c->tech_chain, tech, ca, NULL);
	write_pem(c->tech_key, NULL, NULL, tech_key);
	write_pem(c->expired_chain, expired, ca, NULL);
	write_pem(c->foreign_chain, foreign, other, NULL);
	c->ca_pem = read_text(c->ca);
	X509_free(ca);
	X509_free(other);
	X509_free(tech);
	X509_free(expired);
	X509_free(foreign);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(tech_key);
	*state = c;
	return 0;
}

static int teardown_certs(void **state)
{
	struct certs *c = *state;
	char command[128];

	snprintf(command, sizeof(command), "rm -rf %s", c->dir);
	assert_int_equal(system(command), 0);
	free(c->ca_pem);
	free(c);
	return 0;
}

struct side {
	int handshakes;
	struct kf_error handshake_error;
	int is_failed;
	char received[256];
	size_t received_len;
	int ended;
	int end_status;
	struct kf_error end_error;
};

static void on_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct side *side = user;

	(void)tls;
	side->handshakes++;
	if (err != NULL) {
		side->is_failed = 1;
		side->handshake_error = *err;
	}
}

static void on_read(struct kf_stream *tls, const uint8_t *data, size_t len, void *user)
{
	struct side *side = user;

	(void)tls;
	assert_true(side->received_len + len < sizeof(side->received));
	memcpy(side->received + side->received_len, data, len);
	side->received_len += len;
}

static void on_end(struct kf_stream *tls, int status, const struct kf_error *err, void *user)
{
	struct side *side = user;

	(void)tls;
	side->ended++;
	side->end_status = status;
	if (err != NULL)
		side->end_error = *err;
}

struct session {
	struct kf_stream *lower_client, *lower_server;
	struct kf_stream *client, *server;
	SSL_CTX *client_context, *server_context;
	struct side client_side, server_side;
};

static void session_start(struct session *s, const char *ca_pem, const char *chain, const char *key)
{
	memset(s, 0, sizeof(*s));
	s->client_context = kf_tls_client_context(ca_pem, NULL);
	s->server_context = kf_tls_server_context(chain, key, NULL);
	assert_non_null(s->client_context);
	assert_non_null(s->server_context);
	memory_stream_pair(&s->lower_client, &s->lower_server);
	assert_int_equal(kf_tls_stream_new(s->server_context, 1, s->lower_server, on_handshake,
					   &s->server_side, &s->server, NULL),
			 KF_OK);
	assert_int_equal(kf_tls_stream_new(s->client_context, 0, s->lower_client, on_handshake,
					   &s->client_side, &s->client, NULL),
			 KF_OK);
	s->client->on_read = s->server->on_read = on_read;
	s->client->on_end = s->server->on_end = on_end;
	s->client->user = &s->client_side;
	s->server->user = &s->server_side;
	memory_stream_pump(s->lower_client, s->lower_server);
}

static void session_end(struct session *s)
{
	kf_stream_close(s->client);
	kf_stream_close(s->server);
	SSL_CTX_free(s->client_context);
	SSL_CTX_free(s->server_context);
}

static void handshake_succeeds_and_client_sees_the_technician(void **state)
{
	struct certs *c = *state;
	struct kf_tls_identity identity, own;
	uint8_t client_key[32], server_key[32];
	struct session s;

	session_start(&s, c->ca_pem, c->tech_chain, c->tech_key);
	assert_int_equal(s.client_side.handshakes, 1);
	assert_int_equal(s.server_side.handshakes, 1);
	assert_false(s.client_side.is_failed);
	assert_int_equal(kf_tls_stream_peer_identity(s.client, &identity, NULL), KF_OK);
	assert_string_equal(identity.name, "Alice Tan");
	assert_string_equal(identity.organisation, "Example Support");
	assert_int_equal(kf_tls_stream_local_identity(s.server, &own, NULL), KF_OK);
	assert_string_equal(own.fingerprint, identity.fingerprint);
	assert_int_equal(kf_tls_stream_export(s.client, "EXPORTER-test", client_key, 32, NULL),
			 KF_OK);
	assert_int_equal(kf_tls_stream_export(s.server, "EXPORTER-test", server_key, 32, NULL),
			 KF_OK);
	assert_memory_equal(client_key, server_key, 32);

	assert_int_equal(kf_stream_write(s.client, "hello console", 13, NULL), KF_OK);
	assert_int_equal(kf_stream_write(s.server, "hello agent", 11, NULL), KF_OK);
	memory_stream_pump(s.lower_client, s.lower_server);
	assert_int_equal(s.server_side.received_len, 13);
	assert_memory_equal(s.server_side.received, "hello console", 13);
	assert_memory_equal(s.client_side.received, "hello agent", 11);
	session_end(&s);
}

static void data_written_before_the_handshake_arrives_after_it(void **state)
{
	struct certs *c = *state;
	struct session s;

	memset(&s, 0, sizeof(s));
	s.client_context = kf_tls_client_context(c->ca_pem, NULL);
	s.server_context = kf_tls_server_context(c->tech_chain, c->tech_key, NULL);
	memory_stream_pair(&s.lower_client, &s.lower_server);
	kf_tls_stream_new(s.server_context, 1, s.lower_server, on_handshake, &s.server_side,
			  &s.server, NULL);
	kf_tls_stream_new(s.client_context, 0, s.lower_client, on_handshake, &s.client_side,
			  &s.client, NULL);
	s.server->on_read = on_read;
	s.server->user = &s.server_side;
	assert_int_equal(kf_stream_write(s.client, "early", 5, NULL), KF_OK);
	memory_stream_pump(s.lower_client, s.lower_server);
	assert_int_equal(s.server_side.received_len, 5);
	session_end(&s);
}

static void certificate_from_another_ca_is_refused(void **state)
{
	struct certs *c = *state;
	struct session s;

	session_start(&s, c->ca_pem, c->foreign_chain, c->tech_key);
	assert_true(s.client_side.is_failed);
	assert_int_equal(s.client_side.handshake_error.code, KF_ERR_AUTH);
	assert_non_null(strstr(s.client_side.handshake_error.message, "not trusted"));
	session_end(&s);
}

static void expired_certificate_is_refused(void **state)
{
	struct certs *c = *state;
	struct session s;

	session_start(&s, c->ca_pem, c->expired_chain, c->tech_key);
	assert_true(s.client_side.is_failed);
	assert_non_null(strstr(s.client_side.handshake_error.message, "expired"));
	session_end(&s);
}

static void tampered_record_ends_the_stream_with_an_error(void **state)
{
	struct certs *c = *state;
	struct session s;

	session_start(&s, c->ca_pem, c->tech_chain, c->tech_key);
	memory_stream_corrupt_next(s.lower_server);
	kf_stream_write(s.client, "transfer 100 to account 1", 25, NULL);
	memory_stream_pump(s.lower_client, s.lower_server);
	assert_int_equal(s.server_side.received_len, 0);
	assert_int_equal(s.server_side.ended, 1);
	assert_true(s.server_side.end_status < 0);
	session_end(&s);
}

static void cut_stream_without_close_notify_is_an_error_but_shutdown_is_not(void **state)
{
	struct certs *c = *state;
	struct session s;

	session_start(&s, c->ca_pem, c->tech_chain, c->tech_key);
	memory_stream_hang_up(s.lower_server);
	memory_stream_pump(s.lower_client, s.lower_server);
	assert_int_equal(s.server_side.ended, 1);
	assert_int_equal(s.server_side.end_status, KF_ERR_CLOSED);
	kf_stream_shutdown(s.server);
	memory_stream_pump(s.lower_client, s.lower_server);
	assert_int_equal(s.client_side.ended, 1);
	assert_int_equal(s.client_side.end_status, KF_OK);
	session_end(&s);
}

static void run_pake(const char *secret_a, const char *secret_b, const uint8_t *context_a,
		     const uint8_t *context_b, int *a_accepts_b, int *b_accepts_a)
{
	struct kf_pake *a, *b;
	uint8_t share_a[KF_PAKE_SHARE_SIZE], share_b[KF_PAKE_SHARE_SIZE];
	uint8_t mine_a[32], expected_a[32], mine_b[32], expected_b[32];

	assert_int_equal(kf_pake_new(&a, 1, secret_a, context_a, 32, "agent", "console", NULL),
			 KF_OK);
	assert_int_equal(kf_pake_new(&b, 0, secret_b, context_b, 32, "agent", "console", NULL),
			 KF_OK);
	assert_int_equal(kf_pake_share(a, share_a), KF_OK);
	assert_int_equal(kf_pake_share(b, share_b), KF_OK);
	assert_int_equal(kf_pake_finish(a, share_b, sizeof(share_b), mine_a, expected_a, NULL),
			 KF_OK);
	assert_int_equal(kf_pake_finish(b, share_a, sizeof(share_a), mine_b, expected_b, NULL),
			 KF_OK);
	*a_accepts_b = kf_pake_confirm_equal(mine_b, 32, expected_a);
	*b_accepts_a = kf_pake_confirm_equal(mine_a, 32, expected_b);
	kf_pake_free(a);
	kf_pake_free(b);
}

static void same_secret_and_session_prove_both_ways(void **state)
{
	uint8_t context[32] = {1, 2, 3};
	int a_ok, b_ok;

	(void)state;
	run_pake("482913", "482913", context, context, &a_ok, &b_ok);
	assert_true(a_ok);
	assert_true(b_ok);
}

static void wrong_secret_fails_both_ways(void **state)
{
	uint8_t context[32] = {1, 2, 3};
	int a_ok, b_ok;

	(void)state;
	run_pake("482913", "482914", context, context, &a_ok, &b_ok);
	assert_false(a_ok);
	assert_false(b_ok);
}

static void proof_from_another_tls_session_fails(void **state)
{
	uint8_t context_a[32] = {1, 2, 3}, context_b[32] = {1, 2, 4};
	int a_ok, b_ok;

	(void)state;
	run_pake("482913", "482913", context_a, context_b, &a_ok, &b_ok);
	assert_false(a_ok);
	assert_false(b_ok);
}

static void shares_are_fresh_each_run(void **state)
{
	uint8_t context[32] = {0};
	struct kf_pake *first, *second;
	uint8_t one[KF_PAKE_SHARE_SIZE], two[KF_PAKE_SHARE_SIZE];

	(void)state;
	kf_pake_new(&first, 1, "111111", context, 32, "agent", "console", NULL);
	kf_pake_new(&second, 1, "111111", context, 32, "agent", "console", NULL);
	kf_pake_share(first, one);
	kf_pake_share(second, two);
	assert_memory_not_equal(one, two, sizeof(one));
	kf_pake_free(first);
	kf_pake_free(second);
}

static void invalid_or_replayed_share_is_handled(void **state)
{
	uint8_t context[32] = {0}, garbage[KF_PAKE_SHARE_SIZE], mine[32], expected[32];
	uint8_t share[KF_PAKE_SHARE_SIZE];
	struct kf_pake *a, *b;
	struct kf_error err;

	(void)state;
	kf_pake_new(&a, 1, "111111", context, 32, "agent", "console", NULL);
	memset(garbage, 0x04, sizeof(garbage));
	assert_int_equal(kf_pake_finish(a, garbage, sizeof(garbage), mine, expected, &err),
			 KF_ERR_INVALID);
	assert_int_equal(kf_pake_finish(a, garbage, 3, mine, expected, &err), KF_ERR_INVALID);
	/* A reflected share (the agent's own, sent back) does not confirm. */
	kf_pake_new(&b, 0, "111111", context, 32, "agent", "console", NULL);
	kf_pake_share(a, share);
	assert_int_equal(kf_pake_finish(a, share, sizeof(share), mine, expected, NULL), KF_OK);
	assert_false(kf_pake_confirm_equal(mine, 32, expected));
	kf_pake_free(a);
	kf_pake_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_succeeds_and_client_sees_the_technician),
		cmocka_unit_test(data_written_before_the_handshake_arrives_after_it),
		cmocka_unit_test(certificate_from_another_ca_is_refused),
		cmocka_unit_test(expired_certificate_is_refused),
		cmocka_unit_test(tampered_record_ends_the_stream_with_an_error),
		cmocka_unit_test(cut_stream_without_close_notify_is_an_error_but_shutdown_is_not),
		cmocka_unit_test(same_secret_and_session_prove_both_ways),
		cmocka_unit_test(wrong_secret_fails_both_ways),
		cmocka_unit_test(proof_from_another_tls_session_fails),
		cmocka_unit_test(shares_are_fresh_each_run),
		cmocka_unit_test(invalid_or_replayed_share_is_handled),
	};
	return cmocka_run_group_tests(tests, setup_certs, teardown_certs);
}
