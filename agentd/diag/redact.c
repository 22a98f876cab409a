/* kefu-agentd: consistent pseudonyms for identifying values. SPDX-License-Identifier: MIT */
#include "agentd/diag/redact.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	unsigned counters[KF_REDACT_IPV6 + 1];
	struct entry *literals; /* copies of the literal entries, longest first */
	size_t literal_count;
	bool is_literals_stale;
};

struct kf_redactor *kf_redactor_new(void)
{
	struct kf_redactor *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->cipher = EVP_CIPHER_CTX_new();
	if (r->cipher == NULL || RAND_bytes(r->key, KEY_SIZE) != 1 ||
	    EVP_EncryptInit_ex(r->cipher, EVP_aes_128_ecb(), NULL, r->key + 16, NULL) != 1) {
		EVP_CIPHER_CTX_free(r->cipher);
		OPENSSL_cleanse(r->key, KEY_SIZE);
		free(r);
		return NULL;
	}
	EVP_CIPHER_CTX_set_padding(r->cipher, 0);
	return r;
}

void kf_redactor_free(struct kf_redactor *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->count; i++) {
		OPENSSL_cleanse(r->entries[i].original, r->entries[i].original_len);
		free(r->entries[i].original);
		free(r->entries[i].pseudonym);
	}
	free(r->entries);
	free(r->literals);
	free(r->index);
	EVP_CIPHER_CTX_free(r->cipher);
	OPENSSL_cleanse(r->key, KEY_SIZE);
	free(r);
}

static const char *const kind_prefix[] = {"host", "user", "serial", "uuid", "mac", "ipv4", "ipv6"};

static size_t hash_of(const char *value, size_t len)
{
	size_t hash = 1469598103934665603ULL, i;

	for (i = 0; i < len; i++)
		hash = (hash ^ (unsigned char)value[i]) * 1099511628211ULL;
	return hash;
}

/* Slots hold entry index + 1; 0 is empty. */
static void index_put(struct kf_redactor *r, size_t entry)
{
	size_t slot = hash_of(r->entries[entry].original, r->entries[entry].original_len) &
		      (r->index_cap - 1);

	while (r->index[slot] != 0)
		slot = (slot + 1) & (r->index_cap - 1);
	r->index[slot] = entry + 1;
}

static int index_grow(struct kf_redactor *r)
{
	size_t cap = r->index_cap ? r->index_cap * 2 : 64, i;
	size_t *index = calloc(cap, sizeof(*index));

	if (index == NULL)
		return KF_ERR_NOMEM;
	free(r->index);
	r->index = index;
	r->index_cap = cap;
	for (i = 0; i < r->count; i++)
		index_put(r, i);
	return KF_OK;
}

static struct entry *find(struct kf_redactor *r, const char *value, size_t len)
{
	size_t slot;

	if (r->index_cap == 0)
		return NULL;
	slot = hash_of(value, len) & (r->index_cap - 1);
	while (r->index[slot] != 0) {
		struct entry *e = &r->entries[r->index[slot] - 1];
		if (e->original_len == len && memcmp(e->original, value, len) == 0)
			return e;
		slot = (slot + 1) & (r->index_cap - 1);
	}
	return NULL;
}

static struct entry *remember(struct kf_redactor *r, enum kf_redact_kind kind, const char *value,
			      size_t len, const char *pseudonym, bool is_literal)
{
	struct entry *e;

	/* The index stays at most half full. */
	if ((r->count + 1) * 2 > r->index_cap && index_grow(r) != KF_OK)
		return NULL;
	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct entry *grown = realloc(r->entries, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		r->entries = grown;
		r->cap = cap;
	}
	e = &r->entries[r->count];
	e->original = strndup(value, len);
	e->pseudonym = strdup(pseudonym);
	if (e->original == NULL || e->pseudonym == NULL) {
		free(e->original);
		free(e->pseudonym);
		return NULL;
	}
	e->original_len = len;
	e->kind = kind;
	e->is_literal = is_literal;
	index_put(r, r->count);
	r->count++;
	r->is_literals_stale = r->is_literals_stale || is_literal;
	return e;
}

