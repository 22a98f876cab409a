/* kefu: unit tests for files written whole or not at all. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/base/fs.h"
#include "proto/package/package.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char folder[] = "/tmp/kefu-test-fs-XXXXXX";

static int make_folder(void **state)
{
	(void)state;
	strcpy(folder + strlen(folder) - 6, "XXXXXX");
	return mkdtemp(folder) == NULL ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int remove_folder(void **state)
{
	(void)state;
	return nftw(folder, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* How many entries the folder holds, hidden ones included. */
static int count_entries(void)
{
	DIR *dir = opendir(folder);
	struct dirent *entry;
	int n = 0;

	assert_non_null(dir);
	while ((entry = readdir(dir)) != NULL)
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

static void read_back(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void a_writer_killed_before_publishing_leaves_nothing(void **state)
{
	char path[256];
	pid_t pid;
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s/package.kefupkg", folder);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kf_fs_file file;
		static char block[1 << 20];

		if (kf_fs_create(path, 0644, &file) < 0)
			_exit(2);
		for (int i = 0; i < 4; i++)
			if (write(file.fd, block, sizeof(block)) != (ssize_t)sizeof(block))
				_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(count_entries(), 0);
}

static void publishing_replaces_in_one_step_and_leaves_no_temporary(void **state)
{
	char path[256], text[64];
	struct kf_fs_file file;
	struct kf_error err;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/list", folder);
	assert_int_equal(kf_package_save(path, (const uint8_t *)"old", 3, &err), 0);
	assert_int_equal(kf_fs_create(path, 0640, &file), 0);
	assert_int_equal(write(file.fd, "new", 3), 3);
	/* Until published, the old content is what readers see. */
	read_back(path, text, sizeof(text));
	assert_string_equal(text, "old");
	assert_int_equal(kf_fs_publish(&file, path, 1), 0);
	read_back(path, text, sizeof(text));
	assert_string_equal(text, "new");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(count_entries(), 1);
}

static void publishing_without_replace_never_overwrites(void **state)
{
	char path[256], text[64];
	struct kf_fs_file file;
	struct kf_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s/key.pem", folder);
	assert_int_equal(kf_package_save(path, (const uint8_t *)"first", 5, &err), 0);
	assert_int_equal(kf_fs_create(path, 0600, &file), 0);
	assert_int_equal(write(file.fd, "second", 6), 6);
	assert_int_equal(kf_fs_publish(&file, path, 0), -1);
	assert_int_equal(errno, EEXIST);
	read_back(path, text, sizeof(text));
	assert_string_equal(text, "first");
	assert_int_equal(count_entries(), 1);
}

static void a_discarded_file_leaves_nothing(void **state)
{
	char path[256];
	struct kf_fs_file file;

	(void)state;
	snprintf(path, sizeof(path), "%s/unwanted", folder);
	assert_int_equal(kf_fs_create(path, 0644, &file), 0);
	assert_int_equal(write(file.fd, "x", 1), 1);
	kf_fs_discard(&file);
	kf_fs_discard(&file); /* twice is harmless */
	assert_int_equal(count_entries(), 0);
}

static void a_missing_folder_fails_cleanly(void **state)
{
	char path[256];
	struct kf_fs_file file;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing/file", folder);
	assert_int_equal(kf_fs_create(path, 0644, &file), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_entries(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_writer_killed_before_publishing_leaves_nothing,
						make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(
			publishing_replaces_in_one_step_and_leaves_no_temporary, make_folder,
			remove_folder),
		cmocka_unit_test_setup_teardown(publishing_without_replace_never_overwrites,
						make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(a_discarded_file_leaves_nothing, make_folder,
						remove_folder),
		cmocka_unit_test_setup_teardown(a_missing_folder_fails_cleanly, make_folder,
						remove_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
