/* kefu-agentd: one plugin step that needs root, run for a user through pkexec.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_PLUGIN_ELEVATE_H
#define KF_AGENTD_PLUGIN_ELEVATE_H

#include "proto/plugin/step.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_AGENTD_PKEXEC "/usr/bin/pkexec"

/* The hidden command the elevated side runs: `plugin-step PLUGIN CHECK STEP`. */
#define KF_AGENTD_PLUGIN_STEP_COMMAND "plugin-step"
#define KF_AGENTD_PLUGIN_STEP_USAGE                                                                \
	"[--root DIR] [--report FILE] [--profile FILE] PLUGIN CHECK repair-N|verify"
int kf_agent_cmd_plugin_step(int argc, char **argv);

/* How an elevated step went, as the unprivileged side sees it. */
enum kf_elevate_outcome {
	KF_ELEVATE_RAN,          /* the step ran as root; the result is filled */
	KF_ELEVATE_UNAVAILABLE,  /* no pkexec on this system */
	KF_ELEVATE_NOT_APPROVED, /* pkexec: no administrator approved (or no agent could ask) */
	KF_ELEVATE_REFUSED,      /* the elevated side refused the plugin (its line is on stderr) */
	KF_ELEVATE_FAILED,       /* it could not be started, or answered nonsense */
};

/*
 * Asks pkexec to run step (repair-N or verify) of check in plugin as root,
 * through this same program's plugin-step command, and waits for it. Fills
 * *result when it returns KF_ELEVATE_RAN. Only for the live system (root "/"):
 * the elevated side looks the plugin up, checks it and makes its own report.
 */
enum kf_elevate_outcome kf_agent_elevate_step(const char *plugin, const char *check,
					      const char *step,
					      struct kf_plugin_step_result *result);

/* Whether this system has pkexec to ask with. */
bool kf_agent_elevate_available(void);

#endif
