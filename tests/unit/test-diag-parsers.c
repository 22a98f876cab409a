/* kefu: unit tests for the diagnostics parsers and redaction. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/diag/collect.h"
#include "agentd/diag/ids.h"
#include "agentd/diag/kernel-log.h"
#include "agentd/diag/redact.h"
#include "agentd/sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pairs {
	char keys[8][64];
	char values[8][KF_ATTR_SIZE];
	int count;
};

static void collect_pair(const char *key, const char *value, void *data)
{
	struct pairs *p = data;

	if (p->count < 8) {
		snprintf(p->keys[p->count], sizeof(p->keys[0]), "%s", key);
		snprintf(p->values[p->count], sizeof(p->values[0]), "%s", value);
		p->count++;
	}
}

static void uevent_lines_become_pairs_and_junk_is_skipped(void **state)
{
	static const char text[] = "DRIVER=ehci-pci\nno equals sign\n=empty key\n"
				   "PCI_ID=8086:3B3C\nMODALIAS=pci:v00008086d00003B3C\n";
	struct pairs p = {0};

	(void)state;
	assert_int_equal(kf_uevent_parse(text, strlen(text), collect_pair, &p), 3);
	assert_string_equal(p.keys[0], "DRIVER");
	assert_string_equal(p.values[0], "ehci-pci");
	assert_string_equal(p.keys[1], "PCI_ID");
	assert_string_equal(p.values[2], "pci:v00008086d00003B3C");
}

static void uevent_values_are_cut_and_made_printable(void **state)
{
	char text[3000];
	struct pairs p = {0};

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "K=\xff\x00", 4);
	assert_int_equal(kf_uevent_parse(text, sizeof(text), collect_pair, &p), 1);
	assert_int_equal(strlen(p.values[0]), KF_ATTR_SIZE - 1);
	assert_int_equal(p.values[0][0], '?');
	assert_int_equal(p.values[0][1], '?');
}

static void sanitize_keeps_valid_utf8_and_replaces_the_rest(void **state)
{
	char text[] = "caf\xc3\xa9 \xe2\x82\xac \xc3\x28 \xed\xa0\x80 \xf0\x9f\x98\x80 \xe2\x82";

	(void)state;
	kf_text_sanitize(text, strlen(text));
	assert_string_equal(text, "caf\xc3\xa9 \xe2\x82\xac ?( ??? \xf0\x9f\x98\x80 ??");
}

static void kernel_log_finds_probe_firmware_io_and_usb_problems(void **state)
{
	static const char log[] =
		"[    2.3] snd_hda_intel: probe of 0000:00:1f.3 failed with error -22\n"
		"Nov 22 09:00:00 host kernel: iwlwifi 0000:00:14.3: Direct firmware load for "
		"iwlwifi-9000.ucode failed with error -2\n"
		"6,1234,5678,-;usb 1-1.2: device descriptor read/64, error -71\n"
		"<3>[  120.0] blk_update_request: I/O error, dev sda, sector 123\n"
		"usb 1-1.2: device descriptor read/64, error -71\n"
		"e1000e 0000:00:1f.6: Detected Hardware Unit Hang: TDH <1a>\n"
		"plain line about nothing\n";
	struct kf_kernel_events *events = calloc(1, sizeof(*events));

	(void)state;
	kf_kernel_log_parse(log, strlen(log), events);
	assert_int_equal(events->lines, 7);
	assert_int_equal(events->count, 5);
	assert_int_equal(events->items[0].kind, KF_KEV_PROBE_FAILED);
	assert_string_equal(events->items[0].device, "0000:00:1f.3");
	assert_string_equal(events->items[0].driver, "snd_hda_intel");
	assert_string_equal(events->items[0].detail, "-22");
	assert_int_equal(events->items[1].kind, KF_KEV_FIRMWARE_MISSING);
	assert_string_equal(events->items[1].device, "0000:00:14.3");
	assert_string_equal(events->items[1].detail, "iwlwifi-9000.ucode");
	assert_int_equal(events->items[2].kind, KF_KEV_USB_ERROR);
	assert_string_equal(events->items[2].device, "1-1.2");
	assert_int_equal(events->items[2].count, 2);
	assert_int_equal(events->items[3].kind, KF_KEV_IO_ERROR);
	assert_string_equal(events->items[3].device, "sda");
	assert_int_equal(events->items[4].kind, KF_KEV_DEVICE_ERROR);
	assert_string_equal(events->items[4].device, "0000:00:1f.6");
	free(events);
}

static void kernel_log_reads_the_dev_err_form_of_probe_failures(void **state)
{
	/* Kernels since 6.9 log failed probes with dev_err() instead of pr_warn(). */
	static const char log[] =
		"[    4.1] usbhid 1-1.2:1.0: probe with driver usbhid failed with error -71\n";
	struct kf_kernel_events *events = calloc(1, sizeof(*events));

	(void)state;
	kf_kernel_log_parse(log, strlen(log), events);
	assert_int_equal(events->count, 1);
	assert_int_equal(events->items[0].kind, KF_KEV_PROBE_FAILED);
	assert_string_equal(events->items[0].device, "1-1.2:1.0");
	assert_string_equal(events->items[0].driver, "usbhid");
	assert_string_equal(events->items[0].detail, "-71");
	free(events);
}

