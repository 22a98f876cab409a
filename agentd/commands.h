/* kefu-agentd: the commands of the customer's helper, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_COMMANDS_H
#define KF_AGENTD_COMMANDS_H

#include "proto/cli.h"

#define KF_AGENTD_PROGRAM "kefu-agentd"

/* Each command's table row lives next to its code; main.c lists them. */
/* scan: runs the applicable diagnostic plugins, repairs with consent (--fix). */
int kf_agentd_cmd_scan(int argc, char **argv);

/* diag.c: device and driver diagnostics. */
#define KF_AGENTD_DIAG_USAGE                                                                       \
	"[--root DIR] [--json] [--output FILE] [--bundle FILE [--no-redact] [--map FILE]] "        \
	"[--resolve NAME] [--ids-dir DIR] [--timeout MS]"
#define KF_AGENTD_DIAG_SUMMARY "device and driver diagnostics: report, summary, redacted bundle"
int kf_agentd_cmd_diag(int argc, char **argv);

#endif
