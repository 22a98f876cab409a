/* kefu-agentd: picks the capture backend, or says why none. SPDX-License-Identifier: MIT */
#include "agentd/screen/capture.h"
#include "agentd/screen/capture-wayland.h"
#include "agentd/screen/capture-x11.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int kf_capture_cancel_init(struct kf_capture_cancel *cancel, struct kf_error *err)
{
	cancel->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cancel->fd < 0)
		return kf_error_set(err, KF_ERR_IO, "eventfd: %s", strerror(errno));
	return KF_OK;
}

void kf_capture_cancel_fire(struct kf_capture_cancel *cancel)
{
	uint64_t one = 1;
	ssize_t n = write(cancel->fd, &one, sizeof(one));
	(void)n; /* a counter already set is fired just the same */
}

int kf_capture_cancel_is_fired(const struct kf_capture_cancel *cancel)
{
	/* Nobody reads the counter, so once fired it stays readable. */
	struct pollfd fd = {.fd = cancel->fd, .events = POLLIN};
	return poll(&fd, 1, 0) > 0;
}

void kf_capture_cancel_destroy(struct kf_capture_cancel *cancel)
{
	if (cancel->fd >= 0)
		close(cancel->fd);
	cancel->fd = -1;
}

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
