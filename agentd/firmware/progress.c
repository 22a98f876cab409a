/* kefu-agentd: the firmware command's progress on a terminal, as lines, or as JSON lines.
 * SPDX-License-Identifier: MIT */
#include "agentd/firmware/progress.h"

#include <stdio.h>
#include <unistd.h>

void kf_fw_progress_init(struct kf_fw_progress *p, bool is_json)
{
	p->is_tty = isatty(STDERR_FILENO);
	p->last_percent = -1;
	p->phase = NULL;
	p->is_json = is_json;
}

void kf_fw_progress_phase(void *data, const char *phase)
{
	struct kf_fw_progress *p = data;

	if (p->is_json) {
		p->phase = phase;
		p->last_percent = -1;
		printf("{\"phase\":\"%s\"}\n", phase);
		fflush(stdout);
		return;
	}
	if (p->is_tty && p->phase != NULL)
		fputc('\n', stderr);
	p->phase = phase;
	p->last_percent = -1;
	if (!p->is_tty)
		fprintf(stderr, "%s...\n", phase);
}

void kf_fw_progress_show(void *data, uint64_t done, uint64_t total)
{
	struct kf_fw_progress *p = data;
	int percent = total > 0 ? (int)(done * 100 / total) : 100;
	char bar[41];

	if (p->is_json && percent != p->last_percent && p->phase != NULL) {
		p->last_percent = percent;
		printf("{\"phase\":\"%s\",\"percent\":%d}\n", p->phase, percent);
		fflush(stdout);
		return;
	}
	if (!p->is_tty || percent == p->last_percent)
		return;
	p->last_percent = percent;
	for (int i = 0; i < 40; i++)
		bar[i] = i < percent * 40 / 100 ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r%-20s [%s] %3d%%", p->phase, bar, percent);
	fflush(stderr);
}

void kf_fw_progress_end(struct kf_fw_progress *p)
{
	if (p->is_tty && p->phase != NULL)
		fputc('\n', stderr);
	p->phase = NULL;
}
