/* kefu-plugin: the product teams' plugin tool; entry point and command table. SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"

#include <stddef.h>

static const struct kf_command commands[] = {
	{"new", "[--publisher NAME] [--dir PARENT] ID",
	 "scaffold a working plugin folder with fixtures and a test", kf_plugin_cmd_new},
	{"lint", "DIR", "check a plugin folder: manifest, scripts, shellcheck", kf_plugin_cmd_lint},
	{"test", "[--root DIR] [--report FILE] [--fix] [--json] [--no-sandbox] DIR",
	 "run a plugin's steps and show the structured results", kf_plugin_cmd_test},
	{"keygen", "[--out FILE] PUBLISHER-NAME",
	 "make an Ed25519 signing key and print its support-profile entry", kf_plugin_cmd_keygen},
	{"pack", "[--kind plugin|firmware] DIR -o FILE [--key KEY]",
	 "pack (and sign) a plugin folder, or a firmware folder (firmware.json and image)",
	 kf_plugin_cmd_pack},
	{"sign", "FILE --key KEY [-o OUT]", "check a package's files and sign it",
	 kf_plugin_cmd_sign},
	{"verify", "(--profile FILE | --publisher-key BASE64...) FILE",
	 "check a plugin or firmware package as the agent will before installing it",
	 kf_plugin_cmd_verify},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(KF_PLUGIN_PROGRAM,
			       "write, test, pack and sign kefu diagnostic and repair plugins and "
			       "firmware packages",
			       commands, argc, argv);
}
