/* kefu-agentd: kernel messages from the systemd journal's JSON, as kernel-log lines.
 * SPDX-License-Identifier: MIT */
#include "agentd/diag/kernel-log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MESSAGE_MAX 4096 /* the kernel's own records are at most 1 KiB */

/* A journal timestamp: a string of decimal microseconds. */
static bool microseconds(const json_t *entry, const char *key, unsigned long long *out)
{
	const char *text = json_string_value(json_object_get(entry, key));
	char *end;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return false;
	*out = strtoull(text, &end, 10);
	return *end == '\0';
}

/* MESSAGE into out (at most cap - 1 bytes, terminated), one line; false when absent. */
static bool message_of(const json_t *entry, char *out, size_t cap)
{
	const json_t *message = json_object_get(entry, "MESSAGE"), *byte;
	size_t n = 0, i;

	if (json_is_string(message)) {
		const char *text = json_string_value(message);
		size_t len = json_string_length(message);

		for (i = 0; i < len && n + 1 < cap; i++)
			out[n++] = text[i];
	} else if (json_is_array(message)) {
		json_array_foreach(message, i, byte)
		{
			json_int_t value = json_integer_value(byte);

			if (!json_is_integer(byte) || value < 0 || value > 255)
				return false;
			if (n + 1 < cap)
				out[n++] = (char)value;
		}
	} else {
		return false;
	}
	/* One entry, one line: the kernel-log parser reads lines. */
	for (i = 0; i < n; i++) {
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	}
	out[n] = '\0';
	return true;
}

/* The line's prefix: the time since boot as dmesg writes it, or the wall clock. */
static void prefix_of(const json_t *entry, char *out, size_t cap)
{
	unsigned long long us;
	struct tm tm;
	time_t seconds;

	if (microseconds(entry, "_SOURCE_MONOTONIC_TIMESTAMP", &us) ||
	    microseconds(entry, "__MONOTONIC_TIMESTAMP", &us)) {
		snprintf(out, cap, "[%5llu.%06llu] ", us / 1000000, us % 1000000);
		return;
	}
	out[0] = '\0';
	if (microseconds(entry, "__REALTIME_TIMESTAMP", &us)) {
		seconds = (time_t)(us / 1000000);
		if (gmtime_r(&seconds, &tm) != NULL)
			strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ kernel: ", &tm);
	}
}

/* One line of journal JSON; appends its kernel-log line to out unless cap is reached. */
static int add_entry(const char *line, size_t len, size_t cap, struct kf_buf *out,
		     struct kf_kernel_journal_stats *stats)
{
	char prefix[64], *message;
	const char *transport;
	json_t *entry;
	size_t need;
	int r = KF_OK;

	entry = json_loadb(line, len, 0, NULL);
	if (!json_is_object(entry)) {
		stats->skipped++;
		json_decref(entry);
		return KF_OK;
	}
	transport = json_string_value(json_object_get(entry, "_TRANSPORT"));
	if (transport != NULL && strcmp(transport, "kernel") != 0) {
		stats->other++;
		json_decref(entry);
		return KF_OK;
	}
	message = malloc(MESSAGE_MAX);
	if (message == NULL) {
		json_decref(entry);
		return KF_ERR_NOMEM;
	}
	if (!message_of(entry, message, MESSAGE_MAX)) {
		stats->skipped++;
	} else {
		prefix_of(entry, prefix, sizeof(prefix));
		need = strlen(prefix) + strlen(message) + 1;
		if (out->len + need > cap) {
			stats->is_truncated = true;
		} else if (kf_buf_append(out, prefix, strlen(prefix)) != KF_OK ||
			   kf_buf_append(out, message, strlen(message)) != KF_OK ||
			   kf_buf_append(out, "\n", 1) != KF_OK) {
			r = KF_ERR_NOMEM;
		} else {
			stats->entries++;
		}
	}
	free(message);
	json_decref(entry);
	return r;
}

static bool is_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	}
	return true;
}

int kf_kernel_journal_text(const char *data, size_t len, size_t cap, struct kf_buf *out,
			   struct kf_kernel_journal_stats *stats)
{
	const char *p = data, *end = data + len;
	int r = KF_OK;

	memset(stats, 0, sizeof(*stats));
	while (p < end && r == KF_OK && !stats->is_truncated) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);

		if (!is_blank(p, line_len))
			r = add_entry(p, line_len, cap, out, stats);
		p += line_len + 1;
	}
	return r;
}
