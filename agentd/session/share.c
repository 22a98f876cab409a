/* kefu-agentd share: let a technician in through the relay, with a code. SPDX-License-Identifier: MIT */
#include "agentd/session/share-private.h"
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/i18n.h"
#include "agentd/plugins/job.h"
#include "agentd/policy.h"
#include "agentd/session/session.h"
#include "agentd/session/streams.h"
#include "proto/base/loop.h"
#include "proto/plugin/package.h"
#include "proto/session/code.h"
#include "proto/session/profile.h"
#include "proto/session/ssh-transport.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Calls the front end's op when it has one. */
#define UI(share, op, ...)                                                                         \
	do {                                                                                       \
		if ((share)->ui->op != NULL)                                                       \
			(share)->ui->op((share)->ui_user, __VA_ARGS__);                            \
	} while (0)

void kf_share_finish(struct share *share, int exit_code)
{
	if (share->is_done)
		return;
	share->is_done = 1;
	share->exit_code = exit_code;
	uv_stop(share->loop);
}

bool kf_share_is_done(const struct share *share)
{
	return share->is_done;
}

int kf_share_exit_code(const struct share *share)
{
	return share->exit_code;
}

/* Takes session out of the attempts (it is proven, rejected or dropped). */
void kf_share_forget_attempt(struct share *share, struct kf_agent_session *session)
{
	for (int i = 0; i < share->attempt_count; i++) {
		if (share->attempts[i] != session)
			continue;
		memmove(&share->attempts[i], &share->attempts[i + 1],
			(size_t)(share->attempt_count - i - 1) * sizeof(share->attempts[0]));
		share->attempt_count--;
		return;
	}
}

/* Ends every attempt still proving the code: they hold a code that no longer works. */
static void drop_attempts(struct share *share)
{
	while (share->attempt_count > 0) {
		struct kf_agent_session *session = share->attempts[--share->attempt_count];

		kf_agent_session_free(session);
	}
}

/* Makes room for a newcomer: the oldest silent attempt goes, or else the oldest. */
static void make_room(struct share *share)
{
	struct kf_agent_session *session;
	int victim = 0;

	if (share->attempt_count < MAX_ATTEMPTS)
		return;
	for (int i = 0; i < share->attempt_count; i++) {
		if (!kf_agent_session_is_heard(share->attempts[i])) {
			victim = i;
			break;
		}
	}
	session = share->attempts[victim];
	kf_share_forget_attempt(share, session);
	kf_agent_session_free(session);
}

void kf_share_forget_code(struct share *share)
{
	OPENSSL_cleanse(&share->code, sizeof(share->code));
	share->has_code = 0;
	if (share->has_timer)
		uv_timer_stop(&share->code_timer);
	drop_attempts(share);
}

static void on_code_expired(uv_timer_t *timer)
{
	struct share *share = timer->data;

	kf_share_forget_code(share);
	if (share->ui->code_expired != NULL)
		share->ui->code_expired(share->ui_user);
	kf_share_finish(share, KF_EXIT_FAILURE);
}

static void fail(struct share *share, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct share *share, const char *format, ...)
{
	char text[KF_ERROR_MESSAGE_SIZE + 128];
	va_list args;

	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	UI(share, failed, text);
	kf_share_finish(share, KF_EXIT_FAILURE);
}

void kf_share_show_new_code(struct share *share)
{
	char text[32];
	struct kf_error err;

	if (kf_code_make(&share->code, share->relay_index, share->forwarded_port, &err) != KF_OK) {
		fail(share, _("Could not make a code: %s"), err.message);
		return;
	}
	share->has_code = 1;
	share->failures = 0;
	kf_code_format(&share->code, text, sizeof(text));
	UI(share, code_shown, text, share->code_lifetime_ms, share->profile->organisation);
	OPENSSL_cleanse(text, sizeof(text));
	uv_timer_start(&share->code_timer, on_code_expired, share->code_lifetime_ms, 0);
}

/* ---- the relay ---- */

static void on_ssh_ready(struct kf_ssh *ssh, void *user)
{
	struct share *share = user;
	struct kf_error err;

	if (kf_ssh_listen(ssh, &err) != KF_OK)
		fail(share, _("The relay would not take this session: %s"), err.message);
}

static void on_ssh_failed(struct kf_ssh *ssh, const struct kf_error *err, void *user)
{
	(void)ssh;
	fail(user, "%s", err->message);
}

static void on_listening(struct kf_ssh *ssh, uint16_t port, void *user)
{
	struct share *share = user;

	(void)ssh;
	share->forwarded_port = port;
	kf_share_show_new_code(share);
}

