/* kefu: firmware version formats and the same/older/newer update rules. SPDX-License-Identifier: MIT */
#include "proto/firmware/version.h"
#include "proto/base/escape.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#define KF_FW_VERSION_MAX_SECTIONS 4

static const char *const format_names[] = {
	[KF_FW_VERSION_UNKNOWN] = "unknown", [KF_FW_VERSION_PLAIN] = "plain",
	[KF_FW_VERSION_PAIR] = "pair",       [KF_FW_VERSION_TRIPLET] = "triplet",
	[KF_FW_VERSION_QUAD] = "quad",       [KF_FW_VERSION_BCD] = "bcd",
	[KF_FW_VERSION_HEX] = "hex",
};

enum kf_fw_version_format kf_fw_version_format_from_string(const char *name)
{
	if (name == NULL)
		return KF_FW_VERSION_UNKNOWN;
	for (size_t i = 1; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (enum kf_fw_version_format)i;
	return KF_FW_VERSION_UNKNOWN;
}

const char *kf_fw_version_format_name(enum kf_fw_version_format format)
{
	if ((unsigned)format >= sizeof(format_names) / sizeof(format_names[0]))
		return "unknown";
	return format_names[format];
}

/* Splits version into up to four numeric sections; returns the count or a negative error. */
static int split_sections(const char *version, uint64_t sections[KF_FW_VERSION_MAX_SECTIONS])
{
	const char *p = version;
	int count = 0;

	if (version == NULL || *version == '\0')
		return KF_ERR_INVALID;
	if (strncmp(p, "0x", 2) == 0 || strncmp(p, "0X", 2) == 0) {
		uint64_t value = 0;
		p += 2;
		if (*p == '\0' || strlen(p) > 8)
			return KF_ERR_INVALID;
		for (; *p; p++) {
			unsigned digit;
			if (*p >= '0' && *p <= '9')
				digit = (unsigned)(*p - '0');
			else if (*p >= 'a' && *p <= 'f')
				digit = (unsigned)(*p - 'a' + 10);
			else if (*p >= 'A' && *p <= 'F')
				digit = (unsigned)(*p - 'A' + 10);
			else
				return KF_ERR_INVALID;
			value = value * 16 + digit;
		}
		sections[0] = value;
		return 1;
	}
	for (;;) {
		uint64_t value = 0;
		int digits = 0;
		if (count == KF_FW_VERSION_MAX_SECTIONS)
			return KF_ERR_INVALID;
		while (*p >= '0' && *p <= '9') {
			if (++digits > 10)
				return KF_ERR_INVALID;
			value = value * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (digits == 0)
			return KF_ERR_INVALID;
		sections[count++] = value;
		if (*p == '\0')
			return count;
		if (*p != '.')
			return KF_ERR_INVALID;
		p++;
	}
}

enum kf_fw_version_format kf_fw_version_guess_format(const char *version)
{
	uint64_t sections[KF_FW_VERSION_MAX_SECTIONS];
	int count = split_sections(version, sections);

	if (count < 0)
		return KF_FW_VERSION_UNKNOWN;
	if (strncmp(version, "0x", 2) == 0 || strncmp(version, "0X", 2) == 0)
		return KF_FW_VERSION_HEX;
	static const enum kf_fw_version_format by_count[] = {
		KF_FW_VERSION_UNKNOWN, KF_FW_VERSION_PLAIN, KF_FW_VERSION_PAIR,
		KF_FW_VERSION_TRIPLET, KF_FW_VERSION_QUAD,
	};
	return by_count[count];
}

static unsigned bcd_byte(unsigned value)
{
	return ((value >> 4) & 0xf) * 10 + (value & 0xf);
}

int kf_fw_version_from_uint32(uint32_t value, enum kf_fw_version_format format, char *out,
			      size_t size, struct kf_error *err)
{
	int n;

	switch (format) {
	case KF_FW_VERSION_PLAIN:
		n = snprintf(out, size, "%" PRIu32, value);
		break;
	case KF_FW_VERSION_PAIR:
		n = snprintf(out, size, "%" PRIu32 ".%" PRIu32, value >> 16, value & 0xffff);
		break;
	case KF_FW_VERSION_TRIPLET:
		n = snprintf(out, size, "%" PRIu32 ".%" PRIu32 ".%" PRIu32, value >> 24,
			     (value >> 16) & 0xff, value & 0xffff);
		break;
	case KF_FW_VERSION_QUAD:
		n = snprintf(out, size, "%" PRIu32 ".%" PRIu32 ".%" PRIu32 ".%" PRIu32, value >> 24,
			     (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
		break;
	case KF_FW_VERSION_BCD:
		n = snprintf(out, size, "%u.%u", bcd_byte((value >> 8) & 0xff),
			     bcd_byte(value & 0xff));
		break;
	case KF_FW_VERSION_HEX:
		n = snprintf(out, size, "0x%08" PRIx32, value);
		break;
	default:
		return kf_error_set(err, KF_ERR_INVALID, "unknown firmware version format");
	}
	if (n < 0 || (size_t)n >= size)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "version buffer too small");
	return 0;
}

int kf_fw_version_compare(const char *a, const char *b, int *order, struct kf_error *err)
{
	uint64_t sa[KF_FW_VERSION_MAX_SECTIONS] = {0}, sb[KF_FW_VERSION_MAX_SECTIONS] = {0};
	int na = split_sections(a, sa), nb = split_sections(b, sb);

	if (na < 0 || nb < 0)
		return kf_error_set(err, KF_ERR_INVALID, "version \"%s\" is not a firmware version",
				    kf_escaped(na < 0 ? (a ? a : "") : (b ? b : "")).text);
	for (int i = 0; i < KF_FW_VERSION_MAX_SECTIONS; i++) {
		uint64_t x = i < na ? sa[i] : 0, y = i < nb ? sb[i] : 0;
		if (x != y) {
			*order = x < y ? -1 : 1;
			return 0;
		}
	}
	*order = 0;
	return 0;
}

int kf_fw_version_check_update(const char *running, enum kf_fw_version_format running_format,
			       const char *target, enum kf_fw_version_format target_format,
			       unsigned flags, struct kf_error *err)
{
	int order;
	int r;

	if (running_format != target_format)
		return kf_error_set(
			err, KF_ERR_INVALID,
			"The update's version format (%s) does not match the device's (%s).",
			kf_fw_version_format_name(target_format),
			kf_fw_version_format_name(running_format));
	r = kf_fw_version_compare(target, running, &order, err);
	if (r < 0)
		return r;
	if (order == 0 && !(flags & KF_FW_ALLOW_REINSTALL))
		return kf_error_set(
			err, KF_ERR_DENIED,
			"Version %s is already installed; reinstalling needs --reinstall.",
			running);
	if (order < 0 && !(flags & KF_FW_ALLOW_OLDER))
		return kf_error_set(err, KF_ERR_DENIED,
				    "Version %s is older than the installed %s; downgrading needs "
				    "--downgrade.",
				    target, running);
	return 0;
}

int kf_fw_version_meets(const char *version, const char *compare, const char *wanted)
{
	int order;

	if (version == NULL || compare == NULL || wanted == NULL)
		return -1;
	if (strcmp(compare, "glob") == 0)
		return fnmatch(wanted, version, 0) == 0;
	if (strcmp(compare, "regex") == 0) {
		regex_t re;
		int match;

		if (regcomp(&re, wanted, REG_EXTENDED | REG_NOSUB) != 0)
			return -1;
		match = regexec(&re, version, 0, NULL, 0) == 0;
		regfree(&re);
		return match;
	}
	if (kf_fw_version_compare(version, wanted, &order, NULL) != KF_OK)
		return -1;
	if (strcmp(compare, "eq") == 0)
		return order == 0;
	if (strcmp(compare, "ne") == 0)
		return order != 0;
	if (strcmp(compare, "lt") == 0)
		return order < 0;
	if (strcmp(compare, "gt") == 0)
		return order > 0;
	if (strcmp(compare, "le") == 0)
		return order <= 0;
	if (strcmp(compare, "ge") == 0)
		return order >= 0;
	return -1;
}
