/* kefu-agentd: what the redactor's files share: its table of values and pseudonyms. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_REDACT_PRIVATE_H
#define KF_AGENTD_REDACT_PRIVATE_H

#include "agentd/diag/redact.h"
#include "proto/base/buffer.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#define KEY_SIZE 32

struct entry {
	char *original;
	char *pseudonym;
	size_t original_len;
	enum kf_redact_kind kind;
	bool is_literal; /* registered with kf_redactor_add (matched as a word) */
};

struct kf_redactor {
	unsigned char key[KEY_SIZE];
	EVP_CIPHER_CTX *cipher; /* AES-128 keyed from key: the per-bit function of IP pseudonyms */
	struct entry *entries;
	size_t count, cap;
	size_t *index; /* open-addressing hash of entries by original, index_cap slots */
	size_t index_cap;
	unsigned counters[KF_REDACT_EMAIL + 1];
	struct entry *literals; /* copies of the literal entries, longest first */
	size_t literal_count;
	struct entry *inside; /* the host names that also match inside words, longest first */
	size_t inside_count;
	bool is_literals_stale;
	unsigned char documentation_used[3][32]; /* which IPv4 documentation pseudonyms are taken */
};

/* redact.c: the table. */

/* The entry for value, or NULL. */
struct entry *kf_redact_find(struct kf_redactor *r, const char *value, size_t len);

/* Keeps value under pseudonym (made from the kind's counter when NULL); NULL when out of memory. */
struct entry *kf_redact_remember(struct kf_redactor *r, enum kf_redact_kind kind, const char *value,
				 size_t len, const char *pseudonym, bool is_literal);

/* redact-address.c: addresses and other values recognised by their shape. */

/* The pseudonym of an IPv4 (AF_INET) or IPv6 address written as text; NULL when it is none. */
const char *kf_redact_ip_pseudonym(struct kf_redactor *r, const char *text, size_t len, int family);
bool kf_redact_is_hex_run(const char *p, size_t n);
bool kf_redact_is_word_char(char c);
bool kf_redact_has_upper(const char *p, size_t n);

/*
 * An address in the kernel's hexadecimal form at p (n digits: 8 or 32), written to out as
 * its pseudonym's; returns the digits consumed, 0 when it is no address to hide.
 */
size_t kf_redact_hex_address(struct kf_redactor *r, const char *p, size_t n, bool is_little_endian,
			     bool is_known_only, struct kf_buf *out, int *rc);
int kf_redact_append_octets(struct kf_buf *out, const char *octets, size_t count, char sep,
			    bool is_upper);

/* A MAC address, or a run of them (a firewall log's MAC=), at p; returns the bytes consumed. */
size_t kf_redact_mac_run(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out,
			 int *rc);

/* The pseudonym of a UUID at p, or NULL when p holds none. */
const char *kf_redact_uuid_pseudonym(struct kf_redactor *r, const char *p, size_t avail);

#endif
