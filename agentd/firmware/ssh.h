/* kefu-agentd: firmware appliances on the customer's network, reached over SSH with libssh2
 * (proto/firmware/DEVICE.md "Appliances over SSH"). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_FW_SSH_H
#define KF_AGENTD_FW_SSH_H

#include "agentd/firmware/device.h"
#include "proto/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KF_FW_SSH_PORT         22
#define KF_FW_SSH_TIMEOUT_MS   15000  /* connecting, the handshake, logging in, one request */
#define KF_FW_SSH_UPDATE_MS    600000 /* the appliance writing and checking an image */
#define KF_FW_SSH_OUTPUT_MAX   65536  /* bytes a command may print */
#define KF_FW_SSH_PASSWORD_MAX 1024

/* USER@HOST[:PORT]; HOST may be a name, an IPv4 address or [IPv6]. */
struct kf_fw_ssh_target {
	char user[128];
	char host[256];
	uint16_t port;
};

/* Parses text into target; KF_ERR_INVALID with a sentence for anything else. */
int kf_fw_ssh_parse_target(const char *text, struct kf_fw_ssh_target *target, struct kf_error *err);

/* Asked when no fingerprint was given: may the connection go on with this host key? */
typedef bool (*kf_fw_ssh_confirm_fn)(void *data, const char *fingerprint);

struct kf_fw_ssh_options {
	const struct kf_fw_ssh_target *target;
	/* "SHA256:..." the host key must have; NULL to ask confirm (or refuse without it). */
	const char *fingerprint;
	kf_fw_ssh_confirm_fn confirm;
	void *confirm_data;
	/*
	 * The password, asked for only once the host key is accepted: get_password returns
	 * it (the caller keeps and wipes it) or NULL when the customer gave none. NULL
	 * get_password when identity is used.
	 */
	const char *(*get_password)(void *data);
	void *password_data;
	/* An unencrypted private key file (OpenSSH format), or NULL. */
	const char *identity;
	unsigned timeout_ms; /* 0: KF_FW_SSH_TIMEOUT_MS */
};

struct kf_fw_ssh;

/*
 * Connects, checks the host key (the given fingerprint, or the customer's yes through
 * confirm; with neither it refuses) and logs in with the password (password or
 * keyboard-interactive) or the key. The fingerprint it accepted is in
 * kf_fw_ssh_fingerprint(). The caller owns *ssh (kf_fw_ssh_close).
 * KF_ERR_AUTH for a host key that does not match or a refused login, KF_ERR_DENIED
 * when the customer said no, KF_ERR_CLOSED/KF_ERR_TIMEOUT when the device is not there.
 */
int kf_fw_ssh_connect(const struct kf_fw_ssh_options *options, struct kf_fw_ssh **ssh,
		      struct kf_error *err);

/* "SHA256:..." of the device's host key in this connection. */
const char *kf_fw_ssh_fingerprint(const struct kf_fw_ssh *ssh);

/*
 * Runs command on the device with a bound of timeout_ms on each wait and collects its
 * standard output (at most KF_FW_SSH_OUTPUT_MAX bytes; more is an error) into *out
 * (caller frees, NUL-terminated) and its exit status (-1 when the connection ended
 * before the device said). *out holds what arrived even when the connection was lost.
 */
int kf_fw_ssh_run(struct kf_fw_ssh *ssh, const char *command, unsigned timeout_ms, char **out,
		  int *exit_status, struct kf_error *err);

/* Asks the device who it is (kefu-fw-info) and returns it as a device named id. */
int kf_fw_ssh_info(struct kf_fw_ssh *ssh, const char *id, struct kf_fw_device **device,
		   struct kf_error *err);

/* Writes data to remote_path (relative to the login's SFTP folder) with mode 0600. */
int kf_fw_ssh_upload(struct kf_fw_ssh *ssh, const char *remote_path, const uint8_t *data,
		     size_t size, kf_fw_progress_fn progress, void *progress_data,
		     struct kf_error *err);

/* Removes remote_path; errors are ignored (the device may already have removed it). */
void kf_fw_ssh_remove(struct kf_fw_ssh *ssh, const char *remote_path);

void kf_fw_ssh_close(struct kf_fw_ssh *ssh);

/*
 * Reads a password: from stdin when from_stdin (one line), otherwise from the terminal
 * with echo off after printing prompt. The buffer is locked in memory; wipe and free it
 * with kf_fw_ssh_password_free(). KF_ERR_DENIED when there is no terminal to ask on.
 */
int kf_fw_ssh_password_read(const char *prompt, bool from_stdin, char **password,
			    struct kf_error *err);
void kf_fw_ssh_password_free(char *password);

#endif
