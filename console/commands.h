/* kefu-console: the commands of the technician's tool, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_COMMANDS_H
#define KF_CONSOLE_COMMANDS_H

#include "proto/cli.h"

#define KF_CONSOLE_PROGRAM "kefu-console"

#endif
