/* kefu: unit tests for plugin manifests, applicability and the step output protocol.
 * SPDX-License-Identifier: MIT */
#include "proto/plugin/manifest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const char good[] =
	"{\"format\":1,\"id\":\"wifi-no-driver\",\"version\":\"1.0.0\",\"name\":\"Wi-Fi driver\","
	"\"publisher\":\"acme\","
	"\"applies_to\":[{\"device\":{\"bus\":\"pci\",\"vendor_id\":\"8086\",\"driver\":null}},"
	"{\"os\":{\"id\":\"debian\"}}],"
	"\"checks\":[{\"id\":\"module\",\"title\":\"The Wi-Fi adapter has no driver\","
	"\"fix\":\"Load the iwlwifi module\",\"detect\":{\"run\":\"detect.sh\",\"timeout\":5},"
	"\"repair\":[{\"run\":\"repair/load.sh\",\"privileges\":{\"root\":true,"
	"\"writes\":[\"/etc/modprobe.d\"]}}],\"verify\":{\"run\":\"detect.sh\"}}]}";

static int parse(const char *text, struct kf_error *err)
{
	struct kf_plugin_manifest *m = NULL;
	int r = kf_plugin_manifest_parse(text, strlen(text), &m, err);

	kf_plugin_manifest_free(m);
	return r;
}

static void valid_manifest_is_parsed_with_defaults(void **state)
{
	struct kf_plugin_manifest *m;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_plugin_manifest_parse(good, strlen(good), &m, &err), 0);
	assert_string_equal(m->id, "wifi-no-driver");
	assert_int_equal(m->n_matchers, 2);
	assert_true(m->matchers[0].driver_null);
	assert_int_equal(m->n_checks, 1);
	assert_int_equal(m->checks[0].detect.timeout, 5);
	assert_int_equal(m->checks[0].verify.timeout, 30);
	assert_true(m->checks[0].repairs[0].privileges.root);
	assert_false(m->checks[0].repairs[0].privileges.network);
	assert_string_equal(m->checks[0].repairs[0].privileges.writes[0], "/etc/modprobe.d");
	kf_plugin_manifest_free(m);
}

static void unknown_field_is_refused_by_name(void **state)
{
	struct kf_error err;
	char text[sizeof(good) + 32];

	(void)state;
	snprintf(text, sizeof(text), "{\"colour\":1,%s", good + 1);
	assert_int_equal(parse(text, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "colour"));
}

static void script_path_escaping_plugin_is_refused(void **state)
{
	static const char *bad[] = {"../x.sh", "/bin/sh", "a/../../b", "a//b", "./x", "a b", "x/"};
	struct kf_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];

		snprintf(text, sizeof(text),
			 "{\"format\":1,\"id\":\"x\",\"version\":\"1\",\"name\":\"x\","
			 "\"applies_to\":[{\"always\":true}],\"checks\":[{\"id\":\"c\",\"title\":"
			 "\"t\","
			 "\"detect\":{\"run\":\"%s\"}}]}",
			 bad[i]);
		assert_int_equal(parse(text, &err), KF_ERR_INVALID);
		assert_non_null(strstr(err.message, "relative path"));
	}
}

static void repair_without_verify_is_refused(void **state)
{
	struct kf_error err;

	(void)state;
	assert_int_equal(parse("{\"format\":1,\"id\":\"x\",\"version\":\"1\",\"name\":\"x\","
			       "\"applies_to\":[{\"always\":true}],\"checks\":[{\"id\":\"c\","
			       "\"title\":\"t\",\"detect\":{\"run\":\"d\"},\"repair\":[{\"run\":"
			       "\"r\"}]}]}",
			       &err),
			 KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "verify"));
}

static void other_format_version_is_unsupported(void **state)
{
	struct kf_error err;

	(void)state;
	assert_int_equal(parse("{\"format\":2}", &err), KF_ERR_UNSUPPORTED);
}

static void bad_timeout_duplicate_key_and_write_path_are_refused(void **state)
{
	struct kf_error err;

	(void)state;
	assert_int_equal(parse("{\"format\":1,\"id\":\"x\",\"version\":\"1\",\"name\":\"x\","
			       "\"applies_to\":[{\"always\":true}],\"checks\":[{\"id\":\"c\","
			       "\"title\":\"t\",\"detect\":{\"run\":\"d\",\"timeout\":0}}]}",
			       &err),
			 KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "timeout"));
	assert_int_equal(parse("{\"format\":1,\"format\":1}", &err), KF_ERR_INVALID);
	assert_int_equal(parse("{\"format\":1,\"id\":\"x\",\"version\":\"1\",\"name\":\"x\","
			       "\"applies_to\":[{\"always\":true}],\"checks\":[{\"id\":\"c\","
			       "\"title\":\"t\",\"detect\":{\"run\":\"d\",\"privileges\":{"
			       "\"writes\":[\"/etc/../root\"]}}}]}",
			       &err),
			 KF_ERR_INVALID);
	assert_int_equal(parse("[1]", &err), KF_ERR_INVALID);
	assert_int_equal(parse("not json", &err), KF_ERR_INVALID);
}

