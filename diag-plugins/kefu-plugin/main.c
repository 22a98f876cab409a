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
	{"pack", "DIR -o FILE.kefupkg [--key KEY]", "pack (and sign) a plugin folder",
	 kf_plugin_cmd_pack},
	{"sign", "FILE.kefupkg --key KEY [-o OUT]", "check a package's files and sign it",
	 kf_plugin_cmd_sign},
	{"verify", "(--profile FILE | --publisher-key BASE64...) FILE.kefupkg",
	 "check a package as the agent will before installing it", kf_plugin_cmd_verify},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(KF_PLUGIN_PROGRAM,
			       "write, test, pack and sign kefu diagnostic and repair plugins",
			       commands, argc, argv);
}
