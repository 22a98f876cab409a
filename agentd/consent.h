/* kefu-agentd: the customer's consent, one capability at a time. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_CONSENT_H
#define KF_AGENTD_CONSENT_H

#include "agentd/policy.h"
#include "proto/base/error.h"

#include <stdint.h>
#include <uv.h>

/*
 * Nothing is granted by default. The console asks for a capability; the customer
 * (or a policy the customer was shown) allows or denies it; an unanswered request
 * is denied after a bounded time. Any grant can be revoked at any moment, and
 * stop revokes them all. kf_consent_check() is what the agent's core calls at the
 * point where an action is carried out: the answer never comes from the console
 * and never from the UI.
 */
struct kf_consent;

enum kf_consent_source {
	KF_CONSENT_BY_CUSTOMER,
	KF_CONSENT_BY_POLICY,
	KF_CONSENT_BY_TIMEOUT,
	KF_CONSENT_BY_TECHNICIAN, /* the technician gave a grant back */
	KF_CONSENT_BY_SESSION_END,
};

const char *kf_consent_source_name(enum kf_consent_source source);

struct kf_consent_events {
	/* The customer must be asked; answer with kf_consent_answer(). */
	void (*on_ask)(struct kf_consent *consent, enum kf_capability capability,
		       const char *reason, void *user);
	/* A request was decided (the console is told, the audit log written). */
	void (*on_decided)(struct kf_consent *consent, enum kf_capability capability,
			   uint32_t request_id, int is_granted, enum kf_consent_source source,
			   void *user);
	/* A grant ended: stop what it allowed, at once. */
	void (*on_revoked)(struct kf_consent *consent, enum kf_capability capability,
			   enum kf_consent_source source, void *user);
};

#define KF_CONSENT_DEFAULT_TIMEOUT_MS 60000

/* policy may be NULL (ask for everything) and is borrowed for the consent's life. */
struct kf_consent *kf_consent_new(uv_loop_t *loop, const struct kf_policy *policy,
				  unsigned timeout_ms, const struct kf_consent_events *events,
				  void *user);

/*
 * The console asks for capability (request_id is its message id). Returns
 * KF_ERR_STATE when a request for it is already waiting. The decision arrives by
 * on_decided, at once when the policy or an existing grant settles it.
 */
int kf_consent_request(struct kf_consent *consent, enum kf_capability capability,
		       uint32_t request_id, const char *reason, struct kf_error *err);

/* The customer's answer to the waiting request for capability. */
int kf_consent_answer(struct kf_consent *consent, enum kf_capability capability, int is_granted,
		      struct kf_error *err);

/* Ends one grant (the customer's choice or the technician giving it back). */
void kf_consent_revoke(struct kf_consent *consent, enum kf_capability capability,
		       enum kf_consent_source source);

/* Ends every grant and denies every waiting request. */
void kf_consent_revoke_all(struct kf_consent *consent, enum kf_consent_source source);

/* Whether capability is granted now. */
int kf_consent_check(const struct kf_consent *consent, enum kf_capability capability);

/* Whether a request for capability waits for the customer. */
int kf_consent_is_pending(const struct kf_consent *consent, enum kf_capability capability);

/* Granted capabilities as text, e.g. "view, diagnose" ("nothing" when none). */
void kf_consent_describe(const struct kf_consent *consent, char *out, size_t size);

/* Frees; safe inside its callbacks. */
void kf_consent_free(struct kf_consent *consent);

#endif
