/* kefu: libFuzzer target for the support journal read from audit-log lines. SPDX-License-Identifier: MIT */
#include "agentd/journal/journal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *journal = kf_journal_from_audit((const char *)data, size, "aa11");
	char *digest = kf_journal_digest((const char *)data, size, 1796205600, NULL);

	json_decref(journal);
	free(digest);
	return 0;
}
