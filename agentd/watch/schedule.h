/* kefu-agentd watch: the daily timer, turned on and off through the systemd user manager.
 * SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_WATCH_SCHEDULE_H
#define KF_AGENTD_WATCH_SCHEDULE_H

#define KF_WATCH_TIMER       "kefu-watch.timer"
#define KF_WATCH_SMART_TIMER "kefu-watch-smart.timer"

/* `watch --enable`, `--disable`, `--status`: each returns the command's exit code. */
int kf_watch_schedule_enable(void);
int kf_watch_schedule_disable(void);
int kf_watch_schedule_status(void);

#endif
