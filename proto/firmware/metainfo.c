/* kefu: metainfo parsing with expat: no document type, no entities, bounded depth and text. SPDX-License-Identifier: MIT */
#include "proto/firmware/metainfo.h"
#include "proto/firmware/xml.h"
#include "proto/firmware/guid.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 64

struct state {
	XML_Parser parser;
	struct kf_fw_metainfo *info;
	struct kf_error *err;
	int error; /* the first error; parsing stops at it */
	char stack[KF_FW_METAINFO_MAX_DEPTH][NAME_MAX_LEN];
	int depth;
	char *text; /* text of the innermost element */
	size_t text_len;
	char *description; /* the release's description, paragraphs joined */
	size_t description_len;
	int description_depth; /* stack depth of <description> inside <release>, 0 if outside */
	int release_count;
	bool skip_element;  /* a translated (xml:lang) name or summary */
	char attr_type[32]; /* type= of the innermost element */
	char attr_key[64];  /* key= of a custom value */
	char attr_target[32];
	char attr_filename[256];
	char *checksum_name; /* <checksum target="content" filename=...> SHA-256 */
	char *checksum_sha256;
	char *artifact_name; /* <artifact type="source"> */
	char *artifact_sha256;
	bool in_source_artifact;
};

static void fail(struct state *s, int code, const char *message)
{
	if (s->error == 0) {
		s->error = kf_error_set(s->err, code, "the metainfo %s", message);
		XML_StopParser(s->parser, XML_FALSE);
	}
}

/* True when the open elements are exactly path ("component/releases/release"). */
static bool at(const struct state *s, const char *path)
{
	const char *p = path;

	for (int i = 0; i < s->depth; i++) {
		size_t len = strlen(s->stack[i]);
		if (strncmp(p, s->stack[i], len) != 0)
			return false;
		p += len;
		if (i + 1 < s->depth) {
			if (*p != '/')
				return false;
			p++;
		}
	}
	return *p == '\0';
}

static char *trimmed_copy(const char *text, size_t len)
{
	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	return strndup(text, len);
}

static void set_once(struct state *s, char **field, const char *what)
{
	if (*field != NULL) {
		char message[96];
		snprintf(message, sizeof(message), "has two %s", what);
		fail(s, KF_ERR_INVALID, message);
		return;
	}
	*field = trimmed_copy(s->text != NULL ? s->text : "", s->text_len);
	if (*field == NULL)
		fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
}

