/* kefu: unit tests for the LVFS metadata parser and its signature check. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/firmware/metadata.h"
#include "tests/unit/fixtures.h"

#include <stdlib.h>
#include <string.h>

static const char good[] =
	"<?xml version=\"1.0\"?>\n<components origin=\"lvfs\" version=\"0.9\">"
	"<component type=\"firmware\"><id>com.example.dock</id><name>Dock</name>"
	"<provides><firmware type=\"flashed\">b585990a-003e-5270-89d5-3705a17f9a43</firmware>"
	"<firmware type=\"runtime\">ignored</firmware></provides>"
	"<requires><hardware>6de5d951-d755-576b-bd09-c5cf66b27234</hardware></requires>"
	"<custom><value key=\"LVFS::VersionFormat\">triplet</value></custom>"
	"<releases><release version=\"1.2.4\" urgency=\"critical\">"
	"<location>https://fwupd.org/downloads/abc-dock.cab</location>"
	"<checksum type=\"sha1\" target=\"container\">0123</checksum>"
	"<checksum type=\"sha256\" target=\"container\">"
	"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789</checksum>"
	"<description><p>One.</p><ul><li>Two.</li></ul></description></release>"
	"<release>no version: dropped</release></releases></component>"
	"<component type=\"firmware\"><id>com.example.noguid</id>"
	"<releases><release version=\"1\"/></releases></component>"
	"</components>";

static void components_releases_and_guids_are_read(void **state)
{
	struct kf_fw_metadata *md = NULL;
	struct kf_error err;
	(void)state;

	assert_int_equal(kf_fw_metadata_parse(good, strlen(good), &md, &err), 0);
	assert_int_equal(md->component_count, 1);
	assert_int_equal(md->skipped, 1);
	const struct kf_fw_metadata_component *c = &md->components[0];
	assert_string_equal(c->id, "com.example.dock");
	assert_string_equal(c->name, "Dock");
	assert_int_equal(c->guid_count, 1);
	assert_string_equal(c->guids[0], "b585990a-003e-5270-89d5-3705a17f9a43");
	assert_int_equal(c->hardware_guid_count, 1);
	assert_string_equal(c->version_format, "triplet");
	assert_int_equal(c->release_count, 1);
	assert_string_equal(c->releases[0].version, "1.2.4");
	assert_string_equal(c->releases[0].urgency, "critical");
	assert_string_equal(c->releases[0].location, "https://fwupd.org/downloads/abc-dock.cab");
	assert_string_equal(c->releases[0].container_sha256,
			    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_string_equal(c->releases[0].description, "One. Two.");
	kf_fw_metadata_free(md);
}

static void firmware_requirements_are_kept_as_written(void **state)
{
	static const char xml[] =
		"<components><component type=\"firmware\"><id>com.example.dock</id>"
		"<provides><firmware type=\"flashed\">b585990a-003e-5270-89d5-3705a17f9a43"
		"</firmware></provides><requires>"
		"<hardware>6de5d951-d755-576b-bd09-c5cf66b27234|0cf8618d-9eff-537c-9f35-"
		"46861406eb9c</hardware><hardware>db73af4c-4612-50f7-b8a7-787cf4871847</hardware>"
		"<firmware compare=\"ge\" version=\"1.2.0\"/>"
		"<firmware compare=\"eq\" version=\"0.3\">bootloader</firmware>"
		"<firmware depth=\"1\">b585990a-003e-5270-89d5-3705a17f9a43</firmware>"
		"<id compare=\"ge\" version=\"1.5.0\">org.freedesktop.fwupd</id></requires>"
		"<releases><release version=\"1.2.4\"/></releases></component></components>";
	struct kf_fw_metadata *md = NULL;
	const struct kf_fw_requirement *r;
	(void)state;

	assert_int_equal(kf_fw_metadata_parse(xml, strlen(xml), &md, NULL), KF_OK);
	assert_int_equal(md->component_count, 1);
	/* One entry per <hardware>, its alternatives as written. */
	assert_int_equal(md->components[0].hardware_guid_count, 2);
	assert_string_equal(md->components[0].hardware_guids[0],
			    "6de5d951-d755-576b-bd09-c5cf66b27234|0cf8618d-9eff-537c-9f35-"
			    "46861406eb9c");
	assert_int_equal(md->components[0].firmware_requirement_count, 3);
	r = md->components[0].firmware_requirements;
	assert_string_equal(r[0].compare, "ge");
	assert_string_equal(r[0].version, "1.2.0");
	assert_null(r[0].text);
	assert_null(r[0].depth);
	assert_string_equal(r[1].text, "bootloader");
	assert_string_equal(r[2].depth, "1");
	assert_null(r[2].compare);
	kf_fw_metadata_free(md);
}

static void hostile_documents_are_refused(void **state)
{
	const char *bad[] = {
		"<!DOCTYPE x [<!ENTITY a \"b\">]><components>&a;</components>",
		"<component type=\"firmware\"/>",
		"<components><component type=\"firmware\">",
		"not xml",
	};
	struct kf_fw_metadata *md = NULL;
	struct kf_error err;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kf_fw_metadata_parse(bad[i], strlen(bad[i]), &md, &err),
				 KF_ERR_INVALID);
		assert_null(md);
	}
}

static void deep_nesting_is_capped(void **state)
{
	char xml[4096] = "<components>";
	struct kf_fw_metadata *md = NULL;
	struct kf_error err;
	(void)state;

	for (int i = 0; i < 40; i++)
		strcat(xml, "<a>");
	assert_int_equal(kf_fw_metadata_parse(xml, strlen(xml), &md, &err), KF_ERR_TOO_LARGE);
}

/* A Jcat over other bytes: the metadata is refused before it is decompressed or parsed. */
static void unsigned_metadata_is_refused_before_parsing(void **state)
{
	char ca_path[512];
	size_t ca_len = 0, jcat_len = 0;
	uint8_t *ca = read_whole_file(fixture_path("fwupd/LVFS-CA.pem", ca_path, sizeof(ca_path)),
				      &ca_len);
	uint8_t *jcat = read_fwupd_fixture("fakedevice124.jcat", &jcat_len);
	const char *pems[] = {(const char *)ca};
	struct kf_fw_metadata *md = NULL;
	struct kf_error err;
	(void)state;

	assert_non_null(ca);
	/* Named as the fixture's payload, but these bytes are not that payload. */
	assert_int_equal(kf_fw_metadata_load((const uint8_t *)good, strlen(good), jcat, jcat_len,
					     "fakedevice124.bin", pems, 1, &md, &err),
			 KF_ERR_AUTH);
	assert_null(md);
	assert_int_equal(kf_fw_metadata_load((const uint8_t *)good, strlen(good), jcat, jcat_len,
					     "firmware.xml.gz", pems, 1, &md, &err),
			 KF_ERR_NOT_FOUND);
	/* Trusting no CA at all refuses too. */
	assert_int_not_equal(kf_fw_metadata_load((const uint8_t *)good, strlen(good), jcat,
						 jcat_len, "fakedevice124.bin", pems, 0, &md, &err),
			     KF_OK);
	assert_null(md);
	free(ca);
	free(jcat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(components_releases_and_guids_are_read),
		cmocka_unit_test(firmware_requirements_are_kept_as_written),
		cmocka_unit_test(hostile_documents_are_refused),
		cmocka_unit_test(deep_nesting_is_capped),
		cmocka_unit_test(unsigned_metadata_is_refused_before_parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
