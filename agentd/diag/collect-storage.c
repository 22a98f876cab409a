/* kefu-agentd collector: disks, mounts and usage, SMART health. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"
#include "agentd/tool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define BLOCK_CLASS "/sys/block"

/* smartctl's JSON answer: smart_status.passed. */
static void add_smart(struct kf_collect_ctx *ctx, json_t *disk, const char *name, bool *has_tool)
{
	char dev[128];
	const char *argv[] = {"smartctl", "-H", "-i", "-j", dev, NULL};
	struct kf_tool_result result;
	struct kf_buf out = {0};
	json_t *answer, *passed;
	int r;

	if (!*has_tool)
		return;
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	r = kf_tool_run(argv, ctx->tool_timeout_ms, KF_TOOL_CAP, &out, &result, NULL);
	if (r == KF_ERR_NOT_FOUND) {
		*has_tool = false;
		kf_collect_note(ctx, "smartctl is not installed (Debian package smartmontools); "
				     "no SMART health");
		return;
	}
	if (r == KF_ERR_TIMEOUT)
		kf_collect_note(ctx, "smartctl %s timed out", dev);
	answer = json_loadb((const char *)out.data, out.len, 0, NULL);
	passed = json_object_get(json_object_get(answer, "smart_status"), "passed");
	json_object_set_new(disk, "smart_passed",
			    json_is_boolean(passed) ? json_boolean(json_is_true(passed))
						    : json_null());
	json_decref(answer);
	kf_buf_free(&out);
}

static void add_disk(struct kf_collect_ctx *ctx, const char *name, json_t *list, bool *has_smartctl)
{
	char dir[PATH_MAX], devdir[PATH_MAX], path[PATH_MAX], owner[128], value[KF_ATTR_SIZE];
	long long sectors, flag;
	json_t *disk;

	snprintf(dir, sizeof(dir), BLOCK_CLASS "/%s", name);
	sectors = kf_collect_attr_number(ctx, dir, "size");
	if ((strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0 ||
	     strncmp(name, "zram", 4) == 0) &&
	    sectors <= 0)
		return; /* unused loop and RAM disks say nothing about the machine */
	disk = json_object();
	kf_json_set_str(disk, "name", name);
	json_object_set_new(disk, "size_bytes",
			    sectors >= 0 ? json_integer(sectors * 512) : json_null());
	flag = kf_collect_attr_number(ctx, dir, "removable");
	json_object_set_new(disk, "removable", flag >= 0 ? json_boolean(flag) : json_null());
	flag = kf_collect_attr_number(ctx, dir, "ro");
	json_object_set_new(disk, "read_only", flag >= 0 ? json_boolean(flag) : json_null());
	flag = kf_collect_attr_number(ctx, dir, "queue/rotational");
	json_object_set_new(disk, "rotational", flag >= 0 ? json_boolean(flag) : json_null());
	snprintf(devdir, sizeof(devdir), "%.3000s/device", dir);
	kf_collect_attr(ctx, devdir, "vendor", value, sizeof(value));
	kf_json_set_str(disk, "vendor", value);
	kf_collect_attr(ctx, devdir, "model", value, sizeof(value));
	kf_json_set_str(disk, "model", value);
	if (kf_collect_attr(ctx, devdir, "serial", value, sizeof(value)) != KF_OK ||
	    value[0] == '\0')
		kf_collect_attr(ctx, dir, "serial", value, sizeof(value));
	kf_json_set_str(disk, "serial", value);
	kf_collect_firmware_version(ctx, devdir, value, sizeof(value));
	if (value[0] == '\0')
		kf_collect_attr(ctx, devdir, "rev", value, sizeof(value));
	kf_json_set_str(disk, "firmware_version", value);
	owner[0] = '\0';
	if (kf_sysfs_link_path(ctx->root, BLOCK_CLASS, name, path, sizeof(path)) == KF_OK)
		kf_collect_device_of(path, owner, sizeof(owner));
	kf_json_set_str(disk, "device", owner);
	json_object_set_new(disk, "smart_passed", json_null());
	if (ctx->is_live && strncmp(name, "loop", 4) != 0 && strncmp(name, "zram", 4) != 0 &&
	    strncmp(name, "ram", 3) != 0)
		add_smart(ctx, disk, name, has_smartctl);
	json_array_append_new(list, disk);
}

