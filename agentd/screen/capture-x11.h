/* kefu-agentd: X11 capture (XShm, XDamage, XFixes, XRandR, XTest). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_CAPTURE_X11_H
#define KF_AGENTD_CAPTURE_X11_H

#include "agentd/screen/capture.h"

/*
 * Opens the X display named by options->display (or $DISPLAY). Frames come
 * from XShm; changes from XDamage when the server has it, otherwise from
 * comparing 32x32 tiles of successive grabs (describe() says which). Pixel
 * format from the root visual's masks; cursor from XFixes; size changes from
 * XRandR; input through XTest; clipboard through the CLIPBOARD and PRIMARY
 * selections. The caller owns *out and frees it with ops->free.
 */
int kf_capture_x11_open(const struct kf_capture_options *options, struct kf_capture **out,
			struct kf_error *err);

#endif
