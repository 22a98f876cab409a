/* kefu: unit tests for the kefu://join link (agentd/join-url.c). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/join-url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void refused_with(const char *url, size_t len, const char *words)
{
	struct kf_join_url parsed;
	struct kf_error err;

	memset(&err, 0, sizeof(err));
	if (kf_join_url_parse(url, len, &parsed, &err) == KF_OK)
		fail_msg("'%.*s' was accepted", (int)len, url);
	if (strstr(err.message, words) == NULL)
		fail_msg("'%.*s' was refused with \"%s\", not with \"%s\"", (int)len, url,
			 err.message, words);
	/* The message is one line. */
	assert_null(strchr(err.message, '\n'));
}

static void refused(const char *url, const char *words)
{
	refused_with(url, strlen(url), words);
}

static void documented_fields_are_read_and_decoded(void **state)
{
	const char *url = "kefu://join?org=Example%20Support&relay=relay.example.com&case=CS-1234";
	struct kf_join_url parsed;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_join_url_parse(url, strlen(url), &parsed, &err), KF_OK);
	assert_string_equal(parsed.organisation, "Example Support");
	assert_string_equal(parsed.relay, "relay.example.com");
	assert_string_equal(parsed.case_number, "CS-1234");
}

static void bare_link_and_trailing_slash_and_plus_are_read(void **state)
{
	struct kf_join_url parsed;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_join_url_parse("kefu://join", 11, &parsed, &err), KF_OK);
	assert_string_equal(parsed.organisation, "");
	assert_int_equal(kf_join_url_parse("KEFU://join/?org=Example+Support", 32, &parsed, &err),
			 KF_OK);
	assert_string_equal(parsed.organisation, "Example Support");
	/* UTF-8 names pass whole. */
	assert_int_equal(kf_join_url_parse("kefu://join?org=%E5%AE%A2%E6%9C%8D", 34, &parsed, &err),
			 KF_OK);
	assert_string_equal(parsed.organisation, "\xe5\xae\xa2\xe6\x9c\x8d");
}

static void shell_text_quotes_and_spaces_are_refused_as_characters(void **state)
{
	(void)state;
	refused("kefu://join?code=1&x=$(touch /tmp/owned)", "character a kefu link never has ('$'");
	refused("kefu://join?org=a`id`", "'`'");
	refused("kefu://join?org=\"Example\"", "'\"'");
	refused("kefu://join?org='Example'", "'''");
	refused("kefu://join?org=a;reboot", "';'");
	refused("kefu://join?org=a b", "0x20");
	refused("kefu://join?org=a|b", "'|'");
	refused("kefu://join#org=x", "'#'");
	refused("kefu://user@join", "'@'");
}

static void unknown_and_repeated_fields_are_refused(void **state)
{
	(void)state;
	refused("kefu://join?code=123456", "does not know ('code')");
	refused("kefu://join?org=a&org=b", "gives 'org' twice");
	refused("kefu://join?ca=x", "does not know ('ca')");
	refused("kefu://join?profile=x", "does not know ('profile')");
	refused("kefu://join?org", "without a value");
	refused("kefu://join?org=", "is empty");
	refused("kefu://join?&org=a", "empty field");
	refused("kefu://join?org=a&", "ends with an empty field");
	refused("kefu://join?relay=-oProxyCommand=x", "not a host name");
	refused("kefu://join?relay=a/b", "fields hold '/' or '?'");
	refused("kefu://join?case=12%2F..", "case number may hold only");
}

static void other_schemes_and_hosts_are_refused(void **state)
{
	(void)state;
	refused("http://join?org=a", "not a kefu link");
	refused("kefu://joinx?org=a", "not a kefu link");
	refused("kefu://leave?org=a", "not a kefu link");
	refused("kefu:join", "not a kefu link");
	refused("kefu://join:22", "not a kefu link");
	refused("", "not a kefu link");
}

static void bad_escapes_nuls_and_control_characters_are_refused(void **state)
{
	(void)state;
	refused("kefu://join?org=a%00b", "control characters");
	refused("kefu://join?org=a%0Ab", "control characters");
	refused("kefu://join?org=a%1b%5b2J", "control characters");
	refused("kefu://join?org=%C2%9B", "control characters");    /* C1 CSI */
	refused("kefu://join?org=%C0%AF", "control characters");    /* overlong '/' */
	refused("kefu://join?org=%ED%A0%80", "control characters"); /* a surrogate */
	refused("kefu://join?org=%E5%AE", "control characters");    /* cut short */
	refused("kefu://join?org=%4", "bad %-escape");
	refused("kefu://join?org=%zz", "bad %-escape");
	refused_with("kefu://join?org=a\0b", 19, "0x00");
}

static void overlong_links_and_fields_are_refused(void **state)
{
	char url[KF_JOIN_URL_MAX + 64];

	(void)state;
	snprintf(url, sizeof(url), "kefu://join?org=");
	memset(url + 16, 'a', 200);
	url[216] = '\0';
	refused(url, "too long (at most 128");
	snprintf(url, sizeof(url), "kefu://join?case=");
	memset(url + 17, '1', 40);
	url[57] = '\0';
	refused(url, "too long (at most 32");
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "kefu://join?org=", 16);
	refused(url, "too long (at most 2048 bytes)");
}

static void profile_decides_organisation_and_relay(void **state)
{
	char host1[] = "relay1.example.com", host2[] = "relay2.example.com";
	char organisation[] = "Example Support";
	struct kf_profile_relay relays[2] = {{.host = host1}, {.host = host2}};
	struct kf_profile profile = {
		.organisation = organisation, .relays = relays, .relay_count = 2};
	struct kf_join_url url = {0};
	struct kf_error err;
	unsigned index = 0;

	(void)state;
	snprintf(url.organisation, sizeof(url.organisation), "Example Support");
	snprintf(url.relay, sizeof(url.relay), "RELAY2.example.com");
	assert_int_equal(kf_join_url_check(&url, &profile, &index, &err), KF_OK);
	assert_int_equal(index, 1);
	snprintf(url.relay, sizeof(url.relay), "evil.example.net");
	index = 0;
	assert_int_equal(kf_join_url_check(&url, &profile, &index, &err), KF_ERR_DENIED);
	assert_non_null(strstr(err.message, "does not list"));
	assert_int_equal(index, 0);
	url.relay[0] = '\0';
	snprintf(url.organisation, sizeof(url.organisation), "Other Corp");
	assert_int_equal(kf_join_url_check(&url, &profile, &index, &err), KF_ERR_DENIED);
	assert_non_null(strstr(err.message, "this link is for Other Corp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(documented_fields_are_read_and_decoded),
		cmocka_unit_test(bare_link_and_trailing_slash_and_plus_are_read),
		cmocka_unit_test(shell_text_quotes_and_spaces_are_refused_as_characters),
		cmocka_unit_test(unknown_and_repeated_fields_are_refused),
		cmocka_unit_test(other_schemes_and_hosts_are_refused),
		cmocka_unit_test(bad_escapes_nuls_and_control_characters_are_refused),
		cmocka_unit_test(overlong_links_and_fields_are_refused),
		cmocka_unit_test(profile_decides_organisation_and_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
