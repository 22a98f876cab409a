/* kefu-agentd: where plugins installed from signed packages live. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_PLUGINS_H
#define KF_AGENTD_PLUGINS_H

#include "proto/package/package.h"
#include "proto/plugin/manifest.h"
#include "proto/session/profile.h"

#include <stdbool.h>
#include <stddef.h>

/* Where `make install` puts kefu's data (PREFIX/share/kefu); the Makefile defines it. */
#ifndef KF_DATADIR
#define KF_DATADIR "/usr/local/share/kefu"
#endif

/* The plugins shipped with kefu; trusted as installed. */
#define KF_AGENTD_SHIPPED_PLUGINS KF_DATADIR "/plugins"

/*
 * Writes the folder of plugins installed from packages into buffer and returns
 * it: $XDG_DATA_HOME/kefu/plugins, else ~/.local/share/kefu/plugins; NULL when
 * neither variable is an absolute path.
 */
const char *kf_agent_plugins_dir(char *buffer, size_t size);

/*
 * Whether an installed plugin folder may run now: its kept signature verifies
 * with a key of trusted under the list's publisher name, and its files match
 * the signed list. Otherwise why (when not NULL) says in plain words why it is
 * not run; trust_problem, when not NULL, is why no publisher is trusted.
 */
bool kf_agent_plugin_is_trusted(const char *dir, const struct kf_package_publisher *trusted,
				size_t n_trusted, const char *trust_problem, char *why,
				size_t why_size);

/*
 * Loads the support profile at path and its plugin publishers. On failure
 * *trusted is NULL and problem holds a plain sentence saying why installed
 * plugins cannot be trusted. *profile and *trusted are the caller's (trusted
 * borrows names from profile).
 */
int kf_agent_plugins_trust(const char *path, struct kf_profile **profile,
			   struct kf_package_publisher **trusted, size_t *n_trusted, char *problem,
			   size_t problem_size);

#define KF_AGENTD_STAGE_SIZE 64

/*
 * For root: checks the installed plugin folder dir like kf_agent_plugin_is_trusted,
 * then writes the very bytes it checked into a fresh folder only root can enter
 * (stage, under /tmp), so whoever owns dir cannot swap a file between the check
 * and the run. copy receives the plugin folder to run from. The package's id must
 * be id. Remove the stage with kf_agent_plugin_unstage.
 */
int kf_agent_plugin_stage(const char *dir, const char *id,
			  const struct kf_package_publisher *trusted, size_t n_trusted, char *stage,
			  size_t stage_size, char *copy, size_t copy_size, struct kf_error *err);

/* Removes a stage folder and everything in it; "" is nothing to do. */
void kf_agent_plugin_unstage(const char *stage);

/*
 * Loads DIR/plugin.json with the plugin's own translations for the language the
 * customer is spoken to in (kf_i18n_language) in place: for everything the customer
 * reads and the technician is told.
 */
int kf_agent_plugin_load(const char *dir, struct kf_plugin_manifest **out, struct kf_error *err);

/* Writes the diagnostics report of root to path with `kefu-agentd diag`; returns 0 or -1. */
int kf_agent_plugins_report(const char *root, const char *path);

#endif
