/* kefu-agentd: `firmware list|check|apply|history`: LVFS cabinets and kefu firmware packages onto devices, with preflight and consent. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/firmware/device.h"
#include "agentd/firmware/fwupd.h"
#include "agentd/firmware/history.h"
#include "agentd/firmware/host.h"
#include "agentd/firmware/ssh.h"
#include "proto/firmware/cabinet.h"
#include "proto/firmware/update.h"
#include "proto/session/profile.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESTART_WAIT_MS    30000 /* how long a restarting device may take to answer again */
#define SSH_RESTART_WAIT_S 120   /* the same for an appliance, which reboots whole */
#define SSH_RETRY_PAUSE_MS 1000  /* between attempts to log in again after a restart */

struct fw_options {
	const char *profile, *devices, *root, *device_id, *history;
	bool reinstall, downgrade, yes, json;
	bool use_fwupd;        /* --fwupd: hand cabinets to fwupd, never to kefu's devices */
	bool is_progress_json; /* --progress-json: phases and percents as JSON lines on stdout */
	int battery_threshold;
	/* An appliance over SSH (--ssh) instead of the devices folder. */
	const char *ssh, *identity;
	struct kf_fw_ssh_target target;
	char fingerprint[64]; /* given, or accepted by the customer: pinned for the command */
	bool password_from_stdin;
	char *password; /* asked once, wiped when the command ends */
	int restart_wait_s;
};

/* Everything check and apply decided, for the summary and the update. */
struct fw_plan {
	struct kf_fw_update *update;
	struct kf_fw_device *device;
	struct kf_fw_ssh *ssh;     /* the logged-in connection to an appliance */
	char fwupd_tool[PATH_MAX]; /* set when fwupd installs it: fwupdmgr or fwupdtool */
	char *fwupd_device_id;
	char payload_sha256[65];
};

static void plan_free(struct fw_plan *plan)
{
	kf_fw_update_free(plan->update);
	kf_fw_device_free(plan->device);
	kf_fw_ssh_close(plan->ssh);
	free(plan->fwupd_device_id);
	plan->fwupd_device_id = NULL;
	plan->update = NULL;
	plan->device = NULL;
	plan->ssh = NULL;
}

/* ---- appliances over SSH ---- */

static const char *ask_password(void *data)
{
	struct fw_options *o = data;
	char prompt[512];
	struct kf_error err;

	if (o->password != NULL)
		return o->password;
	snprintf(prompt, sizeof(prompt),
		 "Password of %s on %s (used for this update only): ", o->target.user,
		 o->target.host);
	if (kf_fw_ssh_password_read(prompt, o->password_from_stdin, &o->password, &err) != KF_OK) {
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
		return NULL;
	}
	return o->password;
}