/* Values that identify nobody and would only make the bundle unreadable. */
static bool is_meaningless(const char *value, size_t len)
{
	static const char *const common[] = {"localhost",
					     "(none)",
					     "none",
					     "None",
					     "unknown",
					     "Unknown",
					     "noserial",
					     "Default string",
					     "To Be Filled By O.E.M.",
					     "Not Specified",
					     "System Serial Number",
					     "0123456789",
					     "root"};
	size_t i;

	if (len < 2)
		return true;
	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (strlen(common[i]) == len && memcmp(common[i], value, len) == 0)
			return true;
	return false;
}

int kf_redactor_add(struct kf_redactor *r, enum kf_redact_kind kind, const char *value)
{
	char pseudonym[64];
	size_t len = value ? strlen(value) : 0;

	if (len == 0 || is_meaningless(value, len) || find(r, value, len) != NULL)
		return KF_OK;
	snprintf(pseudonym, sizeof(pseudonym), "%s-%u", kind_prefix[kind], ++r->counters[kind]);
	return remember(r, kind, value, len, pseudonym, true) ? KF_OK : KF_ERR_NOMEM;
}

static void prf(const struct kf_redactor *r, const unsigned char *data, size_t len,
		unsigned char out[32])
{
	unsigned int out_len = 32;

	HMAC(EVP_sha256(), r->key, KEY_SIZE, data, len, out, &out_len);
}

/*
 * Prefix-preserving pseudonyms: bit i of the output is bit i of the input
 * flipped by a keyed function of the i bits before it. Two addresses that share
 * their first n bits share the first n bits of their pseudonyms, so subnets stay
 * subnets. This is Crypto-PAn's construction, with AES-128 over the prefix and
 * its length as the keyed function.
 */
