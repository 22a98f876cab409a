/* kefu-console join: the command table, and the commands that belong to no feature. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <stdio.h>
#include <string.h>

/*
 * One row per command, as tmux's cmd_entry: the name (and another it answers to), the
 * lines 'help' shows for it, the permission the customer must have granted for it to
 * work (NULL: none), whether it is held back until then, and the handler, which gets
 * the rest of the line after the name, trimmed, and may change it.
 *
 * The customer's side checks every grant; the console only says what to ask for. A
 * command that is held back would open something on the technician's computer (the
 * screen's port and password) that could only fail; the others are sent, so that
 * the customer's side answers for itself.
 */
struct join_command {
	const char *name;
	const char *alias;
	const char *help;
	const char *capability;
	int is_held_until_granted;
	void (*run)(struct join *join, char *args);
};

static void cmd_chat(struct join *join, char *args);
static void cmd_ping(struct join *join, char *args);
static void cmd_end(struct join *join, char *args);
static void cmd_help(struct join *join, char *args);

static const struct join_command commands[] = {
	{"chat", "say", "  chat TEXT              send a message to the customer\n", NULL, 0,
	 cmd_chat},
	{"request", NULL,
	 "  request CAP [REASON]   ask the customer for a permission: view, control, diagnose,\n"
	 "                         repair, firmware, files or history (with the reason they\n"
	 "                         will read)\n",
	 NULL, 0, join_cmd_request},
	{"release", NULL, "  release CAP            give a permission back\n", NULL, 0,
	 join_cmd_release},
	{"view", NULL,
	 "  view [--web] [--no-viewer] [--quality auto|lossless|0-9]  the customer's screen\n"
	 "                         (needs view) on a local port for any VNC viewer, or in a\n"
	 "                         browser; quality: auto follows the link, lossless never\n"
	 "                         JPEG, 0-9 a fixed JPEG level; 'view stop' closes it\n",
	 "view", 1, join_cmd_view},
	{"report", NULL,
	 "  report [FILE]          the customer's diagnostics report (needs diagnose); saved to\n"
	 "                         FILE, or summed up here\n",
	 "diagnose", 0, join_cmd_report},
	{"plugins", NULL,
	 "  plugins                the plugins that apply to the customer's computer, and what\n"
	 "                         the customer's own last scan found (needs diagnose)\n",
	 "diagnose", 0, join_cmd_plugins},
	{"run", NULL, "  run ID                 run a plugin's checks (needs diagnose)\n",
	 "diagnose", 0, join_cmd_run},
	{"repair", NULL,
	 "  repair ID              check, repair and verify with a plugin (needs repair)\n",
	 "repair", 0, join_cmd_repair},
	{"send", NULL,
	 "  send FILE              send a file to the customer's computer (needs files); it is\n"
	 "                         saved in their Downloads/kefu folder, never over another\n",
	 "files", 0, join_cmd_send},
	{"fetch", NULL,
	 "  fetch PATH [FOLDER]    copy a file from the customer's computer (needs files) into\n"
	 "                         FOLDER (default: the current folder)\n",
	 "files", 0, join_cmd_fetch},
	{"drivers", NULL,
	 "  drivers                each device's driver, and the packages that would give one\n"
	 "                         (needs diagnose)\n"
	 "  drivers install PKG... install a driver or firmware package the listing offers\n"
	 "  drivers upgrade [PKG...]  upgrade driver packages (both need repair)\n",
	 "diagnose", 0, join_cmd_drivers},
	{"firmware", NULL,
	 "  firmware list          the devices whose firmware kefu can update (needs firmware)\n"
	 "  firmware updates       the updates the signed metadata (and fwupd) offer for them\n"
	 "  firmware apply --latest DEVICE\n"
	 "                         install the newest of them for DEVICE (needs firmware)\n"
	 "  firmware check FILE    send an update (LVFS .cab or kefu package) and check it\n"
	 "  firmware apply FILE [--reinstall] [--downgrade] [--device ID]\n"
	 "                         send an update and install it (needs firmware), with progress\n",
	 "firmware", 0, join_cmd_firmware},
	{"history", NULL,
	 "  history                the customer's support ID, journal and earlier cases in the\n"
	 "                         team's case store (needs history)\n",
	 "history", 0, join_cmd_history},
	{"note", NULL, "  note TEXT              add a note to this session's case\n", NULL, 0,
	 join_cmd_note},
	{"ping", NULL,
	 "  ping                   measure the round trip to the customer's computer\n", NULL, 0,
	 cmd_ping},
	{"end", "quit",
	 "  end [ADVICE]           end the session, leaving closing advice in the customer's\n"
	 "                         summary (asked for when not given)\n",
	 NULL, 0, cmd_end},
	{"help", NULL, "  help                   this list\n", NULL, 0, cmd_help},
};