/* /proc/mounts: "source target fstype options 0 0", with octal escapes in paths. */
static void unescape_octal(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void add_mounts(struct kf_collect_ctx *ctx, json_t *list)
{
	struct kf_buf buf = {0};
	char *text, *line, *save = NULL;

	if (kf_collect_read(ctx, "/proc/mounts", KF_RAW_CAP, "proc/mounts", &buf, NULL) != KF_OK) {
		kf_collect_note(ctx, "/proc/mounts unreadable; no mount usage");
		return;
	}
	text = malloc(buf.len + 1);
	if (text == NULL)
		goto out;
	memcpy(text, buf.data, buf.len);
	text[buf.len] = '\0';
	kf_text_sanitize(text, buf.len);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char source[512], target[512], fstype[64], options[512];
		json_t *mount;
		struct statvfs st;

		if (sscanf(line, "%511s %511s %63s %511s", source, target, fstype, options) != 4)
			continue;
		if (strncmp(source, "/dev/", 5) != 0)
			continue; /* only filesystems on block devices fill up in ways that matter
				   */
		unescape_octal(source);
		unescape_octal(target);
		kf_text_sanitize(target, strlen(target));
		mount = json_object();
		kf_json_set_str(mount, "source", source);
		kf_json_set_str(mount, "target", target);
		kf_json_set_str(mount, "fstype", fstype);
		json_object_set_new(mount, "read_only",
				    json_boolean(strncmp(options, "ro", 2) == 0 &&
						 (options[2] == ',' || options[2] == '\0')));
		if (ctx->is_live && statvfs(target, &st) == 0 && st.f_blocks > 0) {
			unsigned long long total = (unsigned long long)st.f_blocks * st.f_frsize;
			unsigned long long avail = (unsigned long long)st.f_bavail * st.f_frsize;
			unsigned long long used =
				(unsigned long long)(st.f_blocks - st.f_bfree) * st.f_frsize;
			json_object_set_new(mount, "size_bytes", json_integer((json_int_t)total));
			json_object_set_new(mount, "available_bytes",
					    json_integer((json_int_t)avail));
			json_object_set_new(
				mount, "used_percent",
				json_integer(used + avail > 0
						     ? (json_int_t)(used * 100 / (used + avail))
						     : 0));
		} else {
			json_object_set_new(mount, "size_bytes", json_null());
			json_object_set_new(mount, "available_bytes", json_null());
			json_object_set_new(mount, "used_percent", json_null());
		}
		json_array_append_new(list, mount);
	}
	free(text);
out:
	kf_buf_free(&buf);
}

/* /etc/fstab goes into the bundle only: a mount that fails at boot is explained there. */
static void keep_fstab(struct kf_collect_ctx *ctx)
{
	struct kf_buf buf = {0};
	int r = kf_collect_read(ctx, "/etc/fstab", KF_RAW_CAP, "etc/fstab", &buf, NULL);

	if (r != KF_OK && r != KF_ERR_NOT_FOUND)
		kf_collect_note(ctx, "/etc/fstab unreadable (%s)", kf_err_name(r));
	kf_buf_free(&buf);
}

int kf_collect_storage(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	json_t *block = json_array(), *mounts = json_array();
	bool has_smartctl = true;
	char **names;
	size_t count, i;
	int r;

	json_object_set_new(ctx->report->storage, "block", block);
	json_object_set_new(ctx->report->storage, "mounts", mounts);
	add_mounts(ctx, mounts);
	keep_fstab(ctx);
	r = kf_collect_list(ctx, BLOCK_CLASS, &names, &count, err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_collect_note(ctx, "no block devices (%s absent)", BLOCK_CLASS);
		kf_error_clear(err);
		return KF_OK;
	}
	if (r != KF_OK)
		return r;
	if (!ctx->is_live)
		kf_collect_note(ctx, "SMART health is read only on the live system");
	for (i = 0; i < count; i++)
		add_disk(ctx, names[i], block, &has_smartctl);
	kf_collect_list_free(names, count);
	return KF_OK;
}
