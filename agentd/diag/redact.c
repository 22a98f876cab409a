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
	unsigned counters[KF_REDACT_EMAIL + 1];
	struct entry *literals; /* copies of the literal entries, longest first */
	size_t literal_count;
	struct entry *inside; /* the host names that also match inside words, longest first */
	size_t inside_count;
	bool is_literals_stale;
	unsigned char documentation_used[3][32]; /* which IPv4 documentation pseudonyms are taken */
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
	free(r->inside);
	free(r->index);
	EVP_CIPHER_CTX_free(r->cipher);
	OPENSSL_cleanse(r->key, KEY_SIZE);
	free(r);
}

static const char *const kind_prefix[] = {"host", "user", "serial", "uuid",
					  "mac",  "ipv4", "ipv6",   "email"};

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
	/* Not strndup: the hash and comparisons read all len bytes, NUL or not. */
	e->original = malloc(len + 1);
	e->pseudonym = strdup(pseudonym);
	if (e->original != NULL) {
		memcpy(e->original, value, len);
		e->original[len] = '\0';
	}
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

static const unsigned char documentation_nets[3][3] = {{192, 0, 2}, {198, 51, 100}, {203, 0, 113}};

/*
 * A public IPv4 address goes into one of the three documentation /24s, chosen by
 * its own /24, its last byte from the prefix-preserving map. Two public /24s may
 * share a documentation /24, so a taken pseudonym moves on to the next free one;
 * false only when all 768 are taken.
 */
static bool documentation_pseudonym(struct kf_redactor *r, const unsigned char *addr,
				    unsigned char last, unsigned char *out)
{
	unsigned char digest[32];
	size_t net, k;

	prf(r, addr, 3, digest);
	net = digest[0] % 3;
	for (k = 0; k < 768; k++) {
		size_t n = (net + (last + k) / 256) % 3, octet = (last + k) % 256;
		if (r->documentation_used[n][octet / 8] & (1u << (octet % 8)))
			continue;
		r->documentation_used[n][octet / 8] |= (unsigned char)(1u << (octet % 8));
		memcpy(out, documentation_nets[n], 3);
		out[3] = (unsigned char)octet;
		return true;
	}
	return false;
}

/* Maps a private IPv4 range onto itself: the range's own bits come back unchanged. */
static void keep_bits(unsigned char *mapped, const unsigned char *addr, size_t bits)
{
	size_t i;

	for (i = 0; i < bits; i++) {
		unsigned char bit = (unsigned char)(0x80 >> (i % 8));
		mapped[i / 8] = (unsigned char)((mapped[i / 8] & ~bit) | (addr[i / 8] & bit));
	}
}

static size_t private_ipv4_bits(const unsigned char *a)
{
	if (a[0] == 10)
		return 8;
	if (a[0] == 172 && (a[1] & 0xf0) == 16)
		return 12;
	if ((a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254))
		return 16;
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		return 10;
	return 0;
}

/*
 * The pseudonym entry of an address (4 or 16 bytes), or NULL when it is kept as
 * it is. Entries are keyed by the address's canonical text, so that every
 * spelling of one address (dotted, hexadecimal, upper case) meets one pseudonym.
 */
static struct entry *address_entry(struct kf_redactor *r, const unsigned char *addr, int family)
{
	static const unsigned char loopback6[16] = {[15] = 1};
	unsigned char mapped[16];
	char canonical[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN];
	size_t bytes = family == AF_INET ? 4 : 16, bits;
	struct entry *e;

