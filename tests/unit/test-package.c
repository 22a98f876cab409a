/* kefu: unit tests for signed packages: every refusal, building, installing, keys.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/package/package.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct kf_package_limits limits = {
	.max_archive = 1024 * 1024,
	.max_member = 1024,
	.max_total = 4096,
	.max_files = 8,
};

struct member {
	char name[320];
	int type; /* AE_IFREG, AE_IFLNK, ... */
	uint8_t *data;
	size_t size;
	char link[64];
	bool hard;
};

struct members {
	struct member m[64];
	size_t n;
};

struct fixture {
	EVP_PKEY *key, *other;
	struct kf_package_publisher trusted;
	uint8_t *good;
	size_t good_len;
};

static const char script[] = "#!/bin/sh\necho hello\n";
static const char notes[] = "some notes\n";
static const char config[] = "x=1\n";

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct kf_package_file files[] = {
		{(char *)"run.sh", sizeof(script) - 1, {0}, true, (uint8_t *)script},
		{(char *)"doc/notes.txt", sizeof(notes) - 1, {0}, false, (uint8_t *)notes},
		{(char *)"config", sizeof(config) - 1, {0}, false, (uint8_t *)config},
	};
	struct kf_package_spec spec = {"test", "example", "1.2.3", "Example Devices", 3, files};
	size_t len = KF_PACKAGE_KEY_SIZE;

	fx->key = kf_package_key_generate();
	fx->other = kf_package_key_generate();
	fx->trusted.name = "Example Devices";
	EVP_PKEY_get_raw_public_key(fx->key, fx->trusted.key, &len);
	if (kf_package_build(&spec, fx->key, &fx->good, &fx->good_len, NULL) != KF_OK)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	EVP_PKEY_free(fx->key);
	EVP_PKEY_free(fx->other);
	free(fx->good);
	free(fx);
	return 0;
}

/* Reads every member of an archive (regular files only, as the good package has). */
static struct members *load_members(const uint8_t *data, size_t len)
{
	struct members *ms = calloc(1, sizeof(*ms));
	struct archive *a = archive_read_new();
	struct archive_entry *entry;

	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
		struct member *m = &ms->m[ms->n++];

		snprintf(m->name, sizeof(m->name), "%s", archive_entry_pathname(entry));
		m->type = AE_IFREG;
		m->size = (size_t)archive_entry_size(entry);
		m->data = malloc(m->size + 1);
		assert_int_equal(archive_read_data(a, m->data, m->size), (la_ssize_t)m->size);
	}
	archive_read_free(a);
	return ms;
}

static void free_members(struct members *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		free(ms->m[i].data);
	free(ms);
}

static la_ssize_t append(struct archive *a, void *client, const void *buf, size_t len)
{
	FILE *f = client;

	(void)a;
	return (la_ssize_t)fwrite(buf, 1, len, f);
}

static uint8_t *write_members(const struct members *ms, size_t *len)
{
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);
	struct archive *a = archive_write_new();
	struct archive_entry *entry = archive_entry_new();
	size_t i;

	archive_write_set_format_pax_restricted(a);
	archive_write_open(a, f, NULL, append, NULL);
	for (i = 0; i < ms->n; i++) {
		const struct member *m = &ms->m[i];

		archive_entry_clear(entry);
		archive_entry_set_pathname(entry, m->name);
		archive_entry_set_filetype(entry, (unsigned int)m->type);
		archive_entry_set_perm(entry, 0644);
		if (m->hard)
			archive_entry_set_hardlink(entry, m->link);
		else if (m->type == AE_IFLNK)
			archive_entry_set_symlink(entry, m->link);
		if (m->type == AE_IFREG && !m->hard)
			archive_entry_set_size(entry, (la_int64_t)m->size);
		if (m->type == AE_IFCHR)
			archive_entry_set_rdev(entry, makedev(1, 3));
		assert_int_equal(archive_write_header(a, entry), ARCHIVE_OK);
		if (m->type == AE_IFREG && !m->hard && m->size > 0)
			archive_write_data(a, m->data, m->size);
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(entry);
	fclose(f);
	*len = out_len;
	return (uint8_t *)out;
}

