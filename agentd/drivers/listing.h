/* kefu-agentd: each device's driver, its package, and the packages that would give one. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVERS_LISTING_H
#define KF_AGENTD_DRIVERS_LISTING_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define KF_DRIVERS_SCHEMA "kefu.drivers/1"

/*
 * Collects the devices of the system under root (the diagnostics collectors: sysfs,
 * the kernel log) and matches them against the kernel's modules and dpkg's and apt's
 * indexes under the same root. *listing is a new JSON document (caller owns):
 *
 *   {"schema": "kefu.drivers/1", "kernel": RELEASE,
 *    "sources": {"modules_alias": bool, "dpkg_status": bool, "apt_lists": N, "contents": N},
 *    "devices": [{"id", "name", "status", "modalias", "driver", "needs_driver",
 *                 "module": {"name", "version", "srcversion", "file", "built_in"} | null,
 *                 "package": {"name", "version", "candidate"} | null,
 *                 "providers": [{"kind": "kernel-module", "module", "loaded", "blacklisted",
 *                                "package"} |
 *                               {"kind": "package", "package", "version", "installed",
 *                                "module", "pattern"}],
 *                 "firmware_missing": [{"file", "installed_by", "packages": [{"name",
 *                                       "version" (installed, or null), "candidate"}]}]}],
 *    "firmware_missing": [...those the log tied to no listed device],
 *    "upgrades": [{"package", "installed", "candidate", "devices": [ID...]}],
 *    "notes": [...]}
 */
int kf_drivers_list(const char *root, json_t **listing, struct kf_error *err);

/*
 * What the listing offers for package: "install" (it gives a device a driver or a
 * missing firmware file), "upgrade" (a newer version of a driver package in use), or
 * NULL when the listing does not name it. kefu installs nothing else.
 */
const char *kf_drivers_offer(const json_t *listing, const char *package);

/* Prints the listing in plain words (publisher text escaped). */
void kf_drivers_print(const json_t *listing, FILE *out);

#endif
