/* kefu-agentd: `firmware list|check|apply|history`: LVFS cabinets and kefu firmware packages onto devices, with preflight and consent. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/firmware/backend.h"
#include "agentd/firmware/fwupd.h"
#include "agentd/firmware/history.h"
#include "agentd/firmware/host.h"
#include "agentd/firmware/progress.h"
#include "agentd/firmware/remote.h"
#include "agentd/firmware/updates.h"
#include "proto/base/escape.h"
#include "proto/firmware/cabinet.h"
#include "proto/firmware/metadata.h"
#include "proto/firmware/metainfo.h"
#include "proto/firmware/version.h"
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

/* A backend the command may use, with the state its open() made. */
struct fw_slot {
	const struct kf_fw_backend *backend;
	void *state;
};

struct fw_options {
	const char *profile, *root, *history;
	const char *metadata;    /* --metadata, else the profile's firmware_metadata */
	char metadata_url[4096]; /* the https:// remote the metadata came from, or "" */
	int download_timeout_s;  /* --download-timeout, 0 for the default */
	bool is_metadata_unset;  /* neither --metadata nor the profile names metadata */
	bool is_fwupd_named;     /* --fwupd: fwupdtool may be asked when no daemon answers */
	bool yes, json;
	bool is_progress_json; /* --progress-json: phases and percents as JSON lines on stdout */
	int battery_threshold;
	char fingerprint[64]; /* --host-key-fingerprint, checked when it is read */
	struct kf_fw_settings settings;
	/* The backend an option names (--ssh, --fwupd), or every default one in list order. */
	struct fw_slot slots[KF_FW_BACKEND_MAX];
	size_t slot_count;
};

/* Everything check and apply decided, for the summary and the update. */
struct fw_plan {
	const struct fw_slot *slot; /* the backend that reaches the device */
	struct kf_fw_update *update;
	struct kf_fw_device *device;
	char payload_sha256[65];
};

static void plan_free(struct fw_plan *plan)
{
	kf_fw_update_free(plan->update);
	kf_fw_device_free(plan->device);
	plan->update = NULL;
	plan->device = NULL;
	plan->slot = NULL;
}

/* ---- backends ---- */

/* Opens the backend called named, or every default one; KF_ERR_NOMEM or the backend's error. */
static int open_backends(const struct kf_fw_settings *settings, const char *named,
			 struct fw_slot *slots, size_t *count, struct kf_error *err)
{
	*count = 0;
	for (size_t i = 0; kf_fw_backends[i] != NULL && *count < KF_FW_BACKEND_MAX; i++) {
		const struct kf_fw_backend *b = kf_fw_backends[i];
		void *state = NULL;
		int r;

		if (named != NULL ? strcmp(b->name, named) != 0 : !b->is_default)
			continue;
		if ((r = b->open(settings, &state, err)) != KF_OK)
			return r;
		slots[(*count)++] = (struct fw_slot){b, state};
	}
	if (*count == 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "no firmware backend %s",
				    named != NULL ? named : "is tried by default");
	return KF_OK;
}

static void close_backends(struct fw_slot *slots, size_t count)
{
	for (size_t i = 0; i < count; i++)
		slots[i].backend->close(slots[i].state);
}

static int usage(void)
{
	fprintf(stderr, "usage: %s firmware %s\n", KF_AGENTD_PROGRAM, KF_AGENTD_FIRMWARE_USAGE);
	return KF_EXIT_USAGE;
}

/* ---- preflight ---- */

/* The computer's model and power say something about its own devices only. */
static int check_computer(const struct fw_options *o, const struct kf_fw_backend *backend,
			  const struct kf_fw_metainfo *m, struct kf_error *err)
{
	if (backend->is_on_this_computer)
		return kf_fw_host_check_computer(o->root, m, err);
	if (m->computer_count > 0 || m->hardware_guid_count > 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "This firmware is only for certain computer models, which "
				    "kefu cannot check on a network device.");
	return KF_OK;
}

/*
 * The backends are asked in order; the first that reaches a device the update is for
 * takes it. The next one is asked only when the one before found none, and the first
 * one's refusal is what the customer reads: with the defaults, "no connected device takes
 * this firmware" says more than fwupd's reason for not taking it either.
 */
