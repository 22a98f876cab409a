/* kefu: unit tests for firmware.json and firmware packages: fields, GUIDs, limits, the checks
 * against the signed list. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/firmware/package.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_GUID "b585990a-003e-5270-89d5-3705a17f9a43"
#define HEAD                                                                                       \
	"{\"format\":1,\"id\":\"com.example.emu\",\"publisher\":\"Example\",\"version\":\"1.2."    \
	"5\","

static int parse(const char *json, struct kf_fw_metainfo **m, struct kf_error *err)
{
	return kf_fw_manifest_parse(json, strlen(json), m, err);
}

static void full_manifest_parses(void **state)
{
	struct kf_fw_metainfo *m = NULL;
	struct kf_error err;
	(void)state;

	assert_int_equal(
		parse(HEAD
		      "\"name\":\"Emu\",\"summary\":\"s\",\"vendor\":\"Example Inc.\","
		      "\"devices\":[\"USB\\\\VID_273F&PID_1004\",\"B585990A-003E-5270-89D5-"
		      "3705A17F9A43\"],\"version_format\":\"triplet\","
		      "\"image\":{\"file\":\"fw/emu.bin\",\"sha256\":\"" FAKE_GUID
		      "\"},\"flags\":[\"security\",\"require-ac\"],"
		      "\"release_notes\":\"line one\\nline two\","
		      "\"requires\":{\"computers\":[{\"vendor\":\"LENOVO\"},{\"vendor\":\"Dell "
		      "Inc.\",\"product\":\"XPS\"}]}}",
		      &m, &err),
		KF_ERR_INVALID); /* a GUID is not a SHA-256 */
	assert_non_null(strstr(err.message, "64 hexadecimal digits"));
	assert_int_equal(
		parse(HEAD
		      "\"name\":\"Emu\",\"vendor\":\"Example Inc.\","
		      "\"devices\":[\"USB\\\\VID_273F&PID_1004\",\"B585990A-003E-5270-89D5-"
		      "3705A17F9A43\"],\"version_format\":\"triplet\","
		      "\"image\":{\"file\":\"fw/emu.bin\",\"sha256\":"
		      "\"77F3E17BAD9D510786133804FC1E050488F628257CE00C7E23938F7B31C4CAC2\"},"
		      "\"flags\":[\"security\",\"require-ac\"],"
		      "\"release_notes\":\"line one\\nline two\","
		      "\"requires\":{\"computers\":[{\"vendor\":\"LENOVO\"},{\"vendor\":\"Dell "
		      "Inc.\",\"product\":\"XPS\"}]}}",
		      &m, &err),
		KF_OK);
	assert_string_equal(m->id, "com.example.emu");
	assert_string_equal(m->publisher, "Example");
	assert_string_equal(m->developer_name, "Example Inc.");
	assert_int_equal(m->guid_count, 2);
	/* The instance ID becomes the GUID fwupd derives (the fake device's). */
	assert_string_equal(m->guids[0], "2fa8891f-3ece-53a4-adc4-0dd875685f30");
	assert_string_equal(m->guids[1], FAKE_GUID);
	assert_string_equal(m->payload_name, "fw/emu.bin");
	assert_string_equal(m->payload_sha256,
			    "77f3e17bad9d510786133804fc1e050488f628257ce00c7e23938f7b31c4cac2");
	assert_int_equal(m->flags, KF_FW_FLAG_SECURITY | KF_FW_FLAG_REQUIRE_AC);
	assert_string_equal(m->release_text, "line one\nline two");
	assert_int_equal(m->computer_count, 2);
	assert_null(m->computers[0].product);
	assert_string_equal(m->computers[1].product, "XPS");
	kf_fw_metainfo_free(m);
}

static void instance_ids_become_fwupd_guids(void **state)
{
	struct kf_fw_metainfo *m = NULL;
	struct kf_error err;
	(void)state;

	/* fwupd's own example: USB\VID_273F&PID_1004 (ColorHug2) derives this GUID. */
	assert_int_equal(parse(HEAD "\"devices\":[\"USB\\\\VID_273F&PID_1004\"],"
				    "\"image\":{\"file\":\"a.bin\"}}",
			       &m, &err),
			 KF_OK);
	assert_null(m->payload_sha256);
	assert_int_equal(m->guid_count, 1);
	assert_string_equal(m->guids[0], "2fa8891f-3ece-53a4-adc4-0dd875685f30");
	kf_fw_metainfo_free(m);
}

static void hostile_or_incomplete_manifests_are_refused(void **state)
{
	static const struct {
		const char *json, *words;
	} cases[] = {
		{"[]", "not a JSON object"},
		{"{\"format\":2}", "\"format\" must be 1"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"},\"x\":1}",
		 "unknown field \"x\""},
		{HEAD "\"image\":{\"file\":\"a\"}}", "\"devices\""},
		{HEAD "\"devices\":[],\"image\":{\"file\":\"a\"}}", "\"devices\""},
		{HEAD "\"devices\":[\"with space\"],\"image\":{\"file\":\"a\"}}", "neither a GUID"},
		{HEAD "\"devices\":[1],\"image\":{\"file\":\"a\"}}", "short text"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"]}", "\"image\""},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"../a\"}}",
		 "plain file name"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"/etc/passwd\"}}",
		 "plain file name"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\",\"size\":1}}",
		 "unknown field \"size\""},
		{HEAD "\"devices\":[\"" FAKE_GUID
		      "\"],\"image\":{\"file\":\"a\"},\"flags\":[\"x\"]}",
		 "flag \"x\" is unknown"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"},"
		      "\"version_format\":\"octal\"}",
		 "version format"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"},"
		      "\"name\":\"a\\u0000b\"}",
		 "not allowed"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"},"
		      "\"name\":\"a\\nb\"}",
		 "control character"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"},"
		      "\"requires\":{\"computers\":[{\"product\":\"x\"}]}}",
		 "\"vendor\" is missing"},
		{HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"},"
		      "\"requires\":{\"hardware_ids\":[\"nope\"]}}",
		 "must be GUIDs"},
		{"{\"format\":1,\"id\":\"a\",\"publisher\":\"p\",\"version\":\"1.x\","
		 "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"a\"}}",
		 "not 1 to 4 numbers"},
		{"{\"format\":1,\"id\":\"a\",\"id\":\"b\"}", "not a JSON object"},
		{"{\"format\":1,\"id\":\"a\",\"version\":\"1\",\"devices\":[\"" FAKE_GUID
		 "\"],\"image\":{\"file\":\"a\"}}",
		 "\"publisher\" is missing"},
	};
	struct kf_fw_metainfo *m = NULL;
	struct kf_error err;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].json, &m, &err);

		if (r == KF_OK || strstr(err.message, cases[i].words) == NULL)
			fail_msg("case %zu: got %d \"%s\", wanted \"%s\"", i, r,
				 r == KF_OK ? "" : err.message, cases[i].words);
		assert_null(m);
	}
}

