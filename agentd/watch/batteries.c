/* kefu-agentd watch: batteries' wear (full charge against the design) and its trend.
 * SPDX-License-Identifier: MIT */
#include "agentd/sysfs.h"
#include "agentd/watch/run.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPPLIES "/sys/class/power_supply"
/*
 * A battery is worn out when it holds less than 80 % of its design charge: the
 * end of life in laptop makers' battery ratings (Apple, for one, rates its
 * batteries to keep 80 % of their capacity for a stated number of cycles).
 */
#define WORN_PERCENT 80.0
#define TREND_WINDOW (365LL * KF_WATCH_DAY)

static double attr_number(const char *root, const char *dir, const char *name)
{
	char text[64], *end;
	double value;

	if (kf_sysfs_attr(root, dir, name, text, sizeof(text)) != KF_OK)
		return -1;
	value = strtod(text, &end);
	return end != text && value >= 0 ? value : -1;
}

static void battery(struct kf_watch_run *run, const char *name)
{
	char dir[512], type[32], rule[300], trend[128] = "", label[256];
	struct kf_watch_point *points;
	double full, design, health;
	size_t n;

	snprintf(dir, sizeof(dir), SUPPLIES "/%s", name);
	/* The folder's name reaches the customer's screen: printable only. */
	snprintf(label, sizeof(label), "%s", name);
	kf_text_sanitize(label, strlen(label));
	name = label;
	if (kf_sysfs_attr(run->root, dir, "type", type, sizeof(type)) != KF_OK ||
	    strcmp(type, "Battery") != 0)
		return;
	full = attr_number(run->root, dir, "energy_full");
	design = attr_number(run->root, dir, "energy_full_design");
	if (full < 0 || design <= 0) {
		full = attr_number(run->root, dir, "charge_full");
		design = attr_number(run->root, dir, "charge_full_design");
	}
	if (full < 0 || design <= 0) {
		kf_watch_note(run, "battery %s reports no full and design charge", name);
		return;
	}
	health = 100.0 * full / design;
	if (kf_watch_history(run, "battery", name, run->now - TREND_WINDOW, &points, &n) == KF_OK) {
		if (n > 0 && points[0].value - health >= 0.5) {
			char span[32];

			kf_watch_span_words(run->now - points[0].time, span, sizeof(span));
			snprintf(trend, sizeof(trend), "; it held %.0f%% %s ago", points[0].value,
				 span);
		}
		free(points);
	}
	kf_watch_measure(run, "battery", name, health);
	if (health < WORN_PERCENT) {
		snprintf(rule, sizeof(rule), "battery-worn:%s", name);
		kf_watch_find(run, rule, "worn", 1,
			      "The battery is worn and lasts shorter than it did; ask your "
			      "vendor about a replacement.",
			      NULL, "battery %s now holds %.0f%% of the charge it held when new%s",
			      name, health, trend);
	}
}

void kf_watch_batteries(struct kf_watch_run *run)
{
	char path[4096];
	struct dirent **names;
	int n, i;

	if (kf_sysfs_path(run->root, SUPPLIES, path, sizeof(path)) != KF_OK)
		return;
	n = scandir(path, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && strlen(names[i]->d_name) < 64)
			battery(run, names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}
