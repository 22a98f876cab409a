/* kefu-agentd: where plugins installed from signed packages live. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_PLUGINS_H
#define KF_AGENTD_PLUGINS_H

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

/* Whether an installed plugin folder's files still match its signed list. */
bool kf_agentd_plugin_is_intact(const char *dir);

#endif
