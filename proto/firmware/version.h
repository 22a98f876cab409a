/* kefu: firmware version formats (fwupd's plain, pair, triplet, quad, bcd, hex) and update rules. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_VERSION_H
#define KF_PROTO_FW_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "proto/base/error.h"

enum kf_fw_version_format {
	KF_FW_VERSION_UNKNOWN = 0,
	KF_FW_VERSION_PLAIN,   /* 1234 */
	KF_FW_VERSION_PAIR,    /* 1.2 (16.16 bits) */
	KF_FW_VERSION_TRIPLET, /* 1.2.3 (8.8.16 bits) */
	KF_FW_VERSION_QUAD,    /* 1.2.3.4 (8.8.8.8 bits) */
	KF_FW_VERSION_BCD,     /* 1.2 from binary-coded decimal 0x0102 */
	KF_FW_VERSION_HEX,     /* 0x12345678 */
};

/* Parses a format name as fwupd spells it ("plain", "pair", "triplet", ...); UNKNOWN otherwise. */
enum kf_fw_version_format kf_fw_version_format_from_string(const char *name);

/* The fwupd spelling of format ("unknown" for an unknown value). */
const char *kf_fw_version_format_name(enum kf_fw_version_format format);

/* The format a dotted version string has by its section count (1..4 sections, else UNKNOWN). */
enum kf_fw_version_format kf_fw_version_guess_format(const char *version);

/*
 * Writes the raw 32-bit value as a version string of format into out (size bytes).
 * Returns 0, or KF_ERR_INVALID (unknown format) / KF_ERR_TOO_LARGE (out too small).
 */
int kf_fw_version_from_uint32(uint32_t value, enum kf_fw_version_format format, char *out,
			      size_t size, struct kf_error *err);

/*
 * Compares two version strings section by section as numbers (1.10 > 1.9; a missing
 * section counts as 0). Sets *order to -1, 0 or 1. Returns KF_ERR_INVALID when either
 * string is not 1..4 numeric dot-separated sections (hex 0x... counts as one section).
 */
int kf_fw_version_compare(const char *a, const char *b, int *order, struct kf_error *err);

enum kf_fw_update_flags {
	KF_FW_ALLOW_REINSTALL = 1 << 0, /* installing the running version */
	KF_FW_ALLOW_OLDER = 1 << 1,     /* installing an older version */
};

/*
 * Decides whether an update from running to target (both of format, which must
 * match the device's declared format) may proceed. Returns 0 when allowed;
 * KF_ERR_DENIED with a plain sentence for a same-version install without
 * KF_FW_ALLOW_REINSTALL or a downgrade without KF_FW_ALLOW_OLDER;
 * KF_ERR_INVALID when the formats differ or a string does not parse.
 */
int kf_fw_version_check_update(const char *running, enum kf_fw_version_format running_format,
			       const char *target, enum kf_fw_version_format target_format,
			       unsigned flags, struct kf_error *err);

/*
 * Whether version meets a requirement "version COMPARE wanted" as fwupd's
 * <requires> states it: eq, ne, lt, gt, le, ge (as kf_fw_version_compare orders),
 * glob (fnmatch) or regex (POSIX extended). 1 when it does, 0 when it does not, -1
 * when it cannot be told (an unknown compare, versions that do not parse).
 */
int kf_fw_version_meets(const char *version, const char *compare, const char *wanted);

#endif