static void kernel_log_keeps_a_bounded_number_of_events(void **state)
{
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	char line[128];
	int i;

	(void)state;
	for (i = 0; i < KF_KERNEL_EVENTS_MAX + 10; i++) {
		int n = snprintf(line, sizeof(line), "drv: probe of dev%d failed with error -5\n",
				 i);
		kf_kernel_log_parse(line, (size_t)n, events);
	}
	assert_int_equal(events->count, KF_KERNEL_EVENTS_MAX);
	assert_int_equal(events->dropped, 10);
	free(events);
}

static void journal_entries_become_kernel_log_lines_with_the_same_events(void **state)
{
	/* "Direct firmware ..." is given as bytes, as journald writes a MESSAGE that is not UTF-8.
	 */
	static const char journal[] =
		"{\"_TRANSPORT\":\"kernel\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"2300000\","
		"\"MESSAGE\":\"snd_hda_intel: probe of 0000:00:1f.3 failed with error -22\"}\n"
		"not json at all\n"
		"\n"
		"{\"_TRANSPORT\":\"stdout\",\"MESSAGE\":\"usb 1-2: device descriptor read/64, "
		"error -71\"}\n"
		"{\"__REALTIME_TIMESTAMP\":\"1700000000000000\",\"MESSAGE\":[105,119,108,119,105,"
		"102,105,32,48,48,48,48,58,48,48,58,49,52,46,51,58,32,68,105,114,101,99,116,32,102,"
		"105,114,109,119,97,114,101,32,108,111,97,100,32,102,111,114,32,120,46,117,99,111,"
		"100,"
		"101,32,102,97,105,108,101,100,32,119,105,116,104,32,101,114,114,111,114,32,45,50]}"
		"\n"
		"{\"MESSAGE\":null}\n"
		"{\"MESSAGE\":[300]}\n";
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	struct kf_kernel_journal_stats stats;
	struct kf_buf text = {0};
	char *line;

	(void)state;
	assert_int_equal(kf_kernel_journal_text(journal, strlen(journal), 1 << 20, &text, &stats),
			 KF_OK);
	assert_int_equal(stats.entries, 2);
	assert_int_equal(stats.other, 1);
	assert_int_equal(stats.skipped, 3);
	assert_false(stats.is_truncated);
	assert_int_equal(kf_buf_append(&text, "", 1), KF_OK);
	line = (char *)text.data;
	assert_string_equal(line, "[    2.300000] snd_hda_intel: probe of 0000:00:1f.3 failed "
				  "with error -22\n"
				  "2023-11-14T22:13:20Z kernel: iwlwifi 0000:00:14.3: Direct "
				  "firmware load for x.ucode failed with error -2\n");
	kf_kernel_log_parse(line, strlen(line), events);
	assert_int_equal(events->count, 2);
	assert_int_equal(events->items[0].kind, KF_KEV_PROBE_FAILED);
	assert_string_equal(events->items[0].device, "0000:00:1f.3");
	assert_string_equal(events->items[0].driver, "snd_hda_intel");
	assert_int_equal(events->items[1].kind, KF_KEV_FIRMWARE_MISSING);
	assert_string_equal(events->items[1].device, "0000:00:14.3");
	assert_string_equal(events->items[1].detail, "x.ucode");
	kf_buf_free(&text);
	free(events);
}

