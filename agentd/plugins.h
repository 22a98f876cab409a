/* kefu-agentd: where plugins installed from signed packages live. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_PLUGINS_H
#define KF_AGENTD_PLUGINS_H

#include "proto/package.h"
#include "proto/profile.h"

#include <stdbool.h>
#include <stddef.h>

/* The plugins shipped with kefu; trusted as installed. */
#define KF_AGENTD_SHIPPED_PLUGINS "/usr/share/kefu/plugins"

/*
 * Writes the folder of plugins installed from packages into buffer and returns
 * it: $XDG_DATA_HOME/kefu/plugins, else ~/.local/share/kefu/plugins; NULL when
 * neither variable is an absolute path.
 */
const char *kf_agentd_plugins_dir(char *buffer, size_t size);

/*
 * Whether an installed plugin folder may run now: its kept signature verifies
 * with a key of trusted under the list's publisher name, and its files match
 * the signed list. Otherwise why (when not NULL) says in plain words why it is
 * not run; trust_problem, when not NULL, is why no publisher is trusted.
 */
bool kf_agentd_plugin_is_trusted(const char *dir, const struct kf_package_publisher *trusted,
				 size_t n_trusted, const char *trust_problem, char *why,
				 size_t why_size);

/*
 * Loads the support profile at path and its plugin publishers. On failure
 * *trusted is NULL and problem holds a plain sentence saying why installed
 * plugins cannot be trusted. *profile and *trusted are the caller's (trusted
 * borrows names from profile).
 */
int kf_agentd_plugins_trust(const char *path, struct kf_profile **profile,
			    struct kf_package_publisher **trusted, size_t *n_trusted, char *problem,
			    size_t problem_size);

#endif
