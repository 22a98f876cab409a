/* kefu-agentd watch: the daily timer, turned on and off through the systemd user manager.
 * SPDX-License-Identifier: MIT */
#include "agentd/watch/schedule.h"
#include "agentd/commands.h"
#include "proto/base/cli.h"

#include <gio/gio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * systemctl needs this session's XDG_RUNTIME_DIR and bus to reach the user
 * manager, so it runs with the caller's environment. KEFU_SYSTEMCTL names
 * another program in its place (a test seam).
 */
static int systemctl(const char *const *args, char **output)
{
	const char *program = getenv("KEFU_SYSTEMCTL");
	const char *argv[16];
	gchar *out = NULL;
	GError *error = NULL;
	gint status = -1;
	size_t n = 0;

	argv[n++] = program != NULL && program[0] ? program : "systemctl";
	argv[n++] = "--user";
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (output != NULL)
		*output = NULL;
	if (!g_spawn_sync(NULL, (gchar **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
			  &status, &error)) {
		g_error_free(error);
		return -1;
	}
	if (output != NULL)
		*output = g_strstrip(out);
	else
		g_free(out);
	return g_spawn_check_wait_status(status, NULL) ? 0 : 1;
}

/* Whether a systemd user manager answers for this account. */
static bool has_user_manager(void)
{
	const char *const args[] = {"show-environment", NULL};

	return systemctl(args, NULL) == 0;
}

static int no_user_manager(const char *what)
{
	const char *user = g_get_user_name();

	return kf_cli_fail(KF_AGENTD_PROGRAM,
			   "no systemd user manager runs for this account, so the daily check "
			   "was not %s; log in to a desktop session and run this again, or ask "
			   "an administrator to run: loginctl enable-linger %s",
			   what, user != NULL ? user : "USER");
}

int kf_watch_schedule_enable(void)
{
	const char *const args[] = {"enable", "--now", KF_WATCH_TIMER, NULL};

	if (!has_user_manager())
		return no_user_manager("turned on");
	if (systemctl(args, NULL) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "systemctl --user enable --now %s failed: is kefu's timer "
				   "installed (systemctl --user cat %s)?",
				   KF_WATCH_TIMER, KF_WATCH_TIMER);
	printf("The daily check is on: kefu looks for trouble once a day and tells you before "
	       "something fails.\n");
	return KF_EXIT_OK;
}

int kf_watch_schedule_disable(void)
{
	const char *const args[] = {"disable", "--now", KF_WATCH_TIMER, NULL};

	if (!has_user_manager())
		return no_user_manager("turned off");
	if (systemctl(args, NULL) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "systemctl --user disable --now %s failed",
				   KF_WATCH_TIMER);
	printf("The daily check is off.\n");
	return KF_EXIT_OK;
}

int kf_watch_schedule_status(void)
{
	const char *const enabled_args[] = {"is-enabled", KF_WATCH_TIMER, NULL};
	const char *const next_args[] = {"show", "--property=NextElapseUSecRealtime", "--value",
					 KF_WATCH_TIMER, NULL};
	char *enabled = NULL, *next = NULL;

	if (!has_user_manager()) {
		printf("The daily check cannot run: no systemd user manager runs for this "
		       "account.\n");
		return KF_EXIT_FAILURE;
	}
	systemctl(enabled_args, &enabled);
	if (enabled != NULL && strcmp(enabled, "enabled") == 0) {
		systemctl(next_args, &next);
		printf("The daily check is on%s%s.\n", next && next[0] ? "; next run: " : "",
		       next && next[0] ? next : "");
	} else {
		printf("The daily check is off (%s). Turn it on with: kefu-agentd watch "
		       "--enable\n",
		       enabled && enabled[0] ? enabled : "not installed");
	}
	g_free(enabled);
	g_free(next);
	return KF_EXIT_OK;
}
