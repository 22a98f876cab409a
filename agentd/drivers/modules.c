/* kefu-agentd: the running kernel's modules: aliases, files, versions. SPDX-License-Identifier: MIT */
#include "agentd/drivers/modules.h"
#include "agentd/drivers/lines.h"
#include "agentd/sysfs.h"
#include "proto/base/escape.h"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_CAP    (64u * 1024 * 1024)
#define MODULE_CAP   (128u * 1024 * 1024)
#define ALIASES_MAX  (1024u * 1024)
#define MODULES_MAX  (256u * 1024)
#define MODPROBE_CAP (1024u * 1024)

void kf_kmod_normalize(const char *name, char *out, size_t cap)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < cap; i++)
		out[i] = name[i] == '-' ? '_' : name[i];
	if (cap > 0)
		out[i] = '\0';
}

static void *push(void **items, size_t *count, size_t *cap, size_t item_size, size_t max)
{
	if (*count == max)
		return NULL;
	if (*count == *cap) {
		size_t new_cap = *cap ? *cap * 2 : 256;
		void *grown = realloc(*items, new_cap * item_size);
		if (grown == NULL)
			return NULL;
		*items = grown;
		*cap = new_cap;
	}
	return (char *)*items + (*count)++ * item_size;
}

struct load_state {
	struct kf_kmods *k;
	size_t alias_cap, file_cap, builtin_cap, blacklist_cap;
	bool is_nomem;
};

static bool alias_line(char *line, size_t len, void *data)
{
	struct load_state *s = data;
	char *save = NULL, *word = strtok_r(line, " \t", &save), *pattern, *module;
	struct kf_kmod_alias *a;

	(void)len;
	if (word == NULL || strcmp(word, "alias") != 0)
		return true;
	pattern = strtok_r(NULL, " \t", &save);
	module = strtok_r(NULL, " \t", &save);
	if (pattern == NULL || module == NULL)
		return true;
	a = push((void **)&s->k->aliases, &s->k->alias_count, &s->alias_cap, sizeof(*a),
		 ALIASES_MAX);
	if (a == NULL)
		return false;
	a->pattern = strdup(pattern);
	a->module = strdup(module);
	if (a->pattern == NULL || a->module == NULL)
		s->is_nomem = true;
	return !s->is_nomem;
}

/* The module name of a path "kernel/drivers/hid/usbhid/usbhid.ko.xz": "usbhid". */
static void name_of(const char *path, char *out, size_t cap)
{
	const char *base = strrchr(path, '/');
	char name[256];
	char *dot;

	snprintf(name, sizeof(name), "%s", base != NULL ? base + 1 : path);
	if ((dot = strstr(name, ".ko")) != NULL)
		*dot = '\0';
	kf_kmod_normalize(name, out, cap);
}

static bool dep_line(char *line, size_t len, void *data)
{
	struct load_state *s = data;
	char *colon = strchr(line, ':'), name[256], path[PATH_MAX];
	struct kf_kmod_file *f;

	(void)len;
	if (colon == NULL || colon == line)
		return true;
	*colon = '\0';
	name_of(line, name, sizeof(name));
	if (line[0] == '/')
		snprintf(path, sizeof(path), "%s", line);
	else
		snprintf(path, sizeof(path), "%s/%s", s->k->dir, line);
	f = push((void **)&s->k->files, &s->k->file_count, &s->file_cap, sizeof(*f), MODULES_MAX);
	if (f == NULL)
		return false;
	f->name = strdup(name);
	f->path = strdup(path);
	if (f->name == NULL || f->path == NULL)
		s->is_nomem = true;
	return !s->is_nomem;
}

static bool builtin_line(char *line, size_t len, void *data)
{
	struct load_state *s = data;
	char name[256], **slot;

	if (len == 0)
		return true;
	name_of(line, name, sizeof(name));
	slot = push((void **)&s->k->builtin, &s->k->builtin_count, &s->builtin_cap, sizeof(*slot),
		    MODULES_MAX);
	if (slot == NULL || (*slot = strdup(name)) == NULL) {
		s->is_nomem = slot != NULL;
		if (slot != NULL)
			s->k->builtin_count--;
		return false;
	}
	return true;
}

static bool modprobe_line(char *line, size_t len, void *data)
{
	struct load_state *s = data;
	char *save = NULL, *word = strtok_r(line, " \t", &save), *module, name[256], **slot;

	(void)len;
	if (word == NULL || strcmp(word, "blacklist") != 0 ||
	    (module = strtok_r(NULL, " \t", &save)) == NULL)
		return true;
	kf_kmod_normalize(module, name, sizeof(name));
	slot = push((void **)&s->k->blacklist, &s->k->blacklist_count, &s->blacklist_cap,
		    sizeof(*slot), MODULES_MAX);
	if (slot == NULL || (*slot = strdup(name)) == NULL) {
		if (slot != NULL)
			s->k->blacklist_count--;
		return false;
	}
	return true;
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct kf_kmod_file *)a)->name,
		      ((const struct kf_kmod_file *)b)->name);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one index; absent is fine (KF_OK), other failures are the caller's. */
