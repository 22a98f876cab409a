/* kefu-agentd: the kefu://join link a support page offers, read strictly. SPDX-License-Identifier: MIT */
#include "agentd/join-url.h"
#include "agentd/i18n.h"
#include "proto/base/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("-._~%+=&/?:", c) != NULL);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether the len bytes of text are valid UTF-8 without control characters. */
static bool is_clean_utf8(const unsigned char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = text[i];
		size_t extra;
		uint32_t code;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			code = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			code = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			code = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= extra)
			return false;
		for (size_t k = 1; k <= extra; k++) {
			if ((text[i + k] & 0xc0) != 0x80)
				return false;
			code = (code << 6) | (text[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
		if ((extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) ||
		    (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff ||
		    (code >= 0x80 && code <= 0x9f))
			return false;
		i += extra + 1;
	}
	return true;
}

/* Percent-decodes value (len bytes) into out (cap bytes with the NUL); '+' is a space. */
static int decode(const char *name, const char *value, size_t len, char *out, size_t cap,
		  struct kf_error *err)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)value[i];

		if (c == '%') {
			int high = i + 2 < len ? hex_value(value[i + 1]) : -1;
			int low = i + 2 < len ? hex_value(value[i + 2]) : -1;

			if (high < 0 || low < 0)
				return kf_error_set(err, KF_ERR_INVALID,
						    _("the link's '%s' has a bad %%-escape"), name);
			c = high * 16 + low;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (n + 1 >= cap)
			return kf_error_set(
				err, KF_ERR_INVALID,
				_("the link's '%s' is too long (at most %zu characters)"), name,
				cap - 1);
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == 0)
		return kf_error_set(err, KF_ERR_INVALID, _("the link's '%s' is empty"), name);
	if (!is_clean_utf8((const unsigned char *)out, n))
		return kf_error_set(err, KF_ERR_INVALID,
				    _("the link's '%s' holds control characters or broken text"),
				    name);
	return KF_OK;
}

static bool is_host_name(const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return false;
	return text[0] != '-' && text[0] != '.';
}

static bool is_case_number(const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static int parse_field(const char *field, size_t len, struct kf_join_url *out, unsigned *seen,
		       struct kf_error *err)
{
	static const char *const names[] = {"org", "relay", "case"};
	const char *equals = memchr(field, '=', len);
	size_t name_len;
	int which = -1;
	char *target;
	size_t cap;
	int r;

	if (equals == NULL)
		return kf_error_set(err, KF_ERR_INVALID, _("the link has a field without a value"));
	name_len = (size_t)(equals - field);
	for (int i = 0; i < 3; i++)
		if (strlen(names[i]) == name_len && memcmp(names[i], field, name_len) == 0)
			which = i;
	if (which < 0) {
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(name_len < 40 ? name_len : 40), field);
		return kf_error_set(err, KF_ERR_INVALID,
				    _("the link has a field kefu does not know ('%s'); only org, "
				      "relay and case are read"),
				    kf_escaped(name).text);
	}
	if (*seen & (1u << which))
		return kf_error_set(err, KF_ERR_INVALID, _("the link gives '%s' twice"),
				    names[which]);
	*seen |= 1u << which;
	target = which == 0 ? out->organisation : which == 1 ? out->relay : out->case_number;
	cap = which == 0   ? sizeof(out->organisation)
	      : which == 1 ? sizeof(out->relay)
			   : sizeof(out->case_number);
	if ((r = decode(names[which], equals + 1, len - name_len - 1, target, cap, err)) != KF_OK)
		return r;
	if (which == 1 && !is_host_name(target))
		return kf_error_set(
			err, KF_ERR_INVALID,
			_("the link's relay is not a host name (letters, digits, - and .)"));
	if (which == 2 && !is_case_number(target))
		return kf_error_set(
			err, KF_ERR_INVALID,
			_("the link's case number may hold only letters, digits, - and _"));
	return KF_OK;
}

int kf_join_url_parse(const char *url, size_t len, struct kf_join_url *out, struct kf_error *err)
{
	static const char prefix[] = "kefu://join";
	const size_t prefix_len = sizeof(prefix) - 1;
	unsigned seen = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len > KF_JOIN_URL_MAX)
		return kf_error_set(err, KF_ERR_INVALID,
				    _("the link is too long (at most %d bytes)"), KF_JOIN_URL_MAX);
	for (i = 0; i < len; i++) {
		if (!is_url_char((unsigned char)url[i])) {
			char shown[8];

			if (url[i] > 0x20 && url[i] < 0x7f)
				snprintf(shown, sizeof(shown), "'%c'", url[i]);
			else
				snprintf(shown, sizeof(shown), "0x%02x", (unsigned char)url[i]);
			return kf_error_set(err, KF_ERR_INVALID,
					    _("the link holds a character a kefu link never has "
					      "(%s at position %zu)"),
					    shown, i + 1);
		}
	}
	/* The scheme is case-insensitive (RFC 3986); the rest is exactly kefu's. */
	if (len < prefix_len || strncasecmp(url, "kefu:", 5) != 0 ||
	    memcmp(url + 5, prefix + 5, prefix_len - 5) != 0)
		return kf_error_set(err, KF_ERR_INVALID,
				    _("this is not a kefu link (it must start with kefu://join)"));
	i = prefix_len;
	if (i < len && url[i] == '/')
		i++;
	if (i == len)
		return KF_OK;
	if (url[i] != '?')
		return kf_error_set(
			err, KF_ERR_INVALID,
			_("this is not a kefu link (kefu://join is followed by ?fields)"));
	i++;
	while (i < len) {
		const char *end = memchr(url + i, '&', len - i);
		size_t field_len = end != NULL ? (size_t)(end - (url + i)) : len - i;
		int r;

		if (field_len == 0)
			return kf_error_set(err, KF_ERR_INVALID, _("the link has an empty field"));
		if (memchr(url + i, '?', field_len) != NULL || memchr(url + i, '/', field_len))
			return kf_error_set(
				err, KF_ERR_INVALID,
				_("the link's fields hold '/' or '?', which they never have"));
		if ((r = parse_field(url + i, field_len, out, &seen, err)) != KF_OK)
			return r;
		i += field_len;
		if (end != NULL) {
			i++;
			if (i == len)
				return kf_error_set(err, KF_ERR_INVALID,
						    _("the link ends with an empty field"));
		}
	}
	return KF_OK;
}

int kf_join_url_check(const struct kf_join_url *url, const struct kf_profile *profile,
		      unsigned *relay_index, struct kf_error *err)
{
	if (url->organisation[0] != '\0' && strcmp(url->organisation, profile->organisation) != 0)
		return kf_error_set(err, KF_ERR_DENIED,
				    _("this link is for %s, but this helper is set up for %s"),
				    kf_escaped(url->organisation).text,
				    kf_escaped(profile->organisation).text);
	if (url->relay[0] == '\0')
		return KF_OK;
	for (size_t i = 0; i < profile->relay_count; i++) {
		if (strcasecmp(profile->relays[i].host, url->relay) == 0) {
			*relay_index = (unsigned)i;
			return KF_OK;
		}
	}
	return kf_error_set(err, KF_ERR_DENIED,
			    _("this link names the relay %s, which this helper's support profile "
			      "does not list"),
			    kf_escaped(url->relay).text);
}
