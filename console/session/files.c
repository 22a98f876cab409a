/* kefu-console join: files to and from the customer's computer (send, fetch). SPDX-License-Identifier: MIT */
#include "console/session/join-private.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void transfer_done(struct kf_console_transfer *transfer, int status, json_t *fields,
			  void *user)
{
	struct join *join = user;
	const char *error = json_string_value(json_object_get(fields, "error"));
	const char *saved = json_string_value(json_object_get(fields, "saved"));

	(void)transfer;
	if (status != KF_OK) {
		join_report(join, "error", fields, "The file transfer failed: %s",
			    error ? error : "?");
	} else {
		join_report(join, "file", fields,
			    "Done: %s (%" JSON_INTEGER_FORMAT " bytes, SHA-256 %s)",
			    saved ? saved : "?",
			    json_integer_value(json_object_get(fields, "size")),
			    json_string_value(json_object_get(fields, "sha256")));
		join_journal(join, "action", "File %s (%" JSON_INTEGER_FORMAT " bytes)",
			     saved ? saved : "?",
			     json_integer_value(json_object_get(fields, "size")));
	}
	kf_console_transfer_free(join->transfer);
	join->transfer = NULL;
	join_resume_script(join);
}

static bool is_sendable(struct join *join, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		join_report(join, "error", NULL, "Cannot send %s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		join_report(join, "error", NULL,
			    "Cannot send %s: only a regular file can be sent%s", path,
			    S_ISDIR(st.st_mode) ? " (this is a folder)" : "");
		return false;
	}
	if (access(path, R_OK) != 0) {
		join_report(join, "error", NULL, "Cannot send %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static void start_transfer(struct join *join, int is_fetch, char *rest)
{
	char *local = rest + strcspn(rest, " \t"), cwd[PATH_MAX];
	const char *folder = local;
	struct kf_stream *stream;
	struct kf_error err;
	int r;

	if (*local != '\0')
		*local++ = '\0';
	while (*local == ' ' || *local == '\t')
		local++;
	if (*rest == '\0') {
		join_report(join, "error", NULL,
			    is_fetch ? "Usage: fetch PATH [LOCAL-FOLDER]" : "Usage: send FILE");
		return;
	}
	if (join->transfer != NULL) {
		join_report(join, "error", NULL, "A file is on its way already; wait for it.");
		return;
	}
	folder = local;
	if (is_fetch && *local == '\0')
		folder = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	/* A file that cannot go is said here: the customer's side never hears of it. */
	if (!is_fetch && !is_sendable(join, rest))
		return;
	if (join_open_side_stream(join, "files", &stream, &err) != KF_OK) {
		join_report(join, "error", NULL, "Could not open a stream for the file: %s",
			    err.message);
		return;
	}
	r = is_fetch ? kf_console_transfer_fetch(stream, rest, folder, transfer_done, join,
						 &join->transfer, &err)
		     : kf_console_transfer_send(
			       stream, join->loop, rest, NULL,
			       kf_console_session_agent_takes_hash_after(join->session),
			       transfer_done, join, &join->transfer, &err);
	if (r != KF_OK) {
		join_report(join, "error", NULL, "%s", err.message);
		return;
	}
	join_report(join, "file-started", NULL, "%s %s (needs 'files')...",
		    is_fetch ? "Fetching" : "Sending", rest);
	if (join->script != NULL) {
		join->is_waiting = 1;
		join->waiting_for = 0;
	}
}

void join_cmd_send(struct join *join, char *args)
{
	start_transfer(join, 0, args);
}

void join_cmd_fetch(struct join *join, char *args)
{
	start_transfer(join, 1, args);
}