static int read_index(struct load_state *s, const char *root, const char *name, kf_line_fn fn,
		      struct kf_error *err)
{
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", s->k->dir, name);
	r = kf_lines_read(root, path, INDEX_CAP, fn, s, NULL, err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_error_clear(err);
		return KF_OK;
	}
	if (r == KF_OK && s->is_nomem)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory reading %s", path);
	return r;
}

int kf_kmods_load(struct kf_kmods *k, const char *root, struct kf_error *err)
{
	static const char *const modprobe_dirs[] = {"/etc/modprobe.d", "/lib/modprobe.d",
						    "/usr/lib/modprobe.d", "/run/modprobe.d"};
	struct load_state s = {.k = k};
	int r;

	*k = (struct kf_kmods){0};
	if (kf_sysfs_read_attr(root, "/proc/sys/kernel/osrelease", k->release,
			       sizeof(k->release)) != KF_OK ||
	    k->release[0] == '\0' || strchr(k->release, '/') != NULL ||
	    strstr(k->release, "..") != NULL) {
		k->release[0] = '\0';
		return KF_OK;
	}
	snprintf(k->dir, sizeof(k->dir), "/lib/modules/%s", k->release);
	if (!kf_sysfs_exists(root, k->dir))
		snprintf(k->dir, sizeof(k->dir), "/usr/lib/modules/%s", k->release);
	if (!kf_sysfs_exists(root, k->dir)) {
		k->dir[0] = '\0';
		return KF_OK;
	}
	if ((r = read_index(&s, root, "modules.alias", alias_line, err)) != KF_OK ||
	    (r = read_index(&s, root, "modules.dep", dep_line, err)) != KF_OK ||
	    (r = read_index(&s, root, "modules.builtin", builtin_line, err)) != KF_OK)
		return r;
	for (size_t i = 0; i < sizeof(modprobe_dirs) / sizeof(modprobe_dirs[0]); i++) {
		char **names = NULL;
		size_t count = 0;

		if (kf_lines_list_dir(root, modprobe_dirs[i], ".conf", false, &names, &count,
				      err) != KF_OK)
			return err->code;
		for (size_t j = 0; j < count; j++) {
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/%s", modprobe_dirs[i], names[j]);
			kf_lines_read(root, path, MODPROBE_CAP, modprobe_line, &s, NULL, NULL);
		}
		kf_lines_list_free(names, count);
	}
	if (k->file_count > 1)
		qsort(k->files, k->file_count, sizeof(*k->files), compare_files);
	if (k->builtin_count > 1)
		qsort(k->builtin, k->builtin_count, sizeof(*k->builtin), compare_strings);
	if (k->blacklist_count > 1)
		qsort(k->blacklist, k->blacklist_count, sizeof(*k->blacklist), compare_strings);
	return KF_OK;
}

void kf_kmods_free(struct kf_kmods *k)
{
	for (size_t i = 0; i < k->alias_count; i++) {
		free(k->aliases[i].pattern);
		free(k->aliases[i].module);
	}
	for (size_t i = 0; i < k->file_count; i++) {
		free(k->files[i].name);
		free(k->files[i].path);
	}
	for (size_t i = 0; i < k->builtin_count; i++)
		free(k->builtin[i]);
	for (size_t i = 0; i < k->blacklist_count; i++)
		free(k->blacklist[i]);
	free(k->aliases);
	free(k->files);
	free(k->builtin);
	free(k->blacklist);
	*k = (struct kf_kmods){0};
}

const char *kf_kmods_file(const struct kf_kmods *k, const char *module)
{
	char name[256];
	struct kf_kmod_file key = {.name = name}, *found;

	kf_kmod_normalize(module, name, sizeof(name));
	if (k->file_count == 0)
		return NULL;
	found = bsearch(&key, k->files, k->file_count, sizeof(*k->files), compare_files);
	return found != NULL ? found->path : NULL;
}

static bool in_sorted(char *const *items, size_t count, const char *module)
{
	char name[256], *key = name;

	kf_kmod_normalize(module, name, sizeof(name));
	return count > 0 && bsearch(&key, items, count, sizeof(*items), compare_strings) != NULL;
}

bool kf_kmods_is_builtin(const struct kf_kmods *k, const char *module)
{
	return in_sorted(k->builtin, k->builtin_count, module);
}

bool kf_kmods_is_blacklisted(const struct kf_kmods *k, const char *module)
{
	return in_sorted(k->blacklist, k->blacklist_count, module);
}

void kf_kmods_match(const struct kf_kmods *k, const char *modalias,
		    void (*fn)(const struct kf_kmod_alias *alias, void *data), void *data)
{
	for (size_t i = 0; i < k->alias_count; i++)
		if (fnmatch(k->aliases[i].pattern, modalias, 0) == 0)
			fn(&k->aliases[i], data);
}

