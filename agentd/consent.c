/* kefu-agentd: the customer's consent, one capability at a time. SPDX-License-Identifier: MIT */
#include "agentd/consent.h"
#include "agentd/i18n.h"
#include "proto/base/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pending {
	int is_waiting;
	uint32_t request_id;
	uv_timer_t timer;
	struct kf_consent *consent;
	enum kf_capability capability;
};

struct kf_consent {
	const struct kf_policy *policy;
	unsigned timeout_ms;
	struct kf_consent_events events;
	void *user;
	int is_granted[KF_CAP_COUNT];
	struct pending pending[KF_CAP_COUNT];
	int open_timers;
	struct kf_guard guard; /* defers destroying it while an event callback runs */
};

const char *kf_consent_source_name(enum kf_consent_source source)
{
	switch (source) {
	case KF_CONSENT_BY_CUSTOMER:
		return "customer";
	case KF_CONSENT_BY_POLICY:
		return "policy";
	case KF_CONSENT_BY_TIMEOUT:
		return "timeout";
	case KF_CONSENT_BY_TECHNICIAN:
		return "technician";
	case KF_CONSENT_BY_SESSION_END:
		return "session-end";
	}
	return "unknown";
}

static void timer_closed(uv_handle_t *handle)
{
	struct pending *pending = handle->data;
	struct kf_consent *consent = pending->consent;

	if (--consent->open_timers == 0)
		free(consent);
}

static void destroy(struct kf_consent *consent)
{
	consent->open_timers = KF_CAP_COUNT;
	for (int i = 0; i < KF_CAP_COUNT; i++)
		uv_close((uv_handle_t *)&consent->pending[i].timer, timer_closed);
}

static void leave(struct kf_consent *consent)
{
	if (kf_guard_leave(&consent->guard))
		destroy(consent);
}

static void decide(struct kf_consent *consent, enum kf_capability capability, int is_granted,
		   enum kf_consent_source source)
{
	struct pending *pending = &consent->pending[capability];
	uint32_t request_id = pending->request_id;

	pending->is_waiting = 0;
	uv_timer_stop(&pending->timer);
	consent->is_granted[capability] = is_granted;
	if (consent->events.on_decided != NULL)
		consent->events.on_decided(consent, capability, request_id, is_granted, source,
					   consent->user);
}

static void on_timeout(uv_timer_t *timer)
{
	struct pending *pending = timer->data;
	struct kf_consent *consent = pending->consent;

	kf_guard_enter(&consent->guard);
	if (pending->is_waiting)
		decide(consent, pending->capability, 0, KF_CONSENT_BY_TIMEOUT);
	leave(consent);
}

struct kf_consent *kf_consent_new(uv_loop_t *loop, const struct kf_policy *policy,
				  unsigned timeout_ms, const struct kf_consent_events *events,
				  void *user)
{
	struct kf_consent *consent = calloc(1, sizeof(*consent));

	if (consent == NULL)
		return NULL;
	consent->policy = policy;
	consent->timeout_ms = timeout_ms ? timeout_ms : KF_CONSENT_DEFAULT_TIMEOUT_MS;
	consent->events = *events;
	consent->user = user;
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		struct pending *pending = &consent->pending[i];

		uv_timer_init(loop, &pending->timer);
		pending->timer.data = pending;
		pending->consent = consent;
		pending->capability = (enum kf_capability)i;
	}
	return consent;
}

int kf_consent_request(struct kf_consent *consent, enum kf_capability capability,
		       uint32_t request_id, const char *reason, struct kf_error *err)
{
	struct pending *pending;
	enum kf_policy_rule rule;

	if (capability >= KF_CAP_COUNT)
		return kf_error_set(err, KF_ERR_INVALID, "no such capability");
	pending = &consent->pending[capability];
	if (pending->is_waiting)
		return kf_error_set(err, KF_ERR_STATE, "a request for '%s' already waits",
				    kf_capability_name(capability));
	pending->is_waiting = 1;
	pending->request_id = request_id;
	kf_guard_enter(&consent->guard);
	rule = kf_policy_rule_for(consent->policy, capability);
	if (consent->is_granted[capability])
		decide(consent, capability, 1, KF_CONSENT_BY_CUSTOMER);
	else if (rule == KF_POLICY_ALLOW)
		decide(consent, capability, 1, KF_CONSENT_BY_POLICY);
	else if (rule == KF_POLICY_DENY)
		decide(consent, capability, 0, KF_CONSENT_BY_POLICY);
	else {
		uv_timer_start(&pending->timer, on_timeout, consent->timeout_ms, 0);
		if (consent->events.on_ask != NULL)
			consent->events.on_ask(consent, capability, reason, consent->user);
	}
	leave(consent);
	return KF_OK;
}

int kf_consent_answer(struct kf_consent *consent, enum kf_capability capability, int is_granted,
		      struct kf_error *err)
{
	if (capability >= KF_CAP_COUNT || !consent->pending[capability].is_waiting)
		return kf_error_set(err, KF_ERR_STATE, "nothing waits for an answer");
	kf_guard_enter(&consent->guard);
	decide(consent, capability, is_granted, KF_CONSENT_BY_CUSTOMER);
	leave(consent);
	return KF_OK;
}

void kf_consent_revoke(struct kf_consent *consent, enum kf_capability capability,
		       enum kf_consent_source source)
{
	if (capability >= KF_CAP_COUNT)
		return;
	kf_guard_enter(&consent->guard);
	if (consent->pending[capability].is_waiting)
		decide(consent, capability, 0, source);
	if (consent->is_granted[capability]) {
		/* The grant ends before anyone hears of it: no action can slip in between. */
		consent->is_granted[capability] = 0;
		if (consent->events.on_revoked != NULL)
			consent->events.on_revoked(consent, capability, source, consent->user);
	}
	leave(consent);
}

void kf_consent_revoke_all(struct kf_consent *consent, enum kf_consent_source source)
{
	kf_guard_enter(&consent->guard);
	for (int i = 0; i < KF_CAP_COUNT && !kf_guard_is_freed(&consent->guard); i++)
		kf_consent_revoke(consent, (enum kf_capability)i, source);
	leave(consent);
}

int kf_consent_check(const struct kf_consent *consent, enum kf_capability capability)
{
	return consent != NULL && capability < KF_CAP_COUNT &&
	       !kf_guard_is_freed(&consent->guard) && consent->is_granted[capability];
}

int kf_consent_is_pending(const struct kf_consent *consent, enum kf_capability capability)
{
	return capability < KF_CAP_COUNT && consent->pending[capability].is_waiting;
}

void kf_consent_describe(const struct kf_consent *consent, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		if (!consent->is_granted[i])
			continue;
		used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
					 used ? ", " : "",
					 kf_capability_name((enum kf_capability)i));
	}
	if (used == 0)
		snprintf(out, size, "%s", _("nothing"));
}

void kf_consent_free(struct kf_consent *consent)
{
	if (consent == NULL || kf_guard_is_freed(&consent->guard))
		return;
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		consent->is_granted[i] = 0;
		uv_timer_stop(&consent->pending[i].timer);
	}
	if (kf_guard_free(&consent->guard))
		destroy(consent);
}
