/* kefu-agentd watch: alerts shown on the desktop (freedesktop Notifications, GDBus).
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_WATCH_NOTIFY_H
#define KF_AGENTD_WATCH_NOTIFY_H

#include "agentd/watch/run.h"

#include <jansson.h>

struct kf_watch_notify_options {
	/*
	 * The command "Fix now" runs, split like a shell would, with the alert's
	 * check ("PLUGIN/CHECK") added as its last word; NULL: no "Fix now".
	 */
	const char *fix_command;
	/*
	 * The command "Fix now" runs for a firmware alert, split like a shell would, with
	 * the alert's device added as its last word; NULL: no "Fix now" for them.
	 */
	const char *firmware_command;
	/* The command "Get help" runs, split like a shell would; NULL: no "Get help". */
	const char *help_command;
	int wait_ms; /* how long the answers are waited for, at most */
};

/*
 * Shows each new finding of run as a desktop notification on the session bus
 * (org.freedesktop.Notifications) with the actions "Fix now" (when it has a
 * check and a fix command, or a firmware device and a firmware command),
 * "Get help" (when there is a help command) and
 * "Not now", then waits until each is answered or closed, or wait_ms ran out,
 * running the command of each action taken. Returns what happened to each:
 * [{rule, shown, answer: "fix"|"help"|"later"|"closed"|"none", ran: [argv]}]
 * (new reference); notes say what could not be shown.
 */
json_t *kf_watch_notify(struct kf_watch_run *run, const struct kf_watch_notify_options *options);

#endif
