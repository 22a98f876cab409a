/* kefu-agentd: the one interface every firmware backend (kefu devices, fwupd, SSH appliances)
 * implements, and the list of backends. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_BACKEND_H
#define KF_AGENTD_FW_BACKEND_H

#include "agentd/firmware/device.h"
#include "proto/base/error.h"
#include "proto/firmware/update.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The firmware command (firmware.c) reads and verifies the update, makes the checks that
 * hold for every device (version rules, the computer's model and power, busy, capacity),
 * asks for consent and keeps the history. A backend is how kefu reaches one kind of device:
 * it finds the device an update is for, describes it as a struct kf_fw_device, writes the
 * image and brings the device back running it. fwupd's FuDevice vfuncs are the model.
 */

/* The command's options a backend may read; they live as long as the command. */
struct kf_fw_settings {
	const char *devices;   /* --devices: the folder of kefu device sockets */
	const char *device_id; /* --device, or NULL */
	bool allow_reinstall;  /* --reinstall */
	bool allow_older;      /* --downgrade */
	/* A device on the network (--ssh and what goes with it). */
	const char *target;          /* USER@HOST[:PORT], or NULL */
	const char *fingerprint;     /* --host-key-fingerprint SHA256:..., or NULL */
	const char *identity;        /* --identity KEY, or NULL */
	bool is_password_from_stdin; /* --password-stdin */
	int restart_wait_s;          /* --restart-timeout; 0: the backend's own bound */
};

/* What `firmware list` shows from one backend. Free devices with kf_fw_device_list_free(). */
struct kf_fw_listing {
	struct kf_fw_device **devices;
	size_t count;
	size_t unreachable; /* devices that are there but did not answer */
	const char *where;  /* where the backend looked, for "No firmware devices in ..." */
};

/* One install, as the command hands it to the backend once the customer said yes. */
struct kf_fw_install {
	const char *file; /* the update as given (fwupd reads the cabinet itself) */
	const struct kf_fw_update *update;
	const char *payload_sha256;
	const struct kf_fw_device *device; /* as describe() gave it */
	/* Progress: a new phase ("write", "verify-after-write", ...), then how far it is. */
	void (*phase)(void *data, const char *phase);
	kf_fw_progress_fn progress;
	void *data;
};

/* What install() left the device in; each but RESTART puts its sentence in detail. */
enum kf_fw_installed {
	KF_FW_INSTALL_FAILED,         /* detail says what went wrong and what the device runs */
	KF_FW_INSTALL_RESTART,        /* stored and checked: restart() starts it */
	KF_FW_INSTALL_PENDING_REBOOT, /* starts when the computer restarts */
	KF_FW_INSTALL_DONE,           /* the backend started and checked it itself */
};

struct kf_fw_backend {
	const char *name;       /* "kefu", "fwupd", "ssh" */
	const char *managed_by; /* shown beside the device ("managed by fwupd"), or NULL */
	/* Tried, in the order of the list, when the command names no backend. */
	bool is_default;
	/*
	 * The device is part of this computer: the computer's model (LVFS <requires>) and its
	 * power are checked. When false, firmware for certain computer models is refused.
	 */
	bool is_on_this_computer;

	/* Checks the backend's own settings and makes its state; reaches no device. */
	int (*open)(const struct kf_fw_settings *settings, void **state, struct kf_error *err);
	/* Lists the devices it reaches. NULL when it has no list of its own. */
	int (*list)(void *state, struct kf_fw_listing *listing, struct kf_error *err);
	/*
	 * Finds the one device the update is for and describes it: id, name, running version
	 * and its format, GUIDs, busy, capacity, boot id. KF_ERR_NOT_FOUND with a sentence
	 * when it reaches no such device. The caller owns *device, which may be set even on
	 * failure (a device reached that does not take the update: the audit names it).
	 */
	int (*describe)(void *state, const struct kf_fw_update *update,
			struct kf_fw_device **device, struct kf_error *err);
	/* Writes the image and checks what was stored; fills detail (size bytes). */
	enum kf_fw_installed (*install)(void *state, const struct kf_fw_install *install,
					char *detail, size_t size);
	/*
	 * After KF_FW_INSTALL_RESTART: starts the new image, waits for the device to answer
	 * again and reads it back into *after (the caller owns it). NULL when install()
	 * never asks for it.
	 */
	int (*restart)(void *state, const struct kf_fw_device *device, struct kf_fw_device **after,
		       struct kf_error *err);
	/*
	 * Opens the device named id as it is now, for settling an update an earlier run
	 * left open. NULL when the backend cannot find a device again by its id alone.
	 */
	int (*reopen)(const struct kf_fw_settings *settings, const char *id,
		      struct kf_fw_device **device, struct kf_error *err);
	/* Ends what open() and the calls after it started (connections, secrets). */
	void (*close)(void *state);
};

extern const struct kf_fw_backend kf_fw_backend_kefu;
extern const struct kf_fw_backend kf_fw_backend_fwupd;
extern const struct kf_fw_backend kf_fw_backend_ssh;

/* Every backend, in the order they are tried; NULL-terminated. */
extern const struct kf_fw_backend *const kf_fw_backends[];

#define KF_FW_BACKEND_MAX 8 /* rows kf_fw_backends may hold */

#endif
