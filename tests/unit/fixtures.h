/* kefu tests: the fixtures in tests/fixtures/ (real device recordings, real LVFS firmware). SPDX-License-Identifier: MIT */
#ifndef KF_TESTS_FIXTURES_H
#define KF_TESTS_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/*
 * The fixtures folder inside the checkout: $KEFU_FIXTURES_DIR when set, else
 * $KEFU_SOURCE_DIR/tests/fixtures (tests/run sets it), else tests/fixtures under the
 * current folder. A missing folder fails the running test (cmocka's fail_msg), never a
 * skip: the fixtures are part of the checkout.
 */
const char *fixtures_dir(void);

/*
 * Writes fixtures_dir()/relative (e.g. "fwupd/LVFS-CA.pem") into out and returns out;
 * fails the running test when that file is not readable or does not fit.
 */
char *fixture_path(const char *relative, char *out, size_t size);

/* A whole file, with a NUL after its last byte; NULL when unreadable. The caller frees it. */
uint8_t *read_whole_file(const char *path, size_t *len);

/* read_whole_file() of fixtures_dir()/fwupd/name; fails the running test when it is missing. */
uint8_t *read_fwupd_fixture(const char *name, size_t *len);

#endif