static void journal_text_stops_at_its_cap_on_a_whole_line(void **state)
{
	static const char entry[] = "{\"MESSAGE\":\"0123456789\"}\n";
	struct kf_kernel_journal_stats stats;
	struct kf_buf journal = {0}, text = {0};
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(kf_buf_append(&journal, entry, strlen(entry)), KF_OK);
	assert_int_equal(
		kf_kernel_journal_text((const char *)journal.data, journal.len, 35, &text, &stats),
		KF_OK);
	assert_int_equal(stats.entries, 3); /* 11 bytes a line */
	assert_true(stats.is_truncated);
	assert_int_equal(text.len, 33);
	kf_buf_free(&journal);
	kf_buf_free(&text);
}

static void device_names_of_pci_and_usb_are_told_apart(void **state)
{
	static const struct {
		const char *name;
		bool is_pci;
		enum kf_usb_name usb;
	} cases[] = {
		{"0000:00:1a.0", true, KF_USB_NAME_NONE},
		{"0000:00:1a", false, KF_USB_NAME_NONE},
		{"usb1", false, KF_USB_NAME_DEVICE},
		{"usb", false, KF_USB_NAME_NONE},
		{"usbx", false, KF_USB_NAME_NONE},
		{"1-1.5.2", false, KF_USB_NAME_DEVICE},
		{"3-10", false, KF_USB_NAME_DEVICE},
		{"1-1.5.2:1.0", false, KF_USB_NAME_INTERFACE},
		{"1-0:1.0", false, KF_USB_NAME_INTERFACE},
		{"1-", false, KF_USB_NAME_NONE},
		{"1-.2", false, KF_USB_NAME_NONE},
		{"1-1.", false, KF_USB_NAME_NONE},
		{"1-1:1", false, KF_USB_NAME_NONE},
		{"1-1:1.0:2", false, KF_USB_NAME_NONE},
		{"sda", false, KF_USB_NAME_NONE},
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].name);

		assert_int_equal(kf_device_name_is_pci(cases[i].name, len), cases[i].is_pci);
		assert_int_equal(kf_device_name_usb(cases[i].name, len), cases[i].usb);
	}
	/* The deepest device on a sysfs path owns it; interfaces are not devices of their own. */
	kf_collect_device_of("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/0003:046D", out,
			     sizeof(out));
	assert_string_equal(out, "usb:1-2");
	kf_collect_device_of("/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", out,
			     sizeof(out));
	assert_string_equal(out, "pci:0000:00:02.0");
}

static void ids_lookup_names_vendor_device_and_subclass(void **state)
{
	static const char ids[] = "# comment\n"
				  "8086  Intel Corporation\n"
				  "\t3b3c  5 Series USB2 Enhanced Host Controller\n"
				  "\t\t17aa 2163  ThinkPad T410\n"
				  "\t9d71  Sunrise Point-LP HD Audio\n"
				  "1af4  Red Hat, Inc.\n"
				  "\t1041  Virtio network device\n"
				  "C 0c  Serial bus controller\n"
				  "\t03  USB controller\n"
				  "\t\t20  EHCI\n"
				  "C 04  Multimedia controller\n";
	struct kf_ids_query q[3];

	(void)state;
	memset(q, 0, sizeof(q));
	q[0].vendor = 0x8086;
	q[0].product = 0x3b3c;
	q[0].class_code = 0x0c0320;
	q[1].vendor = 0x1af4;
	q[1].product = 0x9999;
	q[1].class_code = 0x040300;
	q[2].vendor = 0xdead;
	q[2].product = 0x1041;
	q[2].class_code = -1;
	kf_ids_lookup_text(ids, strlen(ids), q, 3);
	assert_string_equal(q[0].vendor_name, "Intel Corporation");
	assert_string_equal(q[0].name, "5 Series USB2 Enhanced Host Controller");
	assert_string_equal(q[0].class_name, "USB controller");
	assert_string_equal(q[1].vendor_name, "Red Hat, Inc.");
	assert_string_equal(q[1].name, "");
	assert_string_equal(q[1].class_name, "Multimedia controller");
	assert_string_equal(q[2].vendor_name, "");
	assert_string_equal(q[2].name, "");
}