static struct member *add(struct members *ms, const char *name, int type, const char *data)
{
	struct member *m = &ms->m[ms->n++];

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->type = type;
	if (data != NULL) {
		m->size = strlen(data);
		m->data = (uint8_t *)strdup(data);
	}
	return m;
}

static struct member *find(struct members *ms, const char *name)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].name, name) == 0)
			return &ms->m[i];
	fail_msg("no member %s", name);
	return NULL;
}

static void drop(struct members *ms, const char *name)
{
	struct member *m = find(ms, name);

	free(m->data);
	memmove(m, m + 1, (size_t)(&ms->m[ms->n] - (m + 1)) * sizeof(*m));
	ms->n--;
}

/* Verifies bytes with the fixture's trust; returns the reason and checks the message. */
static enum kf_package_reason verdict(const struct fixture *fx, const uint8_t *data, size_t len)
{
	struct kf_package *pkg = (void *)1;
	enum kf_package_reason reason = KF_PACKAGE_OK;
	struct kf_error err;
	int r = kf_package_verify(data, len, "test", &fx->trusted, 1, &limits, &pkg, &reason, &err);

	if (r == KF_OK) {
		kf_package_free(pkg);
		return KF_PACKAGE_OK;
	}
	assert_null(pkg);
	assert_int_not_equal(reason, KF_PACKAGE_OK);
	/* The message starts with the reason's stable name. */
	assert_memory_equal(err.message, kf_package_reason_name(reason),
			    strlen(kf_package_reason_name(reason)));
	return reason;
}

static enum kf_package_reason verdict_of(const struct fixture *fx, const struct members *ms)
{
	size_t len;
	uint8_t *data = write_members(ms, &len);
	enum kf_package_reason reason = verdict(fx, data, len);

	free(data);
	return reason;
}

static void good_package_verifies_with_every_file(void **state)
{
	struct fixture *fx = *state;
	struct kf_package *pkg;
	struct kf_error err;

	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &fx->trusted, 1, &limits,
					   &pkg, NULL, &err),
			 KF_OK);
	assert_string_equal(pkg->id, "example");
	assert_string_equal(pkg->publisher, "Example Devices");
	assert_true(pkg->is_signed);
	assert_int_equal(pkg->n_files, 3);
	/* Sorted by path. */
	assert_string_equal(pkg->files[0].path, "config");
	assert_string_equal(pkg->files[1].path, "doc/notes.txt");
	assert_string_equal(pkg->files[2].path, "run.sh");
	assert_true(pkg->files[2].executable);
	assert_false(pkg->files[0].executable);
	assert_memory_equal(pkg->files[2].data, script, sizeof(script) - 1);
	kf_package_free(pkg);
}

static void building_twice_gives_the_same_bytes(void **state)
{
	struct fixture *fx = *state;
	struct kf_package_file files[] = {
		{(char *)"doc/notes.txt", sizeof(notes) - 1, {0}, false, (uint8_t *)notes},
		{(char *)"config", sizeof(config) - 1, {0}, false, (uint8_t *)config},
		{(char *)"run.sh", sizeof(script) - 1, {0}, true, (uint8_t *)script},
	};
	struct kf_package_spec spec = {"test", "example", "1.2.3", "Example Devices", 3, files};
	uint8_t *again;
	size_t len;

	/* Another order of the same files, a second later: the same archive. */
	assert_int_equal(kf_package_build(&spec, fx->key, &again, &len, NULL), KF_OK);
	assert_int_equal(len, fx->good_len);
	assert_memory_equal(again, fx->good, len);
	free(again);
}

static void unsigned_package_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);
	struct kf_package *pkg;
	uint8_t *data;
	size_t len;

	drop(ms, KF_PACKAGE_SIGNATURE_NAME);
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_UNSIGNED);
	/* The signing step may read it; it is not signed then. */
	data = write_members(ms, &len);
	assert_int_equal(kf_package_read_unsigned(data, len, "test", &limits, &pkg, NULL, NULL),
			 KF_OK);
	assert_false(pkg->is_signed);
	kf_package_free(pkg);
	free(data);
	free_members(ms);
}