static void limits_hold(void **state)
{
	struct kf_fw_metainfo *m = NULL;
	struct kf_error err;
	size_t size = KF_FW_MANIFEST_MAX + 1;
	char *big = malloc(size + 1), *many = malloc(64 * 1024);
	(void)state;

	memset(big, ' ', size);
	big[size] = '\0';
	assert_int_equal(kf_fw_manifest_parse(big, size, &m, &err), KF_ERR_TOO_LARGE);
	strcpy(many, HEAD "\"image\":{\"file\":\"a\"},\"devices\":[");
	for (int i = 0; i <= KF_FW_MANIFEST_MAX_IDS; i++)
		strcat(many, i == 0 ? "\"USB\\\\VID_1\"" : ",\"USB\\\\VID_1\"");
	strcat(many, "]}");
	assert_int_equal(parse(many, &m, &err), KF_ERR_TOO_LARGE);
	free(big);
	free(many);
}

/* A package in memory (unsigned: these checks come after the signature's). */
static struct kf_package *package_of(const char *manifest, const char *image_name,
				     const char *image, const char *version)
{
	struct kf_package_file files[2] = {
		{.path = (char *)KF_FW_MANIFEST_NAME,
		 .size = strlen(manifest),
		 .data = (uint8_t *)manifest},
		{.path = (char *)image_name, .size = strlen(image), .data = (uint8_t *)image},
	};
	struct kf_package_spec spec = {
		KF_FW_PACKAGE_KIND, "com.example.emu", version, "Example", 2, files};
	struct kf_package *pkg = NULL;
	struct kf_error err;
	uint8_t *data;
	size_t len;

	if (strcmp(image_name, KF_FW_MANIFEST_NAME) < 0) {
		files[0] = files[1];
		files[1] = (struct kf_package_file){.path = (char *)KF_FW_MANIFEST_NAME,
						    .size = strlen(manifest),
						    .data = (uint8_t *)manifest};
	}
	assert_int_equal(kf_package_build(&spec, NULL, &data, &len, &err), KF_OK);
	assert_int_equal(kf_package_read_unsigned(data, len, KF_FW_PACKAGE_KIND,
						  &kf_fw_package_limits, &pkg, NULL, &err),
			 KF_OK);
	free(data);
	return pkg;
}

static void package_checks_follow_the_signed_list(void **state)
{
	const char *good = HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"emu.bin\"}}";
	struct kf_fw_metainfo *m = NULL;
	struct kf_package *pkg;
	enum kf_package_reason reason;
	struct kf_error err;
	uint8_t digest[32];
	char sha[65];
	size_t image = 99;
	(void)state;

	EVP_Digest("0x1020005", 9, digest, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", digest[i]);
	pkg = package_of(good, "emu.bin", "0x1020005", "1.2.5");
	assert_int_equal(kf_fw_package_check(pkg, &m, &image, &reason, &err), KF_OK);
	/* The checksum comes from the signed list when firmware.json leaves it out. */
	assert_string_equal(m->payload_sha256, sha);
	assert_string_equal(pkg->files[image].path, "emu.bin");
	kf_fw_metainfo_free(m);
	kf_package_free(pkg);

	/* The package's version is not firmware.json's. */
	pkg = package_of(good, "emu.bin", "0x1020005", "1.2.6");
	assert_int_equal(kf_fw_package_check(pkg, &m, &image, &reason, &err), KF_ERR_INVALID);
	assert_int_equal(reason, KF_PACKAGE_CONTENT);
	assert_non_null(strstr(err.message, "id and version"));
	kf_package_free(pkg);

	/* The image firmware.json names is not there. */
	pkg = package_of(good, "other.bin", "0x1020005", "1.2.5");
	assert_int_equal(kf_fw_package_check(pkg, &m, &image, &reason, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "not in the package"));
	kf_package_free(pkg);

	/* firmware.json names itself as the image. */
	pkg = package_of(HEAD "\"devices\":[\"" FAKE_GUID "\"],\"image\":{\"file\":\"firmware."
			      "json\"}}",
			 "emu.bin", "0x1020005", "1.2.5");
	assert_int_equal(kf_fw_package_check(pkg, &m, &image, &reason, &err), KF_ERR_INVALID);
	kf_package_free(pkg);
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_manifest_parses),
		cmocka_unit_test(instance_ids_become_fwupd_guids),
		cmocka_unit_test(hostile_or_incomplete_manifests_are_refused),
		cmocka_unit_test(limits_hold),
		cmocka_unit_test(package_checks_follow_the_signed_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
