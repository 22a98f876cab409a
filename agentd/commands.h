/* kefu-agentd: the commands of the customer's helper, one per file. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_COMMANDS_H
#define KF_AGENTD_COMMANDS_H

#include "proto/base/cli.h"

#define KF_AGENTD_PROGRAM "kefu-agentd"

/* Each command's table row lives next to its code; main.c lists them. */
/* scan: runs the applicable diagnostic plugins, repairs with consent (--fix). */
int kf_agent_cmd_scan(int argc, char **argv);

/* diag.c: device and driver diagnostics. */
#define KF_AGENTD_DIAG_USAGE                                                                       \
	"[--root DIR] [--json] [--output FILE] [--bundle FILE [--no-redact] [--map FILE]] "        \
	"[--resolve NAME] [--ids-dir DIR] [--timeout MS]"
#define KF_AGENTD_DIAG_SUMMARY "device and driver diagnostics: report, summary, redacted bundle"
int kf_agent_cmd_diag(int argc, char **argv);

/* share.c: a support session with a technician through the relay. */
#define KF_AGENTD_SHARE_USAGE                                                                      \
	"[--profile FILE] [--relay N] [--code-minutes N] [--policy FILE] [--consent-timeout S] "   \
	"[--plugins DIR]... [--root DIR] [--firmware-devices DIR] [--monitor N]"
#define KF_AGENTD_SHARE_SUMMARY "let a technician help: show a code, then chat and share"
int kf_agent_cmd_share(int argc, char **argv);

/* audit-show.c: the audit log in words or JSON lines. */
#define KF_AGENTD_AUDIT_USAGE   "[--json] [--session ID] [--file PATH]"
#define KF_AGENTD_AUDIT_SUMMARY "show what every support session asked for and did"
int kf_agent_cmd_audit(int argc, char **argv);

/* plugins.c: signed plugin packages. */
#define KF_AGENTD_PLUGINS_USAGE                                                                    \
	"install [--profile FILE] [--dir DIR] [--downgrade] [--replace] FILE.kefupkg | "           \
	"list [--dir DIR] [--profile FILE] [--json]"
#define KF_AGENTD_PLUGINS_SUMMARY "install signed plugin packages from trusted publishers"
int kf_agent_cmd_plugins(int argc, char **argv);

/* firmware.c: LVFS firmware cabinets onto devices, with preflight checks and consent. */
#define KF_AGENTD_FIRMWARE_USAGE                                                                   \
	"list|check FILE|apply FILE|apply --latest DEVICE|updates|hwids|history "                  \
	"[--metadata FILE|URL] "                                                                   \
	"[--download-timeout S] "                                                                  \
	"[--device ID] [--reinstall] [--downgrade] [--yes] "                                       \
	"[--json] [--profile FILE] [--devices DIR] [--root DIR] [--history-file FILE] [--fwupd] "  \
	"[--ssh USER@HOST[:PORT] [--host-key-fingerprint SHA256:...] [--password-stdin | "         \
	"--identity KEY] [--restart-timeout S]] [--progress-json]"
#define KF_AGENTD_FIRMWARE_SUMMARY                                                                 \
	"list devices, check and install LVFS or kefu firmware (local or over SSH), show history"
int kf_agent_cmd_firmware(int argc, char **argv);

/* drivers/drivers.c: each device's driver and package; driver packages installed with consent. */
#define KF_AGENTD_DRIVERS_USAGE                                                                    \
	"[list] [--root DIR] [--json] | install PKG... | upgrade [PKG...] [--yes] "                \
	"[--backend packagekit|apt] [--apt-config FILE] [--timeout S]"
#define KF_AGENTD_DRIVERS_SUMMARY                                                                  \
	"each device's driver and package; install or upgrade driver packages it needs"
int kf_agent_cmd_drivers(int argc, char **argv);

/* journal/command.c: the support ID and the support journal, as the customer sees them. */
#define KF_AGENTD_SUPPORT_ID_USAGE   "[--reset]"
#define KF_AGENTD_SUPPORT_ID_SUMMARY "the ID that lets the support team find your earlier cases"
int kf_agent_cmd_support_id(int argc, char **argv);
#define KF_AGENTD_JOURNAL_USAGE   "[--json] [--shared SESSION] [--file AUDIT-LOG]"
#define KF_AGENTD_JOURNAL_SUMMARY "your support journal, and what a session was shown of it"
int kf_agent_cmd_journal(int argc, char **argv);

/* scan.c: the diagnostic plugins, self-service. */
#define KF_AGENTD_SCAN_USAGE                                                                       \
	"[--root DIR] [--report FILE] [--plugins DIR]... [--packages DIR] [--profile FILE] "       \
	"[--jobs N] [--only ID[,ID]] [--fix] [--yes] [--json] | --undo [ID] [--root DIR]"

/* watch/watch.c: health measurements and detect-only checks with alerts, for a daily timer. */
#define KF_AGENTD_WATCH_USAGE                                                                      \
	"[--root DIR] [--state DIR] [--now EPOCH] [--json] [--no-notify] [--notify-wait S] "       \
	"[--fix-command CMD] [--firmware-command CMD] [--help-command CMD] [--profile FILE] "      \
	"[--plugins DIR]... "                                                                      \
	"[--metadata FILE] [--devices DIR] "                                                       \
	"[--no-checks] [--smart-file FILE] [--timeout MS] | --last [--json] | --enable | "         \
	"--disable | --status | --smart-only --output FILE"                                        \
	" | --enable|--disable --all-users [--root DIR]"
#define KF_AGENTD_WATCH_SUMMARY "warn before something fails: disks, space, battery, errors"
int kf_agent_cmd_watch(int argc, char **argv);

/* screen-check.c: whether and how the desktop can be shared. */
int kf_agent_cmd_screen_check(int argc, char **argv);

#endif
