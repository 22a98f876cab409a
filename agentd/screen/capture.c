/* kefu-agentd: picks the capture backend, or says why none. SPDX-License-Identifier: MIT */
#include "agentd/screen/capture.h"
#include "agentd/screen/capture-wayland.h"
#include "agentd/screen/capture-x11.h"

#include <stdlib.h>
#include <string.h>

int kf_capture_is_wayland(void)
{
	const char *type = getenv("XDG_SESSION_TYPE");
	const char *wayland = getenv("WAYLAND_DISPLAY");
	return (type != NULL && strcmp(type, "wayland") == 0) || (wayland != NULL && *wayland);
}

int kf_capture_open(const struct kf_capture_options *options, struct kf_capture **out,
		    struct kf_error *err)
{
	*out = NULL;
	/*
	 * Under Wayland, DISPLAY usually names Xwayland, whose root window shows
	 * only X11 windows on black: the desktop is shared through its portal.
	 */
	if (kf_capture_is_wayland() && options->display == NULL)
		return kf_capture_wayland_open(options, out, err);
	const char *display = options->display ? options->display : getenv("DISPLAY");
	if (display == NULL || *display == '\0')
		return kf_error_set(
			err, KF_ERR_UNSUPPORTED,
			"no graphical desktop (neither WAYLAND_DISPLAY nor DISPLAY is set): "
			"screen sharing needs an X11 or Wayland session; diagnostics and "
			"repairs work as usual");
	return kf_capture_x11_open(options, out, err);
}
