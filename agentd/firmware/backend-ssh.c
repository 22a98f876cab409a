/* kefu-agentd: the firmware backend for appliances on the customer's network, reached over SSH
 * (ssh.c is the libssh2 client; proto/firmware/DEVICE.md "Appliances over SSH").
 * SPDX-License-Identifier: MIT */
#include "agentd/commands.h"
#include "agentd/firmware/backend.h"
#include "agentd/firmware/ssh.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESTART_WAIT_S 120  /* how long an appliance, which reboots whole, may take */
#define RETRY_PAUSE_MS 1000 /* between attempts to log in again after a restart */

struct ssh_backend {
	const struct kf_fw_settings *settings;
	struct kf_fw_ssh_target target;
	char fingerprint[64]; /* given, or accepted by the customer: pinned for the command */
	char *password;       /* asked once, wiped in close() */
	int restart_wait_s;
	struct kf_fw_ssh *ssh; /* the logged-in connection, from describe() to install() */
};

static int ssh_open(const struct kf_fw_settings *settings, void **state, struct kf_error *err)
{
	struct ssh_backend *b;
	int r;

	*state = NULL;
	if (settings->target == NULL)
		return kf_error_set(err, KF_ERR_INVALID,
				    "--ssh wants USER@HOST[:PORT], for example admin@192.0.2.7");
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	b->settings = settings;
	if ((r = kf_fw_ssh_parse_target(settings->target, &b->target, err)) != KF_OK) {
		free(b);
		return r;
	}
	b->restart_wait_s =
		settings->restart_wait_s != 0 ? settings->restart_wait_s : RESTART_WAIT_S;
	if (settings->fingerprint != NULL)
		snprintf(b->fingerprint, sizeof(b->fingerprint), "%s", settings->fingerprint);
	*state = b;
	return KF_OK;
}

static void ssh_close(void *state)
{
	struct ssh_backend *b = state;

	if (b == NULL)
		return;
	kf_fw_ssh_close(b->ssh);
	kf_fw_ssh_password_free(b->password);
	free(b);
}

static const char *ask_password(void *data)
{
	struct ssh_backend *b = data;
	char prompt[512];
	struct kf_error err;

	if (b->password != NULL)
		return b->password;
	snprintf(prompt, sizeof(prompt),
		 "Password of %s on %s (used for this update only): ", b->target.user,
		 b->target.host);
	if (kf_fw_ssh_password_read(prompt, b->settings->is_password_from_stdin, &b->password,
				    &err) != KF_OK) {
		/* libssh2's callback has no room for the reason: it is said here, once. */
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
		return NULL;
	}
	return b->password;
}

