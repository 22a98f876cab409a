/* kefu: the support profile a vendor ships with the helper. SPDX-License-Identifier: MIT */
#include "proto/session/profile.h"
#include "proto/base/json-fields.h"
#include "proto/base/base64.h"
#include "proto/session/ssh-key.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_SCHEMA "kefu.profile/1"

/* Refuses any member of object not in the NULL-terminated list. */
static int only_fields(json_t *object, const char *where, const char *const *allowed,
		       struct kf_error *err)
{
	const char *key = kf_json_unknown_field(object, allowed);

	if (key != NULL)
		return kf_error_set(err, KF_ERR_INVALID, "profile: %s has an unknown field '%.40s'",
				    where, key);
	return KF_OK;
}

static int copy_string(json_t *object, const char *name, const char *where, int is_required,
		       char **out, struct kf_error *err)
{
	json_t *value = json_object_get(object, name);

	*out = NULL;
	if (value == NULL && !is_required)
		return KF_OK;
	if (!json_is_string(value) || json_string_length(value) == 0)
		return kf_error_set(err, KF_ERR_INVALID, "profile: %s needs a text field '%s'",
				    where, name);
	*out = strdup(json_string_value(value));
	return *out != NULL ? KF_OK : kf_error_set(err, KF_ERR_NOMEM, "out of memory");
}

/* Counts the certificates in pem and checks that each is a CA certificate. */
static int check_ca_pem(const char *pem, const char *where, struct kf_error *err)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert;
	int count = 0, r = KF_OK;

	while (bio != NULL && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_check_ca(cert) == 0)
			r = kf_error_set(err, KF_ERR_INVALID,
					 "profile: %s holds a certificate that is not a CA", where);
		X509_free(cert);
		count++;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (r == KF_OK && count == 0)
		r = kf_error_set(err, KF_ERR_INVALID, "profile: %s holds no PEM certificate",
				 where);
	return r;
}

