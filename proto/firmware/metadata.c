/* kefu: LVFS-format firmware metadata (firmware.xml.gz as fwupd remotes serve it), signed with Jcat. SPDX-License-Identifier: MIT */
#include "proto/firmware/metadata.h"
#include "proto/firmware/xml.h"
#include "proto/firmware/jcat.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32
#define MAX_TEXT  (64 * 1024)

/* Where the parser is: the element names from <components> down. */
struct state {
	XML_Parser parser;
	struct kf_error *err;
	int error;
	struct kf_fw_metadata *md;
	struct kf_fw_metadata_component *c; /* the component being read, or NULL */
	struct kf_fw_metadata_release *rel; /* the release being read, or NULL */
	bool is_component_firmware;
	char path[MAX_DEPTH][24];
	int depth;
	char attr_type[32], attr_key[64], attr_target[32], attr_checksum_type[16];
	char attr_compare[16], attr_version[128], attr_depth[16];
	bool has_compare, has_version, has_depth;
	char *text;
	size_t text_len;
	bool is_text_cut;
	size_t components_cap;
};

static void fail(struct state *s, int code, const char *what)
{
	if (s->error == 0)
		s->error = kf_error_set(s->err, code, "the firmware metadata %s (line %lu)", what,
					(unsigned long)XML_GetCurrentLineNumber(s->parser));
	XML_StopParser(s->parser, XML_FALSE);
}

/* Whether the element path ends with the given names (innermost last). */
static bool at(const struct state *s, int n, const char *const names[])
{
	if (s->depth < n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(s->path[s->depth - n + i], names[i]) != 0)
			return false;
	return true;
}

#define AT(s, ...)                                                                                 \
	at(s, (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)),                  \
	   (const char *const[]){__VA_ARGS__})

static void component_free(struct kf_fw_metadata_component *c)
{
	free(c->id);
	free(c->name);
	free(c->summary);
	free(c->developer_name);
	free(c->version_format);
	for (size_t i = 0; i < c->guid_count; i++)
		free(c->guids[i]);
	free(c->guids);
	for (size_t i = 0; i < c->hardware_guid_count; i++)
		free(c->hardware_guids[i]);
	free(c->hardware_guids);
	kf_fw_requirements_free(c->firmware_requirements, c->firmware_requirement_count);
	for (size_t i = 0; i < c->release_count; i++) {
		struct kf_fw_metadata_release *r = &c->releases[i];
		free(r->version);
		free(r->location);
		free(r->container_sha256);
		free(r->urgency);
		free(r->description);
	}
	free(c->releases);
	memset(c, 0, sizeof(*c));
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct state *s = data;

	if (s->depth >= MAX_DEPTH) {
		fail(s, KF_ERR_TOO_LARGE, "is nested too deeply");
		return;
	}
	snprintf(s->path[s->depth++], sizeof(s->path[0]), "%s", name);
	s->text_len = 0;
	s->is_text_cut = false;
	if (s->depth == 1 && strcmp(name, "components") != 0) {
		fail(s, KF_ERR_INVALID, "is not a <components> document");
		return;
	}
	if (s->depth == 2 && strcmp(name, "component") == 0) {
		const char *type = kf_xml_attribute(attrs, "type");
		if (s->md->component_count >= KF_FW_METADATA_MAX_COMPONENTS) {
			fail(s, KF_ERR_TOO_LARGE, "has too many components");
			return;
		}
		if (s->md->component_count == s->components_cap) {
			size_t cap = s->components_cap ? s->components_cap * 2 : 16;
			void *grown = realloc(s->md->components, cap * sizeof(*s->md->components));
			if (grown == NULL) {
				fail(s, KF_ERR_NOMEM, "is too large for memory");
				return;
			}
			s->md->components = grown;
			s->components_cap = cap;
		}
		s->c = &s->md->components[s->md->component_count];
		memset(s->c, 0, sizeof(*s->c));
		s->is_component_firmware = type != NULL && strcmp(type, "firmware") == 0;
		return;
	}
	if (s->c == NULL)
		return;
	if (AT(s, "component", "releases", "release")) {
		struct kf_fw_metadata_release *grown;
		const char *version = kf_xml_attribute(attrs, "version"), *urgency;
		if (s->c->release_count >= KF_FW_METADATA_MAX_RELEASES) {
			fail(s, KF_ERR_TOO_LARGE, "has too many releases in one component");
			return;
		}
		grown = realloc(s->c->releases, (s->c->release_count + 1) * sizeof(*grown));
		if (grown == NULL) {
			fail(s, KF_ERR_NOMEM, "is too large for memory");
			return;
		}
		s->c->releases = grown;
		s->rel = &grown[s->c->release_count++];
		memset(s->rel, 0, sizeof(*s->rel));
		urgency = kf_xml_attribute(attrs, "urgency");
		s->rel->version = version != NULL ? strdup(version) : NULL;
		s->rel->urgency = urgency != NULL ? strdup(urgency) : NULL;
	}
	kf_xml_copy_attribute(attrs, "type", s->attr_type, sizeof(s->attr_type));
	kf_xml_copy_attribute(attrs, "key", s->attr_key, sizeof(s->attr_key));
	kf_xml_copy_attribute(attrs, "target", s->attr_target, sizeof(s->attr_target));
	if (AT(s, "component", "requires", "firmware")) {
		s->has_compare = kf_xml_attribute(attrs, "compare") != NULL;
		s->has_version = kf_xml_attribute(attrs, "version") != NULL;
		s->has_depth = kf_xml_attribute(attrs, "depth") != NULL;
		kf_xml_copy_attribute(attrs, "compare", s->attr_compare, sizeof(s->attr_compare));
		kf_xml_copy_attribute(attrs, "version", s->attr_version, sizeof(s->attr_version));
		kf_xml_copy_attribute(attrs, "depth", s->attr_depth, sizeof(s->attr_depth));
	}
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len)
{
	struct state *s = data;
	size_t n = (size_t)len;

	if (s->c == NULL)
		return;
	if (s->text_len + n > MAX_TEXT) {
		n = MAX_TEXT - s->text_len;
		s->is_text_cut = true;
	}
	memcpy(s->text + s->text_len, text, n);
	s->text_len += n;
}

