/* kefu-agentd: the firmware backend for devices that speak proto/firmware/DEVICE.md on a Unix
 * socket in the devices folder. SPDX-License-Identifier: MIT */
#include "agentd/commands.h"
#include "agentd/firmware/backend.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESTART_WAIT_MS 30000 /* how long a restarting device may take to answer again */

struct kefu_backend {
	const struct kf_fw_settings *settings;
};

static int kefu_open(const struct kf_fw_settings *settings, void **state, struct kf_error *err)
{
	struct kefu_backend *kefu = calloc(1, sizeof(*kefu));

	*state = NULL;
	if (kefu == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	kefu->settings = settings;
	*state = kefu;
	return KF_OK;
}

static void kefu_close(void *state)
{
	free(state);
}

static int kefu_list(void *state, struct kf_fw_listing *listing, struct kf_error *err)
{
	const struct kefu_backend *kefu = state;

	listing->where = kefu->settings->devices;
	return kf_fw_device_list(kefu->settings->devices, &listing->devices, &listing->count,
				 &listing->unreachable, err);
}

static int kefu_describe(void *state, const struct kf_fw_update *update, struct kf_fw_device **out,
			 struct kf_error *err)
{
	const struct kefu_backend *kefu = state;
	const struct kf_fw_metainfo *metainfo = update->metainfo;
	const char *device_id = kefu->settings->device_id;
	struct kf_fw_device **devices;
	size_t count, unreachable, matches = 0, chosen = 0;
	int r = kf_fw_device_list(kefu->settings->devices, &devices, &count, &unreachable, err);

	*out = NULL;
	if (r != KF_OK)
		return r;
	for (size_t i = 0; i < count; i++) {
		if (device_id != NULL && strcmp(devices[i]->id, device_id) != 0)
			continue;
		if (kf_fw_device_matches(devices[i], metainfo)) {
			matches++;
			chosen = i;
		}
	}
	if (matches == 0) {
		if (device_id != NULL)
			r = kf_error_set(err, KF_ERR_NOT_FOUND,
					 "The device %s is not connected, or this firmware is not "
					 "for it.",
					 device_id);
		else
			r = kf_error_set(err, KF_ERR_NOT_FOUND,
					 "No connected device takes this firmware (it is for %s).",
					 metainfo->guids[0]);
	} else if (matches > 1)
		r = kf_error_set(err, KF_ERR_INVALID,
				 "Several connected devices take this firmware; choose one with "
				 "--device ID (see `%s firmware list`).",
				 KF_AGENTD_PROGRAM);
	else {
		*out = devices[chosen];
		devices[chosen] = NULL;
	}
	kf_fw_device_list_free(devices, count);
	return r;
}

/* Writes and reads back; the device keeps running its old image until restart(). */
static enum kf_fw_installed kefu_install(void *state, const struct kf_fw_install *job, char *detail,
					 size_t size)
{
	const struct kf_fw_update *update = job->update;
	struct kf_error err;
	char sha[65];
	uint64_t stored = 0;

	(void)state;
	job->phase(job->data, "write");
	if (kf_fw_device_write(job->device, update->payload, update->payload_size,
			       job->payload_sha256, job->progress, job->data, &err) != KF_OK) {
		snprintf(detail, size, "writing failed: %s", err.message);
		return KF_FW_INSTALL_FAILED;
	}
	job->phase(job->data, "verify-after-write");
	if (kf_fw_device_read_back(job->device, sha, &stored, &err) != KF_OK) {
		snprintf(detail, size, "reading back failed: %s", err.message);
		return KF_FW_INSTALL_FAILED;
	}
	job->progress(job->data, 1, 1);
	if (strcmp(sha, job->payload_sha256) != 0 || stored != update->payload_size) {
		snprintf(detail, size, "the device holds a different image than was sent");
		return KF_FW_INSTALL_FAILED;
	}
	if (job->device->activates_on_host_reboot) {
		snprintf(detail, size, "written and checked; %s starts when the computer restarts",
			 update->metainfo->version);
		return KF_FW_INSTALL_PENDING_REBOOT;
	}
	return KF_FW_INSTALL_RESTART;
}

/* Asks for the restart, then waits for the device to answer with a new boot id. */
static int kefu_restart(void *state, const struct kf_fw_device *device, struct kf_fw_device **out,
			struct kf_error *err)
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	int r;

	(void)state;
	*out = NULL;
	if ((r = kf_fw_device_restart(device, err)) != KF_OK)
		return r;
	for (int waited = 0; waited < RESTART_WAIT_MS; waited += 100) {
		struct kf_fw_device *after = NULL;

		if (kf_fw_device_open(device->socket_path, device->id, &after, NULL) == KF_OK) {
			if (strcmp(after->boot_id, device->boot_id) != 0) {
				*out = after;
				return KF_OK;
			}
			kf_fw_device_free(after);
		}
		nanosleep(&pause, NULL);
	}
	return kf_error_set(err, KF_ERR_TIMEOUT, "The device did not come back after restarting.");
}

static int kefu_reopen(const struct kf_fw_settings *settings, const char *id,
		       struct kf_fw_device **device, struct kf_error *err)
{
	char socket_path[PATH_MAX];

	*device = NULL;
	if (snprintf(socket_path, sizeof(socket_path), "%s/%s.sock", settings->devices, id) >=
	    (int)sizeof(socket_path))
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the device's socket path is too long");
	return kf_fw_device_open(socket_path, id, device, err);
}

const struct kf_fw_backend kf_fw_backend_kefu = {
	.name = "kefu",
	.is_default = true,
	.is_on_this_computer = true,
	.open = kefu_open,
	.list = kefu_list,
	.describe = kefu_describe,
	.install = kefu_install,
	.restart = kefu_restart,
	.reopen = kefu_reopen,
	.close = kefu_close,
};
