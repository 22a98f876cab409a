/* kefu: unit tests for the driver-status rules on reports built in memory. SPDX-License-Identifier:
 * MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/diag/driver-status.h"

#include <stdlib.h>
#include <string.h>

static json_t *problem_with(const struct kf_report *report, const char *words)
{
	json_t *problem;
	size_t i;

	json_array_foreach(report->problems, i, problem)
	{
		if (strstr(kf_json_str(problem, "summary"), words) != NULL)
			return problem;
	}
	return NULL;
}

static void jobs_on_a_stopped_printer_are_stuck(void **state)
{
	struct kf_report *report = kf_report_new();
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	json_t *problem;

	(void)state;
	json_object_set_new(report->printers, "queues",
			    json_pack("[{s:s, s:s, s:s}, {s:s, s:s}]", "name", "Office-2F", "state",
				      "stopped", "state_message", "Paper jam", "name", "Label",
				      "state", "idle"));
	json_object_set_new(report->printers, "jobs",
			    json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}]", "id",
				      "Office-2F-12", "queue", "Office-2F", "submitted", "09:00",
				      "id", "Office-2F-13", "queue", "Office-2F", "submitted",
				      "09:05", "id", "Label-3", "queue", "Label", "submitted",
				      "09:10"));
	kf_driver_status_apply(report, events);
	problem = problem_with(report, "Office-2F is stopped; 2 print jobs are waiting");
	assert_non_null(problem);
	assert_int_equal(json_array_size(json_object_get(problem, "evidence")), 3);
	assert_null(problem_with(report, "Label"));
	free(events);
	kf_report_free(report);
}

static void a_device_with_a_driver_and_no_log_lines_works(void **state)
{
	struct kf_report *report = kf_report_new();
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	json_t *device = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "id", "pci:0000:00:02.0",
				   "bus", "pci", "kernel_name", "0000:00:02.0", "driver", "i915",
				   "module", json_null(), "class", "030000");

	(void)state;
	kf_report_add_device(report, device);
	kf_driver_status_apply(report, events);
	assert_string_equal(kf_json_str(device, "status"), "works");
	assert_int_equal(json_array_size(report->problems), 0);
	free(events);
	kf_report_free(report);
}

static void a_probe_failure_on_a_usb_interface_fails_its_device(void **state)
{
	static const char log[] =
		"usbhid 1-4:1.0: probe with driver usbhid failed with error -71\n";
	struct kf_report *report = kf_report_new();
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	json_t *device = json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", "usb:1-4", "bus", "usb",
				   "kernel_name", "1-4", "driver", json_null(), "class", "000000");

	(void)state;
	kf_report_add_device(report, device);
	kf_kernel_log_parse(log, strlen(log), events);
	kf_driver_status_apply(report, events);
	assert_string_equal(kf_json_str(device, "status"), "failed");
	assert_non_null(
		strstr(json_string_value(json_array_get(json_object_get(device, "evidence"), 0)),
		       "kernel log: usbhid 1-4:1.0"));
	assert_non_null(problem_with(report, "error -71"));
	free(events);
	kf_report_free(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jobs_on_a_stopped_printer_are_stuck),
		cmocka_unit_test(a_device_with_a_driver_and_no_log_lines_works),
		cmocka_unit_test(a_probe_failure_on_a_usb_interface_fails_its_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
