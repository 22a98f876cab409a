/* kefu-agentd: Debian package versions compared as dpkg compares them. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DPKG_VERSION_H
#define KF_AGENTD_DPKG_VERSION_H

#include <stdbool.h>

/*
 * A version is [epoch:]upstream[-revision] (deb-version(7)): the epoch is a decimal
 * number, upstream starts with a digit and holds letters, digits and . + ~ - :
 * (a hyphen only when there is a revision, a colon only when there is an epoch), the
 * revision letters, digits and . + ~. Whether text is such a version.
 */
bool kf_dpkg_version_is_valid(const char *version);

/*
 * Compares two versions as `dpkg --compare-versions` does: epochs as numbers, then
 * upstream and revision part by part, non-digits before digits, letters before other
 * characters, '~' before anything (even the end), runs of digits as numbers. An absent
 * revision equals "0". Returns <0, 0 or >0; both must be valid versions.
 */
int kf_dpkg_version_compare(const char *a, const char *b);

#endif
