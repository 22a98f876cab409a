/* kefu-agentd: what `smartctl --json` says about a disk's health. SPDX-License-Identifier: MIT */
#include "agentd/watch/smart.h"
#include "agentd/sysfs.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* A string field made printable (no control bytes) into out. */
static void copy_text(const json_t *value, char *out, size_t cap)
{
	const char *text = json_string_value(value);

	snprintf(out, cap, "%s", text != NULL ? text : "");
	kf_text_sanitize(out, strlen(out));
	for (char *c = out; *c != '\0'; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
}

static long long number_of(const json_t *value)
{
	if (json_is_integer(value) && json_integer_value(value) >= 0)
		return (long long)json_integer_value(value);
	return KF_WATCH_UNKNOWN;
}

static void read_ata(const json_t *root, struct kf_watch_disk *disk)
{
	const json_t *table =
		json_object_get(json_object_get(root, "ata_smart_attributes"), "table");
	const json_t *row;
	size_t i;

	json_array_foreach(table, i, row)
	{
		long long id = number_of(json_object_get(row, "id"));
		long long raw = number_of(json_object_get(json_object_get(row, "raw"), "value"));
		const char *when_failed = json_string_value(json_object_get(row, "when_failed"));

		if (id == 5)
			disk->reallocated = raw;
		else if (id == 197)
			disk->pending = raw;
		else if (id == 198)
			disk->offline_uncorrectable = raw;
		/* smartctl's "FAILING_NOW": the normalised value is at or below its threshold. */
		if (when_failed != NULL && strcmp(when_failed, "now") == 0 &&
		    disk->n_failing < KF_WATCH_FAILING_MAX) {
			char *name = disk->failing[disk->n_failing++];

			copy_text(json_object_get(row, "name"), name, 48);
			if (name[0] == '\0')
				snprintf(name, 48, "attribute %lld", id);
		}
	}
}

static void read_nvme(const json_t *root, struct kf_watch_disk *disk)
{
	const json_t *log = json_object_get(root, "nvme_smart_health_information_log");

	if (!json_is_object(log))
		return;
	disk->critical_warning = number_of(json_object_get(log, "critical_warning"));
	disk->available_spare = number_of(json_object_get(log, "available_spare"));
	disk->available_spare_threshold =
		number_of(json_object_get(log, "available_spare_threshold"));
	disk->percentage_used = number_of(json_object_get(log, "percentage_used"));
	disk->media_errors = number_of(json_object_get(log, "media_errors"));
}

int kf_watch_smart_parse(const char *text, size_t len, struct kf_watch_disk *disk,
			 struct kf_error *err)
{
	const json_t *device, *status, *smartctl;
	const char *node, *base;
	json_error_t jerr;
	json_t *root;

	memset(disk, 0, sizeof(*disk));
	disk->exit_status = -1;
	disk->passed = -1;
	disk->reallocated = disk->pending = disk->offline_uncorrectable = KF_WATCH_UNKNOWN;
	disk->critical_warning = disk->available_spare = disk->available_spare_threshold =
		disk->percentage_used = disk->media_errors = KF_WATCH_UNKNOWN;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_INVALID, "smartctl wrote no JSON object");
	}
	device = json_object_get(root, "device");
	node = json_string_value(json_object_get(device, "name"));
	if (node == NULL || node[0] == '\0') {
		json_decref(root);
		return kf_error_set(err, KF_ERR_INVALID, "smartctl's output names no device");
	}
	base = strrchr(node, '/');
	snprintf(disk->name, sizeof(disk->name), "%s", base != NULL ? base + 1 : node);
	kf_text_sanitize(disk->name, strlen(disk->name));
	copy_text(json_object_get(device, "protocol"), disk->protocol, sizeof(disk->protocol));
	copy_text(json_object_get(root, "model_name"), disk->model, sizeof(disk->model));
	smartctl = json_object_get(root, "smartctl");
	if (json_is_integer(json_object_get(smartctl, "exit_status")))
		disk->exit_status =
			(int)(json_integer_value(json_object_get(smartctl, "exit_status")) & 0xff);
	status = json_object_get(json_object_get(root, "smart_status"), "passed");
	if (json_is_boolean(status))
		disk->passed = json_is_true(status) ? 1 : 0;
	read_ata(root, disk);
	read_nvme(root, disk);
	json_decref(root);
	return KF_OK;
}

static bool is_plain_device(const char *name)
{
	if (strncmp(name, "/dev/", 5) != 0 || strstr(name, "..") != NULL)
		return false;
	for (const char *c = name + 5; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '/' || *c == '-' || *c == '_'))
			return false;
	return name[5] != '\0';
}

static bool is_plain_type(const char *type)
{
	for (const char *c = type; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == ',' || *c == '+' || *c == '_'))
			return false;
	return type[0] != '\0';
}

int kf_watch_smart_scan_parse(const char *text, size_t len, struct kf_watch_disk_name *names,
			      size_t max, size_t *count, struct kf_error *err)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	const json_t *devices = json_object_get(root, "devices"), *entry;
	size_t i;

	*count = 0;
	if (!json_is_object(root)) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_INVALID, "smartctl --scan wrote no JSON object");
	}
	json_array_foreach(devices, i, entry)
	{
		const char *name = json_string_value(json_object_get(entry, "name"));
		const char *type = json_string_value(json_object_get(entry, "type"));

		if (*count == max)
			break;
		if (name == NULL || strlen(name) >= sizeof(names->name) || !is_plain_device(name))
			continue;
		if (type == NULL || strlen(type) >= sizeof(names->type) || !is_plain_type(type))
			type = "auto";
		snprintf(names[*count].name, sizeof(names->name), "%s", name);
		snprintf(names[*count].type, sizeof(names->type), "%s", type);
		(*count)++;
	}
	json_decref(root);
	return KF_OK;
}
