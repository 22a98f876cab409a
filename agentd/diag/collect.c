/* kefu-agentd: running the collectors and what they share. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/diag/driver-status.h"
#include "agentd/sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void kf_collect_note(const struct kf_collect_ctx *ctx, const char *format, ...)
{
	char line[512];
	va_list args;
	size_t count = ctx->notes != NULL ? json_array_size(ctx->notes) : 0;
	unsigned long left_out = 0;

	if (ctx->notes == NULL)
		return;
	/* A hostile tree can have a note for every file: the report stays readable. */
	if (count > KF_NOTES_MAX) {
		sscanf(json_string_value(json_array_get(ctx->notes, count - 1)), "%lu", &left_out);
		snprintf(line, sizeof(line), "%lu more notes like these were left out",
			 left_out + 1);
		json_array_set_new(ctx->notes, count - 1, json_string(line));
		return;
	}
	if (count == KF_NOTES_MAX) {
		kf_json_append_str(ctx->notes, "1 more notes like these were left out");
		return;
	}
	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	kf_json_append_str(ctx->notes, line);
}

static void note_changes(const struct kf_collect_ctx *ctx, const char *path, size_t cap,
			 unsigned changes)
{
	if (changes & KF_SYSFS_CUT)
		kf_collect_note(ctx, "%s is longer than %zu bytes; the value was cut", path,
				cap - 1);
	if (changes & KF_SYSFS_REPLACED)
		kf_collect_note(ctx, "%s is not UTF-8 text; bytes were replaced by '?'", path);
}

int kf_collect_read_attr(const struct kf_collect_ctx *ctx, const char *path, char *out, size_t cap)
{
	unsigned changes = 0;
	int r = kf_sysfs_read_attr_checked(ctx->root, path, out, cap, &changes);

	note_changes(ctx, path, cap, changes);
	return r;
}

int kf_collect_attr(const struct kf_collect_ctx *ctx, const char *dir, const char *name, char *out,
		    size_t cap)
{
	char path[PATH_MAX];
	unsigned changes = 0;
	int r = kf_sysfs_attr_checked(ctx->root, dir, name, out, cap, &changes);

	if (changes != 0) {
		snprintf(path, sizeof(path), "%.3000s/%.200s", dir, name);
		note_changes(ctx, path, cap, changes);
	}
	return r;
}

int kf_collect_driver(const struct kf_collect_ctx *ctx, const char *dir, char *out, size_t cap)
{
	int r = kf_sysfs_link_name(ctx->root, dir, "driver", out, cap);

	if (r == KF_ERR_INVALID)
		kf_collect_note(ctx,
				"%s/driver is a link that loops or names no driver; driver "
				"unknown",
				dir);
	if (r != KF_OK)
		out[0] = '\0';
	return r;
}

int kf_collect_keep_raw(struct kf_collect_ctx *ctx, const char *name, const void *data, size_t len,
			bool is_truncated)
{
	struct kf_raw_file *grown, *file;

	grown = realloc(ctx->raw, (ctx->raw_count + 1) * sizeof(*grown));
	if (grown == NULL)
		return KF_ERR_NOMEM;
	ctx->raw = grown;
	file = &ctx->raw[ctx->raw_count];
	memset(file, 0, sizeof(*file));
	file->name = strdup(name);
	if (file->name == NULL || kf_buf_append(&file->data, data, len) != KF_OK) {
		free(file->name);
		kf_buf_free(&file->data);
		return KF_ERR_NOMEM;
	}
	file->is_truncated = is_truncated;
	ctx->raw_count++;
	return KF_OK;
}

int kf_collect_read(struct kf_collect_ctx *ctx, const char *path, size_t cap, const char *raw_name,
		    struct kf_buf *out, struct kf_error *err)
{
	bool is_truncated = false;
	size_t start = out->len;
	int r;

	r = kf_sysfs_read_file(ctx->root, path, cap, out, &is_truncated, err);
	if (r != KF_OK)
		return r;
	if (is_truncated)
		kf_collect_note(ctx, "%s is larger than %zu bytes; only the first %zu were read",
				path, cap, cap);
	if (out->len > start) {
		/* Collectors make the text printable themselves; the report says it was not. */
		char *copy = malloc(out->len - start);
		size_t replaced;
		if (copy != NULL) {
			memcpy(copy, out->data + start, out->len - start);
			replaced = kf_text_sanitize_count(copy, out->len - start);
			if (replaced > 0)
				kf_collect_note(
					ctx, "%s is not UTF-8 text; %zu bytes were replaced by '?'",
					path, replaced);
			free(copy);
		}
	}
	if (raw_name != NULL)
		kf_collect_keep_raw(ctx, raw_name, out->data + start, out->len - start,
				    is_truncated);
	return KF_OK;
}

