/* kefu: fuzz target for the kernel-log parser and redaction. SPDX-License-Identifier: MIT */
#include "agentd/diag/kernel-log.h"
#include "agentd/diag/redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_kernel_events *events = calloc(1, sizeof(*events));
	struct kf_redactor *redactor;
	struct kf_buf out = {0};
	size_t i;

	if (events == NULL)
		return 0;
	kf_kernel_log_parse((const char *)data, size, events);
	if (events->count > KF_KERNEL_EVENTS_MAX)
		abort();
	for (i = 0; i < events->count; i++) {
		if (memchr(events->items[i].line, '\0', sizeof(events->items[i].line)) == NULL ||
		    events->items[i].count == 0)
			abort();
	}
	free(events);

	/* Redaction sees the same text in a bundle; it must neither crash nor loop. */
	redactor = kf_redactor_new();
	if (redactor == NULL)
		return 0;
	kf_redactor_add(redactor, KF_REDACT_HOST, "host");
	kf_redactor_add(redactor, KF_REDACT_USER, "alice");
	if (kf_redactor_text(redactor, (const char *)data, size, &out) != KF_OK)
		abort();
	kf_buf_free(&out);
	kf_redactor_free(redactor);
	return 0;
}
