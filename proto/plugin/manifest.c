/* kefu: strict parser for plugin.json manifests and the step output protocol.
 * SPDX-License-Identifier: MIT */
#include "proto/plugin/manifest.h"
#include "proto/base/escape.h"
#include "proto/base/json-fields.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Refuses any key of obj not in the NULL-terminated list allowed. */
static int check_keys(const json_t *obj, const char *where, const char *const *allowed,
		      struct kf_error *err)
{
	const char *key = kf_json_unknown_field(obj, allowed);

	if (key != NULL)
		return kf_error_set(err, KF_ERR_INVALID, "%s: unknown field \"%s\"", where,
				    kf_escaped(key).text);
	return 0;
}

/* Copies an optional (required when need) string field bounded by max bytes. */
static int get_string(const json_t *obj, const char *where, const char *key, bool need, size_t max,
		      char **out, struct kf_error *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (need)
			return kf_error_set(err, KF_ERR_INVALID, "%s: missing \"%s\"", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return kf_error_set(err, KF_ERR_INVALID, "%s: \"%s\" must be a string", where, key);
	if (json_string_length(v) == 0 || json_string_length(v) > max)
		return kf_error_set(err, KF_ERR_INVALID, "%s: \"%s\" must be 1..%zu bytes", where,
				    key, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return kf_error_set(err, KF_ERR_INVALID, "%s: \"%s\" contains a NUL byte", where,
				    key);
	*out = strdup(json_string_value(v));
	if (*out == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	return 0;
}

static bool is_id(const char *s)
{
	size_t i;

	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

bool kf_plugin_id_is_valid(const char *s)
{
	return s != NULL && strlen(s) <= KF_PLUGIN_ID_MAX && is_id(s);
}

/* A script path: relative, no "..", no empty components, safe characters only. */
static bool is_safe_relative_path(const char *s)
{
	const char *p = s;
	size_t i;

	if (s[0] == '/' || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-_./", s[i]) != NULL))
			return false;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
		else
			break;
	}
	return s[strlen(s) - 1] != '/';
}

static bool is_safe_absolute_path(const char *s)
{
	if (s[0] != '/' || strstr(s, "/../") != NULL || strstr(s, "/./") != NULL)
		return false;
	size_t n = strlen(s);
	if (n >= 3 && strcmp(s + n - 3, "/..") == 0)
		return false;
	return strcmp(s, "/") != 0;
}

static int parse_privileges(const json_t *obj, const char *where, struct kf_plugin_privileges *p,
			    struct kf_error *err)
{
	static const char *const keys[] = {"root", "network", "home", "writes", NULL};
	const char *bools[] = {"root", "network", "home"};
	bool *dest[] = {&p->root, &p->network, &p->home};
	json_t *writes, *item;
	size_t i;
	int r;

	if (!json_is_object(obj))
		return kf_error_set(err, KF_ERR_INVALID, "%s: \"privileges\" must be an object",
				    where);
	r = check_keys(obj, where, keys, err);
	if (r < 0)
		return r;
	for (i = 0; i < 3; i++) {
		json_t *v = json_object_get(obj, bools[i]);

		if (v == NULL)
			continue;
		if (!json_is_boolean(v))
			return kf_error_set(err, KF_ERR_INVALID, "%s: \"%s\" must be true or false",
					    where, bools[i]);
		*dest[i] = json_is_true(v);
	}
	writes = json_object_get(obj, "writes");
	if (writes == NULL)
		return 0;
	if (!json_is_array(writes) || json_array_size(writes) > KF_PLUGIN_MAX_WRITES)
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s: \"writes\" must be a list of at most %d paths", where,
				    KF_PLUGIN_MAX_WRITES);
	json_array_foreach(writes, i, item)
	{
		if (!json_is_string(item) || json_string_length(item) > PATH_MAX ||
		    strlen(json_string_value(item)) != json_string_length(item) ||
		    !is_safe_absolute_path(json_string_value(item)))
			return kf_error_set(err, KF_ERR_INVALID,
					    "%s: \"writes\" entries must be absolute paths without "
					    "\"..\" (not /)",
					    where);
		p->writes[i] = strdup(json_string_value(item));
		if (p->writes[i] == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		p->n_writes = i + 1;
	}
	return 0;
}

static int parse_step(const json_t *obj, const char *where, struct kf_plugin_step *step,
		      struct kf_error *err)
{
	static const char *const keys[] = {"run", "timeout", "privileges", NULL};
	json_t *v;
	int r;

	step->timeout = 30;
	if (!json_is_object(obj))
		return kf_error_set(err, KF_ERR_INVALID, "%s must be an object", where);
	r = check_keys(obj, where, keys, err);
	if (r == 0)
		r = get_string(obj, where, "run", true, 255, &step->run, err);
	if (r < 0)
		return r;
	if (!is_safe_relative_path(step->run))
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s: \"run\" must be a relative path inside the plugin", where);
	v = json_object_get(obj, "timeout");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > KF_PLUGIN_TIMEOUT_MAX)
			return kf_error_set(err, KF_ERR_INVALID,
					    "%s: \"timeout\" must be 1..%d seconds", where,
					    KF_PLUGIN_TIMEOUT_MAX);
		step->timeout = (int)json_integer_value(v);
	}
	v = json_object_get(obj, "privileges");
	if (v != NULL)
		return parse_privileges(v, where, &step->privileges, err);
	return 0;
}

static int parse_check(const json_t *obj, size_t index, struct kf_plugin_check *c,
		       struct kf_error *err)
{
	static const char *const keys[] = {"id",     "title",  "fix", "detect",
					   "repair", "verify", NULL};
	char where[96];
	json_t *v, *item;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "checks[%zu]", index);
	if (!json_is_object(obj))
		return kf_error_set(err, KF_ERR_INVALID, "%s must be an object", where);
	r = check_keys(obj, where, keys, err);
	if (r == 0)
		r = get_string(obj, where, "id", true, KF_PLUGIN_ID_MAX, &c->id, err);
	if (r == 0 && !is_id(c->id))
		r = kf_error_set(err, KF_ERR_INVALID,
				 "%s: \"id\" must be lower-case letters, digits and '-'", where);
	if (r == 0)
		r = get_string(obj, where, "title", true, 200, &c->title, err);
	if (r == 0)
		r = get_string(obj, where, "fix", false, 200, &c->fix, err);
	if (r < 0)
		return r;
	v = json_object_get(obj, "detect");
	if (v == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "%s: missing \"detect\"", where);
	snprintf(where, sizeof(where), "checks[%zu].detect", index);
	r = parse_step(v, where, &c->detect, err);
	if (r < 0)
		return r;
	v = json_object_get(obj, "repair");
	if (v != NULL) {
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > KF_PLUGIN_MAX_REPAIRS)
			return kf_error_set(err, KF_ERR_INVALID,
					    "checks[%zu]: \"repair\" must be a list of 1..%d steps",
					    index, KF_PLUGIN_MAX_REPAIRS);
		json_array_foreach(v, i, item)
		{
			snprintf(where, sizeof(where), "checks[%zu].repair[%zu]", index, i);
			c->n_repairs = i + 1;
			r = parse_step(item, where, &c->repairs[i], err);
			if (r < 0)
				return r;
		}
	}
	v = json_object_get(obj, "verify");
	if (v != NULL) {
		snprintf(where, sizeof(where), "checks[%zu].verify", index);
		c->has_verify = true;
		r = parse_step(v, where, &c->verify, err);
		if (r < 0)
			return r;
	}
	if (c->n_repairs > 0 && !c->has_verify)
		return kf_error_set(err, KF_ERR_INVALID,
				    "checks[%zu]: a check with \"repair\" needs \"verify\"", index);
	return 0;
}

