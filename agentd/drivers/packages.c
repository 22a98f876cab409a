/* kefu-agentd: what dpkg has installed and what apt's lists offer. SPDX-License-Identifier: MIT */
#include "agentd/drivers/packages.h"
#include "agentd/drivers/dpkg-version.h"
#include "agentd/drivers/lines.h"
#include "proto/base/escape.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_CAP   (256u * 1024 * 1024)
#define PACKAGES_CAP (512u * 1024 * 1024)
#define LIST_CAP     (64u * 1024 * 1024)
#define CONTENTS_CAP (4096ull * 1024 * 1024)

#if defined(__x86_64__)
#define NATIVE_ARCH "amd64"
#elif defined(__aarch64__)
#define NATIVE_ARCH "arm64"
#elif defined(__i386__)
#define NATIVE_ARCH "i386"
#else
#define NATIVE_ARCH NULL
#endif

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct kf_pkg *slot_of(const struct kf_pkg_index *index, const char *name)
{
	size_t mask = index->slot_count - 1, i = (size_t)hash_name(name) & mask;

	while (index->slots[i].name != NULL && strcmp(index->slots[i].name, name) != 0)
		i = (i + 1) & mask;
	return &index->slots[i];
}

static int grow(struct kf_pkg_index *index)
{
	struct kf_pkg *old = index->slots;
	size_t old_count = index->slot_count, new_count = old_count ? old_count * 2 : 4096;

	index->slots = calloc(new_count, sizeof(*index->slots));
	if (index->slots == NULL) {
		index->slots = old;
		return KF_ERR_NOMEM;
	}
	index->slot_count = new_count;
	for (size_t i = 0; i < old_count; i++)
		if (old[i].name != NULL)
			*slot_of(index, old[i].name) = old[i];
	free(old);
	return KF_OK;
}

const struct kf_pkg *kf_pkg_index_find(const struct kf_pkg_index *index, const char *name)
{
	const struct kf_pkg *pkg;

	if (index->slot_count == 0)
		return NULL;
	pkg = slot_of(index, name);
	return pkg->name != NULL ? pkg : NULL;
}

void kf_pkg_index_each(const struct kf_pkg_index *index,
		       void (*fn)(const struct kf_pkg *pkg, void *data), void *data)
{
	for (size_t i = 0; i < index->slot_count; i++)
		if (index->slots[i].name != NULL)
			fn(&index->slots[i], data);
}

bool kf_pkg_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len < 2 || len > 128 ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

/* One control stanza being read: the fields kefu uses. */
struct stanza {
	char *package, *version, *arch, *status, *modaliases, *summary;
	char **current; /* the field a continuation line belongs to, or NULL */
};

struct load_state {
	struct kf_pkg_index *index;
	struct stanza st;
	bool is_status;
	int error;
};

static void stanza_clear(struct stanza *st)
{
	free(st->package);
	free(st->version);
	free(st->arch);
	free(st->status);
	free(st->modaliases);
	free(st->summary);
	*st = (struct stanza){0};
}

static void set_field(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
}

static int replace(char **field, const char *value)
{
	char *copy = value != NULL ? strdup(value) : NULL;

	if (value != NULL && copy == NULL)
		return KF_ERR_NOMEM;
	free(*field);
	*field = copy;
	return KF_OK;
}

/* Adds the finished stanza to the index. */
static void stanza_end(struct load_state *s)
{
	struct stanza *st = &s->st;
	struct kf_pkg *pkg;

	if (st->package == NULL && st->version == NULL)
		goto out;
	if (st->package == NULL || !kf_pkg_name_is_valid(st->package) || st->version == NULL ||
	    !kf_dpkg_version_is_valid(st->version)) {
		s->index->stanzas_invalid++;
		goto out;
	}
	if (s->is_status && (st->status == NULL || strlen(st->status) < 10 ||
			     strcmp(st->status + strlen(st->status) - 10, " installed") != 0))
		goto out;
	if (!s->is_status && st->arch != NULL && NATIVE_ARCH != NULL &&
	    strcmp(st->arch, "all") != 0 && strcmp(st->arch, NATIVE_ARCH) != 0)
		goto out;
	if (s->index->count + 1 > s->index->slot_count / 2) {
		if (s->index->count >= KF_PKG_MAX || grow(s->index) != KF_OK) {
			s->error = s->index->count >= KF_PKG_MAX ? KF_ERR_TOO_LARGE : KF_ERR_NOMEM;
			goto out;
		}
	}
	pkg = slot_of(s->index, st->package);
	if (pkg->name == NULL) {
		pkg->name = st->package;
		st->package = NULL;
		s->index->count++;
	}
	if (s->is_status) {
		if (replace(&pkg->installed, st->version) != KF_OK)
			s->error = KF_ERR_NOMEM;
		if (pkg->candidate == NULL) {
			replace(&pkg->modaliases, st->modaliases);
			replace(&pkg->summary, st->summary);
		}
	} else if (pkg->candidate == NULL ||
		   kf_dpkg_version_compare(st->version, pkg->candidate) > 0) {
		if (replace(&pkg->candidate, st->version) != KF_OK ||
		    replace(&pkg->modaliases, st->modaliases) != KF_OK ||
		    replace(&pkg->summary, st->summary) != KF_OK)
			s->error = KF_ERR_NOMEM;
	}
out:
	stanza_clear(st);
}