	if (is_netmask(addr, bytes))
		return NULL; /* masks, 0.0.0.0, ::, 255.255.255.255 */
	if (family == AF_INET && (addr[0] == 127 || addr[0] == 0 || addr[0] >= 224))
		return NULL; /* loopback, "this network", multicast and reserved */
	if (family == AF_INET6 && (memcmp(addr, loopback6, 16) == 0 || addr[0] == 0xff))
		return NULL;
	inet_ntop(family, addr, canonical, sizeof(canonical));
	if ((e = find(r, canonical, strlen(canonical))) != NULL)
		return e;
	if (family == AF_INET6 &&
	    memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) { /* ::ffff:a.b.c.d */
		struct entry *v4 = address_entry(r, addr + 12, AF_INET);
		if (v4 == NULL)
			return NULL;
		memcpy(mapped, addr, 12);
		if (inet_pton(AF_INET, v4->pseudonym, mapped + 12) != 1)
			return NULL;
	} else {
		prefix_preserving(r, addr, mapped, bytes);
	}
	if (family == AF_INET && (bits = private_ipv4_bits(addr)) > 0) {
		keep_bits(mapped, addr, bits);
	} else if (family == AF_INET) {
		if (!documentation_pseudonym(r, addr, mapped[3], mapped)) {
			snprintf(out, sizeof(out), "ipv4-%u", ++r->counters[KF_REDACT_IPV4]);
			return remember(r, KF_REDACT_IPV4, canonical, strlen(canonical), out,
					false);
		}
	} else if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		/* mapped already holds the IPv4 pseudonym */
	} else if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) {
		memcpy(mapped, addr, 8); /* link-local: fe80::/64 as it is, the interface hidden */
	} else if ((addr[0] & 0xfe) == 0xfc) {
		mapped[0] = 0xfd;
	} else {
		memcpy(mapped, "\x20\x01\x0d\xb8", 4);
	}
	inet_ntop(family, mapped, out, sizeof(out));
	return remember(r, family == AF_INET ? KF_REDACT_IPV4 : KF_REDACT_IPV6, canonical,
			strlen(canonical), out, false);
}