static void ids_lookup_matches_the_system_pci_ids(void **state)
{
	struct kf_ids_query q;
	struct kf_error err = {0};

	(void)state;
	memset(&q, 0, sizeof(q));
	q.vendor = 0x8086;
	q.product = 0x3b3c;
	q.class_code = -1;
	if (kf_ids_lookup("/usr/share/hwdata/pci.ids", &q, 1, &err) != KF_OK) {
		skip();
		return;
	}
	assert_string_equal(q.vendor_name, "Intel Corporation");
	assert_non_null(strstr(q.name, "USB2 Enhanced Host Controller"));
}

static char *redact(struct kf_redactor *r, const char *text)
{
	struct kf_buf out = {0};
	char *s;

	assert_int_equal(kf_redactor_text(r, text, strlen(text), &out), KF_OK);
	s = strndup((const char *)out.data, out.len);
	kf_buf_free(&out);
	return s;
}

static void redaction_replaces_whole_words_consistently(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *a, *b;

	(void)state;
	assert_non_null(r);
	kf_redactor_add(r, KF_REDACT_HOST, "vm");
	kf_redactor_add(r, KF_REDACT_USER, "alice");
	a = redact(r, "vm kernel: vmstat alice /home/alice alice_x alice.");
	assert_string_equal(a, "host-1 kernel: vmstat user-1 /home/user-1 alice_x user-1.");
	b = redact(r, "alice again on vm");
	assert_string_equal(b, "user-1 again on host-1");
	free(a);
	free(b);
	kf_redactor_free(r);
}

static void redaction_keeps_structure_of_addresses(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;
	unsigned a1, a2, a3, b1, b2, b3, c1, c2;

	(void)state;
	text = redact(r, "192.168.1.23 192.168.1.77 10.0.0.1 127.0.0.1 255.255.255.0 "
			 "0000:00:1f.3 09:29:22 1.2.3 ::1 3c:52:82:4e:1a:7b");
	assert_int_equal(sscanf(text, "%u.%u.%u.%*u %u.%u.%u.%*u %u.%u.", &a1, &a2, &a3, &b1, &b2,
				&b3, &c1, &c2),
			 8);
	assert_true(a1 == b1 && a2 == b2 && a3 == b3);
	assert_null(strstr(text, "192.168.1.23"));
	assert_null(strstr(text, "10.0.0.1 "));
	assert_non_null(
		strstr(text, " 127.0.0.1 255.255.255.0 0000:00:1f.3 09:29:22 1.2.3 ::1 3c:52:82:"));
	assert_null(strstr(text, "4e:1a:7b"));
	free(text);
	kf_redactor_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uevent_lines_become_pairs_and_junk_is_skipped),
		cmocka_unit_test(uevent_values_are_cut_and_made_printable),
		cmocka_unit_test(sanitize_keeps_valid_utf8_and_replaces_the_rest),
		cmocka_unit_test(kernel_log_finds_probe_firmware_io_and_usb_problems),
		cmocka_unit_test(kernel_log_reads_the_dev_err_form_of_probe_failures),
		cmocka_unit_test(kernel_log_keeps_a_bounded_number_of_events),
		cmocka_unit_test(journal_entries_become_kernel_log_lines_with_the_same_events),
		cmocka_unit_test(journal_text_stops_at_its_cap_on_a_whole_line),
		cmocka_unit_test(device_names_of_pci_and_usb_are_told_apart),
		cmocka_unit_test(ids_lookup_names_vendor_device_and_subclass),
		cmocka_unit_test(ids_lookup_matches_the_system_pci_ids),
		cmocka_unit_test(redaction_replaces_whole_words_consistently),
		cmocka_unit_test(redaction_keeps_structure_of_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
