/* kefu-agentd: PCI and USB names from hwdata's pci.ids/usb.ids. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_IDS_H
#define KF_AGENTD_IDS_H

#include "proto/base/error.h"

#include <stddef.h>

/*
 * One device to name. The caller sets vendor, product and class_code (-1 when
 * it wants no class name; PCI: 0xCCSS.. as 24 bits, USB: the same shape); the
 * lookup fills the names it finds and leaves the others "".
 */
struct kf_ids_query {
	unsigned vendor;
	unsigned product;
	long class_code;
	char vendor_name[128];
	char name[256];
	char class_name[128];
};

/*
 * Names every query from the ids file at path in one pass. Only vendor lines and
 * the device lines of the vendors asked about are parsed; the pass stops when
 * every question has its answer. KF_ERR_NOT_FOUND when the file is missing.
 */
int kf_ids_lookup(const char *path, struct kf_ids_query *queries, size_t count,
		  struct kf_error *err);

/* Same, over text already in memory (tests and fuzzing). */
void kf_ids_lookup_text(const char *text, size_t len, struct kf_ids_query *queries, size_t count);

#endif
