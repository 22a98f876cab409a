/* kefu-helper: the customer's window: a code, the technician's requests, Stop. SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"
#include "agentd/join-url.h"
#include "agentd/window/window.h"
#include "proto/base/cli.h"
#include "proto/base/escape.h"
#include "proto/plugin/manifest.h"

#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KF_BINDIR
#define KF_BINDIR "/usr/local/bin"
#endif

#define PROGRAM "kefu-helper"

static const char usage[] =
	"usage: kefu-helper [--profile FILE] [--relay N] [--code-minutes N] [--consent-timeout S]\n"
	"                   [--policy FILE] [--plugins DIR]... [--root DIR]\n"
	"                   [--firmware-devices DIR] [--monitor N] [--url URL]\n"
	"       kefu-helper --fix CHECK_ID\n"
	"       kefu-helper --firmware DEVICE\n"
	"       kefu-helper --version | --help\n"
	"\n"
	"Opens the window that lets a support technician help: a code to read to them,\n"
	"each of their requests to allow or deny, and Stop. --url takes a kefu://join\n"
	"link from a support page and must come last (kefu://join?org=...&relay=...&case=...).\n"
	"--fix asks the customer to allow one repair, then runs\n"
	"that one repair with kefu-agentd scan.\n"
	"--firmware asks the customer to allow the newest firmware update of one device,\n"
	"then installs it with kefu-agentd firmware apply, which makes every check.\n";

static const struct kf_ui_ops no_ops = {0};

/* A one-line refusal, on standard error and, when there is a screen, in a dialog. */
static int refuse(bool has_display, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int refuse(bool has_display, const char *format, ...)
{
	char text[1024];
	va_list args;

	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	fprintf(stderr, "%s: %s\n", PROGRAM, text);
	if (has_display) {
		GtkWidget *dialog = gtk_message_dialog_new(NULL, 0, GTK_MESSAGE_ERROR,
							   GTK_BUTTONS_CLOSE, "%s", text);

		gtk_window_set_title(GTK_WINDOW(dialog), _("kefu support helper"));
		gtk_dialog_run(GTK_DIALOG(dialog));
		gtk_widget_destroy(dialog);
	}
	return KF_EXIT_FAILURE;
}

/* kefu-agentd beside this program (a build tree), else the installed one. */
static void agentd_path(char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		snprintf(out, size, "%s/kefu-agentd", dirname(exe));
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, size, "%s/kefu-agentd", KF_BINDIR);
}

/*
 * Everything after --url is the link and nothing else: the desktop file passes
 * the browser's URL there, and text that looks like an option ("--profile=...")
 * must never be read as one. "--url -- URL" is the same; a second word is refused.
 */