static int pick_device(const struct fw_options *o, struct fw_plan *plan, struct kf_error *err)
{
	const struct kf_fw_metainfo *m = plan->update->metainfo;
	int first = KF_ERR_NOT_FOUND;

	for (size_t i = 0; i < o->slot_count; i++) {
		const struct fw_slot *slot = &o->slots[i];
		struct kf_error *e = i == 0 ? err : NULL;
		struct kf_fw_device *device = NULL;
		int r = check_computer(o, slot->backend, m, e);

		if (r == KF_OK)
			r = slot->backend->describe(slot->state, plan->update, &device, e);
		if (r == KF_OK) {
			kf_fw_device_free(plan->device);
			plan->device = device;
			plan->slot = slot;
			return KF_OK;
		}
		if (i == 0) {
			first = r;
			plan->device = device;
		} else
			kf_fw_device_free(device);
		if (r != KF_ERR_NOT_FOUND)
			break;
	}
	return first;
}

/*
 * Whether the device meets a <requires><firmware>, as fwupd judges it: with no text
 * and no depth, the device's own version compared with the version given. Anything
 * else (the bootloader, a parent, other devices) is not known to kefu: *is_checkable
 * says so, and such a requirement is not met.
 */
static bool meets_firmware_requirement(const struct kf_fw_device *d,
				       const struct kf_fw_requirement *req, bool *is_checkable)
{
	*is_checkable = req->text == NULL && req->depth == NULL;
	return *is_checkable && kf_fw_version_meets(d->version, req->compare, req->version) == 1;
}

/*
 * The cabinet's <requires><firmware>: one on the device's own version must hold; any
 * other is checked by fwupd when fwupd installs it, and refused by kefu's other
 * backends, which cannot check it.
 */
