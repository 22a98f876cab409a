/* kefu: unit tests for cabinet reading and LVFS cabinet verification, with cabinets gcab builds. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"
#include "proto/firmware/cab-archive.h"
#include "proto/firmware/cabinet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct blob {
	uint8_t *data;
	size_t len;
};

static char work[] = "/tmp/kefu-test-cab-XXXXXX";
static char fixture_dir[512];
static char *lvfs_ca;

static int load_path(const char *path, struct blob *out)
{
	out->data = read_whole_file(path, &out->len);
	return out->data != NULL ? 0 : -1;
}

/* Runs gcab in the work folder: gcab [-z] --create NAME FILES (FILES relative to work). */
static int gcab(const char *flags, const char *cab, const char *files)
{
	char command[2048];

	snprintf(command, sizeof(command),
		 "cd %s && gcab %s --nopath --create %s %s >/dev/null 2>&1", work, flags, cab,
		 files);
	return system(command);
}

static void path_in_work(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", work, name);
}

static int setup(void **state)
{
	char command[1024];
	size_t len;
	(void)state;

	snprintf(fixture_dir, sizeof(fixture_dir), "%s/fwupd", fixtures_dir());
	if (system("command -v gcab >/dev/null") != 0)
		return 0; /* gcab is not installed: each test skips */
	lvfs_ca = (char *)read_fwupd_fixture("LVFS-CA.pem", &len); /* fails when missing */
	if (mkdtemp(work) == NULL)
		return -1;
	snprintf(command, sizeof(command), "cp %s/fakedevice12* %s/ && chmod u+w %s/*", fixture_dir,
		 work, work);
	return system(command) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char command[600];
	(void)state;

	if (lvfs_ca != NULL) {
		snprintf(command, sizeof(command), "rm -rf %s", work);
		if (system(command) != 0)
			return -1;
	}
	free(lvfs_ca);
	return 0;
}

static int load_cab(const char *name, struct kf_fw_cabinet **cab, struct kf_error *err)
{
	char path[600];
	const char *cas[] = {lvfs_ca};

	path_in_work(name, path, sizeof(path));
	return kf_fw_cabinet_load(path, cas, 1, NULL, cab, err);
}

static void plain_and_mszip_lvfs_cabinets_verify(void **state)
{
	struct kf_fw_cabinet *cab;
	struct kf_error err;
	(void)state;

	if (lvfs_ca == NULL)
		skip();
	assert_int_equal(gcab("", "plain.cab", "fakedevice124.*"), 0);
	assert_int_equal(gcab("-z", "zip.cab", "fakedevice124.*"), 0);
	assert_int_equal(load_cab("plain.cab", &cab, &err), 0);
	assert_string_equal(cab->metainfo->version, "1.2.4");
	assert_int_equal(cab->payload_size, 10);
	assert_memory_equal(cab->payload, "0x1020004", 10);
	kf_fw_cabinet_free(cab);
	assert_int_equal(load_cab("zip.cab", &cab, &err), 0);
	assert_string_equal(cab->metainfo_name, "fakedevice124.metainfo.xml");
	kf_fw_cabinet_free(cab);
}

static void tampered_cabinets_are_refused(void **state)
{
	struct kf_fw_cabinet *cab = NULL;
	struct kf_error err;
	char command[1024];
	const char *none[] = {NULL};
	char path[600];
	(void)state;

	if (lvfs_ca == NULL)
		skip();
	/* The payload of another release under this release's name. */
	snprintf(command, sizeof(command),
		 "cd %s && mkdir -p t1 && cp fakedevice124.jcat fakedevice124.metainfo.xml t1/ && "
		 "cp fakedevice123.bin t1/fakedevice124.bin",
		 work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("", "t1.cab", "t1/*"), 0);
	assert_int_equal(load_cab("t1.cab", &cab, &err), KF_ERR_AUTH);
	assert_non_null(strstr(err.message, "fakedevice124.bin"));
	/* The metainfo edited (its version), payload untouched. */
	snprintf(command, sizeof(command),
		 "cd %s && mkdir -p t2 && cp fakedevice124.jcat fakedevice124.bin t2/ && "
		 "sed 's/1.2.4/1.2.9/' fakedevice124.metainfo.xml > t2/fakedevice124.metainfo.xml",
		 work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("", "t2.cab", "t2/*"), 0);
	assert_int_equal(load_cab("t2.cab", &cab, &err), KF_ERR_AUTH);
	assert_non_null(strstr(err.message, "metainfo"));
	/* The Jcat of the other release. */
	snprintf(command, sizeof(command),
		 "cd %s && mkdir -p t3 && cp fakedevice124.bin fakedevice124.metainfo.xml t3/ && "
		 "cp fakedevice123.jcat t3/fakedevice124.jcat",
		 work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("", "t3.cab", "t3/*"), 0);
	assert_true(load_cab("t3.cab", &cab, &err) < 0);
	/* No Jcat at all, and no trusted CA. */
	assert_int_equal(gcab("", "t4.cab", "fakedevice124.bin fakedevice124.metainfo.xml"), 0);
	assert_int_equal(load_cab("t4.cab", &cab, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, ".jcat"));
	assert_int_equal(gcab("", "plain.cab", "fakedevice124.*"), 0);
	path_in_work("plain.cab", path, sizeof(path));
	assert_int_equal(kf_fw_cabinet_load(path, none, 0, NULL, &cab, &err), KF_ERR_DENIED);
	assert_null(cab);
}

