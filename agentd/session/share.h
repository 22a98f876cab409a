/* kefu-agentd share: the session core a front end drives (the terminal, the window). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SHARE_H
#define KF_AGENTD_SHARE_H

#include "agentd/plugins/job.h"
#include "agentd/ui.h"
#include "proto/base/error.h"
#include "proto/session/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/*
 * One `share`: the code, the relay, the technician's session, with a front end
 * (agentd/ui.h) told of every event. The front end answers with the calls below;
 * each answer is decided and enforced in the session's core.
 */
struct share;

struct kf_share_options {
	const char *profile_path;  /* NULL: kf_profile_default_path() */
	unsigned relay_index;      /* which of the profile's relays */
	unsigned code_lifetime_ms; /* 0: ten minutes */
	unsigned consent_timeout_ms;
	const char *policy_path; /* NULL: none */
	const char *plugin_folders[KF_PLUGIN_PLACES_MAX];
	unsigned n_plugin_folders;
	const char *root;             /* NULL: this computer */
	const char *firmware_devices; /* NULL: this computer's devices */
	const char *case_number;      /* NULL or shown and kept in the summary */
	bool is_one_monitor;          /* share only monitor (XRandR's number), not the desktop */
	int monitor;
};

/*
 * Loads the profile and policy and prepares the session on loop, telling ui.
 * Returns a KF_EXIT_* code after printing one line (program: its name), or
 * KF_EXIT_OK with *out the share, which kf_share_free() ends.
 */
int kf_share_new(uv_loop_t *loop, const char *program, const struct kf_share_options *options,
		 const struct kf_ui_ops *ui, void *ui_user, struct share **out);

/* Tells another front end from now on (a window that is gone gives ops with no calls). */
void kf_share_set_ui(struct share *share, const struct kf_ui_ops *ui, void *ui_user);

/* Connects to the relay; the code follows with ui->code_shown. */
int kf_share_start(struct share *share);

/* Whether the share has ended (the loop was stopped), and with which exit code. */
bool kf_share_is_done(const struct share *share);
int kf_share_exit_code(const struct share *share);

/* The customer's answer to a consent_request. */
int kf_share_answer(struct share *share, enum kf_capability capability, bool is_granted,
		    struct kf_error *err);

/* The customer's answer to a fetch_request, as the session reads it (y, n, a path). */
int kf_share_answer_fetch(struct share *share, uint32_t id, const char *answer, bool *is_allowed,
			  struct kf_error *err);

/* Whether a request for capability, or fetch id, still waits for the customer. */
bool kf_share_is_asking(const struct share *share, enum kf_capability capability);
bool kf_share_is_asking_fetch(const struct share *share, uint32_t id);

/* "all" when giving files: later fetches (secrets excepted) go unasked. */
void kf_share_set_fetch_without_asking(struct share *share, bool is_on);

/* Takes one grant back (its activity stops at once). */
void kf_share_revoke(struct share *share, enum kf_capability capability);

/* Whether capability is granted now (as the core sees it). */
bool kf_share_is_granted(const struct share *share, enum kf_capability capability);

int kf_share_chat(struct share *share, const char *text, struct kf_error *err);

/* Ends every grant and the session at once, saying why. */
void kf_share_stop_everything(struct share *share, const char *why);

/* Granted capabilities as words ("view, diagnose" or "nothing"). */
void kf_share_describe(const struct share *share, char *out, size_t size);

/* Whether a technician is connected now. */
bool kf_share_is_connected(const struct share *share);

/* The technician's name ("" before one connected). */
const char *kf_share_technician(const struct share *share);

/* The installed profile: what the front end shows of the organisation (borrowed). */
const struct kf_profile *kf_share_profile(const struct share *share);

/* The one monitor the screen share shows (XRandR's number), or -1: the whole desktop. */
int kf_share_monitor(const struct share *share);

/*
 * Ends the session if one is left, then closes every handle still on the loop
 * given to kf_share_new() (a front end frees its own handles first) and frees.
 */
void kf_share_free(struct share *share);

#endif
