/* kefu: unit tests for the support profile parser. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/profile.h"
#include "tests/unit/certs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST_KEY      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGY5mzyrRDY7JaDNnAo8mAsq+IuaJqnl4jnpi5roqtjh"
#define PUBLISHER_KEY "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="

struct pems {
	char *ca;
	char *leaf;
};

static int setup(void **state)
{
	struct pems *pems = calloc(1, sizeof(*pems));
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *ca = make_cert(key, "Example support CA", "Example Support", NULL, key, 0, 30, 1);
	X509 *leaf = make_cert(key, "Alice", "Example Support", ca, key, 0, 30, 0);

	pems->ca = pem_of(ca);
	pems->leaf = pem_of(leaf);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(key);
	*state = pems;
	return 0;
}

static int teardown(void **state)
{
	struct pems *pems = *state;

	free(pems->ca);
	free(pems->leaf);
	free(pems);
	return 0;
}

/* A valid profile as a JSON object, to be changed by each test. */
static json_t *valid_profile(const struct pems *pems)
{
	return json_pack("{s:s, s:s, s:[{s:s, s:i, s:s, s:s, s:[s]}], s:s, s:[{s:s, s:s}],"
			 " s:[s], s:s}",
			 "schema", "kefu.profile/1", "organisation", "Example Support", "relays",
			 "host", "relay.example.com", "port", 443, "agent_user", "kefu-agent",
			 "technician_user", "kefu-tech", "host_keys", HOST_KEY, "support_ca",
			 pems->ca, "plugin_publishers", "name", "Example Devices", "public_key",
			 "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=", "firmware_cas", pems->ca,
			 "catalog", "https://support.example.com/catalog.json");
}

static int parse_object(json_t *object, struct kf_profile **profile, struct kf_error *err)
{
	char *text = json_dumps(object, 0);
	int r = kf_profile_parse(text, strlen(text), profile, err);

	free(text);
	json_decref(object);
	return r;
}

static void expect_refusal(json_t *object, const char *words)
{
	struct kf_profile *profile;
	struct kf_error err;

	assert_int_not_equal(parse_object(object, &profile, &err), KF_OK);
	assert_null(profile);
	if (strstr(err.message, words) == NULL)
		fail_msg("expected '%s' in '%s'", words, err.message);
}

static void valid_profile_parses_with_every_field(void **state)
{
	struct kf_profile *profile;

	assert_int_equal(parse_object(valid_profile(*state), &profile, NULL), KF_OK);
	assert_string_equal(profile->organisation, "Example Support");
	assert_int_equal(profile->relay_count, 1);
	assert_string_equal(profile->relays[0].host, "relay.example.com");
	assert_int_equal(profile->relays[0].port, 443);
	assert_string_equal(profile->relays[0].technician_user, "kefu-tech");
	assert_int_equal(profile->relays[0].host_key_count, 1);
	assert_string_equal(profile->relays[0].host_keys[0], HOST_KEY);
	assert_int_equal(profile->plugin_publisher_count, 1);
	assert_string_equal(profile->plugin_publishers[0].name, "Example Devices");
	assert_int_equal(profile->firmware_ca_count, 1);
	assert_string_equal(profile->catalog_url, "https://support.example.com/catalog.json");
	kf_profile_free(profile);
}

static void contact_and_logo_are_read_and_a_relative_logo_refused(void **state)
{
	struct kf_profile *profile;
	json_t *object = valid_profile(*state);

	json_object_set_new(object, "contact", json_string("support@example.com, +65 6000 0000"));
	json_object_set_new(object, "logo", json_string("/usr/share/kefu/example-logo.png"));
	assert_int_equal(parse_object(object, &profile, NULL), KF_OK);
	assert_string_equal(profile->contact, "support@example.com, +65 6000 0000");
	assert_string_equal(profile->logo_path, "/usr/share/kefu/example-logo.png");
	kf_profile_free(profile);
	assert_int_equal(parse_object(valid_profile(*state), &profile, NULL), KF_OK);
	assert_null(profile->contact);
	assert_null(profile->logo_path);
	kf_profile_free(profile);
	object = valid_profile(*state);
	json_object_set_new(object, "logo", json_string("../logo.png"));
	expect_refusal(object, "'logo' must be an absolute path");
	object = valid_profile(*state);
	json_object_set_new(object, "contact", json_integer(5));
	expect_refusal(object, "'contact'");
}

static void unknown_fields_are_refused_at_every_level(void **state)
{
	json_t *object = valid_profile(*state);

	json_object_set_new(object, "admin", json_true());
	expect_refusal(object, "unknown field 'admin'");
	object = valid_profile(*state);
	json_object_set_new(json_array_get(json_object_get(object, "relays"), 0), "password",
			    json_string("x"));
	expect_refusal(object, "relay 1 has an unknown field 'password'");
}

