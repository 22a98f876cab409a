/* kefu-agentd: driver-status rules and the problems found. SPDX-License-Identifier: MIT */
#include "agentd/diag/driver-status.h"
#include "agentd/i18n.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct device_events {
	const struct kf_kernel_event *probe_failed;
	const struct kf_kernel_event *firmware_missing;
	const struct kf_kernel_event *errors; /* device, USB and I/O errors */
	unsigned error_count;
};

static void evidence_add(json_t *evidence, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void evidence_add(json_t *evidence, const char *format, ...)
{
	char line[512];
	va_list args;

	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	kf_json_append_str(evidence, line);
}

/* Kernel-log lines are the strongest evidence: they go first. */
static void evidence_first(json_t *evidence, const char *prefix, const char *line)
{
	char text[512];

	json_t *value;

	snprintf(text, sizeof(text), "%s%s", prefix, line);
	value = json_string(text);
	json_array_insert_new(evidence, 0, value ? value : json_string("kernel log"));
}

/* "sda1" belongs to "sda", "nvme0n1p2" to "nvme0n1". */
static bool is_block_of(const char *event_device, const char *disk)
{
	size_t len = strlen(disk);
	const char *rest;

	if (strncmp(event_device, disk, len) != 0)
		return false;
	rest = event_device + len;
	if (*rest == 'p')
		rest++;
	while (isdigit((unsigned char)*rest))
		rest++;
	return *rest == '\0';
}

/* Which disk (storage.block[].name) of the report an I/O event names, and its device id. */
static const char *owner_of_block(const struct kf_report *report, const char *event_device)
{
	json_t *disk;
	size_t i;

	json_array_foreach(json_object_get(report->storage, "block"), i, disk)
	{
		if (is_block_of(event_device, kf_json_str(disk, "name")))
			return kf_json_str(disk, "device");
	}
	return "";
}

static bool event_is_for(const struct kf_report *report, const struct kf_kernel_event *ev,
			 const char *id, const char *kernel_name)
{
	size_t len = strlen(kernel_name);

	if (ev->kind == KF_KEV_IO_ERROR)
		return strcmp(owner_of_block(report, ev->device), id) == 0;
	if (len == 0 || strncmp(ev->device, kernel_name, len) != 0)
		return false;
	/* The device itself or one of its USB interfaces ("1-1.2:1.0"). */
	return ev->device[len] == '\0' || ev->device[len] == ':';
}

static void find_events(const struct kf_report *report, const struct kf_kernel_events *events,
			const char *id, const char *kernel_name, struct device_events *found,
			bool *is_claimed)
{
	size_t i;

	memset(found, 0, sizeof(*found));
	for (i = 0; i < events->count; i++) {
		const struct kf_kernel_event *ev = &events->items[i];
		if (!event_is_for(report, ev, id, kernel_name))
			continue;
		is_claimed[i] = true;
		switch (ev->kind) {
		case KF_KEV_PROBE_FAILED:
			if (found->probe_failed == NULL)
				found->probe_failed = ev;
			break;
		case KF_KEV_FIRMWARE_MISSING:
			if (found->firmware_missing == NULL)
				found->firmware_missing = ev;
			break;
		default:
			if (found->errors == NULL)
				found->errors = ev;
			found->error_count += ev->count;
			break;
		}
	}
}

/* Devices that ordinarily work with no driver of their own. */
static bool needs_driver(const json_t *device, const char **why_not)
{
	const char *bus = kf_json_str(device, "bus");
	const char *cls = kf_json_str(device, "class");

	*why_not = NULL;
	if (strcmp(bus, "pci") == 0) {
		if (strncmp(cls, "0600", 4) == 0 || strncmp(cls, "0601", 4) == 0 ||
		    strncmp(cls, "0680", 4) == 0)
			*why_not = "bridges of this kind need no driver";
		else if (strncmp(cls, "05", 2) == 0)
			*why_not = "memory controllers of this kind need no driver";
		else if (strncmp(cls, "0b", 2) == 0)
			*why_not =
				"processors are driven by the kernel's core, not a device driver";
	}
	return *why_not == NULL;
}

static const char *display_name(const json_t *device, char *out, size_t cap)
{
	const char *name = kf_json_str(device, "name");
	const char *vendor = kf_json_str(device, "vendor_name");

	if (name[0] != '\0' && vendor[0] != '\0')
		snprintf(out, cap, "%s %s", vendor, name);
	else if (name[0] != '\0')
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, _("The device %s"), kf_json_str(device, "id"));
	return out;
}

