/* kefu-agentd: power supply and boot id for firmware updates, read under a root prefix. SPDX-License-Identifier: MIT */
#include "agentd/fw-host.h"
#include "agentd/sysfs.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POWER_CLASS "/sys/class/power_supply"

int kf_fw_host_check_power(const char *root, int threshold, struct kf_error *err)
{
	char path[PATH_MAX];
	struct dirent **names;
	long long total = 0;
	int batteries = 0, n;
	bool on_mains = false;

	if (kf_sysfs_path(root, POWER_CLASS, path, sizeof(path)) != KF_OK)
		return kf_error_set(err, KF_ERR_INVALID, "the root path is too long");
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return KF_OK; /* no power supply class: a desktop or a virtual machine */
	for (int i = 0; i < n; i++) {
		char dir[PATH_MAX], type[64] = "", online[16] = "", scope[32] = "",
				    capacity[16] = "";

		if (names[i]->d_name[0] != '.' && snprintf(dir, sizeof(dir), "%s/%s", POWER_CLASS,
							   names[i]->d_name) < (int)sizeof(dir)) {
			kf_sysfs_attr(root, dir, "type", type, sizeof(type));
			kf_sysfs_attr(root, dir, "online", online, sizeof(online));
			kf_sysfs_attr(root, dir, "scope", scope, sizeof(scope));
			kf_sysfs_attr(root, dir, "capacity", capacity, sizeof(capacity));
			if ((strcmp(type, "Mains") == 0 || strcmp(type, "USB") == 0) &&
			    strcmp(online, "1") == 0)
				on_mains = true;
			else if (strcmp(type, "Battery") == 0 && strcmp(scope, "Device") != 0 &&
				 capacity[0] != '\0') {
				total += atoll(capacity);
				batteries++;
			}
		}
		free(names[i]);
	}
	free(names);
	if (on_mains || batteries == 0 || total / batteries >= threshold)
		return KF_OK;
	return kf_error_set(err, KF_ERR_DENIED,
			    "The battery is at %lld%%; plug in the power adapter (or charge to "
			    "%d%%) before updating firmware.",
			    total / batteries, threshold);
}

#define DMI_CLASS "/sys/class/dmi/id"

int kf_fw_host_check_computer(const char *root, const struct kf_fw_metainfo *metainfo,
			      struct kf_error *err)
{
	char vendor[256] = "", product[256] = "";

	if (metainfo->hardware_guid_count > 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "This firmware is only for certain computer models named by "
				    "hardware IDs, which kefu cannot check yet.");
	if (metainfo->computer_count == 0)
		return KF_OK;
	kf_sysfs_attr(root, DMI_CLASS, "sys_vendor", vendor, sizeof(vendor));
	kf_sysfs_attr(root, DMI_CLASS, "product_name", product, sizeof(product));
	for (size_t i = 0; i < metainfo->computer_count; i++) {
		const struct kf_fw_computer *c = &metainfo->computers[i];

		if (strcmp(c->vendor, vendor) == 0 &&
		    (c->product == NULL || strcmp(c->product, product) == 0))
			return KF_OK;
	}
	if (vendor[0] == '\0')
		return kf_error_set(err, KF_ERR_DENIED,
				    "This firmware is only for certain computer models, and this "
				    "computer does not say which model it is.");
	return kf_error_set(err, KF_ERR_DENIED,
			    "This firmware is not for this computer (%.100s %.100s); it is for "
			    "%.100s%s%.100s%s.",
			    vendor, product, metainfo->computers[0].vendor,
			    metainfo->computers[0].product != NULL ? " " : "",
			    metainfo->computers[0].product != NULL ? metainfo->computers[0].product
								   : "",
			    metainfo->computer_count > 1 ? " and other models" : "");
}

int kf_fw_host_boot_id(const char *root, char *out, size_t size, struct kf_error *err)
{
	if (kf_sysfs_read_attr(root, "/proc/sys/kernel/random/boot_id", out, size) != KF_OK ||
	    out[0] == '\0')
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot read this boot's id");
	return KF_OK;
}
