/* kefu: libFuzzer target for the plugin manifest parser and applicability. SPDX-License-Identifier:
 * MIT */
#include "proto/plugin/manifest.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every manifest that parses is put in a language and matched against a small fixed report. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_plugin_manifest *m = NULL;
	struct kf_error err;
	json_t *report;

	if (kf_plugin_manifest_parse((const char *)data, size, &m, &err) < 0)
		return 0;
	report = json_loads("{\"system\":{\"os\":{\"id\":\"debian\",\"version_id\":\"13\"},"
			    "\"dmi\":{\"sys_vendor\":\"ACME\"}},\"devices\":[{\"id\":\"d\","
			    "\"bus\":\"pci\",\"vendor_id\":\"8086\",\"driver\":null,"
			    "\"module\":{\"name\":\"iwlwifi\"}}]}",
			    0, NULL);
	kf_plugin_manifest_localize(m, size % 2 ? "zh_CN.UTF-8" : "de_AT");
	kf_plugin_manifest_applies(m, report, "/nonexistent", NULL);
	json_decref(report);
	kf_plugin_manifest_free(m);
	return 0;
}