static int parse_matcher(const json_t *obj, size_t index, struct kf_plugin_matcher *m,
			 struct kf_error *err)
{
	static const char *const kinds[] = {"always", "device", "os", "dmi", "file", NULL};
	static const char *const device_keys[] = {"bus",    "vendor_id", "product_id", "modalias",
						  "driver", "module",    "status",     NULL};
	static const char *const os_keys[] = {"id", "version_id", NULL};
	static const char *const dmi_keys[] = {"sys_vendor", "product_name", NULL};
	char where[64];
	const char *key;
	json_t *body;
	int r;

	snprintf(where, sizeof(where), "applies_to[%zu]", index);
	if (!json_is_object(obj) || json_object_size(obj) != 1)
		return kf_error_set(err, KF_ERR_INVALID,
				    "%s must be an object with exactly one of always, device, os, "
				    "dmi, file",
				    where);
	r = check_keys(obj, where, kinds, err);
	if (r < 0)
		return r;
	key = json_object_iter_key(json_object_iter((json_t *)obj));
	body = json_object_get(obj, key);
	if (strcmp(key, "always") == 0) {
		if (!json_is_true(body))
			return kf_error_set(err, KF_ERR_INVALID, "%s: \"always\" must be true",
					    where);
		m->kind = KF_PLUGIN_MATCH_ALWAYS;
		return 0;
	}
	if (strcmp(key, "file") == 0) {
		m->kind = KF_PLUGIN_MATCH_FILE;
		r = get_string(obj, where, "file", true, PATH_MAX, &m->path, err);
		if (r == 0 && !is_safe_absolute_path(m->path))
			r = kf_error_set(err, KF_ERR_INVALID,
					 "%s: \"file\" must be an absolute path without \"..\"",
					 where);
		return r;
	}
	if (!json_is_object(body) || json_object_size(body) == 0)
		return kf_error_set(err, KF_ERR_INVALID, "%s: \"%s\" must be a non-empty object",
				    where, key);
	if (strcmp(key, "device") == 0) {
		json_t *driver = json_object_get(body, "driver");

		m->kind = KF_PLUGIN_MATCH_DEVICE;
		r = check_keys(body, where, device_keys, err);
		if (r == 0)
			r = get_string(body, where, "bus", false, 16, &m->bus, err);
		if (r == 0)
			r = get_string(body, where, "vendor_id", false, 16, &m->vendor_id, err);
		if (r == 0)
			r = get_string(body, where, "product_id", false, 16, &m->product_id, err);
		if (r == 0)
			r = get_string(body, where, "modalias", false, 256, &m->modalias, err);
		if (r == 0 && json_is_null(driver))
			m->driver_null = true;
		else if (r == 0)
			r = get_string(body, where, "driver", false, 64, &m->driver, err);
		if (r == 0)
			r = get_string(body, where, "module", false, 64, &m->module, err);
		if (r == 0)
			r = get_string(body, where, "status", false, 16, &m->status, err);
		return r;
	}
	if (strcmp(key, "os") == 0) {
		m->kind = KF_PLUGIN_MATCH_OS;
		r = check_keys(body, where, os_keys, err);
		if (r == 0)
			r = get_string(body, where, "id", false, 64, &m->os_id, err);
		if (r == 0)
			r = get_string(body, where, "version_id", false, 64, &m->os_version_id,
				       err);
		return r;
	}
	m->kind = KF_PLUGIN_MATCH_DMI;
	r = check_keys(body, where, dmi_keys, err);
	if (r == 0)
		r = get_string(body, where, "sys_vendor", false, 128, &m->sys_vendor, err);
	if (r == 0)
		r = get_string(body, where, "product_name", false, 128, &m->product_name, err);
	return r;
}

