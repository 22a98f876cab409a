/* kefu-agentd: capabilities and the policy that may pre-answer requests for them. SPDX-License-Identifier: MIT */
#include "agentd/policy.h"
#include "agentd/i18n.h"
#include "proto/base/json-fields.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_SIZE (64 * 1024)

/* What each grant lets the technician do, in the customer's words. */
static const char *const plain_words[KF_CAP_COUNT] = {
	[KF_CAP_VIEW] = N_("see your screen"),
	[KF_CAP_CONTROL] = N_("use your keyboard, mouse and clipboard"),
	[KF_CAP_DIAGNOSE] = N_("collect a report about your computer's devices and drivers, and "
			       "run checks that change nothing"),
	[KF_CAP_REPAIR] = N_("run repairs that change settings or software on your computer"),
	[KF_CAP_FIRMWARE] = N_("update the firmware inside your devices"),
	[KF_CAP_FILES] = N_("send files to your computer or fetch files from it"),
	[KF_CAP_HISTORY] = N_("read your support ID and support journal: earlier sessions, "
			      "self-service scans, firmware and driver changes"),
};

const char *kf_capability_plain(enum kf_capability capability)
{
	return capability >= 0 && capability < KF_CAP_COUNT ? plain_words[capability] : "unknown";
}

enum kf_policy_rule kf_policy_rule_for(const struct kf_policy *policy,
				       enum kf_capability capability)
{
	if (policy == NULL || capability < 0 || capability >= KF_CAP_COUNT)
		return KF_POLICY_ASK;
	return policy->rules[capability];
}

int kf_policy_parse(const char *json, size_t len, struct kf_policy **out, struct kf_error *err)
{
	static const char *const policy_fields[] = {"schema", "name", "description", "capabilities",
						    NULL};
	json_error_t json_error;
	json_t *root, *rules, *value;
	struct kf_policy *policy;
	const char *key;
	int r = KF_ERR_INVALID;

	*out = NULL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &json_error);
	if (root == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "policy: not valid JSON (line %d: %s)",
				    json_error.line, json_error.text);
	policy = calloc(1, sizeof(*policy));
	if (policy == NULL) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "schema")) ||
	    strcmp(json_string_value(json_object_get(root, "schema")), "kefu.policy/1") != 0) {
		kf_error_set(err, KF_ERR_INVALID, "policy: 'schema' must be \"kefu.policy/1\"");
		goto out;
	}
	if ((key = kf_json_unknown_field(root, policy_fields)) != NULL) {
		kf_error_set(err, KF_ERR_INVALID, "policy: unknown field '%.40s'", key);
		goto out;
	}
	value = json_object_get(root, "name");
	if (!json_is_string(value) || json_string_length(value) == 0 ||
	    json_string_length(value) > 200) {
		kf_error_set(err, KF_ERR_INVALID, "policy: needs a 'name' of up to 200 characters");
		goto out;
	}
	policy->name = strdup(json_string_value(value));
	value = json_object_get(root, "description");
	policy->description = strdup(json_is_string(value) ? json_string_value(value) : "");
	rules = json_object_get(root, "capabilities");
	if (!json_is_object(rules)) {
		kf_error_set(err, KF_ERR_INVALID, "policy: needs an object 'capabilities'");
		goto out;
	}
	json_object_foreach(rules, key, value)
	{
		enum kf_capability capability;
		const char *rule = json_is_string(value) ? json_string_value(value) : "";

		if (kf_capability_parse(key, &capability) != KF_OK) {
			kf_error_set(err, KF_ERR_INVALID, "policy: unknown capability '%.40s'",
				     key);
			goto out;
		}
		if (strcmp(rule, "allow") == 0)
			policy->rules[capability] = KF_POLICY_ALLOW;
		else if (strcmp(rule, "deny") == 0)
			policy->rules[capability] = KF_POLICY_DENY;
		else if (strcmp(rule, "ask") == 0)
			policy->rules[capability] = KF_POLICY_ASK;
		else {
			kf_error_set(err, KF_ERR_INVALID,
				     "policy: '%s' must be \"allow\", \"deny\" or \"ask\"", key);
			goto out;
		}
	}
	if (policy->name == NULL || policy->description == NULL) {
		kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = policy;
	policy = NULL;
	r = KF_OK;
out:
	kf_policy_free(policy);
	json_decref(root);
	return r;
}

int kf_policy_load(const char *path, struct kf_policy **out, struct kf_error *err)
{
	FILE *file = fopen(path, "re");
	char *text;
	size_t len;
	int r;

	*out = NULL;
	if (file == NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot read the policy %s: %s", path,
				    strerror(errno));
	text = malloc(POLICY_MAX_SIZE + 1);
	len = text != NULL ? fread(text, 1, POLICY_MAX_SIZE + 1, file) : 0;
	fclose(file);
	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (len > POLICY_MAX_SIZE)
		r = kf_error_set(err, KF_ERR_TOO_LARGE, "%s: a policy is at most 64 KiB", path);
	else
		r = kf_policy_parse(text, len, out, err);
	free(text);
	return r;
}

void kf_policy_free(struct kf_policy *policy)
{
	if (policy == NULL)
		return;
	free(policy->name);
	free(policy->description);
	free(policy);
}
