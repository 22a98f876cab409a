/* kefu: unit tests for capabilities and the policy file (agentd/policy.c). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses text; on success returns the policy, on failure NULL with err set. */
static struct kf_policy *parse(const char *text, int expected, struct kf_error *err)
{
	struct kf_policy *policy = (struct kf_policy *)1;

	assert_int_equal(kf_policy_parse(text, strlen(text), &policy, err), expected);
	if (expected != KF_OK)
		assert_null(policy);
	return policy;
}

static void refused_with(const char *text, const char *words)
{
	struct kf_error err;

	memset(&err, 0, sizeof(err));
	parse(text, KF_ERR_INVALID, &err);
	if (strstr(err.message, words) == NULL)
		fail_msg("'%s' was refused with \"%s\", not with \"%s\"", text, err.message, words);
}

static void a_valid_policy_parses_with_its_rules_and_others_ask(void **state)
{
	struct kf_error err;
	struct kf_policy *policy =
		parse("{\"schema\": \"kefu.policy/1\", \"name\": \"Example Corp laptops\","
		      " \"description\": \"IT may collect reports\","
		      " \"capabilities\": {\"diagnose\": \"allow\", \"firmware\": \"deny\", "
		      "\"view\": \"ask\"}}",
		      KF_OK, &err);
	(void)state;

	assert_string_equal(policy->name, "Example Corp laptops");
	assert_string_equal(policy->description, "IT may collect reports");
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_DIAGNOSE), KF_POLICY_ALLOW);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_FIRMWARE), KF_POLICY_DENY);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_VIEW), KF_POLICY_ASK);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_CONTROL), KF_POLICY_ASK);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_REPAIR), KF_POLICY_ASK);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_FILES), KF_POLICY_ASK);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_COUNT), KF_POLICY_ASK);
	kf_policy_free(policy);
}

static void description_is_optional_and_an_empty_rule_set_asks_for_everything(void **state)
{
	struct kf_error err;
	struct kf_policy *policy =
		parse("{\"schema\": \"kefu.policy/1\", \"name\": \"n\", \"capabilities\": {}}",
		      KF_OK, &err);
	(void)state;

	assert_string_equal(policy->description, "");
	for (int i = 0; i < KF_CAP_COUNT; i++)
		assert_int_equal(kf_policy_rule_for(policy, (enum kf_capability)i), KF_POLICY_ASK);
	kf_policy_free(policy);
}

static void the_shipped_demo_policy_loads(void **state)
{
	const char *source = getenv("KEFU_SOURCE_DIR");
	struct kf_policy *policy;
	struct kf_error err;
	char path[1024];
	(void)state;

	snprintf(path, sizeof(path), "%s/packaging/policy/demo-policy.json",
		 source != NULL ? source : ".");
	assert_int_equal(kf_policy_load(path, &policy, &err), KF_OK);
	assert_non_null(strstr(policy->name, "DEMO"));
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_DIAGNOSE), KF_POLICY_ALLOW);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_FIRMWARE), KF_POLICY_DENY);
	assert_int_equal(kf_policy_rule_for(policy, KF_CAP_CONTROL), KF_POLICY_ASK);
	kf_policy_free(policy);
}

static void an_unknown_capability_is_refused_by_name(void **state)
{
	(void)state;
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\","
		     " \"capabilities\": {\"diagnose\": \"allow\", \"teleport\": \"allow\"}}",
		     "unknown capability 'teleport'");
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\","
		     " \"capabilities\": {\"View\": \"allow\"}}",
		     "unknown capability 'View'");
}

static void an_unknown_field_is_refused_by_name(void **state)
{
	(void)state;
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\", \"capabilities\": {},"
		     " \"allow_all\": true}",
		     "unknown field 'allow_all'");
}

static void a_rule_other_than_allow_deny_or_ask_is_refused(void **state)
{
	(void)state;
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\","
		     " \"capabilities\": {\"repair\": \"yes\"}}",
		     "'repair' must be \"allow\", \"deny\" or \"ask\"");
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\","
		     " \"capabilities\": {\"repair\": true}}",
		     "'repair' must be");
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\","
		     " \"capabilities\": {\"repair\": \"ALLOW\"}}",
		     "'repair' must be");
	/* The same capability twice is refused, not settled by whichever comes last. */
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\","
		     " \"capabilities\": {\"repair\": \"deny\", \"repair\": \"allow\"}}",
		     "not valid JSON");
}

