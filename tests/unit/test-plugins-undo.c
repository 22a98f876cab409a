/* kefu: unit tests for what a repair changed and its undo (agentd/plugins/undo.c).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/plugins/undo.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tree {
	char top[64];
	char root[PATH_MAX];
	char state[PATH_MAX];
};

static void put(const struct tree *t, const char *path, const char *text)
{
	char full[PATH_MAX * 2];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", t->root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const struct tree *t, const char *path)
{
	static char buf[256];
	char full[PATH_MAX * 2];
	FILE *f;
	size_t n;

	snprintf(full, sizeof(full), "%s%s", t->root, path);
	f = fopen(full, "r");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void at(const struct tree *t, const char *path, char *out, size_t size)
{
	snprintf(out, size, "%s%s", t->root, path);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char path[PATH_MAX * 2];

	snprintf(t->top, sizeof(t->top), "/tmp/kefu-undo-XXXXXX");
	assert_non_null(mkdtemp(t->top));
	snprintf(t->root, sizeof(t->root), "%s/root", t->top);
	snprintf(t->state, sizeof(t->state), "%s/state", t->top);
	assert_int_equal(mkdir(t->root, 0755), 0);
	at(t, "/etc", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	at(t, "/etc/sub", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	put(t, "/etc/a", "one\n");
	put(t, "/etc/sub/b", "two\n");
	at(t, "/etc/link", path, sizeof(path));
	assert_int_equal(symlink("/usr/lib/x", path), 0);
	setenv("XDG_STATE_HOME", t->state, 1);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char command[PATH_MAX + 16];

	snprintf(command, sizeof(command), "rm -rf '%s'", t->top);
	assert_int_equal(system(command), 0);
	free(t);
	return 0;
}

static const struct kf_plugin_step *step_writing_etc(void)
{
	static struct kf_plugin_step step = {
		.run = (char *)"repair.sh", .timeout = 10, .privileges = {.n_writes = 1}};

	step.privileges.writes[0] = (char *)"/etc";
	return &step;
}

static json_t *keep(const struct tree *t, struct kf_undo_snapshot *before, char *dir, size_t size)
{
	char folder[PATH_MAX];

	kf_undo_state_dir(folder, sizeof(folder));
	return kf_undo_keep(before, t->root, folder, "20261202T000000Z-1", "demo", "demo-check", 0,
			    "A demo", dir, size);
}

static const char *change_of(const json_t *changes, const char *path)
{
	size_t i;
	json_t *c;

	json_array_foreach(changes, i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "path")), path) == 0)
			return json_string_value(json_object_get(c, "change"));
	}
	return NULL;
}

static void nothing_changed_keeps_no_record(void **state)
{
	struct tree *t = *state;
	struct kf_undo_snapshot *before;
	struct kf_error err;
	char dir[PATH_MAX * 2];
	json_t *changes;

	assert_int_equal(kf_undo_snapshot_take(t->root, step_writing_etc(), &before, &err), KF_OK);
	changes = keep(t, before, dir, sizeof(dir));
	assert_int_equal(json_array_size(changes), 0);
	assert_string_equal(dir, "");
	json_decref(changes);
	kf_undo_snapshot_free(before);
}

static void every_kind_of_change_is_listed_and_put_back(void **state)
{
	struct tree *t = *state;
	struct kf_undo_snapshot *before;
	struct kf_error err;
	char dir[PATH_MAX * 2], path[PATH_MAX * 2], target[64];
	json_t *changes;
	ssize_t n;

	assert_int_equal(kf_undo_snapshot_take(t->root, step_writing_etc(), &before, &err), KF_OK);
	put(t, "/etc/a", "changed\n");
	at(t, "/etc/sub/b", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	put(t, "/etc/c", "added\n");
	at(t, "/etc/link", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/elsewhere", path), 0);
	at(t, "/etc/sub", path, sizeof(path));
	assert_int_equal(chmod(path, 0700), 0);
	changes = keep(t, before, dir, sizeof(dir));
	kf_undo_snapshot_free(before);
	assert_string_equal(change_of(changes, "/etc/a"), "changed");
	assert_string_equal(change_of(changes, "/etc/sub/b"), "removed");
	assert_string_equal(change_of(changes, "/etc/c"), "added");
	assert_string_equal(change_of(changes, "/etc/link"), "changed");
	assert_string_equal(change_of(changes, "/etc/sub"), "mode-or-owner");
	assert_int_equal(json_array_size(changes), 5);
	assert_true(dir[0] != '\0');
	json_decref(changes);

	assert_int_equal(kf_undo_run(t->root, "demo-check", true), 0);
	assert_string_equal(get(t, "/etc/a"), "one\n");
	assert_string_equal(get(t, "/etc/sub/b"), "two\n");
	assert_null(get(t, "/etc/c"));
	at(t, "/etc/link", path, sizeof(path));
	n = readlink(path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "/usr/lib/x");
	{
		struct stat st;

		at(t, "/etc/sub", path, sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
	}
	/* Undone once: nothing is left to undo. */
	assert_int_not_equal(kf_undo_run(t->root, "demo-check", true), 0);
}

