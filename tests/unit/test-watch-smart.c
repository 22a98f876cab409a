/* kefu: unit tests for reading smartctl's JSON (tests/fixtures/smart/). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/watch/smart.h"
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse_fixture(const char *name, struct kf_watch_disk *disk)
{
	char relative[128], path[4096];
	struct kf_error err = {0};
	uint8_t *text;
	size_t len;

	snprintf(relative, sizeof(relative), "smart/%s", name);
	text = read_whole_file(fixture_path(relative, path, sizeof(path)), &len);
	assert_non_null(text);
	assert_int_equal(kf_watch_smart_parse((const char *)text, len, disk, &err), KF_OK);
	free(text);
}

static void ata_attributes_5_197_198_are_read_as_raw_counts(void **state)
{
	struct kf_watch_disk d;

	(void)state;
	parse_fixture("ata-sda-reallocated-64-pending-12.json", &d);
	assert_string_equal(d.name, "sda");
	assert_string_equal(d.protocol, "ATA");
	assert_string_equal(d.model, "WDC WD10EZEX-08WN4A0");
	assert_int_equal(d.passed, 1);
	assert_int_equal(d.exit_status, 0x40);
	assert_int_equal(d.reallocated, 64);
	assert_int_equal(d.pending, 12);
	assert_int_equal(d.offline_uncorrectable, 3);
	assert_int_equal(d.n_failing, 0);
	assert_int_equal(d.media_errors, KF_WATCH_UNKNOWN);
	assert_int_equal(d.available_spare, KF_WATCH_UNKNOWN);
}

static void an_attribute_at_its_threshold_now_is_failing(void **state)
{
	struct kf_watch_disk d;

	(void)state;
	parse_fixture("ata-sda-failing.json", &d);
	assert_int_equal(d.passed, 0);
	assert_int_equal(d.n_failing, 1);
	assert_string_equal(d.failing[0], "Reallocated_Sector_Ct");
	assert_int_equal(d.reallocated, 1980);
}

static void nvme_health_log_is_read(void **state)
{
	struct kf_watch_disk d;

	(void)state;
	parse_fixture("nvme0-healthy.json", &d);
	assert_string_equal(d.name, "nvme0");
	assert_int_equal(d.critical_warning, 0);
	assert_int_equal(d.available_spare, 100);
	assert_int_equal(d.available_spare_threshold, 10);
	assert_int_equal(d.percentage_used, 3);
	assert_int_equal(d.media_errors, 0);
	assert_int_equal(d.reallocated, KF_WATCH_UNKNOWN);
	parse_fixture("nvme0-spare-low.json", &d);
	assert_int_equal(d.critical_warning, 1);
	assert_int_equal(d.available_spare, 5);
	assert_int_equal(d.percentage_used, 100);
	assert_int_equal(d.media_errors, 7);
	assert_int_equal(d.passed, 0);
}

static void output_that_is_no_disk_is_refused(void **state)
{
	static const char *const bad[] = {"",
					  "[]",
					  "{\"device\": {}}",
					  "{\"device\": 3}",
					  "not json",
					  "{\"device\": {\"name\": \"\"}}"};
	struct kf_watch_disk d;
	struct kf_error err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kf_watch_smart_parse(bad[i], strlen(bad[i]), &d, &err),
				 KF_ERR_INVALID);
}

static void text_from_the_disk_is_made_printable_and_numbers_checked(void **state)
{
	static const char text[] =
		"{\"device\": {\"name\": \"/dev/sd\\u001b[2Ja\"}, \"model_name\": \"x\\ny\\u0007\","
		" \"ata_smart_attributes\": {\"table\": [{\"id\": 5, \"raw\": {\"value\": -4}},"
		" {\"id\": 197, \"raw\": {\"value\": \"12\"}}]}}";
	struct kf_watch_disk d;
	struct kf_error err = {0};

	(void)state;
	assert_int_equal(kf_watch_smart_parse(text, strlen(text), &d, &err), KF_OK);
	assert_null(strchr(d.name, '\x1b'));
	assert_string_equal(d.model, "x y?");
	assert_int_equal(d.reallocated, KF_WATCH_UNKNOWN);
	assert_int_equal(d.pending, KF_WATCH_UNKNOWN);
}

static void scan_keeps_only_plain_device_paths_and_types(void **state)
{
	static const char text[] = "{\"devices\": [{\"name\": \"/dev/sda\", \"type\": \"sat\"},"
				   " {\"name\": \"/dev/../etc/shadow\", \"type\": \"sat\"},"
				   " {\"name\": \"-d\", \"type\": \"sat\"},"
				   " {\"name\": \"/dev/sdb\", \"type\": \"--test\"},"
				   " {\"name\": \"/dev/bus/0\", \"type\": \"megaraid,0\"}]}";
	struct kf_watch_disk_name names[8];
	struct kf_error err = {0};
	size_t n;

	(void)state;
	assert_int_equal(kf_watch_smart_scan_parse(text, strlen(text), names, 8, &n, &err), KF_OK);
	assert_int_equal(n, 3);
	assert_string_equal(names[0].name, "/dev/sda");
	assert_string_equal(names[0].type, "sat");
	assert_string_equal(names[1].name, "/dev/sdb");
	assert_string_equal(names[1].type, "auto");
	assert_string_equal(names[2].type, "megaraid,0");
	assert_int_equal(kf_watch_smart_scan_parse(text, strlen(text), names, 1, &n, &err), KF_OK);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ata_attributes_5_197_198_are_read_as_raw_counts),
		cmocka_unit_test(an_attribute_at_its_threshold_now_is_failing),
		cmocka_unit_test(nvme_health_log_is_read),
		cmocka_unit_test(output_that_is_no_disk_is_refused),
		cmocka_unit_test(text_from_the_disk_is_made_printable_and_numbers_checked),
		cmocka_unit_test(scan_keeps_only_plain_device_paths_and_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