/* A language as gettext names it: 2-3 lower-case letters, then maybe _ and 2 capitals. */
static bool is_language(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz");

	if (n < 2 || n > 3)
		return false;
	if (s[n] == '\0')
		return true;
	return s[n] == '_' && strspn(s + n + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2 &&
	       s[n + 3] == '\0';
}

static int parse_check_texts(const json_t *texts, const char *language,
			     const struct kf_plugin_manifest *m, struct kf_plugin_translation *t,
			     struct kf_error *err)
{
	static const char *const keys[] = {"title", "fix", NULL};
	const char *id;
	json_t *body;
	char where[160];
	int r;

	if (!json_is_object(texts))
		return kf_error_set(err, KF_ERR_INVALID,
				    "translations.%s: \"checks\" must be an object of check ids",
				    language);
	json_object_foreach((json_t *)texts, id, body)
	{
		size_t i = 0;

		while (i < m->n_checks && strcmp(m->checks[i].id, id) != 0)
			i++;
		if (i == m->n_checks)
			return kf_error_set(err, KF_ERR_INVALID,
					    "translations.%s.checks: there is no check \"%s\"",
					    language, kf_escaped(id).text);
		snprintf(where, sizeof(where), "translations.%s.checks.%s", language, id);
		if (!json_is_object(body))
			return kf_error_set(err, KF_ERR_INVALID, "%s must be an object", where);
		r = check_keys(body, where, keys, err);
		if (r == 0)
			r = get_string(body, where, "title", false, 200, &t->titles[i], err);
		if (r == 0)
			r = get_string(body, where, "fix", false, 200, &t->fixes[i], err);
		if (r < 0)
			return r;
		if (t->fixes[i] != NULL && m->checks[i].fix == NULL)
			return kf_error_set(err, KF_ERR_INVALID,
					    "%s: translates a \"fix\" the check does not have",
					    where);
	}
	return 0;
}

/* "translations": {"zh_CN": {"name", "description", "checks": {ID: {"title", "fix"}}}} */
static int parse_translations(const json_t *v, struct kf_plugin_manifest *m, struct kf_error *err)
{
	static const char *const keys[] = {"name", "description", "checks", NULL};
	const char *language;
	json_t *body, *texts;
	char where[96];
	int r;

	if (!json_is_object(v) || json_object_size(v) == 0 ||
	    json_object_size(v) > KF_PLUGIN_MAX_LANGUAGES)
		return kf_error_set(
			err, KF_ERR_INVALID,
			"manifest: \"translations\" must be an object of 1..%d languages",
			KF_PLUGIN_MAX_LANGUAGES);
	json_object_foreach((json_t *)v, language, body)
	{
		struct kf_plugin_translation *t = &m->translations[m->n_translations];

		if (!is_language(language))
			return kf_error_set(err, KF_ERR_INVALID,
					    "translations: \"%s\" is not a language as gettext "
					    "names it (ll or ll_CC: \"zh_CN\", \"de\")",
					    kf_escaped(language).text);
		m->n_translations++;
		snprintf(t->language, sizeof(t->language), "%s", language);
		snprintf(where, sizeof(where), "translations.%s", language);
		if (!json_is_object(body))
			return kf_error_set(err, KF_ERR_INVALID, "%s must be an object", where);
		r = check_keys(body, where, keys, err);
		if (r == 0)
			r = get_string(body, where, "name", false, 200, &t->name, err);
		if (r == 0)
			r = get_string(body, where, "description", false, 2000, &t->description,
				       err);
		texts = json_object_get(body, "checks");
		if (r == 0 && texts != NULL)
			r = parse_check_texts(texts, language, m, t, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_root(const json_t *root, struct kf_plugin_manifest *m, struct kf_error *err)
{
	static const char *const keys[] = {"format",       "id",        "version",    "name",
					   "description",  "publisher", "applies_to", "checks",
					   "translations", NULL};
	json_t *v, *item;
	size_t i;
	int r;

	if (!json_is_object(root))
		return kf_error_set(err, KF_ERR_INVALID, "manifest must be a JSON object");
	r = check_keys(root, "manifest", keys, err);
	if (r < 0)
		return r;
	v = json_object_get(root, "format");
	if (v == NULL || !json_is_integer(v))
		return kf_error_set(err, KF_ERR_INVALID, "manifest: missing integer \"format\"");
	if (json_integer_value(v) != KF_PLUGIN_FORMAT)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "manifest: format %lld is not supported (this agent reads %d)",
				    (long long)json_integer_value(v), KF_PLUGIN_FORMAT);
	r = get_string(root, "manifest", "id", true, KF_PLUGIN_ID_MAX, &m->id, err);
	if (r == 0 && !is_id(m->id))
		r = kf_error_set(err, KF_ERR_INVALID,
				 "manifest: \"id\" must be lower-case letters, digits and '-'");
	if (r == 0)
		r = get_string(root, "manifest", "version", true, 32, &m->version, err);
	if (r == 0)
		r = get_string(root, "manifest", "name", true, 200, &m->name, err);
	if (r == 0)
		r = get_string(root, "manifest", "description", false, 2000, &m->description, err);
	if (r == 0)
		r = get_string(root, "manifest", "publisher", false, 128, &m->publisher, err);
	if (r < 0)
		return r;
	v = json_object_get(root, "applies_to");
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > KF_PLUGIN_MAX_MATCHERS)
		return kf_error_set(err, KF_ERR_INVALID,
				    "manifest: \"applies_to\" must be a list of 1..%d matchers",
				    KF_PLUGIN_MAX_MATCHERS);
	json_array_foreach(v, i, item)
	{
		m->n_matchers = i + 1;
		r = parse_matcher(item, i, &m->matchers[i], err);
		if (r < 0)
			return r;
	}
	v = json_object_get(root, "checks");
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > KF_PLUGIN_MAX_CHECKS)
		return kf_error_set(err, KF_ERR_INVALID,
				    "manifest: \"checks\" must be a list of 1..%d checks",
				    KF_PLUGIN_MAX_CHECKS);
	json_array_foreach(v, i, item)
	{
		size_t j;

		m->n_checks = i + 1;
		r = parse_check(item, i, &m->checks[i], err);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(m->checks[j].id, m->checks[i].id) == 0)
				return kf_error_set(err, KF_ERR_INVALID,
						    "manifest: check id \"%s\" appears twice",
						    m->checks[i].id);
	}
	v = json_object_get(root, "translations");
	if (v != NULL)
		return parse_translations(v, m, err);
	return 0;
}