static void prefix_preserving(const struct kf_redactor *r, const unsigned char *in,
			      unsigned char *out, size_t bytes)
{
	unsigned char prefix[32], cipher[48];
	size_t bit, bits = bytes * 8;
	int len;

	memcpy(out, in, bytes);
	memset(prefix, 0, sizeof(prefix));
	for (bit = 0; bit < bits; bit++) {
		/* Two AES blocks: the first `bit` bits of the input, then the bit count. */
		prefix[31] = (unsigned char)bit;
		if (EVP_EncryptUpdate(r->cipher, cipher, &len, prefix, 32) != 1 || len != 32)
			memset(cipher, 0, sizeof(cipher));
		if ((cipher[0] ^ cipher[16]) & 1)
			out[bit / 8] ^= (unsigned char)(0x80 >> (bit % 8));
		if (in[bit / 8] & (0x80 >> (bit % 8)))
			prefix[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
	}
}

static bool is_netmask(const unsigned char *a, size_t bytes)
{
	size_t i;
	bool seen_zero = false;

	for (i = 0; i < bytes * 8; i++) {
		bool one = a[i / 8] & (0x80 >> (i % 8));
		if (one && seen_zero)
			return false;
		if (!one)
			seen_zero = true;
	}
	return true;
}

/* The pseudonym of an address, or NULL when it is kept as it is. */
static const char *ip_pseudonym(struct kf_redactor *r, const char *text, size_t len, int family)
{
	unsigned char addr[16], mapped[16];
	char copy[INET6_ADDRSTRLEN + 1], out[INET6_ADDRSTRLEN];
	size_t bytes = family == AF_INET ? 4 : 16;
	struct entry *e;

	if (len >= sizeof(copy))
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (inet_pton(family, copy, addr) != 1)
		return NULL;
	if (is_netmask(addr, bytes))
		return NULL; /* masks, 0.0.0.0, ::, 255.255.255.255 */
	if (family == AF_INET && addr[0] == 127)
		return NULL;
	if (family == AF_INET6 && memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0)
		return NULL;
	if ((e = find(r, text, len)) != NULL)
		return e->pseudonym;
	prefix_preserving(r, addr, mapped, bytes);
	if (family == AF_INET && mapped[0] == 127)
		mapped[0] = 126; /* never look like loopback */
	inet_ntop(family, mapped, out, sizeof(out));
	e = remember(r, family == AF_INET ? KF_REDACT_IPV4 : KF_REDACT_IPV6, text, len, out, false);
	return e ? e->pseudonym : NULL;
}

static bool is_hex_run(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	return true;
}

/* "52:54:00:12:34:56" (or with '-'): keeps the vendor half. */
static const char *mac_pseudonym(struct kf_redactor *r, const char *p, size_t avail)
{
	unsigned char digest[32];
	char out[18];
	size_t i;
	struct entry *e;
	char sep;

	if (avail < 17)
		return NULL;
	sep = p[2];
	if (sep != ':' && sep != '-')
		return NULL;
	for (i = 0; i < 6; i++) {
		if (!is_hex_run(p + i * 3, 2) || (i < 5 && p[i * 3 + 2] != sep))
			return NULL;
	}
	if (avail > 17 && (isxdigit((unsigned char)p[17]) || p[17] == sep))
		return NULL;
	if (memcmp(p, "00:00:00:00:00:00", 17) == 0 || strncasecmp(p, "ff:ff:ff:ff:ff:ff", 17) == 0)
		return NULL;
	if ((e = find(r, p, 17)) != NULL)
		return e->pseudonym;
	prf(r, (const unsigned char *)p, 17, digest);
	snprintf(out, sizeof(out), "%.8s%c%02x%c%02x%c%02x", p, sep, digest[0], sep, digest[1], sep,
		 digest[2]);
	e = remember(r, KF_REDACT_MAC, p, 17, out, false);
	return e ? e->pseudonym : NULL;
}

/* "8-4-4-4-12" hex digits. */
static const char *uuid_pseudonym(struct kf_redactor *r, const char *p, size_t avail)
{
	static const size_t groups[] = {8, 4, 4, 4, 12};
	unsigned char digest[32];
	char out[37];
	size_t i, at = 0;
	struct entry *e;

	if (avail < 36)
		return NULL;
	for (i = 0; i < 5; i++) {
		if (!is_hex_run(p + at, groups[i]))
			return NULL;
		at += groups[i];
		if (i < 4 && p[at++] != '-')
			return NULL;
	}
	if (avail > 36 && (isalnum((unsigned char)p[36]) || p[36] == '-'))
		return NULL;
	if ((e = find(r, p, 36)) != NULL)
		return e->pseudonym;
	prf(r, (const unsigned char *)p, 36, digest);
	snprintf(out, sizeof(out),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
		 digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
		 digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14],
		 digest[15]);
	e = remember(r, KF_REDACT_UUID, p, 36, out, false);
	return e ? e->pseudonym : NULL;
}

static int by_length_desc(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->original_len != y->original_len)
		return x->original_len < y->original_len ? 1 : -1;
	return 0;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

