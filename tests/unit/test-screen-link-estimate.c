/* kefu: unit tests for the link estimate behind a viewer's adaptive quality.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/screen/link-estimate.h"

#include <string.h>

#define MS(x) ((x) / 1000.0)

/* A link of bytes_per_s with a round trip of rtt_ms: how long an update of bytes takes. */
static double on_link(int bytes, double bytes_per_s, double rtt_ms)
{
	return (double)bytes / bytes_per_s + MS(rtt_ms);
}

/* The home link of the benchmark: 5 Mbit/s down, 40 ms round trip. */
static void learn_home_link(struct kf_link_estimate *link)
{
	memset(link, 0, sizeof(*link));
	for (int i = 0; i < 8; i++)
		assert_int_equal(kf_link_estimate_add(link, 200, on_link(200, 625e3, 40)), 0);
	for (int i = 0; i < 12; i++)
		assert_int_equal(kf_link_estimate_add(link, 26000, on_link(26000, 625e3, 40)), 1);
}

static void test_round_trip_is_the_least_recent_small_update(void **state)
{
	(void)state;
	struct kf_link_estimate link = {0};

	assert_true(kf_link_estimate_round_trip(&link) == 0);
	kf_link_estimate_add(&link, 100, MS(55));
	kf_link_estimate_add(&link, 3000, MS(41));
	kf_link_estimate_add(&link, 900, MS(48));
	assert_true(kf_link_estimate_round_trip(&link) == MS(41));
	/* Only the last KF_LINK_ROUND_TRIPS count, however many came before. */
	for (int i = 0; i < 10 * KF_LINK_ROUND_TRIPS + 3; i++)
		kf_link_estimate_add(&link, 100, MS(60 + i % 7));
	assert_true(kf_link_estimate_round_trip(&link) == MS(60));
	/* Medium updates are neither round trips nor samples. */
	assert_int_equal(kf_link_estimate_add(&link, KF_LINK_SMALL_BYTES, MS(1)), 0);
	assert_int_equal(kf_link_estimate_add(&link, KF_LINK_SAMPLE_BYTES - 1, MS(1)), 0);
	assert_true(kf_link_estimate_round_trip(&link) == MS(60));
	assert_true(link.throughput == 0);
}

static void test_throughput_follows_the_link_less_the_round_trip(void **state)
{
	(void)state;
	struct kf_link_estimate link;

	learn_home_link(&link);
	assert_true(link.throughput > 600e3 && link.throughput < 650e3);
	assert_int_equal(kf_link_estimate_level(&link, 6, 9), 6);
	/* The link slows to 1 Mbit/s: the estimate follows within a few updates. */
	for (int i = 0; i < 12; i++)
		kf_link_estimate_add(&link, 26000, on_link(26000, 125e3, 40));
	assert_true(link.throughput < 150e3);
	assert_int_equal(kf_link_estimate_level(&link, 6, 9), 4);
}

static void test_a_request_sent_ahead_says_nothing_about_the_link(void **state)
{
	(void)state;
	struct kf_link_estimate link;

	learn_home_link(&link);
	double before = link.throughput;
	/*
	 * A viewer that asked again before the last update reached it (a full refresh
	 * it wanted, or a viewer that asks ahead): its request came within a millisecond.
	 * Taken as a sample, one such update read as 13 MB/s and sent the viewer
	 * lossless 200 kB updates on a 5 Mbit/s link.
	 */
	assert_int_equal(kf_link_estimate_add(&link, 26000, MS(0.4)), 0);
	assert_int_equal(kf_link_estimate_add(&link, 212000, MS(0)), 0);
	assert_int_equal(kf_link_estimate_add(&link, 27000, MS(39)), 0);
	assert_true(link.throughput == before);
	assert_int_equal(kf_link_estimate_level(&link, 6, 9), 6);
}

static void test_an_update_lost_in_the_round_trip_reads_as_at_least(void **state)
{
	(void)state;
	struct kf_link_estimate link = {0};

	kf_link_estimate_add(&link, 100, MS(40));
	/* 20 kB in 41 ms: the link's share is taken as at least a quarter of the time. */
	assert_int_equal(kf_link_estimate_add(&link, 20000, MS(41)), 1);
	assert_true(link.throughput > 1.9e6 && link.throughput < 2.0e6);
}

static void test_levels_step_with_throughput_and_never_pass_the_viewers(void **state)
{
	(void)state;
	static const struct {
		double throughput;
		int current, asked, level;
	} cases[] = {
		{50e6, 6, 9, -1},  {4.0e6, 6, 9, -1}, {3.5e6, 6, 9, 8}, {3.5e6, -1, 9, -1},
		{2.9e6, -1, 9, 8}, {2.0e6, 8, 9, 8},  {1.5e6, 8, 9, 7}, {600e3, 7, 9, 6},
		{300e3, 6, 9, 5},  {130e3, 5, 9, 4},  {50e3, 4, 9, 3},  {1.5e6, 8, 2, 2},
		{50e3, 4, 1, 1},
	};
	struct kf_link_estimate link = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		link.throughput = cases[i].throughput;
		assert_int_equal(kf_link_estimate_level(&link, cases[i].current, cases[i].asked),
				 cases[i].level);
	}
}

static void test_smoothing_keeps_three_quarters_of_the_old_estimate(void **state)
{
	(void)state;
	struct kf_link_estimate link = {0};

	kf_link_estimate_add(&link, 100, MS(10));
	kf_link_estimate_add(&link, 100000, MS(110)); /* 1 MB/s */
	assert_true(link.throughput > 0.99e6 && link.throughput < 1.01e6);
	kf_link_estimate_add(&link, 100000, MS(210)); /* 500 kB/s */
	assert_true(link.throughput > 0.87e6 && link.throughput < 0.88e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_is_the_least_recent_small_update),
		cmocka_unit_test(test_throughput_follows_the_link_less_the_round_trip),
		cmocka_unit_test(test_a_request_sent_ahead_says_nothing_about_the_link),
		cmocka_unit_test(test_an_update_lost_in_the_round_trip_reads_as_at_least),
		cmocka_unit_test(test_levels_step_with_throughput_and_never_pass_the_viewers),
		cmocka_unit_test(test_smoothing_keeps_three_quarters_of_the_old_estimate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
