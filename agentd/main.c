/* kefu-agentd: the customer's helper; entry point and command table. SPDX-License-Identifier: MIT */
#include "agentd/commands.h"
#include "agentd/plugins/elevate.h"

#include <stddef.h>

static const struct kf_command commands[] = {
	{"diag", KF_AGENTD_DIAG_USAGE, KF_AGENTD_DIAG_SUMMARY, kf_agent_cmd_diag},
	{"share", KF_AGENTD_SHARE_USAGE, KF_AGENTD_SHARE_SUMMARY, kf_agent_cmd_share},
	{"audit", KF_AGENTD_AUDIT_USAGE, KF_AGENTD_AUDIT_SUMMARY, kf_agent_cmd_audit},
	{"firmware", KF_AGENTD_FIRMWARE_USAGE, KF_AGENTD_FIRMWARE_SUMMARY, kf_agent_cmd_firmware},
	{"screen-check", "[--display D] [--monitor N]",
	 "say whether this desktop can be shared, and how", kf_agent_cmd_screen_check},
	{"scan", KF_AGENTD_SCAN_USAGE,
	 "find problems with the diagnostic plugins and offer their fixes", kf_agent_cmd_scan},
	{"plugins", KF_AGENTD_PLUGINS_USAGE, KF_AGENTD_PLUGINS_SUMMARY, kf_agent_cmd_plugins},
	{"drivers", KF_AGENTD_DRIVERS_USAGE, KF_AGENTD_DRIVERS_SUMMARY, kf_agent_cmd_drivers},
	{"watch", KF_AGENTD_WATCH_USAGE, KF_AGENTD_WATCH_SUMMARY, kf_agent_cmd_watch},
	{"support-id", KF_AGENTD_SUPPORT_ID_USAGE, KF_AGENTD_SUPPORT_ID_SUMMARY,
	 kf_agent_cmd_support_id},
	{"journal", KF_AGENTD_JOURNAL_USAGE, KF_AGENTD_JOURNAL_SUMMARY, kf_agent_cmd_journal},
	/* run by scan --fix through pkexec: one root step of a plugin it checks itself */
	{KF_AGENTD_PLUGIN_STEP_COMMAND, KF_AGENTD_PLUGIN_STEP_USAGE, NULL,
	 kf_agent_cmd_plugin_step},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kf_cli_dispatch(
		KF_AGENTD_PROGRAM,
		"consented remote assistance and self-service repair for this computer", commands,
		argc, argv);
}
