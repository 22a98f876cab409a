/* kefu: unit tests for the queue that hands input to the desktop one event at a time.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/screen/input-queue.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

/* A desktop that records what it is given and can be made to hold the next answer. */
struct desktop {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct kf_input_event got[1024];
	int count;
	int is_held;    /* deliveries wait while set */
	int is_waiting; /* a delivery is waiting */
};

static void deliver(void *user, const struct kf_input_event *event)
{
	struct desktop *d = user;
	pthread_mutex_lock(&d->lock);
	d->is_waiting = 1;
	pthread_cond_broadcast(&d->changed);
	while (d->is_held)
		pthread_cond_wait(&d->changed, &d->lock);
	d->is_waiting = 0;
	if (d->count < 1024)
		d->got[d->count++] = *event;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}

static void desktop_init(struct desktop *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->changed, NULL);
}

/* A queue delivering to d, made afresh. */
static struct kf_input_queue *start(struct desktop *d)
{
	struct kf_input_queue *queue;

	desktop_init(d);
	assert_int_equal(kf_input_queue_start(&queue, deliver, d, NULL), 0);
	return queue;
}

static void hold(struct desktop *d, int is_held)
{
	pthread_mutex_lock(&d->lock);
	d->is_held = is_held;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}

/* Until a delivery waits on the held desktop. */
static void wait_waiting(struct desktop *d)
{
	pthread_mutex_lock(&d->lock);
	while (!d->is_waiting)
		pthread_cond_wait(&d->changed, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

/* Until count events arrived, or 5 s passed; how many did. */
static int wait_count(struct desktop *d, int count)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	pthread_mutex_lock(&d->lock);
	while (d->count < count && pthread_cond_timedwait(&d->changed, &d->lock, &deadline) == 0) {
	}
	int got = d->count;
	pthread_mutex_unlock(&d->lock);
	return got;
}

static struct kf_input_event move(int x, int y)
{
	return (struct kf_input_event){.kind = KF_INPUT_MOVE, .x = x, .y = y};
}

static struct kf_input_event button(unsigned code, int is_down)
{
	return (struct kf_input_event){.kind = KF_INPUT_BUTTON, .code = code, .is_down = is_down};
}

static struct kf_input_event key(unsigned keysym, int is_down)
{
	return (struct kf_input_event){.kind = KF_INPUT_KEY, .code = keysym, .is_down = is_down};
}

static void push(struct kf_input_queue *queue, struct kf_input_event event)
{
	assert_int_equal(kf_input_queue_push(queue, &event), 0);
}

static void assert_event(const struct kf_input_event *got, struct kf_input_event wanted)
{
	assert_int_equal(got->kind, wanted.kind);
	assert_int_equal(got->x, wanted.x);
	assert_int_equal(got->y, wanted.y);
	assert_int_equal(got->code, wanted.code);
	assert_int_equal(got->is_down, wanted.is_down);
	assert_int_equal(got->steps, wanted.steps);
}

static void test_events_arrive_one_at_a_time_in_order_with_waiting_moves_merged(void **state)
{
	(void)state;
	struct desktop d;
	struct kf_input_queue *queue = start(&d);

	hold(&d, 1);
	push(queue, move(1, 1));
	wait_waiting(&d); /* the first move is with the desktop; the rest wait */
	push(queue, move(2, 2));
	push(queue, move(3, 3)); /* merged into the one before: the newest place wins */
	push(queue, button(0x110, 1));
	push(queue, move(4, 4));
	push(queue, button(0x110, 0));
	push(queue, key('a', 1));
	push(queue, key('a', 0));
	push(queue, (struct kf_input_event){.kind = KF_INPUT_SCROLL, .code = 1, .steps = -1});
	hold(&d, 0);
	assert_int_equal(wait_count(&d, 8), 8);
	assert_event(&d.got[0], move(1, 1));
	assert_event(&d.got[1], move(3, 3));
	assert_event(&d.got[2], button(0x110, 1));
	assert_event(&d.got[3], move(4, 4));
	assert_event(&d.got[4], button(0x110, 0));
	assert_event(&d.got[5], key('a', 1));
	assert_event(&d.got[6], key('a', 0));
	assert_event(&d.got[7],
		     (struct kf_input_event){.kind = KF_INPUT_SCROLL, .code = 1, .steps = -1});
	kf_input_queue_free(queue);
	assert_int_equal(d.count, 8);
}

static void test_repeated_presses_and_releases_of_what_is_up_are_not_delivered(void **state)
{
	(void)state;
	struct desktop d;
	struct kf_input_queue *queue = start(&d);

	push(queue, key('b', 0)); /* never pressed */
	push(queue, key('x', 1));
	push(queue, key('x', 1));      /* a viewer's auto-repeat: the desktop repeats itself */
	push(queue, button(0x111, 1)); /* a button and a key may share a code's number */
	push(queue, key(0x111, 1));
	push(queue, key('x', 0));
	push(queue, key('x', 0));
	push(queue, button(0x111, 0));
	push(queue, key(0x111, 0));
	push(queue, move(9, 9)); /* the last, so that everything before it has been judged */
	assert_int_equal(wait_count(&d, 7), 7);
	kf_input_queue_free(queue);
	assert_int_equal(d.count, 7);
	assert_event(&d.got[6], move(9, 9));
	assert_event(&d.got[0], key('x', 1));
	assert_event(&d.got[1], button(0x111, 1));
	assert_event(&d.got[2], key(0x111, 1));
	assert_event(&d.got[3], key('x', 0));
	assert_event(&d.got[4], button(0x111, 0));
	assert_event(&d.got[5], key(0x111, 0));
}

static void *unhold_later(void *arg)
{
	struct timespec pause = {1, 0};
	nanosleep(&pause, NULL);
	hold(arg, 0);
	return NULL;
}

static void test_release_drops_what_waits_and_lets_go_of_what_was_pressed(void **state)
{
	(void)state;
	struct desktop d;
	struct kf_input_queue *queue = start(&d);

	push(queue, key(0xffe1, 1)); /* Shift, held */
	push(queue, button(0x110, 1));
	assert_int_equal(wait_count(&d, 2), 2);
	hold(&d, 1);
	push(queue, key('c', 1)); /* with the desktop when control is taken back */
	wait_waiting(&d);
	push(queue, key('c', 0));
	push(queue, key('v', 1)); /* still waiting: never delivered */
	push(queue, move(5, 5));
	/* The desktop answers a second after control is taken back. */
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, unhold_later, &d), 0);
	kf_input_queue_release(queue, 5000);
	pthread_join(thread, NULL);
	/* Everything delivered pressed is released, each once, and nothing else arrives. */
	assert_int_equal(d.count, 6);
	assert_event(&d.got[2], key('c', 1));
	int released[3] = {0};
	for (int i = 3; i < 6; i++) {
		assert_int_equal(d.got[i].is_down, 0);
		if (d.got[i].kind == KF_INPUT_KEY && d.got[i].code == 0xffe1)
			released[0]++;
		else if (d.got[i].kind == KF_INPUT_BUTTON && d.got[i].code == 0x110)
			released[1]++;
		else if (d.got[i].kind == KF_INPUT_KEY && d.got[i].code == 'c')
			released[2]++;
	}
	assert_int_equal(released[0] + released[1] + released[2], 3);
	assert_true(released[0] == 1 && released[1] == 1 && released[2] == 1);
	/* Nothing is held now: a second release sends nothing. */
	kf_input_queue_release(queue, 5000);
	kf_input_queue_free(queue);
	assert_int_equal(d.count, 6);
}