static void a_wrong_or_missing_schema_is_refused(void **state)
{
	(void)state;
	refused_with("{\"schema\": \"kefu.policy/2\", \"name\": \"n\", \"capabilities\": {}}",
		     "'schema' must be \"kefu.policy/1\"");
	refused_with("{\"name\": \"n\", \"capabilities\": {}}", "'schema' must be");
	refused_with("{\"schema\": 1, \"name\": \"n\", \"capabilities\": {}}", "'schema' must be");
	refused_with("[\"kefu.policy/1\"]", "'schema' must be");
}

static void a_missing_name_or_rule_set_and_broken_json_are_refused(void **state)
{
	char long_name[400];

	(void)state;
	refused_with("{\"schema\": \"kefu.policy/1\", \"capabilities\": {}}", "needs a 'name'");
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"\", \"capabilities\": {}}",
		     "needs a 'name'");
	memset(long_name, 'a', 201);
	long_name[201] = '\0';
	{
		char text[600];

		snprintf(text, sizeof(text),
			 "{\"schema\": \"kefu.policy/1\", \"name\": \"%s\", \"capabilities\": {}}",
			 long_name);
		refused_with(text, "up to 200 characters");
	}
	refused_with("{\"schema\": \"kefu.policy/1\", \"name\": \"n\"}",
		     "needs an object 'capabilities'");
	refused_with(
		"{\"schema\": \"kefu.policy/1\", \"name\": \"n\", \"capabilities\": [\"view\"]}",
		"needs an object 'capabilities'");
	refused_with("{\"schema\": \"kefu.policy/1\",", "not valid JSON");
	refused_with("", "not valid JSON");
}

static void rule_for_without_a_policy_is_ask_for_every_capability(void **state)
{
	(void)state;
	for (int i = 0; i <= KF_CAP_COUNT; i++)
		assert_int_equal(kf_policy_rule_for(NULL, (enum kf_capability)i), KF_POLICY_ASK);
}

static void a_missing_file_and_a_file_over_64_kib_are_refused(void **state)
{
	char path[] = "/tmp/kefu-test-policy-XXXXXX";
	struct kf_policy *policy = (struct kf_policy *)1;
	struct kf_error err;
	FILE *f;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("{\"schema\": \"kefu.policy/1\", \"name\": \"n\", \"capabilities\": {}, "
	      "\"description\": \"",
	      f);
	for (int i = 0; i < 70 * 1024; i++)
		fputc('x', f);
	fputs("\"}", f);
	fclose(f);
	assert_int_equal(kf_policy_load(path, &policy, &err), KF_ERR_TOO_LARGE);
	assert_null(policy);
	assert_non_null(strstr(err.message, "64 KiB"));
	unlink(path);
	assert_int_equal(kf_policy_load(path, &policy, &err), KF_ERR_NOT_FOUND);
	assert_null(policy);
	assert_non_null(strstr(err.message, path));
}

static void capability_names_parse_back_and_others_are_refused(void **state)
{
	enum kf_capability capability;

	(void)state;
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		const char *name = kf_capability_name((enum kf_capability)i);

		assert_int_equal(kf_capability_parse(name, &capability), KF_OK);
		assert_int_equal(capability, i);
		assert_string_not_equal(kf_capability_plain((enum kf_capability)i), "unknown");
	}
	assert_int_equal(kf_capability_parse("root", &capability), KF_ERR_INVALID);
	assert_int_equal(kf_capability_parse("", &capability), KF_ERR_INVALID);
	assert_string_equal(kf_capability_name(KF_CAP_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_valid_policy_parses_with_its_rules_and_others_ask),
		cmocka_unit_test(description_is_optional_and_an_empty_rule_set_asks_for_everything),
		cmocka_unit_test(the_shipped_demo_policy_loads),
		cmocka_unit_test(an_unknown_capability_is_refused_by_name),
		cmocka_unit_test(an_unknown_field_is_refused_by_name),
		cmocka_unit_test(a_rule_other_than_allow_deny_or_ask_is_refused),
		cmocka_unit_test(a_wrong_or_missing_schema_is_refused),
		cmocka_unit_test(a_missing_name_or_rule_set_and_broken_json_are_refused),
		cmocka_unit_test(rule_for_without_a_policy_is_ask_for_every_capability),
		cmocka_unit_test(a_missing_file_and_a_file_over_64_kib_are_refused),
		cmocka_unit_test(capability_names_parse_back_and_others_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
