/* kefu: unit tests for each class of value the diagnostics redaction hides. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/diag/redact.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *redact_file(struct kf_redactor *r, const char *name, const char *text)
{
	struct kf_buf out = {0};
	char *s;

	assert_int_equal(kf_redactor_file(r, name, text, strlen(text), &out), KF_OK);
	s = strndup(out.len ? (const char *)out.data : "", out.len);
	kf_buf_free(&out);
	assert_non_null(s);
	return s;
}

static char *redact(struct kf_redactor *r, const char *text)
{
	return redact_file(r, "kernel.log", text);
}

/* Case-insensitive search, for values that must not survive in any letter case. */
static bool contains(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack != '\0'; haystack++)
		if (strncasecmp(haystack, needle, n) == 0)
			return true;
	return false;
}

static uint32_t ipv4_of(const char *text)
{
	struct in_addr addr;

	assert_int_equal(inet_pton(AF_INET, text, &addr), 1);
	return ntohl(addr.s_addr);
}

static bool in_net(const char *text, const char *net, int bits)
{
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);

	return (ipv4_of(text) & mask) == (ipv4_of(net) & mask);
}

static bool in_documentation(const char *text)
{
	return in_net(text, "192.0.2.0", 24) || in_net(text, "198.51.100.0", 24) ||
	       in_net(text, "203.0.113.0", 24);
}

/* The pseudonym the redactor gives one address alone. */
static char *pseudonym_of(struct kf_redactor *r, const char *address)
{
	char *text = redact(r, address);

	assert_string_not_equal(text, address);
	return text;
}

static void route_table_hex_addresses_become_hex_pseudonyms(void **state)
{
	static const char table[] =
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\n"
		"wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\n"
		"wlan0\t0002A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\n"
		"eth0\t0000140A\t281E140A\t0003\t0\t0\t100\t0000FFFF\t0\n";
	struct kf_redactor *r = kf_redactor_new();
	char *text, *gateway, *other, hex[9];
	unsigned int value;
	struct in_addr addr;

	(void)state;
	text = redact_file(r, "proc/net/route", table);
	assert_false(contains(text, "0102A8C0"));
	assert_false(contains(text, "0002A8C0"));
	assert_false(contains(text, "281E140A"));
	/* Masks and the default route stay readable. */
	assert_non_null(strstr(text, "\t00FFFFFF\t"));
	assert_non_null(strstr(text, "wlan0\t00000000\t"));
	/* The gateway's hexadecimal pseudonym is its dotted pseudonym, little-endian. */
	gateway = pseudonym_of(r, "192.168.2.1");
	assert_true(in_net(gateway, "192.168.0.0", 16));
	assert_int_equal(inet_pton(AF_INET, gateway, &addr), 1);
	snprintf(hex, sizeof(hex), "%08X", (unsigned)addr.s_addr);
	assert_non_null(strstr(text, hex));
	/* The network 192.168.2.0 and its gateway stay in one /24. */
	assert_int_equal(
		sscanf(strstr(strstr(text, "\nwlan0\t") + 1, "\nwlan0\t") + 7, "%8x", &value), 1);
	assert_int_equal(value & 0x00ffffffu, addr.s_addr & 0x00ffffffu);
	other = pseudonym_of(r, "10.20.30.40");
	assert_true(in_net(other, "10.0.0.0", 8));
	free(other);
	free(gateway);
	free(text);
	/* Once seen, the same address in hexadecimal elsewhere is found too (either order). */
	text = redact(r, "TCP 0102A8C0:0016 and 0102a8c0 and C0A80201 but not DEADBEEF");
	assert_false(contains(text, "0102A8C0"));
	assert_false(contains(text, "C0A80201"));
	assert_non_null(strstr(text, "DEADBEEF"));
	free(text);
	kf_redactor_free(r);
}