static int split_url(int *argc, char **argv, const char **url)
{
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return *argc - i - 1 == 0 ? (*argc = i, KF_OK) : KF_ERR_INVALID;
		if (strcmp(argv[i], "--url") != 0)
			continue;
		int next = i + 1;

		if (next < *argc && strcmp(argv[next], "--") == 0)
			next++;
		if (*argc - next > 1)
			return KF_ERR_INVALID;
		*url = next < *argc ? argv[next] : NULL;
		*argc = i;
		return KF_OK;
	}
	return KF_OK;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"relay", required_argument, NULL, 'r'},
		{"code-minutes", required_argument, NULL, 'm'},
		{"consent-timeout", required_argument, NULL, 't'},
		{"policy", required_argument, NULL, 'P'},
		{"plugins", required_argument, NULL, 'g'},
		{"root", required_argument, NULL, 'R'},
		{"firmware-devices", required_argument, NULL, 'F'},
		{"monitor", required_argument, NULL, 'M'},
		{"fix", required_argument, NULL, 'f'},
		{"firmware", required_argument, NULL, 'w'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct kf_share_options options = {0};
	struct kf_join_url link;
	const char *url = NULL, *fix = NULL, *firmware = NULL;
	char agentd[PATH_MAX];
	struct kf_window *window;
	struct share *share;
	struct kf_error err;
	bool has_display;
	GSource *source;
	uv_loop_t *loop;
	int opt, code;

	kf_i18n_init();
	if (split_url(&argc, argv, &url) != KF_OK) {
		fprintf(stderr, "%s: --url takes one link and must come last\n", PROGRAM);
		return KF_EXIT_USAGE;
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'p':
			options.profile_path = optarg;
			break;
		case 'r':
			options.relay_index = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0')
				return kf_cli_fail(PROGRAM, "--relay takes a number");
			break;
		case 'm': {
			double minutes = strtod(optarg, &end);

			if (*end != '\0' || !(minutes >= 0.05 && minutes <= 10))
				return kf_cli_fail(PROGRAM,
						   "--code-minutes takes 0.05 to 10 (minutes)");
			options.code_lifetime_ms = (unsigned)(minutes * 60000);
			break;
		}
		case 't': {
			unsigned long seconds = strtoul(optarg, &end, 10);

			if (*end != '\0' || seconds < 1 || seconds > 600)
				return kf_cli_fail(PROGRAM,
						   "--consent-timeout takes 1 to 600 (seconds)");
			options.consent_timeout_ms = (unsigned)seconds * 1000;
			break;
		}
		case 'P':
			options.policy_path = optarg;
			break;
		case 'g':
			if (options.n_plugin_folders == KF_PLUGIN_PLACES_MAX)
				return kf_cli_fail(PROGRAM, "at most %d --plugins folders",
						   KF_PLUGIN_PLACES_MAX);
			options.plugin_folders[options.n_plugin_folders++] = optarg;
			break;
		case 'R':
			options.root = optarg;
			break;
		case 'F':
			options.firmware_devices = optarg;
			break;
		case 'M': {
			long monitor = strtol(optarg, &end, 10);

			if (*end != '\0' || optarg[0] == '\0' || monitor < 0 || monitor > 15)
				return kf_cli_fail(PROGRAM,
						   "--monitor takes a monitor's number, 0 to 15");
			options.is_one_monitor = true;
			options.monitor = (int)monitor;
			break;
		}
		case 'f':
			fix = optarg;
			break;
		case 'w':
			firmware = optarg;
			break;
		case 'V':
			printf("%s %s\n", PROGRAM, KF_VERSION);
			return KF_EXIT_OK;
		case 'h':
			fputs(usage, stdout);
			return KF_EXIT_OK;
		default:
			fprintf(stderr, "%s: %s is not an option here or lacks its value\n",
				PROGRAM, kf_escaped(argv[optind - 1]).text);
			fputs(usage, stderr);
			return KF_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return KF_EXIT_USAGE;
	}
	if (fix != NULL && url != NULL)
		return kf_cli_fail(PROGRAM, "--fix and --url do not go together");
	if (firmware != NULL && (fix != NULL || url != NULL))
		return kf_cli_fail(PROGRAM, "--firmware goes with neither --fix nor --url");
	if (firmware != NULL && !kf_window_firmware_device_is_valid(firmware))
		return kf_cli_fail(
			PROGRAM,
			"%s is not a device's name (1 to 64 of letters, digits, '.', '_' "
			"and '-', not starting with '-' or '.')",
			kf_escaped(firmware).text);
	if (fix != NULL && !kf_window_fix_name_is_valid(fix))
		return kf_cli_fail(
			PROGRAM,
			"%s is not a check's name (CHECK or PLUGIN/CHECK, each 1 to 64 of "
			"a-z, 0-9 and -, starting with a letter)",
			kf_escaped(fix).text);
	/* The customer's language stays the helper's: GTK must not set the locale again. */
	gtk_disable_setlocale();
	has_display = gtk_init_check(&argc, &argv);
	if (url != NULL) {
		struct kf_profile *profile;

		if (kf_join_url_parse(url, strlen(url), &link, &err) != KF_OK)
			return refuse(has_display, "%s", err.message);
		/* A link picks only among what the installed profile already trusts. */
		if (kf_profile_load(options.profile_path ? options.profile_path
							 : kf_profile_default_path(),
				    &profile, &err) != KF_OK)
			return refuse(has_display, "%s", err.message);
		code = kf_join_url_check(&link, profile, &options.relay_index, &err);
		kf_profile_free(profile);
		if (code != KF_OK)
			return refuse(has_display, "%s", err.message);
		if (link.case_number[0] != '\0')
			options.case_number = link.case_number;
	}
	if (!has_display)
		return kf_cli_fail(PROGRAM, "there is no screen to open the window on (DISPLAY is "
					    "not set); 'kefu-agentd share' works in a terminal");
	if (fix != NULL) {
		agentd_path(agentd, sizeof(agentd));
		return kf_window_fix(fix, agentd, options.profile_path);
	}
	if (firmware != NULL) {
		agentd_path(agentd, sizeof(agentd));
		return kf_window_fix_firmware(firmware, agentd, options.profile_path);
	}
	loop = uv_default_loop();
	window = kf_window_new(loop, options.case_number);
	if ((code = kf_share_new(loop, PROGRAM, &options, &kf_window_ops, window, &share)) !=
	    KF_EXIT_OK) {
		kf_window_free(window);
		return code;
	}
	kf_window_attach(window, share);
	source = kf_window_uv_source_new(loop);
	g_source_attach(source, NULL);
	if ((code = kf_share_start(share)) == KF_EXIT_OK) {
		gtk_main();
		code = kf_share_exit_code(share);
	}
	/* The window is gone: what the core still says at its end goes nowhere. */
	kf_share_set_ui(share, &no_ops, NULL);
	g_source_destroy(source);
	g_source_unref(source);
	kf_share_free(share);
	kf_window_free(window);
	return code;
}
