/* kefu-agentd: what `smartctl --json` says about a disk's health. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_WATCH_SMART_H
#define KF_AGENTD_WATCH_SMART_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_WATCH_DISKS_MAX   32
#define KF_WATCH_FAILING_MAX 8
#define KF_WATCH_SMART_CAP   (1024 * 1024) /* the most of one smartctl output read */
#define KF_WATCH_UNKNOWN     (-1LL)

/* A device of `smartctl --scan --json`: its node and the -d type to open it with. */
struct kf_watch_disk_name {
	char name[64]; /* "/dev/sda" */
	char type[32]; /* "sat", "nvme", "scsi", ... */
};

/*
 * The health of one disk as smartctl 7 reports it with --json (its fields:
 * device, model_name, smart_status.passed, ata_smart_attributes.table[] with
 * id, name, thresh, value, when_failed and raw.value, and
 * nvme_smart_health_information_log). A number smartctl did not report is
 * KF_WATCH_UNKNOWN.
 */
struct kf_watch_disk {
	char name[64];     /* the kernel's name: "sda", "nvme0" */
	char model[128];   /* model_name, printable */
	char protocol[16]; /* "ATA", "NVMe", "SCSI" */
	int exit_status;   /* smartctl's exit status bits, -1 when the output has none */
	int passed;        /* smart_status.passed: 1, 0, or -1 when unknown */
	/* ATA attributes 5, 197 and 198: raw counts of sectors */
	long long reallocated, pending, offline_uncorrectable;
	/* ATA attributes whose normalised value is at or below their threshold now */
	char failing[KF_WATCH_FAILING_MAX][48];
	size_t n_failing;
	/* NVMe SMART / Health Information log (NVMe Base Specification, log page 02h) */
	long long critical_warning, available_spare, available_spare_threshold, percentage_used,
		media_errors;
};

/*
 * Reads one `smartctl --json -i -H -A DEVICE` output into *disk. Any bytes are
 * accepted: KF_ERR_INVALID when it is no JSON object or names no device.
 */
int kf_watch_smart_parse(const char *text, size_t len, struct kf_watch_disk *disk,
			 struct kf_error *err);

/*
 * Reads `smartctl --scan --json` into names (at most max); device names that are
 * not a plain /dev/ path, or types with characters other than letters, digits,
 * ',', '+' and '_', are left out. Returns KF_OK or KF_ERR_INVALID.
 */
int kf_watch_smart_scan_parse(const char *text, size_t len, struct kf_watch_disk_name *names,
			      size_t max, size_t *count, struct kf_error *err);

#endif
