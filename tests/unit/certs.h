/* kefu tests: certificates made in memory for unit tests. SPDX-License-Identifier: MIT */
#ifndef KF_TESTS_CERTS_H
#define KF_TESTS_CERTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * A certificate for key with subject CN/O, valid from from_days to to_days from now,
 * signed by issuer_key (self-signed when issuer is NULL); a CA when is_ca, else a TLS
 * server certificate. Fails the running test on any error.
 */
X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
		long from_days, long to_days, int is_ca);

/* Writes the key (if any), then the certificates (if any), as PEM to path. */
void write_pem(const char *path, X509 *leaf, X509 *ca, EVP_PKEY *key);

/* The certificate as PEM text; the caller frees it. */
char *pem_of(X509 *cert);

#endif
