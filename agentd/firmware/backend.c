/* kefu-agentd: the list of firmware backends, one row each. SPDX-License-Identifier: MIT */
#include "agentd/firmware/backend.h"

/* The order is the preference: a device that speaks kefu's protocol before fwupd's devices. */
const struct kf_fw_backend *const kf_fw_backends[] = {
	&kf_fw_backend_kefu,
	&kf_fw_backend_fwupd,
	&kf_fw_backend_ssh,
	NULL,
};

_Static_assert(sizeof(kf_fw_backends) / sizeof(kf_fw_backends[0]) <= KF_FW_BACKEND_MAX + 1,
	       "KF_FW_BACKEND_MAX is too small for the list of backends");
