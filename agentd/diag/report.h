/* kefu-agentd: the diagnostics report (kefu.report/1), summary. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_REPORT_H
#define KF_AGENTD_REPORT_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdio.h>

#define KF_REPORT_SCHEMA "kefu.report/1"

/*
 * The report is a JSON document (proto/diag/report.schema.json). Collectors fill its
 * sections directly; the report owns every json_t below and frees them with
 * kf_report_free. The section pointers are borrowed references into root.
 */
struct kf_report {
	json_t *root;
	json_t *system;      /* object: os, kernel, dmi, cpu, memory, ... */
	json_t *devices;     /* array of device objects */
	json_t *modules;     /* array of loaded kernel modules */
	json_t *storage;     /* object: block, mounts */
	json_t *network;     /* object: interfaces, routes, dns */
	json_t *printers;    /* object: queues, jobs */
	json_t *power;       /* object: batteries, ac */
	json_t *kernel_log;  /* object: source, events, ... */
	json_t *firmware;    /* object: fwupd devices */
	json_t *problems;    /* array of problems */
	json_t *collectors;  /* array of per-collector results */
	json_t *not_checked; /* array: what could not be checked, and how to allow it */
};

/* Returns a new empty report with "generated" set to now, or NULL without memory. */
struct kf_report *kf_report_new(void);

void kf_report_free(struct kf_report *report);

/* Sets key to a string (sanitised copy); an empty or NULL value stores null. */
void kf_json_set_str(json_t *object, const char *key, const char *value);

/* Sets key to value (takes the reference); NULL values store null. */
void kf_json_set_new(json_t *object, const char *key, json_t *value);

/* Appends a string to an array. */
void kf_json_append_str(json_t *array, const char *value);

/* A string member or "" when absent or not a string. */
const char *kf_json_str(const json_t *object, const char *key);

/*
 * Adds a device object (taking the reference) to the report. The caller has set
 * at least "id" and "bus"; status and evidence are decided later, in one place
 * (driver-status.c). Returns the borrowed device object.
 */
json_t *kf_report_add_device(struct kf_report *report, json_t *device);

/* Finds a device by id (borrowed) or NULL. */
json_t *kf_report_find_device(const struct kf_report *report, const char *id);

/*
 * Adds a problem: device id (may be NULL), severity ("info", "warning", "error"),
 * a summary in plain words and its evidence (reference taken; may be NULL).
 */
void kf_report_add_problem(struct kf_report *report, const char *device, const char *severity,
			   const char *summary, json_t *evidence);

/*
 * Records that a check could not run: check names it ("kernel-log"), cause is
 * "denied", "absent" or "unavailable", summary says in plain words what was not
 * checked and why, advice how to allow it (may be NULL). The text summary leads
 * with these.
 */
void kf_report_add_not_checked(struct kf_report *report, const char *check, const char *cause,
			       const char *summary, const char *advice);

/* Serialises the report as indented JSON; the caller frees the string. */
char *kf_report_dump(const struct kf_report *report);

/* Writes the readable summary (what could not be checked, then problems) to out. */
void kf_report_print_summary(const struct kf_report *report, FILE *out);

#endif
