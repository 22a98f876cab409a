/* kefu-agentd: consistent pseudonyms for identifying values. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_REDACT_H
#define KF_AGENTD_REDACT_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <jansson.h>
#include <stddef.h>

enum kf_redact_kind {
	KF_REDACT_HOST,
	KF_REDACT_USER,
	KF_REDACT_SERIAL,
	KF_REDACT_UUID,
	KF_REDACT_MAC,
	KF_REDACT_IPV4,
	KF_REDACT_IPV6,
};

/*
 * A redactor replaces known values (host names, user names, serial numbers,
 * registered with kf_redactor_add) and recognised shapes (IPv4, IPv6, MAC
 * addresses, UUIDs) by pseudonyms. The same value always gets the same pseudonym
 * from one redactor. Addresses keep their structure: IP pseudonyms preserve
 * common prefixes (two addresses in one subnet stay in one subnet), loopback,
 * unspecified and netmask values stay as they are, MACs keep their vendor part.
 * The key is random per redactor and wiped on free.
 */
struct kf_redactor;

/* Returns a new redactor (caller frees with kf_redactor_free) or NULL without memory. */
struct kf_redactor *kf_redactor_new(void);
void kf_redactor_free(struct kf_redactor *redactor);

/* Registers a literal value to replace wherever it appears as a whole word. */
int kf_redactor_add(struct kf_redactor *redactor, enum kf_redact_kind kind, const char *value);

/* Appends the redacted form of text to out. */
int kf_redactor_text(struct kf_redactor *redactor, const char *text, size_t len,
		     struct kf_buf *out);

/* Redacts every string value inside json in place. */
int kf_redactor_json(struct kf_redactor *redactor, json_t *json);

/* The mapping {original: pseudonym} as a new JSON object (caller owns). */
json_t *kf_redactor_mapping(const struct kf_redactor *redactor);

#endif
