/* kefu-agentd: Debian package versions compared as dpkg compares them. SPDX-License-Identifier: MIT */
#include "agentd/drivers/dpkg-version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest version kefu compares; a Packages file's are far shorter. */
#define VERSION_MAX 256

struct parsed_version {
	unsigned long epoch;
	char upstream[VERSION_MAX];
	char revision[VERSION_MAX];
};

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(int c)
{
	return is_digit(c) || is_alpha(c);
}

/* Splits version into its parts; false when it is not a valid version. */
static bool parse(const char *version, struct parsed_version *out)
{
	const char *colon, *hyphen, *upstream;
	size_t len = strlen(version), upstream_len;

	if (len == 0 || len >= VERSION_MAX)
		return false;
	out->epoch = 0;
	upstream = version;
	colon = strchr(version, ':');
	if (colon != NULL) {
		if (colon == version)
			return false;
		for (const char *p = version; p < colon; p++)
			if (!is_digit(*p))
				return false;
		if (colon - version > 9)
			return false;
		out->epoch = strtoul(version, NULL, 10);
		upstream = colon + 1;
	}
	hyphen = strrchr(upstream, '-');
	upstream_len = hyphen != NULL ? (size_t)(hyphen - upstream) : strlen(upstream);
	if (upstream_len == 0 || !is_digit(upstream[0]))
		return false;
	memcpy(out->upstream, upstream, upstream_len);
	out->upstream[upstream_len] = '\0';
	for (const char *p = out->upstream; *p != '\0'; p++)
		if (!is_alnum(*p) && strchr(".+~-:", *p) == NULL)
			return false;
		else if (*p == ':' && colon == NULL)
			return false;
	out->revision[0] = '\0';
	if (hyphen != NULL) {
		if (hyphen[1] == '\0')
			return false;
		snprintf(out->revision, sizeof(out->revision), "%s", hyphen + 1);
		for (const char *p = out->revision; *p != '\0'; p++)
			if (!is_alnum(*p) && strchr(".+~", *p) == NULL)
				return false;
	}
	return true;
}

bool kf_dpkg_version_is_valid(const char *version)
{
	struct parsed_version parsed;

	return version != NULL && parse(version, &parsed);
}

/* dpkg's weight of one character of a non-digit run: '~' < end < letters < the rest. */
static int order(int c)
{
	if (is_digit(c))
		return 0;
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c != '\0')
		return c + 256;
	return 0;
}

static int compare_part(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0') {
		int first_diff = 0;

		while ((*a != '\0' && !is_digit(*a)) || (*b != '\0' && !is_digit(*b))) {
			int ac = order((unsigned char)*a), bc = order((unsigned char)*b);

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (is_digit(*a) && is_digit(*b)) {
			if (first_diff == 0)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (is_digit(*a))
			return 1;
		if (is_digit(*b))
			return -1;
		if (first_diff != 0)
			return first_diff;
	}
	return 0;
}

int kf_dpkg_version_compare(const char *a, const char *b)
{
	struct parsed_version va, vb;
	int r;

	if (!parse(a, &va) || !parse(b, &vb))
		return strcmp(a, b);
	if (va.epoch != vb.epoch)
		return va.epoch < vb.epoch ? -1 : 1;
	if ((r = compare_part(va.upstream, vb.upstream)) != 0)
		return r;
	return compare_part(va.revision, vb.revision);
}
