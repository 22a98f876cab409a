/* kefu-agentd: the customer's helper; entry point and command table. SPDX-License-Identifier: MIT
 */
#include "agentd/commands.h"

#include <stddef.h>

static const struct kf_command commands[] = {
        {NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(
	        KF_AGENTD_PROGRAM,
	        "consented remote assistance and self-service repair for this computer", commands,
	        argc, argv);
}
