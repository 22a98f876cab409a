/* kefu-console: the technician's case history, in SQLite. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_CASES_H
#define KF_CONSOLE_CASES_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every session the console joined, with what happened in it, kept in one SQLite
 * file on the technician's machine: $XDG_DATA_HOME/kefu/console/cases.sqlite (by
 * default ~/.local/share/kefu/console/cases.sqlite). A team that shares its history
 * moves it to a server database; the table is plain enough for that.
 */

/* Writes the default path into buffer and returns it. */
const char *kf_cases_default_path(char *buffer, size_t size);

/*
 * Records one case. record holds: session, technician, organisation, started,
 * ended, outcome, advice, and journal (an array of {time, kind, text}). Returns
 * the case number in *id.
 */
int kf_cases_record(const char *path, json_t *record, int64_t *id, struct kf_error *err);

#endif
