/* kefu-plugin: the product teams' plugin tool; entry point and command table. SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"

#include <stddef.h>

static const struct kf_command commands[] = {
	{"lint", "DIR", "check a plugin folder: manifest, scripts, shellcheck", kf_plugin_cmd_lint},
	{"test", "[--root DIR] [--report FILE] [--fix] [--json] [--no-sandbox] DIR",
	 "run a plugin's steps and show the structured results", kf_plugin_cmd_test},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(KF_PLUGIN_PROGRAM,
			       "write, test, pack and sign kefu diagnostic and repair plugins",
			       commands, argc, argv);
}