/* Replaces the first occurrence of from with to (same length) in b. */
static void patch(struct blob *b, const char *from, const char *to)
{
	size_t len = strlen(from);

	assert_int_equal(strlen(to), len);
	for (size_t i = 0; i + len <= b->len; i++)
		if (memcmp(b->data + i, from, len) == 0) {
			memcpy(b->data + i, to, len);
			return;
		}
	fail_msg("%s not found", from);
}

static void hostile_member_names_and_sizes_are_refused(void **state)
{
	struct kf_cabinet *cab;
	struct kf_error err;
	struct blob b;
	char path[600], command[600];
	static const char *const bad_names[] = {"../../etc/pwd", "/etc/passwd.x",
						"a\\..\\..\\bb.xx", "aaaaaaaa\x01.bin"};
	(void)state;

	if (lvfs_ca == NULL)
		skip();
	snprintf(command, sizeof(command),
		 "cd %s && printf one > aaaaaaaaaaaaa && printf two > bbbbbbbbbbbbb", work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("-z", "names.cab", "aaaaaaaaaaaaa bbbbbbbbbbbbb"), 0);
	path_in_work("names.cab", path, sizeof(path));
	assert_int_equal(load_path(path, &b), 0);
	assert_int_equal(kf_cabinet_read_memory(b.data, b.len, NULL, &cab, &err), 0);
	assert_int_equal(cab->count, 2);
	assert_memory_equal(kf_cabinet_find(cab, "bbbbbbbbbbbbb")->data, "two", 3);
	kf_cabinet_free(cab);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct blob copy = {malloc(b.len), b.len};
		memcpy(copy.data, b.data, b.len);
		patch(&copy, "aaaaaaaaaaaaa", bad_names[i]);
		assert_int_equal(kf_cabinet_read_memory(copy.data, copy.len, NULL, &cab, &err),
				 KF_ERR_INVALID);
		free(copy.data);
	}
	/* Two members with one name (in any case). */
	patch(&b, "bbbbbbbbbbbbb", "AAAAAAAAAAAAA");
	assert_int_equal(kf_cabinet_read_memory(b.data, b.len, NULL, &cab, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "twice"));
	free(b.data);
	/* A member declaring 3 GiB that its folder does not hold: refused, nothing allocated for
	 * it. */
	assert_int_equal(load_path(path, &b), 0);
	{
		uint32_t files_offset, huge = 0xC0000000u;
		memcpy(&files_offset, b.data + 16, 4);
		memcpy(b.data + files_offset, &huge, 4);
	}
	assert_true(kf_cabinet_read_memory(b.data, b.len, NULL, &cab, &err) < 0);
	free(b.data);
	/* Limits the caller sets: members and bytes. */
	{
		struct kf_cabinet_limits one = {1, 1024, 1024}, small = {8, 2, 1024};
		assert_int_equal(load_path(path, &b), 0);
		assert_int_equal(kf_cabinet_read_memory(b.data, b.len, &one, &cab, &err),
				 KF_ERR_TOO_LARGE);
		assert_int_equal(kf_cabinet_read_memory(b.data, b.len, &small, &cab, &err),
				 KF_ERR_TOO_LARGE);
		free(b.data);
	}
	/* Not a cabinet at all: a tar file. */
	snprintf(command, sizeof(command), "cd %s && tar cf x.tar aaaaaaaaaaaaa", work);
	assert_int_equal(system(command), 0);
	path_in_work("x.tar", path, sizeof(path));
	assert_int_equal(kf_cabinet_read_file(path, NULL, &cab, &err), KF_ERR_INVALID);
}