static void on_channel(struct kf_ssh *ssh, struct kf_stream *channel, void *user)
{
	struct share *share = user;
	struct kf_agent_session_config config = {
		.tls_context = share->tls_context,
		.secret = share->code.secret,
		.policy = share->policy,
		.consent_timeout_ms = share->consent_timeout_ms,
		.audit = share->audit,
		.diagnostics_root = share->root,
		.plugin_places = &share->places,
		.firmware_args = share->firmware_args,
		.case_number = share->case_number,
		.contact = share->profile->contact,
		.screen_monitor = share->monitor,
	};
	struct kf_agent_session *attempt;
	struct kf_error err;

	(void)ssh;
	/* The session's own further streams (the screen) prove themselves inside it. */
	if (share->session != NULL) {
		kf_agent_session_attach_stream(share->session, channel);
		return;
	}
	/* A used or expired code admits nobody. */
	if (!share->has_code) {
		kf_stream_close(channel);
		return;
	}
	make_room(share);
	if (kf_agent_session_start(share->loop, channel, &config, &kf_share_session_events, share,
				   &attempt, &err) != KF_OK) {
		char text[KF_ERROR_MESSAGE_SIZE + 64];

		snprintf(text, sizeof(text), _("A connection could not start: %s"), err.message);
		UI(share, notice, text);
		kf_agent_session_free(attempt);
		return;
	}
	share->attempts[share->attempt_count++] = attempt;
}