static void cmd_chat(struct join *join, char *args)
{
	struct kf_error err;

	if (kf_console_session_chat(join->session, args, &err) != KF_OK)
		join_report(join, "error", NULL, "Could not send: %s", err.message);
	else
		join_journal(join, "chat", "Technician: %s", args);
}

static void cmd_ping(struct join *join, char *args)
{
	struct kf_error err;

	(void)args;
	if (kf_console_session_ping(join->session, &err) != KF_OK)
		join_report(join, "error", NULL, "Could not ping: %s", err.message);
	else if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

static void cmd_end(struct join *join, char *args)
{
	if (*args == '\0' && join->script == NULL && !join->is_json) {
		/* The customer keeps a summary: ask for the advice that ends it. */
		join_report(join, "advice", NULL,
			    "Closing advice for the customer (one line; Enter for none):");
		join->is_awaiting_advice = 1;
		return;
	}
	join_end(join, args);
}

static void cmd_help(struct join *join, char *args)
{
	char text[4096] = "Commands:\n";
	size_t used = strlen(text);

	(void)args;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		used += (size_t)snprintf(text + used, used < sizeof(text) ? sizeof(text) - used : 0,
					 "%s", commands[i].help);
	/* The keys of the line editor, when there is one. */
	if (join->editor != NULL && used < sizeof(text))
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "Keys: Up/Down recall earlier commands (kept between "
					 "sessions), Ctrl-A/Ctrl-E\n"
					 "  go to the start/end, Ctrl-W/Ctrl-U delete a word/the "
					 "line, Ctrl-C clears the\n"
					 "  line; Ctrl-C twice or Ctrl-D on an empty line ends the "
					 "session, as 'end'.\n");
	if (used > sizeof(text) - 1)
		used = sizeof(text) - 1;
	/* The last line's newline is the event's own. */
	if (used > 0 && text[used - 1] == '\n')
		text[used - 1] = '\0';
	join_report(join, "help", NULL, "%s", text);
}

static const struct join_command *find_command(const char *word)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(word, commands[i].name) == 0 ||
		    (commands[i].alias != NULL && strcmp(word, commands[i].alias) == 0))
			return &commands[i];
	return NULL;
}

void join_run_command(struct join *join, char *line)
{
	const struct join_command *command;
	char *word = line, *rest;

	if (join->is_awaiting_advice) {
		join->is_awaiting_advice = 0;
		join_end(join, line);
		return;
	}
	while (*word == ' ' || *word == '\t')
		word++;
	if (*word == '\0')
		return;
	rest = word + strcspn(word, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	while (*rest == ' ' || *rest == '\t')
		rest++;

	command = find_command(word);
	if (command == NULL) {
		join_report(join, "error", NULL, "Unknown command '%s'. Type 'help' for the list.",
			    word);
		return;
	}
	if (command->capability != NULL && !join_is_granted(join, command->capability)) {
		json_t *fields = json_pack("{s:s, s:s}", "command", command->name, "capability",
					   command->capability);

		if (command->is_held_until_granted) {
			json_object_set_new(fields, "code", json_string("not-granted"));
			join_report(
				join, "error", fields,
				"'%s' needs the customer's '%s' permission; nothing was opened. "
				"Ask first: request %s REASON",
				command->name, command->capability, command->capability);
			json_decref(fields);
			return;
		}
		join_report(join, "hint", fields,
			    "The customer has not allowed '%s'; their side will refuse '%s'. Ask "
			    "with: request %s REASON",
			    command->capability, command->name, command->capability);
		json_decref(fields);
	}
	command->run(join, rest);
}