static void take_text(char **text, char **translated)
{
	char *original = *text;

	if (*translated == NULL)
		return;
	*text = *translated;
	*translated = original; /* freed with the translation */
}

const char *kf_plugin_manifest_localize(struct kf_plugin_manifest *m, const char *language)
{
	char wanted[8];
	struct kf_plugin_translation *t = NULL;
	size_t i, n;

	if (language == NULL || m->is_localized)
		return NULL;
	n = strcspn(language, ".@");
	if (n == 0 || n >= sizeof(wanted))
		return NULL;
	memcpy(wanted, language, n);
	wanted[n] = '\0';
	for (int pass = 0; pass < 2 && t == NULL; pass++) {
		if (pass == 1) {
			char *country = strchr(wanted, '_');

			if (country == NULL)
				break;
			*country = '\0'; /* then the language alone */
		}
		for (i = 0; i < m->n_translations && t == NULL; i++)
			if (strcmp(m->translations[i].language, wanted) == 0)
				t = &m->translations[i];
	}
	if (t == NULL)
		return NULL;
	m->is_localized = true;
	take_text(&m->name, &t->name);
	take_text(&m->description, &t->description);
	for (i = 0; i < m->n_checks; i++) {
		take_text(&m->checks[i].title, &t->titles[i]);
		take_text(&m->checks[i].fix, &t->fixes[i]);
	}
	return t->language;
}