static int parse_relay(json_t *value, size_t index, struct kf_profile_relay *relay,
		       struct kf_error *err)
{
	static const char *const fields[] = {"host",      "port", "agent_user", "technician_user",
					     "host_keys", NULL};
	char where[32];
	json_t *port, *keys, *key;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "relay %zu", index + 1);
	if (!json_is_object(value))
		return kf_error_set(err, KF_ERR_INVALID, "profile: %s is not an object", where);
	if ((r = only_fields(value, where, fields, err)) != KF_OK ||
	    (r = copy_string(value, "host", where, 1, &relay->host, err)) != KF_OK ||
	    (r = copy_string(value, "agent_user", where, 1, &relay->agent_user, err)) != KF_OK ||
	    (r = copy_string(value, "technician_user", where, 1, &relay->technician_user, err)) !=
		    KF_OK)
		return r;
	port = json_object_get(value, "port");
	if (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535)
		return kf_error_set(err, KF_ERR_INVALID, "profile: %s needs a port from 1 to 65535",
				    where);
	relay->port = (uint16_t)json_integer_value(port);
	keys = json_object_get(value, "host_keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > 16)
		return kf_error_set(err, KF_ERR_INVALID,
				    "profile: %s needs 1 to 16 pinned host keys in 'host_keys'",
				    where);
	relay->host_keys = calloc(json_array_size(keys), sizeof(char *));
	if (relay->host_keys == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	json_array_foreach(keys, i, key)
	{
		uint8_t blob[KF_SSH_KEY_BLOB_MAX];
		size_t blob_len;
		struct kf_error key_error;

		if (!json_is_string(key) || kf_ssh_key_parse_public(json_string_value(key), blob,
								    &blob_len, &key_error) != KF_OK)
			return kf_error_set(err, KF_ERR_INVALID, "profile: %s host key %zu: %s",
					    where, i + 1,
					    json_is_string(key) ? key_error.message : "not text");
		relay->host_keys[i] = strdup(json_string_value(key));
		if (relay->host_keys[i] == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		relay->host_key_count++;
	}
	return KF_OK;
}

static int parse_publishers(json_t *root, const char *name, struct kf_profile_publisher **out,
			    size_t *count, struct kf_error *err)
{
	static const char *const fields[] = {"name", "public_key", NULL};
	json_t *array = json_object_get(root, name), *value;
	size_t i;
	int r;

	if (array == NULL)
		return KF_OK;
	if (!json_is_array(array))
		return kf_error_set(err, KF_ERR_INVALID, "profile: '%s' is not a list", name);
	*out = calloc(json_array_size(array) + 1, sizeof(**out));
	if (*out == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	json_array_foreach(array, i, value)
	{
		struct kf_profile_publisher *publisher = &(*out)[i];
		uint8_t raw[48];
		char where[64];

		snprintf(where, sizeof(where), "%s entry %zu", name, i + 1);
		if (!json_is_object(value))
			return kf_error_set(err, KF_ERR_INVALID, "profile: %s is not an object",
					    where);
		(*count)++;
		if ((r = only_fields(value, where, fields, err)) != KF_OK ||
		    (r = copy_string(value, "name", where, 1, &publisher->name, err)) != KF_OK ||
		    (r = copy_string(value, "public_key", where, 1, &publisher->public_key, err)) !=
			    KF_OK)
			return r;
		if (kf_base64_decode(publisher->public_key, strlen(publisher->public_key), raw,
				     sizeof(raw)) != 32)
			return kf_error_set(err, KF_ERR_INVALID,
					    "profile: %s public_key is not a base64 Ed25519 key",
					    where);
	}
	return KF_OK;
}

static int parse_root(json_t *root, struct kf_profile *profile, struct kf_error *err)
{
	static const char *const fields[] = {"schema",
					     "organisation",
					     "relays",
					     "support_ca",
					     "plugin_publishers",
					     "firmware_publishers",
					     "firmware_cas",
					     "catalog",
					     "contact",
					     "logo",
					     "firmware_metadata",
					     "firmware_tls_ca",
					     NULL};
	json_t *schema, *relays, *value;
	size_t i;
	int r;

	if (!json_is_object(root))
		return kf_error_set(err, KF_ERR_INVALID, "profile: not a JSON object");
	if ((r = only_fields(root, "the profile", fields, err)) != KF_OK)
		return r;
	schema = json_object_get(root, "schema");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), PROFILE_SCHEMA) != 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "profile: 'schema' must be \"%s\"",
				    PROFILE_SCHEMA);
	if ((r = copy_string(root, "organisation", "the profile", 1, &profile->organisation,
			     err)) != KF_OK ||
	    (r = copy_string(root, "support_ca", "the profile", 1, &profile->support_ca_pem,
			     err)) != KF_OK ||
	    (r = copy_string(root, "catalog", "the profile", 0, &profile->catalog_url, err)) !=
		    KF_OK ||
	    (r = copy_string(root, "contact", "the profile", 0, &profile->contact, err)) != KF_OK ||
	    (r = copy_string(root, "logo", "the profile", 0, &profile->logo_path, err)) != KF_OK ||
	    (r = copy_string(root, "firmware_metadata", "the profile", 0,
			     &profile->firmware_metadata, err)) != KF_OK ||
	    (r = copy_string(root, "firmware_tls_ca", "the profile", 0, &profile->firmware_tls_ca,
			     err)) != KF_OK)
		return r;
	if (profile->firmware_tls_ca != NULL &&
	    (r = check_ca_pem(profile->firmware_tls_ca, "firmware_tls_ca", err)) != KF_OK)
		return r;
	if (profile->logo_path != NULL && profile->logo_path[0] != '/')
		return kf_error_set(err, KF_ERR_INVALID,
				    "profile: 'logo' must be an absolute path to a PNG file");
	if ((r = check_ca_pem(profile->support_ca_pem, "support_ca", err)) != KF_OK)
		return r;
	relays = json_object_get(root, "relays");
	if (!json_is_array(relays) || json_array_size(relays) == 0 ||
	    json_array_size(relays) > KF_PROFILE_MAX_RELAYS)
		return kf_error_set(err, KF_ERR_INVALID, "profile: 'relays' needs 1 to %d relays",
				    KF_PROFILE_MAX_RELAYS);
	profile->relays = calloc(json_array_size(relays), sizeof(*profile->relays));
	if (profile->relays == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	json_array_foreach(relays, i, value)
	{
		profile->relay_count++;
		if ((r = parse_relay(value, i, &profile->relays[i], err)) != KF_OK)
			return r;
	}
	if ((r = parse_publishers(root, "plugin_publishers", &profile->plugin_publishers,
				  &profile->plugin_publisher_count, err)) != KF_OK ||
	    (r = parse_publishers(root, "firmware_publishers", &profile->firmware_publishers,
				  &profile->firmware_publisher_count, err)) != KF_OK)
		return r;
	value = json_object_get(root, "firmware_cas");
	if (value != NULL) {
		json_t *pem;

		if (!json_is_array(value))
			return kf_error_set(err, KF_ERR_INVALID,
					    "profile: 'firmware_cas' is not a list");
		profile->firmware_ca_pems = calloc(json_array_size(value) + 1, sizeof(char *));
		if (profile->firmware_ca_pems == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		json_array_foreach(value, i, pem)
		{
			if (!json_is_string(pem))
				return kf_error_set(err, KF_ERR_INVALID,
						    "profile: firmware_cas entry %zu is not text",
						    i + 1);
			if ((r = check_ca_pem(json_string_value(pem), "firmware_cas", err)) !=
			    KF_OK)
				return r;
			profile->firmware_ca_pems[i] = strdup(json_string_value(pem));
			if (profile->firmware_ca_pems[i] == NULL)
				return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
			profile->firmware_ca_count++;
		}
	}
	return KF_OK;
}

int kf_profile_parse(const char *json, size_t len, struct kf_profile **out, struct kf_error *err)
{
	struct kf_profile *profile;
	json_error_t json_error;
	json_t *root;
	int r;

	*out = NULL;
	if (len > KF_PROFILE_MAX_SIZE)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "profile: larger than %d bytes",
				    KF_PROFILE_MAX_SIZE);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &json_error);
	if (root == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "profile: not valid JSON (line %d: %s)",
				    json_error.line, json_error.text);
	profile = calloc(1, sizeof(*profile));
	if (profile == NULL) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	r = parse_root(root, profile, err);
	json_decref(root);
	if (r != KF_OK) {
		kf_profile_free(profile);
		return r;
	}
	*out = profile;
	return KF_OK;
}

