/* kefu-agentd collector: loaded kernel modules with their versions. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "name size refcount deps state address": one module per line. */
static void add_module(struct kf_collect_ctx *ctx, char *line)
{
	char *fields[6], *save = NULL, dir[PATH_MAX], value[KF_ATTR_SIZE];
	json_t *module, *used_by;
	size_t count = 0;

	for (char *f = strtok_r(line, " \t", &save); f != NULL && count < 6;
	     f = strtok_r(NULL, " \t", &save))
		fields[count++] = f;
	if (count < 3 || strlen(fields[0]) >= 64)
		return;
	module = json_object();
	kf_json_set_str(module, "name", fields[0]);
	json_object_set_new(module, "size", json_integer(atoll(fields[1])));
	json_object_set_new(module, "refcount", json_integer(atoll(fields[2])));
	used_by = json_array();
	if (count > 3 && strcmp(fields[3], "-") != 0) {
		char *user, *users_save = NULL;
		for (user = strtok_r(fields[3], ",", &users_save); user != NULL;
		     user = strtok_r(NULL, ",", &users_save))
			kf_json_append_str(used_by, user);
	}
	json_object_set_new(module, "used_by", used_by);
	kf_json_set_str(module, "state", count > 4 ? fields[4] : NULL);
	snprintf(dir, sizeof(dir), "/sys/module/%s", fields[0]);
	kf_collect_attr(ctx, dir, "version", value, sizeof(value));
	kf_json_set_str(module, "version", value);
	kf_collect_attr(ctx, dir, "srcversion", value, sizeof(value));
	kf_json_set_str(module, "srcversion", value);
	json_array_append_new(ctx->report->modules, module);
}

int kf_collect_modules(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	struct kf_buf buf = {0};
	char *text, *line, *save = NULL;
	int r;

	r = kf_collect_read(ctx, "/proc/modules", KF_RAW_CAP, "proc/modules", &buf, err);
	if (r == KF_ERR_NOT_FOUND && kf_sysfs_exists(ctx->root, "/sys/module") &&
	    kf_sysfs_exists(ctx->root, "/proc/version")) {
		/* A kernel built without loadable modules has no /proc/modules at all. */
		kf_collect_note(ctx,
				"the kernel has no loadable module support (no /proc/modules); "
				"every driver is built in");
		kf_error_clear(err);
		return KF_OK;
	}
	if (r != KF_OK)
		return r;
	text = malloc(buf.len + 1);
	if (text == NULL) {
		kf_buf_free(&buf);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	memcpy(text, buf.data, buf.len);
	text[buf.len] = '\0';
	kf_text_sanitize(text, buf.len);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		add_module(ctx, line);
	free(text);
	kf_buf_free(&buf);
	return KF_OK;
}
