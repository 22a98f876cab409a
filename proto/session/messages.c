/* kefu: the message table: every control message type, who sends it, the grant it needs and its limits. SPDX-License-Identifier: MIT */
#include "proto/session/messages.h"
#include "proto/session/message.h"

#include <string.h>

static const char *const capability_names[KF_CAP_COUNT] = {
	[KF_CAP_VIEW] = "view",         [KF_CAP_CONTROL] = "control",
	[KF_CAP_DIAGNOSE] = "diagnose", [KF_CAP_REPAIR] = "repair",
	[KF_CAP_FIRMWARE] = "firmware", [KF_CAP_FILES] = "files",
	[KF_CAP_HISTORY] = "history",
};

const char *kf_capability_name(enum kf_capability capability)
{
	if (capability == KF_CAP_NONE)
		return "none";
	return capability >= 0 && capability < KF_CAP_COUNT ? capability_names[capability]
							    : "unknown";
}

int kf_capability_parse(const char *name, enum kf_capability *capability)
{
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		if (strcmp(name, capability_names[i]) == 0) {
			*capability = (enum kf_capability)i;
			return KF_OK;
		}
	}
	return KF_ERR_INVALID;
}

/* A body that fits one control frame, with the envelope's limits. */
#define SMALL KF_MSG_MAX_SIZE, KF_MSG_MAX_VALUES, KF_MSG_MAX_STRING
#define MIB   (1024 * 1024)

/*
 * Large bodies and why they are as large as they are:
 * - diag.report: a desktop with 150 modules makes about 30 KB, one with 400
 *   modules, 40 PCI devices and a long kernel log about 150 KB of compact JSON;
 *   3000 modules and 400 PCI devices pass 1 MB. 16 MiB leaves room for the
 *   largest machines a technician meets.
 * - plugins.list: up to a few hundred installed plugins of 16 checks each.
 * - plugin.result: 16 checks, each step's output capped at 256 KiB
 *   (KF_PLUGIN_STEP_OUTPUT_CAP), so one string holds one step's whole output.
 * - firmware.devices: the lines of `firmware list --json` for every device.
 * - history.journal: years of sessions, scans and changes, one short line each.
 */
