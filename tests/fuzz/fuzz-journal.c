/* kefu: fuzz target for kernel messages read from the journal's JSON. SPDX-License-Identifier: MIT */
#include "agentd/diag/kernel-log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_CAP (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	struct kf_kernel_journal_stats stats;
	struct kf_buf text = {0};
	size_t i, lines = 0;

	if (events == NULL)
		return 0;
	if (kf_kernel_journal_text((const char *)data, size, TEXT_CAP, &text, &stats) != KF_OK)
		goto out; /* out of memory only */
	/* Whole lines within the cap, one per entry, and no byte that breaks a line. */
	if (text.len > TEXT_CAP || (text.len > 0 && text.data[text.len - 1] != '\n'))
		abort();
	for (i = 0; i < text.len; i++) {
		if (text.data[i] == '\n')
			lines++;
		else if (text.data[i] < 0x20)
			abort();
	}
	if (lines != stats.entries)
		abort();
	kf_kernel_log_parse((const char *)text.data, text.len, events);
	if (events->count > KF_KERNEL_EVENTS_MAX || events->lines != lines)
		abort();
out:
	kf_buf_free(&text);
	free(events);
	return 0;
}