/* Asks the customer at the terminal whether the host key is the device's. */
static bool confirm_host_key(void *data, const char *fingerprint)
{
	const struct fw_options *o = data;
	char answer[16];

	fprintf(stderr,
		"The device %s shows the host key %s.\n"
		"Check that the device itself shows this fingerprint. Connect? [y/N] ",
		o->target.host, fingerprint);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int ssh_connect(struct fw_options *o, struct kf_fw_ssh **ssh, struct kf_error *err)
{
	struct kf_fw_ssh_options options = {
		.target = &o->target,
		.fingerprint = o->fingerprint[0] != '\0' ? o->fingerprint : NULL,
		/* Without a customer at a terminal nobody can vouch for the key: fail closed. */
		.confirm =
			o->password_from_stdin || !isatty(STDIN_FILENO) ? NULL : confirm_host_key,
		.confirm_data = o,
		.get_password = o->identity == NULL ? ask_password : NULL,
		.password_data = o,
		.identity = o->identity,
	};
	int r = kf_fw_ssh_connect(&options, ssh, err);

	/* Whatever key was accepted is the only one accepted again after the restart. */
	if (r == KF_OK)
		snprintf(o->fingerprint, sizeof(o->fingerprint), "%s", kf_fw_ssh_fingerprint(*ssh));
	return r;
}

/* The appliance as a device: logged in, its info read. */
static int open_appliance(struct fw_options *o, struct fw_plan *plan, struct kf_error *err)
{
	int r = ssh_connect(o, &plan->ssh, err);

	if (r == KF_OK)
		r = kf_fw_ssh_info(plan->ssh, o->ssh, &plan->device, err);
	return r;
}

static int usage(void)
{
	fprintf(stderr, "usage: %s firmware %s\n", KF_AGENTD_PROGRAM, KF_AGENTD_FIRMWARE_USAGE);
	return KF_EXIT_USAGE;
}

/* ---- preflight ---- */

static int pick_device(const struct fw_options *o, const struct kf_fw_metainfo *metainfo,
		       struct kf_fw_device **out, struct kf_error *err)
{
	struct kf_fw_device **devices;
	size_t count, unreachable, matches = 0, chosen = 0;
	int r = kf_fw_device_list(o->devices, &devices, &count, &unreachable, err);

	*out = NULL;
	if (r != KF_OK)
		return r;
	for (size_t i = 0; i < count; i++) {
		if (o->device_id != NULL && strcmp(devices[i]->id, o->device_id) != 0)
			continue;
		if (kf_fw_device_matches(devices[i], metainfo)) {
			matches++;
			chosen = i;
		}
	}
	if (matches == 0) {
		if (o->device_id != NULL)
			r = kf_error_set(err, KF_ERR_NOT_FOUND,
					 "The device %s is not connected, or this firmware is not "
					 "for it.",
					 o->device_id);
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

/* A device fwupd manages and the cabinet is for, as a kefu device for the checks. */
static int pick_fwupd_device(const struct fw_options *o, const struct kf_fw_metainfo *m,
			     struct fw_plan *plan, struct kf_error *err)
{
	struct kf_fwupd_device *devices = NULL;
	const struct kf_fwupd_device *match;
	struct kf_fw_device *d;
	size_t count = 0;
	int r;

	(void)o;
	if ((r = kf_fwupd_open(plan->fwupd_tool, sizeof(plan->fwupd_tool), &devices, &count,
			       err)) != KF_OK)
		return r;
	match = kf_fwupd_match(devices, count, m);
	if (match == NULL || match->version == NULL) {
		kf_fwupd_devices_free(devices, count);
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "fwupd manages no updatable device that takes this firmware.");
	}
	d = calloc(1, sizeof(*d));
	if (d != NULL) {
		d->id = strdup(match->id);
		d->name = strdup(match->name != NULL ? match->name : match->id);
		d->version = strdup(match->version);
		d->boot_id = strdup("");
		d->format = match->version_format != NULL
				    ? kf_fw_version_format_from_string(match->version_format)
				    : kf_fw_version_guess_format(match->version);
		/* fwupd checks the image's size itself. */
		d->capacity = UINT64_MAX;
	}
	plan->fwupd_device_id = strdup(match->id);
	kf_fwupd_devices_free(devices, count);
	if (d == NULL || d->id == NULL || d->name == NULL || d->version == NULL ||
	    d->boot_id == NULL || plan->fwupd_device_id == NULL) {
		kf_fw_device_free(d);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	plan->device = d;
	return KF_OK;
}

/*
 * Every check that must pass before a single byte goes to the device, in the order a
 * customer would ask about them. The first failure is one plain sentence in err.
 */
static int preflight(struct fw_options *o, const char *file, struct fw_plan *plan,
		     struct kf_error *err)
{
	struct kf_profile *profile = NULL;
	const struct kf_fw_metainfo *m;
	enum kf_fw_version_format format;
	unsigned flags =
		(o->reinstall ? KF_FW_ALLOW_REINSTALL : 0) | (o->downgrade ? KF_FW_ALLOW_OLDER : 0);
	int r;

	if ((r = kf_profile_load(o->profile, &profile, err)) != KF_OK)
		return r;
	r = kf_fw_update_load(file, profile, &plan->update, err);
	kf_profile_free(profile);
	if (r != KF_OK)
		return r;
	m = plan->update->metainfo;
	kf_fw_sha256_hex(plan->update->payload, plan->update->payload_size, plan->payload_sha256);
	if (o->ssh != NULL) {
		/* The computer's model and power say nothing about an appliance on the network. */
		if (m->computer_count > 0 || m->hardware_guid_count > 0)
			return kf_error_set(
				err, KF_ERR_UNSUPPORTED,
				"This firmware is only for certain computer models, which "
				"kefu cannot check on a network device.");
		if ((r = open_appliance(o, plan, err)) != KF_OK)
			return r;
		if (!kf_fw_device_matches(plan->device, m))
			return kf_error_set(
				err, KF_ERR_NOT_FOUND,
				"This firmware is not for the device %s (%s); it is for "
				"%s.",
				o->ssh, plan->device->name, m->guids[0]);
	} else {
		if ((r = kf_fw_host_check_computer(o->root, m, err)) != KF_OK)
			return r;
		if (o->use_fwupd)
			r = KF_ERR_NOT_FOUND;
		else
			r = pick_device(o, m, &plan->device, err);
		/* A device that speaks kefu's protocol comes first; fwupd's devices next. */
		if (r == KF_ERR_NOT_FOUND && o->device_id == NULL &&
		    plan->update->source == KF_FW_SOURCE_CABINET &&
		    pick_fwupd_device(o, m, plan, o->use_fwupd ? err : NULL) == KF_OK)
			r = KF_OK;
		if (r != KF_OK)
			return r;
	}
	format = m->version_format != NULL ? kf_fw_version_format_from_string(m->version_format)
					   : kf_fw_version_guess_format(m->version);
	if ((r = kf_fw_version_check_update(plan->device->version, plan->device->format, m->version,
					    format, flags, err)) != KF_OK)
		return r;
	if (o->ssh == NULL && (m->flags & KF_FW_FLAG_REQUIRE_AC) &&
	    kf_fw_host_check_power(o->root, KF_FW_MAINS_ONLY, NULL) != KF_OK)
		return kf_error_set(err, KF_ERR_DENIED,
				    "This firmware must be installed on mains power; plug in the "
				    "power adapter.");
	if (o->ssh == NULL &&
	    (r = kf_fw_host_check_power(o->root, o->battery_threshold, err)) != KF_OK)
		return r;
	if (plan->device->is_busy)
		return kf_error_set(err, KF_ERR_STATE,
				    "The device %s is busy; try again when it is idle.",
				    plan->device->id);
	if (plan->update->payload_size > plan->device->capacity)
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "The firmware (%zu bytes) does not fit the device's storage "
				    "(%llu bytes).",
				    plan->update->payload_size,
				    (unsigned long long)plan->device->capacity);
	return KF_OK;
}

static void print_plan(const struct fw_plan *plan)
{
	const struct kf_fw_metainfo *m = plan->update->metainfo;

	printf("%s %s (%s)%s%s\n", m->name ? m->name : m->id, m->version, m->id,
	       m->developer_name ? " from " : "", m->developer_name ? m->developer_name : "");
	if (m->summary != NULL)
		printf("  %s\n", m->summary);
	printf("  signed: %s\n", plan->update->signed_by);
	if (m->flags & KF_FW_FLAG_SECURITY)
		printf("  this update fixes a security problem\n");
	printf("  device: %s (%s), running %s%s\n", plan->device->id, plan->device->name,
	       plan->device->version, plan->fwupd_device_id != NULL ? ", managed by fwupd" : "");
	if (m->release_text != NULL)
		printf("  changes: %s\n", m->release_text);
}

/* ---- progress ---- */

struct progress {
	bool is_tty;
	int last_percent;
	const char *phase;
	bool is_json; /* --progress-json: one JSON line per phase and percent, on stdout */
};

static void show_phase(struct progress *p, const char *phase)
{
	if (p->is_json) {
		p->phase = phase;
		p->last_percent = -1;
		printf("{\"phase\":\"%s\"}\n", phase);
		fflush(stdout);
		return;
	}
	if (p->is_tty && p->phase != NULL)
		fputc('\n', stderr);
	p->phase = phase;
	p->last_percent = -1;
	if (!p->is_tty)
		fprintf(stderr, "%s...\n", phase);
}

static void show_progress(void *data, uint64_t done, uint64_t total)
{
	struct progress *p = data;
	int percent = total > 0 ? (int)(done * 100 / total) : 100;
	char bar[41];

	if (p->is_json && percent != p->last_percent && p->phase != NULL) {
		p->last_percent = percent;
		printf("{\"phase\":\"%s\",\"percent\":%d}\n", p->phase, percent);
		fflush(stdout);
		return;
	}
	if (!p->is_tty || percent == p->last_percent)
		return;
	p->last_percent = percent;
	for (int i = 0; i < 40; i++)
		bar[i] = i < percent * 40 / 100 ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r%-20s [%s] %3d%%", p->phase, bar, percent);
	fflush(stderr);
}

static void end_progress(struct progress *p)
{
	if (p->is_tty && p->phase != NULL)
		fputc('\n', stderr);
	p->phase = NULL;
}

/* ---- history and audit ---- */

static const char *history_path(const struct fw_options *o, char *buffer, size_t size)
{
	return o->history != NULL ? o->history : kf_fw_history_default_path(buffer, size);
}

static void audit(const char *event, const char *file, const struct fw_plan *plan,
		  const char *detail)
{
	struct kf_audit *log;
	struct kf_error err;
	json_t *fields = json_object();

	if (kf_audit_open(NULL, &log, &err) != KF_OK) {
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
		json_decref(fields);
		return;
	}
	json_object_set_new(fields, "file", json_string(file));
	if (plan != NULL && plan->device != NULL) {
		json_object_set_new(fields, "device", json_string(plan->device->id));
		json_object_set_new(fields, "from", json_string(plan->device->version));
	}
	if (plan != NULL && plan->update != NULL)
		json_object_set_new(fields, "to", json_string(plan->update->metainfo->version));
	if (detail != NULL)
		json_object_set_new(fields, "detail", json_string(detail));
	if (kf_audit_event(log, event, fields, &err) != KF_OK)
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
	json_decref(fields);
	kf_audit_close(log);
}

/* Sets entry's result and detail and saves the history; a failure here is reported, not fatal. */
static void record(const struct fw_options *o, json_t *history, json_t *entry, const char *result,
		   const char *detail)
{
	char path[PATH_MAX];
	struct kf_error err;

	json_object_set_new(entry, "result", json_string(result));
	if (detail != NULL)
		json_object_set_new(entry, "detail", json_string(detail));
	if (kf_fw_history_save(history_path(o, path, sizeof(path)), history, &err) != KF_OK)
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
}

/*
 * Settles entries that an earlier run could not finish: "writing" (the helper stopped
 * in the middle) and "pending-reboot" once the computer has restarted. The device's
 * running version decides. Returns true when an entry changed.
 */
static bool settle(const struct fw_options *o, json_t *history)
{
	char boot_id[64] = "";
	json_t *entry;
	size_t i;
	bool changed = false;

	kf_fw_host_boot_id(o->root, boot_id, sizeof(boot_id), NULL);
	json_array_foreach(history, i, entry)
	{
		const char *result = json_string_value(json_object_get(entry, "result"));
		const char *id = json_string_value(json_object_get(entry, "device"));
		const char *to = json_string_value(json_object_get(entry, "to"));
		const char *booted = json_string_value(json_object_get(entry, "boot_id"));
		struct kf_fw_device *device = NULL;
		char socket_path[PATH_MAX], detail[256];
		int order = 1;

		if (result == NULL || id == NULL || to == NULL ||
		    (strcmp(result, "writing") != 0 && strcmp(result, "pending-reboot") != 0))
			continue;
		if (strcmp(result, "pending-reboot") == 0 &&
		    (booted == NULL || strcmp(booted, boot_id) == 0))
			continue; /* the computer has not restarted yet */
		if (snprintf(socket_path, sizeof(socket_path), "%s/%s.sock", o->devices, id) >=
			    (int)sizeof(socket_path) ||
		    kf_fw_device_open(socket_path, id, &device, NULL) != KF_OK)
			continue; /* settled when the device is back */
		kf_fw_version_compare(device->version, to, &order, NULL);
		snprintf(detail, sizeof(detail), "%s: the device runs %s",
			 strcmp(result, "writing") == 0 ? "the helper stopped during the update"
							: "after the computer restarted",
			 device->version);
		json_object_set_new(entry, "result",
				    json_string(order == 0                       ? "success"
						: strcmp(result, "writing") == 0 ? "interrupted"
										 : "failed"));
		json_object_set_new(entry, "detail", json_string(detail));
		kf_fw_device_free(device);
		changed = true;
	}
	return changed;
}

static int load_settled_history(const struct fw_options *o, json_t **history, struct kf_error *err)
{
	char path[PATH_MAX];
	int r = kf_fw_history_load(history_path(o, path, sizeof(path)), history, err);

	if (r == KF_OK && settle(o, *history))
		r = kf_fw_history_save(path, *history, err);
	return r;
}

/* ---- apply ---- */

static bool approved(const struct fw_options *o, const struct fw_plan *plan)
{
	char answer[16];

	fprintf(stderr,
		"Install %s %s on %s (%s, now %s)?\n"
		"Do not unplug the device or turn off the computer while it is being written.\n",
		plan->update->metainfo->name ? plan->update->metainfo->name
					     : plan->update->metainfo->id,
		plan->update->metainfo->version, plan->device->id, plan->device->name,
		plan->device->version);
	if (o->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "No answer: run this in a terminal to approve, or pass --yes.\n");
		return false;
	}
	fprintf(stderr, "Install now? [y/N] ");
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Waits for a restarted device to answer with a new boot id. */
static int wait_for_restart(const struct fw_plan *plan, struct kf_fw_device **out,
			    struct kf_error *err)
{
	struct timespec pause = {0, 100 * 1000 * 1000};

	for (int waited = 0; waited < RESTART_WAIT_MS; waited += 100) {
		struct kf_fw_device *device = NULL;

		if (kf_fw_device_open(plan->device->socket_path, plan->device->id, &device, NULL) ==
		    KF_OK) {
			if (strcmp(device->boot_id, plan->device->boot_id) != 0) {
				*out = device;
				return KF_OK;
			}
			kf_fw_device_free(device);
		}
		nanosleep(&pause, NULL);
	}
	return kf_error_set(err, KF_ERR_TIMEOUT, "The device did not come back after restarting.");
}

/* After a restart: success only when the device runs the new version and its image. */
static const char *settle_restart(const struct fw_plan *plan, const struct kf_fw_device *after,
				  char *detail, size_t size)
{
	const char *target = plan->update->metainfo->version;

	if (strcmp(after->version, target) != 0 ||
	    (after->image_sha256 != NULL &&
	     strcmp(after->image_sha256, plan->payload_sha256) != 0)) {
		snprintf(detail, size, "after restarting the device runs %s, not %s",
			 after->version, target);
		return "failed";
	}
	snprintf(detail, size, "the device runs %s and its image matches", after->version);
	return "success";
}

/* Writes, reads back, restarts and checks; returns the history result and fills detail. */
static const char *install(const struct fw_plan *plan, struct progress *progress, char *detail,
			   size_t size)
{
	const struct kf_fw_metainfo *m = plan->update->metainfo;
	struct kf_fw_device *after = NULL;
	struct kf_error err;
	char sha[65];
	uint64_t stored = 0;
	const char *result;

	show_phase(progress, "write");
	if (kf_fw_device_write(plan->device, plan->update->payload, plan->update->payload_size,
			       plan->payload_sha256, show_progress, progress, &err) != KF_OK) {
		snprintf(detail, size, "writing failed: %s", err.message);
		return "failed";
	}
	show_phase(progress, "verify-after-write");
	if (kf_fw_device_read_back(plan->device, sha, &stored, &err) != KF_OK) {
		snprintf(detail, size, "reading back failed: %s", err.message);
		return "failed";
	}
	show_progress(progress, 1, 1);
	if (strcmp(sha, plan->payload_sha256) != 0 || stored != plan->update->payload_size) {
		snprintf(detail, size, "the device holds a different image than was sent");
		return "failed";
	}
	if (plan->device->activates_on_host_reboot) {
		snprintf(detail, size, "written and checked; %s starts when the computer restarts",
			 m->version);
		return "pending-reboot";
	}
	show_phase(progress, "restart");
	if (kf_fw_device_restart(plan->device, &err) != KF_OK ||
	    wait_for_restart(plan, &after, &err) != KF_OK) {
		snprintf(detail, size, "restarting failed: %s", err.message);
		return "failed";
	}
	show_progress(progress, 1, 1);
	result = settle_restart(plan, after, detail, size);
	kf_fw_device_free(after);
	return result;
}

struct fwupd_relay {
	struct progress *progress;
	char phase[64];
};

static void relay_fwupd_progress(void *data, const char *phase, int percent)
{
	struct fwupd_relay *relay = data;

	if (strcmp(relay->phase, phase) != 0) {
		snprintf(relay->phase, sizeof(relay->phase), "%s", phase);
		show_phase(relay->progress, relay->phase);
	}
	show_progress(relay->progress, (uint64_t)percent, 100);
}

/* fwupd writes, checks and restarts the device; kefu relays and reads back its record. */
static const char *install_fwupd(const struct fw_options *o, const char *file,
				 const struct fw_plan *plan, struct progress *progress,
				 char *detail, size_t size)
{
	const char *target = plan->update->metainfo->version;
	struct fwupd_relay relay = {progress, ""};
	struct kf_error err;
	char version[64];
	int state;

	if (kf_fwupd_install(plan->fwupd_tool, file, plan->fwupd_device_id, o->reinstall,
			     o->downgrade, relay_fwupd_progress, &relay, &state, version,
			     sizeof(version), &err) != KF_OK) {
		snprintf(detail, size, "%s", err.message);
		return "failed";
	}
	if (state == KF_FWUPD_STATE_NEEDS_REBOOT || state == KF_FWUPD_STATE_PENDING) {
		snprintf(detail, size, "fwupd wrote %s; it starts when the computer restarts",
			 target);
		return "pending-reboot";
	}
	if (state != KF_FWUPD_STATE_SUCCESS || strcmp(version, target) != 0) {
		snprintf(detail, size, "fwupd records the update as %s, version %s",
			 state == KF_FWUPD_STATE_FAILED || state == KF_FWUPD_STATE_FAILED_TRANSIENT
				 ? "failed"
				 : "unfinished",
			 version[0] != '\0' ? version : "unknown");
		return "failed";
	}
	snprintf(detail, size, "fwupd (%.32s) installed it and records the device at %s",
		 strrchr(plan->fwupd_tool, '/') != NULL ? strrchr(plan->fwupd_tool, '/') + 1
							: plan->fwupd_tool,
		 version);
	return "success";
}

/* The name the upload gets in the appliance's SFTP folder: plain, so no quoting is needed. */
static void upload_name(const struct fw_plan *plan, char *out, size_t size)
{
	snprintf(out, size, "kefu-firmware-%.16s.bin", plan->payload_sha256);
}

/*
 * Logs in again until the appliance answers with a new boot id (it restarted) or the
 * wait runs out. The host key must be the one accepted before.
 */
static int wait_for_appliance(struct fw_options *o, const char *old_boot_id,
			      struct kf_fw_device **out, struct kf_error *err)
{
	struct timespec pause = {SSH_RETRY_PAUSE_MS / 1000, (SSH_RETRY_PAUSE_MS % 1000) * 1000000L};
	struct timespec start, now;
	struct kf_error last = {0};
	int attempts = 0;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct kf_fw_ssh *ssh = NULL;
		struct kf_fw_device *device = NULL;
		int r;

		nanosleep(&pause, NULL);
		attempts++;
		r = ssh_connect(o, &ssh, &last);
		if (r == KF_OK)
			r = kf_fw_ssh_info(ssh, o->ssh, &device, &last);
		kf_fw_ssh_close(ssh);
		/* A host key or password the device now refuses will not get better by waiting. */
		if (r == KF_ERR_AUTH || r == KF_ERR_DENIED)
			return kf_error_set(err, r, "%s", last.message);
		if (r == KF_OK && strcmp(device->boot_id, old_boot_id) != 0) {
			*out = device;
			return KF_OK;
		}
		kf_fw_device_free(device);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= o->restart_wait_s)
			return kf_error_set(
				err, KF_ERR_TIMEOUT,
				"the device did not come back within %d s (%d attempts; "
				"last: %.120s)",
				o->restart_wait_s, attempts,
				last.message[0] != '\0' ? last.message : "no restart");
	}
}