static void add_module_evidence(const json_t *device, json_t *evidence)
{
	const json_t *module = json_object_get(device, "module");
	const char *driver = kf_json_str(device, "driver");

	if (json_is_object(module)) {
		const char *version = kf_json_str(module, "version");
		const char *src = kf_json_str(module, "srcversion");
		evidence_add(evidence, "driver %s comes from module %s%s%s%s%s", driver,
			     kf_json_str(module, "name"), version[0] ? " version " : "", version,
			     src[0] ? " srcversion " : "", src);
	} else {
		evidence_add(evidence, "driver %s is built into the kernel (no module)", driver);
	}
}

/* USB interfaces without a driver while others have one. */
static size_t unbound_interfaces(const json_t *device, json_t *evidence)
{
	const json_t *interfaces = json_object_get(device, "interfaces");
	const json_t *interface;
	size_t i, unbound = 0;

	json_array_foreach(interfaces, i, interface)
	{
		if (!json_is_string(json_object_get(interface, "driver"))) {
			unbound++;
			if (evidence != NULL)
				evidence_add(evidence, "interface %s (class %s) has no driver",
					     kf_json_str(interface, "id"),
					     kf_json_str(interface, "class"));
		}
	}
	return unbound;
}

static void decide(struct kf_report *report, json_t *device, const struct device_events *ev)
{
	const char *id = kf_json_str(device, "id");
	const char *driver = kf_json_str(device, "driver");
	const char *status, *why_not;
	json_t *evidence = json_array(), *problem_evidence;
	char name[384], summary[768];
	bool is_bound = driver[0] != '\0';

	summary[0] = '\0';
	display_name(device, name, sizeof(name));
	if (!is_bound) {
		evidence_add(evidence, "no driver is bound to %s",
			     kf_json_str(device, "kernel_name"));
		if (kf_json_str(device, "modalias")[0] != '\0')
			evidence_add(evidence, "modalias %s", kf_json_str(device, "modalias"));
		if (ev->probe_failed != NULL) {
			status = KF_STATUS_FAILED;
			evidence_first(evidence, "kernel log: ", ev->probe_failed->line);
			if (ev->probe_failed->driver[0] != '\0')
				snprintf(summary, sizeof(summary),
					 _("%s is not working: its driver %s failed to start it "
					   "(error %s). A driver update or a firmware update may "
					   "fix this."),
					 name, ev->probe_failed->driver,
					 ev->probe_failed->detail[0] ? ev->probe_failed->detail
								     : _("unknown"));
			else
				snprintf(summary, sizeof(summary),
					 _("%s is not working: its driver failed to start it "
					   "(error %s). A driver update or a firmware update may "
					   "fix this."),
					 name,
					 ev->probe_failed->detail[0] ? ev->probe_failed->detail
								     : _("unknown"));
		} else if (ev->firmware_missing != NULL) {
			status = KF_STATUS_FAILED;
			evidence_first(evidence, "kernel log: ", ev->firmware_missing->line);
			snprintf(summary, sizeof(summary),
				 _("%s is not working: the firmware file %s it needs is missing. "
				   "Installing the firmware package for it should fix this."),
				 name, ev->firmware_missing->detail);
		} else if (ev->errors != NULL) {
			status = KF_STATUS_MALFUNCTION;
			snprintf(summary, sizeof(summary),
				 "kernel log (%u times): ", ev->error_count);
			evidence_first(evidence, summary, ev->errors->line);
			snprintf(summary, sizeof(summary),
				 _("%s does not respond properly. Try another port or cable; if "
				   "that "
				   "does not help, the device may be faulty."),
				 name);
		} else {
			status = KF_STATUS_DETECTED;
			if (!needs_driver(device, &why_not))
				evidence_add(evidence, "%s", why_not);
			else
				snprintf(summary, sizeof(summary),
					 _("%s was found but no driver is using it, so it will not "
					   "work yet."),
					 name);
		}
	} else {
		evidence_add(evidence, "driver %s is bound", driver);
		add_module_evidence(device, evidence);
		if (ev->firmware_missing != NULL) {
			status = KF_STATUS_LIMITED;
			evidence_first(evidence, "kernel log: ", ev->firmware_missing->line);
			snprintf(summary, sizeof(summary),
				 _("%s works only partly: the firmware file %s is missing. "
				   "Installing "
				   "the firmware package for it should fix this."),
				 name, ev->firmware_missing->detail);
		} else if (ev->errors != NULL) {
			status = KF_STATUS_MALFUNCTION;
			snprintf(summary, sizeof(summary),
				 "kernel log (%u times): ", ev->error_count);
			evidence_first(evidence, summary, ev->errors->line);
			snprintf(summary, sizeof(summary),
				 _("%s reports errors while in use (%u in the kernel log). It may "
				   "be "
				   "failing, badly connected or need a driver update."),
				 name, ev->error_count);
		} else if (unbound_interfaces(device, NULL) > 0) {
			status = KF_STATUS_LIMITED;
			unbound_interfaces(device, evidence);
			snprintf(summary, sizeof(summary),
				 _("%s works only partly: some of its functions have no driver."),
				 name);
		} else {
			status = KF_STATUS_WORKS;
			if (ev->probe_failed != NULL)
				evidence_add(evidence,
					     "an earlier start failed, but the driver is "
					     "bound now: %s",
					     ev->probe_failed->line);
		}
	}
	kf_json_set_str(device, "status", status);
	json_object_set_new(device, "evidence", evidence);
	if (summary[0] != '\0') {
		problem_evidence = json_deep_copy(evidence);
		kf_report_add_problem(report, id,
				      strcmp(status, KF_STATUS_DETECTED) == 0 ||
						      strcmp(status, KF_STATUS_LIMITED) == 0
					      ? "warning"
					      : "error",
				      summary, problem_evidence);
	}
}

