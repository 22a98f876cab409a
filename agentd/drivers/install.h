/* kefu-agentd: driver packages installed and upgraded through apt-get. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_DRIVERS_INSTALL_H
#define KF_AGENTD_DRIVERS_INSTALL_H

#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_DRIVERS_APT_TIMEOUT_S 1800 /* the longest one apt-get run may take */

/* How apt-get is reached. */
struct kf_drivers_apt {
	const char *apt_config; /* APT_CONFIG for apt-get (a private configuration), or NULL */
	int timeout_s;
	bool is_upgrade;
};

/*
 * Runs `apt-get install` (or `install --only-upgrade` when is_upgrade) of the count
 * packages, non-interactive, its output on stderr, and waits at most timeout_s.
 * As root apt-get runs directly; otherwise this same program runs itself through
 * pkexec (`drivers install|upgrade --yes PKG...` on the live system), so that an
 * administrator approves, and the elevated side checks the packages again.
 * KF_OK when apt-get (or the elevated side) exited 0; KF_ERR_DENIED when nobody
 * approved the elevation; KF_ERR_IO with apt-get's exit status otherwise.
 */
int kf_drivers_apt_run(const struct kf_drivers_apt *apt, const char *const *packages, size_t count,
		       struct kf_error *err);

#endif