static void add_guid(struct state *s, char ***list, size_t *count, bool allow_alternatives)
{
	char *guid = trimmed_copy(s->text != NULL ? s->text : "", s->text_len);
	char **grown;
	bool ok = guid != NULL && *guid != '\0';

	if (guid == NULL) {
		fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
		return;
	}
	/* fwupd writes alternatives as "GUID|GUID"; each must be a GUID. */
	for (char *p = guid; ok && *p != '\0';) {
		char *bar = allow_alternatives ? strchr(p, '|') : NULL;
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		char one[KF_FW_GUID_STRING_SIZE];

		ok = len == KF_FW_GUID_STRING_SIZE - 1;
		if (ok) {
			memcpy(one, p, len);
			one[len] = '\0';
			ok = kf_fw_guid_is_valid(one);
		}
		p += len + (bar != NULL ? 1 : 0);
		if (bar != NULL && *p == '\0')
			ok = false;
	}
	if (!ok) {
		free(guid);
		fail(s, KF_ERR_INVALID, "names a device GUID that is not a GUID");
		return;
	}
	for (char *p = guid; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (*count == KF_FW_METAINFO_MAX_GUIDS) {
		free(guid);
		fail(s, KF_ERR_TOO_LARGE, "names too many GUIDs");
		return;
	}
	grown = realloc(*list, (*count + 1) * sizeof(char *));
	if (grown == NULL) {
		free(guid);
		fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
		return;
	}
	*list = grown;
	(*list)[(*count)++] = guid;
}

/* A <requires><firmware> begins: its attributes now, its text when it ends. */
static void start_firmware_requirement(struct state *s, const XML_Char **attrs)
{
	struct kf_fw_metainfo *info = s->info;
	struct kf_fw_requirement *grown, *req;
	const char *const names[] = {"compare", "version", "depth"};

	if (info->firmware_requirement_count == KF_FW_METAINFO_MAX_GUIDS) {
		fail(s, KF_ERR_TOO_LARGE, "names too many firmware requirements");
		return;
	}
	grown = realloc(info->firmware_requirements,
			(info->firmware_requirement_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
		return;
	}
	info->firmware_requirements = grown;
	req = &grown[info->firmware_requirement_count++];
	memset(req, 0, sizeof(*req));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *value = kf_xml_attribute(attrs, names[i]);
		char **field = i == 0 ? &req->compare : i == 1 ? &req->version : &req->depth;

		if (value != NULL && (*field = strndup(value, 256)) == NULL)
			fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
	}
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct state *s = data;

	if (s->error != 0)
		return;
	if (s->depth == KF_FW_METAINFO_MAX_DEPTH) {
		fail(s, KF_ERR_TOO_LARGE, "is nested too deeply");
		return;
	}
	snprintf(s->stack[s->depth++], NAME_MAX_LEN, "%s", name);
	s->text_len = 0;
	kf_xml_copy_attribute(attrs, "type", s->attr_type, sizeof(s->attr_type));
	s->skip_element = kf_xml_attribute(attrs, "xml:lang") != NULL;
	if (at(s, "component")) {
		if (strcmp(s->attr_type, "firmware") != 0)
			fail(s, KF_ERR_INVALID, "does not describe firmware");
	} else if (at(s, "component/custom/value")) {
		kf_xml_copy_attribute(attrs, "key", s->attr_key, sizeof(s->attr_key));
	} else if (at(s, "component/requires/firmware")) {
		start_firmware_requirement(s, attrs);
	} else if (at(s, "component/releases/release")) {
		const char *version = kf_xml_attribute(attrs, "version");
		if (++s->release_count > 1)
			fail(s, KF_ERR_INVALID, "has more than one release");
		else if (version == NULL || *version == '\0')
			fail(s, KF_ERR_INVALID, "has a release without a version");
		else if ((s->info->version = strdup(version)) == NULL)
			fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
	} else if (at(s, "component/releases/release/checksum")) {
		kf_xml_copy_attribute(attrs, "target", s->attr_target, sizeof(s->attr_target));
		kf_xml_copy_attribute(attrs, "filename", s->attr_filename,
				      sizeof(s->attr_filename));
	} else if (at(s, "component/releases/release/artifacts/artifact")) {
		s->in_source_artifact = strcmp(s->attr_type, "source") == 0;
	} else if (at(s, "component/releases/release/description")) {
		if (!s->skip_element)
			s->description_depth = s->depth;
	} else if (s->description_depth > 0 && s->description_len > 0 &&
		   (strcmp(name, "p") == 0 || strcmp(name, "li") == 0)) {
		if (s->description_len < KF_FW_METAINFO_MAX_TEXT)
			s->description[s->description_len++] = '\n';
	}
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len)
{
	struct state *s = data;
	char **buffer = s->description_depth > 0 ? &s->description : &s->text;
	size_t *used = s->description_depth > 0 ? &s->description_len : &s->text_len;

	if (s->error != 0 || len <= 0)
		return;
	if (*used + (size_t)len > KF_FW_METAINFO_MAX_TEXT) {
		fail(s, KF_ERR_TOO_LARGE, "has an element with too much text");
		return;
	}
	if (*buffer == NULL && (*buffer = malloc(KF_FW_METAINFO_MAX_TEXT + 1)) == NULL) {
		fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
		return;
	}
	/* Whitespace between paragraphs of a description is layout, not text. */
	if (s->description_depth > 0 && s->depth == s->description_depth)
		return;
	memcpy(*buffer + *used, text, (size_t)len);
	*used += (size_t)len;
}

static void end_checksum(struct state *s, char **name_field, char **sha_field, const char *name)
{
	if (strcmp(s->attr_type, "sha256") != 0)
		return;
	set_once(s, sha_field, "SHA-256 content checksums");
	if (s->error == 0 && name != NULL && *name != '\0' && *name_field == NULL &&
	    (*name_field = strdup(name)) == NULL)
		fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct state *s = data;
	struct kf_fw_metainfo *info = s->info;
	(void)name;

	if (s->error != 0)
		return;
	if (at(s, "component/id"))
		set_once(s, &info->id, "ids");
	else if (at(s, "component/name") && !s->skip_element)
		set_once(s, &info->name, "names");
	else if (at(s, "component/summary") && !s->skip_element)
		set_once(s, &info->summary, "summaries");
	else if (at(s, "component/developer_name") && !s->skip_element)
		set_once(s, &info->developer_name, "developer names");
	else if (at(s, "component/provides/firmware") && strcmp(s->attr_type, "flashed") == 0)
		add_guid(s, &info->guids, &info->guid_count, false);
	else if (at(s, "component/requires/hardware"))
		add_guid(s, &info->hardware_guids, &info->hardware_guid_count, true);
	else if (at(s, "component/requires/firmware") && info->firmware_requirement_count > 0) {
		struct kf_fw_requirement *req =
			&info->firmware_requirements[info->firmware_requirement_count - 1];
		char *text = trimmed_copy(s->text != NULL ? s->text : "", s->text_len);

		if (text == NULL)
			fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
		else if (*text == '\0')
			free(text);
		else
			req->text = text;
	} else if (at(s, "component/custom/value") &&
		   strcmp(s->attr_key, "LVFS::VersionFormat") == 0)
		set_once(s, &info->version_format, "version formats");
	else if (at(s, "component/releases/release/checksum") &&
		 strcmp(s->attr_target, "content") == 0)
		end_checksum(s, &s->checksum_name, &s->checksum_sha256, s->attr_filename);
	else if (at(s, "component/releases/release/artifacts/artifact/filename") &&
		 s->in_source_artifact)
		set_once(s, &s->artifact_name, "artifact file names");
	else if (at(s, "component/releases/release/artifacts/artifact/checksum") &&
		 s->in_source_artifact)
		end_checksum(s, &s->artifact_name, &s->artifact_sha256, NULL);
	else if (at(s, "component/releases/release/artifacts/artifact"))
		s->in_source_artifact = false;
	else if (at(s, "component/releases/release/description") && s->description_depth > 0) {
		s->description_depth = 0;
		if (s->description != NULL && info->release_text == NULL) {
			info->release_text = trimmed_copy(s->description, s->description_len);
			if (info->release_text == NULL)
				fail(s, KF_ERR_NOMEM, "could not be read: out of memory");
		}
	}
	s->depth--;
	s->text_len = 0;
	s->skip_element = false;
	s->attr_type[0] = '\0';
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	fail(data, KF_ERR_INVALID, "has a document type declaration, which is not allowed");
}

static void XMLCALL on_entity(void *data, const XML_Char *name, int is_parameter,
			      const XML_Char *value, int value_length, const XML_Char *base,
			      const XML_Char *sysid, const XML_Char *pubid,
			      const XML_Char *notation)
{
	(void)name, (void)is_parameter, (void)value, (void)value_length, (void)base, (void)sysid;
	(void)pubid, (void)notation;
	fail(data, KF_ERR_INVALID, "declares an entity, which is not allowed");
}

static bool is_sha256_hex(const char *text)
{
	if (strlen(text) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)text[i]))
			return false;
	return true;
}

