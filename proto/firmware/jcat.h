/* kefu: checks a payload against an LVFS Jcat file (gzip JSON: SHA-256 and PKCS#7 blobs). SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_JCAT_H
#define KF_PROTO_JCAT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/base/error.h"

#define KF_JCAT_MAX_SIZE (1024 * 1024) /* decompressed JSON cap */

/*
 * Verifies payload (payload_len bytes) named id against the gzip-compressed Jcat
 * jcat (jcat_len bytes): the item with that Id must carry a SHA-256 blob (kind 1)
 * equal to the payload's hash and a PKCS#7 blob (kind 3) whose detached signature
 * over the payload verifies against the CA certificates in the PEM file ca_pem_path
 * (purpose "any", no time check, as fwupd does). Nothing is kept; the caller owns
 * every argument. Returns 0; KF_ERR_INVALID/KF_ERR_TOO_LARGE for a malformed Jcat;
 * KF_ERR_NOT_FOUND for a missing item or blob; KF_ERR_AUTH when a check fails.
 */
int kf_jcat_verify(const uint8_t *jcat, size_t jcat_len, const char *id, const uint8_t *payload,
		   size_t payload_len, const char *ca_pem_path, struct kf_error *err);

/*
 * The same, trusting the CA certificates in the ca_count PEM texts ca_pems (such as a
 * support profile's firmware_cas). With no certificate at all it returns KF_ERR_DENIED.
 */
int kf_jcat_verify_pems(const uint8_t *jcat, size_t jcat_len, const char *id,
			const uint8_t *payload, size_t payload_len, const char *const *ca_pems,
			size_t ca_count, struct kf_error *err);

/*
 * Whether the Jcat jcat (gzip, jcat_len bytes) has an item whose Id is id: *named is
 * set. Returns 0, or KF_ERR_INVALID/KF_ERR_TOO_LARGE for a malformed Jcat. Naming is
 * not vouching: kf_jcat_verify_pems checks the item.
 */
int kf_jcat_names(const uint8_t *jcat, size_t jcat_len, const char *id, int *named,
		  struct kf_error *err);

#endif
