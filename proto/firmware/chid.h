/* kefu: computer hardware IDs (CHIDs), as fwupd and Windows derive them from SMBIOS.
 * SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FW_CHID_H
#define KF_PROTO_FW_CHID_H

#include "proto/base/error.h"
#include "proto/firmware/guid.h"

#include <stdbool.h>

/*
 * Firmware may be limited to some computer models by hardware IDs
 * (`<requires><hardware>` in LVFS metainfo): HardwareID-0 to HardwareID-14,
 * each a version-5 UUID in Microsoft's namespace
 * 70ffd812-4c7f-4c7d-0000-000000000000 of some SMBIOS fields joined by "&" and
 * encoded as UTF-16LE, fields as fwupd shows them with `fwupdtool hwids`.
 * fwupd (1.9.x and later) adds three of its own in the same namespace, which
 * vendors may name too: HardwareID-15 to HardwareID-17 (the BIOS vendor with the
 * manufacturer, family, product name and SKU).
 */
enum kf_fw_chid_field {
	KF_CHID_MANUFACTURER,
	KF_CHID_FAMILY,
	KF_CHID_PRODUCT_NAME,
	KF_CHID_PRODUCT_SKU,
	KF_CHID_BASEBOARD_MANUFACTURER,
	KF_CHID_BASEBOARD_PRODUCT,
	KF_CHID_BIOS_VENDOR,
	KF_CHID_BIOS_VERSION,
	KF_CHID_BIOS_MAJOR_RELEASE,
	KF_CHID_BIOS_MINOR_RELEASE,
	KF_CHID_ENCLOSURE_KIND,
	KF_CHID_FIELD_COUNT,
};

#define KF_FW_CHID_COUNT 18 /* HardwareID-0 to HardwareID-17 */

/*
 * Computes every hardware ID whose fields are all known (fields[i] not NULL
 * and not empty after trimming spaces at both ends); present[i] says which.
 */
int kf_fw_chid_compute(const char *const fields[KF_CHID_FIELD_COUNT],
		       char out[KF_FW_CHID_COUNT][KF_FW_GUID_STRING_SIZE],
		       bool present[KF_FW_CHID_COUNT], struct kf_error *err);

/* fwupd's name of a field ("Manufacturer", "BiosMajorRelease", ...). */
const char *kf_fw_chid_field_name(enum kf_fw_chid_field field);

/* The fields HardwareID-id is made of: bit (1u << field) for each. */
unsigned kf_fw_chid_fields(int id);

#endif