int kf_plugin_manifest_parse(const char *text, size_t len, struct kf_plugin_manifest **out,
			     struct kf_error *err)
{
	struct kf_plugin_manifest *m;
	json_error_t jerr;
	json_t *root;
	int r;

	*out = NULL;
	if (len > KF_PLUGIN_MANIFEST_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "manifest is over %d bytes",
				    KF_PLUGIN_MANIFEST_MAX);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "manifest is not valid JSON: line %d: %s",
				    jerr.line, kf_escaped(jerr.text).text);
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	r = parse_root(root, m, err);
	json_decref(root);
	if (r < 0) {
		kf_plugin_manifest_free(m);
		return r;
	}
	*out = m;
	return 0;
}

int kf_plugin_manifest_load(const char *dir, struct kf_plugin_manifest **out, struct kf_error *err)
{
	char path[PATH_MAX], *text;
	struct stat st;
	ssize_t n;
	int fd, r;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/plugin.json", dir) >= (int)sizeof(path))
		return kf_error_set(err, KF_ERR_INVALID, "plugin path too long");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO, "%s: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KF_PLUGIN_MANIFEST_MAX) {
		close(fd);
		return kf_error_set(err, KF_ERR_INVALID, "%s: not a regular file under %d bytes",
				    path, KF_PLUGIN_MANIFEST_MAX);
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(text);
		return kf_error_set(err, KF_ERR_IO, "%s: short read", path);
	}
	r = kf_plugin_manifest_parse(text, (size_t)n, out, err);
	free(text);
	return r;
}

static void free_step(struct kf_plugin_step *s)
{
	size_t i;

	free(s->run);
	for (i = 0; i < s->privileges.n_writes; i++)
		free(s->privileges.writes[i]);
}

