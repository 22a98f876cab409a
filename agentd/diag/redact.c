/* kefu-agentd: consistent pseudonyms for identifying values. SPDX-License-Identifier: MIT */
#include "agentd/diag/redact-private.h"

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

struct entry *kf_redact_find(struct kf_redactor *r, const char *value, size_t len)
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

struct entry *kf_redact_remember(struct kf_redactor *r, enum kf_redact_kind kind, const char *value,
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

	if (len == 0 || is_meaningless(value, len) || kf_redact_find(r, value, len) != NULL)
		return KF_OK;
	snprintf(pseudonym, sizeof(pseudonym), "%s-%u", kind_prefix[kind], ++r->counters[kind]);
	return kf_redact_remember(r, kind, value, len, pseudonym, true) ? KF_OK : KF_ERR_NOMEM;
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
	if ((e = kf_redact_find(r, p, n)) != NULL)
		return e->pseudonym;
	snprintf(pseudonym, sizeof(pseudonym), "%s-%u", kind_prefix[KF_REDACT_USER],
		 ++r->counters[KF_REDACT_USER]);
	e = kf_redact_remember(r, KF_REDACT_USER, p, n, pseudonym, true);
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
	    (end < avail && (kf_redact_is_word_char(p[end]) || p[end] == '@')))
		return 0;
	if ((e = kf_redact_find(r, p, end)) == NULL) {
		snprintf(pseudonym, sizeof(pseudonym), "%s-%u@example.invalid",
			 kind_prefix[KF_REDACT_EMAIL], ++r->counters[KF_REDACT_EMAIL]);
		if ((e = kf_redact_remember(r, KF_REDACT_EMAIL, p, end, pseudonym, false)) ==
		    NULL) {
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

	while (key < avail && key < 64 &&
	       (kf_redact_is_word_char(p[key]) || p[key] == '-' || p[key] == '.'))
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
	if (n == 0 || (n < avail && kf_redact_is_word_char(p[n])))
		return 0;
	if (!has_colon && dots == 3)
		replacement = kf_redact_ip_pseudonym(r, p, n, AF_INET);
	else if (has_colon && (replacement = kf_redact_ip_pseudonym(r, p, n, AF_INET6)) == NULL &&
		 dots == 3 && memchr(p, '.', first_colon) != NULL &&
		 (replacement = kf_redact_ip_pseudonym(r, p, first_colon, AF_INET)) != NULL)
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

	if (n != 12 || !kf_redact_is_hex_run(p, 12))
		return 0;
	for (k = 0; k < 6; k++) {
		canonical[k * 3] = (char)tolower((unsigned char)p[k * 2]);
		canonical[k * 3 + 1] = (char)tolower((unsigned char)p[k * 2 + 1]);
		canonical[k * 3 + 2] = ':';
	}
	canonical[17] = '\0';
	if ((e = kf_redact_find(r, canonical, 17)) == NULL || e->kind != KF_REDACT_MAC)
		return 0;
	*rc = kf_redact_append_octets(out, e->pseudonym, 6, '\0', kf_redact_has_upper(p, 12));
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
		    (n == avail || !kf_redact_is_word_char(p[n]))) {
			*rc = kf_buf_append(out, r->literals[k].pseudonym,
					    strlen(r->literals[k].pseudonym));
			return n;
		}
	}
	if ((replacement = kf_redact_uuid_pseudonym(r, p, avail)) != NULL) {
		*rc = kf_buf_append(out, replacement, strlen(replacement));
		return 36;
	}
	if ((n = kf_redact_mac_run(r, p, avail, out, rc)) > 0 || *rc != KF_OK)
		return n;
	while (word < avail && kf_redact_is_word_char(p[word]))
		word++;
	if ((n = known_bare_mac(r, p, word, out, rc)) > 0 || *rc != KF_OK)
		return n;
	if ((word == 8 || word == 32) && (word == avail || p[word] != '.') &&
	    ((n = kf_redact_hex_address(r, p, word, true, true, out, rc)) > 0 ||
	     (n = kf_redact_hex_address(r, p, word, false, true, out, rc)) > 0 || *rc != KF_OK))
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

		if (i == 0 || !kf_redact_is_word_char(text[i - 1]))
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
			    kf_redact_hex_address(r, text + i, n, !is_ipv6, false, out, &rc) == 0)
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