/* A member that neither the metainfo nor the Jcat names is not installed along. */
static void unsigned_extra_members_are_refused(void **state)
{
	struct kf_fw_cabinet *cab = NULL;
	struct kf_error err;
	char command[1024];
	(void)state;

	if (lvfs_ca == NULL)
		skip();
	snprintf(
		command, sizeof(command),
		"cd %s && mkdir -p x1 && cp fakedevice124.* x1/ && printf 'rm -rf /' > x1/extra.sh",
		work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("", "x1.cab", "x1/*"), 0);
	assert_int_equal(load_cab("x1.cab", &cab, &err), KF_ERR_AUTH);
	assert_null(cab);
	assert_non_null(strstr(err.message, "extra.sh"));
	assert_non_null(strstr(err.message, "nothing vouches for it"));
	/* The same with MSZIP, and a member named like the other release's signed payload. */
	snprintf(command, sizeof(command),
		 "cd %s && mkdir -p x2 && cp fakedevice124.* fakedevice123.bin x2/", work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("-z", "x2.cab", "x2/*"), 0);
	assert_int_equal(load_cab("x2.cab", &cab, &err), KF_ERR_AUTH);
	assert_non_null(strstr(err.message, "fakedevice123.bin"));
}

/* Sets the declared size of every member in a cabinet's CFFILE table. */
static void declare_sizes(struct blob *b, uint32_t size)
{
	uint32_t at;
	uint16_t count;

	memcpy(&at, b->data + 16, 4);
	memcpy(&count, b->data + 28, 2);
	for (uint16_t i = 0; i < count; i++) {
		memcpy(b->data + at, &size, 4);
		at += 16;
		at += (uint32_t)strlen((const char *)b->data + at) + 1;
	}
}

/*
 * Three members of 192 MiB declared (512 MiB in all allowed): refused from the table,
 * before the first is inflated. Read member by member, the first two would be unpacked
 * (and here found truncated) before the third was judged.
 */
static void declared_sizes_are_judged_before_anything_is_inflated(void **state)
{
	struct kf_cabinet *cab = (void *)1;
	struct kf_error err;
	struct blob b;
	char path[600], command[600];
	(void)state;

	if (lvfs_ca == NULL)
		skip();
	snprintf(command, sizeof(command),
		 "cd %s && printf one > m1 && printf two > m2 && printf three > m3", work);
	assert_int_equal(system(command), 0);
	assert_int_equal(gcab("-z", "declared.cab", "m1 m2 m3"), 0);
	path_in_work("declared.cab", path, sizeof(path));
	assert_int_equal(load_path(path, &b), 0);
	declare_sizes(&b, 192u << 20);
	assert_int_equal(kf_cabinet_read_memory(b.data, b.len, NULL, &cab, &err), KF_ERR_TOO_LARGE);
	assert_null(cab);
	assert_non_null(strstr(err.message, "nothing was unpacked"));
	/* The same from a file. */
	{
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
		fclose(f);
	}
	assert_int_equal(kf_cabinet_read_file(path, NULL, &cab, &err), KF_ERR_TOO_LARGE);
	assert_non_null(strstr(err.message, "nothing was unpacked"));
	/* One member over the per-member cap is named, escaped. */
	declare_sizes(&b, 300u << 20);
	assert_int_equal(kf_cabinet_read_memory(b.data, b.len, NULL, &cab, &err), KF_ERR_TOO_LARGE);
	assert_non_null(strstr(err.message, "m1 is too large (it declares"));
	/* A table cut short is refused, not read past. */
	assert_int_equal(kf_cabinet_read_memory(b.data, 40, NULL, &cab, &err), KF_ERR_INVALID);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_and_mszip_lvfs_cabinets_verify),
		cmocka_unit_test(tampered_cabinets_are_refused),
		cmocka_unit_test(hostile_member_names_and_sizes_are_refused),
		cmocka_unit_test(unsigned_extra_members_are_refused),
		cmocka_unit_test(declared_sizes_are_judged_before_anything_is_inflated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