static void applies_to_device_without_driver_in_report(void **state)
{
	struct kf_plugin_manifest *m;
	struct kf_error err;
	const char *device = NULL;
	json_t *bound, *unbound, *other;

	(void)state;
	bound = json_loads(
		"{\"system\":{\"os\":{\"id\":\"fedora\"}},\"devices\":[{\"id\":\"pci-1\","
		"\"bus\":\"pci\",\"vendor_id\":\"8086\",\"driver\":\"iwlwifi\"}]}",
		0, NULL);
	unbound = json_loads("{\"system\":{\"os\":{\"id\":\"fedora\"}},\"devices\":[{\"id\":"
			     "\"pci-2\",\"bus\":\"pci\",\"vendor_id\":\"8086\",\"driver\":null}]}",
			     0, NULL);
	other = json_loads("{\"system\":{\"os\":{\"id\":\"debian\"}},\"devices\":[]}", 0, NULL);
	assert_int_equal(kf_plugin_manifest_parse(good, strlen(good), &m, &err), 0);
	assert_int_equal(kf_plugin_manifest_applies(m, bound, "/", &device), 0);
	assert_int_equal(kf_plugin_manifest_applies(m, unbound, "/", &device), 1);
	assert_string_equal(device, "pci-2");
	assert_int_equal(kf_plugin_manifest_applies(m, other, "/", &device), 1);
	assert_null(device);
	kf_plugin_manifest_free(m);
	json_decref(bound);
	json_decref(unbound);
	json_decref(other);
}

/* good with translations (TRANSLATIONS: the object's members) put before its end. */
static int parse_translated(const char *translations, struct kf_plugin_manifest **m,
			    struct kf_error *err)
{
	char text[sizeof(good) + 2048];

	snprintf(text, sizeof(text), "%.*s,\"translations\":{%s}}", (int)strlen(good) - 1, good,
		 translations);
	return kf_plugin_manifest_parse(text, strlen(text), m, err);
}

static const char chinese[] =
	"\"zh_CN\":{\"name\":\"无线网卡驱动\",\"checks\":{\"module\":{\"title\":"
	"\"无线网卡没有驱动\",\"fix\":\"加载 iwlwifi 模块\"}}},"
	"\"de\":{\"checks\":{\"module\":{\"title\":\"Der WLAN-Adapter hat keinen Treiber\"}}}";

static void translations_take_the_place_of_the_texts_they_translate(void **state)
{
	struct kf_plugin_manifest *m;
	struct kf_error err;

	(void)state;
	assert_int_equal(parse_translated(chinese, &m, &err), 0);
	assert_int_equal(m->n_translations, 2);
	/* English, no language, an unknown one: the manifest as written. */
	assert_null(kf_plugin_manifest_localize(m, NULL));
	assert_null(kf_plugin_manifest_localize(m, "en_US.UTF-8"));
	assert_null(kf_plugin_manifest_localize(m, "fr_FR"));
	assert_null(kf_plugin_manifest_localize(m, "zh_TW")); /* not zh_CN's script */
	assert_string_equal(m->checks[0].title, "The Wi-Fi adapter has no driver");
	/* The locale's encoding and modifier do not matter. */
	assert_string_equal(kf_plugin_manifest_localize(m, "zh_CN.UTF-8@pinyin"), "zh_CN");
	assert_string_equal(m->name, "无线网卡驱动");
	assert_string_equal(m->checks[0].title, "无线网卡没有驱动");
	assert_string_equal(m->checks[0].fix, "加载 iwlwifi 模块");
	assert_null(m->description); /* neither written nor translated */
	/* Once only: a second language does not mix in. */
	assert_null(kf_plugin_manifest_localize(m, "de"));
	assert_string_equal(m->checks[0].title, "无线网卡没有驱动");
	kf_plugin_manifest_free(m);

	/* The language alone serves its countries; what it leaves out stays as written. */
	assert_int_equal(parse_translated(chinese, &m, &err), 0);
	assert_string_equal(kf_plugin_manifest_localize(m, "de_AT.UTF-8"), "de");
	assert_string_equal(m->checks[0].title, "Der WLAN-Adapter hat keinen Treiber");
	assert_string_equal(m->checks[0].fix, "Load the iwlwifi module");
	assert_string_equal(m->name, "Wi-Fi driver");
	kf_plugin_manifest_free(m);
}