static void ipv6_route_hex_addresses_become_hex_pseudonyms(void **state)
{
	static const char table[] =
		"20010db8000100000000000000000000 40 00000000000000000000000000000000 00 "
		"00000000000000000000000000000000 00000100 00000001 00000000 00000001 wlan0\n"
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
		"fe800000000000000211223344556677 00000400 00000001 00000000 00000003 wlan0\n";
	struct kf_redactor *r = kf_redactor_new();
	char *text, *gateway;

	(void)state;
	text = redact_file(r, "proc/net/ipv6_route", table);
	assert_false(contains(text, "20010db8000100000000000000000000"));
	assert_false(contains(text, "0211223344556677"));
	/* Link-local stays link-local, the default route stays ::/0. */
	assert_non_null(strstr(text, " fe80000000000000"));
	assert_non_null(strstr(text, "\n00000000000000000000000000000000 00 "));
	gateway = pseudonym_of(r, "fe80::211:2233:4455:6677");
	assert_int_equal(strncmp(gateway, "fe80::", 6), 0);
	free(gateway);
	free(text);
	/* /proc/net/tcp6 writes an address seen before as four little-endian words. */
	text = redact(r, "   0: B80D0120000001000000000000000000:0016 "
			 "000080FE000000003322110277665544:0000 01");
	assert_false(contains(text, "B80D0120000001000000000000000000"));
	assert_false(contains(text, "0000000033221102"));
	free(text);
	kf_redactor_free(r);
}

static void host_name_inside_longer_words_and_any_case(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;

	(void)state;
	kf_redactor_add(r, KF_REDACT_HOST, "kestrel");
	kf_redactor_add(r, KF_REDACT_HOST, "vm");
	text = redact(r,
		      "<Printer Office_kestrel> kestrel-laptop.local KESTREL Kestrel2 vmstat vm");
	assert_false(contains(text, "kestrel"));
	assert_string_equal(text, "<Printer Office_host-1> host-1-laptop.local host-1 host-12 "
				  "vmstat host-2");
	free(text);
	kf_redactor_free(r);
}

static void mac_addresses_run_together_are_each_replaced(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text, *single;

	(void)state;
	text = redact(r,
		      "IN=wlan0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=10.1.2.3");
	assert_false(contains(text, "33:44:55"));
	assert_false(contains(text, "99:aa:bb"));
	/* Vendor halves and the EtherType stay; the firewall field keeps its shape. */
	assert_non_null(strstr(text, "MAC=00:11:22:"));
	assert_non_null(strstr(text, ":66:77:88:"));
	assert_non_null(strstr(text, ":08:00 SRC=10."));
	assert_int_equal(strchr(strstr(text, "MAC="), ' ') - strstr(text, "MAC="), 4 + 41);
	/* The same MAC alone, in upper case, with dashes or without separators: one pseudonym. */
	single = redact(r, "00:11:22:33:44:55 00-11-22-33-44-55 001122334455 66:77:88:99:AA:BB");
	assert_false(contains(single, "33:44:55"));
	assert_false(contains(single, "33-44-55"));
	assert_false(contains(single, "334455"));
	assert_false(contains(single, "99:aa:bb"));
	assert_non_null(strstr(single, "66:77:88:"));
	/* "00:11:22:xx:yy:zz 00-11-22-xx-yy-zz 001122xxyyzz": the same octets each time. */
	assert_int_equal(strncmp(single + 18, "00-11-22-", 9), 0);
	assert_int_equal(strncmp(single + 9, single + 18 + 9, 2), 0);
	assert_int_equal(strncmp(single + 12, single + 18 + 12, 2), 0);
	assert_int_equal(strncmp(single + 9, single + 36 + 6, 2), 0);
	assert_int_equal(strncmp(single + 15, single + 36 + 10, 2), 0);
	/* The run of the firewall field holds the same pseudonym as the MAC alone. */
	assert_int_equal(strncmp(strstr(text, "MAC=") + 4, single, 17), 0);
	free(single);
	free(text);
	kf_redactor_free(r);
}

