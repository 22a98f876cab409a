/* kefu: unit tests for dpkg version comparison, checked against dpkg itself. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/drivers/dpkg-version.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* Versions whose order a packager meets: epochs, tildes, revisions, zeros, letters. */
static const char *const tricky[] = {
	"0",
	"0.0",
	"00",
	"1",
	"1.0",
	"1.00",
	"1.0-1",
	"1.0-0",
	"1.0-1.1",
	"1.0-1~bpo1",
	"1.0~rc1",
	"1.0~rc1-1",
	"1.0~~",
	"1.0~",
	"1.0+b1",
	"1.0+dfsg-1",
	"1.0a",
	"1.0.a",
	"1.0-a",
	"1:0.9",
	"1:1.0",
	"2:0",
	"0:1.0",
	"10",
	"9",
	"1.10",
	"1.9",
	"1.001",
	"1.1",
	"1.0-10",
	"1.0-9",
	"1.0-1ubuntu1",
	"1.0-1+deb12u1",
	"1.0-1+deb12u2",
	"6.1.55-1",
	"6.1.0-13",
	"3.49.0",
	"3.49.0-1",
	"2.4.0~git20230101-2",
	"1.2.3+really1.2.2-1",
	"1.0.0~beta.1",
	"5.10.0-0.deb10.16",
	"7:4.4.1-3",
	"1:2:",
	"1:1.0:1-1",
	"0.9.9.9",
	"1a",
	"1A",
	"1.A",
	"1.+",
	"1.~",
	"1~~a",
	"1~a",
};

/* What dpkg says: the sign of a compared with b, asking `dpkg --compare-versions`. */
static int dpkg_compare(const char *a, const char *b)
{
	const char *ops[] = {"lt", "eq"};

	for (int i = 0; i < 2; i++) {
		char dpkg[] = "dpkg", option[] = "--compare-versions", op[4];
		char *argv[] = {dpkg, option, (char *)a, op, (char *)b, NULL};
		pid_t pid;
		int status;

		snprintf(op, sizeof(op), "%s", ops[i]);
		assert_int_equal(posix_spawnp(&pid, "dpkg", NULL, NULL, argv, environ), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_true(WEXITSTATUS(status) <= 1);
		if (WEXITSTATUS(status) == 0)
			return i == 0 ? -1 : 0;
	}
	return 1;
}

static int sign(int v)
{
	return v < 0 ? -1 : v > 0 ? 1 : 0;
}

static void check_pair(const char *a, const char *b)
{
	int expected = dpkg_compare(a, b), got = sign(kf_dpkg_version_compare(a, b));

	if (expected != got)
		fail_msg("%s vs %s: dpkg says %d, kefu %d", a, b, expected, got);
}

static void tricky_versions_order_as_dpkg_orders_them(void **state)
{
	size_t n = sizeof(tricky) / sizeof(tricky[0]), pairs = 0;
	(void)state;

	for (size_t i = 0; i < n; i++) {
		assert_true(kf_dpkg_version_is_valid(tricky[i]));
		/* Each version against its neighbours and a spread of the others. */
		for (size_t j = i; j < n; j += 1 + (j - i) * 3) {
			check_pair(tricky[i], tricky[j]);
			pairs++;
		}
	}
	assert_true(pairs > 150);
}

/* A random version from pieces that stress the rules; seeded, so a failure repeats. */
static void random_version(unsigned *seed, char *out, size_t size)
{
	static const char *const pieces[] = {"0", "1", "2", "9", "10", "00", "010", ".",  "+", "~",
					     "a", "b", "z", "A", "Z",  "rc", "~rc", "+b", ".0"};
	size_t len = 0, parts = 1 + (unsigned)rand_r(seed) % 5;

	if (rand_r(seed) % 4 == 0)
		len += (size_t)snprintf(out, size, "%d:", rand_r(seed) % 3);
	len += (size_t)snprintf(out + len, size - len, "%d", rand_r(seed) % 12);
	for (size_t i = 0; i < parts; i++)
		len += (size_t)snprintf(out + len, size - len, "%s",
					pieces[(unsigned)rand_r(seed) % 19]);
	if (rand_r(seed) % 2 == 0) {
		len += (size_t)snprintf(out + len, size - len, "-%d", rand_r(seed) % 4);
		if (rand_r(seed) % 2 == 0)
			snprintf(out + len, size - len, "%s", pieces[(unsigned)rand_r(seed) % 19]);
	}
}

static void random_versions_order_as_dpkg_orders_them(void **state)
{
	unsigned seed = 20261202;
	char a[96], b[96];
	(void)state;

	for (int i = 0; i < 400; i++) {
		random_version(&seed, a, sizeof(a));
		/* Half the pairs share a prefix, where the interesting differences are. */
		if (i % 2 == 0) {
			snprintf(b, sizeof(b), "%s", a);
			random_version(&seed, b + strlen(b) / 2, sizeof(b) - strlen(b) / 2);
			if (!kf_dpkg_version_is_valid(b))
				random_version(&seed, b, sizeof(b));
		} else
			random_version(&seed, b, sizeof(b));
		if (!kf_dpkg_version_is_valid(a) || !kf_dpkg_version_is_valid(b))
			continue;
		check_pair(a, b);
	}
}

/* What dpkg calls bad syntax (an error or a warning) is refused. */
static void malformed_versions_are_refused(void **state)
{
	const char *bad[] = {"",      ":1",    "a:1",     "1:",     "1-",      "-1", "a1.0",
			     "1.0 1", "1.0_1", "1.0-1:1", "1.0-1-", "1.0-a_b", "1:a"};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kf_dpkg_version_is_valid(bad[i]))
			fail_msg("'%s' was taken for a version", bad[i]);
	assert_true(kf_dpkg_version_is_valid("1:1.0-1:1") == false);
	assert_true(kf_dpkg_version_is_valid("1.0-1-1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tricky_versions_order_as_dpkg_orders_them),
		cmocka_unit_test(random_versions_order_as_dpkg_orders_them),
		cmocka_unit_test(malformed_versions_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