/* Asks the customer at the terminal whether the host key is the device's. */
static bool confirm_host_key(void *data, const char *fingerprint)
{
	const struct ssh_backend *b = data;
	char answer[16];

	fprintf(stderr,
		"The device %s shows the host key %s.\n"
		"Check that the device itself shows this fingerprint. Connect? [y/N] ",
		b->target.host, fingerprint);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int ssh_connect(struct ssh_backend *b, struct kf_fw_ssh **ssh, struct kf_error *err)
{
	const struct kf_fw_settings *s = b->settings;
	struct kf_fw_ssh_options options = {
		.target = &b->target,
		.fingerprint = b->fingerprint[0] != '\0' ? b->fingerprint : NULL,
		/* Without a customer at a terminal nobody can vouch for the key: fail closed. */
		.confirm = s->is_password_from_stdin || !isatty(STDIN_FILENO) ? NULL
									      : confirm_host_key,
		.confirm_data = b,
		.get_password = s->identity == NULL ? ask_password : NULL,
		.password_data = b,
		.identity = s->identity,
	};
	int r = kf_fw_ssh_connect(&options, ssh, err);

	/* Whatever key was accepted is the only one accepted again after the restart. */
	if (r == KF_OK)
		snprintf(b->fingerprint, sizeof(b->fingerprint), "%s", kf_fw_ssh_fingerprint(*ssh));
	return r;
}

/* The appliance as a device: logged in (the connection kept in b->ssh), its info read. */
static int open_appliance(struct ssh_backend *b, struct kf_fw_device **device, struct kf_error *err)
{
	int r;

	kf_fw_ssh_close(b->ssh);
	b->ssh = NULL;
	r = ssh_connect(b, &b->ssh, err);
	if (r == KF_OK)
		r = kf_fw_ssh_info(b->ssh, b->settings->target, device, err);
	return r;
}

static int ssh_list(void *state, struct kf_fw_listing *listing, struct kf_error *err)
{
	struct ssh_backend *b = state;
	int r;

	listing->where = b->settings->target;
	listing->devices = calloc(1, sizeof(*listing->devices));
	if (listing->devices == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	r = open_appliance(b, &listing->devices[0], err);
	listing->count = r == KF_OK ? 1 : 0;
	return r;
}

static int ssh_describe(void *state, const struct kf_fw_update *update, struct kf_fw_device **out,
			struct kf_error *err)
{
	struct ssh_backend *b = state;
	const struct kf_fw_metainfo *m = update->metainfo;
	int r;

	*out = NULL;
	if ((r = open_appliance(b, out, err)) != KF_OK)
		return r;
	if (!kf_fw_device_matches(*out, m))
		return kf_error_set(err, KF_ERR_NOT_FOUND,
				    "This firmware is not for the device %s (%s); it is for %s.",
				    b->settings->target, (*out)->name, m->guids[0]);
	return KF_OK;
}

/*
 * Logs in again until the appliance answers with a new boot id (it restarted) or the
 * wait runs out. The host key must be the one accepted before.
 */
static int wait_for_appliance(struct ssh_backend *b, const char *old_boot_id,
			      struct kf_fw_device **out, struct kf_error *err)
{
	struct timespec pause = {RETRY_PAUSE_MS / 1000, (RETRY_PAUSE_MS % 1000) * 1000000L};
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
		r = ssh_connect(b, &ssh, &last);
		if (r == KF_OK)
			r = kf_fw_ssh_info(ssh, b->settings->target, &device, &last);
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
		if (now.tv_sec - start.tv_sec >= b->restart_wait_s)
			return kf_error_set(
				err, KF_ERR_TIMEOUT,
				"the device did not come back within %d s (%d attempts; "
				"last: %.120s)",
				b->restart_wait_s, attempts,
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

/*
 * Uploads and has the appliance write and check it; it restarts into the new image on its
 * own. A failed update still waits for the restart, so that the customer learns what the
 * device runs now.
 */
static enum kf_fw_installed ssh_install(void *state, const struct kf_fw_install *job, char *detail,
					size_t size)
{
	struct ssh_backend *b = state;
	struct kf_fw_device *after = NULL;
	struct kf_error err;
	char remote[64], command[160], *output = NULL;
	const char *refusal;
	json_t *answer;
	bool is_written = false;
	int status = -1, r;

	/* Plain, so that no quoting is needed in the command. */
	snprintf(remote, sizeof(remote), "kefu-firmware-%.16s.bin", job->payload_sha256);
	job->phase(job->data, "upload");
	if (kf_fw_ssh_upload(b->ssh, remote, job->update->payload, job->update->payload_size,
			     job->progress, job->data, &err) != KF_OK) {
		kf_fw_ssh_remove(b->ssh, remote);
		snprintf(detail, size, "uploading failed: %s", err.message);
		return KF_FW_INSTALL_FAILED;
	}
	job->phase(job->data, "write");
	snprintf(command, sizeof(command), "kefu-fw-update %s %s", remote, job->payload_sha256);
	r = kf_fw_ssh_run(b->ssh, command, KF_FW_SSH_UPDATE_MS, &output, &status, &err);
	answer = update_result(output);
	refusal = json_string_value(json_object_get(answer, "error"));
	if (json_is_true(json_object_get(answer, "ok"))) {
		is_written = true; /* written and checked: the appliance restarts now */
	} else if (refusal != NULL) {
		snprintf(detail, size, "the device refused: %.200s", refusal);
		kf_fw_ssh_remove(b->ssh, remote);
	} else if (r != KF_OK)
		snprintf(detail, size, "the device stopped answering while writing (%s)",
			 err.message);
	else
		snprintf(detail, size, "the device's update command failed (status %d)", status);
	json_decref(answer);
	free(output);
	kf_fw_ssh_close(b->ssh);
	b->ssh = NULL;
	if (is_written)
		return KF_FW_INSTALL_RESTART;
	job->phase(job->data, "restart");
	if (wait_for_appliance(b, job->device->boot_id, &after, &err) != KF_OK) {
		snprintf(detail + strlen(detail), size - strlen(detail),
			 "; its state is unknown: %s", err.message);
		return KF_FW_INSTALL_FAILED;
	}
	job->progress(job->data, 1, 1);
	snprintf(detail + strlen(detail), size - strlen(detail),
		 "; the device restarted and runs %s", after->version);
	kf_fw_device_free(after);
	return KF_FW_INSTALL_FAILED;
}

/* The appliance restarts by itself once it has written the image: only the wait is left. */
static int ssh_restart(void *state, const struct kf_fw_device *device, struct kf_fw_device **after,
		       struct kf_error *err)
{
	return wait_for_appliance(state, device->boot_id, after, err);
}

const struct kf_fw_backend kf_fw_backend_ssh = {
	.name = "ssh",
	.is_on_this_computer = false,
	.open = ssh_open,
	.list = ssh_list,
	.describe = ssh_describe,
	.install = ssh_install,
	.restart = ssh_restart,
	.close = ssh_close,
};