/* The last line of the update command's output that is a JSON object, parsed. */
static json_t *update_result(const char *output)
{
	json_t *result = NULL;
	const char *line = output;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		json_t *parsed = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);

		if (json_is_object(parsed)) {
			json_decref(result);
			result = parsed;
		} else
			json_decref(parsed);
		line = end != NULL ? end + 1 : NULL;
	}
	return result;
}

/* Uploads, has the appliance write and check it, waits for its restart, checks. */
static const char *install_ssh(struct fw_options *o, struct fw_plan *plan,
			       struct progress *progress, char *detail, size_t size)
{
	struct kf_fw_device *after = NULL;
	struct kf_error err;
	char remote[64], command[160], *output = NULL;
	const char *result = "failed", *refusal;
	json_t *answer;
	int status = -1, r;

	upload_name(plan, remote, sizeof(remote));
	show_phase(progress, "upload");
	if (kf_fw_ssh_upload(plan->ssh, remote, plan->update->payload, plan->update->payload_size,
			     show_progress, progress, &err) != KF_OK) {
		kf_fw_ssh_remove(plan->ssh, remote);
		snprintf(detail, size, "uploading failed: %s", err.message);
		return "failed";
	}
	show_phase(progress, "write");
	snprintf(command, sizeof(command), "kefu-fw-update %s %s", remote, plan->payload_sha256);
	r = kf_fw_ssh_run(plan->ssh, command, KF_FW_SSH_UPDATE_MS, &output, &status, &err);
	answer = update_result(output);
	refusal = json_string_value(json_object_get(answer, "error"));
	if (json_is_true(json_object_get(answer, "ok"))) {
		result = NULL; /* written and checked: the appliance restarts now */
	} else if (refusal != NULL) {
		snprintf(detail, size, "the device refused: %.200s", refusal);
		kf_fw_ssh_remove(plan->ssh, remote);
	} else if (r != KF_OK)
		snprintf(detail, size, "the device stopped answering while writing (%s)",
			 err.message);
	else
		snprintf(detail, size, "the device's update command failed (status %d)", status);
	json_decref(answer);
	free(output);
	kf_fw_ssh_close(plan->ssh);
	plan->ssh = NULL;
	show_phase(progress, "restart");
	if (wait_for_appliance(o, plan->device->boot_id, &after, &err) != KF_OK) {
		if (result == NULL)
			snprintf(detail, size, "restarting failed: %s", err.message);
		else
			snprintf(detail + strlen(detail), size - strlen(detail),
				 "; its state is unknown: %s", err.message);
		return "failed";
	}
	show_progress(progress, 1, 1);
	if (result != NULL) {
		/* Whatever went wrong, the customer learns what the device runs now. */
		snprintf(detail + strlen(detail), size - strlen(detail),
			 "; the device restarted and runs %s", after->version);
	} else {
		result = settle_restart(plan, after, detail, size);
	}
	kf_fw_device_free(after);
	return result;
}

