/* kefu tests: certificates made in memory for unit tests. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/certs.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_extension(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX context;
	X509_EXTENSION *extension;

	X509V3_set_ctx(&context, issuer, cert, NULL, NULL, 0);
	extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
	assert_non_null(extension);
	X509_add_ext(cert, extension, -1);
	X509_EXTENSION_free(extension);
}

/* Makes a certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
		long from_days, long to_days, int is_ca)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), rand());
	X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(cert, key);
	if (is_ca) {
		add_extension(cert, issuer ? issuer : cert, NID_basic_constraints,
			      "critical,CA:TRUE");
		add_extension(cert, issuer ? issuer : cert, NID_key_usage, "critical,keyCertSign");
	} else {
		add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_extension(cert, issuer, NID_ext_key_usage, "serverAuth");
	}
	assert_true(X509_sign(cert, issuer_key, NULL) > 0);
	X509_NAME_free(name);
	return cert;
}

void write_pem(const char *path, X509 *leaf, X509 *ca, EVP_PKEY *key)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	if (key != NULL)
		PEM_write_PrivateKey(file, key, NULL, NULL, 0, NULL, NULL);
	if (leaf != NULL)
		PEM_write_X509(file, leaf);
	if (ca != NULL)
		PEM_write_X509(file, ca);
	fclose(file);
}

char *pem_of(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *text;
	long len;

	PEM_write_bio_X509(bio, cert);
	len = BIO_get_mem_data(bio, &data);
	text = calloc(1, (size_t)len + 1);
	memcpy(text, data, (size_t)len);
	BIO_free(bio);
	return text;
}
