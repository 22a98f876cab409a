/* kefu-agentd: reading sysfs and procfs under a root prefix. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SYSFS_H
#define KF_AGENTD_SYSFS_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Every collector reads the system through a root prefix ("/" on a live system,
 * a recorded tree in tests). Paths passed here are absolute paths of the system
 * being described ("/sys/bus/pci/devices"); the root is prepended.
 *
 * Only regular files are read, opened non-blocking, so that a FIFO or a device
 * node planted in a tree cannot hang or flood a collector. Text read from outside
 * is made printable UTF-8 (bad bytes become '?') before it reaches the report.
 */

#define KF_ATTR_SIZE 512 /* the longest attribute value kept; longer ones are cut */

/* Joins root and path into out (size cap); KF_ERR_TOO_LARGE if it does not fit. */
int kf_sysfs_path(const char *root, const char *path, char *out, size_t cap);

/*
 * Reads at most cap bytes of root+path into out (appending). Sets *is_truncated
 * (may be NULL) when the file held more. Fails with KF_ERR_NOT_FOUND, KF_ERR_DENIED,
 * KF_ERR_UNSUPPORTED (not a regular file) or KF_ERR_IO and a message naming path.
 */
int kf_sysfs_read_file(const char *root, const char *path, size_t cap, struct kf_buf *out,
		       bool *is_truncated, struct kf_error *err);

/*
 * Like kf_sysfs_read_file, but when the file holds more than cap bytes it keeps
 * the last cap bytes (from the start of a line), which is what matters in a log.
 */
int kf_sysfs_read_tail(const char *root, const char *path, size_t cap, struct kf_buf *out,
		       bool *is_truncated, struct kf_error *err);

/*
 * Reads one attribute into out (size cap, at least 2): the first line-like value,
 * trailing whitespace removed, sanitised. Returns 0 (with *out possibly empty) or
 * a negative code; on failure *out is "".
 */
int kf_sysfs_read_attr(const char *root, const char *path, char *out, size_t cap);

/* What kf_sysfs_read_attr_checked did to a value it read. */
enum {
	KF_SYSFS_CUT = 1 << 0,      /* longer than cap - 1 bytes: cut */
	KF_SYSFS_REPLACED = 1 << 1, /* bytes that are not UTF-8 text became '?' */
};

/* Like kf_sysfs_read_attr, and sets *changes (may be NULL) to the KF_SYSFS_* it applied. */
int kf_sysfs_read_attr_checked(const char *root, const char *path, char *out, size_t cap,
			       unsigned *changes);

/* Like kf_sysfs_read_attr with path = dir + "/" + name. */
int kf_sysfs_attr(const char *root, const char *dir, const char *name, char *out, size_t cap);

/* Reads a hexadecimal attribute ("0x8086" or "8086"); 0 on success. */
int kf_sysfs_attr_hex(const char *root, const char *dir, const char *name, unsigned long *value);

/* Like kf_sysfs_attr, and sets *changes (may be NULL) as kf_sysfs_read_attr_checked does. */
int kf_sysfs_attr_checked(const char *root, const char *dir, const char *name, char *out,
			  size_t cap, unsigned *changes);

/*
 * Reads the symbolic link dir/name and stores the last component of its target
 * in out (the driver or module name). A dangling link still has a name; a link
 * that loops (to itself or in a circle) or whose target ends in "." or ".." has
 * none: KF_ERR_INVALID.
 */
int kf_sysfs_link_name(const char *root, const char *dir, const char *name, char *out, size_t cap);

/*
 * Resolves the symbolic link dir/name textually against dir (without following
 * further links) into an absolute path of the described system, e.g.
 * "/sys/devices/pci0000:00/0000:00:1a.0". Used for sysfs_path and ancestry.
 */
int kf_sysfs_link_path(const char *root, const char *dir, const char *name, char *out, size_t cap);

/* Normalises "." and ".." in an absolute path in place. */
void kf_sysfs_normalize(char *path);

/* Does root+path exist (any type, links not followed)? */
bool kf_sysfs_exists(const char *root, const char *path);

/*
 * Makes text printable UTF-8 in place: NUL and control characters other than tab
 * and newline, and invalid UTF-8 bytes, become '?'. Returns len.
 */
size_t kf_text_sanitize(char *text, size_t len);

/* Like kf_text_sanitize; returns how many bytes were replaced. */
size_t kf_text_sanitize_count(char *text, size_t len);

/* Callback for each KEY=VALUE line of a uevent file; key and value are NUL-terminated. */
typedef void (*kf_uevent_fn)(const char *key, const char *value, void *data);

/*
 * Parses uevent text (KEY=VALUE lines). Lines without '=' or with an empty or
 * over-long key are skipped; values are sanitised and cut at KF_ATTR_SIZE - 1.
 * Returns the number of pairs passed to fn.
 */
int kf_uevent_parse(const char *text, size_t len, kf_uevent_fn fn, void *data);

#endif