void kf_collect_ctx_release(struct kf_collect_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->raw_count; i++) {
		free(ctx->raw[i].name);
		kf_buf_free(&ctx->raw[i].data);
	}
	free(ctx->raw);
	ctx->raw = NULL;
	ctx->raw_count = 0;
}

void kf_collect_device_of(const char *sysfs_path, char *out, size_t cap)
{
	const char *p = sysfs_path, *best = NULL, *best_bus = NULL;
	size_t best_len = 0;

	out[0] = '\0';
	/* The deepest matching component is the device itself. */
	while (*p != '\0') {
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (kf_device_name_is_pci(p, len)) {
			best = p;
			best_len = len;
			best_bus = "pci";
		} else if (kf_device_name_usb(p, len) == KF_USB_NAME_DEVICE) {
			best = p;
			best_len = len;
			best_bus = "usb";
		}
		p += len;
	}
	if (best != NULL)
		snprintf(out, cap, "%s:%.*s", best_bus, (int)best_len, best);
}

json_t *kf_collect_module_of(const struct kf_collect_ctx *ctx, const char *bus, const char *driver)
{
	char dir[PATH_MAX], name[128], mod_dir[PATH_MAX], value[KF_ATTR_SIZE];
	json_t *module;

	if (driver == NULL || driver[0] == '\0')
		return json_null();
	snprintf(dir, sizeof(dir), "/sys/bus/%s/drivers/%s", bus, driver);
	if (kf_sysfs_link_name(ctx->root, dir, "module", name, sizeof(name)) != KF_OK)
		return json_null();
	module = json_object();
	kf_json_set_str(module, "name", name);
	snprintf(mod_dir, sizeof(mod_dir), "/sys/module/%s", name);
	kf_collect_attr(ctx, mod_dir, "version", value, sizeof(value));
	kf_json_set_str(module, "version", value);
	kf_collect_attr(ctx, mod_dir, "srcversion", value, sizeof(value));
	kf_json_set_str(module, "srcversion", value);
	return module;
}

struct collector {
	const char *name;
	kf_collector_fn run;
};

/* The kernel log runs first so that device collectors and the rules can use its events. */
static const struct collector collectors[] = {
	{"system", kf_collect_system},     {"cpu", kf_collect_cpu},
	{"memory", kf_collect_memory},     {"kernel-log", kf_collect_kernel_log},
	{"modules", kf_collect_modules},   {"pci", kf_collect_pci},
	{"usb", kf_collect_usb},           {"input", kf_collect_input},
	{"storage", kf_collect_storage},   {"network", kf_collect_network},
	{"printers", kf_collect_printers}, {"power", kf_collect_power},
	{"firmware", kf_collect_firmware}, {"names", kf_collect_names},
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void kf_collect_all(struct kf_collect_ctx *ctx)
{
	size_t i;

	for (i = 0; i < sizeof(collectors) / sizeof(collectors[0]); i++) {
		struct kf_error err = {0};
		json_t *entry = json_object();
		double start = now_ms();
		int r;

		ctx->notes = json_array();
		r = collectors[i].run(ctx, &err);
		kf_json_set_str(entry, "name", collectors[i].name);
		json_object_set_new(entry, "ok", json_boolean(r == KF_OK));
		kf_json_set_str(entry, "error",
				r == KF_OK ? NULL
					   : (err.message[0] ? err.message : kf_err_name(r)));
		json_object_set_new(entry, "duration_ms", json_real(now_ms() - start));
		json_object_set_new(entry, "notes", ctx->notes);
		json_array_append_new(ctx->report->collectors, entry);
		ctx->notes = NULL;
	}
	kf_driver_status_apply(ctx->report, &ctx->events);
}

struct uevent_pairs {
	json_t *pairs;
	size_t seen;
};

static void uevent_pair(const char *key, const char *value, void *data)
{
	struct uevent_pairs *u = data;

	if (u->seen++ < KF_UEVENT_PAIRS)
		kf_json_set_str(u->pairs, key, value);
}

json_t *kf_collect_uevent(const struct kf_collect_ctx *ctx, const char *dir)
{
	char path[PATH_MAX];
	struct kf_buf buf = {0};
	struct uevent_pairs u = {json_object(), 0};
	bool is_truncated = false;

	snprintf(path, sizeof(path), "%s/uevent", dir);
	if (kf_sysfs_read_file(ctx->root, path, KF_UEVENT_CAP, &buf, &is_truncated, NULL) ==
	    KF_OK) {
		if (is_truncated)
			kf_collect_note(ctx,
					"%s is larger than %d bytes; only the first %d were read",
					path, KF_UEVENT_CAP, KF_UEVENT_CAP);
		if (buf.len > 0 && kf_text_sanitize_count((char *)buf.data, buf.len) > 0)
			kf_collect_note(ctx, "%s is not UTF-8 text; bytes were replaced by '?'",
					path);
		kf_uevent_parse((const char *)buf.data, buf.len, uevent_pair, &u);
		if (u.seen > KF_UEVENT_PAIRS)
			kf_collect_note(ctx, "%s has %zu entries; only the first %d were read",
					path, u.seen, KF_UEVENT_PAIRS);
	}
	kf_buf_free(&buf);
	return u.pairs;
}

void kf_collect_firmware_version(const struct kf_collect_ctx *ctx, const char *dir, char *out,
				 size_t cap)
{
	static const char *const names[] = {"firmware_version", "fw_version", "firmware_rev",
					    "fw_rev", "firmware_revision"};
	size_t i;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (kf_collect_attr(ctx, dir, names[i], out, cap) == KF_OK && out[0] != '\0')
			return;
	}
	out[0] = '\0';
}

