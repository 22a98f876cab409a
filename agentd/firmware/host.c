/* kefu-agentd: power supply and boot id for firmware updates, read under a root prefix. SPDX-License-Identifier: MIT */
#include "agentd/firmware/host.h"
#include "agentd/sysfs.h"
#include "proto/firmware/chid.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/*
 * This computer's hardware IDs from the kernel's DMI attributes, the numbers
 * written as fwupd writes SMBIOS ones before hashing: the BIOS release (the
 * kernel's "5.32") as "05" and "20", the chassis type (the kernel's "10") as "a".
 */
int kf_fw_host_hardware_ids(const char *root, struct kf_fw_host_ids *out, struct kf_error *err)
{
	static const char *const attrs[KF_CHID_FIELD_COUNT] = {
		[KF_CHID_MANUFACTURER] = "sys_vendor",
		[KF_CHID_FAMILY] = "product_family",
		[KF_CHID_PRODUCT_NAME] = "product_name",
		[KF_CHID_PRODUCT_SKU] = "product_sku",
		[KF_CHID_BASEBOARD_MANUFACTURER] = "board_vendor",
		[KF_CHID_BASEBOARD_PRODUCT] = "board_name",
		[KF_CHID_BIOS_VENDOR] = "bios_vendor",
		[KF_CHID_BIOS_VERSION] = "bios_version",
	};
	char release[64] = "", chassis[32] = "";
	const char *fields[KF_CHID_FIELD_COUNT] = {NULL};
	unsigned major, minor, kind;

	for (int f = 0; f < KF_CHID_FIELD_COUNT; f++) {
		out->fields[f][0] = '\0';
		if (attrs[f] != NULL && kf_sysfs_attr(root, DMI_CLASS, attrs[f], out->fields[f],
						      sizeof(out->fields[f])) == KF_OK)
			fields[f] = out->fields[f];
	}
	kf_sysfs_attr(root, DMI_CLASS, "bios_release", release, sizeof(release));
	if (sscanf(release, "%u.%u", &major, &minor) == 2 && major < 256 && minor < 256) {
		snprintf(out->fields[KF_CHID_BIOS_MAJOR_RELEASE], KF_FW_HOST_FIELD_SIZE, "%02x",
			 major);
		snprintf(out->fields[KF_CHID_BIOS_MINOR_RELEASE], KF_FW_HOST_FIELD_SIZE, "%02x",
			 minor);
		fields[KF_CHID_BIOS_MAJOR_RELEASE] = out->fields[KF_CHID_BIOS_MAJOR_RELEASE];
		fields[KF_CHID_BIOS_MINOR_RELEASE] = out->fields[KF_CHID_BIOS_MINOR_RELEASE];
	}
	kf_sysfs_attr(root, DMI_CLASS, "chassis_type", chassis, sizeof(chassis));
	if (sscanf(chassis, "%u", &kind) == 1 && kind < 256) {
		snprintf(out->fields[KF_CHID_ENCLOSURE_KIND], KF_FW_HOST_FIELD_SIZE, "%x", kind);
		fields[KF_CHID_ENCLOSURE_KIND] = out->fields[KF_CHID_ENCLOSURE_KIND];
	}
	return kf_fw_chid_compute(fields, out->ids, out->present, err);
}

bool kf_fw_host_has_hardware_id(const struct kf_fw_host_ids *ids, const char *alternatives)
{
	const char *p = alternatives;

	while (p != NULL && *p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		for (int i = 0; i < KF_FW_CHID_COUNT; i++)
			if (ids->present[i] && len == KF_FW_GUID_STRING_SIZE - 1 &&
			    strncasecmp(ids->ids[i], p, len) == 0)
				return true;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}

/*
 * As fwupd checks <requires><hardware>: each requirement is "GUID|GUID|..." and
 * holds when one of its GUIDs is a hardware ID of this computer; every one must hold.
 */
static int check_hardware_ids(const char *root, const struct kf_fw_metainfo *metainfo,
			      struct kf_error *err)
{
	struct kf_fw_host_ids *ids = malloc(sizeof(*ids));
	bool any = false;
	int r;

	if (ids == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if ((r = kf_fw_host_hardware_ids(root, ids, err)) != KF_OK)
		goto out;
	for (int i = 0; i < KF_FW_CHID_COUNT; i++)
		any = any || ids->present[i];
	if (!any) {
		r = kf_error_set(err, KF_ERR_DENIED,
				 "This firmware is only for certain computer models, and this "
				 "computer does not say which model it is.");
		goto out;
	}
	for (size_t g = 0; g < metainfo->hardware_guid_count; g++)
		if (!kf_fw_host_has_hardware_id(ids, metainfo->hardware_guids[g])) {
			r = kf_error_set(err, KF_ERR_DENIED,
					 "This firmware is for other computer models: none of "
					 "its %zu hardware IDs is this computer's",
					 metainfo->hardware_guid_count);
			goto out;
		}
out:
	free(ids);
	return r;
}

int kf_fw_host_check_computer(const char *root, const struct kf_fw_metainfo *metainfo,
			      struct kf_error *err)
{
	char vendor[256] = "", product[256] = "";

	kf_sysfs_attr(root, DMI_CLASS, "sys_vendor", vendor, sizeof(vendor));
	kf_sysfs_attr(root, DMI_CLASS, "product_name", product, sizeof(product));
	if (metainfo->hardware_guid_count > 0) {
		int r = check_hardware_ids(root, metainfo, err);

		if (r != KF_OK && vendor[0] != '\0' && r == KF_ERR_DENIED)
			return kf_error_set(
				err, r,
				"This firmware is for other computer models: none of "
				"its %zu hardware IDs is this computer's (%.60s %.60s).",
				metainfo->hardware_guid_count, vendor, product);
		if (r != KF_OK)
			return r;
	}
	if (metainfo->computer_count == 0)
		return KF_OK;
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
