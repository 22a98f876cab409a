/* kefu-console: the bits of a Debian package's control data that ca package reads.
 * SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_DEB_CONTROL_H
#define KF_CONSOLE_DEB_CONTROL_H

#include <stddef.h>

/*
 * Copies the value of field name from fields ("Name: value" lines, as dpkg-deb --field
 * prints several fields) into out, at most size - 1 bytes; "" when the field is absent or
 * its value would not fit. Lines that are not "Name: value" are skipped.
 */
void kf_deb_control_field(const char *fields, size_t len, const char *name, char *out, size_t size);

/*
 * Rewrites a package's md5sums (len bytes, "HASH  PATH" lines) for a package named
 * new_name made of it: files under usr/share/doc/OLD_NAME/ move to
 * usr/share/doc/NEW_NAME/, and OLD_NAME's copyright and changelog.gz are left out (the
 * new package writes its own). Lines without "  ", or holding a NUL or a carriage
 * return, are left out too. Returns a NUL-terminated text the caller frees, or NULL when
 * out of memory.
 */
char *kf_deb_md5sums_rename(const char *md5sums, size_t len, const char *old_name,
			    const char *new_name);

#endif