static void passwords_in_uris_are_redacted_and_users_pseudonymised(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;

	(void)state;
	text = redact(
		r, "DeviceURI ipp://bob:hunter2@printer.lan/ipp/print\n"
		   "smb://CORP;bob:S3cr3t%21@fileserver/share https://deploy:gh-pw-77@git.example/"
		   " ftp://anonymous@mirror/ and bob again\n");
	assert_false(contains(text, "hunter2"));
	assert_false(contains(text, "S3cr3t"));
	assert_false(contains(text, "gh-pw-77"));
	assert_false(contains(text, "bob"));
	assert_false(contains(text, "deploy"));
	assert_non_null(strstr(text, "ipp://user-1:" KF_REDACTED "@printer.lan/ipp/print"));
	assert_non_null(strstr(text, "@fileserver/share"));
	assert_non_null(strstr(text, " and user-1 again"));
	free(text);
	kf_redactor_free(r);
}

static void secret_values_in_log_lines_are_redacted(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;

	(void)state;
	text = redact(r, "app: token=tok_4f9a2 password: Pa55w0rd! passwd=pw1 secret=s3 "
			 "api_key=AKIA123 API_KEY: AKIA456 access_token=\"quoted value\" "
			 "\"password\": \"jsonpw\" Password:plain noise");
	assert_false(contains(text, "tok_4f9a2"));
	assert_false(contains(text, "Pa55w0rd"));
	assert_false(contains(text, "pw1"));
	assert_false(contains(text, "=s3"));
	assert_false(contains(text, "AKIA"));
	assert_false(contains(text, "quoted value"));
	assert_false(contains(text, "jsonpw"));
	assert_non_null(strstr(text, "token=" KF_REDACTED " password: " KF_REDACTED " "));
	assert_non_null(strstr(text, "access_token=\"" KF_REDACTED "\""));
	/* Without '=' or ": " it is not a key and value. */
	assert_non_null(strstr(text, "Password:plain noise"));
	free(text);
	kf_redactor_free(r);
}

static void email_addresses_become_pseudonyms(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;

	(void)state;
	text = redact(r, "From: <Jane.Doe+work@mail.example.co.uk>, jane.doe@example.org. "
			 "Started user@1000.service; again jane.doe@example.org");
	assert_false(contains(text, "jane.doe"));
	assert_false(contains(text, "example.org"));
	assert_non_null(strstr(text, "<email-1@example.invalid>, email-2@example.invalid. "));
	assert_non_null(strstr(text, "user@1000.service"));
	assert_non_null(strstr(text, "again email-2@example.invalid"));
	free(text);
	kf_redactor_free(r);
}

static void cifs_mount_options_lose_users_and_passwords(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;

	(void)state;
	text = redact_file(
		r, "etc/fstab",
		"//nas/home /mnt/home cifs username=carol,password=Tr0ub4dor,uid=1000 0 0\n"
		"//nas/media /mnt/media cifs credentials=/etc/samba/carol.cred,user=carol 0 0\n"
		"//nas/x /mnt/x cifs rw,vers=3.0,user=0 0 0\n");
	assert_false(contains(text, "carol"));
	assert_false(contains(text, "Tr0ub4dor"));
	assert_non_null(strstr(text, "username=user-1,password=" KF_REDACTED ",uid=1000 "));
	assert_non_null(strstr(text, "credentials=" KF_REDACTED ",user=user-1 "));
	assert_non_null(strstr(text, "user=0 "));
	free(text);
	kf_redactor_free(r);
}

