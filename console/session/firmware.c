/* kefu-console join: firmware on the customer's computer: list, check, apply. SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"
#include "proto/base/buffer.h"

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
	if (strcmp(word, "list") == 0 || strcmp(word, "updates") == 0) {
		json_t *body =
			strcmp(word, "updates") == 0 ? json_pack("{s:b}", "updates", 1) : NULL;
		int r = kf_console_session_send(join->session, "firmware.list", body, &id, &err);

		json_decref(body);
		if (r != KF_OK)
			join_report(join, "error", NULL, "Could not ask: %s", err.message);
		else
			join_wait_for(join, id);
		return;
	}
	if (strcmp(word, "apply") == 0 && strncmp(file, "--latest", 8) == 0 &&
	    (file[8] == ' ' || file[8] == '\t')) {
		char *device = file + 8 + strspn(file + 8, " \t");
		json_t *body;
		int r;

		device[strcspn(device, " \t")] = '\0';
		if (*device == '\0') {
			join_report(join, "error", NULL, "Usage: firmware apply --latest DEVICE");
			return;
		}
		body = json_pack("{s:s}", "device", device);
		r = kf_console_session_send(join->session, "firmware.latest", body, &id, &err);
		json_decref(body);
		if (r != KF_OK)
			join_report(join, "error", NULL, "Could not ask: %s", err.message);
		else
			join_wait_for(join, id);
		return;
	}
	if (strcmp(word, "check") != 0 && strcmp(word, "apply") != 0) {
		join_report(
			join, "error", NULL,
			"Usage: firmware list | updates | check FILE | apply FILE [--reinstall] "
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

/* A row's text field as the agent sent it, or "?". */
static const char *row_text(json_t *row, const char *key)
{
	const char *value = json_string_value(json_object_get(row, key));

	return value != NULL ? value : "?";
}

/* The agent's `firmware updates --json`: its lines joined make one JSON array. */
static void firmware_updates(struct join *join, const struct kf_msg *msg)
{
	json_t *lines = json_object_get(msg->body, "lines"), *line, *rows, *row, *event;
	struct kf_buf text = {0};
	size_t i;

	json_array_foreach(lines, i, line)
	{
		const char *one = json_string_value(line);

		if (one != NULL)
			kf_buf_append(&text, one, strlen(one));
		kf_buf_append(&text, "\n", 1);
	}
	rows = text.len > 0 ? json_loadb((const char *)text.data, text.len, 0, NULL) : NULL;
	kf_buf_free(&text);
	if (!json_is_array(rows)) {
		json_decref(rows);
		join_report(join, "firmware-updates", msg->body,
			    "Firmware updates could not be listed:");
		json_array_foreach(lines, i, line) join_print(
			join, "  %s\n", json_is_string(line) ? json_string_value(line) : "");
		return;
	}
	event = json_pack("{s:O}", "updates", rows);
	join_report(join, "firmware-updates", event,
		    json_array_size(rows) > 0 ? "Firmware updates for the customer's devices:"
					      : "No firmware updates for the customer's devices.");
	json_decref(event);
	json_array_foreach(rows, i, row) join_print(
		join, "  %s (%s): %s -> %s\n", row_text(row, "device"),
		row_text(row, "device_name"), row_text(row, "from"), row_text(row, "to"));
	json_decref(rows);
}

void join_firmware_devices(struct join *join, const struct kf_msg *msg)
{
	json_t *line;
	size_t i;

	if (json_is_string(json_object_get(msg->body, "what")) &&
	    strcmp(json_string_value(json_object_get(msg->body, "what")), "updates") == 0) {
		firmware_updates(join, msg);
		return;
	}

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
