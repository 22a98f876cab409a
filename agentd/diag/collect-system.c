/* kefu-agentd collector: OS release, kernel, uptime, DMI identity. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* os-release values may be quoted with ' or " and use backslash escapes. */
static void unquote(char *value)
{
	size_t len = strlen(value), i, o = 0;
	char quote = 0;

	if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0]) {
		quote = value[0];
		value[len - 1] = '\0';
		memmove(value, value + 1, len - 1);
	}
	for (i = 0; value[i] != '\0'; i++) {
		if (quote == '"' && value[i] == '\\' && value[i + 1] != '\0')
			i++;
		value[o++] = value[i];
	}
	value[o] = '\0';
}

static void os_release_pair(const char *key, const char *value, void *data)
{
	json_t *os = data;
	char copy[KF_ATTR_SIZE];
	static const struct {
		const char *key;
		const char *field;
	} wanted[] = {{"ID", "id"},
		      {"VERSION_ID", "version_id"},
		      {"PRETTY_NAME", "pretty_name"},
		      {"NAME", "name"},
		      {"VERSION_CODENAME", "version_codename"},
		      {"ID_LIKE", "id_like"}};
	size_t i;

	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (strcmp(key, wanted[i].key) == 0) {
			snprintf(copy, sizeof(copy), "%s", value);
			unquote(copy);
			kf_json_set_str(os, wanted[i].field, copy);
		}
	}
}

static int collect_os(struct kf_collect_ctx *ctx, json_t *system, struct kf_error *err)
{
	struct kf_buf buf = {0};
	json_t *os = json_object();
	int r;

	kf_json_set_str(os, "id", NULL);
	kf_json_set_str(os, "version_id", NULL);
	kf_json_set_str(os, "pretty_name", NULL);
	json_object_set_new(system, "os", os);
	r = kf_collect_read(ctx, "/etc/os-release", 64 * 1024, "etc/os-release", &buf, NULL);
	if (r != KF_OK)
		r = kf_collect_read(ctx, "/usr/lib/os-release", 64 * 1024, "usr/lib/os-release",
				    &buf, err);
	if (r == KF_OK)
		kf_uevent_parse((const char *)buf.data, buf.len, os_release_pair, os);
	kf_buf_free(&buf);
	return r;
}

static void collect_kernel(struct kf_collect_ctx *ctx, json_t *system)
{
	json_t *kernel = json_object();
	char value[KF_ATTR_SIZE], cmdline[4096];

	kf_collect_read_attr(ctx, "/proc/sys/kernel/osrelease", value, sizeof(value));
	kf_json_set_str(kernel, "release", value);
	kf_collect_read_attr(ctx, "/proc/sys/kernel/version", value, sizeof(value));
	kf_json_set_str(kernel, "version", value);
	kf_collect_read_attr(ctx, "/proc/cmdline", cmdline, sizeof(cmdline));
	kf_json_set_str(kernel, "cmdline", cmdline);
	kf_collect_read_attr(ctx, "/proc/sys/kernel/tainted", value, sizeof(value));
	json_object_set_new(kernel, "tainted", value[0] ? json_integer(atoll(value)) : json_null());
	json_object_set_new(system, "kernel", kernel);
	if (json_is_null(json_object_get(kernel, "release")))
		kf_collect_note(ctx,
				"kernel release unknown (/proc/sys/kernel/osrelease unreadable)");
}

static void collect_uptime(struct kf_collect_ctx *ctx, json_t *system)
{
	char value[KF_ATTR_SIZE], stamp[32];
	double uptime;
	time_t boot;
	struct tm tm;

	if (kf_collect_read_attr(ctx, "/proc/uptime", value, sizeof(value)) != KF_OK ||
	    sscanf(value, "%lf", &uptime) != 1 || uptime < 0 || uptime > 1e10) {
		kf_collect_note(ctx, "uptime unknown (/proc/uptime unreadable)");
		json_object_set_new(system, "uptime_s", json_null());
		json_object_set_new(system, "boot_time", json_null());
		return;
	}
	json_object_set_new(system, "uptime_s", json_integer((json_int_t)uptime));
	boot = time(NULL) - (time_t)uptime;
	gmtime_r(&boot, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kf_json_set_str(system, "boot_time", stamp);
}

static void collect_dmi(struct kf_collect_ctx *ctx, json_t *system)
{
	static const char *const fields[] = {"sys_vendor",     "product_name", "product_version",
					     "product_family", "board_vendor", "board_name",
					     "board_version",  "bios_vendor",  "bios_version",
					     "bios_date",      "chassis_type", "product_serial",
					     "board_serial",   "product_uuid"};
	json_t *dmi = json_object();
	char value[KF_ATTR_SIZE];
	size_t i, found = 0;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int r = kf_collect_attr(ctx, "/sys/class/dmi/id", fields[i], value, sizeof(value));
		kf_json_set_str(dmi, fields[i], value);
		if (r == KF_OK)
			found++;
	}
	json_object_set_new(system, "dmi", dmi);
	if (found == 0)
		kf_collect_note(ctx, "no DMI/SMBIOS data (/sys/class/dmi/id absent: a virtual "
				     "machine or a board without SMBIOS)");
}

static void collect_hostname(struct kf_collect_ctx *ctx, json_t *system)
{
	char value[KF_ATTR_SIZE];

	if (kf_collect_read_attr(ctx, "/proc/sys/kernel/hostname", value, sizeof(value)) != KF_OK ||
	    value[0] == '\0')
		kf_collect_read_attr(ctx, "/etc/hostname", value, sizeof(value));
	kf_json_set_str(system, "hostname", value);
}

/* Accounts of people (uid 1000 and up) with their home folders: redaction needs them. */
static void collect_users(struct kf_collect_ctx *ctx, json_t *system)
{
	struct kf_buf buf = {0};
	json_t *users = json_array();
	const char *p, *end;

	json_object_set_new(system, "users", users);
	if (kf_sysfs_read_file(ctx->root, "/etc/passwd", KF_RAW_CAP, &buf, NULL, NULL) != KF_OK)
		return;
	p = (const char *)buf.data;
	end = p + buf.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p), k = 0;
		char line[1024], *fields[7], *rest, *field;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			kf_text_sanitize(line, len);
			rest = line;
			/* strsep keeps empty fields (the password field usually is). */
			while (k < 7 && (field = strsep(&rest, ":")) != NULL)
				fields[k++] = field;
			if (k == 7 && atol(fields[2]) >= 1000 && atol(fields[2]) < 60000) {
				json_t *user = json_object();
				kf_json_set_str(user, "name", fields[0]);
				kf_json_set_str(user, "home", fields[5]);
				/* The GECOS field starts with the person's full name. */
				fields[4][strcspn(fields[4], ",")] = '\0';
				kf_json_set_str(user, "full_name", fields[4]);
				json_array_append_new(users, user);
			}
		}
		p += len + 1;
	}
	kf_buf_free(&buf);
}

int kf_collect_system(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	json_t *system = ctx->report->system;
	int r;

	r = collect_os(ctx, system, err);
	collect_kernel(ctx, system);
	collect_uptime(ctx, system);
	collect_dmi(ctx, system);
	collect_hostname(ctx, system);
	collect_users(ctx, system);
	return r;
}