/* Problems shown by sections other than the device list. */
static void section_problems(struct kf_report *report, const struct kf_kernel_events *events)
{
	json_t *item, *evidence;
	char summary[512];
	size_t i, k;

	json_array_foreach(json_object_get(report->storage, "mounts"), i, item)
	{
		json_t *used = json_object_get(item, "used_percent");
		if (json_is_integer(used) && json_integer_value(used) >= 95) {
			snprintf(summary, sizeof(summary),
				 _("The disk space at %s is almost used up (%d%% full). Free some "
				   "space, or programs may stop working."),
				 kf_json_str(item, "target"), (int)json_integer_value(used));
			evidence = json_array();
			evidence_add(evidence, "%s on %s: %d%% used", kf_json_str(item, "target"),
				     kf_json_str(item, "source"), (int)json_integer_value(used));
			kf_report_add_problem(report, NULL, "warning", summary, evidence);
		}
	}
	json_array_foreach(json_object_get(report->storage, "block"), i, item)
	{
		const char *name = kf_json_str(item, "name");
		const char *owner = kf_json_str(item, "device");
		if (json_is_false(json_object_get(item, "smart_passed"))) {
			snprintf(summary, sizeof(summary),
				 _("The disk %s says it is failing (SMART). Back up your files now "
				   "and have the disk replaced."),
				 name);
			evidence = json_array();
			evidence_add(evidence, "smartctl -H /dev/%s: FAILED", name);
			kf_report_add_problem(report, owner[0] ? owner : NULL, "error", summary,
					      evidence);
		}
		/* I/O errors on a disk whose controller is not a listed device. */
		if (owner[0] == '\0' || kf_report_find_device(report, owner) == NULL) {
			for (k = 0; k < events->count; k++) {
				const struct kf_kernel_event *ev = &events->items[k];
				if (ev->kind != KF_KEV_IO_ERROR || !is_block_of(ev->device, name))
					continue;
				snprintf(summary, sizeof(summary),
					 _("The disk %s had read or write errors. Back up your "
					   "files "
					   "and "
					   "check the disk."),
					 name);
				evidence = json_array();
				evidence_add(evidence, "kernel log (%u times): %s", ev->count,
					     ev->line);
				kf_report_add_problem(report, NULL, "error", summary, evidence);
				break;
			}
		}
	}
	json_array_foreach(json_object_get(report->power, "batteries"), i, item)
	{
		json_t *health = json_object_get(item, "health_percent");
		if (json_is_integer(health) && json_integer_value(health) < 50) {
			snprintf(summary, sizeof(summary),
				 _("The battery %s holds only %d%% of the charge it held when new. "
				   "It "
				   "should be replaced soon."),
				 kf_json_str(item, "name"), (int)json_integer_value(health));
			evidence = json_array();
			evidence_add(evidence, "battery %s: full charge is %d%% of design capacity",
				     kf_json_str(item, "name"), (int)json_integer_value(health));
			kf_report_add_problem(report, NULL, "warning", summary, evidence);
		}
	}
	json_array_foreach(json_object_get(report->printers, "queues"), i, item)
	{
		if (strcmp(kf_json_str(item, "state"), "stopped") == 0) {
			const char *message = kf_json_str(item, "state_message");
			const char *queue = kf_json_str(item, "name");
			json_t *job;
			size_t j, stuck = 0;

			evidence = json_array();
			evidence_add(evidence, "CUPS queue %s: state stopped%s%s", queue,
				     message[0] ? ": " : "", message);
			/* Jobs on a stopped queue are stuck until someone resumes it. */
			json_array_foreach(json_object_get(report->printers, "jobs"), j, job)
			{
				if (strcmp(kf_json_str(job, "queue"), queue) == 0) {
					stuck++;
					evidence_add(evidence, "job %s waiting since %s",
						     kf_json_str(job, "id"),
						     kf_json_str(job, "submitted"));
				}
			}
			if (stuck > 0)
				snprintf(summary, sizeof(summary),
					 ngettext("The printer %s is stopped; %zu print job is "
						  "waiting and will not print until it is resumed.",
						  "The printer %s is stopped; %zu print jobs are "
						  "waiting and will not print until it is resumed.",
						  (unsigned long)stuck),
					 queue, stuck);
			else
				snprintf(summary, sizeof(summary),
					 _("The printer %s is stopped and will not print until it "
					   "is "
					   "resumed."),
					 queue);
			kf_report_add_problem(report, NULL, "warning", summary, evidence);
		}
	}
	item = json_object_get(json_object_get(report->network, "dns"), "check");
	if (json_is_object(item) && json_is_false(json_object_get(item, "ok"))) {
		snprintf(
			summary, sizeof(summary),
			_("Names on the internet cannot be looked up (%s), so web sites and online "
			  "services will not open."),
			kf_json_str(item, "name"));
		evidence = json_array();
		evidence_add(evidence, "resolving %s: %s", kf_json_str(item, "name"),
			     kf_json_str(item, "error"));
		kf_report_add_problem(report, NULL, "warning", summary, evidence);
	}
}

