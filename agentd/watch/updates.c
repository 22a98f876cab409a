/* kefu-agentd watch: security updates waiting for installed packages (apt).
 * SPDX-License-Identifier: MIT */
#include "agentd/tool.h"
#include "agentd/watch/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APT_CAP     (4 * 1024 * 1024)
#define NAMES_SHOWN 3

/*
 * `apt-get -s upgrade` simulates an upgrade from the package lists already on
 * the machine (it downloads nothing and needs no root): each "Inst PACKAGE
 * [OLD] (NEW ORIGIN [ARCH])" line is an update, a security one when its origin
 * is a security archive ("Debian-Security:12/stable-security"). KEFU_APT_GET
 * names another program in its place (a test seam).
 */
void kf_watch_updates(struct kf_watch_run *run)
{
	const char *program = getenv("KEFU_APT_GET");
	const char *argv[] = {program != NULL && program[0] ? program : "apt-get",
			      "-s",
			      "-q",
			      "-o",
			      "Debug::NoLocking=true",
			      "upgrade",
			      NULL};
	struct kf_tool_result result;
	struct kf_error err = {0};
	struct kf_buf out = {0};
	char names[256] = "";
	size_t len = 0, shown = 0;
	long count = 0;
	int r;

	if (!run->is_live && (program == NULL || program[0] == '\0')) {
		kf_watch_note(run, "updates are checked on the running system only");
		return;
	}
	r = kf_tool_run(argv, run->tool_timeout_ms * 4, APT_CAP, &out, &result, &err);
	if (r != KF_OK || result.exit_status != 0) {
		kf_watch_note(run, "waiting updates were not checked: %s",
			      r != KF_OK ? err.message : "apt-get -s upgrade failed");
		kf_buf_free(&out);
		return;
	}
	for (size_t at = 0; at < out.len;) {
		const char *line = (const char *)out.data + at;
		const char *nl = memchr(line, '\n', out.len - at);
		size_t n = nl ? (size_t)(nl - line) : out.len - at;
		char text[1024];

		at += n + 1;
		if (n < 5 || n >= sizeof(text) || strncmp(line, "Inst ", 5) != 0)
			continue;
		memcpy(text, line, n);
		text[n] = '\0';
		if (strstr(text, "-security") == NULL && strstr(text, "Security") == NULL)
			continue;
		count++;
		if (shown < NAMES_SHOWN) {
			const char *name = text + 5, *end = strchr(name, ' ');
			int w = (int)(end ? (size_t)(end - name) : strlen(name));
			int k = snprintf(names + len, sizeof(names) - len, "%s%.*s",
					 shown ? ", " : "", w, name);

			if (k > 0 && (size_t)k < sizeof(names) - len)
				len += (size_t)k;
			shown++;
		}
	}
	kf_buf_free(&out);
	kf_watch_measure(run, "updates", "security", (double)count);
	if (count > 0) {
		char fp[32];

		snprintf(fp, sizeof(fp), "%ld", count);
		kf_watch_find(run, "updates-security", fp, (double)count,
			      "Install them with your software updater (or: sudo apt upgrade).",
			      NULL, "%ld security update%s wait%s to be installed (%s%s)", count,
			      count == 1 ? "" : "s", count == 1 ? "s" : "", names,
			      count > NAMES_SHOWN ? ", ..." : "");
	}
}