static void bad_translations_are_refused_by_name(void **state)
{
	static const struct {
		const char *translations, *message;
	} bad[] = {
		{"\"chinese\":{\"name\":\"x\"}", "\"chinese\" is not a language"},
		{"\"zh_cn\":{\"name\":\"x\"}", "\"zh_cn\" is not a language"},
		{"\"zh-CN\":{\"name\":\"x\"}", "\"zh-CN\" is not a language"},
		{"\"zh_CN\":{\"title\":\"x\"}", "translations.zh_CN: unknown field \"title\""},
		{"\"zh_CN\":{\"checks\":{\"nothing\":{\"title\":\"x\"}}}",
		 "there is no check \"nothing\""},
		{"\"zh_CN\":{\"checks\":{\"module\":{\"run\":\"x.sh\"}}}", "unknown field \"run\""},
		{"\"zh_CN\":{\"checks\":{\"module\":{\"title\":\"\"}}}",
		 "\"title\" must be 1..200"},
		{"\"zh_CN\":{\"checks\":{\"module\":{\"title\":7}}}", "\"title\" must be a string"},
		{"\"zh_CN\":\"x\"", "translations.zh_CN must be an object"},
		{"\"zh_CN\":{\"checks\":[]}", "\"checks\" must be an object"},
		{"", "\"translations\" must be an object of 1..8 languages"},
		{"\"aa\":{},\"ab\":{},\"ac\":{},\"ad\":{},\"ae\":{},\"af\":{},\"ag\":{},\"ah\":{},"
		 "\"ai\":{}",
		 "\"translations\" must be an object of 1..8 languages"},
	};
	struct kf_plugin_manifest *m;
	struct kf_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_translated(bad[i].translations, &m, &err), KF_ERR_INVALID);
		assert_null(m);
		if (strstr(err.message, bad[i].message) == NULL)
			fail_msg("%s: %s", bad[i].translations, err.message);
	}
	/* A fix translated for a check without one. */
	const char no_fix[] =
		"{\"format\":1,\"id\":\"x\",\"version\":\"1\",\"name\":\"x\","
		"\"applies_to\":[{\"always\":true}],\"checks\":[{\"id\":\"c\",\"title\":\"t\","
		"\"detect\":{\"run\":\"d\"}}],\"translations\":{\"de\":{\"checks\":{\"c\":{"
		"\"fix\":\"f\"}}}}}";
	assert_int_equal(kf_plugin_manifest_parse(no_fix, strlen(no_fix), &m, &err),
			 KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "translates a \"fix\" the check does not have"));
}

static void output_lines_of_each_type_are_parsed(void **state)
{
	struct kf_plugin_event ev;
	struct kf_error err;
	const char *f = "{\"type\":\"finding\",\"severity\":\"error\",\"summary\":\"no driver\","
			"\"detail\":\"iwlwifi blacklisted\"}";
	const char *p = "{\"type\":\"progress\",\"percent\":50,\"message\":\"loading\"}";
	const char *r = "{\"type\":\"result\",\"status\":\"fixed\"}";

	(void)state;
	assert_int_equal(kf_plugin_event_parse(f, strlen(f), &ev, &err), 0);
	assert_int_equal(ev.type, KF_PLUGIN_EVENT_FINDING);
	assert_string_equal(ev.detail, "iwlwifi blacklisted");
	assert_int_equal(kf_plugin_event_parse(p, strlen(p), &ev, &err), 0);
	assert_int_equal(ev.percent, 50);
	assert_int_equal(kf_plugin_event_parse(r, strlen(r), &ev, &err), 0);
	assert_string_equal(ev.status, "fixed");
}

static void bad_output_lines_are_refused(void **state)
{
	static const char *bad[] = {
		"hello",
		"[]",
		"{\"type\":\"shout\"}",
		"{\"type\":\"finding\",\"severity\":\"fatal\",\"summary\":\"x\"}",
		"{\"type\":\"finding\",\"severity\":\"info\"}",
		"{\"type\":\"progress\",\"percent\":101}",
		"{\"type\":\"result\",\"status\":\"great\"}",
		"{\"type\":\"result\",\"status\":\"ok\",\"extra\":1}",
	};
	struct kf_plugin_event ev;
	struct kf_error err;
	char big[KF_PLUGIN_OUTPUT_LINE_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kf_plugin_event_parse(bad[i], strlen(bad[i]), &ev, &err),
				 KF_ERR_INVALID);
	memset(big, ' ', sizeof(big));
	assert_int_equal(kf_plugin_event_parse(big, sizeof(big), &ev, &err), KF_ERR_TOO_LARGE);
	assert_string_equal(kf_plugin_exit_name(2), "not-applicable");
	assert_string_equal(kf_plugin_exit_name(9), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_manifest_is_parsed_with_defaults),
		cmocka_unit_test(unknown_field_is_refused_by_name),
		cmocka_unit_test(script_path_escaping_plugin_is_refused),
		cmocka_unit_test(repair_without_verify_is_refused),
		cmocka_unit_test(other_format_version_is_unsupported),
		cmocka_unit_test(bad_timeout_duplicate_key_and_write_path_are_refused),
		cmocka_unit_test(applies_to_device_without_driver_in_report),
		cmocka_unit_test(translations_take_the_place_of_the_texts_they_translate),
		cmocka_unit_test(bad_translations_are_refused_by_name),
		cmocka_unit_test(output_lines_of_each_type_are_parsed),
		cmocka_unit_test(bad_output_lines_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
