/* kefu-agentd collector: firmware versions as fwupd sees them. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/tool.h"

#include <stdio.h>
#include <string.h>

int kf_collect_firmware(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	const char *argv[] = {"fwupdmgr", "get-devices", "--json", "--no-unreported-check", NULL};
	json_t *devices = json_array(), *answer, *list, *item;
	struct kf_tool_result result;
	struct kf_buf out = {0};
	size_t i;
	int r;

	json_object_set_new(ctx->report->firmware, "fwupd", json_false());
	json_object_set_new(ctx->report->firmware, "devices", devices);
	if (!ctx->is_live) {
		kf_collect_note(ctx, "fwupd is asked only on the live system");
		return KF_OK;
	}
	r = kf_tool_run(argv, ctx->tool_timeout_ms, KF_TOOL_CAP, &out, &result, err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_collect_note(ctx,
				"fwupd is not installed; firmware versions come from sysfs only");
		kf_error_clear(err);
		kf_buf_free(&out);
		return KF_OK;
	}
	if (r != KF_OK) {
		kf_buf_free(&out);
		return r;
	}
	json_object_set_new(ctx->report->firmware, "fwupd", json_true());
	kf_collect_keep_raw(ctx, "fwupd-devices.json", out.data, out.len, result.is_truncated);
	answer = json_loadb((const char *)out.data, out.len, 0, NULL);
	kf_buf_free(&out);
	if (answer == NULL) {
		return kf_error_set(
			err, KF_ERR_INVALID,
			"fwupdmgr get-devices gave no JSON (exit %d; is fwupd running?)",
			result.exit_status);
	}
	list = json_object_get(answer, "Devices");
	json_array_foreach(list, i, item)
	{
		json_t *device = json_object();
		kf_json_set_str(device, "name", json_string_value(json_object_get(item, "Name")));
		kf_json_set_str(device, "vendor",
				json_string_value(json_object_get(item, "Vendor")));
		kf_json_set_str(device, "version",
				json_string_value(json_object_get(item, "Version")));
		kf_json_set_str(device, "device_id",
				json_string_value(json_object_get(item, "DeviceId")));
		kf_json_set_new(device, "guids", json_incref(json_object_get(item, "Guid")));
		json_array_append_new(devices, device);
	}
	json_decref(answer);
	return KF_OK;
}