/* Copies the value of key= from the NUL-separated strings of a .modinfo section. */
static void modinfo_value(const unsigned char *section, size_t len, const char *key, char *out,
			  size_t cap)
{
	size_t key_len = strlen(key);

	out[0] = '\0';
	for (size_t i = 0; i < len;) {
		const unsigned char *end = memchr(section + i, '\0', len - i);
		size_t n = end != NULL ? (size_t)(end - (section + i)) : len - i;

		if (n > key_len && memcmp(section + i, key, key_len) == 0 &&
		    section[i + key_len] == '=') {
			size_t value_len = n - key_len - 1;
			if (value_len >= cap)
				value_len = cap - 1;
			memcpy(out, section + i + key_len + 1, value_len);
			out[value_len] = '\0';
			kf_text_sanitize(out, value_len);
			return;
		}
		i += n + 1;
	}
}

int kf_kmod_modinfo_parse(const unsigned char *data, size_t len, char *version, size_t version_cap,
			  char *srcversion, size_t srcversion_cap, struct kf_error *err)
{
	Elf64_Ehdr header;
	Elf64_Shdr strtab;

	version[0] = srcversion[0] = '\0';
	if (len < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0 ||
	    data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB)
		return kf_error_set(err, KF_ERR_INVALID,
				    "the module is not a 64-bit little-endian ELF object");
	memcpy(&header, data, sizeof(header));
	if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shoff > len ||
	    header.e_shnum > (len - header.e_shoff) / sizeof(Elf64_Shdr) ||
	    header.e_shstrndx >= header.e_shnum)
		return kf_error_set(err, KF_ERR_INVALID, "the module's section table is corrupt");
	/* Copied out of the buffer: a section table need not be aligned in it. */
	memcpy(&strtab, data + header.e_shoff + header.e_shstrndx * sizeof(Elf64_Shdr),
	       sizeof(strtab));
	if (strtab.sh_offset > len || strtab.sh_size > len - strtab.sh_offset)
		return kf_error_set(err, KF_ERR_INVALID, "the module's section names are corrupt");
	for (size_t i = 0; i < header.e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, data + header.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= strtab.sh_size)
			continue;
		const char *name = (const char *)data + strtab.sh_offset + sh.sh_name;
		size_t room = strtab.sh_size - sh.sh_name;
		if (room < 9 || memcmp(name, ".modinfo", 9) != 0)
			continue;
		if (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			return kf_error_set(err, KF_ERR_INVALID,
					    "the module's .modinfo section is out of bounds");
		modinfo_value(data + sh.sh_offset, sh.sh_size, "version", version, version_cap);
		modinfo_value(data + sh.sh_offset, sh.sh_size, "srcversion", srcversion,
			      srcversion_cap);
		return KF_OK;
	}
	return KF_OK;
}

/* Reads root+path whole, decompressing (.ko.xz, .ko.zst, .ko.gz) when it is compressed. */
static int read_module(const char *root, const char *path, unsigned char **out, size_t *len,
		       struct kf_error *err)
{
	char full[PATH_MAX];
	struct archive *a;
	struct archive_entry *entry;
	unsigned char *buf = NULL;
	size_t used = 0, cap = 0;
	struct stat st;
	int fd, r = KF_OK;

	if (kf_sysfs_path(root, path, full, sizeof(full)) != KF_OK)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "path too long");
	fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot read %s", kf_escaped(path).text);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "%s is not a regular file",
				    kf_escaped(path).text);
	}
	a = archive_read_new();
	if (a == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK) {
		r = kf_error_set(err, KF_ERR_INVALID, "cannot read %s", kf_escaped(path).text);
		goto out;
	}
	for (;;) {
		la_ssize_t n;

		if (used == cap) {
			size_t new_cap = cap ? cap * 2 : 1024 * 1024;
			unsigned char *grown;
			if (cap >= MODULE_CAP) {
				r = kf_error_set(err, KF_ERR_TOO_LARGE, "%s is too large",
						 kf_escaped(path).text);
				goto out;
			}
			if ((grown = realloc(buf, new_cap)) == NULL) {
				r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
				goto out;
			}
			buf = grown;
			cap = new_cap;
		}
		n = archive_read_data(a, buf + used, cap - used);
		if (n < 0) {
			r = kf_error_set(err, KF_ERR_INVALID, "%s is corrupt",
					 kf_escaped(path).text);
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*out = buf;
	*len = used;
	buf = NULL;
out:
	free(buf);
	archive_read_free(a);
	close(fd);
	return r;
}

int kf_kmod_modinfo(const char *root, const char *path, char *version, size_t version_cap,
		    char *srcversion, size_t srcversion_cap, struct kf_error *err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int r;

	version[0] = srcversion[0] = '\0';
	if ((r = read_module(root, path, &data, &len, err)) != KF_OK)
		return r;
	r = kf_kmod_modinfo_parse(data, len, version, version_cap, srcversion, srcversion_cap, err);
	free(data);
	return r;
}