/* The pseudonym of an address written as text, or NULL when it is kept as it is. */
static const char *ip_pseudonym(struct kf_redactor *r, const char *text, size_t len, int family)
{
	unsigned char addr[16];
	char copy[INET6_ADDRSTRLEN + 1];
	struct entry *e;

	if (len >= sizeof(copy))
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (inet_pton(family, copy, addr) != 1)
		return NULL;
	e = address_entry(r, addr, family);
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

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int hex_value(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static bool has_upper(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (isupper((unsigned char)p[i]))
			return true;
	return false;
}

static int append_hex(struct kf_buf *out, const unsigned char *bytes, size_t n, bool is_upper)
{
	char text[3];
	size_t i;
	int rc = KF_OK;

	for (i = 0; i < n && rc == KF_OK; i++) {
		snprintf(text, sizeof(text), is_upper ? "%02X" : "%02x", bytes[i]);
		rc = kf_buf_append(out, text, 2);
	}
	return rc;
}

/*
 * An address in the kernel's hexadecimal form: 8 digits of IPv4 (little-endian
 * in /proc/net/route, big-endian elsewhere) or 32 of IPv6. With is_known_only,
 * only an address the redactor has already seen is replaced, since any 8 hex
 * digits could be one. Appends the pseudonym in the same form; 0 when not one.
 */
static size_t hex_address(struct kf_redactor *r, const char *p, size_t n, bool is_little_endian,
			  bool is_known_only, struct kf_buf *out, int *rc)
{
	unsigned char addr[16], mapped[16];
	char canonical[INET6_ADDRSTRLEN];
	size_t bytes = n / 2, i;
	int family = n == 8 ? AF_INET : AF_INET6;
	struct entry *e;

	if ((n != 8 && n != 32) || !is_hex_run(p, n))
		return 0;
	for (i = 0; i < bytes; i++) {
		size_t at = is_little_endian && family == AF_INET ? bytes - 1 - i : i;
		addr[at] = (unsigned char)(hex_value(p[2 * i]) << 4 | hex_value(p[2 * i + 1]));
	}
	if (is_known_only) {
		inet_ntop(family, addr, canonical, sizeof(canonical));
		e = find(r, canonical, strlen(canonical));
		if (e == NULL || e->is_literal ||
		    e->kind != (family == AF_INET ? KF_REDACT_IPV4 : KF_REDACT_IPV6))
			return 0;
	} else if ((e = address_entry(r, addr, family)) == NULL) {
		*rc = kf_buf_append(out, p, n); /* kept as it is */
		return n;
	}
	if (inet_pton(family, e->pseudonym, mapped) != 1) {
		/* "ipv4-N" has no hexadecimal form. */
		for (i = 0; i < n && *rc == KF_OK; i++)
			*rc = kf_buf_append(out, "X", 1);
		return n;
	}
	if (is_little_endian && family == AF_INET)
		for (i = 0; i < 2; i++) {
			unsigned char t = mapped[i];
			mapped[i] = mapped[3 - i];
			mapped[3 - i] = t;
		}
	*rc = append_hex(out, mapped, bytes, has_upper(p, n));
	return n;
}

static struct entry *mac_entry(struct kf_redactor *r, const char *canonical)
{
	unsigned char digest[32];
	char out[18];
	struct entry *e;

	if ((e = find(r, canonical, 17)) != NULL)
		return e;
	prf(r, (const unsigned char *)canonical, 17, digest);
	snprintf(out, sizeof(out), "%.8s:%02x:%02x:%02x", canonical, digest[0], digest[1],
		 digest[2]);
	return remember(r, KF_REDACT_MAC, canonical, 17, out, false);
}

/* Appends pseudonym octets "aa:bb:cc" in the separator and letter case of the original. */
static int append_octets(struct kf_buf *out, const char *octets, size_t count, char sep,
			 bool is_upper)
{
	size_t i;
	int rc = KF_OK;

	for (i = 0; i < count && rc == KF_OK; i++) {
		char pair[3] = {octets[i * 3], octets[i * 3 + 1], '\0'};
		if (is_upper) {
			pair[0] = (char)toupper((unsigned char)pair[0]);
			pair[1] = (char)toupper((unsigned char)pair[1]);
		}
		if (i > 0 && sep != '\0')
			rc = kf_buf_append(out, &sep, 1);
		if (rc == KF_OK)
			rc = kf_buf_append(out, pair, 2);
	}
	return rc;
}

#define MAX_OCTETS 64

/*
 * MAC addresses: "52:54:00:12:34:56" (or with '-'), keeping the vendor half;
 * runs of them, as the firewall log's "MAC=" field writes destination, source
 * and EtherType in one string (14 octets, the EtherType kept); an 8-octet
 * EUI-64 keeps its vendor part too. Other runs of 6 octets or more are replaced
 * six octets at a time, a shorter tail by keyed bytes. 0 when not a MAC.
 */
static size_t mac_run(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out,
		      int *rc)
{
	char canonical[18], sep;
	size_t count = 0, n, i;
	bool is_upper;

	if (avail < 17 || (p[2] != ':' && p[2] != '-'))
		return 0;
	sep = p[2];
	while (count < MAX_OCTETS && count * 3 + 2 <= avail && is_hex_run(p + count * 3, 2)) {
		count++;
		if (count * 3 > avail || p[count * 3 - 1] != sep)
			break;
	}
	n = count * 3 - 1;
	if (count < 6 || (n < avail && is_word_char(p[n])))
		return 0;
	if (count == 6 && (memcmp(p, "00:00:00:00:00:00", 17) == 0 ||
			   strncasecmp(p, "ff:ff:ff:ff:ff:ff", 17) == 0)) {
		*rc = kf_buf_append(out, p, 17);
		return 17;
	}
	is_upper = has_upper(p, n);
	for (i = 0; i + 6 <= count && *rc == KF_OK; i += 6) {
		struct entry *e;
		size_t k;

		if (count == 8)
			break;
		for (k = 0; k < 17; k++)
			canonical[k] =
				k % 3 == 2 ? ':' : (char)tolower((unsigned char)p[i * 3 + k]);
		canonical[17] = '\0';
		if ((e = mac_entry(r, canonical)) == NULL) {
			*rc = KF_ERR_NOMEM;
			return n;
		}
		if (i > 0)
			*rc = kf_buf_append(out, &sep, 1);
		if (*rc == KF_OK)
			*rc = append_octets(out, e->pseudonym, 6, sep, is_upper);
	}
	if (*rc == KF_OK && i < count) {
		/* The EtherType of a MAC= field stays; any other tail is not left to be read. */
		size_t left = count - i, keep = count == 14 ? 2 : count == 8 ? 3 : 0, k;
		unsigned char digest[32];
		char octets[MAX_OCTETS * 3 + 1];

		prf(r, (const unsigned char *)p, n, digest);
		for (k = 0; k < left; k++) {
			const char *src = p + (i + k) * 3;
			if (k < keep)
				snprintf(octets + k * 3, 4, "%c%c:", tolower((unsigned char)src[0]),
					 tolower((unsigned char)src[1]));
			else
				snprintf(octets + k * 3, 4, "%02x:", digest[k % 32]);
		}
		if (i > 0)
			*rc = kf_buf_append(out, &sep, 1);
		if (*rc == KF_OK)
			*rc = append_octets(out, octets, left, sep, is_upper);
	}
	return n;
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

/* Host names this long or longer also match inside words; shorter ones ("vm") only alone. */
#define HOST_INSIDE_MIN 4

static int refresh_literals(struct kf_redactor *r)
{
	struct entry *copy, *inside;
	size_t k;

	if (!r->is_literals_stale)
		return KF_OK;
	copy = malloc((r->count ? r->count : 1) * sizeof(*copy));
	inside = malloc((r->count ? r->count : 1) * sizeof(*inside));
	if (copy == NULL || inside == NULL) {
		free(copy);
		free(inside);
		return KF_ERR_NOMEM;
	}
	free(r->literals);
	free(r->inside);
	r->literals = copy;
	r->inside = inside;
	r->literal_count = 0;
	r->inside_count = 0;
	for (k = 0; k < r->count; k++) {
		if (!r->entries[k].is_literal)
			continue;
		r->literals[r->literal_count++] = r->entries[k];
		if (r->entries[k].kind == KF_REDACT_HOST &&
		    r->entries[k].original_len >= HOST_INSIDE_MIN)
			r->inside[r->inside_count++] = r->entries[k];
	}
	/* Longest first, so that "alice-laptop" wins over "alice". */
	qsort(r->literals, r->literal_count, sizeof(*r->literals), by_length_desc);
	qsort(r->inside, r->inside_count, sizeof(*r->inside), by_length_desc);
	r->is_literals_stale = false;
	return KF_OK;
}

static bool literal_matches(const struct entry *e, const char *p, size_t avail)
{
	if (e->original_len > avail)
		return false;
	/* Host names and serial numbers are the same in any letter case. */
	if (e->kind == KF_REDACT_HOST || e->kind == KF_REDACT_SERIAL)
		return strncasecmp(p, e->original, e->original_len) == 0;
	return memcmp(p, e->original, e->original_len) == 0;
}

static bool has_letter(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (isalpha((unsigned char)p[i]))
			return true;
	return false;
}

/*
 * The pseudonym of a user name found in text (a URI's user, a user= value),
 * remembered so that the name is replaced wherever else it appears; NULL when
 * the value is not worth hiding ("root", a number).
 */
static const char *user_pseudonym(struct kf_redactor *r, const char *p, size_t n)
{
	char pseudonym[64];
	struct entry *e;

	if (!has_letter(p, n) || is_meaningless(p, n))
		return NULL;
	if ((e = find(r, p, n)) != NULL)
		return e->pseudonym;
	snprintf(pseudonym, sizeof(pseudonym), "%s-%u", kind_prefix[KF_REDACT_USER],
		 ++r->counters[KF_REDACT_USER]);
	e = remember(r, KF_REDACT_USER, p, n, pseudonym, true);
	return e ? e->pseudonym : NULL;
}

/* "scheme://user:password@host": the user becomes a pseudonym, the password KF_REDACTED. */
static size_t uri_userinfo(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out,
			   int *rc)
{
	size_t scheme = 0, at, colon, start;
	const char *user;

	if (!isalpha((unsigned char)p[0]))
		return 0;
	while (scheme < avail && scheme < 32 &&
	       (isalnum((unsigned char)p[scheme]) || p[scheme] == '+' || p[scheme] == '-' ||
		p[scheme] == '.'))
		scheme++;
	if (avail - scheme < 3 || memcmp(p + scheme, "://", 3) != 0)
		return 0;
	start = scheme + 3;
	for (at = start; at < avail && at - start < 1024 && strchr("/?#@ \t\n\"'<>", p[at]) == NULL;
	     at++)
		;
	if (at >= avail || p[at] != '@' || at == start)
		return 0;
	for (colon = start; colon < at && p[colon] != ':'; colon++)
		;
	*rc = kf_buf_append(out, p, start);
	if (*rc == KF_OK && colon > start) {
		user = user_pseudonym(r, p + start, colon - start);
		*rc = user ? kf_buf_append(out, user, strlen(user))
			   : kf_buf_append(out, p + start, colon - start);
	}
	if (*rc == KF_OK && colon < at)
		*rc = kf_buf_append(out, ":" KF_REDACTED, strlen(KF_REDACTED) + 1);
	if (*rc == KF_OK)
		*rc = kf_buf_append(out, "@", 1);
	return at + 1;
}

/* systemd unit names ("user@1000.service") look like e-mail addresses but are not. */
static bool is_unit_suffix(const char *p, size_t n)
{
	static const char *const units[] = {"service", "socket", "target", "mount", "timer",
					    "slice",   "scope",  "device", "path",  "swap"};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i]) == n && strncasecmp(units[i], p, n) == 0)
			return true;
	return false;
}

