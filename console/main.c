/* kefu-console: the technician's tool; entry point and command table. SPDX-License-Identifier: MIT */
#include "console/commands.h"

#include <stddef.h>

static const struct kf_command commands[] = {
	{"join", KF_CONSOLE_JOIN_USAGE, KF_CONSOLE_JOIN_SUMMARY, kf_console_cmd_join},
	{"cases", KF_CONSOLE_CASES_USAGE, KF_CONSOLE_CASES_SUMMARY, kf_console_cmd_cases},
	{"ca", KF_CONSOLE_CA_USAGE, KF_CONSOLE_CA_SUMMARY, kf_console_cmd_ca},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(KF_CONSOLE_PROGRAM,
			       "the support technician's side of a kefu session", commands, argc,
			       argv);
}