static void signature_by_unknown_key_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct kf_package_publisher stranger = fx->trusted;
	enum kf_package_reason reason;
	struct kf_package *pkg;

	stranger.key[0] ^= 1;
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &stranger, 1, &limits,
					   &pkg, &reason, NULL),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNKNOWN_PUBLISHER);
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", NULL, 0, &limits, &pkg,
					   &reason, NULL),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNKNOWN_PUBLISHER);
}

static void key_trusted_under_another_name_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct kf_package_publisher other = fx->trusted;
	enum kf_package_reason reason;
	struct kf_error err;
	struct kf_package *pkg;

	other.name = "Other Devices";
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &other, 1, &limits, &pkg,
					   &reason, &err),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNKNOWN_PUBLISHER);
	assert_non_null(strstr(err.message, "Other Devices"));
}

static void manifest_changed_after_signing_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);
	struct member *m = find(ms, KF_PACKAGE_MANIFEST_NAME);
	char *version = strstr((char *)m->data, "1.2.3");

	version[0] = '9';
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_BAD_SIGNATURE);
	free_members(ms);
}

static void garbled_signature_record_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);
	struct member *m = find(ms, KF_PACKAGE_SIGNATURE_NAME);

	free(m->data);
	m->data = (uint8_t *)strdup("{\"format\": 1}");
	m->size = strlen((char *)m->data);
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_BAD_SIGNATURE);
	free_members(ms);
}

static void package_of_another_kind_is_refused(void **state)
{
	struct fixture *fx = *state;
	enum kf_package_reason reason;
	struct kf_package *pkg;

	assert_int_not_equal(kf_package_verify(fx->good, fx->good_len, "firmware", &fx->trusted, 1,
					       &limits, &pkg, &reason, NULL),
			     KF_OK);
	assert_int_equal(reason, KF_PACKAGE_BAD_MANIFEST);
}

static void hostile_members_are_refused_each_with_its_reason(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *name;
		int type;
		const char *link;
		bool hard;
		enum kf_package_reason reason;
	} cases[] = {
		{"/etc/passwd", AE_IFREG, NULL, false, KF_PACKAGE_UNSAFE_PATH},
		{"files/../../evil", AE_IFREG, NULL, false, KF_PACKAGE_UNSAFE_PATH},
		{"../evil", AE_IFREG, NULL, false, KF_PACKAGE_UNSAFE_PATH},
		{"files/.hidden", AE_IFREG, NULL, false, KF_PACKAGE_UNSAFE_PATH},
		{"files/a//b", AE_IFREG, NULL, false, KF_PACKAGE_UNSAFE_PATH},
		{"files/link", AE_IFLNK, "/etc/shadow", false, KF_PACKAGE_LINK},
		{"files/hard", AE_IFREG, "files/run.sh", true, KF_PACKAGE_LINK},
		{"files/null", AE_IFCHR, NULL, false, KF_PACKAGE_SPECIAL_FILE},
		{"files/pipe", AE_IFIFO, NULL, false, KF_PACKAGE_SPECIAL_FILE},
		{"files/doc", AE_IFDIR, NULL, false, KF_PACKAGE_SPECIAL_FILE},
		{"files/extra.sh", AE_IFREG, NULL, false, KF_PACKAGE_NOT_IN_MANIFEST},
		{"elsewhere.txt", AE_IFREG, NULL, false, KF_PACKAGE_NOT_IN_MANIFEST},
		{"files/run.sh", AE_IFREG, NULL, false, KF_PACKAGE_DUPLICATE},
		{KF_PACKAGE_MANIFEST_NAME, AE_IFREG, NULL, false, KF_PACKAGE_DUPLICATE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct members *ms = load_members(fx->good, fx->good_len);
		struct member *m = add(ms, cases[i].name, cases[i].type,
				       cases[i].type == AE_IFREG && !cases[i].hard ? script : NULL);

		if (cases[i].link != NULL)
			snprintf(m->link, sizeof(m->link), "%s", cases[i].link);
		m->hard = cases[i].hard;
		print_message("case %s\n", cases[i].name);
		assert_int_equal(verdict_of(fx, ms), cases[i].reason);
		free_members(ms);
	}
}

static void missing_file_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);

	drop(ms, "files/doc/notes.txt");
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_MISSING_FILE);
	free_members(ms);
}

