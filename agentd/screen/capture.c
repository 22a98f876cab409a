/* kefu-agentd: picks the capture backend, or says why none. SPDX-License-Identifier: MIT */
#include "agentd/screen/capture.h"
#include "agentd/screen/capture-x11.h"

#include <stdlib.h>
#include <string.h>

static int is_wayland_session(void)
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
	 * only X11 windows on black: sharing it would look like a broken screen.
	 */
	if (is_wayland_session() && options->display == NULL)
		return kf_error_set(
			err, KF_ERR_UNSUPPORTED,
			"this is a Wayland session: screen sharing supports X11 desktops "
			"only for now (log in with an X11 session to share the screen); "
			"diagnostics and repairs work as usual");
	const char *display = options->display ? options->display : getenv("DISPLAY");
	if (display == NULL || *display == '\0')
		return kf_error_set(
			err, KF_ERR_UNSUPPORTED,
			"no graphical desktop (DISPLAY is not set): screen sharing needs "
			"an X11 session; diagnostics and repairs work as usual");
	return kf_capture_x11_open(options, out, err);
}
