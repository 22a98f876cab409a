/* kefu: unit tests for computer hardware IDs, against what fwupd computes. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/firmware/chid.h"

#include <string.h>

/*
 * Two computers as `fwupdtool hwids` shows them, with the hardware IDs it
 * printed: a ThinkPad T440s (fwupd's own test data) and an MSI MS-7D70 desktop;
 * HardwareID-15 to 17 as fwupdtool 2.0.20 prints them for these fields given in
 * a HWIDS file (`fwupdtool hwids FILE`).
 * The SMBIOS numbers are hashed as fwupd hashes them, in hex ("%02x" for the
 * BIOS release, "%x" for the enclosure): the MSI's BIOS release 5.32, which
 * newer fwupd prints as "5" and "32", is hashed as "05" and "20".
 */
static const char *const t440s[KF_CHID_FIELD_COUNT] = {
	[KF_CHID_MANUFACTURER] = "LENOVO",
	[KF_CHID_FAMILY] = "ThinkPad T440s",
	[KF_CHID_PRODUCT_NAME] = "20ARS19C0C",
	[KF_CHID_PRODUCT_SKU] = "LENOVO_MT_20AR_BU_Think_FM_ThinkPad T440s",
	[KF_CHID_BASEBOARD_MANUFACTURER] = "LENOVO",
	[KF_CHID_BASEBOARD_PRODUCT] = "20ARS19C0C",
	[KF_CHID_BIOS_VENDOR] = "LENOVO",
	[KF_CHID_BIOS_VERSION] = "GJET75WW (2.25 )",
	[KF_CHID_BIOS_MAJOR_RELEASE] = "02",
	[KF_CHID_BIOS_MINOR_RELEASE] = "19",
	[KF_CHID_ENCLOSURE_KIND] = "a",
};

static const char *const t440s_ids[KF_FW_CHID_COUNT] = {
	"147efce9-f201-5fc8-ab0c-c859751c3440", "b7cceb67-774c-537e-bf8b-22c6107e9a74",
	"f5ff077f-3eeb-5bae-be1c-e98ffe8ce5f8", "3faec92a-3ae3-5744-be88-495e90a7d541",
	"660ccba8-1b78-5a33-80e6-9fb8354ee873", "8dc9b7c5-f5d5-5850-9ab3-bd6f0549d814",
	"178cd22d-ad9f-562d-ae0a-34009822cdbe", "da1da9b6-62f5-5f22-8aaa-14db7eeda2a4",
	"059eb22d-6dc7-59af-abd3-94bbe017f67c", "0cf8618d-9eff-537c-9f35-46861406eb9c",
	"f4275c1f-6130-5191-845c-3426247eb6a1", "db73af4c-4612-50f7-b8a7-787cf4871847",
	"e093d715-70f7-51f4-b6c8-b4a7e31def85", "f8e1de5f-b68c-5f52-9d1a-f1ba52f1f773",
	"6de5d951-d755-576b-bd09-c5cf66b27234", "b667ca40-6f8f-5c3c-99e5-6ee435a5caef",
	"b17b03c9-0a8a-5a42-9a8f-d3635025cf31", "99431f53-09a1-5869-be79-65e2fa3f341d",
};

static const char *const msi[KF_CHID_FIELD_COUNT] = {
	[KF_CHID_MANUFACTURER] = "Micro-Star International Co., Ltd.",
	[KF_CHID_FAMILY] = "To be filled by O.E.M.",
	[KF_CHID_PRODUCT_NAME] = "MS-7D70",
	[KF_CHID_PRODUCT_SKU] = "To be filled by O.E.M.",
	[KF_CHID_BASEBOARD_MANUFACTURER] = "Micro-Star International Co., Ltd.",
	[KF_CHID_BASEBOARD_PRODUCT] = "MPG X670E CARBON WIFI (MS-7D70)",
	[KF_CHID_BIOS_VENDOR] = "American Megatrends International, LLC.",
	[KF_CHID_BIOS_VERSION] = "1.E5",
	[KF_CHID_BIOS_MAJOR_RELEASE] = "05",
	[KF_CHID_BIOS_MINOR_RELEASE] = "20",
	[KF_CHID_ENCLOSURE_KIND] = "3",
};

static const char *const msi_ids[KF_FW_CHID_COUNT] = {
	"f59668ca-22bc-52a0-b6b5-1f6ce81b08e0", "f735f7a0-40da-5bfe-8ac2-0090532ee6d0",
	"25880e68-e005-5ca7-88b6-650de596604f", "01e09b32-de05-56ca-b9d1-9486ad5f381d",
	"cad87a11-1813-507b-9aab-9a5f457b649c", "377c823d-60d1-55b0-9678-76cd2af9d086",
	"28ac9cf2-5bde-59f7-aebe-4b3d008090fe", "e821e0e2-e11a-5e94-bf5d-ffe53c5e5048",
	"1c092f1d-dc7b-564f-8a3d-128d7292fab8", "c12c1f4a-332d-5d72-aa36-7a3d413b479a",
	"28ac9cf2-5bde-59f7-aebe-4b3d008090fe", "e821e0e2-e11a-5e94-bf5d-ffe53c5e5048",
	"bdd76d3e-147f-58a9-a0b2-42136454ed07", "b2e58e8b-fb10-5cd0-8fb0-5bd931f1871a",
	"50af5797-a2f2-58b1-9a1a-453bcbb2e025", "e6ff1b45-1955-5701-89ab-04fe2280cb4a",
	"8c4a76b9-e29e-5a3c-9072-9664898ecae6", "7b3d90ce-ed79-5951-a48a-764ea9f11146",
};

static void check(const char *const fields[], const char *const expected[])
{
	char ids[KF_FW_CHID_COUNT][KF_FW_GUID_STRING_SIZE];
	bool present[KF_FW_CHID_COUNT];

	assert_int_equal(kf_fw_chid_compute(fields, ids, present, NULL), KF_OK);
	for (int i = 0; i < KF_FW_CHID_COUNT; i++) {
		assert_true(present[i]);
		assert_string_equal(ids[i], expected[i]);
	}
}

static void test_thinkpad_matches_fwupd(void **state)
{
	(void)state;
	check(t440s, t440s_ids);
}

static void test_msi_desktop_matches_fwupd(void **state)
{
	(void)state;
	check(msi, msi_ids);
}

static void test_missing_fields_leave_their_ids_out(void **state)
{
	const char *fields[KF_CHID_FIELD_COUNT] = {
		[KF_CHID_MANUFACTURER] = "  LENOVO ", /* spaces at the ends do not count */
		[KF_CHID_PRODUCT_NAME] = "20ARS19C0C",
		[KF_CHID_FAMILY] = "   ",
	};
	char ids[KF_FW_CHID_COUNT][KF_FW_GUID_STRING_SIZE];
	bool present[KF_FW_CHID_COUNT];

	(void)state;
	assert_int_equal(kf_fw_chid_compute(fields, ids, present, NULL), KF_OK);
	for (int i = 0; i < KF_FW_CHID_COUNT; i++)
		assert_int_equal(present[i], i == 9 || i == 14);
	assert_string_equal(ids[9], t440s_ids[9]);
	assert_string_equal(ids[14], t440s_ids[14]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thinkpad_matches_fwupd),
		cmocka_unit_test(test_msi_desktop_matches_fwupd),
		cmocka_unit_test(test_missing_fields_leave_their_ids_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