int kf_profile_load(const char *path, struct kf_profile **out, struct kf_error *err)
{
	FILE *file = fopen(path, "re");
	char *text;
	size_t len;
	int r;

	*out = NULL;
	if (file == NULL)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO,
				    "cannot read the support profile %s: %s", path,
				    strerror(errno));
	text = malloc(KF_PROFILE_MAX_SIZE + 1);
	if (text == NULL) {
		fclose(file);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	len = fread(text, 1, KF_PROFILE_MAX_SIZE + 1, file);
	fclose(file);
	r = kf_profile_parse(text, len, out, err);
	free(text);
	if (r != KF_OK && err != NULL) {
		char message[KF_ERROR_MESSAGE_SIZE];

		snprintf(message, sizeof(message), "%s", err->message);
		kf_error_set(err, r, "%s: %s", path, message);
	}
	return r;
}

static void free_publishers(struct kf_profile_publisher *publishers, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(publishers[i].name);
		free(publishers[i].public_key);
	}
	free(publishers);
}

void kf_profile_free(struct kf_profile *profile)
{
	if (profile == NULL)
		return;
	for (size_t i = 0; i < profile->relay_count; i++) {
		struct kf_profile_relay *relay = &profile->relays[i];

		free(relay->host);
		free(relay->agent_user);
		free(relay->technician_user);
		for (size_t k = 0; k < relay->host_key_count; k++)
			free(relay->host_keys[k]);
		free(relay->host_keys);
	}
	free(profile->relays);
	free_publishers(profile->plugin_publishers, profile->plugin_publisher_count);
	free_publishers(profile->firmware_publishers, profile->firmware_publisher_count);
	for (size_t i = 0; i < profile->firmware_ca_count; i++)
		free(profile->firmware_ca_pems[i]);
	free(profile->firmware_ca_pems);
	free(profile->organisation);
	free(profile->support_ca_pem);
	free(profile->catalog_url);
	free(profile->contact);
	free(profile->logo_path);
	free(profile->firmware_metadata);
	free(profile->firmware_tls_ca);
	free(profile);
}

const char *kf_profile_default_path(void)
{
	const char *path = getenv("KEFU_PROFILE");

	return path != NULL && path[0] != '\0' ? path : "/etc/kefu/profile.json";
}