static int check_firmware_requirements(const struct fw_plan *plan, struct kf_error *err)
{
	const struct kf_fw_metainfo *m = plan->update->metainfo;

	for (size_t i = 0; i < m->firmware_requirement_count; i++) {
		const struct kf_fw_requirement *req = &m->firmware_requirements[i];
		bool is_checkable;

		if (meets_firmware_requirement(plan->device, req, &is_checkable))
			continue;
		if (is_checkable)
			return kf_error_set(err, KF_ERR_DENIED,
					    "This firmware needs the device to run a version %s "
					    "%s first; it runs %s.",
					    kf_escaped(req->compare).text,
					    kf_escaped(req->version).text, plan->device->version);
		if (plan->slot->backend != &kf_fw_backend_fwupd)
			return kf_error_set(
				err, KF_ERR_DENIED,
				"This firmware requires something of the device kefu "
				"cannot check (%s); only fwupd can install it.",
				kf_escaped(req->text != NULL ? req->text : "its parent").text);
	}
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
	unsigned flags = (o->settings.allow_reinstall ? KF_FW_ALLOW_REINSTALL : 0) |
			 (o->settings.allow_older ? KF_FW_ALLOW_OLDER : 0);
	bool is_local;
	int r;

	if ((r = kf_profile_load(o->profile, &profile, err)) != KF_OK)
		return r;
	r = kf_fw_update_load(file, profile, &plan->update, err);
	kf_profile_free(profile);
	if (r != KF_OK)
		return r;
	m = plan->update->metainfo;
	kf_fw_sha256_hex(plan->update->payload, plan->update->payload_size, plan->payload_sha256);
	if ((r = pick_device(o, plan, err)) != KF_OK)
		return r;
	is_local = plan->slot->backend->is_on_this_computer;
	format = m->version_format != NULL ? kf_fw_version_format_from_string(m->version_format)
					   : kf_fw_version_guess_format(m->version);
	if ((r = kf_fw_version_check_update(plan->device->version, plan->device->format, m->version,
					    format, flags, err)) != KF_OK)
		return r;
	if ((r = check_firmware_requirements(plan, err)) != KF_OK)
		return r;
	if (is_local && (m->flags & KF_FW_FLAG_REQUIRE_AC) &&
	    kf_fw_host_check_power(o->root, KF_FW_MAINS_ONLY, NULL) != KF_OK)
		return kf_error_set(err, KF_ERR_DENIED,
				    "This firmware must be installed on mains power; plug in the "
				    "power adapter.");
	if (is_local && (r = kf_fw_host_check_power(o->root, o->battery_threshold, err)) != KF_OK)
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

/* The update's own words (name, summary, release notes) are the publisher's: shown escaped. */
static void print_plan(const struct fw_plan *plan)
{
	const struct kf_fw_metainfo *m = plan->update->metainfo;

	kf_terminal_print(stdout, "%s %s (%s)%s%s\n", m->name ? m->name : m->id, m->version, m->id,
			  m->developer_name ? " from " : "",
			  m->developer_name ? m->developer_name : "");
	if (m->summary != NULL)
		kf_terminal_print(stdout, "  %s\n", m->summary);
	kf_terminal_print(stdout, "  signed: %s\n", plan->update->signed_by);
	if (m->flags & KF_FW_FLAG_SECURITY)
		kf_terminal_print(stdout, "  this update fixes a security problem\n");
	kf_terminal_print(stdout, "  device: %s (%s), running %s%s%s\n", plan->device->id,
			  plan->device->name, plan->device->version,
			  plan->slot->backend->managed_by != NULL ? ", managed by " : "",
			  plan->slot->backend->managed_by != NULL ? plan->slot->backend->managed_by
								  : "");
	if (m->release_text != NULL)
		kf_terminal_print(stdout, "  changes: %s\n", m->release_text);
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

static int load_settled_history(const struct fw_options *o, json_t **history, struct kf_error *err)
{
	char path[PATH_MAX];
	int r = kf_fw_history_load(history_path(o, path, sizeof(path)), history, err);

	char boot_id[64] = "";

	kf_fw_host_boot_id(o->root, boot_id, sizeof(boot_id), NULL);
	if (r == KF_OK && kf_fw_history_settle(*history, boot_id, &o->settings))
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

/* Has the backend install it, restarts the device when it asks for that, and checks. */
static const char *install(const char *file, const struct fw_plan *plan,
			   struct kf_fw_progress *progress, char *detail, size_t size)
{
	const struct kf_fw_backend *backend = plan->slot->backend;
	const struct kf_fw_install job = {
		.file = file,
		.update = plan->update,
		.payload_sha256 = plan->payload_sha256,
		.device = plan->device,
		.phase = kf_fw_progress_phase,
		.progress = kf_fw_progress_show,
		.data = progress,
	};
	struct kf_fw_device *after = NULL;
	struct kf_error err;
	const char *result;

	switch (backend->install(plan->slot->state, &job, detail, size)) {
	case KF_FW_INSTALL_FAILED:
		return "failed";
	case KF_FW_INSTALL_PENDING_REBOOT:
		return "pending-reboot";
	case KF_FW_INSTALL_DONE:
		return "success";
	case KF_FW_INSTALL_RESTART:
		break;
	}
	kf_fw_progress_phase(progress, "restart");
	if (backend->restart == NULL)
		kf_error_set(&err, KF_ERR_UNSUPPORTED, "the %s backend cannot restart the device",
			     backend->name);
	if (backend->restart == NULL ||
	    backend->restart(plan->slot->state, plan->device, &after, &err) != KF_OK) {
		snprintf(detail, size, "restarting failed: %s", err.message);
		return "failed";
	}
	kf_fw_progress_show(progress, 1, 1);
	result = settle_restart(plan, after, detail, size);
	kf_fw_device_free(after);
	return result;
}

static int apply(struct fw_options *o, const char *file)
{
	struct fw_plan plan = {0};
	struct kf_fw_progress progress;
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_term, old_hup;
	struct kf_error err;
	json_t *history = NULL, *entry;
	char boot_id[64] = "", when[32], detail[512];
	const char *result;
	int r;

	if (load_settled_history(o, &history, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	kf_fw_progress_init(&progress, o->is_progress_json);
	kf_fw_progress_phase(&progress, "verify");
	r = preflight(o, file, &plan, &err);
	kf_fw_progress_end(&progress);
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
	result = install(file, &plan, &progress, detail, sizeof(detail));
	kf_fw_progress_end(&progress);
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

	/* A refused check is kept like a refused apply: someone tried this file on this machine. */
	if (r != KF_OK) {
		audit("firmware-check-refused", file, &plan, err.message);
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

static const struct fw_slot *lister(const struct fw_slot *slots, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (slots[i].backend->list != NULL)
			return &slots[i];
	return NULL;
}

/* The named backend's devices; one without a list of its own (fwupd) shows the defaults'. */
static int list(struct fw_options *o)
{
	struct fw_slot defaults[KF_FW_BACKEND_MAX];
	size_t default_count = 0;
	const struct fw_slot *slot = lister(o->slots, o->slot_count);
	struct kf_fw_listing listing = {0};
	struct kf_error err;
	json_t *out;
	int r = KF_OK;

	if (slot == NULL &&
	    (r = open_backends(&o->settings, NULL, defaults, &default_count, &err)) == KF_OK &&
	    (slot = lister(defaults, default_count)) == NULL)
		r = kf_error_set(&err, KF_ERR_UNSUPPORTED, "no firmware backend lists devices");
	if (r == KF_OK)
		r = slot->backend->list(slot->state, &listing, &err);
	if (r != KF_OK) {
		kf_fw_device_list_free(listing.devices, listing.count);
		close_backends(defaults, default_count);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	out = json_array();
	for (size_t i = 0; i < listing.count; i++) {
		struct kf_fw_device *d = listing.devices[i];
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
	} else if (listing.count == 0)
		printf("No firmware devices in %s.\n", listing.where);
	if (listing.unreachable > 0)
		fprintf(stderr, "%zu device%s in %s did not answer.\n", listing.unreachable,
			listing.unreachable == 1 ? "" : "s", listing.where);
	json_decref(out);
	kf_fw_device_list_free(listing.devices, listing.count);
	close_backends(defaults, default_count);
	return KF_EXIT_OK;
}

/* ---- updates from LVFS metadata ---- */

/* Reads a whole local file (at most max bytes) into *out; the caller frees it. */
static int read_local(const char *path, size_t max, uint8_t **out, size_t *len,
		      struct kf_error *err)
{
	FILE *file = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (file == NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot read %s", kf_escaped(path).text);
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(file);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	n = fread(buf, 1, max + 1, file);
	fclose(file);
	if (n > max) {
		free(buf);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "%s is too large",
				    kf_escaped(path).text);
	}
	*out = buf;
	*len = n;
	return KF_OK;
}

/* The metadata's local path: --metadata or the profile's, a path or a file:// URL. */
static int metadata_path(struct fw_options *o, const struct kf_profile *profile, char *out,
			 size_t size, struct kf_error *err)
{
	const char *where = o->metadata != NULL ? o->metadata : profile->firmware_metadata;

	o->is_metadata_unset = where == NULL;
	if (where == NULL)
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "No firmware metadata is configured: the support profile "
				    "names none (\"firmware_metadata\"); pass --metadata FILE.");
	if (strncmp(where, "file://", 7) == 0)
		where += 7;
	else if (kf_fw_remote_is_url(where)) {
		/* Fetched into the cache; the caller checks it there as it checks a local file. */
		const struct kf_fw_remote remote = {where, profile->firmware_tls_ca,
						    o->download_timeout_s};
		struct kf_error reason;
		time_t since = 0;
		int r = kf_fw_remote_fetch_metadata(&remote, out, size, &since, &reason, err);

		if (r == KF_OK && since != 0) {
			char when[32];

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&since));
			fprintf(stderr, "%s: %s; using the firmware metadata downloaded on %s.\n",
				KF_AGENTD_PROGRAM, reason.message, when);
		}

		if (r == KF_OK && snprintf(o->metadata_url, sizeof(o->metadata_url), "%s", where) >=
					  (int)sizeof(o->metadata_url))
			r = kf_error_set(err, KF_ERR_TOO_LARGE, "the metadata URL is too long");
		return r;
	}
	if (snprintf(out, size, "%s", where) >= (int)size)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the metadata path is too long");
	return KF_OK;
}

/* Loads and verifies the metadata (FILE and FILE.jcat) against the profile's firmware CAs. */
static int load_metadata(struct fw_options *o, struct kf_fw_metadata **md, char *path,
			 size_t path_size, struct kf_error *err)
{
	struct kf_profile *profile = NULL;
	uint8_t *data = NULL, *jcat = NULL;
	size_t len = 0, jcat_len = 0;
	char jcat_path[PATH_MAX];
	const char *name;
	int r;

	if ((r = kf_profile_load(o->profile, &profile, err)) != KF_OK)
		return r;
	if ((r = metadata_path(o, profile, path, path_size, err)) != KF_OK)
		goto out;
	snprintf(jcat_path, sizeof(jcat_path), "%s.jcat", path);
	name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if ((r = read_local(path, KF_FW_METADATA_MAX_SIZE, &data, &len, err)) != KF_OK ||
	    (r = read_local(jcat_path, 16 * 1024 * 1024, &jcat, &jcat_len, err)) != KF_OK)
		goto out;
	r = kf_fw_metadata_load(data, len, jcat, jcat_len, name,
				(const char *const *)profile->firmware_ca_pems,
				profile->firmware_ca_count, md, err);
	if (r == KF_ERR_AUTH || r == KF_ERR_NOT_FOUND) {
		/* The reason is copied first: it cannot be both the output and an argument. */
		char reason[sizeof(err->message)];

		snprintf(reason, sizeof(reason), "%s", err->message);
		r = kf_error_set(err, KF_ERR_AUTH,
				 "The firmware metadata %s is not signed by a firmware CA this "
				 "profile trusts: %s",
				 kf_escaped(path).text, reason);
	}
out:
	free(data);
	free(jcat);
	kf_profile_free(profile);
	return r;
}

/* The newest release of a component the device may take, or NULL. */
static const struct kf_fw_metadata_release *newest_for(const struct fw_options *o,
						       const struct kf_fw_device *d,
						       const struct kf_fw_metadata_component *c,
						       const char **why_not)
{
	const struct kf_fw_metadata_release *best = NULL;
	struct kf_fw_metainfo computer = {
		.hardware_guids = c->hardware_guids,
		.hardware_guid_count = c->hardware_guid_count,
	};
	struct kf_error err;
	bool is_for = false, is_checkable;

	*why_not = NULL;
	for (size_t g = 0; g < c->guid_count && !is_for; g++)
		for (size_t i = 0; i < d->instance_id_count && !is_for; i++)
			is_for = strcasecmp(c->guids[g], d->guids[i]) == 0;
	if (!is_for)
		return NULL;
	if (kf_fw_host_check_computer(o->root, &computer, &err) != KF_OK) {
		*why_not = "it is not for this computer model";
		return NULL;
	}
	for (size_t i = 0; i < c->firmware_requirement_count; i++)
		if (!meets_firmware_requirement(d, &c->firmware_requirements[i], &is_checkable)) {
			*why_not = "the device does not meet its firmware requirements";
			return NULL;
		}
	for (size_t i = 0; i < c->release_count; i++) {
		const struct kf_fw_metadata_release *rel = &c->releases[i];
		int newer, order;

		if (kf_fw_version_compare(rel->version, d->version, &newer, NULL) != KF_OK ||
		    newer <= 0)
			continue;
		if (best == NULL ||
		    (kf_fw_version_compare(rel->version, best->version, &order, NULL) == KF_OK &&
		     order > 0))
			best = rel;
	}
	return best;
}

/* Every device's newest applicable update: a JSON array of {device, name, from, to, ...}. */
static int find_updates(struct fw_options *o, json_t **out, char *path, size_t path_size,
			struct kf_error *err)
{
	struct fw_slot defaults[KF_FW_BACKEND_MAX];
	size_t default_count = 0;
	const struct fw_slot *slot = lister(o->slots, o->slot_count);
	struct kf_fw_listing listing = {0};
	struct kf_fw_metadata *md = NULL;
	int r;

	*out = NULL;
	if ((r = load_metadata(o, &md, path, path_size, err)) != KF_OK)
		return r;
	if (slot == NULL &&
	    (r = open_backends(&o->settings, NULL, defaults, &default_count, err)) == KF_OK &&
	    (slot = lister(defaults, default_count)) == NULL)
		r = kf_error_set(err, KF_ERR_UNSUPPORTED, "no firmware backend lists devices");
	if (r == KF_OK)
		r = slot->backend->list(slot->state, &listing, err);
	if (r == KF_OK) {
		*out = json_array();
		for (size_t i = 0; i < listing.count; i++) {
			const struct kf_fw_device *d = listing.devices[i];
			const struct kf_fw_metadata_release *best = NULL;
			const struct kf_fw_metadata_component *from = NULL;

			for (size_t c = 0; c < md->component_count; c++) {
				const char *why_not;
				const struct kf_fw_metadata_release *rel =
					newest_for(o, d, &md->components[c], &why_not);
				int order;
				if (rel != NULL &&
				    (best == NULL ||
				     (kf_fw_version_compare(rel->version, best->version, &order,
							    NULL) == KF_OK &&
				      order > 0))) {
					best = rel;
					from = &md->components[c];
				}
			}
			if (best == NULL)
				continue;
			json_array_append_new(
				*out,
				json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, "
					  "s:s?}",
					  "device", d->id, "device_name", d->name, "from",
					  d->version, "to", best->version, "component", from->id,
					  "name", from->name, "location", best->location, "sha256",
					  best->container_sha256, "urgency", best->urgency,
					  "description", best->description));
		}
	}
	kf_fw_device_list_free(listing.devices, listing.count);
	close_backends(defaults, default_count);
	kf_fw_metadata_free(md);
	return r;
}

/*
 * fwupd's own view, where fwupd runs: its updates join kefu's, one row per device and
 * version; a row both found names both sources. fwupd that does not answer adds none.
 */
static void add_fwupd_updates(const struct fw_options *o, json_t *found, bool *has_fwupd)
{
	struct kf_fwupd_update *ups = NULL;
	struct kf_error err;
	char tool[PATH_MAX];
	size_t count = 0, i;
	json_t *row;
	int r = kf_fwupd_get_updates(o->is_fwupd_named, tool, sizeof(tool), &ups, &count, &err);

	*has_fwupd = r == KF_OK;
	if (r != KF_OK) {
		if (r != KF_ERR_NOT_FOUND || o->is_fwupd_named)
			fprintf(stderr, "%s: fwupd's updates are left out: %s\n", KF_AGENTD_PROGRAM,
				err.message);
		return;
	}
	for (size_t u = 0; u < count; u++) {
		bool is_known = false;

		json_array_foreach(found, i, row)
		{
			if (strcmp(json_string_value(json_object_get(row, "device")),
				   ups[u].device_id) == 0 &&
			    strcmp(json_string_value(json_object_get(row, "to")), ups[u].to) == 0) {
				json_array_append_new(json_object_get(row, "sources"),
						      json_string("fwupd"));
				is_known = true;
			}
		}
		if (is_known)
			continue;
		json_array_append_new(
			found,
			json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
				  "s:[s]}",
				  "device", ups[u].device_id, "device_name", ups[u].device_name,
				  "from", ups[u].from, "to", ups[u].to, "component",
				  ups[u].appstream_id, "name", ups[u].name, "location",
				  ups[u].location, "urgency", ups[u].urgency, "description",
				  ups[u].description, "fwupd_remote", ups[u].remote_id, "sources",
				  "fwupd"));
	}
	kf_fwupd_updates_free(ups, count);
}

/* A row's text field, or "?" where fwupd gave none. */
static const char *row_text(json_t *row, const char *key)
{
	const char *value = json_string_value(json_object_get(row, key));

	return value != NULL ? value : "?";
}

int kf_fw_updates_find(const struct kf_fw_updates_query *query, json_t **updates, char *path,
		       size_t path_size, struct kf_error *err)
{
	struct fw_options o = {
		.profile = query->profile != NULL ? query->profile : kf_profile_default_path(),
		.root = query->root != NULL ? query->root : "/",
		.metadata = query->metadata,
		.settings = {.devices =
				     query->devices != NULL ? query->devices : KF_FW_DEVICES_DIR},
	};

	return find_updates(&o, updates, path, path_size, err);
}

static int updates(struct fw_options *o)
{
	struct kf_error err;
	char path[PATH_MAX];
	json_t *found, *u;
	bool has_fwupd = false;
	size_t i;
	int r = find_updates(o, &found, path, sizeof(path), &err);

	/* Without metadata of its own, kefu still shows what fwupd offers, when it does. */
	if (r != KF_OK && !o->is_metadata_unset)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	if (r != KF_OK)
		found = json_array();
	json_array_foreach(found, i, u) json_object_set_new(u, "sources", json_pack("[s]", "kefu"));
	add_fwupd_updates(o, found, &has_fwupd);
	if (r != KF_OK && !has_fwupd) {
		json_decref(found);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	if (r != KF_OK)
		snprintf(path, sizeof(path), "fwupd's remotes");
	if (o->json) {
		json_dumpf(found, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		json_array_foreach(found, i, u)
		{
			kf_terminal_print(stdout, "%s (%s): %s -> %s  %s%s%s",
					  json_string_value(json_object_get(u, "device")),
					  row_text(u, "device_name"), row_text(u, "from"),
					  json_string_value(json_object_get(u, "to")),
					  row_text(u, "component"),
					  json_object_get(u, "urgency") ? ", urgency " : "",
					  json_object_get(u, "urgency")
						  ? json_string_value(json_object_get(u, "urgency"))
						  : "");
			if (json_object_get(u, "description"))
				kf_terminal_print(
					stdout, "  %s",
					json_string_value(json_object_get(u, "description")));
			if (strcmp(json_string_value(
					   json_array_get(json_object_get(u, "sources"), 0)),
				   "fwupd") == 0)
				kf_terminal_print(stdout,
						  "  from fwupd; install: fwupdmgr update %s",
						  json_string_value(json_object_get(u, "device")));
			else
				kf_terminal_print(stdout,
						  "  install: %s firmware apply --latest %s",
						  KF_AGENTD_PROGRAM,
						  json_string_value(json_object_get(u, "device")));
		}
		if (json_array_size(found) == 0)
			printf("No firmware updates for this computer's devices in %s.\n", path);
	}
	json_decref(found);
	return KF_EXIT_OK;
}

/*
 * The cabinet of a device's newest update: beside the metadata (its location's file
 * name) or at a file:// location; it must have the SHA-256 the signed metadata names.
 */
static int latest_cabinet(struct fw_options *o, const char *device, char *cab, size_t size,
			  struct kf_error *err)
{
	char path[PATH_MAX], sha[65];
	const char *location, *base, *want;
	json_t *found, *u, *hit = NULL;
	uint8_t *data = NULL;
	size_t len = 0, i;
	int r;

	if ((r = find_updates(o, &found, path, sizeof(path), err)) != KF_OK)
		return r;
	json_array_foreach(found, i, u) if (strcmp(json_string_value(json_object_get(u, "device")),
						   device) == 0) hit = u;
	if (hit == NULL) {
		r = kf_error_set(err, KF_ERR_NOT_FOUND,
				 "The firmware metadata has no newer firmware for %s.",
				 kf_escaped(device).text);
		goto out;
	}
	location = json_string_value(json_object_get(hit, "location"));
	want = json_string_value(json_object_get(hit, "sha256"));
	if (location == NULL || want == NULL) {
		r = kf_error_set(err, KF_ERR_INVALID,
				 "The update for %s names no cabinet with a checksum.",
				 kf_escaped(device).text);
		goto out;
	}
	if (o->metadata_url[0] != '\0') {
		/* From an https:// remote: its cabinet comes from there too, checked as it
		 * arrives, and is checked again below like a local one. */
		struct kf_profile *profile = NULL;
		struct kf_fw_remote remote = {o->metadata_url, NULL, o->download_timeout_s};

		if ((r = kf_profile_load(o->profile, &profile, err)) != KF_OK)
			goto out;
		remote.ca_pem = profile->firmware_tls_ca;
		r = kf_fw_remote_fetch_cabinet(&remote, location, want, cab, size, err);
		kf_profile_free(profile);
		if (r != KF_OK)
			goto out;
	} else if (strncmp(location, "file://", 7) == 0)
		snprintf(cab, size, "%s", location + 7);
	else {
		/* An LVFS location (https://.../NAME.cab) is looked for beside the metadata. */
		char *slash = strrchr(path, '/');
		base = strrchr(location, '/') != NULL ? strrchr(location, '/') + 1 : location;
		if (base[0] == '\0' || strcmp(base, "..") == 0 || strcmp(base, ".") == 0) {
			r = kf_error_set(err, KF_ERR_INVALID,
					 "The update's location is not a file.");
			goto out;
		}
		if (slash != NULL)
			snprintf(cab, size, "%.*s/%s", (int)(slash - path), path, base);
		else
			snprintf(cab, size, "%s", base);
	}
	if ((r = read_local(cab, 256 * 1024 * 1024, &data, &len, err)) != KF_OK)
		goto out;
	kf_fw_sha256_hex(data, len, sha);
	if (strcasecmp(sha, want) != 0)
		r = kf_error_set(err, KF_ERR_AUTH,
				 "The cabinet %s is not the one the signed metadata names (SHA-256 "
				 "%s, expected %s).",
				 kf_escaped(cab).text, sha, want);
out:
	free(data);
	json_decref(found);
	return r;
}

/* ---- this computer's hardware IDs ---- */

/* The computer's SMBIOS fields and hardware IDs (CHIDs), as `fwupdtool hwids` shows them. */
static int show_hwids(const struct fw_options *o)
{
	struct kf_fw_host_ids *ids = malloc(sizeof(*ids));
	json_t *out, *fields, *list;
	struct kf_error err;

	if (ids == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "out of memory");
	if (kf_fw_host_hardware_ids(o->root, ids, &err) != KF_OK) {
		free(ids);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	fields = json_object();
	list = json_array();
	for (int f = 0; f < KF_CHID_FIELD_COUNT; f++)
		if (ids->fields[f][0] != '\0')
			json_object_set_new(fields, kf_fw_chid_field_name(f),
					    json_string(ids->fields[f]));
	for (int i = 0; i < KF_FW_CHID_COUNT; i++) {
		json_t *made_of = json_array();

		if (!ids->present[i]) {
			json_decref(made_of);
			continue;
		}
		for (int f = 0; f < KF_CHID_FIELD_COUNT; f++)
			if (kf_fw_chid_fields(i) & (1u << f))
				json_array_append_new(made_of,
						      json_string(kf_fw_chid_field_name(f)));
		json_array_append_new(list, json_pack("{s:i, s:s, s:o}", "index", i, "guid",
						      ids->ids[i], "fields", made_of));
	}
	out = json_pack("{s:o, s:o}", "fields", fields, "hardware_ids", list);
	if (o->json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		const char *key;
		json_t *value, *id;
		size_t i;

		json_object_foreach(fields, key, value)
			kf_terminal_print(stdout, "%s: %s", key, json_string_value(value));
		json_array_foreach(list, i, id)
		{
			json_t *made_of = json_object_get(id, "fields"), *name;
			size_t j;
			char line[512];
			size_t used = 0;

			line[0] = '\0';
			json_array_foreach(made_of, j, name)
			{
				int n = snprintf(line + used, sizeof(line) - used, "%s%s",
						 j > 0 ? " + " : "", json_string_value(name));
				if (n > 0 && (size_t)n < sizeof(line) - used)
					used += (size_t)n;
			}
			printf("HardwareID-%-2d %s  %s\n",
			       (int)json_integer_value(json_object_get(id, "index")),
			       json_string_value(json_object_get(id, "guid")), line);
		}
		if (json_array_size(list) == 0)
			printf("This computer does not say which model it is (no DMI data in "
			       "%s/sys/class/dmi/id).\n",
			       strcmp(o->root, "/") == 0 ? "" : o->root);
	}
	json_decref(out);
	free(ids);
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
		{"metadata", required_argument, NULL, 'M'},
		{"latest", no_argument, NULL, 'L'},
		{"download-timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct fw_options o = {
		.profile = kf_profile_default_path(),
		.root = "/",
		.battery_threshold = KF_FW_BATTERY_THRESHOLD,
		.settings = {.devices = KF_FW_DEVICES_DIR},
	};
	const char *action, *file = NULL, *backend = NULL;
	bool use_fwupd = false, is_latest = false;
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
			o.settings.devices = optarg;
			break;
		case 'r':
			o.root = optarg;
			break;
		case 'd':
			o.settings.device_id = optarg;
			break;
		case 'H':
			o.history = optarg;
			break;
		case 'R':
			o.settings.allow_reinstall = true;
			break;
		case 'o':
			o.settings.allow_older = true;
			break;
		case 'y':
			o.yes = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 's':
			o.settings.target = optarg;
			break;
		case 'f':
			if (strncmp(optarg, "SHA256:", 7) != 0 ||
			    strlen(optarg) >= sizeof(o.fingerprint))
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--host-key-fingerprint wants SHA256:... as "
						   "ssh-keygen -lf prints it");
			snprintf(o.fingerprint, sizeof(o.fingerprint), "%s", optarg);
			o.settings.fingerprint = o.fingerprint;
			break;
		case 'P':
			o.settings.is_password_from_stdin = true;
			break;
		case 'G':
			o.is_progress_json = true;
			break;
		case 'F':
			use_fwupd = true;
			o.is_fwupd_named = true;
			break;
		case 'M':
			o.metadata = optarg;
			break;
		case 'L':
			is_latest = true;
			break;
		case 't':
			o.download_timeout_s = atoi(optarg);
			if (o.download_timeout_s < 1 || o.download_timeout_s > 86400)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--download-timeout wants 1 to 86400 seconds");
			break;
		case 'i':
			o.settings.identity = optarg;
			break;
		case 'T':
			o.settings.restart_wait_s = atoi(optarg);
			if (o.settings.restart_wait_s < 1 || o.settings.restart_wait_s > 3600)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "--restart-timeout wants 1 to 3600 seconds");
			break;
		default:
			return usage();
		}
	}
	/* Chosen once, here: --ssh names the appliance backend (before --fwupd), --fwupd fwupd's.
	 */
	if (o.settings.target != NULL)
		backend = kf_fw_backend_ssh.name;
	else if (use_fwupd)
		backend = kf_fw_backend_fwupd.name;
	if (open_backends(&o.settings, backend, o.slots, &o.slot_count, &err) != KF_OK) {
		close_backends(o.slots, o.slot_count);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	if (optind < argc - 1)
		file = argv[1 + optind++];
	if (optind != argc - 1) {
		close_backends(o.slots, o.slot_count);
		return usage();
	}
	if (strcmp(action, "list") == 0 && file == NULL)
		status = list(&o);
	else if (strcmp(action, "history") == 0 && file == NULL)
		status = show_history(&o);
	else if (strcmp(action, "check") == 0 && file != NULL)
		status = check(&o, file);
	else if (strcmp(action, "updates") == 0 && file == NULL)
		status = updates(&o);
	else if (strcmp(action, "hwids") == 0 && file == NULL)
		status = show_hwids(&o);
	else if (strcmp(action, "apply") == 0 && file != NULL && is_latest) {
		/* apply --latest DEVICE: the cabinet the signed metadata names, then every check.
		 */
		char cab[PATH_MAX];
		o.settings.device_id = file;
		if (latest_cabinet(&o, file, cab, sizeof(cab), &err) != KF_OK) {
			audit("firmware-refused", file, NULL, err.message);
			status = kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
		} else
			status = apply(&o, cab);
	} else if (strcmp(action, "apply") == 0 && file != NULL)
		status = apply(&o, file);
	else
		status = usage();
	close_backends(o.slots, o.slot_count);
	return status;
}