static bool field_is(const char *line, const char *name, const char **value)
{
	size_t len = strlen(name);

	if (strncasecmp(line, name, len) != 0 || line[len] != ':')
		return false;
	*value = line + len + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return true;
}

static bool control_line(char *line, size_t len, void *data)
{
	struct load_state *s = data;
	struct stanza *st = &s->st;
	const char *value;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	if (len == 0) {
		stanza_end(s);
		return s->error == KF_OK;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		/* Only Modaliases is kept across continuation lines; the rest is not needed. */
		if (st->current == &st->modaliases && st->modaliases != NULL &&
		    strlen(st->modaliases) + len < KF_LINES_LINE_MAX) {
			size_t old = strlen(st->modaliases);
			char *grown = realloc(st->modaliases, old + len + 2);
			if (grown != NULL) {
				grown[old] = ' ';
				memcpy(grown + old + 1, line, len + 1);
				st->modaliases = grown;
			}
		}
		return true;
	}
	st->current = NULL;
	if (field_is(line, "Package", &value))
		set_field(&st->package, value);
	else if (field_is(line, "Version", &value))
		set_field(&st->version, value);
	else if (field_is(line, "Architecture", &value))
		set_field(&st->arch, value);
	else if (field_is(line, "Status", &value))
		set_field(&st->status, value);
	else if (field_is(line, "Modaliases", &value)) {
		set_field(&st->modaliases, value);
		st->current = &st->modaliases;
	} else if (field_is(line, "Description", &value))
		set_field(&st->summary, value);
	return true;
}

static int read_control(struct kf_pkg_index *index, const char *root, const char *path, size_t cap,
			bool is_status, struct kf_error *err)
{
	struct load_state s = {.index = index, .is_status = is_status};
	struct kf_lines_stats stats;
	int r = kf_lines_read(root, path, cap, control_line, &s, &stats, err);

	stanza_end(&s);
	if (r == KF_OK && s.error != KF_OK)
		r = kf_error_set(err, s.error,
				 s.error == KF_ERR_TOO_LARGE ? "%s: more than %d packages"
							     : "%s: out of memory",
				 kf_escaped(path).text, KF_PKG_MAX);
	if (r == KF_OK && stats.is_truncated) {
		char note[512];
		snprintf(note, sizeof(note), "%s is larger than %zu bytes; the rest was not read",
			 path, cap);
		json_array_append_new(index->notes, json_string(note));
	}
	return r;
}

int kf_pkg_index_load(struct kf_pkg_index *index, const char *root, struct kf_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int r;

	*index = (struct kf_pkg_index){.notes = json_array()};
	if (index->notes == NULL || grow(index) != KF_OK)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	r = read_control(index, root, "/var/lib/dpkg/status", STATUS_CAP, true, err);
	if (r == KF_OK)
		index->has_status = true;
	else if (r == KF_ERR_NOT_FOUND)
		kf_error_clear(err);
	else
		return r;
	r = kf_lines_list_dir(root, "/var/lib/apt/lists", "_Packages", true, &names, &count, err);
	for (size_t i = 0; r == KF_OK && i < count; i++) {
		char path[PATH_MAX];
		const char *tail = strstr(names[i], "_Packages") + strlen("_Packages");

		/* Plain or compressed indexes; not apt's .diff folders or partial files. */
		if (*tail != '\0' && strcmp(tail, ".gz") != 0 && strcmp(tail, ".xz") != 0 &&
		    strcmp(tail, ".lz4") != 0 && strcmp(tail, ".zst") != 0)
			continue;
		snprintf(path, sizeof(path), "/var/lib/apt/lists/%s", names[i]);
		r = read_control(index, root, path, PACKAGES_CAP, false, err);
		if (r == KF_OK)
			index->lists_read++;
		else if (r == KF_ERR_INVALID || r == KF_ERR_UNSUPPORTED) {
			char note[PATH_MAX + 64];
			snprintf(note, sizeof(note), "%s", err->message);
			json_array_append_new(index->notes, json_string(note));
			kf_error_clear(err);
			r = KF_OK;
		}
	}
	kf_lines_list_free(names, count);
	return r;
}

