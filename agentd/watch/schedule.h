/* kefu-agentd watch: the daily timer, turned on and off through the systemd user manager,
 * for one account or, by the organisation's policy, for every account.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_WATCH_SCHEDULE_H
#define KF_AGENTD_WATCH_SCHEDULE_H

#include <stdbool.h>

#define KF_WATCH_TIMER       "kefu-watch.timer"
#define KF_WATCH_SMART_TIMER "kefu-watch-smart.timer"

struct kf_watch_schedule {
	/*
	 * --all-users: the organisation's switch, systemd's global enablement of the user
	 * timer (systemctl --global, links under /etc/systemd/user/), for every account.
	 */
	bool is_all_users;
	/* The system tree whose /etc/systemd/user is read or changed: "/" or --root DIR. */
	const char *root;
};

/* `watch --enable`, `--disable`, `--status`: each returns the command's exit code. */
int kf_watch_schedule_enable(const struct kf_watch_schedule *schedule);
int kf_watch_schedule_disable(const struct kf_watch_schedule *schedule);
int kf_watch_schedule_status(const struct kf_watch_schedule *schedule);

#endif
