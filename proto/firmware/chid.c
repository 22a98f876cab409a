/* kefu: computer hardware IDs (CHIDs), as fwupd and Windows derive them from SMBIOS.
 * SPDX-License-Identifier: MIT */
#include "proto/firmware/chid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Microsoft's namespace for hardware IDs: 70ffd812-4c7f-4c7d-0000-000000000000. */
static const uint8_t namespace_chid[16] = {0x70, 0xff, 0xd8, 0x12, 0x4c, 0x7f, 0x4c, 0x7d,
					   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

#define F(x) (1u << KF_CHID_##x)

/* Which fields make up HardwareID-0 to HardwareID-17, in their order. */
static const unsigned chid_fields[KF_FW_CHID_COUNT] = {
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME) | F(PRODUCT_SKU) | F(BIOS_VENDOR) |
		F(BIOS_VERSION) | F(BIOS_MAJOR_RELEASE) | F(BIOS_MINOR_RELEASE),
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME) | F(BIOS_VENDOR) | F(BIOS_VERSION) |
		F(BIOS_MAJOR_RELEASE) | F(BIOS_MINOR_RELEASE),
	F(MANUFACTURER) | F(PRODUCT_NAME) | F(BIOS_VENDOR) | F(BIOS_VERSION) |
		F(BIOS_MAJOR_RELEASE) | F(BIOS_MINOR_RELEASE),
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME) | F(PRODUCT_SKU) | F(BASEBOARD_MANUFACTURER) |
		F(BASEBOARD_PRODUCT),
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME) | F(PRODUCT_SKU),
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME),
	F(MANUFACTURER) | F(PRODUCT_SKU) | F(BASEBOARD_MANUFACTURER) | F(BASEBOARD_PRODUCT),
	F(MANUFACTURER) | F(PRODUCT_SKU),
	F(MANUFACTURER) | F(PRODUCT_NAME) | F(BASEBOARD_MANUFACTURER) | F(BASEBOARD_PRODUCT),
	F(MANUFACTURER) | F(PRODUCT_NAME),
	F(MANUFACTURER) | F(FAMILY) | F(BASEBOARD_MANUFACTURER) | F(BASEBOARD_PRODUCT),
	F(MANUFACTURER) | F(FAMILY),
	F(MANUFACTURER) | F(ENCLOSURE_KIND),
	F(MANUFACTURER) | F(BASEBOARD_MANUFACTURER) | F(BASEBOARD_PRODUCT),
	F(MANUFACTURER),
	/* fwupd's own, after Microsoft's fifteen. */
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME) | F(PRODUCT_SKU) | F(BIOS_VENDOR),
	F(MANUFACTURER) | F(FAMILY) | F(PRODUCT_NAME) | F(BIOS_VENDOR),
	F(MANUFACTURER) | F(BIOS_VENDOR),
};

const char *kf_fw_chid_field_name(enum kf_fw_chid_field field)
{
	static const char *const names[KF_CHID_FIELD_COUNT] = {
		[KF_CHID_MANUFACTURER] = "Manufacturer",
		[KF_CHID_FAMILY] = "Family",
		[KF_CHID_PRODUCT_NAME] = "ProductName",
		[KF_CHID_PRODUCT_SKU] = "ProductSku",
		[KF_CHID_BASEBOARD_MANUFACTURER] = "BaseboardManufacturer",
		[KF_CHID_BASEBOARD_PRODUCT] = "BaseboardProduct",
		[KF_CHID_BIOS_VENDOR] = "BiosVendor",
		[KF_CHID_BIOS_VERSION] = "BiosVersion",
		[KF_CHID_BIOS_MAJOR_RELEASE] = "BiosMajorRelease",
		[KF_CHID_BIOS_MINOR_RELEASE] = "BiosMinorRelease",
		[KF_CHID_ENCLOSURE_KIND] = "EnclosureKind",
	};

	return (unsigned)field < KF_CHID_FIELD_COUNT ? names[field] : "?";
}

unsigned kf_fw_chid_fields(int id)
{
	return id >= 0 && id < KF_FW_CHID_COUNT ? chid_fields[id] : 0;
}

/* Appends text as UTF-16LE; returns the new length, or 0 for invalid UTF-8 or no room. */
static size_t put_utf16le(uint8_t *out, size_t len, size_t cap, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text, *end = s + n;

	while (s < end) {
		uint32_t c;
		int extra;

		if (*s < 0x80) {
			c = *s;
			extra = 0;
		} else if ((*s & 0xe0) == 0xc0) {
			c = *s & 0x1f;
			extra = 1;
		} else if ((*s & 0xf0) == 0xe0) {
			c = *s & 0x0f;
			extra = 2;
		} else if ((*s & 0xf8) == 0xf0) {
			c = *s & 0x07;
			extra = 3;
		} else {
			return 0;
		}
		if (end - s <= extra)
			return 0;
		for (int i = 1; i <= extra; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i] & 0x3f);
		}
		s += extra + 1;
		if (c >= 0x10000) {
			uint32_t v = c - 0x10000;
			uint16_t hi = (uint16_t)(0xd800 | (v >> 10)),
				 lo = (uint16_t)(0xdc00 | (v & 0x3ff));

			if (len + 4 > cap)
				return 0;
			out[len++] = (uint8_t)hi;
			out[len++] = (uint8_t)(hi >> 8);
			out[len++] = (uint8_t)lo;
			out[len++] = (uint8_t)(lo >> 8);
		} else {
			if (len + 2 > cap)
				return 0;
			out[len++] = (uint8_t)c;
			out[len++] = (uint8_t)(c >> 8);
		}
	}
	return len;
}

/* The field without spaces at either end: start and length. */
static const char *trimmed(const char *text, size_t *len)
{
	size_t n;

	if (text == NULL)
		return NULL;
	while (*text == ' ')
		text++;
	n = strlen(text);
	while (n > 0 && text[n - 1] == ' ')
		n--;
	*len = n;
	return n > 0 ? text : NULL;
}

int kf_fw_chid_compute(const char *const fields[KF_CHID_FIELD_COUNT],
		       char out[KF_FW_CHID_COUNT][KF_FW_GUID_STRING_SIZE],
		       bool present[KF_FW_CHID_COUNT], struct kf_error *err)
{
	/* Eight fields of at most 256 bytes each, two UTF-16 bytes per byte at most. */
	enum { CAP = 8 * 2 * 256 + 16 };
	uint8_t *name = malloc(CAP);

	if (name == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	for (int id = 0; id < KF_FW_CHID_COUNT; id++) {
		size_t len = 0;
		bool ok = true, first = true;

		present[id] = false;
		for (int f = 0; f < KF_CHID_FIELD_COUNT && ok; f++) {
			size_t n;
			const char *value;

			if (!(chid_fields[id] & (1u << f)))
				continue;
			value = trimmed(fields[f], &n);
			if (value == NULL || n > 256) {
				ok = false;
				break;
			}
			if (!first)
				len = put_utf16le(name, len, CAP, "&", 1);
			first = false;
			len = put_utf16le(name, len, CAP, value, n);
			ok = len > 0;
		}
		if (ok && kf_fw_guid_v5(namespace_chid, name, len, out[id], err) == KF_OK)
			present[id] = true;
	}
	free(name);
	return KF_OK;
}
