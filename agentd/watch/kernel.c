/* kefu-agentd watch: device errors in the kernel log, and whether they rise between runs.
 * SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"
#include "agentd/watch/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { IO, USB, GPU, N_KINDS };

static const struct {
	const char *key, *words, *advice;
} kinds[N_KINDS] = {
	[IO] = {"io-errors", "read or write errors on a disk",
		"A disk or its cable is failing: back up your files now."},
	[USB] = {"usb-errors", "USB devices that failed to connect or were reset",
		 "Try another USB port or cable for the device; a hub without its own power "
		 "supply often causes this."},
	[GPU] = {"gpu-hangs", "graphics chip hangs or resets",
		 "Update the graphics driver and firmware; if it goes on, ask for help."},
};

static bool is_gpu_driver(const char *driver)
{
	static const char *const drivers[] = {"i915", "xe", "amdgpu", "radeon", "nouveau", NULL};

	for (size_t i = 0; drivers[i] != NULL; i++)
		if (strcmp(driver, drivers[i]) == 0)
			return true;
	return false;
}

/* This boot's id: the kernel's counts start again at every boot. */
static void boot_id(const char *root, char *out, size_t cap)
{
	if (kf_sysfs_read_attr(root, "/proc/sys/kernel/random/boot_id", out, cap) != KF_OK ||
	    out[0] == '\0')
		snprintf(out, cap, "unknown");
	for (char *c = out; *c != '\0'; c++)
		if (*c == ' ' || *c == '\n')
			*c = '\0';
}

static void rising_rule(struct kf_watch_run *run, enum kind kind, const char *boot, double count)
{
	struct kf_watch_point *points;
	char key[160], rule[64];
	size_t n, n_any;
	double before = -1;

	snprintf(key, sizeof(key), "%s@%s", kinds[kind].key, boot);
	/* The last count of this boot; without one, a boot after earlier runs starts from 0. */
	if (kf_watch_history(run, "kernel", key, 0, &points, &n) != KF_OK)
		return;
	if (n > 0)
		before = points[n - 1].value;
	free(points);
	if (before < 0) {
		if (kf_watch_history(run, "kernel-runs", "runs", 0, &points, &n_any) != KF_OK)
			return;
		free(points);
		if (n_any > 0)
			before = 0;
	}
	kf_watch_measure(run, "kernel", key, count);
	if (before < 0 || count <= before)
		return;
	snprintf(rule, sizeof(rule), "kernel-%s", kinds[kind].key);
	kf_watch_find(run, rule, "rising", 1, kinds[kind].advice, NULL,
		      "the kernel logged %.0f more %s since the last check (%.0f this boot)",
		      count - before, kinds[kind].words, count);
}

void kf_watch_kernel(struct kf_watch_run *run)
{
	struct kf_collect_ctx *ctx = calloc(1, sizeof(*ctx));
	struct kf_report *report = kf_report_new();
	struct kf_error err = {0};
	double counts[N_KINDS] = {0};
	char boot[64];
	size_t i;

	if (ctx == NULL || report == NULL) {
		free(ctx);
		kf_report_free(report);
		return;
	}
	ctx->root = run->root;
	ctx->is_live = run->is_live;
	ctx->tool_timeout_ms = run->tool_timeout_ms;
	ctx->report = report;
	ctx->notes = json_array();
	if (kf_collect_kernel_log(ctx, &err) != KF_OK) {
		kf_watch_note(run, "device errors were not counted: %s", err.message);
		goto out;
	}
	for (i = 0; i < ctx->events.count; i++) {
		const struct kf_kernel_event *ev = &ctx->events.items[i];

		if (ev->kind == KF_KEV_IO_ERROR)
			counts[IO] += ev->count;
		else if (ev->kind == KF_KEV_USB_ERROR)
			counts[USB] += ev->count;
		else if (ev->kind == KF_KEV_DEVICE_ERROR && is_gpu_driver(ev->driver))
			counts[GPU] += ev->count;
	}
	boot_id(run->root, boot, sizeof(boot));
	for (i = 0; i < N_KINDS; i++)
		rising_rule(run, (enum kind)i, boot, counts[i]);
	kf_watch_measure(run, "kernel-runs", "runs", 1);
out:
	json_decref(ctx->notes);
	kf_collect_ctx_release(ctx);
	free(ctx);
	kf_report_free(report);
}