void kf_pkg_index_free(struct kf_pkg_index *index)
{
	for (size_t i = 0; i < index->slot_count; i++) {
		struct kf_pkg *p = &index->slots[i];
		free(p->name);
		free(p->installed);
		free(p->candidate);
		free(p->modaliases);
		free(p->summary);
	}
	free(index->slots);
	json_decref(index->notes);
	*index = (struct kf_pkg_index){0};
}

size_t kf_pkg_modaliases_each(const char *field,
			      bool (*fn)(const char *module, const char *pattern, void *data),
			      void *data)
{
	const char *p = field;
	size_t pairs = 0;

	while (p != NULL && *p != '\0') {
		const char *open, *close;
		char module[128];
		size_t module_len;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		open = strchr(p, '(');
		if (open == NULL)
			break;
		close = strchr(open, ')');
		if (close == NULL)
			break;
		module_len = (size_t)(open - p);
		while (module_len > 0 && p[module_len - 1] == ' ')
			module_len--;
		if (module_len == 0 || module_len >= sizeof(module) || memchr(p, ',', module_len)) {
			p = close + 1;
			continue;
		}
		memcpy(module, p, module_len);
		module[module_len] = '\0';
		for (const char *a = open + 1; a < close;) {
			const char *end = memchr(a, ',', (size_t)(close - a));
			char pattern[512];
			size_t len;

			if (end == NULL)
				end = close;
			while (a < end && *a == ' ')
				a++;
			len = (size_t)(end - a);
			while (len > 0 && a[len - 1] == ' ')
				len--;
			if (len > 0 && len < sizeof(pattern)) {
				memcpy(pattern, a, len);
				pattern[len] = '\0';
				pairs++;
				if (!fn(module, pattern, data))
					return pairs;
			}
			a = end + 1;
		}
		p = close + 1;
	}
	return pairs;
}

/* "/usr/lib/x" and "/lib/x" are one file on a merged-/usr system: compare without /usr. */
static const char *canonical(const char *path)
{
	static const char *const merged[] = {"/usr/lib/", "/usr/bin/", "/usr/sbin/"};

	for (size_t i = 0; i < 3; i++)
		if (strncmp(path, merged[i], strlen(merged[i])) == 0)
			return path + 4;
	return path;
}

struct owner_state {
	const char *const *paths;
	size_t count;
	char **owners;
	const char *package;
	size_t found;
};

static bool owner_line(char *line, size_t len, void *data)
{
	struct owner_state *s = data;
	const char *path = canonical(line);

	(void)len;
	for (size_t i = 0; i < s->count; i++)
		if (s->owners[i] == NULL && strcmp(canonical(s->paths[i]), path) == 0) {
			s->owners[i] = strdup(s->package);
			s->found++;
		}
	return s->found < s->count;
}

int kf_pkg_owners(const char *root, const char *const *paths, size_t count, char **owners,
		  struct kf_error *err)
{
	struct owner_state s = {paths, count, owners, NULL, 0};
	char **names = NULL;
	size_t name_count = 0;
	int r;

