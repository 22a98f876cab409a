/* kefu-agentd: the diagnostics bundle (.tar.zst, manifest, README). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_BUNDLE_H
#define KF_AGENTD_BUNDLE_H

#include "agentd/diag/collect.h"
#include "agentd/diag/report.h"
#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

struct kf_bundle_options {
	const char *path;     /* the .tar.zst to write */
	bool is_redacted;     /* replace identifying values by pseudonyms (the default) */
	const char *map_path; /* where the pseudonym mapping goes; NULL: the default place */
};

/*
 * Writes the bundle: README.txt, report.json, summary.txt, raw/<inputs> and
 * MANIFEST.sha256 (sha256sum format, one line per other member), zstd-compressed
 * tar, through a temporary file renamed into place. With redaction the report is
 * changed in place (the caller prints nothing from it afterwards that must stay
 * unredacted), and the mapping is written, readable only by its owner, to
 * options->map_path or $XDG_STATE_HOME/kefu/redaction/<bundle name>.map.json
 * (~/.local/state/... without XDG_STATE_HOME); map_used receives that path.
 */
int kf_bundle_write(const struct kf_bundle_options *options, struct kf_report *report,
		    const struct kf_raw_file *raw, size_t raw_count, char *map_used, size_t map_cap,
		    struct kf_error *err);

/* The default place of the mapping for a bundle path (out "" when no home is known). */
void kf_bundle_default_map_path(const char *bundle_path, char *out, size_t cap);

#endif