static void changed_file_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);
	struct member *m = find(ms, "files/run.sh");

	m->data[m->size - 2] ^= 1; /* same size, other bytes */
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_HASH_MISMATCH);
	m->size--; /* other size */
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_HASH_MISMATCH);
	free_members(ms);
}

static void oversized_and_too_many_members_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);
	struct member *m = find(ms, "files/config");
	size_t i;

	free(m->data);
	m->size = limits.max_member + 1;
	m->data = calloc(1, m->size);
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_TOO_LARGE);
	free_members(ms);

	ms = load_members(fx->good, fx->good_len);
	for (i = 0; i < limits.max_files + 1; i++) {
		char name[32];

		snprintf(name, sizeof(name), "files/more-%zu", i);
		add(ms, name, AE_IFREG, "x");
	}
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_TOO_LARGE);
	free_members(ms);
}

static void list_over_the_limits_is_refused(void **state)
{
	struct fixture *fx = *state;
	static char big[1500];
	struct kf_package_file files[9];
	struct kf_package_spec spec = {"test", "example", "1", "Example Devices", 1, files};
	char names[9][8];
	uint8_t *data;
	size_t len, i;

	(void)state;
	memset(big, 'a', sizeof(big));
	files[0] = (struct kf_package_file){(char *)"big", sizeof(big), {0}, false, (uint8_t *)big};
	assert_int_equal(kf_package_build(&spec, fx->key, &data, &len, NULL), KF_OK);
	assert_int_equal(verdict(fx, data, len), KF_PACKAGE_TOO_LARGE);
	free(data);
	for (i = 0; i < 9; i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		files[i] = (struct kf_package_file){names[i], 1, {0}, false, (uint8_t *)"x"};
	}
	spec.n_files = 9;
	assert_int_equal(kf_package_build(&spec, fx->key, &data, &len, NULL), KF_OK);
	assert_int_equal(verdict(fx, data, len), KF_PACKAGE_TOO_LARGE);
	free(data);
	/* 5 files of 1000 bytes: each within the limit, together over it. */
	for (i = 0; i < 5; i++)
		files[i] = (struct kf_package_file){names[i], 1000, {0}, false, (uint8_t *)big};
	spec.n_files = 5;
	assert_int_equal(kf_package_build(&spec, fx->key, &data, &len, NULL), KF_OK);
	assert_int_equal(verdict(fx, data, len), KF_PACKAGE_TOO_LARGE);
	free(data);
	/* The archive itself. */
	assert_int_equal(verdict(fx, fx->good, limits.max_archive + 1), KF_PACKAGE_TOO_LARGE);
}

static void damaged_archives_are_refused(void **state)
{
	struct fixture *fx = *state;
	static const char text[] = "this is not an archive at all, just some words";
	uint8_t zeros[10240] = {0};
	size_t cut, end = fx->good_len;

	assert_int_equal(verdict(fx, (const uint8_t *)text, sizeof(text)),
			 KF_PACKAGE_NOT_AN_ARCHIVE);
	assert_int_equal(verdict(fx, (const uint8_t *)"", 0), KF_PACKAGE_NOT_AN_ARCHIVE);
	assert_int_not_equal(verdict(fx, zeros, sizeof(zeros)), KF_PACKAGE_OK);
	/* Every cut before the last byte of content is refused (after it come only zeros). */
	while (end > 0 && fx->good[end - 1] == 0)
		end--;
	for (cut = 1; cut < end; cut += 7)
		assert_int_not_equal(verdict(fx, fx->good, cut), KF_PACKAGE_OK);
	assert_int_equal(verdict(fx, fx->good, end - 1), KF_PACKAGE_DAMAGED);
	/* Cuts between members too: the end-of-archive marker is missing. */
	for (cut = 512; cut <= end; cut += 512)
		assert_int_equal(verdict(fx, fx->good, cut), KF_PACKAGE_DAMAGED);
	assert_int_equal(verdict(fx, fx->good, 2048 + 512 + 100), KF_PACKAGE_DAMAGED);
}

static void first_member_must_be_the_list(void **state)
{
	struct fixture *fx = *state;
	struct members *ms = load_members(fx->good, fx->good_len);
	struct member first = ms->m[0];

	ms->m[0] = ms->m[2];
	ms->m[2] = first;
	assert_int_equal(verdict_of(fx, ms), KF_PACKAGE_NOT_A_PACKAGE);
	free_members(ms);
}

