/* kefu-console join: the customer's screen, on a loopback port for a local viewer. SPDX-License-Identifier: MIT */
#include "console/screen/rfb-rewrite.h"
#include "console/session/join-private.h"

#include <string.h>

/* The view asks for a new stream to the customer's screen. */
static int open_screen_stream(void *user, struct kf_stream **out, struct kf_error *err)
{
	return join_open_side_stream(user, "screen", out, err);
}

static void view_event(const char *line, void *user)
{
	struct join *join = user;
	json_t *fields = json_pack("{s:s}", "detail", line);

	join_report(join, "view-event", fields, "Screen: %s", line);
	json_decref(fields);
}

void join_cmd_view(struct join *join, char *args)
{
	const char *options_text = args;
	struct kf_view_options options = {
		.open_stream = open_screen_stream,
		.user = join,
		.is_viewer_started = strstr(options_text, "--no-viewer") == NULL,
		.is_web = strstr(options_text, "--web") != NULL,
		.on_event = view_event,
	};
	struct kf_error err;
	json_t *fields;
	const char *quality = strstr(options_text, "--quality");

	if (quality != NULL) {
		char value[16] = "";
		/* "--quality X" or "--quality=X" */
		sscanf(quality + strlen("--quality"), "%*[ =]%15[^ ]", value);
		if (kf_view_quality_parse(value, &options.quality) != 0) {
			join_report(join, "error", NULL,
				    "view --quality takes auto, lossless or a JPEG level 0-9");
			return;
		}
	}
	if (strcmp(options_text, "stop") == 0) {
		kf_view_free(join->view);
		join->view = NULL;
		join_report(join, "view-stopped", NULL, "The screen view is closed.");
		return;
	}
	if (join->view != NULL) {
		join_report(join, "error", NULL, "The screen is already at %s",
			    kf_view_address(join->view));
		return;
	}
	if (kf_view_new(join->loop, &options, &join->view, &err) != KF_OK) {
		join_report(join, "error", NULL, "Could not show the screen: %s", err.message);
		return;
	}
	fields = json_pack("{s:s, s:s, s:s, s:s?}", "address", kf_view_address(join->view),
			   "password", kf_view_password(join->view), "password_file",
			   kf_view_password_file(join->view), "url", kf_view_url(join->view));
	join_report(join, "view", fields,
		    "The customer's screen (needs 'view') is at %s, password %s (file %s)%s%s",
		    kf_view_address(join->view), kf_view_password(join->view),
		    kf_view_password_file(join->view), kf_view_url(join->view) ? "; browser: " : "",
		    kf_view_url(join->view) ? kf_view_url(join->view) : "");
	json_decref(fields);
}
