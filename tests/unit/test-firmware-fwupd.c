/* kefu: unit tests for fwupd's JSON (device list and history recorded from fwupdtool 2.0.20 with
 * its test plugin) and matching cabinets to fwupd's devices. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/firmware/fwupd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_GUID "b585990a-003e-5270-89d5-3705a17f9a43"

static char *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = malloc(64 * 1024);

	assert_non_null(f);
	*len = fread(data, 1, 64 * 1024 - 1, f);
	data[*len] = '\0';
	fclose(f);
	return data;
}

static void recorded_device_list_parses(void **state)
{
	struct kf_fwupd_device *devices = NULL;
	size_t len, count = 0;
	char *json = load("tests/unit/data/fwupd-get-devices.json", &len);
	char *guids[] = {(char *)"2082b5e0-7a64-478a-b1b2-e3404fab6dad", (char *)FAKE_GUID};
	struct kf_fw_metainfo m = {.guids = guids, .guid_count = 2};
	const struct kf_fwupd_device *match;
	(void)state;

	assert_int_equal(kf_fwupd_parse_devices(json, len, &devices, &count, NULL), KF_OK);
	assert_int_equal(count, 2);
	assert_string_equal(devices[0].id, "08d460be0f1f9f128413f816022a6439e0078018");
	assert_string_equal(devices[0].version, "1.2.2");
	assert_string_equal(devices[0].version_format, "triplet");
	assert_true(devices[0].is_updatable);
	assert_string_equal(devices[0].guids[0], FAKE_GUID);
	/* The processor has no version and is not updatable. */
	assert_false(devices[1].is_updatable);
	match = kf_fwupd_match(devices, count, &m);
	assert_ptr_equal(match, &devices[0]);
	m.guid_count = 1;
	assert_null(kf_fwupd_match(devices, count, &m));
	kf_fwupd_devices_free(devices, count);
	free(json);
}

static void recorded_history_gives_state_and_version(void **state)
{
	struct kf_fwupd_device *devices = NULL;
	size_t len, count = 0;
	char *json = load("tests/unit/data/fwupd-get-history.json", &len);
	(void)state;

	assert_int_equal(kf_fwupd_parse_devices(json, len, &devices, &count, NULL), KF_OK);
	assert_int_equal(count, 1);
	assert_int_equal(devices[0].update_state, KF_FWUPD_STATE_SUCCESS);
	assert_string_equal(devices[0].version, "1.2.4");
	assert_true(devices[0].modified > 0);
	kf_fwupd_devices_free(devices, count);
	free(json);
}

static void odd_json_is_refused_or_skipped(void **state)
{
	static const char *const refused[] = {"", "[]", "{\"Devices\": 3}", "nonsense"};
	struct kf_fwupd_device *devices = NULL;
	size_t count = 0;
	const char *skip = "{\"Devices\": [1, {\"Name\": \"no id\"}, {\"DeviceId\": \"a\", "
			   "\"Guid\": [\"AB\", 7], \"Flags\": \"updatable\"}]}";
	(void)state;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(kf_fwupd_parse_devices(refused[i], strlen(refused[i]), &devices,
							&count, NULL),
				 KF_ERR_INVALID);
	assert_int_equal(kf_fwupd_parse_devices(skip, strlen(skip), &devices, &count, NULL), KF_OK);
	assert_int_equal(count, 1);
	assert_int_equal(devices[0].guid_count, 1);
	assert_string_equal(devices[0].guids[0], "ab");
	assert_false(devices[0].is_updatable);
	kf_fwupd_devices_free(devices, count);
	assert_int_equal(kf_fwupd_parse_devices("{}", 2, &devices, &count, NULL), KF_OK);
	assert_int_equal(count, 0);
	kf_fwupd_devices_free(devices, count);
}

/*
 * `fwupdtool get-updates --json` of fwupd 2.0.20 on Debian 12 with its test plugin
 * (TestDevices=true) and a directory remote holding fwupd's fakedevice124 cabinet.
 */
static void recorded_updates_give_the_device_and_its_release(void **state)
{
	struct kf_fwupd_update *ups = NULL;
	size_t count = 0, len;
	char *json = load("tests/unit/data/fwupd-get-updates.json", &len);
	(void)state;

	assert_int_equal(kf_fwupd_parse_updates(json, len, &ups, &count, NULL), KF_OK);
	assert_int_equal(count, 1);
	assert_string_equal(ups[0].device_id, "08d460be0f1f9f128413f816022a6439e0078018");
	assert_string_equal(ups[0].device_name, "Integrated Webcam\u2122");
	assert_string_equal(ups[0].from, "1.2.2");
	assert_string_equal(ups[0].to, "1.2.4");
	assert_string_equal(ups[0].appstream_id, "org.fwupd.fakedevice.firmware");
	assert_string_equal(ups[0].remote_id, "kefu-test");
	assert_string_equal(ups[0].location, "file:///tmp/kefu-fwupd-remote/dir/fakedevice124.cab");
	/* The markup is gone, the words stay. */
	assert_string_equal(ups[0].description, "Fixes another bug with the flux capacitor to "
						"prevent time going backwards.");
	kf_fwupd_updates_free(ups, count);
	free(json);
}

static void the_newest_release_is_chosen_and_odd_devices_left_out(void **state)
{
	static const char json[] =
		"{\"Devices\": [7, {\"DeviceId\": \"no-release\"}, {\"Name\": \"no id\", "
		"\"Releases\": [{\"Version\": \"1\"}]}, {\"DeviceId\": \"d\", \"Version\": "
		"\"1.0\", \"Releases\": [{\"Version\": \"1.9\"}, {\"Version\": \"1.10\", "
		"\"Description\": \"<p>A &amp; B</p><ul><li>C</li></ul>\", \"Uri\": "
		"\"https://x/y.cab\"}, 5, {\"Name\": \"no version\"}]}]}";
	struct kf_fwupd_update *ups = NULL;
	size_t count = 0;
	(void)state;

	assert_int_equal(kf_fwupd_parse_updates(json, strlen(json), &ups, &count, NULL), KF_OK);
	assert_int_equal(count, 1);
	assert_string_equal(ups[0].device_id, "d");
	assert_string_equal(ups[0].to, "1.10");
	assert_string_equal(ups[0].description, "A & B C");
	assert_string_equal(ups[0].location, "https://x/y.cab");
	assert_null(ups[0].device_name);
	kf_fwupd_updates_free(ups, count);
	assert_int_equal(kf_fwupd_parse_updates("[]", 2, &ups, &count, NULL), KF_ERR_INVALID);
	assert_int_equal(kf_fwupd_parse_updates("{}", 2, &ups, &count, NULL), KF_OK);
	assert_int_equal(count, 0);
	kf_fwupd_updates_free(ups, count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recorded_device_list_parses),
		cmocka_unit_test(recorded_history_gives_state_and_version),
		cmocka_unit_test(odd_json_is_refused_or_skipped),
		cmocka_unit_test(recorded_updates_give_the_device_and_its_release),
		cmocka_unit_test(the_newest_release_is_chosen_and_odd_devices_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