void kf_collect_device_add(struct kf_collect_ctx *ctx, json_t *device, json_t *uevent,
			   const char *bus_dir, const char *name, const char *dir)
{
	char value[KF_ATTR_SIZE], path[PATH_MAX];

	kf_collect_firmware_version(ctx, dir, value, sizeof(value));
	kf_json_set_str(device, "firmware_version", value);
	if (kf_sysfs_link_path(ctx->root, bus_dir, name, path, sizeof(path)) != KF_OK)
		snprintf(path, sizeof(path), "%s", dir);
	kf_json_set_str(device, "sysfs_path", path);
	kf_json_set_str(device, "status", "detected");
	json_object_set_new(device, "evidence", json_array());
	json_decref(uevent);
	kf_report_add_device(ctx->report, device);
}

int kf_collect_bus(struct kf_collect_ctx *ctx, const char *bus_dir, const char *bus_label,
		   char ***names, size_t *count, struct kf_error *err)
{
	int r = kf_collect_list(ctx, bus_dir, names, count, err);

	if (r == KF_ERR_NOT_FOUND) {
		kf_collect_note(ctx, "no %s bus (%s absent)", bus_label, bus_dir);
		kf_error_clear(err);
		*names = NULL;
		*count = 0;
		return KF_OK;
	}
	return r;
}

long long kf_collect_attr_number(const struct kf_collect_ctx *ctx, const char *dir,
				 const char *name)
{
	char text[64], *end;
	long long value;

	if (kf_collect_attr(ctx, dir, name, text, sizeof(text)) != KF_OK || text[0] == '\0')
		return -1;
	value = strtoll(text, &end, 10);
	return *end == '\0' ? value : -1;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kf_collect_list(const struct kf_collect_ctx *ctx, const char *path, char ***names,
		    size_t *count, struct kf_error *err)
{
	char full[PATH_MAX];
	struct dirent *entry;
	size_t n = 0, cap = 0;
	char **list = NULL;
	DIR *dir;

	*names = NULL;
	*count = 0;
	if (kf_sysfs_path(ctx->root, path, full, sizeof(full)) != KF_OK)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "path too long: %s", path);
	dir = opendir(full);
	if (dir == NULL) {
		int saved = errno;
		return kf_error_set(err, saved == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO,
				    "cannot list %s: %s", path, strerror(saved));
	}
	/* A bound keeps a hostile tree from exhausting memory. */
	while ((entry = readdir(dir)) != NULL && n < 65536) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **grown = realloc(list, (cap ? cap * 2 : 32) * sizeof(*list));
			if (grown == NULL)
				break;
			list = grown;
			cap = cap ? cap * 2 : 32;
		}
		list[n] = strdup(entry->d_name);
		if (list[n] == NULL)
			break;
		kf_text_sanitize(list[n], strlen(list[n]));
		n++;
	}
	closedir(dir);
	if (n > 0)
		qsort(list, n, sizeof(*list), compare_names);
	*names = list;
	*count = n;
	return KF_OK;
}

void kf_collect_list_free(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
