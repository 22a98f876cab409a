/* kefu: unit tests for the LVFS metainfo parser: the real fixture, and hostile XML. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"
#include "proto/firmware/metainfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *load_fixture(const char *name, size_t *len)
{
	return (char *)read_fwupd_fixture(name, len);
}

static int parse(const char *xml, struct kf_fw_metainfo **info, struct kf_error *err)
{
	return kf_fw_metainfo_parse(xml, strlen(xml), info, err);
}

#define GOOD_HEAD                                                                                  \
	"<component type=\"firmware\"><id>a.b</id>"                                                \
	"<provides><firmware type=\"flashed\">B585990A-003E-5270-89D5-3705A17F9A43</firmware>"     \
	"</provides>"
#define GOOD_RELEASE                                                                               \
	"<releases><release version=\"1.2.4\"><checksum type=\"sha256\" filename=\"f.bin\" "       \
	"target=\"content\">77f3e17bad9d510786133804fc1e050488f628257ce00c7e23938f7b31c4cac2"      \
	"</checksum></release></releases>"

static void lvfs_fixture_parses(void **state)
{
	struct kf_fw_metainfo *info;
	struct kf_error err;
	size_t len = 0;
	char *xml = load_fixture("fakedevice124.metainfo.xml", &len);
	(void)state;

	if (xml == NULL)
		fail();
	assert_int_equal(kf_fw_metainfo_parse(xml, len, &info, &err), 0);
	assert_string_equal(info->id, "org.fwupd.fakedevice.firmware");
	assert_string_equal(info->name, "FakeDevice");
	assert_string_equal(info->developer_name, "LVFS");
	assert_int_equal(info->guid_count, 1);
	assert_string_equal(info->guids[0], "b585990a-003e-5270-89d5-3705a17f9a43");
	assert_string_equal(info->version, "1.2.4");
	assert_string_equal(info->version_format, "triplet");
	assert_string_equal(info->payload_name, "fakedevice124.bin");
	assert_string_equal(info->payload_sha256,
			    "77f3e17bad9d510786133804fc1e050488f628257ce00c7e23938f7b31c4cac2");
	assert_non_null(strstr(info->release_text, "time going backwards"));
	assert_int_equal(info->hardware_guid_count, 0);
	kf_fw_metainfo_free(info);
	free(xml);
}

static void guids_are_lower_case_and_artifacts_count(void **state)
{
	struct kf_fw_metainfo *info;
	struct kf_error err;
	(void)state;

	assert_int_equal(parse(GOOD_HEAD
			       "<requires><hardware>6de5d951-d755-576b-bd09-c5cf66b27234|"
			       "f8e1de5f-b68c-5f52-9d1a-f1ba52f1f773</hardware></requires>"
			       "<releases><release version=\"2\"><artifacts><artifact "
			       "type=\"source\"><filename>x.bin</filename><checksum "
			       "type=\"sha256\">77F3E17BAD9D510786133804FC1E050488F628257CE00C7E"
			       "23938F7B31C4CAC2</checksum></artifact></artifacts></release>"
			       "</releases></component>",
			       &info, &err),
			 0);
	assert_string_equal(info->guids[0], "b585990a-003e-5270-89d5-3705a17f9a43");
	assert_string_equal(info->payload_name, "x.bin");
	assert_string_equal(info->payload_sha256,
			    "77f3e17bad9d510786133804fc1e050488f628257ce00c7e23938f7b31c4cac2");
	assert_int_equal(info->hardware_guid_count, 1);
	assert_null(info->version_format);
	kf_fw_metainfo_free(info);
}

static void firmware_requirements_are_read(void **state)
{
	struct kf_fw_metainfo *info;
	struct kf_error err;
	(void)state;

	assert_int_equal(parse(GOOD_HEAD "<requires><firmware compare=\"ge\" version=\"1.2.3\"/>"
					 "<firmware compare=\"eq\" version=\"0.1\"> bootloader "
					 "</firmware><id compare=\"ge\" version=\"1.5\">"
					 "org.freedesktop.fwupd</id></requires>" GOOD_RELEASE
					 "</component>",
			       &info, &err),
			 0);
	assert_int_equal(info->firmware_requirement_count, 2);
	assert_string_equal(info->firmware_requirements[0].compare, "ge");
	assert_string_equal(info->firmware_requirements[0].version, "1.2.3");
	assert_null(info->firmware_requirements[0].text);
	assert_null(info->firmware_requirements[0].depth);
	assert_string_equal(info->firmware_requirements[1].text, "bootloader");
	kf_fw_metainfo_free(info);
}

static void entity_definitions_are_refused(void **state)
{
	struct kf_fw_metainfo *info;
	struct kf_error err;
	(void)state;

	/* A billion laughs: never expanded, refused at the document type. */
	assert_int_equal(parse("<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY a \"aaaaaaaaaa\">"
			       "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
			       "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>" GOOD_HEAD
			       "<name>&c;</name>" GOOD_RELEASE "</component>",
			       &info, &err),
			 KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "document type"));
	assert_null(info);
	/* An external entity (a local file) is refused the same way. */
	assert_int_equal(parse("<!DOCTYPE c [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" GOOD_HEAD
			       "<name>&x;</name>" GOOD_RELEASE "</component>",
			       &info, &err),
			 KF_ERR_INVALID);
	/* An undefined entity is an XML error, not an expansion. */
	assert_int_equal(
		parse(GOOD_HEAD "<name>&x;</name>" GOOD_RELEASE "</component>", &info, &err),
		KF_ERR_INVALID);
}

