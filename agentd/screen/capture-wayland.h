/* kefu-agentd: Wayland capture (ScreenCast portal, PipeWire). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_CAPTURE_WAYLAND_H
#define KF_AGENTD_CAPTURE_WAYLAND_H

#include "agentd/screen/capture.h"

#include <stddef.h>

/*
 * Opens a screen cast of one monitor through xdg-desktop-portal: a
 * RemoteDesktop session with a ScreenCast source when the desktop's portal
 * offers RemoteDesktop (input then works), a ScreenCast session alone
 * otherwise (view only). The portal shows its own dialog, in which the
 * customer picks the monitor and accepts; this call waits for that answer.
 * Frames come from PipeWire in shared memory (BGRx, RGBx, BGRA or RGBA),
 * changes from SPA_META_VideoDamage refined by tile comparison, the cursor
 * from SPA_META_Cursor. A ScreenCast restore token (persist mode "transient")
 * goes to and comes from options->restore_token, whose owner forgets it when
 * the kefu session ends. The caller owns *out.
 */
int kf_capture_wayland_open(const struct kf_capture_options *options, struct kf_capture **out,
			    struct kf_error *err);

/*
 * Says, without opening a session (so without any dialog), what this desktop
 * offers: the desktop's name, the portal interfaces and their versions, and
 * whether view and control can work. Fills text with several lines; fails with
 * KF_ERR_UNSUPPORTED and a message when sharing cannot work at all.
 */
int kf_capture_wayland_check(char *text, size_t size, struct kf_error *err);

#endif