static void ipv4_pseudonyms_come_from_fake_or_private_ranges(void **state)
{
	static const char *const private_nets[][2] = {
		{"10.20.30.40", "10.0.0.0/8"},      {"10.20.30.41", "10.0.0.0/8"},
		{"172.17.5.9", "172.16.0.0/12"},    {"192.168.1.23", "192.168.0.0/16"},
		{"192.168.1.77", "192.168.0.0/16"}, {"169.254.7.7", "169.254.0.0/16"},
		{"100.64.3.3", "100.64.0.0/10"},
	};
	struct kf_redactor *r = kf_redactor_new();
	char *a, *b, *c, net[20];
	size_t i;
	int bits;

	(void)state;
	for (i = 0; i < sizeof(private_nets) / sizeof(private_nets[0]); i++) {
		a = pseudonym_of(r, private_nets[i][0]);
		assert_int_equal(sscanf(private_nets[i][1], "%19[^/]/%d", net, &bits), 2);
		assert_true(in_net(a, net, bits));
		free(a);
	}
	/* Public addresses go to the documentation ranges, one /24 to one /24. */
	a = pseudonym_of(r, "8.8.4.4");
	b = pseudonym_of(r, "8.8.4.200");
	c = pseudonym_of(r, "93.184.216.34");
	assert_true(in_documentation(a) && in_documentation(b) && in_documentation(c));
	assert_true(in_net(a, b, 24));
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	free(c);
	/* Every one of 700 public addresses gets its own pseudonym. */
	{
		char seen[700][20], address[20];
		size_t k;
		for (i = 0; i < 700; i++) {
			snprintf(address, sizeof(address), "45.%zu.%zu.9", i / 200, i % 200);
			a = pseudonym_of(r, address);
			assert_true(in_documentation(a));
			snprintf(seen[i], sizeof(seen[i]), "%s", a);
			for (k = 0; k < i; k++)
				assert_string_not_equal(seen[k], seen[i]);
			free(a);
		}
	}
	kf_redactor_free(r);
}

static void ipv6_pseudonyms_come_from_documentation_and_ula_ranges(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	unsigned char a[16], b[16];
	char *global, *same_net, *ula, *text;

	(void)state;
	global = pseudonym_of(r, "2a00:1450:4001:82b::200e");
	same_net = pseudonym_of(r, "2a00:1450:4001:82b::1");
	ula = pseudonym_of(r, "fd12:3456:789a:1::5");
	assert_int_equal(inet_pton(AF_INET6, global, a), 1);
	assert_int_equal(inet_pton(AF_INET6, same_net, b), 1);
	assert_memory_equal(a, "\x20\x01\x0d\xb8", 4);
	assert_memory_equal(a, b, 8); /* one /64 stays one /64 */
	assert_int_equal(strncmp(ula, "fd", 2), 0);
	text = redact(r, "::1 ff02::1 2A00:1450:4001:82B::200E [2a00:1450:4001:82b::1]:443");
	assert_false(contains(text, "2a00:1450"));
	assert_non_null(strstr(text, "::1 ff02::1 2001:db8:"));
	free(text);
	free(global);
	free(same_net);
	free(ula);
	kf_redactor_free(r);
}

static void ipv4_with_a_port_is_still_an_address(void **state)
{
	struct kf_redactor *r = kf_redactor_new();
	char *text;

	(void)state;
	text = redact(r, "connect to 192.168.1.77:631 failed");
	assert_null(strstr(text, "192.168.1.77"));
	assert_non_null(strstr(text, ":631 failed"));
	free(text);
	kf_redactor_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_table_hex_addresses_become_hex_pseudonyms),
		cmocka_unit_test(ipv6_route_hex_addresses_become_hex_pseudonyms),
		cmocka_unit_test(host_name_inside_longer_words_and_any_case),
		cmocka_unit_test(mac_addresses_run_together_are_each_replaced),
		cmocka_unit_test(passwords_in_uris_are_redacted_and_users_pseudonymised),
		cmocka_unit_test(secret_values_in_log_lines_are_redacted),
		cmocka_unit_test(email_addresses_become_pseudonyms),
		cmocka_unit_test(cifs_mount_options_lose_users_and_passwords),
		cmocka_unit_test(ipv4_pseudonyms_come_from_fake_or_private_ranges),
		cmocka_unit_test(ipv6_pseudonyms_come_from_documentation_and_ula_ranges),
		cmocka_unit_test(ipv4_with_a_port_is_still_an_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