static void paths_are_checked(void **state)
{
	static const char *const good[] = {"a", "run.sh", "doc/notes.txt", "a-b_c+d.1", NULL};
	static const char *const bad[] = {"",
					  "/a",
					  "a/",
					  "a//b",
					  "..",
					  "a/../b",
					  ".a",
					  "a/.b",
					  "a b",
					  "a\\b",
					  "a:b",
					  "\xc3\xa9",
					  "a/b/c/d/e/f/g/h/i/j",
					  NULL};
	char longname[300];
	size_t i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		assert_true(kf_package_path_is_safe(good[i]));
	for (i = 0; bad[i] != NULL; i++)
		assert_false(kf_package_path_is_safe(bad[i]));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(kf_package_path_is_safe(longname));
}

static void install_writes_files_then_detects_changes(void **state)
{
	struct fixture *fx = *state;
	char base[] = "/tmp/kefu-package-test-XXXXXX", dest[128], path[192];
	struct kf_package *pkg, *installed;
	struct kf_error err;
	struct stat st;
	FILE *f;

	assert_non_null(mkdtemp(base));
	snprintf(dest, sizeof(dest), "%s/example", base);
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &fx->trusted, 1, &limits,
					   &pkg, NULL, NULL),
			 KF_OK);
	assert_int_equal(kf_package_install(pkg, dest, &err), KF_OK);
	snprintf(path, sizeof(path), "%s/run.sh", dest);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	snprintf(path, sizeof(path), "%s/doc/notes.txt", dest);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(kf_package_check_installed(dest, &limits, &installed, &err), KF_OK);
	assert_string_equal(installed->id, "example");
	kf_package_free(installed);

	/* A changed file is noticed. */
	f = fopen(path, "a");
	fputs("more\n", f);
	fclose(f);
	assert_int_equal(kf_package_check_installed(dest, &limits, NULL, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "doc/notes.txt"));

	/* Installing again replaces the folder whole. */
	assert_int_equal(kf_package_install(pkg, dest, &err), KF_OK);
	assert_int_equal(kf_package_check_installed(dest, &limits, NULL, &err), KF_OK);
	kf_package_free(pkg);
	snprintf(path, sizeof(path), "rm -rf '%s'", base);
	assert_int_equal(system(path), 0);
}

