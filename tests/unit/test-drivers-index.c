/* kefu: unit tests for the drivers wing's indexes: Modaliases fields, package names, module files. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/drivers/modules.h"
#include "agentd/drivers/packages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pairs {
	char text[1024];
	size_t count;
};

static bool collect(const char *module, const char *pattern, void *data)
{
	struct pairs *p = data;
	size_t used = strlen(p->text);

	snprintf(p->text + used, sizeof(p->text) - used, "%s=%s;", module, pattern);
	p->count++;
	return true;
}

static void modaliases_field_is_split_as_dh_modaliases_writes_it(void **state)
{
	struct pairs p = {"", 0};
	(void)state;

	assert_int_equal(kf_pkg_modaliases_each("nvidia(pci:v000010DEd*sv*sd*bc03sc00i00, "
						"pci:v000010DEd*sv*sd*bc03sc02i00), "
						"nvidia_drm (usb:v1234p*)",
						collect, &p),
			 3);
	assert_string_equal(p.text, "nvidia=pci:v000010DEd*sv*sd*bc03sc00i00;"
				    "nvidia=pci:v000010DEd*sv*sd*bc03sc02i00;"
				    "nvidia_drm=usb:v1234p*;");
	/* Broken parts are skipped, never read past. */
	p = (struct pairs){"", 0};
	assert_int_equal(kf_pkg_modaliases_each("(x), a,b(y), ok(z), tail(", collect, &p), 1);
	assert_string_equal(p.text, "ok=z;");
	p = (struct pairs){"", 0};
	assert_int_equal(kf_pkg_modaliases_each("", collect, &p), 0);
}

static void package_names_follow_debian_policy(void **state)
{
	(void)state;
	assert_true(kf_pkg_name_is_valid("firmware-iwlwifi"));
	assert_true(kf_pkg_name_is_valid("libstdc++6"));
	assert_true(kf_pkg_name_is_valid("0ad"));
	assert_false(kf_pkg_name_is_valid("a"));
	assert_false(kf_pkg_name_is_valid("-oDpkg::Pre-Invoke=x"));
	assert_false(kf_pkg_name_is_valid("Foo"));
	assert_false(kf_pkg_name_is_valid("../x"));
	assert_false(kf_pkg_name_is_valid("foo bar"));
	assert_false(kf_pkg_name_is_valid("foo/bar"));
}

static void module_names_normalise_dashes(void **state)
{
	char out[32];
	(void)state;

	kf_kmod_normalize("snd-hda-intel", out, sizeof(out));
	assert_string_equal(out, "snd_hda_intel");
	kf_kmod_normalize("a-very-long-module-name-that-is-cut", out, 8);
	assert_string_equal(out, "a_very_");
}

/* A .modinfo section in a hand-made ELF64 file: what modinfo shows. */
static void modinfo_is_read_from_an_elf_object(void **state)
{
	static const char modinfo[] = "license=GPL\0version=2.1.0-k\0srcversion=ABCDEF\0";
	static const char names[] = "\0.modinfo\0.shstrtab\0";
	unsigned char elf[1024] = {0};
	char version[64], srcversion[64];
	struct kf_error err;
	size_t info_at = 64, names_at = info_at + sizeof(modinfo), sh_at = 256;
	(void)state;

	memcpy(elf, "\177ELF", 4);
	elf[4] = 2; /* 64-bit */
	elf[5] = 1; /* little-endian */
	elf[6] = 1;
	/* e_shoff at 0x28, e_shentsize 0x3a, e_shnum 0x3c, e_shstrndx 0x3e */
	elf[0x28] = (unsigned char)sh_at;
	elf[0x29] = (unsigned char)(sh_at >> 8);
	elf[0x3a] = 64;
	elf[0x3c] = 3;
	elf[0x3e] = 2;
	memcpy(elf + info_at, modinfo, sizeof(modinfo));
	memcpy(elf + names_at, names, sizeof(names));
	/* Section 1: .modinfo (sh_name 1, offset, size); section 2: .shstrtab. */
	elf[sh_at + 64 + 0] = 1;
	elf[sh_at + 64 + 24] = (unsigned char)info_at;
	elf[sh_at + 64 + 32] = sizeof(modinfo);
	elf[sh_at + 128 + 0] = 10;
	elf[sh_at + 128 + 24] = (unsigned char)names_at;
	elf[sh_at + 128 + 32] = sizeof(names);
	assert_int_equal(kf_kmod_modinfo_parse(elf, sizeof(elf), version, sizeof(version),
					       srcversion, sizeof(srcversion), &err),
			 0);
	assert_string_equal(version, "2.1.0-k");
	assert_string_equal(srcversion, "ABCDEF");
	/* A section that points past the end is refused, not read. */
	elf[sh_at + 64 + 32] = 0xff;
	elf[sh_at + 64 + 33] = 0xff;
	assert_int_equal(kf_kmod_modinfo_parse(elf, sizeof(elf), version, sizeof(version),
					       srcversion, sizeof(srcversion), &err),
			 KF_ERR_INVALID);
	assert_int_equal(kf_kmod_modinfo_parse((const unsigned char *)"#!/bin/sh", 9, version,
					       sizeof(version), srcversion, sizeof(srcversion),
					       &err),
			 KF_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modaliases_field_is_split_as_dh_modaliases_writes_it),
		cmocka_unit_test(package_names_follow_debian_policy),
		cmocka_unit_test(module_names_normalise_dashes),
		cmocka_unit_test(modinfo_is_read_from_an_elf_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
