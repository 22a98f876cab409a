/* kefu: unit tests for the watch's store: history, alerts told once, the fit. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/watch/run.h"
#include "agentd/watch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char folder[] = "/tmp/kefu-test-watch-XXXXXX";
static char path[sizeof(folder) + 32];

static int open_store(void **state)
{
	struct kf_watch_store *store;
	struct kf_error err = {0};

	strcpy(folder + strlen(folder) - 6, "XXXXXX");
	if (mkdtemp(folder) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/state/watch.sqlite", folder);
	if (kf_watch_store_open(path, &store, &err) != KF_OK)
		return -1;
	*state = store;
	return 0;
}

static int close_store(void **state)
{
	char command[sizeof(folder) + 16];

	kf_watch_store_close(*state);
	snprintf(command, sizeof(command), "rm -rf %s", folder);
	return system(command) == 0 ? 0 : -1;
}

static void the_store_is_private_to_the_user(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void history_is_oldest_first_and_leaves_out_the_current_run(void **state)
{
	struct kf_watch_store *store = *state;
	struct kf_watch_point *points;
	struct kf_error err = {0};
	int64_t run = 0;
	size_t n;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(kf_watch_store_run_begin(store, 1000 + i, &run, &err), KF_OK);
		assert_int_equal(kf_watch_store_add(store, run, "smart", "sda:reallocated", i * 8,
						    1000 + i, &err),
				 KF_OK);
		assert_int_equal(kf_watch_store_add(store, run, "smart", "sdb:reallocated", 99,
						    1000 + i, &err),
				 KF_OK);
	}
	assert_int_equal(kf_watch_store_history(store, "smart", "sda:reallocated", 1001, run, 10,
						&points, &n, &err),
			 KF_OK);
	assert_int_equal(n, 3);
	assert_int_equal(points[0].time, 1001);
	assert_true(points[0].value == 8 && points[2].value == 24);
	free(points);
	/* at most max points: the newest ones */
	assert_int_equal(kf_watch_store_history(store, "smart", "sda:reallocated", 0, -1, 2,
						&points, &n, &err),
			 KF_OK);
	assert_int_equal(n, 2);
	assert_true(points[0].time == 1003 && points[1].time == 1004);
	free(points);
}

