/* kefu-agentd collector: device names from pci.ids and usb.ids. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/diag/ids.h"
#include "agentd/sysfs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The ids files are a database, not a fact about the machine: a recorded tree
 * usually lacks them, so after the tree's own copy the running system's is used.
 */
static bool find_ids(const struct kf_collect_ctx *ctx, const char *file, char *out, size_t cap)
{
	static const char *const dirs[] = {"/usr/share/hwdata", "/usr/share/misc"};
	char path[PATH_MAX];
	size_t i;

	if (ctx->ids_dir != NULL) {
		snprintf(out, cap, "%s/%s", ctx->ids_dir, file);
		return access(out, R_OK) == 0;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], file);
		if (kf_sysfs_path(ctx->root, path, out, cap) == KF_OK && access(out, R_OK) == 0)
			return true;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, cap, "%s/%s", dirs[i], file);
		if (access(out, R_OK) == 0)
			return true;
	}
	return false;
}

static long class_of(const json_t *device)
{
	const char *text = kf_json_str(device, "class");
	json_t *interface;

	/* A USB device of class 00 takes its class from its first interface. */
	if (strncmp(text, "00", 2) == 0 &&
	    (interface = json_array_get(json_object_get(device, "interfaces"), 0)) != NULL &&
	    kf_json_str(interface, "class")[0] != '\0')
		text = kf_json_str(interface, "class");
	if (strlen(text) != 6)
		return -1;
	return strtol(text, NULL, 16);
}

static int name_bus(struct kf_collect_ctx *ctx, const char *bus, const char *file,
		    struct kf_error *err)
{
	struct kf_ids_query *queries;
	json_t **devices, *device;
	char path[PATH_MAX];
	size_t i, n = 0, total = json_array_size(ctx->report->devices);
	int r = KF_OK;

	queries = calloc(total ? total : 1, sizeof(*queries));
	devices = calloc(total ? total : 1, sizeof(*devices));
	if (queries == NULL || devices == NULL) {
		free(queries);
		free(devices);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	json_array_foreach(ctx->report->devices, i, device)
	{
		const char *vendor = kf_json_str(device, "vendor_id");
		const char *product = kf_json_str(device, "product_id");
		if (strcmp(kf_json_str(device, "bus"), bus) != 0 || vendor[0] == '\0' ||
		    product[0] == '\0')
			continue;
		queries[n].vendor = (unsigned)strtoul(vendor, NULL, 16);
		queries[n].product = (unsigned)strtoul(product, NULL, 16);
		queries[n].class_code = class_of(device);
		devices[n++] = device;
	}
	if (n == 0)
		goto out;
	if (!find_ids(ctx, file, path, sizeof(path))) {
		kf_collect_note(ctx, "%s not found (Debian package hwdata); %s devices are unnamed",
				file, bus);
		goto out;
	}
	if ((r = kf_ids_lookup(path, queries, n, err)) != KF_OK)
		goto out;
	for (i = 0; i < n; i++) {
		device = devices[i];
		if (queries[i].vendor_name[0] != '\0')
			kf_json_set_str(device, "vendor_name", queries[i].vendor_name);
		else if (kf_json_str(device, "manufacturer")[0] != '\0')
			kf_json_set_str(device, "vendor_name", kf_json_str(device, "manufacturer"));
		if (queries[i].name[0] != '\0')
			kf_json_set_str(device, "name", queries[i].name);
		else if (kf_json_str(device, "product")[0] != '\0')
			kf_json_set_str(device, "name", kf_json_str(device, "product"));
		kf_json_set_str(device, "class_name", queries[i].class_name);
	}
out:
	free(queries);
	free(devices);
	return r;
}

int kf_collect_names(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	int r = name_bus(ctx, "pci", "pci.ids", err);

	if (r == KF_OK)
		r = name_bus(ctx, "usb", "usb.ids", err);
	return r;
}