static void a_file_changed_again_is_left_alone(void **state)
{
	struct tree *t = *state;
	struct kf_undo_snapshot *before;
	struct kf_error err;
	char dir[PATH_MAX * 2];
	json_t *changes;

	assert_int_equal(kf_undo_snapshot_take(t->root, step_writing_etc(), &before, &err), KF_OK);
	put(t, "/etc/a", "by the repair\n");
	changes = keep(t, before, dir, sizeof(dir));
	kf_undo_snapshot_free(before);
	json_decref(changes);
	put(t, "/etc/a", "by the administrator later\n");
	assert_int_not_equal(kf_undo_run(t->root, "demo", true), 0);
	assert_string_equal(get(t, "/etc/a"), "by the administrator later\n");
}

static void a_folder_a_repair_made_a_link_out_of_the_root_comes_back_as_a_folder(void **state)
{
	struct tree *t = *state;
	struct kf_undo_snapshot *before;
	struct kf_error err;
	char dir[PATH_MAX * 2], path[PATH_MAX * 2], outside[PATH_MAX];
	struct stat st;
	json_t *changes;

	assert_int_equal(kf_undo_snapshot_take(t->root, step_writing_etc(), &before, &err), KF_OK);
	snprintf(outside, sizeof(outside), "%s/outside", t->top);
	assert_int_equal(mkdir(outside, 0755), 0);
	at(t, "/etc/sub/b", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	at(t, "/etc/sub", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink(outside, path), 0);
	changes = keep(t, before, dir, sizeof(dir));
	kf_undo_snapshot_free(before);
	json_decref(changes);

	assert_int_equal(kf_undo_run(t->root, "demo-check", true), 0);
	at(t, "/etc/sub", path, sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_string_equal(get(t, "/etc/sub/b"), "two\n");
	snprintf(path, sizeof(path), "%s/b", outside);
	assert_int_not_equal(access(path, F_OK), 0); /* nothing was written through the link */
}

static void undo_of_an_unknown_check_changes_nothing(void **state)
{
	struct tree *t = *state;

	assert_int_not_equal(kf_undo_run(t->root, "no-such-check", false), 0);
	assert_string_equal(get(t, "/etc/a"), "one\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nothing_changed_keeps_no_record, setup, teardown),
		cmocka_unit_test_setup_teardown(every_kind_of_change_is_listed_and_put_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_file_changed_again_is_left_alone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_folder_a_repair_made_a_link_out_of_the_root_comes_back_as_a_folder, setup,
			teardown),
		cmocka_unit_test_setup_teardown(undo_of_an_unknown_check_changes_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
