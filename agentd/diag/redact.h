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
	KF_REDACT_EMAIL,
};

/* What replaces a password, token or other secret: never a pseudonym, never in the mapping. */
#define KF_REDACTED "REDACTED"

/*
 * A redactor replaces known values (host names, user names, serial numbers,
 * registered with kf_redactor_add) and recognised shapes by pseudonyms: IPv4
 * and IPv6 addresses (dotted and colon forms, and the kernel's hexadecimal form
 * of an address already seen), MAC addresses (also several run together, as in
 * the firewall log's MAC= field, and without separators once seen), UUIDs,
 * e-mail addresses, the user of a URI and user=/username= values. Passwords in
 * URIs and the values of password=, passwd=, secret=, token=, api_key= and
 * credentials= (with '=' or ': ') become KF_REDACTED and are not remembered.
 *
 * The same value always gets the same pseudonym from one redactor. Host names
 * and serial numbers match in any letter case; a host name of four characters
 * or more matches inside longer words too ("Office_alice-pc"), other literals
 * only as whole words. Addresses keep their structure and are never mistaken
 * for real ones: IP pseudonyms preserve common prefixes (two addresses in one
 * subnet stay in one subnet); private IPv4 ranges (10/8, 172.16/12, 192.168/16,
 * 100.64/10, 169.254/16) stay in their range, public IPv4 goes to the
 * documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (one
 * original /24 to one of them), global IPv6 to 2001:db8::/32, unique local IPv6
 * to fd00::/8, link-local IPv6 keeps fe80::/64. Loopback, unspecified,
 * multicast and netmask values stay as they are; MACs keep their vendor part.
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

/*
 * Like kf_redactor_text for a raw file named as inside the bundle's raw/:
 * "proc/net/route" and "proc/net/ipv6_route" have their address columns (the
 * kernel's hexadecimal form) replaced by the hexadecimal form of pseudonyms.
 */
int kf_redactor_file(struct kf_redactor *redactor, const char *name, const char *text, size_t len,
		     struct kf_buf *out);

/* Redacts every string value inside json in place. */
int kf_redactor_json(struct kf_redactor *redactor, json_t *json);

/* The mapping {original: pseudonym} as a new JSON object (caller owns). */
json_t *kf_redactor_mapping(const struct kf_redactor *redactor);

#endif
