/* kefu-agentd: what the computer itself says before and after a firmware update (power, boot). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_HOST_H
#define KF_AGENTD_FW_HOST_H

#include "proto/base/error.h"
#include "proto/firmware/metainfo.h"

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
 * <requires><hardware> CHIDs) is refused, since they are not computed here. Returns 0,
 * KF_ERR_DENIED or KF_ERR_UNSUPPORTED with a sentence.
 */
int kf_fw_host_check_computer(const char *root, const struct kf_fw_metainfo *metainfo,
			      struct kf_error *err);

/* Reads this boot's id (/proc/sys/kernel/random/boot_id under root) into out. */
int kf_fw_host_boot_id(const char *root, char *out, size_t size, struct kf_error *err);

#endif
