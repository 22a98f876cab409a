/* kefu-agentd: finding device problems in kernel log text. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_KERNEL_LOG_H
#define KF_AGENTD_KERNEL_LOG_H

#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_KERNEL_EVENTS_MAX 256

enum kf_kernel_event_kind {
	KF_KEV_PROBE_FAILED,     /* a driver's probe of the device returned an error */
	KF_KEV_FIRMWARE_MISSING, /* a firmware file could not be loaded */
	KF_KEV_IO_ERROR,         /* I/O errors on a block device */
	KF_KEV_USB_ERROR,        /* USB enumeration errors (descriptor read, address) */
	KF_KEV_DEVICE_ERROR, /* other errors a driver logged for the device (timeouts, resets) */
};

/*
 * One kind of problem seen for one device. Repeats of the same line shape count
 * up instead of adding events. device is the kernel's name for it
 * ("0000:00:1a.0", "1-1.5.2", "1-1.5.2:1.0", "sda"), driver the driver that
 * logged it, detail the firmware file or error code, line the first full line.
 */
struct kf_kernel_event {
	enum kf_kernel_event_kind kind;
	char device[64];
	char driver[64];
	char detail[128];
	char line[256];
	unsigned count;
};

/* The events found, in order of first appearance; the fixed array bounds memory. */
struct kf_kernel_events {
	struct kf_kernel_event items[KF_KERNEL_EVENTS_MAX];
	size_t count;
	size_t dropped; /* events past the array */
	size_t lines;   /* lines read */
};

/* A stable name for kind ("probe-failed", "firmware-missing", ...). */
const char *kf_kernel_event_kind_name(enum kf_kernel_event_kind kind);

/*
 * Scans kernel log text and adds the device problems it finds to events.
 * Understands dmesg ("[   12.345] msg"), journalctl/syslog ("Nov 22 09:00:00 host
 * kernel: msg"), /dev/kmsg ("6,123,456,-;msg") and bare lines. Any bytes are
 * accepted; lines are cut at 4 KiB.
 */
void kf_kernel_log_parse(const char *text, size_t len, struct kf_kernel_events *events);

/* What kf_kernel_journal_text read. */
struct kf_kernel_journal_stats {
	size_t entries;    /* kernel messages turned into lines */
	size_t other;      /* entries of other transports than the kernel, left out */
	size_t skipped;    /* lines that were no journal entry (not JSON, no MESSAGE) */
	bool is_truncated; /* the text reached its cap; later entries were left out */
};

/*
 * Turns journal entries (what `journalctl -o json` prints: one JSON object a
 * line) into kernel-log lines that kf_kernel_log_parse reads:
 * "[   12.345678] MESSAGE" when the entry has _SOURCE_MONOTONIC_TIMESTAMP (or
 * __MONOTONIC_TIMESTAMP), "2026-11-22T09:00:00Z kernel: MESSAGE" when it has only
 * __REALTIME_TIMESTAMP. MESSAGE is a string or, when it is not UTF-8, an array of
 * byte values. Entries whose _TRANSPORT is not "kernel" are left out. Appends at
 * most cap bytes to out (whole lines only). Any bytes are accepted; KF_OK, or
 * KF_ERR_NOMEM.
 */
int kf_kernel_journal_text(const char *data, size_t len, size_t cap, struct kf_buf *out,
			   struct kf_kernel_journal_stats *stats);

#endif