static void limits_hold(void **state)
{
	struct kf_fw_metainfo *info;
	struct kf_error err;
	size_t big = KF_FW_METAINFO_MAX_TEXT + 100;
	char *xml = malloc(big + 512);
	(void)state;

	/* Nesting deeper than the limit. */
	strcpy(xml, GOOD_HEAD);
	for (int i = 0; i < KF_FW_METAINFO_MAX_DEPTH + 2; i++)
		strcat(xml, "<x>");
	assert_int_equal(parse(xml, &info, &err), KF_ERR_TOO_LARGE);
	/* Too much text in one element. */
	strcpy(xml, GOOD_HEAD "<name>");
	memset(xml + strlen(xml), 'a', big);
	strcpy(xml + strlen(GOOD_HEAD "<name>") + big, "</name>" GOOD_RELEASE "</component>");
	assert_int_equal(parse(xml, &info, &err), KF_ERR_TOO_LARGE);
	/* A whole document over the size limit is not even parsed. */
	assert_int_equal(kf_fw_metainfo_parse(xml, KF_FW_METAINFO_MAX_SIZE + 1, &info, &err),
			 KF_ERR_TOO_LARGE);
	free(xml);
}

static void incomplete_or_contradicting_metainfo_is_refused(void **state)
{
	struct kf_fw_metainfo *info;
	struct kf_error err;
	(void)state;

	assert_int_equal(parse("<component type=\"desktop\"><id>a</id></component>", &info, &err),
			 KF_ERR_INVALID);
	assert_int_equal(parse("<component type=\"firmware\"><id>a</id>" GOOD_RELEASE
			       "</component>",
			       &info, &err),
			 KF_ERR_INVALID);
	assert_int_equal(parse(GOOD_HEAD "</component>", &info, &err), KF_ERR_INVALID);
	assert_int_equal(parse(GOOD_HEAD "<releases><release version=\"1\"></release></releases>"
					 "</component>",
			       &info, &err),
			 KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "SHA-256"));
	/* Two releases, two ids, a GUID that is not one, disagreeing checksums. */
	assert_int_equal(parse(GOOD_HEAD "<releases><release version=\"1\"/><release "
					 "version=\"2\"/></releases></component>",
			       &info, &err),
			 KF_ERR_INVALID);
	assert_int_equal(parse(GOOD_HEAD "<id>b</id>" GOOD_RELEASE "</component>", &info, &err),
			 KF_ERR_INVALID);
	assert_int_equal(parse("<component type=\"firmware\"><id>a</id><provides><firmware "
			       "type=\"flashed\">USB\\VID_1</firmware></provides>" GOOD_RELEASE
			       "</component>",
			       &info, &err),
			 KF_ERR_INVALID);
	assert_int_equal(
		parse(GOOD_HEAD
		      "<releases><release version=\"1\"><checksum type=\"sha256\" "
		      "filename=\"f.bin\" target=\"content\">"
		      "77f3e17bad9d510786133804fc1e050488f628257ce00c7e23938f7b31c4cac2"
		      "</checksum><artifacts><artifact type=\"source\"><filename>f.bin"
		      "</filename><checksum type=\"sha256\">"
		      "d8904fe3bc21e867097df4e32be648399fac8e7ee5cfd65ab8546c0776def4b6"
		      "</checksum></artifact></artifacts></release></releases></component>",
		      &info, &err),
		KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "disagree"));
	assert_int_equal(parse("not xml", &info, &err), KF_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lvfs_fixture_parses),
		cmocka_unit_test(guids_are_lower_case_and_artifacts_count),
		cmocka_unit_test(firmware_requirements_are_read),
		cmocka_unit_test(entity_definitions_are_refused),
		cmocka_unit_test(limits_hold),
		cmocka_unit_test(incomplete_or_contradicting_metainfo_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
