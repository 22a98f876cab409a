/* kefu-plugin: the commands of the plugin SDK tool, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_PLUGIN_COMMANDS_H
#define KF_PLUGIN_COMMANDS_H

#include "proto/cli.h"

#define KF_PLUGIN_PROGRAM "kefu-plugin"

/* lint DIR: checks the manifest and the step scripts of a plugin folder. */
int kf_plugin_cmd_lint(int argc, char **argv);
/* test [--root DIR] [--report FILE] [--fix] [--json] DIR: runs the steps, shows the results. */
int kf_plugin_cmd_test(int argc, char **argv);

#endif
