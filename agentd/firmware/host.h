/* kefu-agentd: what the computer itself says before and after a firmware update (power, boot). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_HOST_H
#define KF_AGENTD_FW_HOST_H

#include "proto/base/error.h"
#include "proto/firmware/chid.h"
#include "proto/firmware/metainfo.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_FW_BATTERY_THRESHOLD 25  /* percent a battery must hold without mains power */
#define KF_FW_MAINS_ONLY        101 /* a threshold no battery reaches: mains power required */

/*
 * Reads /sys/class/power_supply under root. Returns 0 when mains power is online,
 * when no system battery exists (a desktop), or when the system batteries hold at
 * least threshold percent together on average; KF_ERR_DENIED with a sentence
 * otherwise. Batteries of peripherals (scope "Device") do not count.
 */
int kf_fw_host_check_power(const char *root, int threshold, struct kf_error *err);

/*
 * Whether this computer is one the firmware is for: when metainfo names computers,
 * /sys/class/dmi/id/sys_vendor (and product_name, when given) under root must match
 * one of them (trimmed, compared exactly). Firmware that names hardware IDs (LVFS
 * <requires><hardware> CHIDs, each entry "GUID|GUID|...") must find one GUID of every
 * entry among this computer's (kf_fw_host_hardware_ids). Returns 0, KF_ERR_DENIED or
 * KF_ERR_UNSUPPORTED with a sentence.
 */
int kf_fw_host_check_computer(const char *root, const struct kf_fw_metainfo *metainfo,
			      struct kf_error *err);

#define KF_FW_HOST_FIELD_SIZE 256

/* The computer's SMBIOS fields as hashed ("" when unknown) and its hardware IDs. */
struct kf_fw_host_ids {
	char fields[KF_CHID_FIELD_COUNT][KF_FW_HOST_FIELD_SIZE];
	char ids[KF_FW_CHID_COUNT][KF_FW_GUID_STRING_SIZE];
	bool present[KF_FW_CHID_COUNT];
};

/* Reads /sys/class/dmi/id under root and computes the hardware IDs as fwupd does. */
int kf_fw_host_hardware_ids(const char *root, struct kf_fw_host_ids *out, struct kf_error *err);

/* Whether one of the "|"-separated GUIDs in alternatives is one of ids' (any case). */
bool kf_fw_host_has_hardware_id(const struct kf_fw_host_ids *ids, const char *alternatives);

/* Reads this boot's id (/proc/sys/kernel/random/boot_id under root) into out. */
int kf_fw_host_boot_id(const char *root, char *out, size_t size, struct kf_error *err);

#endif
