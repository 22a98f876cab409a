/* kefu: unit tests for the customer's consent (agentd/consent.c) on a real libuv loop. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/consent.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_EVENTS       16
#define SHORT_TIMEOUT_MS 30

enum event_kind { ASKED, DECIDED, REVOKED };

struct event {
	enum event_kind kind;
	enum kf_capability capability;
	uint32_t request_id;
	int is_granted;
	enum kf_consent_source source;
	char reason[64];
};

/* What a test sees: the loop, the consent and every callback in order. */
struct bench {
	uv_loop_t loop;
	struct kf_consent *consent;
	struct event events[MAX_EVENTS];
	int count;
	int free_on; /* free the consent inside the first callback of this kind + 1; 0 never */
};

static void record(struct bench *b, struct event e, enum event_kind kind)
{
	assert_true(b->count < MAX_EVENTS);
	e.kind = kind;
	b->events[b->count++] = e;
	if (b->free_on == (int)kind + 1 && b->consent != NULL) {
		b->free_on = 0;
		kf_consent_free(b->consent);
		b->consent = NULL;
	}
}

static void on_ask(struct kf_consent *consent, enum kf_capability capability, const char *reason,
		   void *user)
{
	struct event e = {.capability = capability};

	(void)consent;
	snprintf(e.reason, sizeof(e.reason), "%s", reason != NULL ? reason : "");
	record(user, e, ASKED);
}

static void on_decided(struct kf_consent *consent, enum kf_capability capability,
		       uint32_t request_id, int is_granted, enum kf_consent_source source,
		       void *user)
{
	struct event e = {.capability = capability,
			  .request_id = request_id,
			  .is_granted = is_granted,
			  .source = source};

	(void)consent;
	record(user, e, DECIDED);
}

static void on_revoked(struct kf_consent *consent, enum kf_capability capability,
		       enum kf_consent_source source, void *user)
{
	struct event e = {.capability = capability, .source = source};

	(void)consent;
	record(user, e, REVOKED);
}

static const struct kf_consent_events events = {on_ask, on_decided, on_revoked};

static struct bench *bench_with(const struct kf_policy *policy, unsigned timeout_ms)
{
	struct bench *b = test_calloc(1, sizeof(*b));

	assert_int_equal(uv_loop_init(&b->loop), 0);
	b->consent = kf_consent_new(&b->loop, policy, timeout_ms, &events, b);
	assert_non_null(b->consent);
	return b;
}

static int setup(void **state)
{
	*state = bench_with(NULL, SHORT_TIMEOUT_MS);
	return 0;
}

/* Frees the consent, lets the loop close its timers, and checks that nothing stays open. */
static int teardown(void **state)
{
	struct bench *b = *state;

	kf_consent_free(b->consent);
	assert_int_equal(uv_run(&b->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&b->loop), 0);
	test_free(b);
	return 0;
}

/* Runs the loop until count events were seen or about one second passed. */
static void run_until(struct bench *b, int count)
{
	for (int i = 0; i < 200 && b->count < count; i++) {
		uv_run(&b->loop, UV_RUN_NOWAIT);
		if (b->count < count)
			usleep(5000);
	}
}

static void run_for_ms(struct bench *b, unsigned ms)
{
	for (unsigned waited = 0; waited < ms; waited += 5) {
		uv_run(&b->loop, UV_RUN_NOWAIT);
		usleep(5000);
	}
}

static void assert_event(const struct event *e, enum event_kind kind, enum kf_capability capability)
{
	assert_int_equal(e->kind, kind);
	assert_int_equal(e->capability, capability);
}

static void nothing_is_granted_and_nothing_waits_by_default(void **state)
{
	struct bench *b = *state;
	char text[128];

	for (int i = 0; i < KF_CAP_COUNT; i++) {
		assert_false(kf_consent_check(b->consent, (enum kf_capability)i));
		assert_false(kf_consent_is_pending(b->consent, (enum kf_capability)i));
	}
	kf_consent_describe(b->consent, text, sizeof(text));
	assert_string_equal(text, "nothing");
	assert_false(kf_consent_check(NULL, KF_CAP_VIEW));
	assert_int_equal(b->count, 0);
}

