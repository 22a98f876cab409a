/* kefu: diagnostic plugin manifests and the script output protocol (diag-plugins/FORMAT.md).
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PLUGIN_MANIFEST_H
#define KF_PROTO_PLUGIN_MANIFEST_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KF_PLUGIN_FORMAT          1
#define KF_PLUGIN_MANIFEST_MAX    (64 * 1024) /* bytes of plugin.json */
#define KF_PLUGIN_ID_MAX          64          /* bytes of a plugin or check id */
#define KF_PLUGIN_MAX_CHECKS      16
#define KF_PLUGIN_MAX_REPAIRS     8
#define KF_PLUGIN_MAX_MATCHERS    32
#define KF_PLUGIN_MAX_WRITES      8
#define KF_PLUGIN_MAX_LANGUAGES   8
#define KF_PLUGIN_TIMEOUT_MAX     600  /* seconds, one step */
#define KF_PLUGIN_OUTPUT_LINE_MAX 4096 /* bytes of one output line */

/* Exit codes of a step script (FORMAT.md "Exit codes"). */
enum kf_plugin_exit {
	KF_PLUGIN_EXIT_OK = 0, /* detect: healthy; repair/verify: succeeded */
	KF_PLUGIN_EXIT_PROBLEM =
		1, /* detect: problem found; verify: still broken; repair: failed */
	KF_PLUGIN_EXIT_NOT_APPLICABLE = 2, /* the check does not apply to this machine */
	KF_PLUGIN_EXIT_ERROR = 3,          /* the script itself failed (missing tool, bad input) */
};

/* What a step may do beyond the sandbox defaults. */
struct kf_plugin_privileges {
	bool root;    /* needs root (scan names the administrator command when not root) */
	bool network; /* keeps the network namespace */
	bool home;    /* sees the user's home read-only */
	size_t n_writes;
	char *writes[KF_PLUGIN_MAX_WRITES]; /* absolute paths made writable */
};

struct kf_plugin_step {
	char *run;   /* script path relative to the plugin folder */
	int timeout; /* seconds, 1 .. KF_PLUGIN_TIMEOUT_MAX */
	struct kf_plugin_privileges privileges;
};

struct kf_plugin_check {
	char *id;
	char *title; /* plain-language name of the problem */
	char *fix;   /* plain-language description of the repair, may be NULL */
	struct kf_plugin_step detect;
	size_t n_repairs;
	struct kf_plugin_step repairs[KF_PLUGIN_MAX_REPAIRS];
	bool has_verify;
	struct kf_plugin_step verify;
};

enum kf_plugin_matcher_kind {
	KF_PLUGIN_MATCH_ALWAYS,
	KF_PLUGIN_MATCH_DEVICE,
	KF_PLUGIN_MATCH_OS,
	KF_PLUGIN_MATCH_DMI,
	KF_PLUGIN_MATCH_FILE,
};

/* One applies-to matcher; unset strings (NULL) match anything. Strings are fnmatch patterns. */
struct kf_plugin_matcher {
	enum kf_plugin_matcher_kind kind;
	char *bus, *vendor_id, *product_id, *modalias, *driver, *module, *status; /* device */
	bool driver_null;                /* device: "driver": null means no driver bound */
	char *os_id, *os_version_id;     /* os */
	char *sys_vendor, *product_name; /* dmi */
	char *path;                      /* file: absolute path that exists under the root */
};

/*
 * One language's texts, from the manifest's "translations"; NULL where that language
 * keeps the original. titles and fixes are by check index.
 */
struct kf_plugin_translation {
	char language[8]; /* as gettext names it: "zh_CN", "de" */
	char *name, *description;
	char *titles[KF_PLUGIN_MAX_CHECKS], *fixes[KF_PLUGIN_MAX_CHECKS];
};

struct kf_plugin_manifest {
	char *id, *version, *name, *description, *publisher;
	size_t n_translations;
	struct kf_plugin_translation translations[KF_PLUGIN_MAX_LANGUAGES];
	bool is_localized; /* kf_plugin_manifest_localize put a translation in place */
	size_t n_matchers;
	struct kf_plugin_matcher matchers[KF_PLUGIN_MAX_MATCHERS]; /* any one applies */
	size_t n_checks;
	struct kf_plugin_check checks[KF_PLUGIN_MAX_CHECKS];
};

/*
 * Parses plugin.json text strictly: unknown keys, wrong types, unsafe script
 * paths and out-of-range values are refused with a message naming the field.
 * On success *out is owned by the caller (kf_plugin_manifest_free).
 */
int kf_plugin_manifest_parse(const char *text, size_t len, struct kf_plugin_manifest **out,
			     struct kf_error *err);

/* Reads and parses DIR/plugin.json. */
int kf_plugin_manifest_load(const char *dir, struct kf_plugin_manifest **out, struct kf_error *err);

void kf_plugin_manifest_free(struct kf_plugin_manifest *m);

/*
 * Puts the texts of language (a locale name: "zh_CN", "zh_CN.UTF-8", "de") in place of
 * the name, the description and each check's title and fix wherever the manifest
 * translates them: the language with its country first, then the language alone
 * ("de" for "de_AT"). Returns the translation's language, or NULL when the manifest has
 * none for it (or language is NULL or English) and nothing changed. Once only.
 */
const char *kf_plugin_manifest_localize(struct kf_plugin_manifest *m, const char *language);

/* Whether s may be a plugin or check id: 1-64 of a-z 0-9 -, starting with a letter. */
bool kf_plugin_id_is_valid(const char *s);

/*
 * Whether the plugin applies to the machine a diagnostics report describes
 * (kefu-agentd diag --json); root prefixes "file" matchers. Returns 1 or 0,
 * and when a device matched and device_id is not NULL, *device_id borrows its id.
 */
int kf_plugin_manifest_applies(const struct kf_plugin_manifest *m, const json_t *report,
			       const char *root, const char **device_id);

/* One line of a step's output. */
enum kf_plugin_event_type {
	KF_PLUGIN_EVENT_FINDING,
	KF_PLUGIN_EVENT_PROGRESS,
	KF_PLUGIN_EVENT_RESULT,
};

struct kf_plugin_event {
	enum kf_plugin_event_type type;
	char severity[16]; /* finding: info | warning | error */
	char status[16];   /* result: ok | problem | fixed | failed | not-applicable */
	int percent;       /* progress: 0..100, -1 when absent */
	char summary[512]; /* finding/result: plain language; progress: message */
	char detail[1024]; /* finding: optional evidence */
};

/*
 * Parses one output line (without its newline). Returns 0 and fills ev,
 * or KF_ERR_INVALID / KF_ERR_TOO_LARGE with a message.
 */
int kf_plugin_event_parse(const char *line, size_t len, struct kf_plugin_event *ev,
			  struct kf_error *err);

/* A stable name for an exit code of a step ("ok", "problem", ...), "unknown" otherwise. */
const char *kf_plugin_exit_name(int code);

#endif