static int apply(struct fw_options *o, const char *file)
{
	struct fw_plan plan = {0};
	struct progress progress = {isatty(STDERR_FILENO), -1, NULL, o->is_progress_json};
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_term, old_hup;
	struct kf_error err;
	json_t *history = NULL, *entry;
	char boot_id[64] = "", when[32], detail[512];
	const char *result;
	int r;

	if (load_settled_history(o, &history, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	show_phase(&progress, "verify");
	r = preflight(o, file, &plan, &err);
	end_progress(&progress);
	if (r != KF_OK) {
		audit("firmware-refused", file, &plan, err.message);
		plan_free(&plan);
		json_decref(history);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	print_plan(&plan);
	if (!approved(o, &plan)) {
		audit("firmware-declined", file, &plan, NULL);
		plan_free(&plan);
		json_decref(history);
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "Not installed: the update was not approved.");
	}
	audit("firmware-approved", file, &plan, o->yes ? "--yes" : "answered yes");
	kf_fw_host_boot_id(o->root, boot_id, sizeof(boot_id), NULL);
	kf_fw_history_now(when, sizeof(when));
	entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "device", plan.device->id,
			  "device_name", plan.device->name, "from", plan.device->version, "to",
			  plan.update->metainfo->version, "file", file, "when", when, "boot_id",
			  boot_id);
	json_array_append_new(history, entry);
	record(o, history, entry, "writing", NULL);
	/* From here the customer cannot stop it by accident; the device keeps its old image until
	 * the new one is whole. */
	sigaction(SIGINT, &ignore, &old_int);
	sigaction(SIGTERM, &ignore, &old_term);
	sigaction(SIGHUP, &ignore, &old_hup);
	if (o->ssh != NULL)
		result = install_ssh(o, &plan, &progress, detail, sizeof(detail));
	else if (plan.fwupd_device_id != NULL)
		result = install_fwupd(o, file, &plan, &progress, detail, sizeof(detail));
	else
		result = install(&plan, &progress, detail, sizeof(detail));
	end_progress(&progress);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	record(o, history, entry, result, detail);
	audit(strcmp(result, "success") == 0          ? "firmware-installed"
	      : strcmp(result, "pending-reboot") == 0 ? "firmware-pending-reboot"
						      : "firmware-failed",
	      file, &plan, detail);
	if (strcmp(result, "success") == 0)
		printf("Installed %s on %s: %s.\n", plan.update->metainfo->version, plan.device->id,
		       detail);
	else if (strcmp(result, "pending-reboot") == 0)
		printf("Restart the computer to finish: %s. `%s firmware history` shows the result "
		       "afterwards.\n",
		       detail, KF_AGENTD_PROGRAM);
	plan_free(&plan);
	json_decref(history);
	if (strcmp(result, "failed") == 0)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "The update failed (%s); the device kept its "
				   "working firmware if it shows the old version.",
				   detail);
	return KF_EXIT_OK;
}