/* "name@example.org" becomes "email-1@example.invalid". */
static size_t email(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out, int *rc)
{
	size_t local = 0, end, label_start, dots = 0;
	char pseudonym[64];
	struct entry *e;

	if (!isalnum((unsigned char)p[0]))
		return 0;
	while (local < avail && local < 64 &&
	       (isalnum((unsigned char)p[local]) ||
		(p[local] != '\0' && strchr("._%+-", p[local]) != NULL)))
		local++;
	if (local >= avail || p[local] != '@')
		return 0;
	end = local + 1;
	label_start = end;
	while (end < avail && end - local < 254 &&
	       (isalnum((unsigned char)p[end]) || p[end] == '-' || p[end] == '.')) {
		if (p[end] == '.') {
			if (end == label_start)
				break;
			dots++;
			label_start = end + 1;
		}
		end++;
	}
	while (end > local + 1 && p[end - 1] == '.') { /* a sentence's full stop */
		end--;
		dots--;
	}
	for (label_start = end; label_start > local + 1 && p[label_start - 1] != '.'; label_start--)
		;
	if (dots == 0 || end - label_start < 2 || !isalpha((unsigned char)p[label_start]) ||
	    !has_letter(p + label_start, end - label_start) ||
	    is_unit_suffix(p + label_start, end - label_start) ||
	    (end < avail && (is_word_char(p[end]) || p[end] == '@')))
		return 0;
	if ((e = find(r, p, end)) == NULL) {
		snprintf(pseudonym, sizeof(pseudonym), "%s-%u@example.invalid",
			 kind_prefix[KF_REDACT_EMAIL], ++r->counters[KF_REDACT_EMAIL]);
		if ((e = remember(r, KF_REDACT_EMAIL, p, end, pseudonym, false)) == NULL) {
			*rc = KF_ERR_NOMEM;
			return end;
		}
	}
	*rc = kf_buf_append(out, e->pseudonym, strlen(e->pseudonym));
	return end;
}

