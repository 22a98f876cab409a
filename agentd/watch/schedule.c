/* kefu-agentd watch: the daily timer, turned on and off through the systemd user manager,
 * for one account or, by the organisation's policy, for every account.
 * SPDX-License-Identifier: MIT */
#include "agentd/watch/schedule.h"
#include "agentd/commands.h"
#include "agentd/i18n.h"
#include "proto/base/cli.h"
#include "proto/base/escape.h"

#include <gio/gio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * systemctl needs this session's XDG_RUNTIME_DIR and bus to reach the user
 * manager, so it runs with the caller's environment. scope is "--user" (this
 * account's manager) or "--global" (the unit files every account's manager
 * reads, no manager needed); root other than "/" adds --root=DIR. KEFU_SYSTEMCTL
 * names another program in its place (a test seam).
 */
static int systemctl_in(const char *scope, const char *root, const char *const *args, char **output)
{
	const char *program = getenv("KEFU_SYSTEMCTL");
	const char *argv[16];
	gchar *out = NULL, *root_option = NULL;
	GError *error = NULL;
	gint status = -1;
	size_t n = 0;

	argv[n++] = program != NULL && program[0] ? program : "systemctl";
	argv[n++] = scope;
	if (root != NULL && strcmp(root, "/") != 0) {
		root_option = g_strdup_printf("--root=%s", root);
		argv[n++] = root_option;
	}
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (output != NULL)
		*output = NULL;
	if (!g_spawn_sync(NULL, (gchar **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
			  &status, &error)) {
		g_error_free(error);
		g_free(root_option);
		return -1;
	}
	g_free(root_option);
	if (output != NULL)
		*output = g_strstrip(out);
	else
		g_free(out);
	return g_spawn_check_wait_status(status, NULL) ? 0 : 1;
}

static int systemctl(const char *const *args, char **output)
{
	return systemctl_in("--user", NULL, args, output);
}

/* Whether a systemd user manager answers for this account. */
static bool has_user_manager(void)
{
	const char *const args[] = {"show-environment", NULL};

	return systemctl(args, NULL) == 0;
}

/* What `systemctl SCOPE is-enabled` says of the timer ("enabled", "masked", ...). */
static char *timer_state(const char *scope, const char *root)
{
	const char *const args[] = {"is-enabled", KF_WATCH_TIMER, NULL};
	char *state = NULL;

	systemctl_in(scope, root, args, &state);
	if (state != NULL && state[0] == '\0') {
		g_free(state);
		state = NULL;
	}
	return state;
}

/* Whether the organisation's policy turned the timer on for every account. */
static bool is_on_for_all(const char *root)
{
	char *state = timer_state("--global", root);
	bool is_on = state != NULL && strcmp(state, "enabled") == 0;

	g_free(state);
	return is_on;
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

/* --all-users changes every account's daily check: an administrator's decision. */
static int needs_root(const char *option)
{
	if (geteuid() == 0)
		return KF_EXIT_OK;
	return kf_cli_fail(KF_AGENTD_PROGRAM,
			   "--all-users changes the daily check of every account on this "
			   "computer, which only an administrator may do: sudo %s watch %s "
			   "--all-users",
			   KF_AGENTD_PROGRAM, option);
}

/*
 * The tree every account's units are read from: --root, else DPKG_ROOT when a package's
 * maintainer script runs this for a system dpkg installs into (dpkg --root), else "/".
 */
static const char *policy_root(const struct kf_watch_schedule *s)
{
	const char *dpkg_root = getenv("DPKG_ROOT");

	if (strcmp(s->root, "/") == 0 && dpkg_root != NULL && dpkg_root[0] == '/')
		return dpkg_root;
	return s->root;
}

static int enable_for_all(const struct kf_watch_schedule *s)
{
	const char *const args[] = {"enable", KF_WATCH_TIMER, NULL};
	const char *root = policy_root(s);
	int code = needs_root("--enable");

	if (code != KF_EXIT_OK)
		return code;
	if (systemctl_in("--global", root, args, NULL) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "systemctl --global enable %s failed under %s: is kefu's timer "
				   "installed (lib/systemd/user/%s)?",
				   KF_WATCH_TIMER, kf_escaped(root).text, KF_WATCH_TIMER);
	printf(_("The daily check is on for every account of this computer, from each "
		 "person's next login. One person turns it off for their own account with: "
		 "kefu-agentd watch --disable\n"));
	return KF_EXIT_OK;
}

static int disable_for_all(const struct kf_watch_schedule *s)
{
	const char *const args[] = {"disable", KF_WATCH_TIMER, NULL};
	int code = needs_root("--disable");

	if (code != KF_EXIT_OK)
		return code;
	if (systemctl_in("--global", s->root, args, NULL) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "systemctl --global disable %s failed under %s", KF_WATCH_TIMER,
				   kf_escaped(s->root).text);
	printf(_("The daily check is no longer on for every account; accounts that turned it on "
		 "themselves keep it.\n"));
	return KF_EXIT_OK;
}

int kf_watch_schedule_enable(const struct kf_watch_schedule *s)
{
	const char *const unmask[] = {"unmask", KF_WATCH_TIMER, NULL};
	const char *const args[] = {"enable", "--now", KF_WATCH_TIMER, NULL};
	char *state;

	if (s->is_all_users)
		return enable_for_all(s);
	if (!has_user_manager())
		return no_user_manager("turned on");
	/* Turned off here while the organisation's policy had it on: the mask goes first. */
	state = timer_state("--user", NULL);
	if (state != NULL && strcmp(state, "masked") == 0 && systemctl(unmask, NULL) != 0) {
		g_free(state);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "systemctl --user unmask %s failed",
				   KF_WATCH_TIMER);
	}
	g_free(state);
	if (systemctl(args, NULL) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "systemctl --user enable --now %s failed: is kefu's timer "
				   "installed (systemctl --user cat %s)?",
				   KF_WATCH_TIMER, KF_WATCH_TIMER);
	printf("The daily check is on: kefu looks for trouble once a day and tells you before "
	       "something fails.\n");
	return KF_EXIT_OK;
}

int kf_watch_schedule_disable(const struct kf_watch_schedule *s)
{
	const char *const args[] = {"disable", "--now", KF_WATCH_TIMER, NULL};
	const char *const mask[] = {"mask", "--now", KF_WATCH_TIMER, NULL};

	if (s->is_all_users)
		return disable_for_all(s);
	if (!has_user_manager())
		return no_user_manager("turned off");
	if (systemctl(args, NULL) != 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "systemctl --user disable --now %s failed",
				   KF_WATCH_TIMER);
	/*
	 * The organisation's link is the system's, which disable cannot take away for one
	 * account: a mask in this account's own units does (systemd.unit(5), "masked").
	 */
	if (is_on_for_all(s->root)) {
		if (systemctl(mask, NULL) != 0)
			return kf_cli_fail(KF_AGENTD_PROGRAM, "systemctl --user mask %s failed",
					   KF_WATCH_TIMER);
		printf(_("The daily check is off for this account. The organisation turned it on "
			 "for every account, so it is masked here (systemctl --user mask %s); "
			 "kefu-agentd watch --enable turns it back on.\n"),
		       KF_WATCH_TIMER);
		return KF_EXIT_OK;
	}
	printf("The daily check is off.\n");
	return KF_EXIT_OK;
}

int kf_watch_schedule_status(const struct kf_watch_schedule *s)
{
	const char *const next_args[] = {"show", "--property=NextElapseUSecRealtime", "--value",
					 KF_WATCH_TIMER, NULL};
	bool is_policy = is_on_for_all(s->root);
	char *enabled = NULL, *next = NULL;

	/* Another system tree: its policy is all there is to read; no manager runs it. */
	if (strcmp(s->root, "/") != 0) {
		if (is_policy)
			printf(_("The daily check is on for every account of %s (the "
				 "organisation's policy).\n"),
			       kf_escaped(s->root).text);
		else
			printf(_("The daily check is not turned on for every account of %s.\n"),
			       kf_escaped(s->root).text);
		return KF_EXIT_OK;
	}
	if (!has_user_manager()) {
		printf("The daily check cannot run: no systemd user manager runs for this "
		       "account.\n");
		return KF_EXIT_FAILURE;
	}
	enabled = timer_state("--user", NULL);
	if (enabled != NULL && strcmp(enabled, "masked") == 0) {
		if (is_policy)
			printf(_("The daily check is off for this account: the organisation turned "
				 "it on for every account, and it is masked here. Turn it back on "
				 "with: kefu-agentd watch --enable\n"));
		else
			printf(_("The daily check is off for this account (masked). Turn it on "
				 "with: "
				 "kefu-agentd watch --enable\n"));
	} else if (enabled != NULL && strcmp(enabled, "enabled") == 0) {
		systemctl(next_args, &next);
		if (is_policy && next != NULL && next[0] != '\0')
			printf(_("The daily check is on for every account of this computer (the "
				 "organisation's policy); next run: %s. To turn it off for this "
				 "account: kefu-agentd watch --disable (it masks the timer here: "
				 "systemctl --user mask %s)\n"),
			       next, KF_WATCH_TIMER);
		else if (is_policy)
			printf(_("The daily check is on for every account of this computer (the "
				 "organisation's policy). To turn it off for this account: "
				 "kefu-agentd watch --disable (it masks the timer here: systemctl "
				 "--user mask %s)\n"),
			       KF_WATCH_TIMER);
		else if (next != NULL && next[0] != '\0')
			printf(_("The daily check is on for this account; next run: %s. Turn it "
				 "off "
				 "with: kefu-agentd watch --disable\n"),
			       next);
		else
			printf(_("The daily check is on for this account. Turn it off with: "
				 "kefu-agentd watch --disable\n"));
	} else {
		printf("The daily check is off (%s). Turn it on with: kefu-agentd watch "
		       "--enable\n",
		       enabled != NULL ? enabled : "not installed");
	}
	g_free(enabled);
	g_free(next);
	return KF_EXIT_OK;
}
