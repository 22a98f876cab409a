/* kefu-plugin: the commands of the plugin SDK tool, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_PLUGIN_COMMANDS_H
#define KF_PLUGIN_COMMANDS_H

#include "proto/cli.h"

#define KF_PLUGIN_PROGRAM "kefu-plugin"

#endif
