/* kefu-agentd: the running kernel's modules: aliases, files, versions. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVERS_MODULES_H
#define KF_AGENTD_DRIVERS_MODULES_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/* One line of modules.alias: "alias PATTERN MODULE". */
struct kf_kmod_alias {
	char *pattern;
	char *module;
};

/* A module of modules.dep: its name (with '_' for '-') and its file under the folder. */
struct kf_kmod_file {
	char *name;
	char *path; /* absolute: /lib/modules/RELEASE/kernel/... */
};

/*
 * What root's /lib/modules/RELEASE (or /usr/lib/modules/RELEASE) says about the kernel
 * that runs (RELEASE from /proc/sys/kernel/osrelease): modules.alias, modules.dep,
 * modules.builtin, and the blacklist lines of /etc/modprobe.d and /lib/modprobe.d.
 */
struct kf_kmods {
	char release[128];
	char dir[256]; /* "/lib/modules/RELEASE", or "" when not found */
	struct kf_kmod_alias *aliases;
	size_t alias_count;
	struct kf_kmod_file *files; /* sorted by name */
	size_t file_count;
	char **builtin; /* sorted */
	size_t builtin_count;
	char **blacklist; /* sorted */
	size_t blacklist_count;
};

int kf_kmods_load(struct kf_kmods *kmods, const char *root, struct kf_error *err);
void kf_kmods_free(struct kf_kmods *kmods);

/* A module name as the kernel spells it: '-' becomes '_' (into out, size cap). */
void kf_kmod_normalize(const char *name, char *out, size_t cap);

/* The file of module (borrowed absolute path), or NULL. */
const char *kf_kmods_file(const struct kf_kmods *kmods, const char *module);
bool kf_kmods_is_builtin(const struct kf_kmods *kmods, const char *module);
bool kf_kmods_is_blacklisted(const struct kf_kmods *kmods, const char *module);

/*
 * Calls fn for each alias whose pattern matches modalias, glob-matched as kmod does
 * (fnmatch without flags).
 */
void kf_kmods_match(const struct kf_kmods *kmods, const char *modalias,
		    void (*fn)(const struct kf_kmod_alias *alias, void *data), void *data);

/*
 * What `modinfo` shows of a module file (root+path, an ELF object, plain or
 * compressed): the version= and srcversion= strings of its .modinfo section ("" when
 * absent). KF_ERR_INVALID when it is no ELF object.
 */
int kf_kmod_modinfo(const char *root, const char *path, char *version, size_t version_cap,
		    char *srcversion, size_t srcversion_cap, struct kf_error *err);

/* The same from an ELF object in memory (the fuzz target's entry). */
int kf_kmod_modinfo_parse(const unsigned char *data, size_t len, char *version, size_t version_cap,
			  char *srcversion, size_t srcversion_cap, struct kf_error *err);

#endif
