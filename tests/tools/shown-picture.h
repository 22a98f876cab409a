/* kefu test tools: the picture a Wayland client shows, shared as a file. SPDX-License-Identifier: MIT */
#ifndef KF_TESTS_SHOWN_PICTURE_H
#define KF_TESTS_SHOWN_PICTURE_H

#include <stdint.h>

/*
 * On X11 a benchmark reads the screen back from the X server; a Wayland
 * compositor gives no one its screen but through the same portal and PipeWire
 * that are measured. So the client that draws the workload (wl-draw workload)
 * keeps its picture in a file that the viewer (vnc-bench --picture FILE) maps:
 * a header, then at KF_SHOWN_PICTURE_OFFSET the pixels as cairo's RGB24
 * (one native-endian 0x00RRGGBB word a pixel, stride bytes a line).
 *
 * The picture is being drawn while the workload runs. SIGUSR1 asks the client
 * to pause: it stops drawing once its last frame has been handed to the
 * compositor and then sets state to KF_SHOWN_PICTURE_PAUSED, after which the
 * pixels are what the screen shows (or is about to). SIGUSR2 resumes it, and
 * state goes back to KF_SHOWN_PICTURE_RUNNING.
 */

#define KF_SHOWN_PICTURE_MAGIC   "kefupic1"
#define KF_SHOWN_PICTURE_OFFSET  4096
#define KF_SHOWN_PICTURE_RUNNING 0u
#define KF_SHOWN_PICTURE_PAUSED  1u

struct kf_shown_picture {
	char magic[8];
	uint32_t width, height, stride;
	uint32_t state;  /* written last, with release ordering */
	uint32_t frames; /* frames handed to the compositor so far */
	uint32_t marker; /* the key block's state: 0 black, 1 white */
	uint32_t inputs; /* key and button presses received so far */
};

#endif