static bool ends_with(const char *p, size_t n, const char *suffix)
{
	size_t s = strlen(suffix);

	return n >= s && strncasecmp(p + n - s, suffix, s) == 0;
}

static bool is_key(const char *p, size_t n, const char *key)
{
	return strlen(key) == n && strncasecmp(p, key, n) == 0;
}

/*
 * "password=...", "token: ...", "api_key=...", "credentials=/etc/..." (also
 * "db_password", "access_token", a quoted key or value): the value becomes
 * KF_REDACTED. "user=" and "username=" values become user pseudonyms.
 */
static size_t secret_value(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out,
			   int *rc)
{
	static const char *const secret_suffixes[] = {"password", "passwd",     "secret",
						      "token",    "api_key",    "apikey",
						      "api-key",  "credentials"};
	size_t key = 0, at, value, end, i;
	bool is_secret = false, is_user;
	const char *replacement;
	char quote = '\0';

	while (key < avail && key < 64 && (is_word_char(p[key]) || p[key] == '-' || p[key] == '.'))
		key++;
	for (i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]); i++)
		is_secret |= ends_with(p, key, secret_suffixes[i]);
	is_secret |= is_key(p, key, "pass") || is_key(p, key, "pwd");
	is_user = is_key(p, key, "user") || is_key(p, key, "username");
	if (!is_secret && !is_user)
		return 0;
	at = key;
	if (at < avail && (p[at] == '"' || p[at] == '\''))
		at++; /* "password": "..." */
	while (at < avail && at - key < 4 && (p[at] == ' ' || p[at] == '\t'))
		at++;
	if (at >= avail)
		return 0;
	if (p[at] == '=') {
		at++;
	} else if (p[at] == ':' && at + 1 < avail && (p[at + 1] == ' ' || p[at + 1] == '\t')) {
		at++;
	} else {
		return 0;
	}
	while (at < avail && at - key < 16 && (p[at] == ' ' || p[at] == '\t'))
		at++;
	if (at < avail && (p[at] == '"' || p[at] == '\''))
		quote = p[at++];
	value = at;
	for (end = value; end < avail && end - value < 4096 && p[end] != '\n' &&
			  (quote ? p[end] != quote : strchr(" \t\r,;&)]}>\"'", p[end]) == NULL);
	     end++)
		;
	if (end == value)
		return 0;
	if (is_user) {
		if ((replacement = user_pseudonym(r, p + value, end - value)) == NULL)
			return 0;
	} else {
		replacement = KF_REDACTED;
	}
	*rc = kf_buf_append(out, p, value);
	if (*rc == KF_OK)
		*rc = kf_buf_append(out, replacement, strlen(replacement));
	if (quote && end < avail && p[end] == quote) {
		if (*rc == KF_OK)
			*rc = kf_buf_append(out, &quote, 1);
		end++;
	}
	return end;
}

