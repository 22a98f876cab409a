/* kefu-agentd: capabilities and the policy that may pre-answer requests for them. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_POLICY_H
#define KF_AGENTD_POLICY_H

#include "proto/base/error.h"

#include <stddef.h>

enum kf_capability {
	KF_CAP_VIEW,     /* see the screen */
	KF_CAP_CONTROL,  /* keyboard, mouse, clipboard */
	KF_CAP_DIAGNOSE, /* collect reports, run detect steps */
	KF_CAP_REPAIR,   /* run repair steps */
	KF_CAP_FIRMWARE, /* update firmware */
	KF_CAP_FILES,    /* send or fetch files */
	KF_CAP_COUNT,
};

/* "view", "control", ... */
const char *kf_capability_name(enum kf_capability capability);

/* What granting it lets the technician do, in words for the customer. */
const char *kf_capability_plain(enum kf_capability capability);

/* Parses a capability name; KF_ERR_INVALID for anything else. */
int kf_capability_parse(const char *name, enum kf_capability *capability);

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
