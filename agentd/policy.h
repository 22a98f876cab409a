/* kefu-agentd: capabilities and the policy that may pre-answer requests for them. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_POLICY_H
#define KF_AGENTD_POLICY_H

#include "proto/base/error.h"
#include "proto/session/messages.h"

#include <stddef.h>

/* The capabilities and their names are the protocol's (proto/session/messages.h). */

/* What granting it lets the technician do, in words for the customer. */
const char *kf_capability_plain(enum kf_capability capability);

enum kf_policy_rule {
	KF_POLICY_ASK,   /* the customer decides (the default) */
	KF_POLICY_ALLOW, /* granted without asking */
	KF_POLICY_DENY,  /* refused without asking */
};

/*
 * A policy file pre-answers requests on company-managed machines. It is never the
 * default: the helper uses one only when told (--policy), and shows it to the
 * customer when the session starts.
 *
 *   {"schema": "kefu.policy/1", "name": "...", "description": "...",
 *    "capabilities": {"diagnose": "allow", "firmware": "deny"}}
 */
struct kf_policy {
	char *name;
	char *description;
	enum kf_policy_rule rules[KF_CAP_COUNT];
};

int kf_policy_load(const char *path, struct kf_policy **policy, struct kf_error *err);
int kf_policy_parse(const char *json, size_t len, struct kf_policy **policy, struct kf_error *err);
void kf_policy_free(struct kf_policy *policy);

/* The rule for capability; KF_POLICY_ASK when policy is NULL. */
enum kf_policy_rule kf_policy_rule_for(const struct kf_policy *policy,
				       enum kf_capability capability);

#endif
