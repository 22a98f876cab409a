/* kefu-agentd: the commands of the customer's helper, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_COMMANDS_H
#define KF_AGENTD_COMMANDS_H

#include "proto/cli.h"

#define KF_AGENTD_PROGRAM "kefu-agentd"

/* Each command's table row lives next to its code; main.c lists them. */

/* screen-check [--display D] [--monitor N]: whether and how the desktop can be shared. */
int kf_agentd_cmd_screen_check(int argc, char **argv);

#endif