static int check(struct fw_options *o, const char *file)
{
	struct fw_plan plan = {0};
	struct kf_error err;
	int r = preflight(o, file, &plan, &err);

	if (r != KF_OK) {
		plan_free(&plan);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	print_plan(&plan);
	printf("Ready to install: %s %s -> %s.\n", plan.device->id, plan.device->version,
	       plan.update->metainfo->version);
	plan_free(&plan);
	return KF_EXIT_OK;
}

/* ---- list and history ---- */

static int list(struct fw_options *o)
{
	struct kf_fw_device **devices = NULL;
	struct kf_error err;
	size_t count, unreachable = 0;
	json_t *out = json_array();
	int r;

	if (o->ssh != NULL) {
		struct fw_plan plan = {0};

		devices = calloc(1, sizeof(*devices));
		r = devices == NULL ? kf_error_set(&err, KF_ERR_NOMEM, "out of memory")
				    : open_appliance(o, &plan, &err);
		count = r == KF_OK ? 1 : 0;
		if (r == KF_OK) {
			devices[0] = plan.device;
			plan.device = NULL;
		}
		plan_free(&plan);
	} else
		r = kf_fw_device_list(o->devices, &devices, &count, &unreachable, &err);
	if (r != KF_OK) {
		free(devices);
		json_decref(out);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	for (size_t i = 0; i < count; i++) {
		struct kf_fw_device *d = devices[i];
		json_t *ids = json_array(), *guids = json_array();

		for (size_t j = 0; j < d->instance_id_count; j++) {
			json_array_append_new(ids, json_string(d->instance_ids[j]));
			json_array_append_new(guids, json_string(d->guids[j]));
		}
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:s?, s:s, s:s, s:o, s:o, s:b, s:s}", "id",
				       d->id, "name", d->name, "vendor", d->vendor, "version",
				       d->version, "version_format",
				       kf_fw_version_format_name(d->format), "instance_ids", ids,
				       "guids", guids, "busy", d->is_busy, "activation",
				       d->activates_on_host_reboot ? "host-reboot" : "restart"));
		if (!o->json) {
			printf("%s: %s%s%s, version %s (%s)%s\n", d->id, d->name,
			       d->vendor ? " from " : "", d->vendor ? d->vendor : "", d->version,
			       kf_fw_version_format_name(d->format), d->is_busy ? ", busy" : "");
			for (size_t j = 0; j < d->instance_id_count; j++)
				printf("  %s  %s\n", d->guids[j], d->instance_ids[j]);
		}
	}
	if (o->json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (count == 0)
		printf("No firmware devices in %s.\n", o->devices);
	if (unreachable > 0)
		fprintf(stderr, "%zu device%s in %s did not answer.\n", unreachable,
			unreachable == 1 ? "" : "s", o->devices);
	json_decref(out);
	kf_fw_device_list_free(devices, count);
	return KF_EXIT_OK;
}

