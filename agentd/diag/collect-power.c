/* kefu-agentd collector: batteries (charge, health), mains power. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POWER_CLASS "/sys/class/power_supply"

static void add_battery(struct kf_collect_ctx *ctx, const char *dir, const char *name, json_t *list)
{
	json_t *battery = json_object();
	char value[KF_ATTR_SIZE];
	long long full, design, capacity, cycles;

	kf_json_set_str(battery, "name", name);
	capacity = kf_collect_attr_number(ctx, dir, "capacity");
	json_object_set_new(battery, "capacity_percent",
			    capacity >= 0 ? json_integer(capacity) : json_null());
	kf_collect_attr(ctx, dir, "status", value, sizeof(value));
	kf_json_set_str(battery, "status", value);
	/* Health: what the battery holds now against what it held new (energy or charge). */
	full = kf_collect_attr_number(ctx, dir, "energy_full");
	design = kf_collect_attr_number(ctx, dir, "energy_full_design");
	if (full < 0 || design <= 0) {
		full = kf_collect_attr_number(ctx, dir, "charge_full");
		design = kf_collect_attr_number(ctx, dir, "charge_full_design");
	}
	json_object_set_new(battery, "health_percent",
			    full >= 0 && design > 0 ? json_integer(full * 100 / design)
						    : json_null());
	cycles = kf_collect_attr_number(ctx, dir, "cycle_count");
	json_object_set_new(battery, "cycle_count",
			    cycles >= 0 ? json_integer(cycles) : json_null());
	kf_collect_attr(ctx, dir, "health", value, sizeof(value));
	kf_json_set_str(battery, "health", value);
	kf_collect_attr(ctx, dir, "manufacturer", value, sizeof(value));
	kf_json_set_str(battery, "manufacturer", value);
	kf_collect_attr(ctx, dir, "model_name", value, sizeof(value));
	kf_json_set_str(battery, "model", value);
	kf_collect_attr(ctx, dir, "serial_number", value, sizeof(value));
	kf_json_set_str(battery, "serial", value);
	kf_collect_attr(ctx, dir, "technology", value, sizeof(value));
	kf_json_set_str(battery, "technology", value);
	json_array_append_new(list, battery);
}

int kf_collect_power(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	json_t *batteries = json_array(), *ac = json_null();
	char **names, dir[PATH_MAX], type[64];
	size_t count, i;
	int r;

	json_object_set_new(ctx->report->power, "batteries", batteries);
	r = kf_collect_list(ctx, POWER_CLASS, &names, &count, err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_collect_note(ctx, "no power supplies (%s absent)", POWER_CLASS);
		kf_error_clear(err);
		json_object_set_new(ctx->report->power, "ac_online", ac);
		return KF_OK;
	}
	if (r != KF_OK) {
		json_object_set_new(ctx->report->power, "ac_online", ac);
		return r;
	}
	for (i = 0; i < count; i++) {
		snprintf(dir, sizeof(dir), POWER_CLASS "/%s", names[i]);
		kf_collect_attr(ctx, dir, "type", type, sizeof(type));
		if (strcmp(type, "Battery") == 0) {
			add_battery(ctx, dir, names[i], batteries);
		} else if (strcmp(type, "Mains") == 0) {
			long long online = kf_collect_attr_number(ctx, dir, "online");
			if (online >= 0 && !json_is_true(ac)) {
				json_decref(ac);
				ac = json_boolean(online == 1);
			}
		}
	}
	json_object_set_new(ctx->report->power, "ac_online", ac);
	if (count == 0)
		kf_collect_note(
			ctx,
			"no battery and no mains adapter reported (desktop or virtual machine)");
	kf_collect_list_free(names, count);
	return KF_OK;
}