static void a_request_asks_the_customer_and_yes_grants_only_that_capability(void **state)
{
	struct bench *b = *state;
	struct kf_error err;
	char text[128];

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 7, "to see the error", &err),
			 KF_OK);
	assert_int_equal(b->count, 1);
	assert_event(&b->events[0], ASKED, KF_CAP_VIEW);
	assert_string_equal(b->events[0].reason, "to see the error");
	assert_true(kf_consent_is_pending(b->consent, KF_CAP_VIEW));
	assert_false(kf_consent_check(b->consent, KF_CAP_VIEW)); /* asked is not granted */

	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_VIEW, 1, &err), KF_OK);
	assert_int_equal(b->count, 2);
	assert_event(&b->events[1], DECIDED, KF_CAP_VIEW);
	assert_int_equal(b->events[1].request_id, 7);
	assert_true(b->events[1].is_granted);
	assert_int_equal(b->events[1].source, KF_CONSENT_BY_CUSTOMER);
	assert_true(kf_consent_check(b->consent, KF_CAP_VIEW));
	assert_false(kf_consent_is_pending(b->consent, KF_CAP_VIEW));
	for (int i = 0; i < KF_CAP_COUNT; i++)
		if (i != KF_CAP_VIEW)
			assert_false(kf_consent_check(b->consent, (enum kf_capability)i));
	kf_consent_describe(b->consent, text, sizeof(text));
	assert_string_equal(text, "view");
}

static void no_from_the_customer_denies_the_request(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_REPAIR, 3, "fix it", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_REPAIR, 0, &err), KF_OK);
	assert_int_equal(b->count, 2);
	assert_event(&b->events[1], DECIDED, KF_CAP_REPAIR);
	assert_false(b->events[1].is_granted);
	assert_int_equal(b->events[1].source, KF_CONSENT_BY_CUSTOMER);
	assert_false(kf_consent_check(b->consent, KF_CAP_REPAIR));
	assert_false(kf_consent_is_pending(b->consent, KF_CAP_REPAIR));
}

static void a_second_request_while_one_waits_is_a_state_error(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_FILES, 1, "first", &err), KF_OK);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_FILES, 2, "second", &err),
			 KF_ERR_STATE);
	assert_non_null(strstr(err.message, "files"));
	assert_int_equal(b->count, 1); /* the customer was asked once */
	/* The waiting request is still the first one. */
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_FILES, 1, &err), KF_OK);
	assert_int_equal(b->events[1].request_id, 1);
	/* Another capability may be asked for while one waits. */
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 3, "", &err), KF_OK);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_CONTROL, 4, "", &err), KF_OK);
	assert_true(kf_consent_is_pending(b->consent, KF_CAP_VIEW));
	assert_true(kf_consent_is_pending(b->consent, KF_CAP_CONTROL));
}

static void an_answer_with_nothing_waiting_is_a_state_error_and_grants_nothing(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_CONTROL, 1, &err), KF_ERR_STATE);
	assert_false(kf_consent_check(b->consent, KF_CAP_CONTROL));
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_COUNT, 1, &err), KF_ERR_STATE);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_COUNT, 1, "", &err), KF_ERR_INVALID);
	assert_int_equal(b->count, 0);
}

static void an_unanswered_request_is_denied_when_the_time_runs_out(void **state)
{
	struct bench *b = *state;
	struct kf_error err;
	uint64_t start;

	uv_update_time(&b->loop);
	start = uv_now(&b->loop);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_DIAGNOSE, 9, "report", &err), KF_OK);
	run_until(b, 2);
	assert_int_equal(b->count, 2);
	assert_event(&b->events[1], DECIDED, KF_CAP_DIAGNOSE);
	assert_int_equal(b->events[1].request_id, 9);
	assert_false(b->events[1].is_granted);
	assert_int_equal(b->events[1].source, KF_CONSENT_BY_TIMEOUT);
	assert_true(uv_now(&b->loop) - start >= SHORT_TIMEOUT_MS);
	assert_false(kf_consent_check(b->consent, KF_CAP_DIAGNOSE));
	assert_false(kf_consent_is_pending(b->consent, KF_CAP_DIAGNOSE));
	/* A late answer changes nothing. */
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_DIAGNOSE, 1, &err), KF_ERR_STATE);
	assert_false(kf_consent_check(b->consent, KF_CAP_DIAGNOSE));
}

static void an_answered_request_does_not_time_out_afterwards(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 1, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_VIEW, 1, &err), KF_OK);
	run_for_ms(b, 4 * SHORT_TIMEOUT_MS);
	assert_int_equal(b->count, 2);
	assert_true(kf_consent_check(b->consent, KF_CAP_VIEW));
}

static void a_request_for_a_held_grant_is_granted_without_asking_again(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 1, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_VIEW, 1, &err), KF_OK);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 2, "", &err), KF_OK);
	assert_int_equal(b->count, 3);
	assert_event(&b->events[2], DECIDED, KF_CAP_VIEW);
	assert_int_equal(b->events[2].request_id, 2);
	assert_true(b->events[2].is_granted);
	assert_false(kf_consent_is_pending(b->consent, KF_CAP_VIEW));
}

