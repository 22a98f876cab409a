/* kefu-agentd: the diagnostics collectors and their context. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_COLLECT_H
#define KF_AGENTD_COLLECT_H

#include "agentd/diag/kernel-log.h"
#include "agentd/diag/report.h"
#include "proto/base/buffer.h"
#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_RAW_CAP         (1024 * 1024) /* the most of one raw file kept for the bundle */
#define KF_TOOL_CAP        (256 * 1024)  /* the most of one tool's output kept */
#define KF_TOOL_TIMEOUT_MS 5000          /* default bound on one external tool */

/* A raw input kept for the bundle: its name inside raw/ and its bytes (owned). */
struct kf_raw_file {
	char *name;
	struct kf_buf data;
	bool is_truncated;
};

/*
 * What every collector sees. The context owns raw[] and events; report and
 * notes are borrowed. notes is the current collector's notes array: a collector
 * adds a line there for anything it skipped or cut (absent tool, capped input).
 */
struct kf_collect_ctx {
	const char *root;         /* "/" or a recorded tree */
	bool is_live;             /* root is "/": tools may run, addresses may be read */
	const char *resolve_name; /* a name to resolve for the DNS check, or NULL */
	const char *ids_dir;      /* where pci.ids/usb.ids live, or NULL for the default */
	int tool_timeout_ms;
	struct kf_report *report;
	json_t *notes;
	struct kf_raw_file *raw;
	size_t raw_count;
	struct kf_kernel_events events; /* kernel-log problems, for the driver-status rules */
};

/*
 * Adds a formatted note to the current collector's notes. A collector keeps at
 * most KF_NOTES_MAX notes; the last then counts those left out.
 */
#define KF_NOTES_MAX 50
void kf_collect_note(const struct kf_collect_ctx *ctx, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * kf_sysfs_attr and kf_sysfs_read_attr for collectors: a value that was cut or
 * had bytes that are not UTF-8 text replaced leaves a note naming the file.
 */
int kf_collect_attr(const struct kf_collect_ctx *ctx, const char *dir, const char *name, char *out,
		    size_t cap);
int kf_collect_read_attr(const struct kf_collect_ctx *ctx, const char *path, char *out, size_t cap);

/*
 * The driver bound to the device in dir (the last part of dir/driver's target)
 * into out; a link that loops or names no driver leaves a note and out "".
 */
int kf_collect_driver(const struct kf_collect_ctx *ctx, const char *dir, char *out, size_t cap);

/*
 * Reads root+path (at most cap bytes) into out and keeps a copy as raw/<raw_name>
 * for the bundle (raw_name NULL: no copy). A cut file leaves a note.
 */
int kf_collect_read(struct kf_collect_ctx *ctx, const char *path, size_t cap, const char *raw_name,
		    struct kf_buf *out, struct kf_error *err);

/* Keeps bytes as raw/<name> for the bundle (copied). */
int kf_collect_keep_raw(struct kf_collect_ctx *ctx, const char *name, const void *data, size_t len,
			bool is_truncated);

/* Frees everything the context owns. */
void kf_collect_ctx_release(struct kf_collect_ctx *ctx);

/*
 * Finds the id of the nearest PCI or USB device on or above the sysfs path
 * (e.g. "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda" -> "pci:0000:00:02.0");
 * out is "" when none.
 */
void kf_collect_device_of(const char *sysfs_path, char *out, size_t cap);

/* The driver's kernel module under /sys/bus/BUS/drivers/DRIVER/module: {name, version, srcversion}
 * or null. */
json_t *kf_collect_module_of(const struct kf_collect_ctx *ctx, const char *bus, const char *driver);

/*
 * The KEY=VALUE pairs of dir/uevent as a new JSON object (caller owns; empty
 * when unreadable): at most KF_UEVENT_CAP bytes and KF_UEVENT_PAIRS pairs, a
 * note when it held more or bytes that are not UTF-8 text.
 */
#define KF_UEVENT_CAP   (16 * 1024)
#define KF_UEVENT_PAIRS 256
json_t *kf_collect_uevent(const struct kf_collect_ctx *ctx, const char *dir);

/*
 * Reads the firmware version a device shows in sysfs (firmware_version, fw_version,
 * firmware_rev...) into out; "" when it shows none.
 */
void kf_collect_firmware_version(const struct kf_collect_ctx *ctx, const char *dir, char *out,
				 size_t cap);

/* A decimal attribute of dir (e.g. "capacity"), or -1 when it is absent or not a number. */
long long kf_collect_attr_number(const struct kf_collect_ctx *ctx, const char *dir,
				 const char *name);

/*
 * What every bus collector does last: the firmware version sysfs shows in dir,
 * the device's own sysfs path (the link bus_dir/name resolved), the status
 * "detected" with no evidence yet (driver-status.c decides the rest), and the
 * device into the report. Takes over device and uevent.
 */
void kf_collect_device_add(struct kf_collect_ctx *ctx, json_t *device, json_t *uevent,
			   const char *bus_dir, const char *name, const char *dir);

/*
 * The entries of a bus folder such as /sys/bus/pci/devices. A computer without
 * that bus is a note ("no PCI bus"), not a failure: KF_OK with *count 0.
 */
int kf_collect_bus(struct kf_collect_ctx *ctx, const char *bus_dir, const char *bus_label,
		   char ***names, size_t *count, struct kf_error *err);

/* Lists the entries of root+path (no "." or ".."), sorted; caller frees with kf_collect_list_free.
 */
int kf_collect_list(const struct kf_collect_ctx *ctx, const char *path, char ***names,
		    size_t *count, struct kf_error *err);
void kf_collect_list_free(char **names, size_t count);

/* The kernel's names for devices (device-name.c). */
enum kf_usb_name {
	KF_USB_NAME_NONE,
	KF_USB_NAME_DEVICE,    /* "1-1.5.2", a root hub "usb1" */
	KF_USB_NAME_INTERFACE, /* "1-1.5.2:1.0" */
};

/* Whether s (len bytes, not terminated) is a PCI device name: "0000:00:1a.0". */
bool kf_device_name_is_pci(const char *s, size_t len);

/* What kind of USB name s (len bytes, not terminated) is, if any. */
enum kf_usb_name kf_device_name_usb(const char *s, size_t len);

/* Collectors: each fills its part of the report; 0 or a negative code with err set. */
typedef int (*kf_collector_fn)(struct kf_collect_ctx *ctx, struct kf_error *err);

int kf_collect_system(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_cpu(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_memory(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_kernel_log(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_modules(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_pci(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_usb(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_input(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_storage(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_network(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_printers(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_power(struct kf_collect_ctx *ctx, struct kf_error *err);
int kf_collect_firmware(struct kf_collect_ctx *ctx, struct kf_error *err);

/* Adds vendor_name/name from pci.ids and usb.ids to every device (one pass per file). */
int kf_collect_names(struct kf_collect_ctx *ctx, struct kf_error *err);

/*
 * Runs every collector in order, timing each and recording it in
 * report->collectors; then names devices and decides driver statuses. Never
 * fails as a whole: a failing collector leaves its error in the report.
 */
void kf_collect_all(struct kf_collect_ctx *ctx);

#endif
