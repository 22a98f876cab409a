/* kefu-agentd: driver packages installed and upgraded through PackageKit's D-Bus API. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVERS_PACKAGEKIT_H
#define KF_AGENTD_DRIVERS_PACKAGEKIT_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KF_DRIVERS_PACKAGEKIT_NAME "org.freedesktop.PackageKit"

/* How one install or upgrade goes through packagekitd. */
struct kf_drivers_packagekit {
	int timeout_s; /* the longest each transaction may take */
	bool is_upgrade;
	/* One progress line in plain words (what PackageKit is doing now); may be NULL. */
	void (*on_line)(const char *line, void *user);
	void *user;
};

/*
 * What PackageKit will do: the package IDs it resolved for the names asked for
 * (only those names, never another package it returns), and what its simulation
 * says the transaction brings along. Owned by the plan; kf_drivers_pk_plan_free.
 */
struct kf_drivers_pk_plan {
	char **package_ids;
	size_t count;
	json_t *also;    /* other packages it installs or upgrades: ["name version", ...] */
	json_t *removes; /* packages it removes: ["name version", ...] */
};

/*
 * Whether org.freedesktop.PackageKit is on the system bus ($DBUS_SYSTEM_BUS_ADDRESS
 * or the standard socket): running now, or activatable by the bus.
 */
bool kf_drivers_packagekit_available(void);

/*
 * Resolves each of the count names to the package ID of the version wanted (versions[i],
 * or the highest PackageKit offers when it is NULL or not offered), available and not
 * installed yet, then simulates the install or upgrade. Fills *plan.
 * KF_ERR_NOT_FOUND when PackageKit offers no such version; KF_ERR_IO when it fails.
 */
int kf_drivers_packagekit_plan(const struct kf_drivers_packagekit *pk, const char *const *names,
			       const char *const *versions, size_t count,
			       struct kf_drivers_pk_plan *plan, struct kf_error *err);

/*
 * Installs (InstallPackages) or upgrades (UpdatePackages) the plan's packages with
 * only trusted sources allowed, relaying PackageKit's Package, ItemProgress and
 * Percentage as lines. KF_OK when the transaction finished with success;
 * KF_ERR_DENIED when nobody authorised it or a package is not trusted;
 * KF_ERR_TIMEOUT (the transaction is cancelled) or KF_ERR_IO with PackageKit's error.
 */
int kf_drivers_packagekit_apply(const struct kf_drivers_packagekit *pk,
				const struct kf_drivers_pk_plan *plan, struct kf_error *err);

void kf_drivers_pk_plan_free(struct kf_drivers_pk_plan *plan);

/*
 * Field n (0 name, 1 version, 2 architecture, 3 data) of a PackageKit package ID
 * "name;version;arch;data", escaped for a terminal, into out (cut to size bytes);
 * "?" when the ID has no such field.
 */
void kf_drivers_pk_id_field(const char *id, int n, char *out, size_t size);

/* Whether the package ID's name is exactly name ("bash;..." is bash, "bash-x;..." is not). */
bool kf_drivers_pk_id_is_named(const char *id, const char *name);

/*
 * Of packages, what Resolve said ([[info, package_id], ...]), the ID (borrowed) to install
 * for name: an available one (never an installed one, never another name), the version
 * wanted when it is offered, else the highest valid one; for an upgrade only versions
 * above the installed one count. NULL when none is.
 */
const char *kf_drivers_pk_choose(const json_t *packages, const char *name, const char *wanted,
				 bool is_upgrade);

#endif
