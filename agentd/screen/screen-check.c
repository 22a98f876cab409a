/* kefu-agentd screen-check: can this desktop be shared, and how. SPDX-License-Identifier: MIT */
#include "agentd/screen/capture.h"
#include "agentd/screen/capture-wayland.h"
#include "agentd/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct kf_command screen_check_command = {
	"screen-check", "[--display D] [--monitor N]",
	"say whether this desktop can be shared, and how", kf_agent_cmd_screen_check};

int kf_agent_cmd_screen_check(int argc, char **argv)
{
	struct kf_capture_options options = {.monitor = -1};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--display") == 0 && i + 1 < argc) {
			options.display = argv[++i];
		} else if (strcmp(argv[i], "--monitor") == 0 && i + 1 < argc) {
			char *end;
			long monitor = strtol(argv[++i], &end, 10);
			if (*end != '\0' || monitor < 0 || monitor > 63)
				return kf_cli_usage(KF_AGENTD_PROGRAM, &screen_check_command);
			options.monitor = (int)monitor;
		} else {
			return kf_cli_usage(KF_AGENTD_PROGRAM, &screen_check_command);
		}
	}
	struct kf_capture *capture;
	struct kf_error err;
	kf_error_clear(&err);
	if (kf_capture_is_wayland() && options.display == NULL) {
		/* Asking the portal's versions opens no session, so no dialog appears. */
		char text[2048];
		if (kf_capture_wayland_check(text, sizeof(text), &err) != 0)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "screen sharing is not available: %s",
					   err.message);
		printf("screen sharing is available: %s\n", text);
		if (options.monitor >= 0)
			printf("--monitor %d is ignored on Wayland: the customer picks the monitor "
			       "in the desktop's own sharing dialog\n",
			       options.monitor);
		return KF_EXIT_OK;
	}
	if (kf_capture_open(&options, &capture, &err) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "screen sharing is not available: %s",
				   err.message);
	printf("screen sharing is available: %s\n", capture->ops->describe(capture));
	capture->ops->free(capture);
	return KF_EXIT_OK;
}
