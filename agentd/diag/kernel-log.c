/* kefu-agentd: finding device problems in kernel log text. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_KEPT 4096

const char *kf_kernel_event_kind_name(enum kf_kernel_event_kind kind)
{
	switch (kind) {
	case KF_KEV_PROBE_FAILED:
		return "probe-failed";
	case KF_KEV_FIRMWARE_MISSING:
		return "firmware-missing";
	case KF_KEV_IO_ERROR:
		return "io-error";
	case KF_KEV_USB_ERROR:
		return "usb-error";
	case KF_KEV_DEVICE_ERROR:
		return "device-error";
	}
	return "unknown";
}

static void copy_token(char *out, size_t cap, const char *start, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(out, start, len);
	out[len] = '\0';
}

static bool is_device_name(const char *s, size_t len)
{
	return kf_device_name_is_pci(s, len) || kf_device_name_usb(s, len) != KF_USB_NAME_NONE;
}

/* Skips the timestamp, priority and syslog prefixes of every format we read. */
static const char *message_start(const char *line)
{
	const char *p = line, *kernel;

	if (p[0] == '<') {
		const char *close = strchr(p, '>');
		if (close != NULL && close - p <= 4)
			p = close + 1;
	}
	if (isdigit((unsigned char)p[0])) {
		/* /dev/kmsg: "6,123,456,-;message" */
		const char *semi = strchr(p, ';');
		const char *space = strchr(p, ' ');
		if (semi != NULL && (space == NULL || semi < space) && semi - p < 64)
			p = semi + 1;
	}
	kernel = strstr(p, " kernel: ");
	if (kernel != NULL && kernel - p < 96)
		p = kernel + strlen(" kernel: ");
	while (*p == ' ')
		p++;
	if (p[0] == '[') {
		const char *close = strchr(p, ']');
		if (close != NULL && close - p < 32)
			p = close + 1;
	}
	while (*p == ' ')
		p++;
	return p;
}

