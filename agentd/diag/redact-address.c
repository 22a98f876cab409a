/* kefu-agentd: pseudonyms for values known by their shape: IP and MAC addresses in every
 * spelling, UUIDs. SPDX-License-Identifier: MIT */
#include "agentd/diag/redact-private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if ((e = kf_redact_find(r, canonical, strlen(canonical))) != NULL)
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
			return kf_redact_remember(r, KF_REDACT_IPV4, canonical, strlen(canonical),
						  out, false);
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
	return kf_redact_remember(r, family == AF_INET ? KF_REDACT_IPV4 : KF_REDACT_IPV6, canonical,
				  strlen(canonical), out, false);
}

/* The pseudonym of an address written as text, or NULL when it is kept as it is. */
const char *kf_redact_ip_pseudonym(struct kf_redactor *r, const char *text, size_t len, int family)
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

bool kf_redact_is_hex_run(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	return true;
}

bool kf_redact_is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int hex_value(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

bool kf_redact_has_upper(const char *p, size_t n)
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

/* Where the i-th byte written in hexadecimal goes in the address: words of 4 bytes
 * reversed when little-endian. */
static size_t hex_byte_at(size_t i, bool is_little_endian)
{
	return is_little_endian ? (i & ~(size_t)3) + 3 - (i & 3) : i;
}

/*
 * An address in the kernel's hexadecimal form: 8 digits of IPv4 (little-endian
 * in /proc/net/route, big-endian elsewhere) or 32 of IPv6 (in network order in
 * /proc/net/ipv6_route; as four little-endian 32-bit words in /proc/net/tcp6 and
 * udp6, which is_little_endian means for IPv6). With is_known_only,
 * only an address the redactor has already seen is replaced, since any 8 hex
 * digits could be one. Appends the pseudonym in the same form; 0 when not one.
 */
size_t kf_redact_hex_address(struct kf_redactor *r, const char *p, size_t n, bool is_little_endian,
			     bool is_known_only, struct kf_buf *out, int *rc)
{
	unsigned char addr[16], mapped[16];
	char canonical[INET6_ADDRSTRLEN];
	size_t bytes = n / 2, i;
	int family = n == 8 ? AF_INET : AF_INET6;
	struct entry *e;

	if ((n != 8 && n != 32) || !kf_redact_is_hex_run(p, n))
		return 0;
	for (i = 0; i < bytes; i++)
		addr[hex_byte_at(i, is_little_endian)] =
			(unsigned char)(hex_value(p[2 * i]) << 4 | hex_value(p[2 * i + 1]));
	if (is_known_only) {
		inet_ntop(family, addr, canonical, sizeof(canonical));
		e = kf_redact_find(r, canonical, strlen(canonical));
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
	for (i = 0; i < bytes; i++)
		addr[i] = mapped[hex_byte_at(i, is_little_endian)];
	*rc = append_hex(out, addr, bytes, kf_redact_has_upper(p, n));
	return n;
}

static struct entry *mac_entry(struct kf_redactor *r, const char *canonical)
{
	unsigned char digest[32];
	char out[18];
	struct entry *e;

	if ((e = kf_redact_find(r, canonical, 17)) != NULL)
		return e;
	prf(r, (const unsigned char *)canonical, 17, digest);
	snprintf(out, sizeof(out), "%.8s:%02x:%02x:%02x", canonical, digest[0], digest[1],
		 digest[2]);
	return kf_redact_remember(r, KF_REDACT_MAC, canonical, 17, out, false);
}

/* Appends pseudonym octets "aa:bb:cc" in the separator and letter case of the original. */
int kf_redact_append_octets(struct kf_buf *out, const char *octets, size_t count, char sep,
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
size_t kf_redact_mac_run(struct kf_redactor *r, const char *p, size_t avail, struct kf_buf *out,
			 int *rc)
{
	char canonical[18], sep;
	size_t count = 0, n, i;
	bool is_upper;

	if (avail < 17 || (p[2] != ':' && p[2] != '-'))
		return 0;
	sep = p[2];
	while (count < MAX_OCTETS && count * 3 + 2 <= avail &&
	       kf_redact_is_hex_run(p + count * 3, 2)) {
		count++;
		if (count * 3 > avail || p[count * 3 - 1] != sep)
			break;
	}
	n = count * 3 - 1;
	if (count < 6 || (n < avail && kf_redact_is_word_char(p[n])))
		return 0;
	if (count == 6 && (memcmp(p, "00:00:00:00:00:00", 17) == 0 ||
			   strncasecmp(p, "ff:ff:ff:ff:ff:ff", 17) == 0)) {
		*rc = kf_buf_append(out, p, 17);
		return 17;
	}
	is_upper = kf_redact_has_upper(p, n);
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
			*rc = kf_redact_append_octets(out, e->pseudonym, 6, sep, is_upper);
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
			*rc = kf_redact_append_octets(out, octets, left, sep, is_upper);
	}
	return n;
}

/* "8-4-4-4-12" hex digits. */
const char *kf_redact_uuid_pseudonym(struct kf_redactor *r, const char *p, size_t avail)
{
	static const size_t groups[] = {8, 4, 4, 4, 12};
	unsigned char digest[32];
	char out[37];
	size_t i, at = 0;
	struct entry *e;

	if (avail < 36)
		return NULL;
	for (i = 0; i < 5; i++) {
		if (!kf_redact_is_hex_run(p + at, groups[i]))
			return NULL;
		at += groups[i];
		if (i < 4 && p[at++] != '-')
			return NULL;
	}
	if (avail > 36 && (isalnum((unsigned char)p[36]) || p[36] == '-'))
		return NULL;
	if ((e = kf_redact_find(r, p, 36)) != NULL)
		return e->pseudonym;
	prf(r, (const unsigned char *)p, 36, digest);
	snprintf(out, sizeof(out),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
		 digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
		 digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14],
		 digest[15]);
	e = kf_redact_remember(r, KF_REDACT_UUID, p, 36, out, false);
	return e ? e->pseudonym : NULL;
}
