/* kefu-agentd collector: PCI devices, IDs, class, driver, module. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCI_DEVICES "/sys/bus/pci/devices"

static void set_hex4(json_t *device, const char *key, unsigned long value, bool is_known)
{
	char text[8];

	if (!is_known || value > 0xffff) {
		json_object_set_new(device, key, json_null());
		return;
	}
	snprintf(text, sizeof(text), "%04lx", value);
	json_object_set_new(device, key, json_string(text));
}

/* "8086:3B3C" from the uevent, when the attribute files are missing. */
static bool parse_pair(const char *text, unsigned long *first, unsigned long *second)
{
	char *end;

	if (text[0] == '\0')
		return false;
	*first = strtoul(text, &end, 16);
	if (*end != ':')
		return false;
	*second = strtoul(end + 1, &end, 16);
	return *end == '\0';
}

static void add_device(struct kf_collect_ctx *ctx, const char *name)
{
	char dir[PATH_MAX], value[KF_ATTR_SIZE], driver[128] = "";
	unsigned long vendor = 0, product = 0, sub_vendor = 0, sub_product = 0, class_code = 0;
	bool has_ids, has_sub, has_class;
	json_t *device = json_object(), *uevent;
	const char *text;

	snprintf(dir, sizeof(dir), PCI_DEVICES "/%s", name);
	uevent = kf_collect_uevent(ctx, dir);
	snprintf(value, sizeof(value), "pci:%s", name);
	kf_json_set_str(device, "id", value);
	kf_json_set_str(device, "bus", "pci");
	kf_json_set_str(device, "kernel_name", name);

	has_ids = kf_sysfs_attr_hex(ctx->root, dir, "vendor", &vendor) == KF_OK &&
		  kf_sysfs_attr_hex(ctx->root, dir, "device", &product) == KF_OK;
	if (!has_ids)
		has_ids = parse_pair(kf_json_str(uevent, "PCI_ID"), &vendor, &product);
	set_hex4(device, "vendor_id", vendor, has_ids);
	set_hex4(device, "product_id", product, has_ids);
	has_sub = kf_sysfs_attr_hex(ctx->root, dir, "subsystem_vendor", &sub_vendor) == KF_OK &&
		  kf_sysfs_attr_hex(ctx->root, dir, "subsystem_device", &sub_product) == KF_OK;
	if (!has_sub)
		has_sub =
			parse_pair(kf_json_str(uevent, "PCI_SUBSYS_ID"), &sub_vendor, &sub_product);
	set_hex4(device, "subsystem_vendor_id", sub_vendor, has_sub);
	set_hex4(device, "subsystem_product_id", sub_product, has_sub);

	has_class = kf_sysfs_attr_hex(ctx->root, dir, "class", &class_code) == KF_OK;
	if (!has_class && (text = kf_json_str(uevent, "PCI_CLASS"))[0] != '\0') {
		char *end;
		class_code = strtoul(text, &end, 16);
		has_class = *end == '\0';
	}
	if (has_class && class_code <= 0xffffff) {
		snprintf(value, sizeof(value), "%06lx", class_code);
		kf_json_set_str(device, "class", value);
	} else {
		kf_json_set_str(device, "class", NULL);
	}
	if (kf_collect_attr(ctx, dir, "revision", value, sizeof(value)) == KF_OK &&
	    strncmp(value, "0x", 2) == 0)
		kf_json_set_str(device, "revision", value + 2);
	else
		kf_json_set_str(device, "revision", NULL);
	kf_json_set_str(device, "name", NULL);
	kf_json_set_str(device, "vendor_name", NULL);

	if (kf_collect_attr(ctx, dir, "modalias", value, sizeof(value)) != KF_OK ||
	    value[0] == '\0')
		snprintf(value, sizeof(value), "%s", kf_json_str(uevent, "MODALIAS"));
	kf_json_set_str(device, "modalias", value);

	if (kf_collect_driver(ctx, dir, driver, sizeof(driver)) != KF_OK)
		snprintf(driver, sizeof(driver), "%s", kf_json_str(uevent, "DRIVER"));
	kf_json_set_str(device, "driver", driver);
	kf_json_set_new(device, "module", kf_collect_module_of(ctx, "pci", driver));
	kf_collect_device_add(ctx, device, uevent, PCI_DEVICES, name, dir);
}

int kf_collect_pci(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	char **names;
	size_t count, i;
	int r;

	r = kf_collect_bus(ctx, PCI_DEVICES, "PCI", &names, &count, err);
	if (r != KF_OK)
		return r;
	for (i = 0; i < count; i++)
		add_device(ctx, names[i]);
	kf_collect_list_free(names, count);
	return KF_OK;
}
