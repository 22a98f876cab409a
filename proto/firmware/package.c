/* kefu: firmware packages: firmware.json parsed strictly, checked against the signed list.
 * SPDX-License-Identifier: MIT */
#include "proto/firmware/package.h"
#include "proto/base/escape.h"
#include "proto/base/json-fields.h"
#include "proto/firmware/guid.h"
#include "proto/firmware/version.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_MAX (256u * 1024 * 1024)

const struct kf_package_limits kf_fw_package_limits = {
	.max_archive = IMAGE_MAX + 2 * 1024 * 1024,
	.max_member = IMAGE_MAX,
	.max_total = IMAGE_MAX + 1024 * 1024,
	.max_files = 16,
};

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{"require-ac", KF_FW_FLAG_REQUIRE_AC},
	{"security", KF_FW_FLAG_SECURITY},
};

static int invalid(struct kf_error *err, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static int invalid(struct kf_error *err, const char *format, ...)
{
	char message[KF_ERROR_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, format);
	vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	return kf_error_set(err, KF_ERR_INVALID, "%s", message);
}

static bool has_only_keys(json_t *object, const char *const *allowed, const char **unknown)
{
	*unknown = kf_json_unknown_field(object, allowed);
	return *unknown == NULL;
}

/*
 * A text field: absent (NULL, fine unless required), or a string of 1..max bytes
 * without control characters (newlines allowed when multiline) and without NUL.
 */
static int text(json_t *object, const char *key, size_t max, bool required, bool multiline,
		char **out, struct kf_error *err)
{
	json_t *value = json_object_get(object, key);
	const char *s;

	*out = NULL;
	if (value == NULL) {
		if (required)
			return invalid(err, "firmware.json: \"%s\" is missing", key);
		return KF_OK;
	}
	s = json_string_value(value);
	if (s == NULL || json_string_length(value) == 0 || json_string_length(value) > max ||
	    strlen(s) != json_string_length(value))
		return kf_error_set(err, KF_ERR_INVALID,
				    "firmware.json: \"%s\" must be text of 1 to %zu bytes", key,
				    max);
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && !(multiline && c == '\n')) || c == 0x7f)
			return invalid(err, "firmware.json: \"%s\" holds a control character", key);
	}
	*out = strdup(s);
	return *out != NULL ? KF_OK : kf_error_set(err, KF_ERR_NOMEM, "out of memory");
}