static const struct kf_msg_row rows[KF_MSG_TYPE_COUNT] = {
	{KF_MSG_HELLO, "hello", KF_PARTY_BOTH, KF_CAP_NONE, SMALL,
	 "each side's version, software and capabilities"},
	{KF_MSG_PING, "ping", KF_PARTY_BOTH, KF_CAP_NONE, SMALL, "liveness and round-trip time"},
	{KF_MSG_PONG, "pong", KF_PARTY_BOTH, KF_CAP_NONE, SMALL, "the answer to ping"},
	{KF_MSG_CHAT, "chat", KF_PARTY_BOTH, KF_CAP_NONE, SMALL,
	 "a line of text between customer and technician"},
	{KF_MSG_END, "end", KF_PARTY_BOTH, KF_CAP_NONE, SMALL,
	 "an orderly end of the session, with a reason"},
	{KF_MSG_ERROR, "error", KF_PARTY_BOTH, KF_CAP_NONE, SMALL,
	 "the answer to a message that could not be handled"},
	{KF_MSG_PART, "part", KF_PARTY_BOTH, KF_CAP_NONE, SMALL,
	 "one piece of a large body (assembled by the control channel)"},
	{KF_MSG_PROOF_SHARE, "proof.share", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "the agent's SPAKE2 share"},
	{KF_MSG_PROOF_REPLY, "proof.reply", KF_PARTY_CONSOLE, KF_CAP_NONE, SMALL,
	 "the console's share and confirmation"},
	{KF_MSG_PROOF_CONFIRM, "proof.confirm", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "the agent's confirmation"},
	{KF_MSG_CONSENT_REQUEST, "consent.request", KF_PARTY_CONSOLE, KF_CAP_NONE, SMALL,
	 "asks the customer for a capability"},
	{KF_MSG_CONSENT_ANSWER, "consent.answer", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "granted or denied, and by whom"},
	{KF_MSG_CONSENT_REVOKED, "consent.revoked", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "a grant ended"},
	{KF_MSG_CONSENT_RELEASE, "consent.release", KF_PARTY_CONSOLE, KF_CAP_NONE, SMALL,
	 "the technician gives a grant back"},
	{KF_MSG_DIAG_REQUEST, "diag.request", KF_PARTY_CONSOLE, KF_CAP_DIAGNOSE, SMALL,
	 "asks for the diagnostics report"},
	{KF_MSG_DIAG_REPORT, "diag.report", KF_PARTY_AGENT, KF_CAP_NONE, 16 * MIB, 1024 * 1024,
	 1 * MIB, "the diagnostics report"},
	{KF_MSG_PLUGINS_REQUEST, "plugins.request", KF_PARTY_CONSOLE, KF_CAP_DIAGNOSE, SMALL,
	 "asks which plugins apply"},
	{KF_MSG_PLUGINS_LIST, "plugins.list", KF_PARTY_AGENT, KF_CAP_NONE, 4 * MIB, 256 * 1024,
	 KF_MSG_MAX_STRING, "the applicable plugins and the customer's last scan"},
	{KF_MSG_PLUGIN_RUN, "plugin.run", KF_PARTY_CONSOLE, KF_CAP_DIAGNOSE, SMALL,
	 "runs a plugin's detect steps"},
	{KF_MSG_PLUGIN_REPAIR, "plugin.repair", KF_PARTY_CONSOLE, KF_CAP_REPAIR, SMALL,
	 "detect, then repair and verify what is broken"},
	{KF_MSG_PLUGIN_STARTED, "plugin.started", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "a plugin run began"},
	{KF_MSG_PLUGIN_RESULT, "plugin.result", KF_PARTY_AGENT, KF_CAP_NONE, 16 * MIB, 256 * 1024,
	 512 * 1024, "each check's state and steps"},
	{KF_MSG_FIRMWARE_LIST, "firmware.list", KF_PARTY_CONSOLE, KF_CAP_FIRMWARE, SMALL,
	 "asks which devices kefu can update"},
	{KF_MSG_FIRMWARE_DEVICES, "firmware.devices", KF_PARTY_AGENT, KF_CAP_NONE, 1 * MIB,
	 64 * 1024, KF_MSG_MAX_STRING, "what `kefu-agentd firmware list --json` printed"},
	{KF_MSG_FIRMWARE_PROGRESS, "firmware.progress", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "a phase, a percent, or a line of an update"},
	{KF_MSG_FIRMWARE_RESULT, "firmware.result", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "an update's end: ok and the command's exit code"},
	{KF_MSG_DRIVERS_REQUEST, "drivers.request", KF_PARTY_CONSOLE, KF_CAP_DIAGNOSE, SMALL,
	 "asks for each device's driver and the packages that would give one"},
	{KF_MSG_DRIVERS_LIST, "drivers.list", KF_PARTY_AGENT, KF_CAP_NONE, 4 * MIB, 256 * 1024,
	 KF_MSG_MAX_STRING, "what `kefu-agentd drivers --json` finds"},
	{KF_MSG_DRIVERS_CHANGE, "drivers.change", KF_PARTY_CONSOLE, KF_CAP_REPAIR, SMALL,
	 "installs or upgrades driver packages the listing offers"},
	{KF_MSG_DRIVERS_PROGRESS, "drivers.progress", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "a line of apt-get's output"},
	{KF_MSG_DRIVERS_RESULT, "drivers.result", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "a change's end: ok, the command's exit code and its summary"},
	{KF_MSG_HISTORY_REQUEST, "history.request", KF_PARTY_CONSOLE, KF_CAP_HISTORY, SMALL,
	 "asks for the customer's support ID and support journal"},
	{KF_MSG_HISTORY_JOURNAL, "history.journal", KF_PARTY_AGENT, KF_CAP_NONE, 1 * MIB, 64 * 1024,
	 KF_MSG_MAX_STRING, "the support ID, the journal's digest and its entries"},
	{KF_MSG_FIRMWARE_LATEST, "firmware.latest", KF_PARTY_CONSOLE, KF_CAP_FIRMWARE, SMALL,
	 "installs the newest update the signed metadata lists for a device"},
	{KF_MSG_SCREEN_ENDED, "screen.ended", KF_PARTY_AGENT, KF_CAP_NONE, SMALL,
	 "the customer's desktop ended the screen share, with why"},
};

const struct kf_msg_row *kf_msg_row_find(const char *name)
{
	for (size_t i = 0; i < KF_MSG_TYPE_COUNT; i++)
		if (strcmp(name, rows[i].name) == 0)
			return &rows[i];
	return NULL;
}

const struct kf_msg_row *kf_msg_row_of(enum kf_msg_type type)
{
	return type < KF_MSG_TYPE_COUNT ? &rows[type] : NULL;
}

int kf_msg_row_is_large(const struct kf_msg_row *row)
{
	return row->max_body > KF_MSG_MAX_SIZE;
}

int kf_msg_type_is_known(const char *type)
{
	return kf_msg_row_find(type) != NULL;
}

void kf_msg_handlers_set(struct kf_msg_handlers *table, enum kf_msg_type type,
			 kf_msg_handler_fn *handler)
{
	if (type < KF_MSG_TYPE_COUNT)
		table->handlers[type] = handler;
}

int kf_msg_dispatch(const struct kf_msg_handlers *table, void *user, const struct kf_msg *msg,
		    struct kf_error *err)
{
	kf_msg_handler_fn *handler = msg->row != NULL ? table->handlers[msg->row->type] : NULL;

	if (handler == NULL)
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "no handler for '%s' here", msg->type);
	handler(user, msg);
	return KF_OK;
}
