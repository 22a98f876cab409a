/* kefu-agentd: the diagnostics report (kefu.report/1), summary. SPDX-License-Identifier: MIT */
#include "agentd/diag/report.h"
#include "agentd/sysfs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kf_report *kf_report_new(void)
{
	struct kf_report *report = calloc(1, sizeof(*report));
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	if (report == NULL)
		return NULL;
	report->root = json_object();
	if (report->root == NULL) {
		free(report);
		return NULL;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(report->root, "schema", json_string(KF_REPORT_SCHEMA));
	json_object_set_new(report->root, "generated", json_string(stamp));
#define SECTION(field, maker)                                                                      \
	do {                                                                                       \
		report->field = maker();                                                           \
		json_object_set_new(report->root, #field, report->field);                          \
	} while (0)
	SECTION(system, json_object);
	SECTION(devices, json_array);
	SECTION(modules, json_array);
	SECTION(storage, json_object);
	SECTION(network, json_object);
	SECTION(printers, json_object);
	SECTION(power, json_object);
	SECTION(kernel_log, json_object);
	SECTION(firmware, json_object);
	SECTION(problems, json_array);
	SECTION(collectors, json_array);
	SECTION(not_checked, json_array);
#undef SECTION
	if (json_object_size(report->root) != 14) {
		kf_report_free(report);
		return NULL;
	}
	return report;
}

void kf_report_free(struct kf_report *report)
{
	if (report == NULL)
		return;
	json_decref(report->root);
	free(report);
}

static json_t *string_or_null(const char *value)
{
	char *copy;
	json_t *out;

	if (value == NULL || value[0] == '\0')
		return json_null();
	out = json_string(value);
	if (out != NULL)
		return out;
	/* Not valid UTF-8: keep a sanitised copy rather than lose the value. */
	copy = strdup(value);
	if (copy == NULL)
		return json_null();
	kf_text_sanitize(copy, strlen(copy));
	out = json_string(copy);
	free(copy);
	return out ? out : json_null();
}

void kf_json_set_str(json_t *object, const char *key, const char *value)
{
	json_object_set_new(object, key, string_or_null(value));
}

void kf_json_set_new(json_t *object, const char *key, json_t *value)
{
	json_object_set_new(object, key, value ? value : json_null());
}

void kf_json_append_str(json_t *array, const char *value)
{
	json_t *s = string_or_null(value ? value : "");

	if (json_is_null(s))
		s = json_string("");
	json_array_append_new(array, s);
}

const char *kf_json_str(const json_t *object, const char *key)
{
	const char *s = json_string_value(json_object_get(object, key));

	return s ? s : "";
}

json_t *kf_report_add_device(struct kf_report *report, json_t *device)
{
	json_array_append_new(report->devices, device);
	return device;
}

json_t *kf_report_find_device(const struct kf_report *report, const char *id)
{
	size_t i;
	json_t *device;

	json_array_foreach(report->devices, i, device)
	{
		if (strcmp(kf_json_str(device, "id"), id) == 0)
			return device;
	}
	return NULL;
}

void kf_report_add_problem(struct kf_report *report, const char *device, const char *severity,
			   const char *summary, json_t *evidence)
{
	json_t *problem = json_object();

	kf_json_set_str(problem, "device", device);
	kf_json_set_str(problem, "severity", severity);
	kf_json_set_str(problem, "summary", summary);
	kf_json_set_new(problem, "evidence", evidence ? evidence : json_array());
	json_array_append_new(report->problems, problem);
}

void kf_report_add_not_checked(struct kf_report *report, const char *check, const char *cause,
			       const char *summary, const char *advice)
{
	json_t *entry = json_object();

	kf_json_set_str(entry, "check", check);
	kf_json_set_str(entry, "cause", cause);
	kf_json_set_str(entry, "summary", summary);
	kf_json_set_str(entry, "advice", advice);
	json_array_append_new(report->not_checked, entry);
}

char *kf_report_dump(const struct kf_report *report)
{
	return json_dumps(report->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

void kf_report_print_summary(const struct kf_report *report, FILE *out)
{
	json_t *os = json_object_get(report->system, "os");
	json_t *kernel = json_object_get(report->system, "kernel");
	json_t *dmi = json_object_get(report->system, "dmi");
	json_t *item;
	size_t i, failed = 0;

	/* What was not checked comes first: a clean report must not hide it. */
	json_array_foreach(report->not_checked, i, item)
	{
		const char *advice = kf_json_str(item, "advice");

		fprintf(out, "%s%s%s\n", kf_json_str(item, "summary"), advice[0] ? " " : "",
			advice);
	}
	if (json_array_size(report->not_checked) > 0)
		fprintf(out, "\n");
	fprintf(out, "System: %s, kernel %s\n", or_dash(kf_json_str(os, "pretty_name")),
		or_dash(kf_json_str(kernel, "release")));
	if (json_is_object(dmi))
		fprintf(out, "Computer: %s %s (BIOS %s, %s)\n",
			or_dash(kf_json_str(dmi, "sys_vendor")),
			or_dash(kf_json_str(dmi, "product_name")),
			or_dash(kf_json_str(dmi, "bios_version")),
			or_dash(kf_json_str(dmi, "bios_date")));
	fprintf(out, "\n");
	if (json_array_size(report->problems) == 0) {
		fprintf(out, json_array_size(report->not_checked) > 0
				     ? "No problems found in what could be checked.\n"
				     : "No problems found.\n");
	} else {
		fprintf(out, "Problems (%zu):\n", json_array_size(report->problems));
		json_array_foreach(report->problems, i, item)
		{
			json_t *evidence = json_object_get(item, "evidence");
			fprintf(out, "  [%s] %s\n", kf_json_str(item, "severity"),
				kf_json_str(item, "summary"));
			if (json_array_size(evidence) > 0)
				fprintf(out, "         %s\n",
					json_string_value(json_array_get(evidence, 0)));
		}
	}
	fprintf(out, "\nDevices (%zu):\n", json_array_size(report->devices));
	json_array_foreach(report->devices, i, item)
	{
		const char *driver = json_string_value(json_object_get(item, "driver"));
		const char *name = kf_json_str(item, "name")[0] ? kf_json_str(item, "name")
								: kf_json_str(item, "class_name");
		const char *vendor = kf_json_str(item, "vendor_name");

		fprintf(out, "  %-11s %-22s %s:%s  %s%s%s  [driver %s]\n",
			kf_json_str(item, "status"), kf_json_str(item, "id"),
			or_dash(kf_json_str(item, "vendor_id")),
			or_dash(kf_json_str(item, "product_id")), vendor, vendor[0] ? " " : "",
			or_dash(name), or_dash(driver));
	}
	json_array_foreach(report->collectors, i, item)
	{
		if (!json_is_true(json_object_get(item, "ok")))
			failed++;
	}
	fprintf(out, "\nCollectors: %zu ran, %zu failed", json_array_size(report->collectors),
		failed);
	json_array_foreach(report->collectors, i, item)
	{
		if (!json_is_true(json_object_get(item, "ok")))
			fprintf(out, "%s %s (%s)", failed-- > 0 ? ";" : "",
				kf_json_str(item, "name"), kf_json_str(item, "error"));
	}
	fprintf(out, "\n");
}