static void missing_and_mistyped_fields_name_the_field(void **state)
{
	json_t *object = valid_profile(*state);

	json_object_del(object, "organisation");
	expect_refusal(object, "'organisation'");
	object = valid_profile(*state);
	json_object_set_new(json_array_get(json_object_get(object, "relays"), 0), "port",
			    json_integer(70000));
	expect_refusal(object, "port from 1 to 65535");
	object = valid_profile(*state);
	json_object_set_new(object, "relays", json_array());
	expect_refusal(object, "1 to 10 relays");
	object = valid_profile(*state);
	json_object_set_new(object, "schema", json_string("kefu.profile/2"));
	expect_refusal(object, "schema");
}

static void weak_or_broken_host_keys_are_refused(void **state)
{
	json_t *object = valid_profile(*state);
	json_t *relay = json_array_get(json_object_get(object, "relays"), 0);

	json_object_set_new(relay, "host_keys", json_pack("[s]", "ssh-rsa AAAAB3NzaC1yc2E="));
	expect_refusal(object, "host key 1");
	object = valid_profile(*state);
	relay = json_array_get(json_object_get(object, "relays"), 0);
	json_object_set_new(relay, "host_keys", json_array());
	expect_refusal(object, "pinned host keys");
}

static void support_ca_must_be_a_ca_certificate(void **state)
{
	struct pems *pems = *state;
	json_t *object = valid_profile(pems);

	json_object_set_new(object, "support_ca", json_string(pems->leaf));
	expect_refusal(object, "not a CA");
	object = valid_profile(pems);
	json_object_set_new(object, "support_ca", json_string("-----BEGIN CERTIFICATE-----\nAA"));
	expect_refusal(object, "no PEM certificate");
}

static void firmware_remote_and_its_tls_ca_are_read_and_a_leaf_refused(void **state)
{
	struct pems *pems = *state;
	struct kf_profile *profile;
	json_t *object = valid_profile(pems);

	json_object_set_new(object, "firmware_metadata",
			    json_string("https://fw.example.com/firmware.xml.gz"));
	json_object_set_new(object, "firmware_tls_ca", json_string(pems->ca));
	assert_int_equal(parse_object(object, &profile, NULL), KF_OK);
	assert_string_equal(profile->firmware_metadata, "https://fw.example.com/firmware.xml.gz");
	assert_string_equal(profile->firmware_tls_ca, pems->ca);
	kf_profile_free(profile);
	object = valid_profile(pems);
	json_object_set_new(object, "firmware_tls_ca", json_string(pems->leaf));
	expect_refusal(object, "firmware_tls_ca holds a certificate that is not a CA");
}

static void publisher_keys_must_be_ed25519(void **state)
{
	json_t *object = valid_profile(*state);

	json_object_set_new(object, "plugin_publishers",
			    json_pack("[{s:s, s:s}]", "name", "X", "public_key", PUBLISHER_KEY));
	expect_refusal(object, "not a base64 Ed25519 key");
}

static void duplicate_keys_and_garbage_are_refused(void **state)
{
	struct kf_profile *profile;
	struct kf_error err;
	const char *duplicate = "{\"schema\":\"kefu.profile/1\",\"schema\":\"kefu.profile/1\"}";

	(void)state;
	assert_int_equal(kf_profile_parse(duplicate, strlen(duplicate), &profile, &err),
			 KF_ERR_INVALID);
	assert_int_equal(kf_profile_parse("\x01\x02", 2, &profile, &err), KF_ERR_INVALID);
	assert_int_equal(kf_profile_parse("[]", 2, &profile, &err), KF_ERR_INVALID);
}

static void load_names_the_file_and_default_path_follows_the_environment(void **state)
{
	struct kf_profile *profile;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_profile_load("/nonexistent/profile.json", &profile, &err),
			 KF_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "/nonexistent/profile.json"));
	setenv("KEFU_PROFILE", "/tmp/custom.json", 1);
	assert_string_equal(kf_profile_default_path(), "/tmp/custom.json");
	unsetenv("KEFU_PROFILE");
	assert_string_equal(kf_profile_default_path(), "/etc/kefu/profile.json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_profile_parses_with_every_field),
		cmocka_unit_test(contact_and_logo_are_read_and_a_relative_logo_refused),
		cmocka_unit_test(unknown_fields_are_refused_at_every_level),
		cmocka_unit_test(missing_and_mistyped_fields_name_the_field),
		cmocka_unit_test(weak_or_broken_host_keys_are_refused),
		cmocka_unit_test(support_ca_must_be_a_ca_certificate),
		cmocka_unit_test(firmware_remote_and_its_tls_ca_are_read_and_a_leaf_refused),
		cmocka_unit_test(publisher_keys_must_be_ed25519),
		cmocka_unit_test(duplicate_keys_and_garbage_are_refused),
		cmocka_unit_test(load_names_the_file_and_default_path_follows_the_environment),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
