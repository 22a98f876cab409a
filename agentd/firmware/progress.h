/* kefu-agentd: how the firmware command shows its phases and how far each is: a bar on a
 * terminal, a line per phase otherwise, JSON lines with --progress-json. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_PROGRESS_H
#define KF_AGENTD_FW_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct kf_fw_progress {
	bool is_tty; /* standard error is a terminal: one bar redrawn in place */
	int last_percent;
	const char *phase; /* kept as given: it must live until the next phase or the end */
	bool is_json;      /* one JSON line per phase and percent, on standard output */
};

/* A display that has shown nothing yet; is_json for --progress-json. */
void kf_fw_progress_init(struct kf_fw_progress *progress, bool is_json);

/* A new phase ("verify", "write", ...); data is the struct kf_fw_progress. */
void kf_fw_progress_phase(void *data, const char *phase);

/* How far the phase is: done of total (a kf_fw_progress_fn). */
void kf_fw_progress_show(void *data, uint64_t done, uint64_t total);

/* Ends the current phase's line. */
void kf_fw_progress_end(struct kf_fw_progress *progress);

#endif