static void test_a_full_queue_refuses_presses_but_takes_releases(void **state)
{
	(void)state;
	struct desktop d;
	struct kf_input_queue *queue = start(&d);

	hold(&d, 1);
	push(queue, key('q', 1));
	wait_waiting(&d);
	for (int i = 0; i < KF_INPUT_QUEUE_SIZE / 2; i++) {
		push(queue, key('k', 1));
		push(queue, key('k', 0));
	}
	struct kf_input_event more = key('m', 1);
	assert_int_equal(kf_input_queue_push(queue, &more), KF_ERR_TOO_LARGE);
	more = button(0x110, 1);
	assert_int_equal(kf_input_queue_push(queue, &more), KF_ERR_TOO_LARGE);
	/* A move behind a key is not merged: it waits, and there is no room. */
	more = move(1, 2);
	assert_int_equal(kf_input_queue_push(queue, &more), KF_ERR_TOO_LARGE);
	push(queue, key('q', 0)); /* the held key is let go of even now */
	hold(&d, 0);
	assert_int_equal(wait_count(&d, KF_INPUT_QUEUE_SIZE + 2), KF_INPUT_QUEUE_SIZE + 2);
	assert_event(&d.got[KF_INPUT_QUEUE_SIZE + 1], key('q', 0));
	kf_input_queue_free(queue);
}

static double seconds_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void test_release_waits_at_most_its_timeout_for_a_stuck_desktop(void **state)
{
	(void)state;
	struct desktop d;
	struct kf_input_queue *queue = start(&d);

	push(queue, key('s', 1));
	assert_int_equal(wait_count(&d, 1), 1);
	hold(&d, 1);
	double start = seconds_now();
	kf_input_queue_release(queue, 200);
	double took = seconds_now() - start;
	assert_true(took >= 0.19 && took < 3.0);
	/* The release is still on its way; freeing waits for the desktop's answer only. */
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, unhold_later, &d), 0);
	kf_input_queue_free(queue);
	pthread_join(thread, NULL);
	assert_int_equal(d.count, 2);
	assert_event(&d.got[1], key('s', 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_events_arrive_one_at_a_time_in_order_with_waiting_moves_merged),
		cmocka_unit_test(
			test_repeated_presses_and_releases_of_what_is_up_are_not_delivered),
		cmocka_unit_test(test_release_drops_what_waits_and_lets_go_of_what_was_pressed),
		cmocka_unit_test(test_a_full_queue_refuses_presses_but_takes_releases),
		cmocka_unit_test(test_release_waits_at_most_its_timeout_for_a_stuck_desktop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
