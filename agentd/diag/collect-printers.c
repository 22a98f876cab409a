/* kefu-agentd collector: CUPS queues, their state and jobs. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"
#include "agentd/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *as_text(const struct kf_buf *buf)
{
	char *text = malloc(buf->len + 1);

	if (text == NULL)
		return NULL;
	if (buf->len > 0) /* an empty file has no data at all */
		memcpy(text, buf->data, buf->len);
	text[buf->len] = '\0';
	kf_text_sanitize(text, buf->len);
	return text;
}

/* printers.conf: "<Printer NAME>" ... "State Stopped" ... "</Printer>". */
static void parse_printers_conf(const char *text, json_t *queues)
{
	char *copy = strdup(text), *line, *save = NULL;
	json_t *queue = NULL;

	if (copy == NULL)
		return;
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[256];
		while (*line == ' ' || *line == '\t')
			line++;
		if (sscanf(line, "<Printer %255[^>]>", name) == 1 ||
		    sscanf(line, "<DefaultPrinter %255[^>]>", name) == 1) {
			queue = json_object();
			kf_json_set_str(queue, "name", name);
			json_object_set_new(queue, "is_default",
					    json_boolean(strncmp(line, "<Default", 8) == 0));
			kf_json_set_str(queue, "state", "idle");
			kf_json_set_str(queue, "state_message", NULL);
			kf_json_set_str(queue, "device_uri", NULL);
			json_object_set_new(queue, "accepting", json_true());
			json_array_append_new(queues, queue);
		} else if (strncmp(line, "</", 2) == 0) {
			queue = NULL;
		} else if (queue != NULL) {
			if (strncmp(line, "State ", 6) == 0) {
				char state[32];
				size_t i;
				snprintf(state, sizeof(state), "%s", line + 6);
				for (i = 0; state[i]; i++)
					state[i] = (char)(state[i] >= 'A' && state[i] <= 'Z'
								  ? state[i] + 32
								  : state[i]);
				kf_json_set_str(queue, "state", state);
			} else if (strncmp(line, "StateMessage ", 13) == 0) {
				kf_json_set_str(queue, "state_message", line + 13);
			} else if (strncmp(line, "DeviceURI ", 10) == 0) {
				kf_json_set_str(queue, "device_uri", line + 10);
			} else if (strncmp(line, "Info ", 5) == 0) {
				kf_json_set_str(queue, "info", line + 5);
			} else if (strcmp(line, "Accepting No") == 0) {
				json_object_set_new(queue, "accepting", json_false());
			}
		}
	}
	free(copy);
}

/* lpstat -o: "QUEUE-ID USER SIZE DATE..." one job per line. */
static void parse_jobs(const char *text, json_t *jobs)
{
	char *copy = strdup(text), *line, *save = NULL;

	if (copy == NULL)
		return;
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char id[256], user[128], size[32];
		char *date;
		json_t *job;

		if (sscanf(line, "%255s %127s %31s", id, user, size) != 3)
			continue;
		job = json_object();
		kf_json_set_str(job, "id", id);
		/* Job ids are "QUEUE-NUMBER"; queue names may contain '-' themselves. */
		if (strrchr(id, '-') != NULL)
			*strrchr(id, '-') = '\0';
		kf_json_set_str(job, "queue", id);
		kf_json_set_str(job, "user", user);
		json_object_set_new(job, "size_bytes", json_integer(atoll(size)));
		date = strstr(line, size);
		date = date ? date + strlen(size) : NULL;
		while (date != NULL && *date == ' ')
			date++;
		kf_json_set_str(job, "submitted", date);
		json_array_append_new(jobs, job);
	}
	free(copy);
}

int kf_collect_printers(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	json_t *queues = json_array(), *jobs = json_array();
	struct kf_buf buf = {0};
	char *text;
	bool has_cups = kf_sysfs_exists(ctx->root, "/etc/cups");
	int r;

	(void)err;
	json_object_set_new(ctx->report->printers, "cups", json_boolean(has_cups));
	json_object_set_new(ctx->report->printers, "queues", queues);
	json_object_set_new(ctx->report->printers, "jobs", jobs);
	if (!has_cups) {
		kf_collect_note(ctx, "CUPS is not installed (no /etc/cups)");
		return KF_OK;
	}
	r = kf_collect_read(ctx, "/etc/cups/printers.conf", KF_RAW_CAP, "etc/cups/printers.conf",
			    &buf, NULL);
	if (r == KF_OK && (text = as_text(&buf)) != NULL) {
		parse_printers_conf(text, queues);
		free(text);
	} else if (r != KF_OK) {
		kf_collect_note(ctx, "/etc/cups/printers.conf unreadable (%s)", kf_err_name(r));
	}
	kf_buf_reset(&buf);
	if (ctx->is_live) {
		const char *argv[] = {"lpstat", "-o", NULL};
		struct kf_tool_result result;
		struct kf_error tool_err = {0};

		r = kf_tool_run(argv, ctx->tool_timeout_ms, KF_TOOL_CAP, &buf, &result, &tool_err);
		if (r == KF_OK && (text = as_text(&buf)) != NULL) {
			kf_collect_keep_raw(ctx, "lpstat-o.txt", buf.data, buf.len,
					    result.is_truncated);
			parse_jobs(text, jobs);
			free(text);
		} else if (r != KF_OK) {
			kf_collect_note(ctx, "lpstat: %s", tool_err.message);
		}
	}
	kf_buf_free(&buf);
	return KF_OK;
}