	for (size_t i = 0; i < count; i++)
		owners[i] = NULL;
	if (count == 0)
		return KF_OK;
	r = kf_lines_list_dir(root, "/var/lib/dpkg/info", ".list", false, &names, &name_count, err);
	for (size_t i = 0; r == KF_OK && i < name_count && s.found < count; i++) {
		char path[PATH_MAX], package[256];
		char *colon;

		snprintf(package, sizeof(package), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
		/* "libfoo:amd64.list" belongs to libfoo. */
		if ((colon = strchr(package, ':')) != NULL)
			*colon = '\0';
		if (!kf_pkg_name_is_valid(package))
			continue;
		s.package = package;
		snprintf(path, sizeof(path), "/var/lib/dpkg/info/%s", names[i]);
		r = kf_lines_read(root, path, LIST_CAP, owner_line, &s, NULL, err);
		if (r == KF_ERR_UNSUPPORTED || r == KF_ERR_INVALID || r == KF_ERR_NOT_FOUND) {
			kf_error_clear(err);
			r = KF_OK;
		}
	}
	kf_lines_list_free(names, name_count);
	return r;
}

static bool file_line(char *line, size_t len, void *data)
{
	if (len > 0 && line[0] == '/')
		json_array_append_new(data, json_string(line));
	return true;
}

int kf_pkg_files(const char *root, const char *package, json_t **files, struct kf_error *err)
{
	char path[PATH_MAX];
	int r;

	*files = json_array();
	if (!kf_pkg_name_is_valid(package))
		return kf_error_set(err, KF_ERR_INVALID, "%s is not a package name",
				    kf_escaped(package).text);
	snprintf(path, sizeof(path), "/var/lib/dpkg/info/%s.list", package);
	r = kf_lines_read(root, path, LIST_CAP, file_line, *files, NULL, err);
	if (r == KF_ERR_NOT_FOUND) {
		char arch_path[PATH_MAX];
		snprintf(arch_path, sizeof(arch_path), "/var/lib/dpkg/info/%s:%s.list", package,
			 NATIVE_ARCH != NULL ? NATIVE_ARCH : "all");
		kf_error_clear(err);
		r = kf_lines_read(root, arch_path, LIST_CAP, file_line, *files, NULL, err);
	}
	if (r == KF_ERR_NOT_FOUND) {
		kf_error_clear(err);
		r = KF_OK;
	}
	return r;
}

struct contents_state {
	const char *const *paths;
	size_t count;
	json_t **found;
};

/* "lib/firmware/x.bin    non-free-firmware/kernel/firmware-misc-nonfree,section/other" */
static bool contents_line(char *line, size_t len, void *data)
{
	struct contents_state *s = data;
	char *space, *where, *save = NULL;
	(void)len;
	if (strncmp(line, "lib/firmware/", 13) != 0 && strncmp(line, "usr/lib/firmware/", 17) != 0)
		return true;
	space = strpbrk(line, " \t");
	if (space == NULL)
		return true;
	*space = '\0';
	where = space + 1;
	while (*where == ' ' || *where == '\t')
		where++;
	for (size_t i = 0; i < s->count; i++) {
		const char *want = canonical(s->paths[i]);

		if (want[0] != '/' || strcmp(want + 1, line[0] == 'u' ? line + 4 : line) != 0)
			continue;
		for (char *item = strtok_r(where, ",", &save); item != NULL;
		     item = strtok_r(NULL, ",", &save)) {
			const char *slash = strrchr(item, '/');
			const char *name = slash != NULL ? slash + 1 : item;
			size_t j;
			json_t *v;
			bool seen = false;

			if (!kf_pkg_name_is_valid(name))
				continue;
			json_array_foreach(s->found[i], j, v) if (strcmp(json_string_value(v),
									 name) == 0) seen = true;
			if (!seen)
				json_array_append_new(s->found[i], json_string(name));
		}
		break;
	}
	return true;
}

int kf_pkg_contents_find(const char *root, const char *const *paths, size_t count, json_t **found,
			 size_t *indexes_read, struct kf_error *err)
{
	struct contents_state s = {paths, count, found};
	char **names = NULL;
	size_t name_count = 0;
	int r;

	*indexes_read = 0;
	for (size_t i = 0; i < count; i++)
		found[i] = json_array();
	if (count == 0)
		return KF_OK;
	r = kf_lines_list_dir(root, "/var/lib/apt/lists", "Contents-", true, &names, &name_count,
			      err);
	for (size_t i = 0; r == KF_OK && i < name_count; i++) {
		char path[PATH_MAX];

		if (strstr(names[i], ".diff") != NULL)
			continue;
		snprintf(path, sizeof(path), "/var/lib/apt/lists/%s", names[i]);
		r = kf_lines_read(root, path, (size_t)CONTENTS_CAP, contents_line, &s, NULL, err);
		if (r == KF_OK)
			(*indexes_read)++;
		else if (r == KF_ERR_UNSUPPORTED || r == KF_ERR_INVALID) {
			kf_error_clear(err);
			r = KF_OK;
		}
	}
	kf_lines_list_free(names, name_count);
	return r;
}
