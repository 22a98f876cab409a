/* kefu-agentd collector: device problems in the kernel log. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"
#include "agentd/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/klog.h>

#define KERNEL_LOG_CAP (4 * 1024 * 1024)

/* The kernel ring buffer, as dmesg reads it; needs CAP_SYSLOG or dmesg_restrict=0. */
static int read_ring_buffer(struct kf_buf *out, bool *is_truncated)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	int got;

	*is_truncated = false;
	if (size <= 0)
		return KF_ERR_DENIED;
	if (size > KERNEL_LOG_CAP) {
		size = KERNEL_LOG_CAP;
		*is_truncated = true;
	}
	if (kf_buf_reserve(out, (size_t)size) != KF_OK)
		return KF_ERR_NOMEM;
	got = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, (char *)out->data + out->len, size);
	if (got < 0)
		return KF_ERR_DENIED;
	out->len += (size_t)got;
	return KF_OK;
}

static int read_live(struct kf_collect_ctx *ctx, struct kf_buf *text, const char **source)
{
	const char *argv[] = {"journalctl",      "-k",         "-b", "0", "-o",
			      "short-monotonic", "--no-pager", "-q", NULL};
	struct kf_tool_result result;
	struct kf_error err = {0};
	bool is_truncated;
	int r;

	r = kf_tool_run(argv, ctx->tool_timeout_ms, KERNEL_LOG_CAP, text, &result, &err);
	if (r == KF_OK && result.exit_status == 0 && text->len > 0) {
		*source = "journalctl -k -b 0";
		if (result.is_truncated)
			kf_collect_note(ctx, "journal output cut at %d bytes", KERNEL_LOG_CAP);
		return KF_OK;
	}
	if (r == KF_ERR_NOT_FOUND)
		kf_collect_note(ctx, "journalctl is not installed; reading the kernel ring buffer");
	else if (r != KF_OK)
		kf_collect_note(ctx, "journalctl: %s; reading the kernel ring buffer", err.message);
	else
		kf_collect_note(ctx, "the journal holds no kernel messages for this boot; reading "
				     "the kernel ring buffer");
	kf_buf_reset(text);
	r = read_ring_buffer(text, &is_truncated);
	if (r != KF_OK)
		return r;
	if (is_truncated)
		kf_collect_note(ctx, "kernel ring buffer cut at %d bytes", KERNEL_LOG_CAP);
	*source = "kernel ring buffer";
	return KF_OK;
}

int kf_collect_kernel_log(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	static const char *const files[] = {"/var/log/dmesg", "/var/log/kern.log"};
	struct kf_kernel_events *events = &ctx->events;
	json_t *log = ctx->report->kernel_log, *list;
	struct kf_buf text = {0};
	const char *source = NULL;
	size_t i;
	int r = KF_ERR_NOT_FOUND;

	if (ctx->is_live) {
		r = read_live(ctx, &text, &source);
		if (r == KF_OK)
			kf_collect_keep_raw(ctx, "kernel.log", text.data, text.len, false);
		else
			kf_error_set(err, r, "cannot read the kernel log (%s)", kf_err_name(r));
	} else {
		/* A recorded tree keeps its kernel log as a file. */
		for (i = 0; i < sizeof(files) / sizeof(files[0]) && r != KF_OK; i++) {
			bool is_truncated = false;
			r = kf_sysfs_read_tail(ctx->root, files[i], KERNEL_LOG_CAP, &text,
					       &is_truncated, NULL);
			if (r == KF_OK) {
				kf_collect_keep_raw(ctx, "kernel.log", text.data, text.len,
						    is_truncated);
				if (is_truncated)
					kf_collect_note(ctx,
							"%s is larger than %d bytes; only its last "
							"%d bytes were read",
							files[i], KERNEL_LOG_CAP, KERNEL_LOG_CAP);
			}
			if (r == KF_OK)
				source = files[i];
		}
		if (r != KF_OK)
			kf_error_set(err, r, "no kernel log in the tree (%s or %s)", files[0],
				     files[1]);
	}
	kf_json_set_str(log, "source", source);
	if (r == KF_OK)
		kf_kernel_log_parse((const char *)text.data, text.len, events);
	json_object_set_new(log, "lines", json_integer((json_int_t)events->lines));
	json_object_set_new(log, "bytes", json_integer((json_int_t)text.len));
	list = json_array();
	for (i = 0; i < events->count; i++) {
		const struct kf_kernel_event *ev = &events->items[i];
		json_t *item = json_object();

		kf_json_set_str(item, "kind", kf_kernel_event_kind_name(ev->kind));
		kf_json_set_str(item, "device", ev->device);
		kf_json_set_str(item, "driver", ev->driver);
		kf_json_set_str(item, "detail", ev->detail);
		json_object_set_new(item, "count", json_integer(ev->count));
		kf_json_set_str(item, "line", ev->line);
		json_array_append_new(list, item);
	}
	json_object_set_new(log, "events", list);
	json_object_set_new(log, "events_dropped", json_integer((json_int_t)events->dropped));
	if (events->dropped > 0)
		kf_collect_note(ctx, "%zu more kernel-log events were not kept (limit %d)",
				events->dropped, KF_KERNEL_EVENTS_MAX);
	kf_buf_free(&text);
	return r;
}