static void policy_allow_and_deny_answer_without_asking_and_ask_still_asks(void **state)
{
	struct kf_policy policy = {.name = (char *)"company", .description = (char *)""};
	struct bench *b;
	struct kf_error err;

	(void)state;
	policy.rules[KF_CAP_DIAGNOSE] = KF_POLICY_ALLOW;
	policy.rules[KF_CAP_FIRMWARE] = KF_POLICY_DENY;
	policy.rules[KF_CAP_VIEW] = KF_POLICY_ASK;
	b = bench_with(&policy, SHORT_TIMEOUT_MS);

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_DIAGNOSE, 1, "", &err), KF_OK);
	assert_int_equal(b->count, 1);
	assert_event(&b->events[0], DECIDED, KF_CAP_DIAGNOSE);
	assert_true(b->events[0].is_granted);
	assert_int_equal(b->events[0].source, KF_CONSENT_BY_POLICY);
	assert_true(kf_consent_check(b->consent, KF_CAP_DIAGNOSE));

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_FIRMWARE, 2, "", &err), KF_OK);
	assert_int_equal(b->count, 2);
	assert_event(&b->events[1], DECIDED, KF_CAP_FIRMWARE);
	assert_false(b->events[1].is_granted);
	assert_int_equal(b->events[1].source, KF_CONSENT_BY_POLICY);
	assert_false(kf_consent_check(b->consent, KF_CAP_FIRMWARE));

	/* The policy answers only when asked: nothing is granted before a request. */
	assert_false(kf_consent_check(b->consent, KF_CAP_REPAIR));
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 3, "", &err), KF_OK);
	assert_int_equal(b->count, 3);
	assert_event(&b->events[2], ASKED, KF_CAP_VIEW);
	assert_true(kf_consent_is_pending(b->consent, KF_CAP_VIEW));

	teardown((void **)&b);
}

static void revoke_ends_the_grant_at_once_and_tells_who_ended_it(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_CONTROL, 1, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_CONTROL, 1, &err), KF_OK);
	kf_consent_revoke(b->consent, KF_CAP_CONTROL, KF_CONSENT_BY_TECHNICIAN);
	assert_false(kf_consent_check(b->consent, KF_CAP_CONTROL));
	assert_int_equal(b->count, 3);
	assert_event(&b->events[2], REVOKED, KF_CAP_CONTROL);
	assert_int_equal(b->events[2].source, KF_CONSENT_BY_TECHNICIAN);
	/* Revoking what is not granted tells nobody anything. */
	kf_consent_revoke(b->consent, KF_CAP_CONTROL, KF_CONSENT_BY_CUSTOMER);
	kf_consent_revoke(b->consent, KF_CAP_FILES, KF_CONSENT_BY_CUSTOMER);
	kf_consent_revoke(b->consent, KF_CAP_COUNT, KF_CONSENT_BY_CUSTOMER);
	assert_int_equal(b->count, 3);
	/* A new request after a revoke asks the customer again. */
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_CONTROL, 2, "", &err), KF_OK);
	assert_event(&b->events[3], ASKED, KF_CAP_CONTROL);
	assert_false(kf_consent_check(b->consent, KF_CAP_CONTROL));
}

static void revoke_denies_a_waiting_request(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_FILES, 5, "", &err), KF_OK);
	kf_consent_revoke(b->consent, KF_CAP_FILES, KF_CONSENT_BY_CUSTOMER);
	assert_int_equal(b->count, 2);
	assert_event(&b->events[1], DECIDED, KF_CAP_FILES);
	assert_int_equal(b->events[1].request_id, 5);
	assert_false(b->events[1].is_granted);
	assert_false(kf_consent_is_pending(b->consent, KF_CAP_FILES));
	assert_false(kf_consent_check(b->consent, KF_CAP_FILES));
	/* Its timer was stopped: no second decision later. */
	run_for_ms(b, 3 * SHORT_TIMEOUT_MS);
	assert_int_equal(b->count, 2);
}