static bool is_sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Instance IDs are printable ASCII without spaces, as fwupd builds them. */
static bool is_instance_id(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* Appends a lower-case GUID for a GUID or an instance ID to list. */
static int add_device(char ***list, size_t *count, const char *id, struct kf_error *err)
{
	char guid[KF_FW_GUID_STRING_SIZE], **grown;
	int r;

	if (kf_fw_guid_is_valid(id)) {
		for (int i = 0; i < KF_FW_GUID_STRING_SIZE; i++)
			guid[i] = (char)tolower((unsigned char)id[i]);
	} else if (!is_instance_id(id) || (r = kf_fw_guid_from_instance_id(id, guid, err)) != 0)
		return invalid(err,
			       "firmware.json: \"devices\" holds %s, which is neither a GUID "
			       "nor an instance ID",
			       "an entry");
	grown = realloc(*list, (*count + 1) * sizeof(char *));
	if (grown == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	*list = grown;
	if ((grown[*count] = strdup(guid)) == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	(*count)++;
	return KF_OK;
}

static int parse_devices(json_t *devices, struct kf_fw_metainfo *m, struct kf_error *err)
{
	json_t *value;
	size_t i;
	int r;

	if (!json_is_array(devices) || json_array_size(devices) == 0)
		return invalid(err,
			       "firmware.json: %s must list the devices' instance IDs or GUIDs",
			       "\"devices\"");
	if (json_array_size(devices) > KF_FW_MANIFEST_MAX_IDS)
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "firmware.json: \"devices\" lists more than %d entries",
				    KF_FW_MANIFEST_MAX_IDS);
	json_array_foreach(devices, i, value)
	{
		const char *id = json_string_value(value);

		if (id == NULL || *id == '\0' || json_string_length(value) > 256 ||
		    strlen(id) != json_string_length(value))
			return invalid(err, "firmware.json: %s entries must be short text",
				       "\"devices\"");
		if ((r = add_device(&m->guids, &m->guid_count, id, err)) != KF_OK)
			return r;
	}
	return KF_OK;
}

static int parse_image(json_t *image, struct kf_fw_metainfo *m, struct kf_error *err)
{
	static const char *const keys[] = {"file", "sha256", NULL};
	const char *unknown = NULL;
	int r;

	if (!json_is_object(image))
		return invalid(err, "firmware.json: %s must be an object with \"file\"",
			       "\"image\"");
	if (!has_only_keys(image, keys, &unknown))
		return invalid(err, "firmware.json: \"image\" has an unknown field \"%s\"",
			       kf_escaped(unknown).text);
	if ((r = text(image, "file", KF_PACKAGE_PATH_MAX, true, false, &m->payload_name, err)) !=
		    KF_OK ||
	    (r = text(image, "sha256", 64, false, false, &m->payload_sha256, err)) != KF_OK)
		return r;
	if (!kf_package_path_is_safe(m->payload_name))
		return invalid(err, "firmware.json: %s is not a plain file name in the package",
			       "\"image\" \"file\"");
	if (m->payload_sha256 != NULL) {
		if (!is_sha256_hex(m->payload_sha256))
			return invalid(err, "firmware.json: %s must be 64 hexadecimal digits",
				       "\"image\" \"sha256\"");
		for (char *p = m->payload_sha256; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return KF_OK;
}

static int parse_flags(json_t *flags, struct kf_fw_metainfo *m, struct kf_error *err)
{
	json_t *value;
	size_t i;

	if (flags == NULL)
		return KF_OK;
	if (!json_is_array(flags))
		return invalid(err, "firmware.json: %s must be a list of words", "\"flags\"");
	json_array_foreach(flags, i, value)
	{
		const char *name = json_string_value(value);
		bool known = false;

		for (size_t j = 0; name != NULL && j < sizeof(flag_names) / sizeof(flag_names[0]);
		     j++)
			if (strcmp(name, flag_names[j].name) == 0) {
				m->flags |= flag_names[j].flag;
				known = true;
			}
		if (!known)
			return invalid(err,
				       "firmware.json: the flag \"%s\" is unknown (known: "
				       "require-ac, security)",
				       kf_escaped(name).text);
	}
	return KF_OK;
}

static int parse_requires(json_t *requires, struct kf_fw_metainfo *m, struct kf_error *err)
{
	static const char *const keys[] = {"computers", "hardware_ids", NULL};
	static const char *const computer_keys[] = {"vendor", "product", NULL};
	json_t *computers, *ids, *value;
	const char *unknown = NULL;
	size_t i;
	int r;

	if (requires == NULL)
		return KF_OK;
	if (!json_is_object(requires) || !has_only_keys(requires, keys, &unknown))
		return invalid(err,
			       "firmware.json: \"requires\" may only hold \"computers\" and "
			       "\"hardware_ids\"%s",
			       "");
	computers = json_object_get(requires, "computers");
	ids = json_object_get(requires, "hardware_ids");
	if (computers != NULL) {
		if (!json_is_array(computers) || json_array_size(computers) == 0 ||
		    json_array_size(computers) > KF_FW_MAX_COMPUTERS)
			return invalid(err, "firmware.json: %s must list 1 to 16 computer models",
				       "\"requires\" \"computers\"");
		m->computers = calloc(json_array_size(computers), sizeof(*m->computers));
		if (m->computers == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		json_array_foreach(computers, i, value)
		{
			struct kf_fw_computer *c = &m->computers[i];

			if (!json_is_object(value) ||
			    !has_only_keys(value, computer_keys, &unknown))
				return invalid(err,
					       "firmware.json: each of %s has \"vendor\" and "
					       "maybe \"product\"",
					       "\"requires\" \"computers\"");
			m->computer_count++;
			if ((r = text(value, "vendor", 256, true, false, &c->vendor, err)) !=
				    KF_OK ||
			    (r = text(value, "product", 256, false, false, &c->product, err)) !=
				    KF_OK)
				return r;
		}
	}
	if (ids != NULL) {
		if (!json_is_array(ids) || json_array_size(ids) == 0 ||
		    json_array_size(ids) > KF_FW_METAINFO_MAX_GUIDS)
			return invalid(err, "firmware.json: %s must list 1 to 64 GUIDs",
				       "\"requires\" \"hardware_ids\"");
		json_array_foreach(ids, i, value)
		{
			const char *id = json_string_value(value);

			if (id == NULL || !kf_fw_guid_is_valid(id))
				return invalid(err, "firmware.json: %s must be GUIDs",
					       "\"requires\" \"hardware_ids\"");
			if ((r = add_device(&m->hardware_guids, &m->hardware_guid_count, id,
					    err)) != KF_OK)
				return r;
		}
	}
	return KF_OK;
}

static int parse(json_t *root, struct kf_fw_metainfo *m, struct kf_error *err)
{
	static const char *const keys[] = {
		"format",   "id",      "name",           "summary", "vendor", "publisher",
		"devices",  "version", "version_format", "image",   "flags",  "release_notes",
		"requires", NULL,
	};
	const char *unknown = NULL;
	json_t *format = json_object_get(root, "format");
	enum kf_fw_version_format version_format;
	int order, r;

	if (!has_only_keys(root, keys, &unknown))
		return invalid(err, "firmware.json: unknown field \"%s\"",
			       kf_escaped(unknown).text);
	if (!json_is_integer(format) || json_integer_value(format) != KF_FW_MANIFEST_FORMAT)
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "firmware.json: \"format\" must be %d",
				    KF_FW_MANIFEST_FORMAT);
	if ((r = text(root, "id", 128, true, false, &m->id, err)) != KF_OK ||
	    (r = text(root, "name", 256, false, false, &m->name, err)) != KF_OK ||
	    (r = text(root, "summary", 512, false, false, &m->summary, err)) != KF_OK ||
	    (r = text(root, "vendor", 256, false, false, &m->developer_name, err)) != KF_OK ||
	    (r = text(root, "publisher", 128, true, false, &m->publisher, err)) != KF_OK ||
	    (r = text(root, "version", 64, true, false, &m->version, err)) != KF_OK ||
	    (r = text(root, "version_format", 32, false, false, &m->version_format, err)) !=
		    KF_OK ||
	    (r = text(root, "release_notes", KF_FW_METAINFO_MAX_TEXT, false, true, &m->release_text,
		      err)) != KF_OK)
		return r;
	if ((r = parse_devices(json_object_get(root, "devices"), m, err)) != KF_OK ||
	    (r = parse_image(json_object_get(root, "image"), m, err)) != KF_OK ||
	    (r = parse_flags(json_object_get(root, "flags"), m, err)) != KF_OK ||
	    (r = parse_requires(json_object_get(root, "requires"), m, err)) != KF_OK)
		return r;
	if (kf_fw_version_compare(m->version, m->version, &order, NULL) != KF_OK)
		return invalid(err, "firmware.json: the version \"%s\" is not 1 to 4 numbers",
			       kf_escaped(m->version).text);
	if (m->version_format != NULL) {
		version_format = kf_fw_version_format_from_string(m->version_format);
		if (version_format == KF_FW_VERSION_UNKNOWN)
			return invalid(err, "firmware.json: the version format \"%s\" is unknown",
				       kf_escaped(m->version_format).text);
	}
	return KF_OK;
}

int kf_fw_manifest_parse(const char *json, size_t len, struct kf_fw_metainfo **out,
			 struct kf_error *err)
{
	struct kf_fw_metainfo *m;
	json_error_t jerr;
	json_t *root;
	int r;

	*out = NULL;
	if (len > KF_FW_MANIFEST_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "firmware.json is larger than %d bytes",
				    KF_FW_MANIFEST_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_INVALID, "firmware.json is not a JSON object: %s",
				    kf_escaped(jerr.text).text);
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	else
		r = parse(root, m, err);
	json_decref(root);
	if (r != KF_OK) {
		kf_fw_metainfo_free(m);
		return r;
	}
	*out = m;
	return KF_OK;
}

int kf_fw_package_trust(const struct kf_profile *profile, struct kf_package_publisher **trusted,
			size_t *n_trusted, struct kf_error *err)
{
	*trusted = calloc(profile->firmware_publisher_count + 1, sizeof(**trusted));
	*n_trusted = 0;
	if (*trusted == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < profile->firmware_publisher_count; i++) {
		struct kf_package_publisher *p = &(*trusted)[i];

		p->name = profile->firmware_publishers[i].name;
		if (kf_package_key_decode(profile->firmware_publishers[i].public_key, p->key) < 0) {
			free(*trusted);
			*trusted = NULL;
			return kf_error_set(err, KF_ERR_INVALID,
					    "profile: firmware publisher %s has a bad key",
					    p->name);
		}
	}
	*n_trusted = profile->firmware_publisher_count;
	return KF_OK;
}

static int refuse(enum kf_package_reason *reason, struct kf_error *err, const char *detail)
{
	if (reason != NULL)
		*reason = KF_PACKAGE_CONTENT;
	return kf_error_set(err, KF_ERR_INVALID, "%s: %s",
			    kf_package_reason_name(KF_PACKAGE_CONTENT), detail);
}

int kf_fw_package_check(const struct kf_package *pkg, struct kf_fw_metainfo **metainfo,
			size_t *image_index, enum kf_package_reason *reason, struct kf_error *err)
{
	const struct kf_package_file *json = NULL, *image = NULL;
	struct kf_fw_metainfo *m = NULL;
	struct kf_error inner;
	char sha[65], detail[KF_ERROR_MESSAGE_SIZE];
	int r = KF_OK;

	*metainfo = NULL;
	for (size_t i = 0; i < pkg->n_files; i++)
		if (strcmp(pkg->files[i].path, KF_FW_MANIFEST_NAME) == 0)
			json = &pkg->files[i];
	if (json == NULL)
		return refuse(reason, err, "firmware.json is not in the package");
	if (kf_fw_manifest_parse((const char *)json->data, json->size, &m, &inner) != KF_OK)
		return refuse(reason, err, inner.message);
	for (size_t i = 0; i < pkg->n_files; i++)
		if (strcmp(pkg->files[i].path, m->payload_name) == 0) {
			image = &pkg->files[i];
			*image_index = i;
		}
	for (int i = 0; image != NULL && i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", image->sha256[i]);
	if (strcmp(m->id, pkg->id) != 0 || strcmp(m->version, pkg->version) != 0)
		r = refuse(reason, err, "firmware.json: its id and version are not the package's");
	else if (strcmp(m->publisher, pkg->publisher) != 0)
		r = refuse(reason, err,
			   "firmware.json: its \"publisher\" is not the package's publisher");
	else if (image == NULL || image == json) {
		snprintf(detail, sizeof(detail),
			 "firmware.json names the image %s, which is "
			 "not in the package",
			 kf_escaped(m->payload_name).text);
		r = refuse(reason, err, detail);
	} else if (image->size == 0)
		r = refuse(reason, err, "the firmware image is empty");
	else if (m->payload_sha256 != NULL && strcmp(m->payload_sha256, sha) != 0)
		r = refuse(reason, err,
			   "firmware.json's SHA-256 of the image is not the signed list's");
	else if (m->payload_sha256 == NULL && (m->payload_sha256 = strdup(sha)) == NULL)
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if (r != KF_OK) {
		kf_fw_metainfo_free(m);
		return r;
	}
	*metainfo = m;
	return KF_OK;
}