void kf_plugin_manifest_free(struct kf_plugin_manifest *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_matchers; i++) {
		struct kf_plugin_matcher *x = &m->matchers[i];
		char *all[] = {x->bus,           x->vendor_id,  x->product_id,   x->modalias,
			       x->driver,        x->module,     x->status,       x->os_id,
			       x->os_version_id, x->sys_vendor, x->product_name, x->path};

		for (j = 0; j < sizeof(all) / sizeof(all[0]); j++)
			free(all[j]);
	}
	for (i = 0; i < m->n_checks; i++) {
		struct kf_plugin_check *c = &m->checks[i];

		free(c->id);
		free(c->title);
		free(c->fix);
		free_step(&c->detect);
		for (j = 0; j < c->n_repairs; j++)
			free_step(&c->repairs[j]);
		if (c->has_verify)
			free_step(&c->verify);
	}
	for (i = 0; i < m->n_translations; i++) {
		struct kf_plugin_translation *t = &m->translations[i];

		free(t->name);
		free(t->description);
		for (j = 0; j < KF_PLUGIN_MAX_CHECKS; j++) {
			free(t->titles[j]);
			free(t->fixes[j]);
		}
	}
	free(m->id);
	free(m->version);
	free(m->name);
	free(m->description);
	free(m->publisher);
	free(m);
}

/* pattern NULL matches anything; a pattern against a missing value fails. */
static bool glob_ok(const char *pattern, const json_t *obj, const char *key)
{
	const char *value;

	if (pattern == NULL)
		return true;
	value = json_string_value(json_object_get(obj, key));
	return value != NULL && fnmatch(pattern, value, 0) == 0;
}

static bool device_matches(const struct kf_plugin_matcher *m, const json_t *dev)
{
	json_t *driver = json_object_get(dev, "driver");
	json_t *module = json_object_get(dev, "module");

	if (!glob_ok(m->bus, dev, "bus") || !glob_ok(m->vendor_id, dev, "vendor_id") ||
	    !glob_ok(m->product_id, dev, "product_id") || !glob_ok(m->modalias, dev, "modalias") ||
	    !glob_ok(m->status, dev, "status") || !glob_ok(m->driver, dev, "driver"))
		return false;
	if (m->driver_null && driver != NULL && !json_is_null(driver))
		return false;
	if (m->module != NULL && !glob_ok(m->module, module, "name"))
		return false;
	return true;
}

int kf_plugin_manifest_applies(const struct kf_plugin_manifest *m, const json_t *report,
			       const char *root, const char **device_id)
{
	json_t *system = json_object_get(report, "system");
	json_t *os = json_object_get(system, "os");
	json_t *dmi = json_object_get(system, "dmi");
	json_t *devices = json_object_get(report, "devices");
	size_t i, j;

	if (device_id != NULL)
		*device_id = NULL;
	for (i = 0; i < m->n_matchers; i++) {
		const struct kf_plugin_matcher *x = &m->matchers[i];
		char path[PATH_MAX];
		json_t *dev;

		switch (x->kind) {
		case KF_PLUGIN_MATCH_ALWAYS:
			return 1;
		case KF_PLUGIN_MATCH_OS:
			if (glob_ok(x->os_id, os, "id") &&
			    glob_ok(x->os_version_id, os, "version_id"))
				return 1;
			break;
		case KF_PLUGIN_MATCH_DMI:
			if (glob_ok(x->sys_vendor, dmi, "sys_vendor") &&
			    glob_ok(x->product_name, dmi, "product_name"))
				return 1;
			break;
		case KF_PLUGIN_MATCH_FILE:
			if (snprintf(path, sizeof(path), "%s%s",
				     root != NULL && strcmp(root, "/") != 0 ? root : "",
				     x->path) < (int)sizeof(path) &&
			    access(path, F_OK) == 0)
				return 1;
			break;
		case KF_PLUGIN_MATCH_DEVICE:
			json_array_foreach(devices, j, dev)
			{
				if (json_is_object(dev) && device_matches(x, dev)) {
					if (device_id != NULL)
						*device_id = json_string_value(
							json_object_get(dev, "id"));
					return 1;
				}
			}
			break;
		}
	}
	return 0;
}

static int copy_field(const json_t *obj, const char *key, bool need, char *dest, size_t size,
		      struct kf_error *err)
{
	json_t *v = json_object_get(obj, key);

