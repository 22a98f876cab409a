/* kefu-plugin: the commands of the plugin SDK tool, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_PLUGIN_COMMANDS_H
#define KF_PLUGIN_COMMANDS_H

#include "proto/base/cli.h"

#define KF_PLUGIN_PROGRAM "kefu-plugin"

/* lint DIR: checks the manifest and the step scripts of a plugin folder. */
int kf_plugin_cmd_lint(int argc, char **argv);
/* test [--root DIR] [--report FILE] [--fix] [--json] DIR: runs the steps, shows the results. */
int kf_plugin_cmd_test(int argc, char **argv);

/* new [--publisher NAME] [--dir PARENT] ID: scaffolds a plugin folder with fixtures and a test. */
int kf_plugin_cmd_new(int argc, char **argv);
/* keygen [--out FILE] NAME: a publisher's Ed25519 key and its support-profile entry. */
int kf_plugin_cmd_keygen(int argc, char **argv);
/* pack [--kind K] DIR -o FILE [--key KEY]: a plugin or firmware folder as a (signed) package. */
int kf_plugin_cmd_pack(int argc, char **argv);
/* sign FILE --key KEY [-o OUT]: signs a package after checking its files. */
int kf_plugin_cmd_sign(int argc, char **argv);
/* verify (--profile FILE | --publisher-key B64) FILE: the agent's verdict on a package. */
int kf_plugin_cmd_verify(int argc, char **argv);

#endif
