/* kefu: fuzz target for the redaction of arbitrary text. SPDX-License-Identifier: MIT */
#include "agentd/diag/redact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Planted between two copies of the input: whatever surrounds them, they must not survive. */
static const char planted[] =
	"\npassword=Fz9PlantedPw ipp://u:Fz9UriPw@h/ mail Fz9.mail@example.org\n";

static bool contains(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_redactor *redactor;
	struct kf_buf text = {0}, out = {0};
	const char *name = size > 0 && data[0] & 1 ? "proc/net/route" : "kernel.log";

	if (size > 65536)
		return 0;
	redactor = kf_redactor_new();
	if (redactor == NULL)
		return 0;
	kf_redactor_add(redactor, KF_REDACT_HOST, "kestrel");
	kf_redactor_add(redactor, KF_REDACT_USER, "alice");
	kf_redactor_add(redactor, KF_REDACT_SERIAL, "PF2XK9QZ");
	if (kf_buf_append(&text, data, size) != KF_OK ||
	    kf_buf_append(&text, planted, strlen(planted)) != KF_OK ||
	    kf_buf_append(&text, data, size) != KF_OK)
		goto out;
	if (kf_redactor_file(redactor, name, (const char *)text.data, text.len, &out) != KF_OK)
		goto out;
	/* A pseudonym is at most 16 times what it replaces (IPv6 "1::" to 39 characters). */
	if (out.len > 16 * text.len + 64)
		abort();
	/* Only the planted copies count: the input may spell the same letters anywhere. */
	if (!contains(data, size, "Fz9") &&
	    (contains(out.data, out.len, "Fz9PlantedPw") ||
	     contains(out.data, out.len, "Fz9UriPw") || contains(out.data, out.len, "Fz9.mail")))
		abort();
	/* Redacting twice must not crash either, nor grow without bound. */
	kf_buf_reset(&text);
	if (kf_redactor_text(redactor, (const char *)out.data, out.len, &text) == KF_OK &&
	    text.len > 16 * out.len + 64)
		abort();
out:
	kf_buf_free(&text);
	kf_buf_free(&out);
	kf_redactor_free(redactor);
	return 0;
}
