/* kefu-agentd collector: input devices not behind PCI or USB. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_CLASS "/sys/class/input"

/* "input:b0011v0002p0007e01B1-..." -> the four hex digits after letter. */
static bool modalias_field(const char *modalias, char letter, char out[5])
{
	const char *p = strchr(modalias, ':');
	size_t i;

	if (p == NULL)
		return false;
	p = strchr(p, letter);
	if (p == NULL)
		return false;
	for (i = 0; i < 4; i++) {
		char c = p[1 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
		out[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
	}
	out[4] = '\0';
	return true;
}

/* The driver's module from the driver link "/sys/bus/BUS/drivers/NAME". */
static json_t *module_of_driver_path(const struct kf_collect_ctx *ctx, const char *driver_path,
				     const char *driver)
{
	char bus[64];
	const char *p = strstr(driver_path, "/bus/");
	size_t len;

	if (p == NULL)
		return json_null();
	p += strlen("/bus/");
	len = strcspn(p, "/");
	if (len == 0 || len >= sizeof(bus))
		return json_null();
	memcpy(bus, p, len);
	bus[len] = '\0';
	return kf_collect_module_of(ctx, bus, driver);
}

static void add_device(struct kf_collect_ctx *ctx, const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX], parent[PATH_MAX], value[KF_ATTR_SIZE];
	char driver[128] = "", driver_path[PATH_MAX] = "", owner[128], hex[5];
	const char *parent_name;
	json_t *device, *uevent;

	snprintf(dir, sizeof(dir), INPUT_CLASS "/%s", name);
	if (kf_sysfs_link_path(ctx->root, INPUT_CLASS, name, path, sizeof(path)) != KF_OK)
		snprintf(path, sizeof(path), "%s", dir);
	kf_collect_device_of(path, owner, sizeof(owner));
	if (owner[0] != '\0')
		return; /* the PCI or USB device above it is in the report already */
	/* The "device" link is relative to where the input device really is. */
	if (kf_sysfs_link_path(ctx->root, path, "device", parent, sizeof(parent)) != KF_OK)
		return;
	parent_name = strrchr(parent, '/');
	parent_name = parent_name ? parent_name + 1 : parent;

	snprintf(value, sizeof(value), "input:%.200s", parent_name);
	if (kf_report_find_device(ctx->report, value) != NULL)
		return; /* one device with several input nodes */
	device = json_object();
	uevent = kf_collect_uevent(ctx, dir);
	kf_json_set_str(device, "id", value);
	kf_json_set_str(device, "bus", "input");
	kf_json_set_str(device, "kernel_name", parent_name);
	if (kf_collect_attr(ctx, dir, "modalias", value, sizeof(value)) != KF_OK ||
	    value[0] == '\0')
		snprintf(value, sizeof(value), "%s", kf_json_str(uevent, "MODALIAS"));
	kf_json_set_str(device, "vendor_id", modalias_field(value, 'v', hex) ? hex : NULL);
	kf_json_set_str(device, "product_id", modalias_field(value, 'p', hex) ? hex : NULL);
	kf_json_set_str(device, "modalias", value);
	kf_json_set_str(device, "class", "input");
	kf_collect_attr(ctx, dir, "name", value, sizeof(value));
	kf_json_set_str(device, "name", value);
	kf_json_set_str(device, "vendor_name", NULL);
	kf_collect_attr(ctx, dir, "phys", value, sizeof(value));
	kf_json_set_str(device, "phys", value);
	if (kf_collect_driver(ctx, parent, driver, sizeof(driver)) == KF_OK)
		kf_sysfs_link_path(ctx->root, parent, "driver", driver_path, sizeof(driver_path));
	kf_json_set_str(device, "driver", driver);
	kf_json_set_new(device, "module", module_of_driver_path(ctx, driver_path, driver));
	kf_json_set_str(device, "firmware_version", NULL);
	kf_json_set_str(device, "sysfs_path", parent);
	kf_json_set_str(device, "status", "detected");
	json_object_set_new(device, "evidence", json_array());
	json_decref(uevent);
	kf_report_add_device(ctx->report, device);
}

int kf_collect_input(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	char **names;
	size_t count, i;
	int r;

	r = kf_collect_list(ctx, INPUT_CLASS, &names, &count, err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_collect_note(ctx, "no input devices (%s absent)", INPUT_CLASS);
		kf_error_clear(err);
		return KF_OK;
	}
	if (r != KF_OK)
		return r;
	for (i = 0; i < count; i++) {
		if (strncmp(names[i], "input", 5) == 0)
			add_device(ctx, names[i]);
	}
	kf_collect_list_free(names, count);
	return KF_OK;
}
