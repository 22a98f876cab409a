/* kefu-console: the technician's tool; entry point and command table. SPDX-License-Identifier: MIT */
#include "console/commands.h"

#include <stddef.h>

static const struct kf_command commands[] = {
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(KF_CONSOLE_PROGRAM, "the support technician's side of a kefu session",
			       commands, argc, argv);
}
