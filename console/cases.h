/* kefu-console: the case history a session writes into. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_CASES_H
#define KF_CONSOLE_CASES_H

#include "console/cases/store.h"

/*
 * The console's configuration file: $KEFU_CONSOLE_DIR/console.conf, by default
 * ~/.config/kefu/console/console.conf. Writes the path into buffer.
 */
const char *kf_cases_config_path(char *buffer, size_t size);

/* The store's location from that file (see kf_case_store_location). */
const char *kf_cases_location(char *buffer, size_t size, struct kf_error *err);

/*
 * Records one case in the configured store (kf_case_store_record's record), or
 * queues it when the team's database cannot be reached (*id is then 0).
 */
int kf_cases_record(json_t *record, int64_t *id, struct kf_error *err);

#endif