/* Settles the payload's name and checksum from the two places metainfo gives them. */
static int finish(struct state *s)
{
	struct kf_fw_metainfo *info = s->info;
	const char *name = s->checksum_name != NULL ? s->checksum_name : s->artifact_name;
	const char *sha = s->checksum_sha256 != NULL ? s->checksum_sha256 : s->artifact_sha256;

	if (info->id == NULL || *info->id == '\0')
		return kf_error_set(s->err, KF_ERR_INVALID, "the metainfo has no component id");
	if (info->guid_count == 0)
		return kf_error_set(s->err, KF_ERR_INVALID,
				    "the metainfo names no device GUID (provides/firmware)");
	if (info->version == NULL)
		return kf_error_set(s->err, KF_ERR_INVALID, "the metainfo has no release");
	if (name == NULL || sha == NULL)
		return kf_error_set(s->err, KF_ERR_INVALID,
				    "the metainfo gives no SHA-256 checksum of the firmware file");
	if (!is_sha256_hex(sha) ||
	    (s->checksum_sha256 != NULL && s->artifact_sha256 != NULL &&
	     strcasecmp(s->checksum_sha256, s->artifact_sha256) != 0) ||
	    (s->checksum_name != NULL && s->artifact_name != NULL &&
	     strcmp(s->checksum_name, s->artifact_name) != 0))
		return kf_error_set(s->err, KF_ERR_INVALID,
				    "the metainfo's SHA-256 checksums of the firmware disagree");
	info->payload_name = strdup(name);
	info->payload_sha256 = strdup(sha);
	if (info->payload_name == NULL || info->payload_sha256 == NULL)
		return kf_error_set(s->err, KF_ERR_NOMEM, "out of memory");
	for (char *p = info->payload_sha256; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return KF_OK;
}

int kf_fw_metainfo_parse(const char *xml, size_t len, struct kf_fw_metainfo **out,
			 struct kf_error *err)
{
	struct state s = {0};
	int r;

	*out = NULL;
	if (len > KF_FW_METAINFO_MAX_SIZE)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the metainfo is larger than %d bytes",
				    KF_FW_METAINFO_MAX_SIZE);
	s.info = calloc(1, sizeof(*s.info));
	s.parser = XML_ParserCreate("UTF-8");
	s.err = err;
	if (s.info == NULL || s.parser == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	XML_SetUserData(s.parser, &s);
	XML_SetElementHandler(s.parser, on_start, on_end);
	XML_SetCharacterDataHandler(s.parser, on_text);
	XML_SetStartDoctypeDeclHandler(s.parser, on_doctype);
	XML_SetEntityDeclHandler(s.parser, on_entity);
	XML_SetParamEntityParsing(s.parser, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(s.parser, xml, (int)len, XML_TRUE) != XML_STATUS_OK && s.error == 0)
		s.error =
			kf_error_set(err, KF_ERR_INVALID, "the metainfo is not XML: %s (line %lu)",
				     XML_ErrorString(XML_GetErrorCode(s.parser)),
				     (unsigned long)XML_GetCurrentLineNumber(s.parser));
	r = s.error != 0 ? s.error : finish(&s);
	if (r == KF_OK) {
		*out = s.info;
		s.info = NULL;
	}
out:
	if (s.parser != NULL)
		XML_ParserFree(s.parser);
	free(s.text);
	free(s.description);
	free(s.checksum_name);
	free(s.checksum_sha256);
	free(s.artifact_name);
	free(s.artifact_sha256);
	kf_fw_metainfo_free(s.info);
	return r;
}

static void free_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

void kf_fw_requirements_free(struct kf_fw_requirement *requirements, size_t count)
{
	for (size_t i = 0; requirements != NULL && i < count; i++) {
		free(requirements[i].compare);
		free(requirements[i].version);
		free(requirements[i].text);
		free(requirements[i].depth);
	}
	free(requirements);
}

void kf_fw_metainfo_free(struct kf_fw_metainfo *info)
{
	if (info == NULL)
		return;
	free(info->id);
	free(info->name);
	free(info->summary);
	free(info->developer_name);
	free(info->publisher);
	free_list(info->guids, info->guid_count);
	free_list(info->hardware_guids, info->hardware_guid_count);
	kf_fw_requirements_free(info->firmware_requirements, info->firmware_requirement_count);
	free(info->version_format);
	free(info->version);
	free(info->payload_name);
	free(info->payload_sha256);
	free(info->release_text);
	for (size_t i = 0; i < info->computer_count; i++) {
		free(info->computers[i].vendor);
		free(info->computers[i].product);
	}
	free(info->computers);
	free(info);
}
