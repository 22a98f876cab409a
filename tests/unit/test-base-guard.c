/* kefu: unit tests for the deferred-free guard and the line reader that uses it.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/base/guard.h"
#include "proto/base/line-reader.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An object as the guard's users write one: callbacks run between enter and leave. */
struct object {
	struct kf_guard guard;
	int destroyed;
	int is_freed_in_callback;
	int nested;
};

static void object_destroy(struct object *object)
{
	object->destroyed++;
}

static void object_free(struct object *object)
{
	if (kf_guard_free(&object->guard))
		object_destroy(object);
}

static void object_callback(struct object *object)
{
	kf_guard_enter(&object->guard);
	if (object->nested > 0) {
		object->nested--;
		object_callback(object);
	} else if (object->is_freed_in_callback) {
		object_free(object);
		assert_int_equal(object->destroyed, 0);
	}
	if (kf_guard_leave(&object->guard))
		object_destroy(object);
}

static void free_outside_a_callback_destroys_at_once(void **state)
{
	struct object object = {0};

	(void)state;
	object_free(&object);
	assert_int_equal(object.destroyed, 1);
	assert_true(kf_guard_is_freed(&object.guard));
}

static void free_inside_a_callback_destroys_when_it_returns(void **state)
{
	struct object object = {.is_freed_in_callback = 1};

	(void)state;
	object_callback(&object);
	assert_int_equal(object.destroyed, 1);
}

static void free_inside_nested_callbacks_waits_for_the_outermost(void **state)
{
	struct object object = {.is_freed_in_callback = 1, .nested = 3};

	(void)state;
	object_callback(&object);
	assert_int_equal(object.destroyed, 1);
	assert_int_equal(object.guard.depth, 0);
}

static void callbacks_without_a_free_never_destroy(void **state)
{
	struct object object = {.nested = 2};

	(void)state;
	object_callback(&object);
	object_callback(&object);
	assert_int_equal(object.destroyed, 0);
	assert_false(kf_guard_is_freed(&object.guard));
}

static void second_free_does_nothing(void **state)
{
	struct object object = {0};

	(void)state;
	object_free(&object);
	object_free(&object);
	assert_int_equal(object.destroyed, 1);
}

struct lines {
	int count;
	int eofs;
	int is_freed_on_line;
	char first[16];
};

static void on_line(struct kf_line_reader *reader, const char *line, void *user)
{
	struct lines *lines = user;

	if (lines->count++ == 0)
		snprintf(lines->first, sizeof(lines->first), "%s", line);
	if (lines->is_freed_on_line)
		kf_line_reader_free(reader);
}

static void on_eof(struct kf_line_reader *reader, void *user)
{
	struct lines *lines = user;

	lines->eofs++;
	kf_line_reader_free(reader);
}

static void read_lines(int fd, struct lines *lines)
{
	static const struct kf_line_reader_callbacks callbacks = {on_line, on_eof};
	struct kf_line_reader *reader;
	uv_loop_t loop;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(kf_line_reader_new(&loop, fd, &callbacks, lines, &reader, NULL), 0);
	/* Bounded: the reader's handles close once it is destroyed, and the loop ends. */
	for (int i = 0; i < 1000 && uv_run(&loop, UV_RUN_NOWAIT) != 0; i++)
		;
	assert_int_equal(uv_loop_close(&loop), 0);
}

static int input_fd(int is_file)
{
	static const char text[] = "one\ntwo\nthree\n";
	int fd, pipe_fds[2];

	if (is_file) {
		fd = memfd_create("lines", 0);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		return fd;
	}
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(write(pipe_fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(pipe_fds[1]);
	return pipe_fds[0];
}

static void line_reader_freed_on_a_line_stops_there(void **state)
{
	for (int is_file = 0; is_file <= 1; is_file++) {
		struct lines lines = {.is_freed_on_line = 1};
		int fd = input_fd(is_file);

		(void)state;
		read_lines(fd, &lines);
		assert_int_equal(lines.count, 1);
		assert_string_equal(lines.first, "one");
		assert_int_equal(lines.eofs, 0);
		close(fd);
	}
}

static void line_reader_reads_every_line_then_the_end(void **state)
{
	for (int is_file = 0; is_file <= 1; is_file++) {
		struct lines lines = {0};
		int fd = input_fd(is_file);

		(void)state;
		read_lines(fd, &lines);
		assert_int_equal(lines.count, 3);
		assert_int_equal(lines.eofs, 1);
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(free_outside_a_callback_destroys_at_once),
		cmocka_unit_test(free_inside_a_callback_destroys_when_it_returns),
		cmocka_unit_test(free_inside_nested_callbacks_waits_for_the_outermost),
		cmocka_unit_test(callbacks_without_a_free_never_destroy),
		cmocka_unit_test(second_free_does_nothing),
		cmocka_unit_test(line_reader_freed_on_a_line_stops_there),
		cmocka_unit_test(line_reader_reads_every_line_then_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