static void revoke_all_ends_every_grant_and_denies_every_waiting_request(void **state)
{
	struct bench *b = *state;
	struct kf_error err;
	char text[128];
	int revoked = 0, denied = 0;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 1, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_VIEW, 1, &err), KF_OK);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_DIAGNOSE, 2, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_DIAGNOSE, 1, &err), KF_OK);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_REPAIR, 3, "", &err), KF_OK);
	kf_consent_describe(b->consent, text, sizeof(text));
	assert_string_equal(text, "view, diagnose");
	b->count = 0;

	kf_consent_revoke_all(b->consent, KF_CONSENT_BY_SESSION_END);
	for (int i = 0; i < b->count; i++) {
		assert_int_equal(b->events[i].source, KF_CONSENT_BY_SESSION_END);
		if (b->events[i].kind == REVOKED)
			revoked |= 1 << b->events[i].capability;
		if (b->events[i].kind == DECIDED && !b->events[i].is_granted)
			denied |= 1 << b->events[i].capability;
	}
	assert_int_equal(revoked, (1 << KF_CAP_VIEW) | (1 << KF_CAP_DIAGNOSE));
	assert_int_equal(denied, 1 << KF_CAP_REPAIR);
	assert_int_equal(b->count, 3);
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		assert_false(kf_consent_check(b->consent, (enum kf_capability)i));
		assert_false(kf_consent_is_pending(b->consent, (enum kf_capability)i));
	}
	kf_consent_describe(b->consent, text, sizeof(text));
	assert_string_equal(text, "nothing");
}

static void freeing_inside_the_ask_callback_is_safe(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	b->free_on = ASKED + 1;
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 1, "", &err), KF_OK);
	assert_null(b->consent);
	run_for_ms(b, 3 * SHORT_TIMEOUT_MS); /* the stopped timer never fires on freed memory */
	assert_int_equal(b->count, 1);
}

static void freeing_inside_the_decided_callback_is_safe(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 1, "", &err), KF_OK);
	b->free_on = DECIDED + 1;
	run_until(b, 2); /* the timeout decides, and the callback frees */
	assert_int_equal(b->count, 2);
	assert_int_equal(b->events[1].source, KF_CONSENT_BY_TIMEOUT);
	assert_null(b->consent);
}

static void freeing_inside_on_revoked_stops_revoke_all_safely(void **state)
{
	struct bench *b = *state;
	struct kf_error err;

	assert_int_equal(kf_consent_request(b->consent, KF_CAP_VIEW, 1, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_VIEW, 1, &err), KF_OK);
	assert_int_equal(kf_consent_request(b->consent, KF_CAP_FILES, 2, "", &err), KF_OK);
	assert_int_equal(kf_consent_answer(b->consent, KF_CAP_FILES, 1, &err), KF_OK);
	b->count = 0;
	b->free_on = REVOKED + 1;
	kf_consent_revoke_all(b->consent, KF_CONSENT_BY_SESSION_END);
	assert_null(b->consent);
	assert_int_equal(b->count, 1); /* the first revoke freed it; the loop went no further */
	assert_event(&b->events[0], REVOKED, KF_CAP_VIEW);
}

static void every_source_has_a_name_for_the_audit_log(void **state)
{
	(void)state;
	assert_string_equal(kf_consent_source_name(KF_CONSENT_BY_CUSTOMER), "customer");
	assert_string_equal(kf_consent_source_name(KF_CONSENT_BY_POLICY), "policy");
	assert_string_equal(kf_consent_source_name(KF_CONSENT_BY_TIMEOUT), "timeout");
	assert_string_equal(kf_consent_source_name(KF_CONSENT_BY_TECHNICIAN), "technician");
	assert_string_equal(kf_consent_source_name(KF_CONSENT_BY_SESSION_END), "session-end");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nothing_is_granted_and_nothing_waits_by_default,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_request_asks_the_customer_and_yes_grants_only_that_capability, setup,
			teardown),
		cmocka_unit_test_setup_teardown(no_from_the_customer_denies_the_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_second_request_while_one_waits_is_a_state_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			an_answer_with_nothing_waiting_is_a_state_error_and_grants_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			an_unanswered_request_is_denied_when_the_time_runs_out, setup, teardown),
		cmocka_unit_test_setup_teardown(an_answered_request_does_not_time_out_afterwards,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_request_for_a_held_grant_is_granted_without_asking_again, setup,
			teardown),
		cmocka_unit_test(policy_allow_and_deny_answer_without_asking_and_ask_still_asks),
		cmocka_unit_test_setup_teardown(
			revoke_ends_the_grant_at_once_and_tells_who_ended_it, setup, teardown),
		cmocka_unit_test_setup_teardown(revoke_denies_a_waiting_request, setup, teardown),
		cmocka_unit_test_setup_teardown(
			revoke_all_ends_every_grant_and_denies_every_waiting_request, setup,
			teardown),
		cmocka_unit_test_setup_teardown(freeing_inside_the_ask_callback_is_safe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(freeing_inside_the_decided_callback_is_safe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(freeing_inside_on_revoked_stops_revoke_all_safely,
						setup, teardown),
		cmocka_unit_test(every_source_has_a_name_for_the_audit_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