/*
 * Failed probes and missing firmware of devices the inventory does not list
 * (platform devices, Bluetooth controllers behind another bus) still matter.
 */
static void unclaimed_problems(struct kf_report *report, const struct kf_kernel_events *events,
			       const bool *is_claimed)
{
	char summary[512];
	json_t *evidence;
	size_t i;

	for (i = 0; i < events->count; i++) {
		const struct kf_kernel_event *ev = &events->items[i];
		const char *who =
			ev->driver[0] ? ev->driver : (ev->device[0] ? ev->device : _("a device"));

		if (is_claimed[i])
			continue;
		if (ev->kind == KF_KEV_PROBE_FAILED)
			snprintf(summary, sizeof(summary),
				 _("A device could not be started: the driver %s failed (error "
				   "%s)."),
				 who, ev->detail[0] ? ev->detail : _("unknown"));
		else if (ev->kind == KF_KEV_FIRMWARE_MISSING)
			snprintf(summary, sizeof(summary),
				 _("The firmware file %s is missing, so a device (%s) may not work "
				   "fully. Installing its firmware package should fix this."),
				 ev->detail, who);
		else
			continue;
		evidence = json_array();
		evidence_add(evidence, "kernel log: %s", ev->line);
		kf_report_add_problem(report, NULL,
				      ev->kind == KF_KEV_PROBE_FAILED ? "error" : "warning",
				      summary, evidence);
	}
}

void kf_driver_status_apply(struct kf_report *report, const struct kf_kernel_events *events)
{
	bool is_claimed[KF_KERNEL_EVENTS_MAX] = {false};
	struct device_events found;
	json_t *device;
	size_t i;

	json_array_foreach(report->devices, i, device)
	{
		find_events(report, events, kf_json_str(device, "id"),
			    kf_json_str(device, "kernel_name"), &found, is_claimed);
		decide(report, device, &found);
	}
	/* I/O errors on disks are handled with the storage section. */
	section_problems(report, events);
	unclaimed_problems(report, events, is_claimed);
}
