/* kefu-agentd: what dpkg has installed and what apt's lists offer. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVERS_PACKAGES_H
#define KF_AGENTD_DRIVERS_PACKAGES_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One package name, merged from dpkg's status and apt's lists. Strings owned by the index. */
struct kf_pkg {
	char *name;
	char *installed;  /* the version dpkg has installed, or NULL */
	char *candidate;  /* the highest version apt's lists offer, or NULL */
	char *modaliases; /* the candidate's (or the installed one's) Modaliases field, or NULL */
	char *summary;    /* the first line of its Description, or NULL */
};

/*
 * Every package of root's /var/lib/dpkg/status and /var/lib/apt/lists/ *_Packages
 * (plain or compressed): at most KF_PKG_MAX names. The candidate is the highest version
 * for this computer's architecture or "all" (apt's pinning is not applied).
 */
#define KF_PKG_MAX (256 * 1024)
struct kf_pkg_index {
	struct kf_pkg *slots; /* open-addressed by name */
	size_t slot_count, count;
	size_t lists_read;      /* Packages files read */
	size_t stanzas_invalid; /* stanzas without a name or with a malformed version */
	bool has_status;        /* dpkg's status file was read */
	json_t *notes;          /* what was cut or skipped (array of strings, owned) */
};

int kf_pkg_index_load(struct kf_pkg_index *index, const char *root, struct kf_error *err);
void kf_pkg_index_free(struct kf_pkg_index *index);

/* The package called name (borrowed), or NULL. */
const struct kf_pkg *kf_pkg_index_find(const struct kf_pkg_index *index, const char *name);

/* Calls fn for every package (in no particular order). */
void kf_pkg_index_each(const struct kf_pkg_index *index,
		       void (*fn)(const struct kf_pkg *pkg, void *data), void *data);

/* Whether name is a valid Debian package name (lower case, digits, + - .; two or more). */
bool kf_pkg_name_is_valid(const char *name);

/*
 * The Modaliases field "mod(alias, alias), mod2(alias)" one pair at a time: calls fn with
 * each module and glob pattern (NUL-terminated copies); stops when fn returns false.
 * Malformed parts are skipped. Returns how many pairs were passed.
 */
size_t kf_pkg_modaliases_each(const char *field,
			      bool (*fn)(const char *module, const char *pattern, void *data),
			      void *data);

/*
 * For each of count absolute paths, the installed package that ships it per dpkg's
 * file lists (root's /var/lib/dpkg/info/ *.list): owners[i] is a malloc'ed name or
 * NULL. /lib and /usr/lib spellings of one file are the same file (merged /usr).
 */
int kf_pkg_owners(const char *root, const char *const *paths, size_t count, char **owners,
		  struct kf_error *err);

/*
 * The files an installed package ships per its dpkg file list, as a new JSON array of
 * strings in *files (empty when it has no list).
 */
int kf_pkg_files(const char *root, const char *package, json_t **files, struct kf_error *err);

/*
 * For each of count absolute paths, the packages that ship it per apt's Contents
 * indexes (root's /var/lib/apt/lists/ *Contents-*, plain or compressed): found[i] is
 * a JSON array of package names (new reference, empty when none). *indexes_read
 * counts the Contents files read (0: none present).
 */
int kf_pkg_contents_find(const char *root, const char *const *paths, size_t count, json_t **found,
			 size_t *indexes_read, struct kf_error *err);

#endif