/* Dotted IPv4 (also "a.b.c.d:port") and colon IPv6 at p. */
static size_t ip_text(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out,
		      int *rc)
{
	const char *replacement = NULL;
	size_t n = 0, first_colon = 0;
	bool has_colon = false;
	int dots = 0;

	while (n < avail && n < 46 &&
	       (isxdigit((unsigned char)p[n]) || p[n] == ':' || p[n] == '.')) {
		if (p[n] == ':' && !has_colon)
			first_colon = n;
		has_colon |= p[n] == ':';
		dots += p[n] == '.';
		n++;
	}
	/* A trailing dot or colon ends a sentence, not an address. */
	while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ':'))
		n--;
	if (n == 0 || (n < avail && is_word_char(p[n])))
		return 0;
	if (!has_colon && dots == 3)
		replacement = ip_pseudonym(r, p, n, AF_INET);
	else if (has_colon && (replacement = ip_pseudonym(r, p, n, AF_INET6)) == NULL &&
		 dots == 3 && memchr(p, '.', first_colon) != NULL &&
		 (replacement = ip_pseudonym(r, p, first_colon, AF_INET)) != NULL)
		n = first_colon; /* "192.168.1.77:631" */
	if (replacement == NULL)
		return 0;
	*rc = kf_buf_append(out, replacement, strlen(replacement));
	return n;
}

/* A word of 12 hex digits that is a MAC address seen before, without separators. */
static size_t known_bare_mac(struct kf_redactor *r, const char *p, size_t n, struct kf_buf *out,
			     int *rc)
{
	char canonical[18];
	struct entry *e;
	size_t k;

	if (n != 12 || !is_hex_run(p, 12))
		return 0;
	for (k = 0; k < 6; k++) {
		canonical[k * 3] = (char)tolower((unsigned char)p[k * 2]);
		canonical[k * 3 + 1] = (char)tolower((unsigned char)p[k * 2 + 1]);
		canonical[k * 3 + 2] = ':';
	}
	canonical[17] = '\0';
	if ((e = find(r, canonical, 17)) == NULL || e->kind != KF_REDACT_MAC)
		return 0;
	*rc = append_octets(out, e->pseudonym, 6, '\0', has_upper(p, 12));
	return 12;
}

/* Everything that starts at a word boundary; 0 when nothing does. */
static size_t at_word_start(struct kf_redactor *r, const char *text, size_t len, size_t i,
			    struct kf_buf *out, int *rc)
{
	const char *p = text + i, *replacement;
	size_t avail = len - i, n, k, word = 0;