static void add_event(struct kf_kernel_events *events, enum kf_kernel_event_kind kind,
		      const char *device, const char *driver, const char *detail, const char *line)
{
	struct kf_kernel_event *ev;
	size_t i;

	for (i = 0; i < events->count; i++) {
		ev = &events->items[i];
		if (ev->kind == kind && strcmp(ev->device, device) == 0 &&
		    strcmp(ev->detail, detail) == 0) {
			ev->count++;
			return;
		}
	}
	if (events->count >= KF_KERNEL_EVENTS_MAX) {
		events->dropped++;
		return;
	}
	ev = &events->items[events->count++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	snprintf(ev->device, sizeof(ev->device), "%s", device);
	snprintf(ev->driver, sizeof(ev->driver), "%s", driver);
	snprintf(ev->detail, sizeof(ev->detail), "%s", detail);
	snprintf(ev->line, sizeof(ev->line), "%s", line);
	ev->count = 1;
}

/* Copies the word at p (up to a space, comma, parenthesis or end) into out. */
static void word_at(const char *p, char *out, size_t cap)
{
	size_t len = strcspn(p, " ,()\t");

	copy_token(out, cap, p, len);
}

/* The error code after "error " (e.g. "-71"), or "". */
static void error_code(const char *msg, char *out, size_t cap)
{
	const char *e = strstr(msg, "error ");

	out[0] = '\0';
	if (e != NULL)
		word_at(e + strlen("error "), out, cap);
}

static bool contains_word_ci(const char *msg, const char *word)
{
	return strcasestr(msg, word) != NULL;
}

static void scan_message(const char *line, const char *msg, struct kf_kernel_events *events)
{
	char driver[64] = "", device[64] = "", detail[128] = "";
	const char *body = msg, *p;
	size_t first;

	/* dev_printk shape: "DRIVER DEVICE: message". */
	first = strcspn(msg, " :");
	if (first > 0 && first < sizeof(driver) && msg[first] == ' ') {
		const char *dev = msg + first + 1;
		/* Device names contain colons (PCI, USB interfaces): take up to ": ". */
		p = strstr(dev, ": ");
		if (p != NULL && (size_t)(p - dev) < sizeof(device) &&
		    memchr(dev, ' ', (size_t)(p - dev)) == NULL &&
		    is_device_name(dev, (size_t)(p - dev))) {
			copy_token(driver, sizeof(driver), msg, first);
			copy_token(device, sizeof(device), dev, (size_t)(p - dev));
			body = p + 2;
		}
	}

	/* "DRIVER: probe of DEVICE failed with error -N" (driver core). */
	if ((p = strstr(body, "probe of ")) != NULL && strstr(p, " failed") != NULL) {
		char name[64];
		word_at(p + strlen("probe of "), name, sizeof(name));
		error_code(p, detail, sizeof(detail));
		if (device[0] == '\0') {
			const char *colon = strchr(msg, ':');
			if (colon != NULL && colon < p)
				copy_token(driver, sizeof(driver), msg, (size_t)(colon - msg));
		}
		add_event(events, KF_KEV_PROBE_FAILED, name, driver, detail, line);
		return;
	}
	if (device[0] != '\0' &&
	    (strstr(body, "probe with driver") != NULL || strstr(body, "probe failed") != NULL ||
	     strstr(body, "failed to probe") != NULL)) {
		error_code(body, detail, sizeof(detail));
		if ((p = strstr(body, "probe with driver ")) != NULL)
			word_at(p + strlen("probe with driver "), driver, sizeof(driver));
		add_event(events, KF_KEV_PROBE_FAILED, device, driver, detail, line);
		return;
	}
	/* "Direct firmware load for FILE failed with error -2", "firmware: failed to load FILE
	 * (-2)". */
	if ((p = strstr(body, "Direct firmware load for ")) != NULL) {
		word_at(p + strlen("Direct firmware load for "), detail, sizeof(detail));
		add_event(events, KF_KEV_FIRMWARE_MISSING, device, driver, detail, line);
		return;
	}
	if ((p = strstr(body, "failed to load ")) != NULL && strstr(body, "firmware") != NULL) {
		word_at(p + strlen("failed to load "), detail, sizeof(detail));
		add_event(events, KF_KEV_FIRMWARE_MISSING, device, driver, detail, line);
		return;
	}
	if (device[0] != '\0' && contains_word_ci(body, "firmware") &&
	    (contains_word_ci(body, "no suitable") || contains_word_ci(body, "not found") ||
	     contains_word_ci(body, "missing") || contains_word_ci(body, "failed"))) {
		snprintf(detail, sizeof(detail), "%s", "firmware");
		add_event(events, KF_KEV_FIRMWARE_MISSING, device, driver, detail, line);
		return;
	}
	/* Block layer: "I/O error, dev sda, sector 123", "Buffer I/O error on dev sda1". */
	if ((p = strstr(body, "I/O error, dev ")) != NULL) {
		word_at(p + strlen("I/O error, dev "), device, sizeof(device));
		add_event(events, KF_KEV_IO_ERROR, device, "", "I/O error", line);
		return;
	}
	if ((p = strstr(body, "I/O error on dev ")) != NULL) {
		word_at(p + strlen("I/O error on dev "), device, sizeof(device));
		add_event(events, KF_KEV_IO_ERROR, device, "", "I/O error", line);
		return;
	}
	if (device[0] == '\0')
		return;
	if (strcmp(driver, "usb") == 0 && (strstr(body, "device descriptor read") != NULL ||
					   strstr(body, "not accepting address") != NULL ||
					   strstr(body, "can't set config") != NULL ||
					   strstr(body, "unable to enumerate") != NULL)) {
		error_code(body, detail, sizeof(detail));
		add_event(events, KF_KEV_USB_ERROR, device, driver, detail, line);
		return;
	}
	if (contains_word_ci(body, "error") || contains_word_ci(body, "timed out") ||
	    contains_word_ci(body, "timeout") || contains_word_ci(body, "failed") ||
	    contains_word_ci(body, "hang")) {
		/* The message without numbers that vary keeps repeats together. */
		size_t i, n = 0;
		for (i = 0; body[i] != '\0' && n + 1 < sizeof(detail) && n < 48; i++) {
			if (!isdigit((unsigned char)body[i]))
				detail[n++] = body[i];
		}
		detail[n] = '\0';
		add_event(events, KF_KEV_DEVICE_ERROR, device, driver, detail, line);
	}
}

void kf_kernel_log_parse(const char *text, size_t len, struct kf_kernel_events *events)
{
	const char *p = text, *end;
	char line[LINE_MAX_KEPT];

	if (text == NULL)
		return; /* an empty log (no text at all) has no lines */
	end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);
		size_t kept = line_len < sizeof(line) - 1 ? line_len : sizeof(line) - 1;

		memcpy(line, p, kept);
		line[kept] = '\0';
		kf_text_sanitize(line, kept);
		events->lines++;
		if (kept > 0)
			scan_message(line, message_start(line), events);
		p += line_len + 1;
	}
}