	dest[0] = '\0';
	if (v == NULL)
		return need ? kf_error_set(err, KF_ERR_INVALID, "output line: missing \"%s\"", key)
			    : 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return kf_error_set(err, KF_ERR_INVALID,
				    "output line: \"%s\" must be a string under %zu bytes", key,
				    size);
	memcpy(dest, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static bool one_of(const char *value, const char *const *allowed)
{
	size_t i;

	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(value, allowed[i]) == 0)
			return true;
	return false;
}

int kf_plugin_event_parse(const char *line, size_t len, struct kf_plugin_event *ev,
			  struct kf_error *err)
{
	static const char *const finding_keys[] = {"type", "severity", "summary", "detail", NULL};
	static const char *const progress_keys[] = {"type", "percent", "message", NULL};
	static const char *const result_keys[] = {"type", "status", "summary", NULL};
	static const char *const severities[] = {"info", "warning", "error", NULL};
	static const char *const statuses[] = {"ok",     "problem",        "fixed",
					       "failed", "not-applicable", NULL};
	char type[16];
	json_error_t jerr;
	json_t *obj, *v;
	int r;

	memset(ev, 0, sizeof(*ev));
	ev->percent = -1;
	if (len > KF_PLUGIN_OUTPUT_LINE_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "output line is over %d bytes",
				    KF_PLUGIN_OUTPUT_LINE_MAX);
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "output line is not JSON: %s",
				    kf_escaped(jerr.text).text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return kf_error_set(err, KF_ERR_INVALID, "output line must be a JSON object");
	}
	r = copy_field(obj, "type", true, type, sizeof(type), err);
	if (r < 0)
		goto out;
	if (strcmp(type, "finding") == 0) {
		ev->type = KF_PLUGIN_EVENT_FINDING;
		r = check_keys(obj, "finding", finding_keys, err);
		if (r == 0)
			r = copy_field(obj, "severity", true, ev->severity, sizeof(ev->severity),
				       err);
		if (r == 0 && !one_of(ev->severity, severities))
			r = kf_error_set(err, KF_ERR_INVALID,
					 "finding: \"severity\" must be info, warning or error");
		if (r == 0)
			r = copy_field(obj, "summary", true, ev->summary, sizeof(ev->summary), err);
		if (r == 0)
			r = copy_field(obj, "detail", false, ev->detail, sizeof(ev->detail), err);
	} else if (strcmp(type, "progress") == 0) {
		ev->type = KF_PLUGIN_EVENT_PROGRESS;
		r = check_keys(obj, "progress", progress_keys, err);
		v = json_object_get(obj, "percent");
		if (r == 0 && v != NULL) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 100)
				r = kf_error_set(err, KF_ERR_INVALID,
						 "progress: \"percent\" must be 0..100");
			else
				ev->percent = (int)json_integer_value(v);
		}
		if (r == 0)
			r = copy_field(obj, "message", false, ev->summary, sizeof(ev->summary),
				       err);
	} else if (strcmp(type, "result") == 0) {
		ev->type = KF_PLUGIN_EVENT_RESULT;
		r = check_keys(obj, "result", result_keys, err);
		if (r == 0)
			r = copy_field(obj, "status", true, ev->status, sizeof(ev->status), err);
		if (r == 0 && !one_of(ev->status, statuses))
			r = kf_error_set(err, KF_ERR_INVALID,
					 "result: \"status\" must be ok, problem, fixed, failed or "
					 "not-applicable");
		if (r == 0)
			r = copy_field(obj, "summary", false, ev->summary, sizeof(ev->summary),
				       err);
	} else {
		r = kf_error_set(err, KF_ERR_INVALID,
				 "output line: unknown type \"%s\" (finding, progress, result)",
				 kf_escaped(type).text);
	}
out:
	json_decref(obj);
	return r;
}

const char *kf_plugin_exit_name(int code)
{
	switch (code) {
	case KF_PLUGIN_EXIT_OK:
		return "ok";
	case KF_PLUGIN_EXIT_PROBLEM:
		return "problem";
	case KF_PLUGIN_EXIT_NOT_APPLICABLE:
		return "not-applicable";
	case KF_PLUGIN_EXIT_ERROR:
		return "error";
	}
	return "unknown";
}
