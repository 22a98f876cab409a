/* kefu tests: the shared fixtures (real device recordings, real LVFS firmware). SPDX-License-Identifier: MIT */
#ifndef KF_TESTS_FIXTURES_H
#define KF_TESTS_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/*
 * The fixtures folder: $KEFU_FIXTURES_DIR, else ../shared/fixtures beside the
 * checkout, else ../../shared/fixtures beside a worktree folder.
 */
const char *fixtures_dir(void);

/* A whole file, with a NUL after its last byte; NULL when unreadable. The caller frees it. */
uint8_t *read_whole_file(const char *path, size_t *len);

/* read_whole_file() of fixtures_dir()/fwupd/name. */
uint8_t *read_fwupd_fixture(const char *name, size_t *len);

#endif