static int load_setup(struct share *share, const char *profile_path, const char *policy_path)
{
	struct kf_error err;

	if (policy_path != NULL && kf_policy_load(policy_path, &share->policy, &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	/* No session without its record: the customer must be able to read what happened. */
	if (kf_audit_open(NULL, &share->audit, &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	if (kf_profile_load(profile_path, &share->profile, &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	if (share->relay_index >= share->profile->relay_count)
		return kf_cli_fail(share->program, "the support profile has no relay number %u",
				   share->relay_index);
	share->tls_context = kf_tls_client_context(share->profile->support_ca_pem, &err);
	if (share->tls_context == NULL)
		return kf_cli_fail(share->program, "%s", err.message);
	if (kf_ssh_key_generate(&share->key, "kefu-agentd", &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	/* Installed plugins run only while this profile trusts their publisher. */
	if (kf_plugin_package_trust(share->profile, &share->plugin_publishers,
				    &share->places.n_trusted, &err) != KF_OK) {
		snprintf(share->trust_problem, sizeof(share->trust_problem), "%s", err.message);
		share->places.trust_problem = share->trust_problem;
	}
	share->places.trusted = share->plugin_publishers;
	return KF_EXIT_OK;
}

int kf_share_new(uv_loop_t *loop, const char *program, const struct kf_share_options *options,
		 const struct kf_ui_ops *ui, void *ui_user, struct share **out)
{
	const char *profile_path =
		options->profile_path ? options->profile_path : kf_profile_default_path();
	struct share *share;
	size_t n_firmware_args = 0;
	int code;

	*out = NULL;
	share = calloc(1, sizeof(*share));
	if (share == NULL)
		return kf_cli_fail(program, "out of memory");
	share->loop = loop;
	share->program = program;
	share->ui = ui;
	share->ui_user = ui_user;
	share->relay_index = options->relay_index;
	share->code_lifetime_ms =
		options->code_lifetime_ms ? options->code_lifetime_ms : CODE_LIFETIME_MS;
	share->consent_timeout_ms = options->consent_timeout_ms ? options->consent_timeout_ms
								: KF_CONSENT_DEFAULT_TIMEOUT_MS;
	share->root = options->root;
	share->case_number = options->case_number;
	share->monitor = options->is_one_monitor ? options->monitor : -1;
	/* Named folders replace the default ones (shipped, then installed from packages). */
	if (options->n_plugin_folders == 0) {
		kf_plugin_places_default(&share->places, share->installed_plugins,
					 sizeof(share->installed_plugins));
	} else {
		for (unsigned i = 0; i < options->n_plugin_folders; i++) {
			if (access(options->plugin_folders[i], R_OK | X_OK) != 0) {
				code = kf_cli_fail(program, "%s: cannot read the plugin folder",
						   options->plugin_folders[i]);
				goto fail;
			}
			share->places.folders[share->places.n_folders++] =
				options->plugin_folders[i];
		}
	}
	if (share->root != NULL && access(share->root, R_OK | X_OK) != 0) {
		code = kf_cli_fail(program, "%s: cannot read this folder", share->root);
		goto fail;
	}
	share->firmware_args[n_firmware_args++] = "--profile";
	share->firmware_args[n_firmware_args++] = profile_path;
	if (options->firmware_devices != NULL) {
		share->firmware_args[n_firmware_args++] = "--devices";
		share->firmware_args[n_firmware_args++] = options->firmware_devices;
	}
	/* Not --root: firmware goes into this computer's devices, whatever tree is repaired. */
	share->firmware_args[n_firmware_args] = NULL;
	if ((code = load_setup(share, profile_path, options->policy_path)) != KF_EXIT_OK)
		goto fail;
	uv_timer_init(share->loop, &share->code_timer);
	share->code_timer.data = share;
	share->has_timer = 1;
	/* The screen server writes to sockets that may close: never die of it. */
	signal(SIGPIPE, SIG_IGN);
	*out = share;
	return KF_EXIT_OK;
fail:
	kf_share_free(share);
	return code;
}

void kf_share_set_ui(struct share *share, const struct kf_ui_ops *ui, void *ui_user)
{
	share->ui = ui;
	share->ui_user = ui_user;
}

int kf_share_start(struct share *share)
{
	const struct kf_profile_relay *relay = &share->profile->relays[share->relay_index];
	struct kf_ssh_options options = {
		.host = relay->host,
		.port = relay->port,
		.user = relay->agent_user,
		.key = share->key,
		.host_keys = (const char *const *)relay->host_keys,
		.host_key_count = relay->host_key_count,
	};
	struct kf_ssh_callbacks callbacks = {
		.on_ready = on_ssh_ready,
		.on_failed = on_ssh_failed,
		.on_listening = on_listening,
		.on_channel = on_channel,
	};
	struct kf_error err;

	/* A policy is never a surprise: the customer sees it before anyone connects. */
	if (share->policy != NULL)
		UI(share, policy, share->policy->name, share->policy->description,
		   share->policy->rules);
	/* A helper killed mid-transfer before this one leaves nothing behind for long. */
	kf_agent_streams_sweep();
	UI(share, connecting, share->profile->organisation, relay->host);
	if (kf_ssh_connect(share->loop, &options, &callbacks, share, &share->ssh, &err) != KF_OK)
		return kf_cli_fail(share->program, "%s", err.message);
	return KF_EXIT_OK;
}

/* ---- what the front end asks of the core ---- */

int kf_share_answer(struct share *share, enum kf_capability capability, bool is_granted,
		    struct kf_error *err)
{
	if (share->session == NULL)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	return kf_agent_session_answer(share->session, capability, is_granted, err);
}

int kf_share_answer_fetch(struct share *share, uint32_t id, const char *answer, bool *is_allowed,
			  struct kf_error *err)
{
	*is_allowed = false;
	if (share->session == NULL)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	return kf_agent_session_answer_fetch(share->session, id, answer, is_allowed, err);
}

bool kf_share_is_asking(const struct share *share, enum kf_capability capability)
{
	return share->session != NULL && kf_agent_session_is_asking(share->session, capability);
}

bool kf_share_is_asking_fetch(const struct share *share, uint32_t id)
{
	return share->session != NULL && kf_agent_session_is_asking_fetch(share->session, id);
}

void kf_share_set_fetch_without_asking(struct share *share, bool is_on)
{
	if (share->session != NULL)
		kf_agent_session_set_fetch_without_asking(share->session, is_on);
}

void kf_share_revoke(struct share *share, enum kf_capability capability)
{
	if (share->session != NULL)
		kf_agent_session_revoke(share->session, capability);
}

bool kf_share_is_granted(const struct share *share, enum kf_capability capability)
{
	return share->session != NULL && kf_agent_session_is_granted(share->session, capability);
}

int kf_share_chat(struct share *share, const char *text, struct kf_error *err)
{
	if (share->session == NULL)
		return kf_error_set(err, KF_ERR_STATE, "no technician is connected");
	return kf_agent_session_chat(share->session, text, err);
}

void kf_share_stop_everything(struct share *share, const char *why)
{
	if (share->session != NULL) {
		kf_agent_session_end(share->session, why);
		return;
	}
	kf_share_forget_code(share);
	UI(share, stopped, why);
	kf_share_finish(share, KF_EXIT_OK);
}

void kf_share_describe(const struct share *share, char *out, size_t size)
{
	if (share->session == NULL)
		snprintf(out, size, "%s", _("nothing"));
	else
		kf_agent_session_describe(share->session, out, size);
}

bool kf_share_is_connected(const struct share *share)
{
	return share->session != NULL;
}

const char *kf_share_technician(const struct share *share)
{
	return share->technician;
}

int kf_share_monitor(const struct share *share)
{
	return share->monitor;
}

const struct kf_profile *kf_share_profile(const struct share *share)
{
	return share->profile;
}

void kf_share_free(struct share *share)
{
	if (share == NULL)
		return;
	kf_share_forget_code(share);
	kf_agent_session_free(share->session);
	share->session = NULL;
	kf_ssh_close(share->ssh);
	/* Every handle left on the loop (the code's timer among them) closes before the memory
	 * goes. */
	kf_loop_close(share->loop);
	kf_ssh_key_free(share->key);
	SSL_CTX_free(share->tls_context);
	free(share->plugin_publishers);
	kf_profile_free(share->profile);
	kf_policy_free(share->policy);
	kf_audit_close(share->audit);
	free(share);
}
