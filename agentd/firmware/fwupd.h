/* kefu-agentd: handing LVFS cabinets to fwupd (fwupdmgr with the daemon, else fwupdtool) for
 * the devices fwupd manages. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_FWUPD_H
#define KF_AGENTD_FW_FWUPD_H

#include "agentd/firmware/device.h"
#include "proto/base/error.h"
#include "proto/firmware/metainfo.h"

#include <stdbool.h>
#include <stddef.h>

#define KF_FWUPD_OUTPUT_MAX  (4 * 1024 * 1024) /* bytes of JSON a tool may print */
#define KF_FWUPD_QUERY_MS    30000
#define KF_FWUPD_INSTALL_MS  (30 * 60 * 1000)
#define KF_FWUPD_MAX_DEVICES 256

/* fwupd's FwupdUpdateState, as get-history --json gives it in "UpdateState". */
enum kf_fwupd_update_state {
	KF_FWUPD_STATE_UNKNOWN = 0,
	KF_FWUPD_STATE_PENDING = 1,
	KF_FWUPD_STATE_SUCCESS = 2,
	KF_FWUPD_STATE_FAILED = 3,
	KF_FWUPD_STATE_NEEDS_REBOOT = 4,
	KF_FWUPD_STATE_FAILED_TRANSIENT = 5,
};

/* One device of `get-devices --json` ("Devices" array), the fields kefu uses. */
struct kf_fwupd_device {
	char *id;             /* DeviceId */
	char *name;           /* Name */
	char *version;        /* Version, NULL when fwupd shows none */
	char *version_format; /* VersionFormat, NULL when not given */
	char **guids;         /* Guid, lower case */
	size_t guid_count;
	bool is_updatable;  /* Flags holds "updatable" */
	int update_state;   /* UpdateState (history entries), 0 when absent */
	long long modified; /* Modified (history entries), 0 when absent */
};

/*
 * Parses the JSON of `fwupdmgr|fwupdtool get-devices --json` or `get-history --json`
 * (an object with "Devices", at most KF_FWUPD_MAX_DEVICES). Devices without a DeviceId
 * are skipped. The caller frees *devices with kf_fwupd_devices_free().
 */
int kf_fwupd_parse_devices(const char *json, size_t len, struct kf_fwupd_device **devices,
			   size_t *count, struct kf_error *err);

void kf_fwupd_devices_free(struct kf_fwupd_device *devices, size_t count);

/* The first updatable device that has one of metainfo's GUIDs, or NULL. */
const struct kf_fwupd_device *kf_fwupd_match(const struct kf_fwupd_device *devices, size_t count,
					     const struct kf_fw_metainfo *metainfo);

/*
 * Finds a working fwupd: fwupdmgr when its daemon answers get-devices, otherwise
 * fwupdtool (which needs root and no daemon). Fills tool with the program's path and
 * *devices with what it lists. KF_ERR_NOT_FOUND when neither is installed or answers.
 */
int kf_fwupd_open(char *tool, size_t size, struct kf_fwupd_device **devices, size_t *count,
		  struct kf_error *err);

/* Progress as fwupd reports it: its phase in words ("Writing…") and a percentage. */
typedef void (*kf_fwupd_progress_fn)(void *data, const char *phase, int percent);

/*
 * Runs `TOOL install FILE DEVICE-ID --no-reboot-check [--allow-reinstall]
 * [--allow-older]` and relays its progress lines. Then reads `TOOL get-history --json`
 * and returns the newest entry for the device in *state and version (what fwupd
 * recorded after the update). KF_ERR_DENIED with fwupd's last line when it fails.
 */
int kf_fwupd_install(const char *tool, const char *file, const char *device_id,
		     bool allow_reinstall, bool allow_older, kf_fwupd_progress_fn progress,
		     void *data, int *state, char *version, size_t version_size,
		     struct kf_error *err);

/* One update fwupd offers (`get-updates --json`): a device and its newest release. */
struct kf_fwupd_update {
	char *device_id;    /* DeviceId */
	char *device_name;  /* Name, may be NULL */
	char *from;         /* the device's Version, may be NULL */
	char *to;           /* the release's Version */
	char *appstream_id; /* AppstreamId, may be NULL */
	char *name;         /* the release's Name, may be NULL */
	char *urgency;      /* Urgency, may be NULL */
	char *description;  /* Description as plain text (markup removed), may be NULL */
	char *location;     /* the first of Locations (or Uri), may be NULL */
	char *remote_id;    /* RemoteId: the fwupd remote it came from, may be NULL */
};

#define KF_FWUPD_MAX_RELEASES 256 /* per device */

/*
 * Parses the JSON of `fwupdmgr|fwupdtool get-updates --json` (an object with
 * "Devices", each with "Releases"): one update per device, its newest release (by
 * fwupd's version order as kefu compares versions; fwupd lists the newest first, and
 * a version kefu cannot compare keeps the first). Devices without an id or a release
 * are left out. The caller frees *updates with kf_fwupd_updates_free().
 */
int kf_fwupd_parse_updates(const char *json, size_t len, struct kf_fwupd_update **updates,
			   size_t *count, struct kf_error *err);

void kf_fwupd_updates_free(struct kf_fwupd_update *updates, size_t count);

/*
 * Asks fwupd for the updates it knows: `fwupdmgr get-updates --json` when its daemon
 * answers, else (only when may_use_fwupdtool) `fwupdtool get-updates --json`, which
 * needs root. tool gets the program asked. KF_ERR_NOT_FOUND when fwupd is not
 * installed or does not answer; "nothing to do" is success with no update.
 */
int kf_fwupd_get_updates(bool may_use_fwupdtool, char *tool, size_t size,
			 struct kf_fwupd_update **updates, size_t *count, struct kf_error *err);

#endif
