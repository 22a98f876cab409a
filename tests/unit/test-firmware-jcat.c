/* kefu: unit tests for Jcat verification against the real LVFS fixtures. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"
#include "proto/firmware/jcat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blob {
	uint8_t *data;
	size_t len;
};

static int load(const char *name, struct blob *out)
{
	out->data = read_fwupd_fixture(name, &out->len);
	return out->data != NULL ? 0 : -1;
}

static void ca_path(char *out, size_t size)
{
	fixture_path("fwupd/LVFS-CA.pem", out, size);
}

static void lvfs_payload_verifies_and_tampering_is_refused(void **state)
{
	struct blob jcat, bin;
	struct kf_error err;
	char ca[512];
	(void)state;

	if (load("fakedevice124.jcat", &jcat) < 0 || load("fakedevice124.bin", &bin) < 0)
		fail();
	ca_path(ca, sizeof(ca));
	assert_int_equal(kf_jcat_verify(jcat.data, jcat.len, "fakedevice124.bin", bin.data, bin.len,
					ca, &err),
			 0);
	bin.data[0] ^= 1;
	assert_int_equal(kf_jcat_verify(jcat.data, jcat.len, "fakedevice124.bin", bin.data, bin.len,
					ca, &err),
			 KF_ERR_AUTH);
	bin.data[0] ^= 1;
	assert_int_equal(
		kf_jcat_verify(jcat.data, jcat.len, "other.bin", bin.data, bin.len, ca, &err),
		KF_ERR_NOT_FOUND);
	assert_int_equal(kf_jcat_verify(jcat.data, jcat.len / 2, "fakedevice124.bin", bin.data,
					bin.len, ca, &err) < 0,
			 1);
	assert_int_equal(
		kf_jcat_verify(bin.data, bin.len, "fakedevice124.bin", bin.data, bin.len, ca, &err),
		KF_ERR_INVALID);
	free(jcat.data);
	free(bin.data);
}

static void payload_of_other_release_is_refused(void **state)
{
	struct blob jcat, bin;
	struct kf_error err;
	char ca[512];
	(void)state;

	if (load("fakedevice124.jcat", &jcat) < 0 || load("fakedevice123.bin", &bin) < 0)
		fail();
	ca_path(ca, sizeof(ca));
	assert_int_equal(kf_jcat_verify(jcat.data, jcat.len, "fakedevice124.bin", bin.data, bin.len,
					ca, &err),
			 KF_ERR_AUTH);
	free(jcat.data);
	free(bin.data);
}

/* The checksum matches, but the PKCS#7 blob signs the 1.2.3 payload instead. */
static void signature_over_other_payload_is_refused(void **state)
{
	struct blob bin;
	struct kf_error err;
	uint8_t jcat[8192];
	size_t jcat_len;
	char ca[512];
	FILE *f = fopen("tests/unit/data/wrong-signature.jcat", "rb");
	(void)state;

	if (f == NULL)
		fail_msg("tests/unit/data/wrong-signature.jcat is missing");
	if (load("fakedevice124.bin", &bin) < 0) {
		fclose(f);
		fail();
	}
	jcat_len = fread(jcat, 1, sizeof(jcat), f);
	fclose(f);
	ca_path(ca, sizeof(ca));
	assert_int_equal(
		kf_jcat_verify(jcat, jcat_len, "fakedevice124.bin", bin.data, bin.len, ca, &err),
		KF_ERR_AUTH);
	assert_non_null(strstr(err.message, "signature"));
	free(bin.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lvfs_payload_verifies_and_tampering_is_refused),
		cmocka_unit_test(payload_of_other_release_is_refused),
		cmocka_unit_test(signature_over_other_payload_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