static void installed_package_is_trusted_only_while_its_publisher_is(void **state)
{
	struct fixture *fx = *state;
	char base[] = "/tmp/kefu-package-test-XXXXXX", dest[128], path[192];
	struct kf_package_publisher renamed = fx->trusted, stranger = {"Example Devices", {0}};
	struct kf_package *pkg, *installed;
	enum kf_package_reason reason;
	struct kf_error err;
	FILE *f;

	assert_non_null(mkdtemp(base));
	snprintf(dest, sizeof(dest), "%s/example", base);
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &fx->trusted, 1, &limits,
					   &pkg, NULL, NULL),
			 KF_OK);
	assert_int_equal(kf_package_install(pkg, dest, &err), KF_OK);
	kf_package_free(pkg);
	assert_int_equal(kf_package_open_installed(dest, "test", &fx->trusted, 1, &limits, true,
						   &installed, &reason, &err),
			 KF_OK);
	/* The bytes kept are the ones that were checked. */
	assert_int_equal(installed->n_files, 3);
	assert_non_null(installed->files[2].data);
	assert_memory_equal(installed->files[2].data, script, sizeof(script) - 1);
	kf_package_free(installed);

	/* The profile no longer lists the key, or lists it under another name. */
	memset(stranger.key, 7, sizeof(stranger.key));
	assert_int_equal(kf_package_open_installed(dest, "test", &stranger, 1, &limits, false, NULL,
						   &reason, &err),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNKNOWN_PUBLISHER);
	assert_int_equal(kf_package_open_installed(dest, "test", NULL, 0, &limits, false, NULL,
						   &reason, &err),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNKNOWN_PUBLISHER);
	renamed.name = "Someone Else";
	assert_int_equal(kf_package_open_installed(dest, "test", &renamed, 1, &limits, false, NULL,
						   &reason, &err),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNKNOWN_PUBLISHER);
	/* Another kind of package is not run as this kind. */
	assert_int_not_equal(kf_package_open_installed(dest, "plugin", &fx->trusted, 1, &limits,
						       false, NULL, &reason, &err),
			     KF_OK);
	assert_int_equal(reason, KF_PACKAGE_BAD_MANIFEST);

	/* The kept list edited (a file's hash made to match a change): the signature fails. */
	snprintf(path, sizeof(path), "%s/.kefu-package.json", dest);
	f = fopen(path, "a");
	fputs(" ", f);
	fclose(f);
	assert_int_equal(kf_package_open_installed(dest, "test", &fx->trusted, 1, &limits, false,
						   NULL, &reason, &err),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_BAD_SIGNATURE);
	/* Without the kept signature nothing is trusted. */
	snprintf(path, sizeof(path), "%s/.kefu-package.sig", dest);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(kf_package_open_installed(dest, "test", &fx->trusted, 1, &limits, false,
						   NULL, &reason, &err),
			 KF_ERR_AUTH);
	assert_int_equal(reason, KF_PACKAGE_UNSIGNED);

	/* Reinstalled, then a file replaced by a link to the same bytes: refused. */
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &fx->trusted, 1, &limits,
					   &pkg, NULL, NULL),
			 KF_OK);
	assert_int_equal(kf_package_install(pkg, dest, &err), KF_OK);
	kf_package_free(pkg);
	snprintf(path, sizeof(path), "%s/config", dest);
	f = fopen(path, "w");
	fputs("x=2\n", f);
	fclose(f);
	assert_int_equal(kf_package_open_installed(dest, "test", &fx->trusted, 1, &limits, false,
						   NULL, &reason, &err),
			 KF_ERR_INVALID);
	assert_int_equal(reason, KF_PACKAGE_HASH_MISMATCH);
	assert_non_null(strstr(err.message, "config"));
	snprintf(path, sizeof(path), "%s/config", dest);
	unlink(path);
	snprintf(dest, sizeof(dest), "%s/copy", base);
	f = fopen(dest, "w");
	fputs(config, f);
	fclose(f);
	assert_int_equal(symlink(dest, path), 0);
	snprintf(dest, sizeof(dest), "%s/example", base);
	assert_int_equal(kf_package_open_installed(dest, "test", &fx->trusted, 1, &limits, false,
						   NULL, &reason, &err),
			 KF_ERR_INVALID);
	assert_int_equal(reason, KF_PACKAGE_MISSING_FILE);
	snprintf(path, sizeof(path), "rm -rf '%s'", base);
	assert_int_equal(system(path), 0);
}

