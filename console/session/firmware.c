/* kefu-console join: firmware on the customer's computer: list, check, apply. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <string.h>

static void firmware_uploaded(struct kf_console_transfer *transfer, int status, json_t *fields,
			      void *user)
{
	struct join *join = user;
	const char *error = json_string_value(json_object_get(fields, "error"));

	(void)transfer;
	if (status != KF_OK)
		join_report(join, "error", fields,
			    "The update did not reach the customer's computer: %s",
			    error ? error : "?");
	else
		join_report(
			join, "firmware-uploaded", fields,
			"The update arrived (SHA-256 %s); the customer's computer checks it now.",
			json_string_value(json_object_get(fields, "sha256")));
	kf_console_transfer_free(join->transfer);
	join->transfer = NULL;
	/* The script goes on when the result comes, or now if the upload failed. */
	if (status != KF_OK)
		join_resume_script(join);
}

void join_cmd_firmware(struct join *join, char *args)
{
	char *word = args, *file, *flag;
	struct kf_stream *stream;
	struct kf_error err;
	json_t *options;
	uint32_t id;

	file = word + strcspn(word, " \t");
	if (*file != '\0')
		*file++ = '\0';
	if (strcmp(word, "list") == 0) {
		if (kf_console_session_send(join->session, "firmware.list", NULL, &id, &err) !=
		    KF_OK)
			join_report(join, "error", NULL, "Could not ask: %s", err.message);
		else
			join_wait_for(join, id);
		return;
	}
	if (strcmp(word, "check") != 0 && strcmp(word, "apply") != 0) {
		join_report(join, "error", NULL,
			    "Usage: firmware list | check FILE | apply FILE [--reinstall] "
			    "[--downgrade] "
			    "[--device ID]");
		return;
	}
	options = json_pack("{s:b}", "check", strcmp(word, "check") == 0);
	file += strspn(file, " \t");
	flag = file + strcspn(file, " \t");
	while (*flag != '\0') {
		*flag++ = '\0';
		flag += strspn(flag, " \t");
		if (strncmp(flag, "--reinstall", 11) == 0)
			json_object_set_new(options, "reinstall", json_true());
		else if (strncmp(flag, "--downgrade", 11) == 0)
			json_object_set_new(options, "downgrade", json_true());
		else if (strncmp(flag, "--device ", 9) == 0) {
			char *id_text = flag + 9, *end = id_text + strcspn(id_text, " \t");
			char saved = *end;

			*end = '\0';
			json_object_set_new(options, "device", json_string(id_text));
			*end = saved;
			flag = end;
			continue;
		} else if (*flag != '\0') {
			join_report(join, "error", NULL, "Unknown firmware option '%s'", flag);
			json_decref(options);
			return;
		}
		flag += strcspn(flag, " \t");
	}
	if (*file == '\0' || join->transfer != NULL) {
		join_report(join, "error", NULL,
			    *file == '\0' ? "Name the update file (.cab or kefu package)"
					  : "A file is on its way already; wait for it.");
		json_decref(options);
		return;
	}
	if (join_open_side_stream(join, "firmware", &stream, &err) != KF_OK ||
	    kf_console_transfer_send(stream, join->loop, file, options,
				     kf_console_session_agent_takes_hash_after(join->session),
				     firmware_uploaded, join, &join->transfer, &err) != KF_OK) {
		join_report(join, "error", NULL, "%s", err.message);
		json_decref(options);
		return;
	}
	json_decref(options);
	join_report(join, "firmware-started", NULL,
		    "Sending %s to the customer's computer (needs 'firmware')...", file);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

void join_firmware_devices(struct join *join, const struct kf_msg *msg)
{
	json_t *line;
	size_t i;

	join_report(join, "firmware-devices", msg->body, "Firmware on the customer's computer:");
	json_array_foreach(json_object_get(msg->body, "lines"), i, line)
		join_print(join, "  %s\n", json_string_value(line));
}

void join_firmware_progress(struct join *join, const struct kf_msg *msg)
{
	json_t *progress = json_object_get(msg->body, "progress");
	const char *line = json_string_value(json_object_get(msg->body, "line"));

	if (json_is_object(progress) && json_object_get(progress, "percent") != NULL)
		join_report(join, "firmware-progress", msg->body,
			    "  %s %3" JSON_INTEGER_FORMAT "%%",
			    json_string_value(json_object_get(progress, "phase")),
			    json_integer_value(json_object_get(progress, "percent")));
	else if (json_is_object(progress))
		join_report(join, "firmware-progress", msg->body, "  %s...",
			    json_string_value(json_object_get(progress, "phase")));
	else
		join_report(join, "firmware-progress", msg->body, "  %s", line ? line : "");
}

/* The script goes on after a result whether the update was done or not. */
void join_firmware_result(struct join *join, const struct kf_msg *msg)
{
	int ok = json_is_true(json_object_get(msg->body, "ok"));

	join_journal(join, "action", "Firmware %s: %s",
		     json_string_value(json_object_get(msg->body, "name")),
		     ok ? "done" : "not done");
	join_report(join, "firmware-result", msg->body, "Firmware %s: %s",
		    json_string_value(json_object_get(msg->body, "name")),
		    ok ? "done" : "not done (see the lines above)");
}
