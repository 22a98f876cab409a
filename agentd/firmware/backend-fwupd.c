/* kefu-agentd: the firmware backend that hands LVFS cabinets to fwupd for the devices fwupd
 * manages (fwupd.c runs its tools). SPDX-License-Identifier: MIT */
#include "agentd/firmware/backend.h"
#include "agentd/firmware/fwupd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fwupd_backend {
	const struct kf_fw_settings *settings;
	char tool[PATH_MAX]; /* fwupdmgr or fwupdtool, once describe() found one that answers */
};

static int fwupd_open(const struct kf_fw_settings *settings, void **state, struct kf_error *err)
{
	struct fwupd_backend *fwupd = calloc(1, sizeof(*fwupd));

	*state = NULL;
	if (fwupd == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	fwupd->settings = settings;
	*state = fwupd;
	return KF_OK;
}

static void fwupd_close(void *state)
{
	free(state);
}

/* A device fwupd manages and the cabinet is for, as a kefu device for the checks. */
static int fwupd_describe(void *state, const struct kf_fw_update *update, struct kf_fw_device **out,
			  struct kf_error *err)
{
	struct fwupd_backend *fwupd = state;
	struct kf_fwupd_device *devices = NULL;
	const struct kf_fwupd_device *match;
	struct kf_fw_device *d;
	size_t count = 0;
	int r;

	*out = NULL;
	if (update->source != KF_FW_SOURCE_CABINET)
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "fwupd installs LVFS cabinets, not kefu firmware packages.");
	if (fwupd->settings->device_id != NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "--device chooses among kefu's devices; fwupd's device is the "
				    "one the cabinet is for.");
	if ((r = kf_fwupd_open(fwupd->tool, sizeof(fwupd->tool), &devices, &count, err)) != KF_OK)
		return r;
	match = kf_fwupd_match(devices, count, update->metainfo);
	if (match == NULL || match->version == NULL) {
		kf_fwupd_devices_free(devices, count);
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "fwupd manages no updatable device that takes this firmware.");
	}
	d = calloc(1, sizeof(*d));
	if (d != NULL) {
		d->id = strdup(match->id); /* fwupd's DeviceId, which install() hands back to it */
		d->name = strdup(match->name != NULL ? match->name : match->id);
		d->version = strdup(match->version);
		d->boot_id = strdup("");
		d->format = match->version_format != NULL
				    ? kf_fw_version_format_from_string(match->version_format)
				    : kf_fw_version_guess_format(match->version);
		/* fwupd checks the image's size itself. */
		d->capacity = UINT64_MAX;
	}
	kf_fwupd_devices_free(devices, count);
	if (d == NULL || d->id == NULL || d->name == NULL || d->version == NULL ||
	    d->boot_id == NULL) {
		kf_fw_device_free(d);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	*out = d;
	return KF_OK;
}

/* fwupd names its own phases ("Writing", "Verifying"); each becomes a phase of kefu's. */
struct fwupd_relay {
	const struct kf_fw_install *job;
	char phase[64];
};

static void relay_progress(void *data, const char *phase, int percent)
{
	struct fwupd_relay *relay = data;

	if (strcmp(relay->phase, phase) != 0) {
		snprintf(relay->phase, sizeof(relay->phase), "%s", phase);
		relay->job->phase(relay->job->data, relay->phase);
	}
	relay->job->progress(relay->job->data, (uint64_t)percent, 100);
}

/* fwupd writes, checks and restarts the device; kefu relays and reads back its record. */
static enum kf_fw_installed fwupd_install(void *state, const struct kf_fw_install *job,
					  char *detail, size_t size)
{
	const struct fwupd_backend *fwupd = state;
	const char *target = job->update->metainfo->version, *tool_name;
	struct fwupd_relay relay = {job, ""};
	struct kf_error err;
	char version[64];
	int fwupd_state;

	if (kf_fwupd_install(fwupd->tool, job->file, job->device->id,
			     fwupd->settings->allow_reinstall, fwupd->settings->allow_older,
			     relay_progress, &relay, &fwupd_state, version, sizeof(version),
			     &err) != KF_OK) {
		snprintf(detail, size, "%s", err.message);
		return KF_FW_INSTALL_FAILED;
	}
	if (fwupd_state == KF_FWUPD_STATE_NEEDS_REBOOT || fwupd_state == KF_FWUPD_STATE_PENDING) {
		snprintf(detail, size, "fwupd wrote %s; it starts when the computer restarts",
			 target);
		return KF_FW_INSTALL_PENDING_REBOOT;
	}
	if (fwupd_state != KF_FWUPD_STATE_SUCCESS || strcmp(version, target) != 0) {
		snprintf(detail, size, "fwupd records the update as %s, version %s",
			 fwupd_state == KF_FWUPD_STATE_FAILED ||
					 fwupd_state == KF_FWUPD_STATE_FAILED_TRANSIENT
				 ? "failed"
				 : "unfinished",
			 version[0] != '\0' ? version : "unknown");
		return KF_FW_INSTALL_FAILED;
	}
	tool_name = strrchr(fwupd->tool, '/') != NULL ? strrchr(fwupd->tool, '/') + 1 : fwupd->tool;
	snprintf(detail, size, "fwupd (%.32s) installed it and records the device at %s", tool_name,
		 version);
	return KF_FW_INSTALL_DONE;
}

/* No list: fwupd shows its own devices (`fwupdmgr get-devices`); no restart: fwupd does it. */
const struct kf_fw_backend kf_fw_backend_fwupd = {
	.name = "fwupd",
	.managed_by = "fwupd",
	.is_default = true,
	.is_on_this_computer = true,
	.open = fwupd_open,
	.describe = fwupd_describe,
	.install = fwupd_install,
	.close = fwupd_close,
};