/* The element's text, trimmed, as a new string (NULL when empty). */
static char *take_text(struct state *s)
{
	size_t start = 0, end = s->text_len;
	char *out;

	while (start < end && strchr(" \t\r\n", s->text[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", s->text[end - 1]) != NULL)
		end--;
	if (end == start)
		return NULL;
	if ((out = malloc(end - start + 1)) == NULL)
		return NULL;
	memcpy(out, s->text + start, end - start);
	out[end - start] = '\0';
	return out;
}

static void set_once(char **field, char *value)
{
	if (*field == NULL)
		*field = value;
	else
		free(value);
}

static void push_guid(struct state *s, char ***list, size_t *count, char *value)
{
	char **grown;

	if (value == NULL)
		return;
	if (*count >= KF_FW_METADATA_MAX_GUIDS) {
		free(value);
		fail(s, KF_ERR_TOO_LARGE, "names too many GUIDs in one component");
		return;
	}
	if ((grown = realloc(*list, (*count + 1) * sizeof(*grown))) == NULL) {
		free(value);
		return;
	}
	*list = grown;
	grown[(*count)++] = value;
}

/* Keeps a <requires><firmware> as it is; the caller judges whether kefu can check it. */
static void push_firmware_requirement(struct state *s, char *text)
{
	struct kf_fw_metadata_component *c = s->c;
	struct kf_fw_requirement *grown, *req;

	if (c->firmware_requirement_count >= KF_FW_METADATA_MAX_GUIDS) {
		free(text);
		fail(s, KF_ERR_TOO_LARGE, "names too many firmware requirements in one component");
		return;
	}
	grown = realloc(c->firmware_requirements,
			(c->firmware_requirement_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(text);
		fail(s, KF_ERR_NOMEM, "is too large for memory");
		return;
	}
	c->firmware_requirements = grown;
	req = &grown[c->firmware_requirement_count++];
	req->text = text;
	req->compare = s->has_compare ? strdup(s->attr_compare) : NULL;
	req->version = s->has_version ? strdup(s->attr_version) : NULL;
	req->depth = s->has_depth ? strdup(s->attr_depth) : NULL;
	if ((s->has_compare && req->compare == NULL) || (s->has_version && req->version == NULL) ||
	    (s->has_depth && req->depth == NULL))
		fail(s, KF_ERR_NOMEM, "is too large for memory");
}

static bool is_sha256_hex(const char *text)
{
	if (text == NULL || strlen(text) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (strchr("0123456789abcdefABCDEF", text[i]) == NULL)
			return false;
	return true;
}

/* A component is kept when it is firmware with an id, a flashed GUID and a release. */
static void end_component(struct state *s)
{
	struct kf_fw_metadata_component *c = s->c;
	size_t kept = 0;

	for (size_t i = 0; i < c->release_count; i++) {
		if (c->releases[i].version == NULL) {
			free(c->releases[i].location);
			free(c->releases[i].container_sha256);
			free(c->releases[i].urgency);
			free(c->releases[i].description);
			continue;
		}
		c->releases[kept++] = c->releases[i];
	}
	c->release_count = kept;
	if (!s->is_component_firmware || c->id == NULL || c->guid_count == 0 || kept == 0) {
		component_free(c);
		s->md->skipped++;
	} else
		s->md->component_count++;
	s->c = NULL;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct state *s = data;
	struct kf_fw_metadata_component *c = s->c;

	(void)name;
	if (c != NULL && s->depth == 2) {
		end_component(s);
	} else if (c != NULL) {
		char *text = NULL;
		if (AT(s, "component", "id"))
			set_once(&c->id, take_text(s));
		else if (AT(s, "component", "name"))
			set_once(&c->name, take_text(s));
		else if (AT(s, "component", "summary"))
			set_once(&c->summary, take_text(s));
		else if (AT(s, "component", "developer_name"))
			set_once(&c->developer_name, take_text(s));
		else if (AT(s, "component", "provides", "firmware") &&
			 strcmp(s->attr_type, "flashed") == 0)
			push_guid(s, &c->guids, &c->guid_count, take_text(s));
		else if (AT(s, "component", "requires", "hardware"))
			push_guid(s, &c->hardware_guids, &c->hardware_guid_count, take_text(s));
		else if (AT(s, "component", "requires", "firmware"))
			push_firmware_requirement(s, take_text(s));
		else if (AT(s, "component", "custom", "value") &&
			 strcmp(s->attr_key, "LVFS::VersionFormat") == 0)
			set_once(&c->version_format, take_text(s));
		else if (s->rel != NULL && AT(s, "release", "location"))
			set_once(&s->rel->location, take_text(s));
		else if (s->rel != NULL && AT(s, "release", "checksum") &&
			 strcmp(s->attr_target, "container") == 0 &&
			 is_sha256_hex((text = take_text(s)))) {
			for (char *p = text; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p - 'A' + 'a');
			set_once(&s->rel->container_sha256, text);
			text = NULL;
		} else if (s->rel != NULL && s->depth >= 5 && strcmp(s->path[3], "release") == 0 &&
			   strcmp(s->path[4], "description") == 0 &&
			   (strcmp(name, "p") == 0 || strcmp(name, "li") == 0)) {
			char *line = take_text(s);
			if (line != NULL) {
				size_t old = s->rel->description ? strlen(s->rel->description) : 0;
				char *grown = old + strlen(line) + 2 <= MAX_TEXT
						      ? realloc(s->rel->description,
								old + strlen(line) + 2)
						      : NULL;
				if (grown != NULL) {
					if (old > 0)
						grown[old++] = ' ';
					strcpy(grown + old, line);
					s->rel->description = grown;
				}
				free(line);
			}
		}
		free(text);
		if (AT(s, "component", "releases", "release"))
			s->rel = NULL;
	}
	s->depth--;
	s->text_len = 0;
	s->attr_type[0] = s->attr_key[0] = s->attr_target[0] = '\0';
	s->has_compare = s->has_version = s->has_depth = false;
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

int kf_fw_metadata_parse(const char *xml, size_t len, struct kf_fw_metadata **out,
			 struct kf_error *err)
{
	struct state s = {0};
	int r = KF_OK;

	*out = NULL;
	if (len > KF_FW_METADATA_MAX_XML || len > (size_t)0x7fffffff)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the firmware metadata is too large");
	s.md = calloc(1, sizeof(*s.md));
	s.text = malloc(MAX_TEXT);
	s.parser = XML_ParserCreate("UTF-8");
	s.err = err;
	if (s.md == NULL || s.text == NULL || s.parser == NULL) {
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
		s.error = kf_error_set(err, KF_ERR_INVALID,
				       "the firmware metadata is not XML: %s (line %lu)",
				       XML_ErrorString(XML_GetErrorCode(s.parser)),
				       (unsigned long)XML_GetCurrentLineNumber(s.parser));
	r = s.error;
	if (r == KF_OK && s.depth != 0)
		r = kf_error_set(err, KF_ERR_INVALID, "the firmware metadata ends early");
	if (r == KF_OK) {
		*out = s.md;
		s.md = NULL;
	}
out:
	if (s.c != NULL && s.md != NULL)
		component_free(s.c);
	if (s.parser != NULL)
		XML_ParserFree(s.parser);
	free(s.text);
	kf_fw_metadata_free(s.md);
	return r;
}

void kf_fw_metadata_free(struct kf_fw_metadata *md)
{
	if (md == NULL)
		return;
	for (size_t i = 0; i < md->component_count; i++)
		component_free(&md->components[i]);
	free(md->components);
	free(md);
}

/* Decompresses gzip, zstd or xz (or copies plain XML) into a malloc'ed buffer. */
static int decompress(const uint8_t *in, size_t in_len, char **out, size_t *out_len,
		      struct kf_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	char *buf = NULL;
	size_t used = 0, cap = 0;
	int r = KF_OK;

	if (a == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, in, in_len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK) {
		r = kf_error_set(err, KF_ERR_INVALID, "the firmware metadata cannot be read: %s",
				 archive_error_string(a) ? archive_error_string(a) : "empty");
		goto out;
	}
	for (;;) {
		la_ssize_t n;
		if (used == cap) {
			size_t new_cap = cap ? cap * 2 : 256 * 1024;
			char *grown;
			if (cap >= KF_FW_METADATA_MAX_XML) {
				r = kf_error_set(err, KF_ERR_TOO_LARGE,
						 "the firmware metadata is larger than %d bytes",
						 KF_FW_METADATA_MAX_XML);
				goto out;
			}
			if ((grown = realloc(buf, new_cap + 1)) == NULL) {
				r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
				goto out;
			}
			buf = grown;
			cap = new_cap;
		}
		n = archive_read_data(a, buf + used, cap - used);
		if (n < 0) {
			r = kf_error_set(err, KF_ERR_INVALID, "the firmware metadata is corrupt");
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	*out_len = used;
	buf = NULL;
out:
	free(buf);
	archive_read_free(a);
	return r;
}

int kf_fw_metadata_load(const uint8_t *data, size_t len, const uint8_t *jcat, size_t jcat_len,
			const char *name, const char *const *ca_pems, size_t ca_count,
			struct kf_fw_metadata **metadata, struct kf_error *err)
{
	char *xml = NULL;
	size_t xml_len = 0;
	int r;

	*metadata = NULL;
	if (len > KF_FW_METADATA_MAX_SIZE)
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "the firmware metadata is larger than %d bytes",
				    KF_FW_METADATA_MAX_SIZE);
	/* The signature first: not a byte of unverified metadata is decompressed or parsed. */
	if ((r = kf_jcat_verify_pems(jcat, jcat_len, name, data, len, ca_pems, ca_count, err)) !=
	    KF_OK)
		return r;
	if ((r = decompress(data, len, &xml, &xml_len, err)) != KF_OK)
		return r;
	r = kf_fw_metadata_parse(xml, xml_len, metadata, err);
	free(xml);
	return r;
}