static void old_measurements_are_forgotten_and_alerts_kept(void **state)
{
	struct kf_watch_store *store = *state;
	struct kf_watch_finding f = {"battery-worn:BAT0", "worn", 1, "battery", "", NULL};
	struct kf_watch_point *points;
	struct kf_watch_alert alert;
	struct kf_error err = {0};
	int64_t run = 0;
	size_t n, removed;
	bool is_new;

	for (int i = 0; i < 4; i++) {
		assert_int_equal(kf_watch_store_run_begin(store, 100 * i, &run, &err), KF_OK);
		assert_int_equal(
			kf_watch_store_add(store, run, "battery", "BAT0", 90 - i, 100 * i, &err),
			KF_OK);
	}
	assert_int_equal(kf_watch_store_alert_seen(store, &f, 0, &is_new, &err), KF_OK);
	assert_int_equal(kf_watch_store_prune(store, 200, &removed, &err), KF_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(
		kf_watch_store_history(store, "battery", "BAT0", 0, -1, 10, &points, &n, &err),
		KF_OK);
	assert_int_equal(n, 2);
	assert_int_equal(points[0].time, 200);
	free(points);
	assert_int_equal(kf_watch_store_alert_get(store, "battery-worn:BAT0", &alert, &err), KF_OK);
}

static void an_alert_is_told_once_until_its_condition_grows(void **state)
{
	struct kf_watch_store *store = *state;
	struct kf_watch_finding f = {"disk-pending:sda", "12", 12, "12 sectors", "back up", NULL};
	struct kf_watch_alert alert;
	struct kf_error err = {0};
	size_t cleared;
	bool is_new;

	assert_int_equal(kf_watch_store_alert_seen(store, &f, 100, &is_new, &err), KF_OK);
	assert_true(is_new);
	assert_int_equal(kf_watch_store_alert_seen(store, &f, 200, &is_new, &err), KF_OK);
	assert_false(is_new);
	/* fewer pending sectors: a changed fingerprint, but not worse */
	f.fingerprint = "4";
	f.value = 4;
	assert_int_equal(kf_watch_store_alert_seen(store, &f, 300, &is_new, &err), KF_OK);
	assert_false(is_new);
	assert_int_equal(kf_watch_store_alert_get(store, "disk-pending:sda", &alert, &err), KF_OK);
	assert_string_equal(alert.fingerprint, "12");
	assert_int_equal(alert.first, 100);
	assert_int_equal(alert.last, 300);
	f.fingerprint = "40";
	f.value = 40;
	f.summary = "40 sectors";
	assert_int_equal(kf_watch_store_alert_seen(store, &f, 400, &is_new, &err), KF_OK);
	assert_true(is_new);
	assert_int_equal(kf_watch_store_alert_get(store, "disk-pending:sda", &alert, &err), KF_OK);
	assert_int_equal(alert.first, 400);
	assert_string_equal(alert.summary, "40 sectors");
	/* a run that does not see it clears it; seen again, it is told again */
	assert_int_equal(kf_watch_store_alert_clear_unseen(store, 500, &cleared, &err), KF_OK);
	assert_int_equal(cleared, 1);
	assert_int_equal(kf_watch_store_alert_seen(store, &f, 600, &is_new, &err), KF_OK);
	assert_true(is_new);
}

static void active_alerts_are_listed_and_cleared_ones_not(void **state)
{
	struct kf_watch_store *store = *state;
	struct kf_watch_finding a = {"battery-worn:BAT0", "worn", 1, "battery", "", NULL};
	struct kf_watch_finding b = {"check:p/c", "problem", 1, "title", "fix it", "p/c"};
	struct kf_watch_alert *alerts;
	struct kf_error err = {0};
	size_t n, cleared;
	bool is_new;

	assert_int_equal(kf_watch_store_alert_seen(store, &a, 10, &is_new, &err), KF_OK);
	assert_int_equal(kf_watch_store_alert_seen(store, &b, 20, &is_new, &err), KF_OK);
	assert_int_equal(kf_watch_store_alert_seen(store, &b, 30, &is_new, &err), KF_OK);
	assert_int_equal(kf_watch_store_alert_clear_unseen(store, 30, &cleared, &err), KF_OK);
	assert_int_equal(cleared, 1);
	assert_int_equal(kf_watch_store_alerts_active(store, &alerts, &n, &err), KF_OK);
	assert_int_equal(n, 1);
	assert_string_equal(alerts[0].rule, "check:p/c");
	assert_string_equal(alerts[0].check, "p/c");
	free(alerts);
}

static void a_file_that_is_not_a_store_is_refused(void **state)
{
	char bad[sizeof(folder) + 16];
	struct kf_watch_store *store = NULL;
	struct kf_error err = {0};
	FILE *f;

	(void)state;
	snprintf(bad, sizeof(bad), "%s/bad.sqlite", folder);
	f = fopen(bad, "w");
	assert_non_null(f);
	for (int i = 0; i < 100; i++)
		fputs("not a database at all, only text\n", f);
	fclose(f);
	assert_int_equal(kf_watch_store_open(bad, &store, &err), KF_ERR_INVALID);
	assert_null(store);
	assert_non_null(strstr(err.message, "not a watch store"));
}

static void the_fit_finds_the_rate_and_refuses_too_little(void **state)
{
	struct kf_watch_point line[] = {{1700000000, 90}, {1700086400, 85}, {1700172800, 80}};
	struct kf_watch_point same_time[] = {{5, 1}, {5, 2}};
	double slope, intercept;

	(void)state;
	assert_true(kf_watch_fit_line(line, 3, &slope, &intercept));
	assert_true(slope * 86400 > -5.0001 && slope * 86400 < -4.9999);
	assert_true(intercept + slope * 1700172800.0 > 79.999);
	assert_false(kf_watch_fit_line(line, 1, &slope, &intercept));
	assert_false(kf_watch_fit_line(same_time, 2, &slope, &intercept));
}

static void spans_read_as_words(void **state)
{
	char words[32];

	(void)state;
	kf_watch_span_words(10 * KF_WATCH_DAY, words, sizeof(words));
	assert_string_equal(words, "10 days");
	kf_watch_span_words(KF_WATCH_DAY, words, sizeof(words));
	assert_string_equal(words, "1 day");
	kf_watch_span_words(5 * 3600, words, sizeof(words));
	assert_string_equal(words, "5 hours");
	kf_watch_span_words(60, words, sizeof(words));
	assert_string_equal(words, "less than an hour");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_store_is_private_to_the_user, open_store,
						close_store),
		cmocka_unit_test_setup_teardown(
			history_is_oldest_first_and_leaves_out_the_current_run, open_store,
			close_store),
		cmocka_unit_test_setup_teardown(old_measurements_are_forgotten_and_alerts_kept,
						open_store, close_store),
		cmocka_unit_test_setup_teardown(an_alert_is_told_once_until_its_condition_grows,
						open_store, close_store),
		cmocka_unit_test_setup_teardown(active_alerts_are_listed_and_cleared_ones_not,
						open_store, close_store),
		cmocka_unit_test_setup_teardown(a_file_that_is_not_a_store_is_refused, open_store,
						close_store),
		cmocka_unit_test(the_fit_finds_the_rate_and_refuses_too_little),
		cmocka_unit_test(spans_read_as_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
