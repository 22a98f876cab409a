/* kefu-helper: what the customer's window's files share. SPDX-License-Identifier: MIT */
#ifndef KF_WINDOW_H
#define KF_WINDOW_H

#include "agentd/session/share.h"
#include "agentd/ui.h"

#include <gtk/gtk.h>
#include <uv.h>

/* loop-source.c: libuv's loop inside GLib's, by its backend fd: no polling, no thread. */
GSource *kf_window_uv_source_new(uv_loop_t *loop);

/* Sets the name assistive technologies (and the tests) find a widget by. */
void kf_window_name(GtkWidget *widget, const char *name);

/* sharing.c: what shows, on every screen edge, that the screen is being watched. */
struct kf_sharing;

/* on_stop runs when the customer presses "Stop sharing" on the bar or the notification. */
struct kf_sharing *kf_sharing_new(void (*on_stop)(void *user), void *user);
/* Frames the shared monitor (XRandR's number), or every monitor when monitor is -1. */
void kf_sharing_show(struct kf_sharing *sharing, const char *technician, int monitor);
void kf_sharing_hide(struct kf_sharing *sharing);
void kf_sharing_free(struct kf_sharing *sharing);

/* window.c: the session window, the GTK implementation of agentd/ui.h. */
struct kf_window;

extern const struct kf_ui_ops kf_window_ops;

/* case_number: the link's (or NULL). The window is shown at once. */
struct kf_window *kf_window_new(uv_loop_t *loop, const char *case_number);
void kf_window_attach(struct kf_window *window, struct share *share);
/* Shows an error the helper cannot get past, with a Close button. */
void kf_window_show_failure(struct kf_window *window, const char *text);
void kf_window_free(struct kf_window *window);

/* The helper's look (large type, the cards, the colours) for every window it opens. */
void kf_window_style(void);
/*
 * The organisation's logo (when the profile has one) and name in large type, for the
 * top of a window; profile NULL: the helper's own name.
 */
GtkWidget *kf_window_brand_new(const struct kf_profile *profile);

/*
 * fix.c: "Repair: ...? Allow / Deny", then kefu-agentd scan --fix --yes --only CHECK_ID,
 * under the organisation's name from the support profile (profile_path NULL: the
 * installed one; none found: the helper's own name).
 */
int kf_window_fix(const char *check_id, const char *agentd_path, const char *profile_path);

/*
 * fix.c: "Install the newest firmware on the device DEVICE? Allow / Deny", then
 * kefu-agentd firmware apply --latest DEVICE --yes, which makes every check, and its result.
 */
int kf_window_fix_firmware(const char *device, const char *agentd_path, const char *profile_path);

/* A --firmware device: 1 to 64 of letters, digits, '.', '_' and '-', not starting with '-' or '.'.
 */
bool kf_window_firmware_device_is_valid(const char *device);

/* A --fix name: a check's id, or PLUGIN/CHECK as the daily check gives it. */
bool kf_window_fix_name_is_valid(const char *name);
/* Whether name names the check check_id of the plugin plugin_id. */
bool kf_window_fix_names(const char *name, const char *plugin_id, const char *check_id);

#endif