static void keys_are_saved_private_and_never_overwritten(void **state)
{
	struct fixture *fx = *state;
	char dir[] = "/tmp/kefu-key-test-XXXXXX", path[128], cmd[160];
	struct kf_error err;
	struct stat st;
	EVP_PKEY *loaded;
	char *a, *b;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/acme.key", dir);
	assert_int_equal(kf_package_key_save(fx->key, path, &err), KF_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_not_equal(kf_package_key_save(fx->other, path, &err), KF_OK);
	assert_non_null(strstr(err.message, "never overwritten"));
	assert_int_equal(kf_package_key_load(path, &loaded, &err), KF_OK);
	a = kf_package_key_public_base64(fx->key);
	b = kf_package_key_public_base64(loaded);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 44);
	free(a);
	free(b);
	EVP_PKEY_free(loaded);
	snprintf(path, sizeof(path), "%s/notakey", dir);
	fclose(fopen(path, "w"));
	assert_int_equal(kf_package_key_load(path, &loaded, &err), KF_ERR_INVALID);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* On a case-insensitive file system Detect.sh and detect.sh are one file: refused when signed. */
static void names_differing_only_in_case_are_refused(void **state)
{
	struct fixture *fx = *state;
	static const char *const pairs[][2] = {
		{"Detect.sh", "detect.sh"},
		{"doc/Notes.txt", "doc/notes.txt"},
		{"Doc", "doc/notes.txt"},
		{"DOC/a", "doc/b/c"},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct kf_package_file files[] = {
			{(char *)pairs[i][0], sizeof(script) - 1, {0}, true, (uint8_t *)script},
			{(char *)pairs[i][1], sizeof(notes) - 1, {0}, false, (uint8_t *)notes},
		};
		struct kf_package_spec spec = {"test", "example", "1.2.3", "Example Devices",
					       2,      files};
		struct kf_package *pkg = NULL;
		enum kf_package_reason reason = KF_PACKAGE_OK;
		struct kf_error err;
		uint8_t *data;
		size_t len;
		int r;

		assert_int_equal(kf_package_build(&spec, fx->key, &data, &len, &err), KF_OK);
		r = kf_package_verify(data, len, "test", &fx->trusted, 1, &limits, &pkg, &reason,
				      &err);
		if (i < 3) {
			assert_int_equal(r, KF_ERR_INVALID);
			assert_null(pkg);
			assert_int_equal(reason, KF_PACKAGE_DUPLICATE);
			assert_non_null(strstr(err.message, "letter case"));
		} else {
			/* Folders that differ in case hold different files: merged, not lost. */
			assert_int_equal(r, KF_OK);
			kf_package_free(pkg);
		}
		free(data);
	}
}

/* What an install killed half way left (a staging folder) goes with the next install there. */
static void install_sweeps_staging_folders_a_killed_install_left(void **state)
{
	struct fixture *fx = *state;
	char base[] = "/tmp/kefu-sweep-test-XXXXXX", path[160], dest[128];
	static const char *const leftovers[] = {".example.new-AbC123", ".other.new-XyZ789"};
	static const char *const kept[] = {".keep", ".x.new-toolong1", "visible.new-ABCDEF"};
	struct kf_package *pkg;
	struct kf_error err;
	struct stat st;

	assert_non_null(mkdtemp(base));
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", base, leftovers[i]);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/%s/half-written", base, leftovers[i]);
		fclose(fopen(path, "w"));
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", base, kept[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	/* A file with a staging folder's name is not one. */
	snprintf(path, sizeof(path), "%s/.file.new-QwErTy", base);
	fclose(fopen(path, "w"));
	assert_int_equal(kf_package_verify(fx->good, fx->good_len, "test", &fx->trusted, 1, &limits,
					   &pkg, NULL, NULL),
			 KF_OK);
	snprintf(dest, sizeof(dest), "%s/example", base);
	assert_int_equal(kf_package_install(pkg, dest, &err), KF_OK);
	kf_package_free(pkg);
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", base, leftovers[i]);
		assert_int_not_equal(lstat(path, &st), 0);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", base, kept[i]);
		assert_int_equal(lstat(path, &st), 0);
	}
	snprintf(path, sizeof(path), "%s/.file.new-QwErTy", base);
	assert_int_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/example/run.sh", base);
	assert_int_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", base);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_package_verifies_with_every_file),
		cmocka_unit_test(building_twice_gives_the_same_bytes),
		cmocka_unit_test(unsigned_package_is_refused),
		cmocka_unit_test(signature_by_unknown_key_is_refused),
		cmocka_unit_test(key_trusted_under_another_name_is_refused),
		cmocka_unit_test(manifest_changed_after_signing_is_refused),
		cmocka_unit_test(garbled_signature_record_is_refused),
		cmocka_unit_test(package_of_another_kind_is_refused),
		cmocka_unit_test(hostile_members_are_refused_each_with_its_reason),
		cmocka_unit_test(missing_file_is_refused),
		cmocka_unit_test(changed_file_is_refused),
		cmocka_unit_test(oversized_and_too_many_members_are_refused),
		cmocka_unit_test(list_over_the_limits_is_refused),
		cmocka_unit_test(damaged_archives_are_refused),
		cmocka_unit_test(first_member_must_be_the_list),
		cmocka_unit_test(paths_are_checked),
		cmocka_unit_test(names_differing_only_in_case_are_refused),
		cmocka_unit_test(install_writes_files_then_detects_changes),
		cmocka_unit_test(installed_package_is_trusted_only_while_its_publisher_is),
		cmocka_unit_test(install_sweeps_staging_folders_a_killed_install_left),
		cmocka_unit_test(keys_are_saved_private_and_never_overwritten),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
