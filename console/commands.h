/* kefu-console: the commands of the technician's tool, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_COMMANDS_H
#define KF_CONSOLE_COMMANDS_H

#include "proto/base/cli.h"

#define KF_CONSOLE_PROGRAM "kefu-console"

/* join.c: a session with a customer's computer, by the code the customer reads out. */
#define KF_CONSOLE_JOIN_USAGE                                                                      \
	"[--profile FILE] [--cert FILE] [--key FILE] [--ssh-key FILE] [--exec 'CMD; CMD'] "        \
	"[--json] CODE"
#define KF_CONSOLE_JOIN_SUMMARY "join a customer's session with the code they read to you"
int kf_console_cmd_join(int argc, char **argv);

/* cases.c: the case history. */
#define KF_CONSOLE_CASES_USAGE                                                                     \
	"[list | show N | search TEXT | customer SUPPORT-ID | note N TEXT | tag N TAG | "          \
	"status N open|waiting|solved | export N --markdown|--json] [--json] [--db LOCATION]"
#define KF_CONSOLE_CASES_SUMMARY "the team's cases: every session, its customer, notes and advice"
int kf_console_cmd_cases(int argc, char **argv);

/* ca.c: the support CA, technicians' credentials and the support profile. */
#define KF_CONSOLE_CA_USAGE                                                                        \
	"init --org NAME [--dir DIR] [--days N] | issue NAME [--dir DIR] [--days N] [--out DIR] "  \
	"| "                                                                                       \
	"profile --relay HOST[:PORT] --host-key 'ssh-ed25519 AAAA...' [--dir DIR] "                \
	"[--agent-user U] [--technician-user U] | "                                                \
	"package --name NAME --profile FILE [--helper KEFU-HELPER.deb] [--output DIR] "            \
	"[--maintainer 'NAME <EMAIL>'] [--watch on|off]"
#define KF_CONSOLE_CA_SUMMARY                                                                      \
	"make the support CA, technicians' credentials, the support profile, the customer package"
int kf_console_cmd_ca(int argc, char **argv);

#endif