	if ((n = uri_userinfo(r, p, avail, out, rc)) > 0 || *rc != KF_OK)
		return n;
	if ((n = email(r, p, avail, out, rc)) > 0 || *rc != KF_OK)
		return n;
	if ((n = secret_value(r, p, avail, out, rc)) > 0 || *rc != KF_OK)
		return n;
	if ((*rc = refresh_literals(r)) != KF_OK)
		return 0;
	for (k = 0; k < r->literal_count; k++) {
		n = r->literals[k].original_len;
		if (literal_matches(&r->literals[k], p, avail) &&
		    (n == avail || !is_word_char(p[n]))) {
			*rc = kf_buf_append(out, r->literals[k].pseudonym,
					    strlen(r->literals[k].pseudonym));
			return n;
		}
	}
	if ((replacement = uuid_pseudonym(r, p, avail)) != NULL) {
		*rc = kf_buf_append(out, replacement, strlen(replacement));
		return 36;
	}
	if ((n = mac_run(r, p, avail, out, rc)) > 0 || *rc != KF_OK)
		return n;
	while (word < avail && is_word_char(p[word]))
		word++;
	if ((n = known_bare_mac(r, p, word, out, rc)) > 0 || *rc != KF_OK)
		return n;
	if ((word == 8 || word == 32) && (word == avail || p[word] != '.') &&
	    ((n = hex_address(r, p, word, true, true, out, rc)) > 0 ||
	     (n = hex_address(r, p, word, false, true, out, rc)) > 0 || *rc != KF_OK))
		return n;
	if (i == 0 || (text[i - 1] != '.' && text[i - 1] != ':'))
		return ip_text(r, p, avail, out, rc);
	return 0;
}

int kf_redactor_text(struct kf_redactor *r, const char *text, size_t len, struct kf_buf *out)
{
	size_t i = 0, k;
	int rc = KF_OK;

	if ((rc = refresh_literals(r)) != KF_OK)
		return rc;
	while (i < len && rc == KF_OK) {
		size_t consumed = 0;

		if (i == 0 || !is_word_char(text[i - 1]))
			consumed = at_word_start(r, text, len, i, out, &rc);
		if (rc != KF_OK)
			break;
		if (consumed == 0 && (rc = refresh_literals(r)) == KF_OK) {
			/* A host name inside a longer word: "Office_alice-pc", "ALICE-PC-laptop".
			 */
			for (k = 0; k < r->inside_count; k++) {
				if (literal_matches(&r->inside[k], text + i, len - i)) {
					rc = kf_buf_append(out, r->inside[k].pseudonym,
							   strlen(r->inside[k].pseudonym));
					consumed = r->inside[k].original_len;
					break;
				}
			}
		}
		if (consumed > 0) {
			i += consumed;
		} else if (rc == KF_OK) {
			rc = kf_buf_append(out, text + i, 1);
			i++;
		}
	}
	return rc;
}

/* Replaces the address columns of a /proc/net route table line by line. */
static int route_table(struct kf_redactor *r, const char *text, size_t len, bool is_ipv6,
		       struct kf_buf *out)
{
	size_t i = 0;
	int rc = KF_OK;

	while (i < len && rc == KF_OK) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) + 1 : len, column = 0;

		while (i < end && rc == KF_OK) {
			size_t n = 0;
			bool is_address;

			while (i + n < end &&
			       (text[i + n] == ' ' || text[i + n] == '\t' || text[i + n] == '\n'))
				n++;
			if (n > 0) {
				rc = kf_buf_append(out, text + i, n);
				i += n;
				continue;
			}
			while (i + n < end && text[i + n] != ' ' && text[i + n] != '\t' &&
			       text[i + n] != '\n')
				n++;
			/* route: Destination, Gateway, Mask; ipv6_route: destination, source, next
			 * hop. */
			is_address = is_ipv6 ? (column == 0 || column == 2 || column == 4)
					     : (column == 1 || column == 2 || column == 7);
			if (!is_address ||
			    hex_address(r, text + i, n, !is_ipv6, false, out, &rc) == 0)
				rc = kf_redactor_text(r, text + i, n, out);
			i += n;
			column++;
		}
	}
	return rc;
}

int kf_redactor_file(struct kf_redactor *r, const char *name, const char *text, size_t len,
		     struct kf_buf *out)
{
	if (strcmp(name, "proc/net/route") == 0)
		return route_table(r, text, len, false, out);
	if (strcmp(name, "proc/net/ipv6_route") == 0)
		return route_table(r, text, len, true, out);
	return kf_redactor_text(r, text, len, out);
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