static int show_history(const struct fw_options *o)
{
	struct kf_error err;
	json_t *history, *entry;
	size_t i;

	if (load_settled_history(o, &history, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (o->json) {
		json_dumpf(history, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		json_array_foreach(history, i, entry)
		{
			const char *detail = json_string_value(json_object_get(entry, "detail"));
			printf("%s  %s  %s -> %s  %s%s%s\n",
			       json_string_value(json_object_get(entry, "when")),
			       json_string_value(json_object_get(entry, "device")),
			       json_string_value(json_object_get(entry, "from")),
			       json_string_value(json_object_get(entry, "to")),
			       json_string_value(json_object_get(entry, "result")),
			       detail ? ": " : "", detail ? detail : "");
		}
		if (json_array_size(history) == 0)
			printf("No firmware updates yet.\n");
	}
	json_decref(history);
	return KF_EXIT_OK;
}

int kf_agent_cmd_firmware(int argc, char **argv)
{
	static const struct option options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"devices", required_argument, NULL, 'D'},
		{"root", required_argument, NULL, 'r'},
		{"device", required_argument, NULL, 'd'},
		{"history-file", required_argument, NULL, 'H'},
		{"reinstall", no_argument, NULL, 'R'},
		{"downgrade", no_argument, NULL, 'o'},
		{"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},
		{"ssh", required_argument, NULL, 's'},
		{"host-key-fingerprint", required_argument, NULL, 'f'},
		{"password-stdin", no_argument, NULL, 'P'},
		{"identity", required_argument, NULL, 'i'},
		{"restart-timeout", required_argument, NULL, 'T'},
		{"fwupd", no_argument, NULL, 'F'},
		{"progress-json", no_argument, NULL, 'G'},
		{NULL, 0, NULL, 0},
	};
	struct fw_options o = {
		.profile = kf_profile_default_path(),
		.devices = KF_FW_DEVICES_DIR,
		.root = "/",
		.battery_threshold = KF_FW_BATTERY_THRESHOLD,
		.restart_wait_s = SSH_RESTART_WAIT_S,
	};
	const char *action, *file = NULL;
	struct kf_error err;
	int opt, status;

	if (argc < 2)
		return usage();
	action = argv[1];
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o.profile = optarg;
			break;
		case 'D':
			o.devices = optarg;
			break;
		case 'r':
			o.root = optarg;
			break;
		case 'd':
			o.device_id = optarg;
			break;
		case 'H':
			o.history = optarg;
			break;
		case 'R':
			o.reinstall = true;
			break;
		case 'o':
			o.downgrade = true;
			break;
		case 'y':
			o.yes = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 's':
			o.ssh = optarg;
			break;
		case 'f':
			if (strncmp(optarg, "SHA256:", 7) != 0 ||
			    strlen(optarg) >= sizeof(o.fingerprint))
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--host-key-fingerprint wants SHA256:... as "
						   "ssh-keygen -lf prints it");
			snprintf(o.fingerprint, sizeof(o.fingerprint), "%s", optarg);
			break;
		case 'P':
			o.password_from_stdin = true;
			break;
		case 'G':
			o.is_progress_json = true;
			break;
		case 'F':
			o.use_fwupd = true;
			break;
		case 'i':
			o.identity = optarg;
			break;
		case 'T':
			o.restart_wait_s = atoi(optarg);
			if (o.restart_wait_s < 1 || o.restart_wait_s > 3600)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--restart-timeout wants 1 to 3600 seconds");
			break;
		default:
			return usage();
		}
	}
	if (o.ssh != NULL && kf_fw_ssh_parse_target(o.ssh, &o.target, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (optind < argc - 1)
		file = argv[1 + optind++];
	if (optind != argc - 1)
		return usage();
	if (strcmp(action, "list") == 0 && file == NULL)
		status = list(&o);
	else if (strcmp(action, "history") == 0 && file == NULL)
		status = show_history(&o);
	else if (strcmp(action, "check") == 0 && file != NULL)
		status = check(&o, file);
	else if (strcmp(action, "apply") == 0 && file != NULL)
		status = apply(&o, file);
	else
		status = usage();
	kf_fw_ssh_password_free(o.password);
	return status;
}