int kf_redactor_text(struct kf_redactor *r, const char *text, size_t len, struct kf_buf *out)
{
	size_t i = 0, k, literal_count;
	struct entry *literals;
	int rc = KF_OK;

	/* Longest first, so that "alice-laptop" wins over "alice". */
	if (r->is_literals_stale) {
		struct entry *copy = malloc((r->count ? r->count : 1) * sizeof(*copy));
		if (copy == NULL)
			return KF_ERR_NOMEM;
		free(r->literals);
		r->literals = copy;
		r->literal_count = 0;
		for (k = 0; k < r->count; k++)
			if (r->entries[k].is_literal)
				r->literals[r->literal_count++] = r->entries[k];
		qsort(r->literals, r->literal_count, sizeof(*r->literals), by_length_desc);
		r->is_literals_stale = false;
	}
	literals = r->literals;
	literal_count = r->literal_count;

	while (i < len && rc == KF_OK) {
		bool at_word_start = i == 0 || !is_word_char(text[i - 1]);
		const char *replacement = NULL;
		size_t consumed = 0;

		if (at_word_start) {
			for (k = 0; k < literal_count; k++) {
				size_t n = literals[k].original_len;
				if (n <= len - i &&
				    memcmp(text + i, literals[k].original, n) == 0 &&
				    (i + n == len || !is_word_char(text[i + n]))) {
					replacement = literals[k].pseudonym;
					consumed = n;
					break;
				}
			}
			if (replacement == NULL &&
			    (replacement = uuid_pseudonym(r, text + i, len - i)) != NULL)
				consumed = 36;
			if (replacement == NULL &&
			    (replacement = mac_pseudonym(r, text + i, len - i)) != NULL)
				consumed = 17;
			if (replacement == NULL &&
			    (i == 0 || (text[i - 1] != '.' && text[i - 1] != ':'))) {
				size_t n = 0;
				bool has_colon = false;
				int dots = 0;
				while (i + n < len && n < 46 &&
				       (isxdigit((unsigned char)text[i + n]) ||
					text[i + n] == ':' || text[i + n] == '.')) {
					has_colon |= text[i + n] == ':';
					dots += text[i + n] == '.';
					n++;
				}
				/* A trailing dot or colon ends a sentence, not an address. */
				while (n > 0 && (text[i + n - 1] == '.' || text[i + n - 1] == ':'))
					n--;
				if (n > 0 && (i + n == len || !is_word_char(text[i + n]))) {
					if (!has_colon && dots == 3)
						replacement = ip_pseudonym(r, text + i, n, AF_INET);
					else if (has_colon)
						replacement =
							ip_pseudonym(r, text + i, n, AF_INET6);
					if (replacement != NULL)
						consumed = n;
				}
			}
		}
		if (replacement != NULL) {
			rc = kf_buf_append(out, replacement, strlen(replacement));
			i += consumed;
		} else {
			/* Copy the rest of this word at once. */
			size_t n = 1;
			while (i + n < len && is_word_char(text[i + n - 1]) &&
			       is_word_char(text[i + n]))
				n++;
			rc = kf_buf_append(out, text + i, n);
			i += n;
		}
	}
	return rc;
}

int kf_redactor_json(struct kf_redactor *r, json_t *json)
{
	struct kf_buf buf = {0};
	const char *key;
	json_t *value;
	size_t i;
	int rc = KF_OK;

	if (json_is_object(json)) {
		json_object_foreach(json, key, value)
		{
			if ((rc = kf_redactor_json(r, value)) != KF_OK)
				return rc;
		}
	} else if (json_is_array(json)) {
		json_array_foreach(json, i, value)
		{
			if ((rc = kf_redactor_json(r, value)) != KF_OK)
				return rc;
		}
	} else if (json_is_string(json)) {
		if ((rc = kf_redactor_text(r, json_string_value(json), json_string_length(json),
					   &buf)) == KF_OK) {
			if (json_string_setn(json, (const char *)buf.data, buf.len) != 0)
				rc = KF_ERR_NOMEM;
		}
		kf_buf_free(&buf);
	}
	return rc;
}

json_t *kf_redactor_mapping(const struct kf_redactor *r)
{
	json_t *map = json_object();
	size_t i;

	for (i = 0; i < r->count; i++) {
		json_t *item = json_object();
		json_object_set_new(item, "kind", json_string(kind_prefix[r->entries[i].kind]));
		json_object_set_new(item, "original", json_string(r->entries[i].original));
		json_object_set_new(item, "pseudonym", json_string(r->entries[i].pseudonym));
		json_object_set_new(map, r->entries[i].pseudonym, item);
	}
	return map;
}
