/* kefu-agentd collector: the processor (model, counts, flags). SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cpu_facts {
	char model[KF_ATTR_SIZE];
	char vendor[64];
	long logical;
	long cores;
	long sockets_seen[64];
	size_t socket_count;
	bool has_virtualization;
	bool is_hypervisor_guest;
};

static void cpuinfo_line(const char *line, struct cpu_facts *facts)
{
	const char *colon = strchr(line, ':');
	char key[64];
	size_t key_len;
	const char *value;

	if (colon == NULL)
		return;
	key_len = (size_t)(colon - line);
	while (key_len > 0 && (line[key_len - 1] == ' ' || line[key_len - 1] == '\t'))
		key_len--;
	if (key_len >= sizeof(key))
		return;
	memcpy(key, line, key_len);
	key[key_len] = '\0';
	value = colon + 1;
	while (*value == ' ')
		value++;
	if (strcmp(key, "processor") == 0) {
		facts->logical++;
	} else if (strcmp(key, "model name") == 0 && facts->model[0] == '\0') {
		snprintf(facts->model, sizeof(facts->model), "%s", value);
	} else if (strcmp(key, "vendor_id") == 0 && facts->vendor[0] == '\0') {
		snprintf(facts->vendor, sizeof(facts->vendor), "%s", value);
	} else if (strcmp(key, "cpu cores") == 0 && facts->cores == 0) {
		facts->cores = atol(value);
	} else if (strcmp(key, "physical id") == 0) {
		long id = atol(value);
		size_t i;
		for (i = 0; i < facts->socket_count; i++)
			if (facts->sockets_seen[i] == id)
				return;
		if (facts->socket_count < sizeof(facts->sockets_seen) / sizeof(long))
			facts->sockets_seen[facts->socket_count++] = id;
	} else if (strcmp(key, "flags") == 0 && facts->logical <= 1) {
		facts->has_virtualization = strstr(value, " vmx") || strstr(value, " svm");
		facts->is_hypervisor_guest = strstr(value, " hypervisor") != NULL;
	}
}

int kf_collect_cpu(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	struct kf_buf buf = {0};
	struct cpu_facts facts;
	json_t *cpu = json_object();
	char *text, *line, *save = NULL;
	int r;

	memset(&facts, 0, sizeof(facts));
	json_object_set_new(ctx->report->system, "cpu", cpu);
	r = kf_collect_read(ctx, "/proc/cpuinfo", KF_RAW_CAP, "proc/cpuinfo", &buf, err);
	if (r != KF_OK)
		return r;
	text = malloc(buf.len + 1);
	if (text == NULL) {
		kf_buf_free(&buf);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	memcpy(text, buf.data, buf.len);
	text[buf.len] = '\0';
	kf_text_sanitize(text, buf.len);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		cpuinfo_line(line, &facts);
	kf_json_set_str(cpu, "model", facts.model);
	kf_json_set_str(cpu, "vendor", facts.vendor);
	json_object_set_new(cpu, "logical_cpus", json_integer(facts.logical));
	json_object_set_new(cpu, "cores_per_socket",
			    facts.cores ? json_integer(facts.cores) : json_null());
	json_object_set_new(cpu, "sockets",
			    json_integer(facts.socket_count ? (json_int_t)facts.socket_count : 1));
	json_object_set_new(cpu, "virtualization", json_boolean(facts.has_virtualization));
	json_object_set_new(cpu, "hypervisor_guest", json_boolean(facts.is_hypervisor_guest));
	free(text);
	kf_buf_free(&buf);
	return KF_OK;
}
